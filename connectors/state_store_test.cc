// State stores: a local directory, and a Kafka changelog topic on librdkafka's mock cluster.

#include "connectors/state_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/kafka_mock.h"
#include "pipeline/state_codec.h"

namespace tw::connectors {
namespace {

namespace fs = std::filesystem;

std::string sample(size_t bytes, char seed) {
  std::string s(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    s[i] = static_cast<char>(seed + static_cast<char>(i * 7 % 251));
  }
  return s;
}

TEST(DirectoryStateStore, KeepsTheNewestCheckpointAndStartsEmpty) {
  const fs::path dir = fs::path(::testing::TempDir()) / "state_store_dir" / "nested";
  fs::remove_all(dir.parent_path());
  auto store = DirectoryStateStore::open(dir.string(), "group/one");
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  auto empty = (*store)->load();
  ASSERT_TRUE(empty.is_ok());
  EXPECT_FALSE(empty.value().has_value());

  ASSERT_TRUE((*store)->save(sample(1000, 'a')).is_ok());
  ASSERT_TRUE((*store)->save(sample(10, 'b')).is_ok());
  auto loaded = (*store)->load();
  ASSERT_TRUE(loaded.is_ok());
  EXPECT_EQ(loaded.value(), sample(10, 'b'));
  EXPECT_TRUE(fs::exists(dir / "group_one.checkpoint"));

  // A temporary file left by a crash mid-save changes nothing.
  std::ofstream(dir / "group_one.checkpoint.tmp") << "half";
  auto again = DirectoryStateStore::open(dir.string(), "group/one");
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ((*again)->load().value(), sample(10, 'b'));
}

TEST(DirectoryStateStore, AFileInTheWayIsAnError) {
  const fs::path file = fs::path(::testing::TempDir()) / "state_store_not_a_dir";
  std::ofstream(file) << "x";
  auto store = DirectoryStateStore::open(file.string(), "g");
  EXPECT_FALSE(store.is_ok());
}

class KafkaStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = MockKafkaCluster::create(3);
    ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
    cluster_ = std::move(cluster).value();
    ASSERT_TRUE(cluster_->create_topic("state", 1, 3).is_ok());
  }

  std::unique_ptr<KafkaStateStore> open(const std::string& name, size_t chunk = 1024) {
    KafkaStateStore::Options options;
    options.topic = "state";
    options.name = name;
    options.chunk_bytes = chunk;
    options.timeout = std::chrono::seconds(20);
    auto store = KafkaStateStore::open({{"bootstrap.servers", cluster_->bootstraps()}}, options);
    EXPECT_TRUE(store.is_ok()) << store.status().to_string();
    return store.is_ok() ? std::move(store).value() : nullptr;
  }

  std::unique_ptr<MockKafkaCluster> cluster_;
};

TEST_F(KafkaStateStoreTest, ChunkedCheckpointsRoundTripAndTheNewestWins) {
  auto store = open("group-a");
  ASSERT_NE(store, nullptr);
  auto empty = store->load();
  ASSERT_TRUE(empty.is_ok()) << empty.status().to_string();
  EXPECT_FALSE(empty.value().has_value());

  ASSERT_TRUE(store->save(sample(5000, 'x')).is_ok());  // Five chunks.
  ASSERT_TRUE(store->save(sample(2500, 'y')).is_ok());
  auto other = open("group-b");  // Shares the topic, not the state.
  ASSERT_TRUE(other->save(sample(300, 'z')).is_ok());

  auto restarted = open("group-a");
  auto loaded = restarted->load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded.value(), sample(2500, 'y'));
  EXPECT_EQ(open("group-b")->load().value(), sample(300, 'z'));

  // A new instance that saves without loading first still numbers after what is stored.
  auto fresh = open("group-a");
  ASSERT_TRUE(fresh->save(sample(42, 'w')).is_ok());
  EXPECT_EQ(open("group-a")->load().value(), sample(42, 'w'));
}

TEST_F(KafkaStateStoreTest, AHalfWrittenCheckpointLeavesThePreviousOne) {
  auto store = open("g");
  ASSERT_TRUE(store->save(sample(3000, 'p')).is_ok());
  // A worker killed after the first of three chunks of its next checkpoint.
  auto producer = KafkaProducer::create({{"bootstrap.servers", cluster_->bootstraps()}});
  ASSERT_TRUE(producer.is_ok());
  pipeline::StateWriter chunk;
  for (const char c : std::string_view("TWCH")) {
    chunk.u8(static_cast<uint8_t>(c));
  }
  chunk.u64(99);
  chunk.u32(0);
  chunk.u32(3);
  chunk.u32(pipeline::checksum(sample(3000, 'q')));
  std::string value = chunk.take() + sample(1024, 'q');
  ASSERT_TRUE((*producer)->produce("state", "g/b/0", value, 0).is_ok());
  ASSERT_TRUE((*producer)->flush(std::chrono::seconds(10)).is_ok());

  auto restarted = open("g");
  auto loaded = restarted->load();
  ASSERT_TRUE(loaded.is_ok());
  EXPECT_EQ(loaded.value(), sample(3000, 'p'));
  // The restarted worker's next checkpoint numbers past the unfinished one instead of mixing
  // with its chunks.
  ASSERT_TRUE(restarted->save(sample(2000, 'r')).is_ok());
  EXPECT_EQ(open("g")->load().value(), sample(2000, 'r'));
}

TEST_F(KafkaStateStoreTest, ADamagedNewerCheckpointLeavesTheOlderIntactOne) {
  auto store = open("h");
  ASSERT_TRUE(store->save(sample(1500, 's')).is_ok());
  auto producer = KafkaProducer::create({{"bootstrap.servers", cluster_->bootstraps()}});
  ASSERT_TRUE(producer.is_ok());
  pipeline::StateWriter chunk;
  for (const char c : std::string_view("TWCH")) {
    chunk.u8(static_cast<uint8_t>(c));
  }
  chunk.u64(7);
  chunk.u32(0);
  chunk.u32(1);
  chunk.u32(1);  // Not the CRC of the payload.
  ASSERT_TRUE((*producer)->produce("state", "h/b/0", chunk.take() + "payload", 0).is_ok());
  ASSERT_TRUE((*producer)->flush(std::chrono::seconds(10)).is_ok());
  auto loaded = open("h")->load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded.value(), sample(1500, 's'));
}

TEST_F(KafkaStateStoreTest, ADamagedOnlyCheckpointIsDataLoss) {
  auto producer = KafkaProducer::create({{"bootstrap.servers", cluster_->bootstraps()}});
  ASSERT_TRUE(producer.is_ok());
  pipeline::StateWriter chunk;
  for (const char c : std::string_view("TWCH")) {
    chunk.u8(static_cast<uint8_t>(c));
  }
  chunk.u64(1);
  chunk.u32(0);
  chunk.u32(1);
  chunk.u32(12345);  // Not the CRC of the payload.
  ASSERT_TRUE((*producer)->produce("state", "d/b/0", chunk.take() + "payload", 0).is_ok());
  ASSERT_TRUE((*producer)->flush(std::chrono::seconds(10)).is_ok());
  auto loaded = open("d")->load();
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), pipeline::StatusCode::kDataLoss);
}

TEST_F(KafkaStateStoreTest, AMissingTopicReadsAsNoCheckpoint) {
  KafkaStateStore::Options options;
  options.topic = "never-written";
  options.name = "g";
  options.timeout = std::chrono::seconds(10);
  auto store = KafkaStateStore::open({{"bootstrap.servers", cluster_->bootstraps()}}, options);
  ASSERT_TRUE(store.is_ok());
  auto loaded = (*store)->load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_FALSE(loaded.value().has_value());
}

}  // namespace
}  // namespace tw::connectors
