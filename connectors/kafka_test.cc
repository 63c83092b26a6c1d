// KafkaConsumer and KafkaProducer against librdkafka's mock cluster, one cluster per test.
// Consumer groups in the mock take ~3 s to form and a rebalance `session.timeout.ms` - 1 s, so
// every wait is a poll loop with a deadline, never a sleep.

#include "connectors/kafka.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka_mock.h"

namespace tw::connectors {
namespace {

using pipeline::StatusCode;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// Long enough for a group to form (3 s) plus a rebalance (5 s) on a loaded 2-core machine.
constexpr auto kGroupDeadline = seconds(20);
constexpr auto kPoll = milliseconds(100);
constexpr auto kFlush = seconds(30);

std::unique_ptr<MockKafkaCluster> start_cluster(int brokers) {
  auto cluster = MockKafkaCluster::create(brokers);
  if (!cluster.is_ok()) {
    ADD_FAILURE() << cluster.status().to_string();
    return nullptr;
  }
  return std::move(cluster).value();
}

KafkaProperties consumer_properties(const MockKafkaCluster& cluster, const std::string& group) {
  // The mock's group timers need session.timeout.ms of 4-6 s (connectors/README.md).
  return {{"bootstrap.servers", cluster.bootstraps()},
          {"group.id", group},
          {"session.timeout.ms", "6000"},
          {"heartbeat.interval.ms", "500"}};
}

KafkaProperties producer_properties(const MockKafkaCluster& cluster) {
  return {{"bootstrap.servers", cluster.bootstraps()}, {"linger.ms", "5"}};
}

std::unique_ptr<KafkaConsumer> make_consumer(const KafkaProperties& properties,
                                             const std::string& topic,
                                             KafkaRebalanceListener* listener = nullptr) {
  auto consumer = KafkaConsumer::create(properties, {topic}, listener);
  if (!consumer.is_ok()) {
    ADD_FAILURE() << consumer.status().to_string();
    return nullptr;
  }
  return std::move(consumer).value();
}

std::unique_ptr<KafkaProducer> make_producer(const KafkaProperties& properties) {
  auto producer = KafkaProducer::create(properties);
  if (!producer.is_ok()) {
    ADD_FAILURE() << producer.status().to_string();
    return nullptr;
  }
  return std::move(producer).value();
}

std::string value_of(int i) {
  return "value-" + std::to_string(i);
}

// Produces records [from, to) with key "key-i" and value "value-i".
void produce_range(KafkaProducer& producer, const std::string& topic, int from, int to) {
  for (int i = from; i < to; ++i) {
    const auto status = producer.produce(topic, "key-" + std::to_string(i), value_of(i));
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }
}

int index_of(const KafkaRecord& record) {
  return std::stoi(record.value.substr(6));
}

// Polls until `count` records arrived in all, or the deadline passes.
void consume_until(KafkaConsumer& consumer, size_t count, std::vector<KafkaRecord>& out,
                   Clock::duration within = kGroupDeadline) {
  const Clock::time_point deadline = Clock::now() + within;
  while (out.size() < count && Clock::now() < deadline) {
    auto batch = consumer.poll(500, kPoll);
    ASSERT_TRUE(batch.is_ok()) << batch.status().to_string();
    out.insert(out.end(), batch->begin(), batch->end());
  }
  ASSERT_GE(out.size(), count) << "timed out";
}

std::map<int32_t, std::vector<KafkaRecord>> by_partition(const std::vector<KafkaRecord>& records) {
  std::map<int32_t, std::vector<KafkaRecord>> out;
  for (const KafkaRecord& record : records) {
    out[record.partition].push_back(record);
  }
  return out;
}

class RecordingListener final : public KafkaRebalanceListener {
 public:
  void on_assigned(KafkaConsumer& consumer,
                   const std::vector<KafkaPartition>& partitions) override {
    assigned.push_back(partitions);
    for (const KafkaOffset& start : seek_on_assign) {
      seek_results.push_back(consumer.seek(start.topic, start.partition, start.offset));
    }
  }

  void on_revoked(KafkaConsumer& /*consumer*/,
                  const std::vector<KafkaPartition>& partitions) override {
    revoked.push_back(partitions);
  }

  std::vector<std::vector<KafkaPartition>> assigned;
  std::vector<std::vector<KafkaPartition>> revoked;
  std::vector<KafkaOffset> seek_on_assign;
  std::vector<pipeline::Status> seek_results;
};

TEST(KafkaTest, ConsumesEveryProducedRecordInOrderPerPartition) {
  auto cluster = start_cluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("metrics", 4, 3).is_ok());
  auto producer = make_producer(producer_properties(*cluster));
  ASSERT_NE(producer, nullptr);
  constexpr int kCount = 2000;
  produce_range(*producer, "metrics", 0, kCount);
  const auto flushed = producer->flush(kFlush);
  ASSERT_TRUE(flushed.is_ok()) << flushed.to_string();
  EXPECT_EQ(producer->acknowledged(), static_cast<uint64_t>(kCount));
  EXPECT_EQ(producer->outstanding(), 0U);

  RecordingListener listener;
  auto consumer = make_consumer(consumer_properties(*cluster, "in-order"), "metrics", &listener);
  ASSERT_NE(consumer, nullptr);
  std::vector<KafkaRecord> records;
  consume_until(*consumer, kCount, records);
  ASSERT_EQ(records.size(), static_cast<size_t>(kCount));

  std::set<int> seen;
  for (const auto& [partition, list] : by_partition(records)) {
    for (size_t i = 0; i < list.size(); ++i) {
      // Offsets are dense from 0, and the producer's order holds within the partition.
      EXPECT_EQ(list[i].offset, static_cast<int64_t>(i));
      EXPECT_EQ(list[i].key, "key-" + std::to_string(index_of(list[i])));
      EXPECT_GT(list[i].timestamp_ms, 0);
      if (i > 0) {
        EXPECT_LT(index_of(list[i - 1]), index_of(list[i]));
      }
      seen.insert(index_of(list[i]));
    }
    const auto marks = consumer->query_watermarks("metrics", partition, seconds(5));
    ASSERT_TRUE(marks.is_ok()) << marks.status().to_string();
    EXPECT_EQ(marks->low, 0);
    EXPECT_EQ(marks->high, static_cast<int64_t>(list.size()));
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kCount));

  ASSERT_EQ(listener.assigned.size(), 1U);
  EXPECT_EQ(listener.assigned[0].size(), 4U);
  EXPECT_EQ(consumer->assignment(), listener.assigned[0]);
  const std::vector<KafkaPartitionLag> lag = consumer->lag();
  ASSERT_EQ(lag.size(), 4U);
  for (const KafkaPartitionLag& partition : lag) {
    EXPECT_EQ(partition.lag, 0) << partition.partition.partition;
    EXPECT_EQ(partition.position, partition.high_watermark);
  }
  EXPECT_EQ(consumer->stats().records, static_cast<uint64_t>(kCount));

  EXPECT_TRUE(consumer->close().is_ok());
  ASSERT_EQ(listener.revoked.size(), 1U);
  EXPECT_EQ(listener.revoked[0], listener.assigned[0]);
  EXPECT_EQ(consumer->poll(1, kPoll).status().code(), StatusCode::kFailedPrecondition);
}

TEST(KafkaTest, NewMemberResumesAfterTheCommittedOffsets) {
  auto cluster = start_cluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("events", 3, 3).is_ok());
  auto producer = make_producer(producer_properties(*cluster));
  ASSERT_NE(producer, nullptr);
  constexpr int kCount = 300;
  produce_range(*producer, "events", 0, kCount);
  ASSERT_TRUE(producer->flush(kFlush).is_ok());

  const KafkaProperties properties = consumer_properties(*cluster, "resume");
  std::vector<KafkaOffset> commits;
  std::set<std::pair<int32_t, int64_t>> tail;
  {
    auto first = make_consumer(properties, "events");
    ASSERT_NE(first, nullptr);
    std::vector<KafkaRecord> records;
    consume_until(*first, kCount, records);
    // "Processed" two thirds of each partition; the rest is the uncommitted tail.
    for (const auto& [partition, list] : by_partition(records)) {
      const size_t processed = list.size() * 2 / 3;
      commits.push_back({"events", partition, static_cast<int64_t>(processed)});
      for (size_t i = processed; i < list.size(); ++i) {
        tail.insert({partition, list[i].offset});
      }
    }
    // The mock answers like a broker whose group is rebalancing; commit retries through it.
    cluster->push_request_errors(
        KafkaApiKey::kOffsetCommit,
        {KafkaErrorCode::kRebalanceInProgress, KafkaErrorCode::kRebalanceInProgress});
    const auto committed = first->commit(commits);
    ASSERT_TRUE(committed.is_ok()) << committed.to_string();
    ASSERT_TRUE(first->close().is_ok());
  }

  RecordingListener listener;
  auto second = make_consumer(properties, "events", &listener);
  ASSERT_NE(second, nullptr);
  std::vector<KafkaPartition> partitions;
  partitions.reserve(commits.size());
  for (const KafkaOffset& commit : commits) {
    partitions.push_back({commit.topic, commit.partition});
  }
  const auto stored = second->committed(partitions, seconds(10));
  ASSERT_TRUE(stored.is_ok()) << stored.status().to_string();
  EXPECT_EQ(*stored, commits);

  std::vector<KafkaRecord> records;
  consume_until(*second, tail.size(), records);
  // Nothing more is coming: a short extra wait would reveal records before the committed offsets.
  auto extra = second->poll(500, milliseconds(500));
  ASSERT_TRUE(extra.is_ok());
  records.insert(records.end(), extra->begin(), extra->end());
  std::set<std::pair<int32_t, int64_t>> got;
  for (const KafkaRecord& record : records) {
    EXPECT_TRUE(got.insert({record.partition, record.offset}).second) << "duplicate";
  }
  EXPECT_EQ(got, tail);

  // Rewinding an assigned partition outside a rebalance delivers from there again.
  ASSERT_FALSE(second->assignment().empty());
  const KafkaPartition rewound = second->assignment().front();
  ASSERT_TRUE(second->seek(rewound.topic, rewound.partition, 0).is_ok());
  std::vector<KafkaRecord> again;
  consume_until(*second, 1, again, seconds(10));
  EXPECT_EQ(again.front().partition, rewound.partition);
  EXPECT_EQ(again.front().offset, 0);
  EXPECT_EQ(second->seek("events", 99, 0).code(), StatusCode::kFailedPrecondition);
}

TEST(KafkaTest, SeekInOnAssignedSetsTheStartingOffset) {
  auto cluster = start_cluster(1);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("restore", 2, 1).is_ok());
  auto producer = make_producer(producer_properties(*cluster));
  ASSERT_NE(producer, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(producer->produce("restore", "", value_of(i), i % 2).is_ok());
  }
  ASSERT_TRUE(producer->flush(kFlush).is_ok());

  // As after a restart from a checkpoint: partition 0 resumes at 40, partition 1 as committed
  // (nothing, so from the start).
  RecordingListener listener;
  listener.seek_on_assign = {{"restore", 0, 40}};
  auto consumer = make_consumer(consumer_properties(*cluster, "checkpoint"), "restore", &listener);
  ASSERT_NE(consumer, nullptr);
  std::vector<KafkaRecord> records;
  consume_until(*consumer, 60, records);
  ASSERT_EQ(listener.seek_results.size(), 1U);
  EXPECT_TRUE(listener.seek_results[0].is_ok()) << listener.seek_results[0].to_string();
  const auto partitions = by_partition(records);
  ASSERT_EQ(partitions.at(0).size(), 10U);
  EXPECT_EQ(partitions.at(0).front().offset, 40);
  EXPECT_EQ(partitions.at(1).size(), 50U);
  EXPECT_EQ(partitions.at(1).front().offset, 0);
}

TEST(KafkaTest, AReaderReadsExactlyWhatItIsAssignedAndBelongsToNoGroup) {
  auto cluster = start_cluster(1);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("whole", 3, 1).is_ok());
  auto producer = make_producer(producer_properties(*cluster));
  ASSERT_NE(producer, nullptr);
  for (int i = 0; i < 90; ++i) {
    ASSERT_TRUE(producer->produce("whole", "", value_of(i), i % 3).is_ok());
  }
  ASSERT_TRUE(producer->flush(kFlush).is_ok());

  auto created = KafkaConsumer::create_reader({{"bootstrap.servers", cluster->bootstraps()}});
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  KafkaConsumer& reader = *created.value();
  auto count = reader.partition_count("whole", seconds(10));
  ASSERT_TRUE(count.is_ok()) << count.status().to_string();
  EXPECT_EQ(count.value(), 3);
  // Partition 0 from offset 25, partition 2 from the start; partition 1 not at all.
  ASSERT_TRUE(reader.assign({{"whole", 0, 25}, {"whole", 2, 0}}).is_ok());
  EXPECT_EQ(reader.assignment(), (std::vector<KafkaPartition>{{"whole", 0}, {"whole", 2}}));
  std::vector<KafkaRecord> records;
  consume_until(reader, 35, records);
  const auto partitions = by_partition(records);
  EXPECT_FALSE(partitions.contains(1));
  ASSERT_EQ(partitions.at(0).size(), 5U);
  EXPECT_EQ(partitions.at(0).front().offset, 25);
  EXPECT_EQ(partitions.at(2).size(), 30U);
  // Its positions live elsewhere: nothing to commit, nothing committed.
  EXPECT_EQ(reader.commit({{"whole", 0, 30}}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader.committed({{"whole", 0}}, seconds(1)).status().code(),
            StatusCode::kFailedPrecondition);
  // A group member cannot be assigned by hand.
  auto member = make_consumer(consumer_properties(*cluster, "g"), "whole");
  ASSERT_NE(member, nullptr);
  EXPECT_EQ(member->assign({{"whole", 0, 0}}).code(), StatusCode::kFailedPrecondition);
}

TEST(KafkaTest, AMembershipOnlyConsumerIsAssignedPartitionsButFetchesNothing) {
  auto cluster = start_cluster(1);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("tasks", 2, 1).is_ok());
  auto producer = make_producer(producer_properties(*cluster));
  ASSERT_NE(producer, nullptr);
  produce_range(*producer, "tasks", 0, 20);
  ASSERT_TRUE(producer->flush(kFlush).is_ok());
  RecordingListener listener;
  KafkaConsumerOptions options;
  options.membership_only = true;
  auto created = KafkaConsumer::create(consumer_properties(*cluster, "members"), {"tasks"},
                                       &listener, options);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  KafkaConsumer& member = *created.value();
  size_t records = 0;
  const auto deadline = Clock::now() + kGroupDeadline;
  while (listener.assigned.empty() && Clock::now() < deadline) {
    auto batch = member.poll(100, kPoll);
    ASSERT_TRUE(batch.is_ok()) << batch.status().to_string();
    records += batch->size();
  }
  ASSERT_EQ(listener.assigned.size(), 1U);
  EXPECT_EQ(listener.assigned[0], (std::vector<KafkaPartition>{{"tasks", 0}, {"tasks", 1}}));
  // Long enough for a fetch to have brought all 20 records if the partitions were not paused.
  const auto settle = Clock::now() + seconds(2);
  while (Clock::now() < settle) {
    auto batch = member.poll(100, kPoll);
    ASSERT_TRUE(batch.is_ok());
    records += batch->size();
  }
  EXPECT_EQ(records, 0U);
}

TEST(KafkaTest, TwoMembersShareSixPartitions) {
  auto cluster = start_cluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("shared", 6, 3).is_ok());
  auto producer = make_producer(producer_properties(*cluster));
  ASSERT_NE(producer, nullptr);
  produce_range(*producer, "shared", 0, 120);
  ASSERT_TRUE(producer->flush(kFlush).is_ok());

  const KafkaProperties properties = consumer_properties(*cluster, "sharing");
  RecordingListener first_listener;
  auto first = make_consumer(properties, "shared", &first_listener);
  ASSERT_NE(first, nullptr);
  std::vector<KafkaRecord> before;
  consume_until(*first, 120, before);
  ASSERT_EQ(first->assignment().size(), 6U);
  std::vector<KafkaOffset> positions;
  for (const auto& [partition, list] : by_partition(before)) {
    positions.push_back({"shared", partition, list.back().offset + 1});
  }
  ASSERT_TRUE(first->commit(positions).is_ok());

  RecordingListener second_listener;
  auto second = make_consumer(properties, "shared", &second_listener);
  ASSERT_NE(second, nullptr);
  std::vector<KafkaRecord> first_records;
  std::vector<KafkaRecord> second_records;
  const auto poll_both = [&] {
    for (auto [consumer, out] :
         {std::pair{first.get(), &first_records}, std::pair{second.get(), &second_records}}) {
      auto batch = consumer->poll(500, kPoll);
      ASSERT_TRUE(batch.is_ok()) << batch.status().to_string();
      out->insert(out->end(), batch->begin(), batch->end());
    }
  };
  const Clock::time_point deadline = Clock::now() + kGroupDeadline;
  while ((first->assignment().size() != 3 || second->assignment().size() != 3) &&
         Clock::now() < deadline) {
    poll_both();
  }
  ASSERT_EQ(first->assignment().size(), 3U);
  ASSERT_EQ(second->assignment().size(), 3U);
  std::set<KafkaPartition> all(first->assignment().begin(), first->assignment().end());
  all.insert(second->assignment().begin(), second->assignment().end());
  EXPECT_EQ(all.size(), 6U);
  // Eager: the first member gave all six back before taking its three.
  ASSERT_FALSE(first_listener.revoked.empty());
  EXPECT_EQ(first_listener.revoked.front().size(), 6U);
  EXPECT_EQ(first_listener.assigned.back(), first->assignment());
  EXPECT_EQ(second_listener.assigned.back(), second->assignment());

  // Both resume at the committed positions: only new records arrive, each at its owner.
  produce_range(*producer, "shared", 120, 240);
  ASSERT_TRUE(producer->flush(kFlush).is_ok());
  const Clock::time_point until = Clock::now() + kGroupDeadline;
  while (first_records.size() + second_records.size() < 120 && Clock::now() < until) {
    poll_both();
  }
  EXPECT_FALSE(first_records.empty());
  EXPECT_FALSE(second_records.empty());
  std::set<int> seen;
  for (auto [consumer, records] :
       {std::pair{first.get(), &first_records}, std::pair{second.get(), &second_records}}) {
    for (const KafkaRecord& record : *records) {
      EXPECT_TRUE(std::count(consumer->assignment().begin(), consumer->assignment().end(),
                             KafkaPartition{record.topic, record.partition}) == 1);
      EXPECT_GE(index_of(record), 120);
      EXPECT_TRUE(seen.insert(index_of(record)).second) << "duplicate " << record.value;
    }
  }
  EXPECT_EQ(seen.size(), 120U);
}

TEST(KafkaTest, IdempotentProducerDeliversExactlyOnceThroughProduceErrors) {
  auto cluster = start_cluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("idempotent", 3, 3).is_ok());
  auto producer = make_producer(producer_properties(*cluster));
  ASSERT_NE(producer, nullptr);
  // Warm up: the errors below must hit Produce requests, not be spent before metadata arrives.
  produce_range(*producer, "idempotent", 0, 1);
  ASSERT_TRUE(producer->flush(kFlush).is_ok());
  cluster->push_request_errors(
      KafkaApiKey::kProduce,
      {KafkaErrorCode::kNotLeaderForPartition, KafkaErrorCode::kRequestTimedOut,
       KafkaErrorCode::kNotEnoughReplicas, KafkaErrorCode::kTransport,
       KafkaErrorCode::kNotEnoughReplicasAfterAppend});
  constexpr int kCount = 3000;
  produce_range(*producer, "idempotent", 1, kCount);
  const auto flushed = producer->flush(kFlush);
  ASSERT_TRUE(flushed.is_ok()) << flushed.to_string();
  EXPECT_EQ(producer->acknowledged(), static_cast<uint64_t>(kCount));
  EXPECT_EQ(producer->failed(), 0U);

  auto consumer = make_consumer(consumer_properties(*cluster, "exactly-once"), "idempotent");
  ASSERT_NE(consumer, nullptr);
  int64_t logged = 0;
  for (int32_t partition = 0; partition < 3; ++partition) {
    const auto marks = consumer->query_watermarks("idempotent", partition, seconds(5));
    ASSERT_TRUE(marks.is_ok()) << marks.status().to_string();
    logged += marks->high - marks->low;
  }
  EXPECT_EQ(logged, kCount) << "the log holds duplicates or lost records";
  std::vector<KafkaRecord> records;
  consume_until(*consumer, kCount, records);
  std::set<int> seen;
  for (const KafkaRecord& record : records) {
    EXPECT_TRUE(seen.insert(index_of(record)).second) << "duplicate " << record.value;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kCount));
}

TEST(KafkaTest, FailedDeliveriesAreKeptForRetry) {
  auto cluster = start_cluster(1);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("fragile", 1, 1).is_ok());
  KafkaProperties properties = producer_properties(*cluster);
  properties.set("message.timeout.ms", "1000");
  // Reconnect soon after the broker returns: librdkafka's default backoff grows to 10 s, longer
  // than the retried messages' timeout.
  properties.set("reconnect.backoff.ms", "50");
  properties.set("reconnect.backoff.max.ms", "200");
  auto producer = make_producer(properties);
  ASSERT_NE(producer, nullptr);
  produce_range(*producer, "fragile", 0, 1);
  ASSERT_TRUE(producer->flush(kFlush).is_ok());

  ASSERT_TRUE(cluster->set_broker_down(1).is_ok());
  produce_range(*producer, "fragile", 1, 6);
  const auto flushed = producer->flush(kFlush);
  EXPECT_EQ(flushed.code(), StatusCode::kUnavailable) << flushed.to_string();
  EXPECT_EQ(producer->outstanding(), 0U);
  EXPECT_EQ(producer->failed(), 5U);
  std::vector<KafkaDeliveryFailure> failures = producer->take_failures();
  ASSERT_EQ(failures.size(), 5U);
  for (size_t i = 0; i < failures.size(); ++i) {
    EXPECT_EQ(failures[i].topic, "fragile");
    EXPECT_EQ(failures[i].value, value_of(static_cast<int>(i) + 1));
    EXPECT_EQ(failures[i].error.code(), StatusCode::kUnavailable) << failures[i].error.to_string();
  }

  // The caller retries what failed once the broker is back.
  ASSERT_TRUE(cluster->set_broker_up(1).is_ok());
  for (const KafkaDeliveryFailure& failure : failures) {
    ASSERT_TRUE(producer->produce(failure.topic, failure.key, failure.value).is_ok());
  }
  const auto retried = producer->flush(kFlush);
  EXPECT_TRUE(retried.is_ok()) << retried.to_string();
  EXPECT_EQ(producer->acknowledged(), 6U);
}

TEST(KafkaTest, BrokerDownWithLeadershipMovedLosesNothing) {
  auto cluster = start_cluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->create_topic("failover", 6, 3).is_ok());
  // Broker 1 is the one to fail; the group's coordinator must survive it.
  ASSERT_TRUE(cluster->set_group_coordinator("failover-group", 3).is_ok());
  auto producer = make_producer(producer_properties(*cluster));
  ASSERT_NE(producer, nullptr);
  auto consumer = make_consumer(consumer_properties(*cluster, "failover-group"), "failover");
  ASSERT_NE(consumer, nullptr);

  produce_range(*producer, "failover", 0, 300);
  ASSERT_TRUE(producer->flush(kFlush).is_ok());
  std::vector<KafkaRecord> records;
  consume_until(*consumer, 300, records);

  ASSERT_TRUE(cluster->set_broker_down(1).is_ok());
  for (int32_t partition = 0; partition < 6; ++partition) {
    ASSERT_TRUE(cluster->set_partition_leader("failover", partition, 2).is_ok());
  }
  produce_range(*producer, "failover", 300, 600);
  const auto flushed = producer->flush(kFlush);
  ASSERT_TRUE(flushed.is_ok()) << flushed.to_string();
  EXPECT_EQ(producer->acknowledged(), 600U);
  consume_until(*consumer, 600, records);

  std::set<int> seen;
  std::set<std::pair<int32_t, int64_t>> positions;
  for (const KafkaRecord& record : records) {
    EXPECT_TRUE(seen.insert(index_of(record)).second) << "duplicate " << record.value;
    positions.insert({record.partition, record.offset});
  }
  EXPECT_EQ(seen.size(), 600U);
  EXPECT_EQ(positions.size(), 600U);
}

TEST(KafkaTest, MockClusterChecksItsArguments) {
  EXPECT_EQ(MockKafkaCluster::create(0).status().code(), StatusCode::kInvalidArgument);
  auto cluster = start_cluster(2);
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->brokers(), 2);
  EXPECT_EQ(std::count(cluster->bootstraps().begin(), cluster->bootstraps().end(), ','), 1);
  EXPECT_TRUE(cluster->create_topic("t", 2, 2).is_ok());
  EXPECT_EQ(cluster->create_topic("t", 2, 2).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cluster->create_topic("u", 2, 3).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster->create_topic("u", 0, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster->set_broker_down(3).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster->set_partition_leader("t", 0, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster->set_partition_leader("t", 5, 1).code(), StatusCode::kNotFound);
  EXPECT_TRUE(cluster->set_partition_leader("t", 1, -1).is_ok());
  EXPECT_TRUE(cluster->set_broker_down(2).is_ok());
  EXPECT_TRUE(cluster->set_broker_up(2).is_ok());
}

TEST(KafkaTest, CreateRejectsBadPropertiesWithoutQuotingSecrets) {
  const KafkaProperties base = {{"bootstrap.servers", "127.0.0.1:1"}, {"group.id", "g"}};
  const auto create = [](const KafkaProperties& properties) {
    return KafkaConsumer::create(properties, {"topic"}).status();
  };

  // NOLINTNEXTLINE(concurrency-mt-unsafe): set before any librdkafka thread reads it.
  ::setenv("TW_TEST_KAFKA_PROTOCOL", "hunter2-not-a-protocol", 1);
  KafkaProperties referenced = base;
  referenced.set("security.protocol", "${env:TW_TEST_KAFKA_PROTOCOL}");
  auto status = create(referenced);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("security.protocol"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("hunter2"), std::string::npos) << status.message();

  KafkaProperties typo = base;
  typo.set("fetch.max.bytez", "1");
  status = create(typo);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("fetch.max.bytez"), std::string::npos) << status.message();

  KafkaProperties cooperative = base;
  cooperative.set("partition.assignment.strategy", "cooperative-sticky");
  EXPECT_EQ(create(cooperative).code(), StatusCode::kInvalidArgument);
  KafkaProperties auto_commit = base;
  auto_commit.set("enable.auto.commit", "true");
  EXPECT_EQ(create(auto_commit).code(), StatusCode::kInvalidArgument);
  KafkaProperties no_group = base;
  no_group.erase("group.id");
  EXPECT_EQ(create(no_group).code(), StatusCode::kInvalidArgument);
  KafkaProperties unresolved = base;
  unresolved.set("sasl.password", "${env:TW_TEST_KAFKA_NEVER_SET}");
  EXPECT_EQ(create(unresolved).code(), StatusCode::kNotFound);
  EXPECT_EQ(KafkaConsumer::create(base, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KafkaProducer::create(KafkaProperties{{"linger.ms", "5"}}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tw::connectors
