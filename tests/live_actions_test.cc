// Actions end to end: the `trailwatch run` binary delivers the actions of its alarms to real
// receivers on loopback — a webhook receiver in this process and Debian's prometheus-alertmanager
// — and what it delivers is exactly what `trailwatch replay` says became due, key for key. A
// worker killed with deliveries pending delivers them after its restart.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "connectors/crypto.h"
#include "connectors/sigv4.h"
#include "connectors/test_http_receiver.h"
#include "tests/child_process.h"
#include "tests/http_test_client.h"
#include "tests/live_test_util.h"
#include "tests/replay_test_util.h"

namespace tw {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ScriptedReply;
using testing::TestHttpReceiver;

constexpr const char* kAlertmanagerBinary = "/usr/bin/prometheus-alertmanager";
constexpr std::string_view kSecret = "s3cret-for-tests";

// The actions case of the golden replay suite: CPU on one instance goes high, low, high, low.
const fs::path kInput = fs::path(TW_SOURCE_DIR) / "tests/replay/actions/input.jsonl";

std::string alarms_json(const std::string& target) {
  const std::string actions = "[\"" + target + "\"]";
  return R"j("MetricAlarms": [
    {"AlarmName": "cpu-high", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
     "Dimensions": [{"Name": "InstanceId", "Value": "i-0abc"}], "Statistic": "Average",
     "Period": 60, "EvaluationPeriods": 2, "Threshold": 80,
     "ComparisonOperator": "GreaterThanThreshold",
     "AlarmDescription": "CPU above 80% for two minutes",
     "Tags": [{"Key": "team", "Value": "web"}],
     "AlarmActions": )j" +
         actions + R"(, "OKActions": )" + actions + R"j(},
    {"AlarmName": "cpu-low", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
     "Dimensions": [{"Name": "InstanceId", "Value": "i-0abc"}], "Statistic": "Average",
     "Period": 60, "EvaluationPeriods": 3, "Threshold": 20,
     "ComparisonOperator": "LessThanThreshold", "AlarmActions": )j" +
         actions + R"j(}],
  "CompositeAlarms": [
    {"AlarmName": "service-degraded", "AlarmRule": "ALARM(\"cpu-high\")",
     "AlarmActions": )j" +
         actions + R"(, "OKActions": )" + actions + "}]";
}

class LiveActions : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() / "secret") << kSecret << "\n";
    fs::copy_file(kInput, dir_.path() / "input.jsonl");
  }

  // A configuration with one target, `target_json`, named `target`, over the copied input.
  fs::path write_config(const std::string& name, const std::string& target,
                        const std::string& target_json) const {
    const fs::path dir = dir_.path();
    const std::string text = R"({"trailwatch": {
      "account_id": "123456789012", "region": "eu-west-1", "metric_lateness_seconds": 60,
      "inputs": [{"name": "metrics", "type": "file", "path": ")" +
                             (dir / "input.jsonl").string() + R"("}],
      "outputs": {"emissions": ")" +
                             (dir / "events.jsonl").string() + R"(", "dead_letters": ")" +
                             (dir / "dead.jsonl").string() + R"(", "actions": ")" +
                             (dir / "actions.jsonl").string() + R"("},
      "http_listen": "127.0.0.1:0",
      "state": {"store": "directory", "directory": ")" +
                             (dir / "state").string() + R"(", "checkpoint_interval_seconds": 1},
      "actions": {"targets": {)" +
                             (target_json.empty() ? "" : "\"" + target + "\": " + target_json) +
                             "}}},\n" + alarms_json(target) + "}";
    const fs::path path = dir / name;
    std::ofstream(path) << text;
    return path;
  }

  // What replay says becomes due for `config`: action key → the events line of its transition.
  std::map<std::string, std::string> expected_actions(const fs::path& config) const {
    const testing::ReplayRun run =
        testing::run_replay(dir_.path() / "replay", config.string(),
                            {(dir_.path() / "input.jsonl").string()}, {"--quiet"});
    EXPECT_EQ(run.exit_code, 0) << run.stderr_text;
    std::map<std::string, std::string> out;
    std::istringstream lines(run.actions);
    for (std::string line; std::getline(lines, line);) {
      const nlohmann::json action = nlohmann::json::parse(line);
      out[action["key"].get<std::string>()] = action["alarmName"].get<std::string>();
    }
    return out;
  }

  testing::TempDir dir_;
};

// A webhook target posting `format` to `url`, signing with the secret in `secret_file` (none when
// empty), with quick retries.
std::string webhook_target(const std::string& url, const std::string& format,
                           const fs::path& secret_file, int max_attempts) {
  return R"({"type": "webhook", "url": ")" + url + R"(", "format": ")" + format + "\"" +
         (secret_file.empty() ? std::string()
                              : R"(, "secret": "${file:)" + secret_file.string() + "}\"") +
         R"(, "delivery": {"max_attempts": )" + std::to_string(max_attempts) +
         R"(, "initial_backoff_ms": 50, "max_backoff_ms": 200, "timeout_ms": 1000}})";
}

TEST_F(LiveActions, DeliversWhatReplaySaysBecameDueSignedAndKeyed) {
  TestHttpReceiver receiver;
  ASSERT_TRUE(receiver.start());
  const fs::path config =
      write_config("run.json", "hook",
                   webhook_target(receiver.url("/hook"), "eventbridge", dir_.path() / "secret", 5));
  const std::map<std::string, std::string> expected = expected_actions(config);
  ASSERT_GE(expected.size(), 5U);

  testing::Worker worker(config, dir_.path() / "worker.log");
  ASSERT_TRUE(worker.started());
  ASSERT_EQ(worker.wait(60s), 0) << testing::read_file(dir_.path() / "worker.log");

  // Every action once, with its key; the body is the transition's EventBridge event as the
  // events output has it; the signature verifies with the shared secret.
  const std::vector<testing::ReceivedRequest> requests = receiver.requests();
  std::set<std::string> events;
  {
    std::ifstream in(dir_.path() / "events.jsonl");
    for (std::string line; std::getline(in, line);) {
      events.insert(line);
    }
  }
  std::map<std::string, int> delivered;
  for (const testing::ReceivedRequest& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hook");
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    ++delivered[r.header("Idempotency-Key")];
    EXPECT_TRUE(events.contains(r.body)) << r.body;
    const std::string timestamp = r.header("X-Trailwatch-Timestamp");
    EXPECT_EQ(r.header("X-Trailwatch-Signature"),
              "v1=" + connectors::hex_lower(
                          connectors::hmac_sha256(std::string(kSecret), timestamp + "." + r.body)));
  }
  std::map<std::string, int> want;
  for (const auto& [key, alarm] : expected) {
    want[key] = 1;
  }
  EXPECT_EQ(delivered, want);
  // The actions output lists the same actions, in replay's bytes.
  EXPECT_EQ(testing::read_file(dir_.path() / "actions.jsonl"),
            testing::read_file(dir_.path() / "replay" / "actions.jsonl"));
}

TEST_F(LiveActions, AKilledWorkerDeliversItsPendingActionsAfterRestart) {
  // The receiver is down for the whole first run: every action stays pending.
  const int port = testing::free_loopback_port();
  ASSERT_GT(port, 0);
  const fs::path config = write_config(
      "run.json", "hook",
      webhook_target("http://127.0.0.1:" + std::to_string(port) + "/hook", "slack", {}, 20));
  const std::map<std::string, std::string> expected = expected_actions(config);
  ASSERT_GE(expected.size(), 5U);

  {
    testing::Worker first(config, dir_.path() / "first.log");
    ASSERT_TRUE(first.started());
    // It prints this after its last checkpoint, while it waits for the dead receiver.
    ASSERT_TRUE(first.log_shows("pending action(s)", 60s))
        << testing::read_file(dir_.path() / "first.log");
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(10s), -1);  // Killed, not exited.
  }

  TestHttpReceiver receiver;
  ASSERT_TRUE(receiver.start(port));
  testing::Worker second(config, dir_.path() / "second.log");
  ASSERT_TRUE(second.started());
  ASSERT_EQ(second.wait(60s), 0) << testing::read_file(dir_.path() / "second.log");
  // The checkpoint carried the actions the dead receiver never got.
  const std::string log = testing::read_file(dir_.path() / "second.log");
  const std::string marker = " pending action(s) restored";
  const size_t at = log.find(marker);
  ASSERT_NE(at, std::string::npos) << log;
  const size_t start = log.rfind(' ', at - 1) + 1;
  EXPECT_GE(std::stoi(log.substr(start, at - start)), 1) << log;

  std::map<std::string, int> delivered;
  for (const testing::ReceivedRequest& r : receiver.requests()) {
    ++delivered[r.header("Idempotency-Key")];
  }
  for (const auto& [key, alarm] : expected) {
    EXPECT_GE(delivered[key], 1) << "never delivered: " << key << " (" << alarm << ")";
    EXPECT_LE(delivered[key], 2) << "delivered more often than at least once allows: " << key;
  }
  for (const auto& [key, count] : delivered) {
    EXPECT_TRUE(expected.contains(key)) << "an action replay does not know: " << key;
  }
}

TEST_F(LiveActions, RebootsTheAlarmsInstanceThroughASignedEc2CallWithEnvironmentCredentials) {
  // The alarms name CloudWatch's EC2 action ARN; no target is configured: the built-in EC2
  // connector acts on the InstanceId dimension, with credentials and endpoint from the
  // environment, as in a pod.
  TestHttpReceiver ec2;
  ec2.set_script([](const testing::ReceivedRequest&, size_t) {
    return ScriptedReply::ok(
        R"(<RebootInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
        "<requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId><return>true</return>"
        "</RebootInstancesResponse>",
        "text/xml");
  });
  ASSERT_TRUE(ec2.start());
  // NOLINTBEGIN(concurrency-mt-unsafe): set before the worker is spawned; nothing else runs.
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
  ::setenv("AWS_SESSION_TOKEN", "SESSIONTOKENEXAMPLE", 1);
  ::setenv("AWS_ENDPOINT_URL_EC2", ec2.url("").c_str(), 1);
  const std::string action = "arn:aws:automate:eu-west-1:ec2:reboot";
  const fs::path config = write_config("run.json", action, "");
  testing::Worker worker(config, dir_.path() / "worker.log");
  const int exit_code = worker.wait(60s);
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           "AWS_ENDPOINT_URL_EC2"}) {
    ::unsetenv(name);
  }
  // NOLINTEND(concurrency-mt-unsafe)
  ASSERT_EQ(exit_code, 0) << testing::read_file(dir_.path() / "worker.log");

  const std::map<std::string, std::string> expected = expected_actions(config);
  std::set<std::string> metric_alarm_keys;
  for (const auto& [key, alarm] : expected) {
    if (alarm != "service-degraded") {  // A composite has no InstanceId to act on.
      metric_alarm_keys.insert(key);
    }
  }
  std::set<std::string> delivered;
  for (const testing::ReceivedRequest& r : ec2.requests()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/");
    EXPECT_EQ(r.body, "Action=RebootInstances&Version=2016-11-15&InstanceId.1=i-0abc");
    EXPECT_EQ(r.header("X-Amz-Security-Token"), "SESSIONTOKENEXAMPLE");
    // The server's check: recompute the signature from the request as received.
    connectors::SigV4Request received{r.method,
                                      "/",
                                      "",
                                      {{"Content-Type", r.header("Content-Type")},
                                       {"Host", r.header("Host")},
                                       {"X-Amz-Date", r.header("X-Amz-Date")},
                                       {"X-Amz-Security-Token", r.header("X-Amz-Security-Token")}},
                                      r.body};
    const auto signature = connectors::sign(
        received,
        {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKENEXAMPLE", {}},
        "eu-west-1", "ec2", r.header("X-Amz-Date"));
    ASSERT_TRUE(signature.is_ok()) << signature.status().to_string();
    EXPECT_EQ(r.header("Authorization"), signature.value().authorization);
    EXPECT_NE(r.header("Authorization").find("/eu-west-1/ec2/aws4_request"), std::string::npos);
    delivered.insert(r.header("Idempotency-Key"));
  }
  EXPECT_EQ(delivered, metric_alarm_keys) << testing::read_file(dir_.path() / "worker.log");
  // The composite's actions could not run: dead-lettered with the reason.
  const std::string dead = testing::read_file(dir_.path() / "dead.jsonl");
  EXPECT_NE(dead.find(R"("reason":"rejected")"), std::string::npos) << dead;
  EXPECT_NE(dead.find("no InstanceId dimension"), std::string::npos) << dead;
}

/// Debian's Alertmanager on loopback, with a route that notifies nobody.
class Alertmanager {
 public:
  explicit Alertmanager(const fs::path& dir) : port_(testing::free_loopback_port()) {
    std::ofstream(dir / "alertmanager.yml") << "route:\n  receiver: nobody\n"
                                            << "  group_wait: 1s\n  group_interval: 1s\n"
                                            << "receivers:\n- name: nobody\n";
    error_ = process_.start(
        {kAlertmanagerBinary, "--config.file=" + (dir / "alertmanager.yml").string(),
         "--storage.path=" + (dir / "am-data").string(),
         "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--cluster.listen-address="},
        dir / "alertmanager.log");
  }

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  [[nodiscard]] const std::string& error() const { return error_; }

  [[nodiscard]] std::string log() const { return process_.log_tail(); }

  bool wait_ready() {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline && process_.alive()) {
      if (testing::http_get(url() + "/-/ready").status == 200) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // The active alerts named `alertname`, as Alertmanager's API v2 lists them.
  nlohmann::json active(const std::string& alertname) const {
    const auto reply = testing::http_get(
        url() + "/api/v2/alerts?active=true&filter=alertname%3D%22" + alertname + "%22");
    return nlohmann::json::parse(reply.body, nullptr, false);
  }

 private:
  int port_;
  testing::ChildProcess process_;
  std::string error_;
};

TEST_F(LiveActions, AlertmanagerSeesTheAlertFiringThenResolved) {
  if (!fs::exists(kAlertmanagerBinary)) {
    GTEST_SKIP() << kAlertmanagerBinary << " is not installed (scripts/install-deps.sh)";
  }
  Alertmanager alertmanager(dir_.path());
  ASSERT_TRUE(alertmanager.error().empty()) << alertmanager.error();
  ASSERT_TRUE(alertmanager.wait_ready()) << alertmanager.log();

  // First run: the first 12 minutes, where CPU goes high and cpu-high enters ALARM.
  const std::string all = testing::read_file(dir_.path() / "input.jsonl");
  std::vector<std::string> lines;
  std::istringstream split(all);
  for (std::string line; std::getline(split, line);) {
    lines.push_back(line);
  }
  {
    std::ofstream out(dir_.path() / "input.jsonl", std::ios::trunc);
    for (size_t i = 0; i < 36; ++i) {  // Minutes 0–11 (two cpu and one maintenance per minute).
      out << lines[i] << "\n";
    }
  }
  const fs::path config = write_config(
      "run.json", "am",
      R"({"type": "alertmanager", "url": ")" + alertmanager.url() +
          R"(", "resend_interval_seconds": 5, "generator_url": "https://trailwatch.example/alarms"})");
  {
    testing::Worker first(config, dir_.path() / "first.log");
    ASSERT_EQ(first.wait(60s), 0) << testing::read_file(dir_.path() / "first.log");
  }
  const nlohmann::json firing = alertmanager.active("cpu-high");
  ASSERT_TRUE(firing.is_array() && firing.size() == 1) << firing.dump() << alertmanager.log();
  EXPECT_EQ(firing[0]["labels"]["alertname"], "cpu-high");
  EXPECT_EQ(firing[0]["labels"]["InstanceId"], "i-0abc");
  EXPECT_EQ(firing[0]["labels"]["team"], "web");
  EXPECT_EQ(firing[0]["labels"]["region"], "eu-west-1");
  EXPECT_EQ(firing[0]["annotations"]["description"], "CPU above 80% for two minutes");
  EXPECT_EQ(firing[0]["status"]["state"], "active");
  EXPECT_EQ(firing[0]["generatorURL"], "https://trailwatch.example/alarms");

  // Second run, from the checkpoint: the rest of the input brings cpu-high back to OK.
  {
    std::ofstream out(dir_.path() / "input.jsonl", std::ios::app);
    for (size_t i = 36; i < lines.size(); ++i) {
      out << lines[i] << "\n";
    }
  }
  {
    testing::Worker second(config, dir_.path() / "second.log");
    ASSERT_EQ(second.wait(60s), 0) << testing::read_file(dir_.path() / "second.log");
  }
  // cpu-high went OK, ALARM and OK again: the last word is resolved, and a resolved alert is no
  // longer listed as active.
  const nlohmann::json after = alertmanager.active("cpu-high");
  ASSERT_TRUE(after.is_array()) << after.dump();
  EXPECT_TRUE(after.empty()) << after.dump() << alertmanager.log();
  // Its state in the events output agrees.
  EXPECT_NE(testing::read_file(dir_.path() / "events.jsonl").find("cpu-high"), std::string::npos);
}

}  // namespace
}  // namespace tw
