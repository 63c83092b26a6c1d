// Live mode under failure: the quickstart data arrives in three parts on a 3-broker Kafka cluster
// (librdkafka's mock, real protocol on loopback) while `trailwatch run` workers are killed with
// SIGKILL, stopped and restarted, and a broker goes down and comes back. Every worker checkpoints
// its state to the changelog topic; the next one restores it. Whatever happens, the events on the
// output topic — duplicates removed by their deterministic id — must be exactly what `replay`
// writes for the same data (tests/replay/quickstart/expected_events.jsonl), and every duplicate
// must be byte-identical to the first copy (same transition, same outcome).

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/kafka.h"
#include "connectors/kafka_mock.h"
#include "tests/http_test_client.h"
#include "tests/line_diff.h"
#include "tests/live_test_util.h"

namespace tw::testing {
namespace {

// The value of a Prometheus sample, e.g. `trailwatch_records_total{input="metric-stream"}`; -1
// when absent.
double metric_value(const std::string& exposition, const std::string& sample) {
  // At the start of a line: "# HELP NAME ..." is not a sample.
  const size_t at = exposition.find("\n" + sample + " ");
  if (at == std::string::npos) {
    return -1;
  }
  return std::stod(exposition.substr(at + sample.size() + 2));
}

// Events by alarm name, each alarm's in their order.
std::map<std::string, std::vector<std::string>> by_alarm(const std::vector<std::string>& events) {
  const std::regex name_pattern(R"re("alarmName":"([^"]*)")re");
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& e : events) {
    std::smatch match;
    EXPECT_TRUE(std::regex_search(e, match, name_pattern)) << e;
    out[match[1].str()].push_back(e);
  }
  return out;
}

class LiveRecovery : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("trailwatch_live_recovery_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto cluster = connectors::MockKafkaCluster::create(3);
    ASSERT_TRUE(cluster.is_ok()) << cluster.status().message();
    cluster_ = std::move(cluster).value();
    ASSERT_TRUE(cluster_->create_topic("metrics", 3, 3).is_ok());
    ASSERT_TRUE(cluster_->create_topic("checkout-logs", 1, 3).is_ok());
    ASSERT_TRUE(cluster_->create_topic("alarm-events", 1, 3).is_ok());
    ASSERT_TRUE(cluster_->create_topic("trailwatch-state", 1, 3).is_ok());
    // Scale-out: three tasks (the quickstart's four alarm groups fall on all three).
    ASSERT_TRUE(cluster_->create_topic("trailwatch-tasks", 3, 3).is_ok());
    // Group coordinators on broker 1, so that taking another broker down leaves the groups be.
    ASSERT_TRUE(cluster_->set_group_coordinator("tw-metrics", 1).is_ok());
    ASSERT_TRUE(cluster_->set_group_coordinator("tw-checkout", 1).is_ok());
    new_producer();
    metrics_ = read_lines(source_ / "quickstart" / "metrics.jsonl");
    logs_ = read_lines(source_ / "quickstart" / "checkout-emf.log");
    expected_ = read_lines(source_ / "tests" / "replay" / "quickstart" / "expected_events.jsonl");
    ASSERT_FALSE(expected_.empty());
  }

  void TearDown() override {
    producer_.reset();
    if (!HasFailure()) {
      fs::remove_all(dir_);  // Kept on failure: the workers' logs tell what happened.
    }
  }

  // Queues part `part` (0, 1, 2) of both inputs; a series stays in one partition, in order.
  void produce_part(int part) {
    const auto slice = [part](const std::vector<std::string>& lines) {
      const size_t n = lines.size();
      return std::make_pair(n * static_cast<size_t>(part) / 3,
                            n * static_cast<size_t>(part + 1) / 3);
    };
    const auto [m0, m1] = slice(metrics_);
    for (size_t i = m0; i < m1; ++i) {
      // Series spread over the partitions in turn, so that every partition carries data (an
      // empty one would hold worker A's watermark: it never goes idle in these tests).
      const std::string key = series_key(metrics_[i]);
      const auto [it, added] =
          partition_of_.emplace(key, static_cast<int32_t>(partition_of_.size() % 3));
      ASSERT_TRUE(producer_->produce("metrics", key, metrics_[i], it->second).is_ok());
      ++produced_metrics_;
    }
    const auto [l0, l1] = slice(logs_);
    for (size_t i = l0; i < l1; ++i) {
      ASSERT_TRUE(producer_->produce("checkout-logs", "", logs_[i]).is_ok());
      ++produced_logs_;
    }
  }

  // The test's own producer (not under test). A fresh one has fresh metadata: after the mock
  // moved a partition's leader, an old one keeps trying the old leader for a long while.
  void new_producer() {
    auto producer = connectors::KafkaProducer::create(
        connectors::KafkaProperties{{"bootstrap.servers", cluster_->bootstraps()}});
    ASSERT_TRUE(producer.is_ok()) << producer.status().message();
    producer_ = std::move(producer).value();
  }

  void flush_produced() {
    const pipeline::Status flushed = producer_->flush(std::chrono::seconds(30));
    ASSERT_TRUE(flushed.is_ok()) << flushed.to_string();
  }

  // The quickstart configuration reading Kafka, checkpointing every second to the changelog.
  fs::path write_config(const std::string& name, int idle_timeout_seconds) {
    nlohmann::json config =
        nlohmann::json::parse(read_file(source_ / "quickstart" / "alarms.json"));
    nlohmann::json& tw = config["trailwatch"];
    // Metadata refreshed every second: the mock moves a partition's leader without telling the
    // clients (a real broker answers NOT_LEADER and they refresh at once).
    tw["kafka"] = {{"bootstrap.servers", cluster_->bootstraps()},
                   {"session.timeout.ms", "6000"},
                   {"heartbeat.interval.ms", "500"},
                   {"topic.metadata.refresh.interval.ms", "1000"}};
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
    tw["outputs"] = {{"emissions", "kafka:alarm-events"}};
    tw["state"] = {{"checkpoint_interval_seconds", 1}};
    tw["http_listen"] = "127.0.0.1:0";
    tw["idle_timeout_seconds"] = idle_timeout_seconds;
    tw["shards"] = 2;
    fs::path path = dir_ / name;
    std::ofstream(path) << config.dump(2);
    return path;
  }

  // As write_config, with the workers of the group sharing three tasks.
  fs::path write_scale_out_config(const std::string& name, int idle_timeout_seconds) {
    const fs::path path = write_config(name, idle_timeout_seconds);
    nlohmann::json config = nlohmann::json::parse(read_file(path));
    config["trailwatch"]["state"] = {
        {"checkpoint_interval_seconds", 1}, {"topic", "trailwatch-tasks"}, {"scale_out", true}};
    config["trailwatch"]["shards"] = 1;
    // A task without a checkpoint starts at the end of the input: only a restored checkpoint
    // brings a task back to where its previous owner was, so a lost state shows as lost events.
    config["trailwatch"]["kafka"]["auto.offset.reset"] = "latest";
    std::ofstream(path) << config.dump(2);
    return path;
  }

  // The tasks a scale-out worker runs now (its log's latest "running task(s) [...]").
  static std::set<int> running_tasks(const fs::path& log) {
    const std::string text = read_file(log);
    const std::string marker = "running task(s) [";
    const size_t at = text.rfind(marker);
    std::set<int> tasks;
    if (at == std::string::npos) {
      return tasks;
    }
    std::stringstream list(
        text.substr(at + marker.size(), text.find(']', at) - at - marker.size()));
    for (std::string item; std::getline(list, item, ',');) {
      tasks.insert(std::stoi(item));
    }
    return tasks;
  }

  // The alarm names a worker's /api/v1/alarms lists.
  static std::set<std::string> served_alarms(const Worker& worker) {
    const nlohmann::json alarms = nlohmann::json::parse(
        http_get("http://127.0.0.1:" + std::to_string(worker.http_port()) + "/api/v1/alarms").body,
        nullptr, false);
    std::set<std::string> names;
    if (alarms.is_discarded()) {
      return names;
    }
    for (const char* kind : {"MetricAlarms", "CompositeAlarms"}) {
      for (const nlohmann::json& a : alarms.value(kind, nlohmann::json::array())) {
        names.insert(a.value("AlarmName", ""));
      }
    }
    return names;
  }

  // Waits until every worker has read everything produced so far (no consumer lag on either
  // input: every task reads every partition) and then made its state durable: a checkpoint, or
  // the finding that the last one is still current (the checkpoint age restarts either way).
  [[nodiscard]] static ::testing::AssertionResult group_caught_up_and_checkpointed(
      const std::vector<const Worker*>& workers) {
    const auto deadline = Clock::now() + std::chrono::seconds(150);
    std::vector<std::optional<Clock::time_point>> caught_up_at(workers.size());
    std::string last;
    while (Clock::now() < deadline) {
      bool done = true;
      for (size_t i = 0; i < workers.size(); ++i) {
        const auto scraped_at = Clock::now();
        const std::string m = scrape(*workers[i]);
        last = m;
        const bool caught_up =
            metric_value(m, R"(trailwatch_consumer_lag_records{input="metric-stream"})") == 0 &&
            metric_value(m, R"(trailwatch_consumer_lag_records{input="checkout-logs"})") == 0;
        if (!caught_up) {
          caught_up_at[i].reset();
          done = false;
          continue;
        }
        if (!caught_up_at[i]) {
          caught_up_at[i] = scraped_at;
        }
        const double age = metric_value(m, "trailwatch_checkpoint_age_seconds");
        const double since = std::chrono::duration<double>(scraped_at - *caught_up_at[i]).count();
        // A fetch may not have told the worker about the newest records at once: a second.
        done = done && since > 1.0 && age >= 0 && age < since - 1.0;
      }
      if (done) {
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ::testing::AssertionFailure() << "the group did not catch up and checkpoint; last "
                                            "scrape:\n"
                                         << last;
  }

  static std::string scrape(const Worker& worker) {
    return http_get("http://127.0.0.1:" + std::to_string(worker.http_port()) + "/metrics").body;
  }

  // Waits until `worker` has read everything produced so far and then completed a checkpoint.
  [[nodiscard]] ::testing::AssertionResult caught_up_and_checkpointed(const Worker& worker,
                                                                      size_t read_before,
                                                                      const fs::path& log) const {
    // Generous: under the sanitizers the worker is several times slower.
    const auto deadline = Clock::now() + std::chrono::seconds(150);
    double checkpoints_when_caught_up = -1;
    while (Clock::now() < deadline) {
      if (worker.http_port() > 0) {
        const std::string m = scrape(worker);
        const double metrics =
            metric_value(m, R"(trailwatch_records_total{input="metric-stream"})");
        const double logs = metric_value(m, R"(trailwatch_records_total{input="checkout-logs"})");
        const double ok = metric_value(m, R"(trailwatch_checkpoints_total{result="ok"})");
        const bool caught_up =
            metrics + logs == static_cast<double>(produced_metrics_ + produced_logs_ - read_before);
        if (caught_up && checkpoints_when_caught_up < 0) {
          checkpoints_when_caught_up = std::max(0.0, ok);
        }
        if (caught_up && ok > checkpoints_when_caught_up) {
          return ::testing::AssertionSuccess();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ::testing::AssertionFailure() << "the worker did not catch up and checkpoint; log:\n"
                                         << read_file(log);
  }

  // Every event on the output topic; checks that copies with one id are identical and returns
  // the first copy of each, in order.
  std::vector<std::string> distinct_events() {
    auto records = connectors::read_partition({{"bootstrap.servers", cluster_->bootstraps()}},
                                              "alarm-events", 0, std::chrono::seconds(30));
    EXPECT_TRUE(records.is_ok()) << records.status().message();
    std::vector<std::string> distinct;
    std::map<std::string, std::string> by_id;
    const std::regex id_pattern(R"re("id":"([0-9a-f-]+)")re");
    duplicates_ = 0;
    for (const connectors::KafkaRecord& r : records.value()) {
      std::smatch match;
      EXPECT_TRUE(std::regex_search(r.value, match, id_pattern)) << r.value;
      const auto [it, inserted] = by_id.emplace(match[1].str(), r.value);
      if (inserted) {
        distinct.push_back(r.value);
      } else {
        ++duplicates_;
        EXPECT_EQ(r.value, it->second) << "two outcomes for one transition id";
      }
    }
    std::ofstream out(dir_ / "distinct-events.jsonl");  // Kept with the logs on failure.
    for (const std::string& e : distinct) {
      out << e << "\n";
    }
    return distinct;
  }

  const fs::path source_ = fs::path(TW_SOURCE_DIR);
  fs::path dir_;
  std::unique_ptr<connectors::MockKafkaCluster> cluster_;
  std::unique_ptr<connectors::KafkaProducer> producer_;
  std::vector<std::string> metrics_;
  std::vector<std::string> logs_;
  std::vector<std::string> expected_;
  size_t produced_metrics_ = 0;
  size_t produced_logs_ = 0;
  size_t duplicates_ = 0;
  std::map<std::string, int32_t> partition_of_;
};

TEST_F(LiveRecovery, KillNineMidStreamAndRestartLosesNoTransition) {
  // Worker A never goes idle (its watermark follows the data only), so the parts arriving later
  // are not late.
  const fs::path config_a = write_config("a.json", 3600);
  produce_part(0);
  flush_produced();
  auto a = std::make_unique<Worker>(config_a, dir_ / "a.log");
  ASSERT_TRUE(a->started());
  ASSERT_TRUE(caught_up_and_checkpointed(*a, 0, dir_ / "a.log"));
  // Part 2 is read, and A is killed at once: what it read after its last checkpoint is not in
  // the changelog, and its events may or may not have been delivered.
  produce_part(1);
  flush_produced();
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline &&
         metric_value(scrape(*a), R"(trailwatch_records_total{input="metric-stream"})") <
             static_cast<double>(produced_metrics_)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  a->signal(SIGKILL);
  EXPECT_EQ(a->wait(std::chrono::seconds(10)), -1);  // Killed, not exited.
  a.reset();

  // Worker B restores A's last checkpoint, reads from its offsets to the end, and finishes.
  produce_part(2);
  flush_produced();
  Worker b(write_config("b.json", 2), dir_ / "b.log", {"--until-idle"});
  ASSERT_TRUE(b.started());
  EXPECT_EQ(b.wait(std::chrono::seconds(90)), 0) << read_file(dir_ / "b.log");
  const std::string b_log = read_file(dir_ / "b.log");
  EXPECT_NE(b_log.find("state restored from kafka:trailwatch-state[0] key tw-metrics"),
            std::string::npos)
      << b_log;
  EXPECT_NE(b_log.find("4 partition offset(s)"), std::string::npos) << b_log;

  EXPECT_EQ(first_difference(distinct_events(), expected_), "");
}

TEST_F(LiveRecovery, BrokerOutageThenStopAndRestartLosesNoTransition) {
  // Broker 2 leads the changelog and one metrics partition: the outage hits reading and
  // checkpointing.
  ASSERT_TRUE(cluster_->set_partition_leader("trailwatch-state", 0, 2).is_ok());
  ASSERT_TRUE(cluster_->set_partition_leader("metrics", 0, 1).is_ok());
  ASSERT_TRUE(cluster_->set_partition_leader("metrics", 1, 2).is_ok());
  ASSERT_TRUE(cluster_->set_partition_leader("metrics", 2, 3).is_ok());
  ASSERT_TRUE(cluster_->set_partition_leader("checkout-logs", 0, 1).is_ok());
  ASSERT_TRUE(cluster_->set_partition_leader("alarm-events", 0, 1).is_ok());
  const fs::path config_a = write_config("a.json", 3600);
  produce_part(0);
  flush_produced();
  Worker a(config_a, dir_ / "a.log");
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(caught_up_and_checkpointed(a, 0, dir_ / "a.log"));

  // Broker 2 goes down with part 2 just arrived, and — as a real cluster's controller would —
  // leadership of its partitions moves to broker 3 (the mock does not elect leaders itself).
  // The worker must follow: fetch partition 1 and write checkpoints to the changelog through
  // the new leader, and keep serving meanwhile.
  produce_part(1);
  flush_produced();
  ASSERT_TRUE(cluster_->set_broker_down(2).is_ok());
  const std::string base = "http://127.0.0.1:" + std::to_string(a.http_port());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(http_get(base + "/healthz").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(cluster_->set_partition_leader("metrics", 1, 3).is_ok());
  ASSERT_TRUE(cluster_->set_partition_leader("trailwatch-state", 0, 3).is_ok());
  ASSERT_TRUE(caught_up_and_checkpointed(a, 0, dir_ / "a.log"));
  // The broker comes back (as a follower) and the last part arrives.
  ASSERT_TRUE(cluster_->set_broker_up(2).is_ok());
  new_producer();
  produce_part(2);
  flush_produced();
  ASSERT_TRUE(caught_up_and_checkpointed(a, 0, dir_ / "a.log"));
  // A clean stop: a last checkpoint, offsets committed, the group left.
  EXPECT_EQ(a.terminate(std::chrono::seconds(60)), 0) << read_file(dir_ / "a.log");

  // A worker started again serves the restored alarm states at once, before any transition.
  {
    Worker again(config_a, dir_ / "again.log");
    ASSERT_TRUE(again.started());
    ASSERT_TRUE(again.log_shows("state restored from", std::chrono::seconds(60)))
        << read_file(dir_ / "again.log");
    const std::string alarms = http_get("http://127.0.0.1:" + std::to_string(again.http_port()) +
                                        "/api/v1/alarms?prefix=web-2")
                                   .body;
    EXPECT_NE(alarms.find(R"("StateValue":"OK")"), std::string::npos) << alarms;
    EXPECT_NE(alarms.find(R"("StateUpdatedTimestamp":"2026-03-02T11:46:00.000+0000")"),
              std::string::npos)
        << alarms;
    EXPECT_EQ(again.terminate(std::chrono::seconds(60)), 0) << read_file(dir_ / "again.log");
  }

  Worker b(write_config("b.json", 2), dir_ / "b.log", {"--until-idle"});
  ASSERT_TRUE(b.started());
  EXPECT_EQ(b.wait(std::chrono::seconds(90)), 0) << read_file(dir_ / "b.log");
  EXPECT_NE(read_file(dir_ / "b.log").find("state restored from"), std::string::npos);
  // B had nothing left to read: it evaluated the rest from the restored state alone.
  EXPECT_EQ(first_difference(distinct_events(), expected_), "");
}

TEST_F(LiveRecovery, TwoScaleOutWorkersShareTheTasksAndOneTakesOverTheOthersState) {
  // Watermarks follow the data only (no idle floor), so the parts arriving later are not late.
  const fs::path config = write_scale_out_config("scale-out.json", 3600);
  Worker a(config, dir_ / "a.log");
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(a.log_shows("running task(s) [0,1,2]", std::chrono::seconds(60)))
      << read_file(dir_ / "a.log");
  produce_part(0);
  flush_produced();
  ASSERT_TRUE(group_caught_up_and_checkpointed({&a}));
  auto b = std::make_unique<Worker>(config, dir_ / "b.log");
  ASSERT_TRUE(b->started());
  // B is not ready until the group has given it tasks and it has restored them (the join alone
  // takes seconds on the mock); then it is.
  {
    std::vector<std::string> answers;
    const auto until = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < until && (answers.empty() || answers.back() != "200 ready\n")) {
      if (b->http_port() > 0) {
        const HttpReply r =
            http_get("http://127.0.0.1:" + std::to_string(b->http_port()) + "/readyz");
        answers.push_back(std::to_string(r.status) + " " + r.body);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_FALSE(answers.empty());
    EXPECT_EQ(answers.front().substr(0, 14), "503 not ready:") << answers.front();
    EXPECT_EQ(answers.back(), "200 ready\n");
  }
  // The group splits the three tasks between the two workers.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::set<int> on_a;
  std::set<int> on_b;
  while (Clock::now() < deadline) {
    on_a = running_tasks(dir_ / "a.log");
    on_b = running_tasks(dir_ / "b.log");
    if (!on_a.empty() && !on_b.empty() && on_a.size() + on_b.size() == 3) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(on_a.empty()) << read_file(dir_ / "a.log");
  ASSERT_FALSE(on_b.empty()) << read_file(dir_ / "b.log");
  std::set<int> all = on_a;
  all.insert(on_b.begin(), on_b.end());
  ASSERT_EQ(all, (std::set<int>{0, 1, 2}));
  ASSERT_TRUE(group_caught_up_and_checkpointed({&a, b.get()}))
      << read_file(dir_ / "a.log") << read_file(dir_ / "b.log");
  // Each worker serves the alarms of its own tasks, and together they serve all of them.
  const std::set<std::string> served_a = served_alarms(a);
  const std::set<std::string> served_b = served_alarms(*b);
  for (const std::string& name : served_a) {
    EXPECT_FALSE(served_b.contains(name)) << name << " is served by both workers";
  }
  EXPECT_FALSE(served_a.empty());
  EXPECT_FALSE(served_b.empty());
  EXPECT_EQ(served_a.size() + served_b.size(), 7U);  // The quickstart's 6 metric + 1 composite.

  // A reload (the file rewritten unchanged) keeps every task's alarms and their state.
  {
    const std::string text = read_file(config);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // A new modification time.
    std::ofstream(config) << text;
  }
  EXPECT_TRUE(a.log_shows("configuration reloaded", std::chrono::seconds(30)))
      << read_file(dir_ / "a.log");
  EXPECT_TRUE(b->log_shows("configuration reloaded", std::chrono::seconds(30)))
      << read_file(dir_ / "b.log");
  EXPECT_EQ(served_alarms(a), served_a);
  EXPECT_EQ(served_alarms(*b), served_b);

  // Part 2 arrives and B is killed once the group has read it: A must take B's tasks over, from
  // their checkpoints in B's changelog partitions.
  produce_part(1);
  flush_produced();
  ASSERT_TRUE(group_caught_up_and_checkpointed({&a, b.get()}));
  b->signal(SIGKILL);
  EXPECT_EQ(b->wait(std::chrono::seconds(10)), -1);
  b.reset();
  produce_part(2);
  flush_produced();
  const auto takeover = Clock::now() + std::chrono::seconds(90);
  while (Clock::now() < takeover && running_tasks(dir_ / "a.log").size() < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(running_tasks(dir_ / "a.log"), (std::set<int>{0, 1, 2})) << read_file(dir_ / "a.log");
  for (const int task : on_b) {
    EXPECT_NE(read_file(dir_ / "a.log")
                  .find("state restored from kafka:trailwatch-tasks[" + std::to_string(task) +
                        "] key tw-metrics"),
              std::string::npos)
        << read_file(dir_ / "a.log");
  }
  ASSERT_TRUE(group_caught_up_and_checkpointed({&a}));
  EXPECT_EQ(served_alarms(a).size(), 7U);
  EXPECT_EQ(a.terminate(std::chrono::seconds(60)), 0) << read_file(dir_ / "a.log");

  // A last worker restores all three tasks and evaluates to the end of the input, as replay does.
  Worker c(write_scale_out_config("c.json", 2), dir_ / "c.log", {"--until-idle"});
  ASSERT_TRUE(c.started());
  EXPECT_EQ(c.wait(std::chrono::seconds(120)), 0) << read_file(dir_ / "c.log");
  // Tasks write concurrently: each alarm's events keep their order (one key, one partition), the
  // interleaving of different alarms' events is free.
  const std::map<std::string, std::vector<std::string>> actual = by_alarm(distinct_events());
  const std::map<std::string, std::vector<std::string>> expected = by_alarm(expected_);
  EXPECT_EQ(actual.size(), expected.size());
  for (const auto& [alarm, events] : expected) {
    const auto it = actual.find(alarm);
    ASSERT_NE(it, actual.end()) << "no events of " << alarm;
    EXPECT_EQ(first_difference(it->second, events), "") << alarm;
  }
}

}  // namespace
}  // namespace tw::testing
