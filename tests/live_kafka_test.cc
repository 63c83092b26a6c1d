// Live mode end to end: the quickstart data produced to a 3-broker Kafka cluster (librdkafka's
// mock, real protocol on loopback), the real `trailwatch run` binary consuming it and writing its
// events to an output topic, and those events compared byte for byte with what `replay` writes
// for the same data (tests/replay/quickstart/expected_events.jsonl). Also checks the HTTP
// endpoint of the running worker and its clean exit on SIGTERM.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "connectors/kafka.h"
#include "connectors/kafka_mock.h"
#include "tests/http_test_client.h"
#include "tests/live_test_util.h"

namespace tw::testing {
namespace {

// A 3-broker cluster holding the quickstart's two inputs, and the quickstart configuration
// reading them from Kafka.
class LiveKafka : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("trailwatch_live_kafka_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto cluster = connectors::MockKafkaCluster::create(3);
    ASSERT_TRUE(cluster.is_ok()) << cluster.status().message();
    cluster_ = std::move(cluster).value();
    ASSERT_TRUE(cluster_->create_topic("metrics", 3, 3).is_ok());
    ASSERT_TRUE(cluster_->create_topic("checkout-logs", 1, 3).is_ok());
    ASSERT_TRUE(cluster_->create_topic("alarm-events", 1, 3).is_ok());

    // Produce the quickstart's two inputs, each line one record; a series stays in one
    // partition, so it is in order there.
    auto producer = connectors::KafkaProducer::create(
        connectors::KafkaProperties{{"bootstrap.servers", cluster_->bootstraps()}});
    ASSERT_TRUE(producer.is_ok()) << producer.status().message();
    for (const std::string& line : read_lines(source_ / "quickstart" / "metrics.jsonl")) {
      ASSERT_TRUE(producer.value()->produce("metrics", series_key(line), line).is_ok());
    }
    for (const std::string& line : read_lines(source_ / "quickstart" / "checkout-emf.log")) {
      ASSERT_TRUE(producer.value()->produce("checkout-logs", "", line).is_ok());
    }
    // A poison record on every partition: dead-lettered with its reason, nothing else changes.
    for (int32_t partition = 0; partition < 3; ++partition) {
      ASSERT_TRUE(producer.value()
                      ->produce("metrics", "", std::string("{\"poison\":\0\xff", 13), partition)
                      .is_ok());
    }
    ASSERT_TRUE(producer.value()->flush(std::chrono::seconds(30)).is_ok());
    expected_ = read_lines(source_ / "tests" / "replay" / "quickstart" / "expected_events.jsonl");
    ASSERT_FALSE(expected_.empty());
  }

  void TearDown() override { fs::remove_all(dir_); }

  // The quickstart configuration reading Kafka; events go to `emissions`.
  fs::path write_config(const std::string& emissions) {
    nlohmann::json config =
        nlohmann::json::parse(read_file(source_ / "quickstart" / "alarms.json"));
    nlohmann::json& tw = config["trailwatch"];
    tw["kafka"] = {{"bootstrap.servers", cluster_->bootstraps()},
                   {"session.timeout.ms", "6000"},
                   {"heartbeat.interval.ms", "500"}};
    tw["inputs"] = nlohmann::json::array({{{"name", "metric-stream"},
                                           {"type", "kafka"},
                                           {"topic", "metrics"},
                                           {"format", "metric_stream"},
                                           {"group_id", "tw-metrics"}},
                                          {{"name", "checkout-logs"},
                                           {"type", "kafka"},
                                           {"topic", "checkout-logs"},
                                           {"format", "emf"},
                                           {"group_id", "tw-checkout"}}});
    tw["outputs"] = {{"emissions", emissions},
                     {"dead_letters", (dir_ / "dead-letters.jsonl").string()}};
    tw["http_listen"] = "127.0.0.1:0";
    tw["idle_timeout_seconds"] = 2;
    tw["shards"] = 2;
    const fs::path path = dir_ / "alarms.json";
    std::ofstream(path) << config.dump(2);
    return path;
  }

  const fs::path source_ = fs::path(TW_SOURCE_DIR);
  fs::path dir_;
  std::unique_ptr<connectors::MockKafkaCluster> cluster_;
  std::vector<std::string> expected_;
};

TEST_F(LiveKafka, UntilIdleWritesExactlyWhatReplayWrites) {
  // --until-idle consumes what is there, then ends like replay (watermark to the newest event
  // time): the events file must equal replay's, line for line.
  const fs::path events = dir_ / "events.jsonl";
  Worker worker(write_config(events.string()), dir_ / "worker.log", {"--until-idle"});
  ASSERT_TRUE(worker.started());
  EXPECT_EQ(worker.wait(std::chrono::seconds(90)), 0) << read_file(dir_ / "worker.log");
  EXPECT_EQ(read_lines(events), expected_);
  // The quickstart's two broken records and the three poison records.
  const std::vector<std::string> dead = read_lines(dir_ / "dead-letters.jsonl");
  EXPECT_EQ(dead.size(), 5U);
  EXPECT_EQ(std::count_if(dead.begin(), dead.end(),
                          [](const std::string& d) {
                            return d.find(R"("reason":"not_json")") != std::string::npos &&
                                   d.find(R"("source":"metrics/)") != std::string::npos;
                          }),
            4);
  EXPECT_NE(read_file(dir_ / "worker.log").find("consumed 1060 Kafka records"), std::string::npos)
      << read_file(dir_ / "worker.log");
}

TEST_F(LiveKafka, RunOnTheQuickstartWritesTheSameEventsAsReplay) {
  const fs::path dir = dir_;
  const fs::path config_path = write_config("kafka:alarm-events");
  connectors::MockKafkaCluster& mock = *cluster_;
  const std::vector<std::string>& expected = expected_;
  Worker worker(config_path, dir / "worker.log");
  ASSERT_TRUE(worker.started());

  // Read the output topic until every event up to the end of the data has arrived. After the
  // data, the worker's inputs go idle and its watermark follows wall time, so later events
  // (alarms noticing that data stopped) follow; they are not part of the comparison.
  auto reader = connectors::KafkaConsumer::create(
      connectors::KafkaProperties{{"bootstrap.servers", mock.bootstraps()},
                                  {"group.id", "test-reader"},
                                  {"session.timeout.ms", "6000"}},
      {"alarm-events"});
  ASSERT_TRUE(reader.is_ok()) << reader.status().message();
  std::vector<std::string> events;
  const std::string cutoff = R"("time":"2026-03-02T12:00:00Z")";
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  bool past_the_data = false;
  while (Clock::now() < deadline && !past_the_data) {
    auto batch = reader.value()->poll(1000, std::chrono::milliseconds(200));
    ASSERT_TRUE(batch.is_ok()) << batch.status().message();
    for (const connectors::KafkaRecord& r : batch.value()) {
      // Event times are ISO-8601 in one format, so they compare as strings.
      const size_t at = r.value.find(R"("time":")");
      ASSERT_NE(at, std::string::npos) << r.value;
      if (r.value.compare(at, cutoff.size(), cutoff) >= 0) {
        past_the_data = true;
        continue;
      }
      events.push_back(r.value);
    }
  }
  EXPECT_TRUE(past_the_data) << "the worker's watermark never passed the data; log:\n"
                             << read_file(dir / "worker.log");
  EXPECT_EQ(events, expected);

  // The HTTP endpoint of the running worker.
  const int port = worker.http_port();
  ASSERT_GT(port, 0) << read_file(dir / "worker.log");
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(http_get(base + "/healthz").status, 200);
  EXPECT_EQ(http_get(base + "/readyz").status, 200);
  const HttpReply metrics = http_get(base + "/metrics");
  EXPECT_NE(metrics.body.find(R"(trailwatch_datapoints_total{input="metric-stream"} 875)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(
      metrics.body.find(R"(trailwatch_dropped_total{input="metric-stream",reason="not_json"})"),
      std::string::npos)
      << metrics.body;
  const HttpReply alarms = http_get(base + "/api/v1/alarms?prefix=web-1");
  EXPECT_NE(alarms.body.find(R"("AlarmName":"web-1 high CPU")"), std::string::npos) << alarms.body;
  EXPECT_EQ(alarms.body.find("web-2"), std::string::npos) << alarms.body;

  // Reload. An invalid configuration is rejected with validate's messages and changes nothing.
  const std::string good = read_file(config_path);
  nlohmann::json bad = nlohmann::json::parse(good);
  bad["CompositeAlarms"].push_back({{"AlarmName", "loop"}, {"AlarmRule", "ALARM(loop)"}});
  std::ofstream(config_path) << bad.dump(2);
  worker.signal(SIGHUP);
  EXPECT_TRUE(worker.log_shows("reload rejected", std::chrono::seconds(10)))
      << read_file(dir / "worker.log");
  EXPECT_TRUE(worker.log_shows("cycle: loop -> loop", std::chrono::seconds(1)));
  // A valid change (one alarm added) is applied when the file changes; unchanged alarms keep
  // their state and its timestamp.
  const std::string web1_before = http_get(base + "/api/v1/alarms?prefix=web-1").body;
  nlohmann::json added = nlohmann::json::parse(good);
  nlohmann::json probe = added["MetricAlarms"][0];
  probe["AlarmName"] = "reload probe";
  added["MetricAlarms"].push_back(probe);
  std::ofstream(config_path) << added.dump(2);
  // A distinct modification time even on file systems with whole-second timestamps.
  fs::last_write_time(config_path, fs::last_write_time(config_path) + std::chrono::seconds(2));
  EXPECT_TRUE(
      worker.log_shows("configuration reloaded: 7 metric alarm(s)", std::chrono::seconds(10)))
      << read_file(dir / "worker.log");
  EXPECT_NE(http_get(base + "/api/v1/alarms?prefix=reload").body.find("reload probe"),
            std::string::npos);
  EXPECT_EQ(http_get(base + "/api/v1/alarms?prefix=web-1").body, web1_before);

  EXPECT_EQ(worker.terminate(std::chrono::seconds(30)), 0) << read_file(dir / "worker.log");
  // Both broken quickstart records were dead-lettered.
  EXPECT_EQ(read_lines(dir / "dead-letters.jsonl").size(), 5U);
}

}  // namespace
}  // namespace tw::testing
