// The real `trailwatch` binary on hostile input: whatever the bytes, `validate` prints problems
// and exits 1, `replay` dead-letters and keeps going. Each run has a time limit, so a hang fails
// the test instead of blocking the suite.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CliRun run(const std::string& args) {
  const std::string command = "timeout 120 " TW_BINARY_DIR "/app/trailwatch " + args + " 2>&1";
  CliRun result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  // validate on `content` fails cleanly with exactly one problem line naming the file.
  void expect_one_problem(const std::string& content, const std::string& fragment) {
    const std::string path = write("config.json", content);
    const CliRun r = run("validate --config " + path);
    EXPECT_EQ(r.exit_code, 1) << r.output.substr(0, 500);
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output.substr(0, 500);
    EXPECT_EQ(r.output.rfind(path + ": ", 0), 0U) << r.output.substr(0, 500);
    EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output.substr(0, 500);
  }

  fs::path dir_;
};

TEST_F(CliTest, ValidateRejectsEmptyFile) {
  expect_one_problem("", "empty");
}

TEST_F(CliTest, ValidateRejectsTextThatIsNotJson) {
  expect_one_problem("MetricAlarms: [cpu]\n", "invalid JSON");
}

TEST_F(CliTest, ValidateRejectsTruncatedJson) {
  expect_one_problem(R"({"MetricAlarms":[{"AlarmName":"cpu","Period":6)", "invalid JSON");
}

TEST_F(CliTest, ValidateRejectsHundredThousandLevelsOfNesting) {
  expect_one_problem(std::string(100'000, '[') + std::string(100'000, ']'), "deeper");
}

TEST_F(CliTest, ValidateRejectsInvalidUtf8) {
  expect_one_problem("{\"MetricAlarms\":[{\"AlarmName\":\"cpu\xff\xfe\"}]}", "UTF-8");
}

TEST_F(CliTest, ValidateRejectsHundredMegabyteFile) {
  std::string big = R"({"MetricAlarms":[],"x":")";
  big.append(100 << 20, 'a');
  big += "\"}";
  expect_one_problem(big, "MiB");
}

TEST_F(CliTest, ValidateAcceptsTheQuickstart) {
  const CliRun r = run("validate --config " TW_SOURCE_DIR "/quickstart/alarms.json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("valid: 6 metric alarms (1 metric math), 1 composite alarm"),
            std::string::npos)
      << r.output;
}

TEST_F(CliTest, ValidateRejectsSearchExpressionsInAlarms) {
  const std::string config = write("alarms.json", R"json({"MetricAlarms":[{
    "AlarmName":"search","EvaluationPeriods":1,"Threshold":1,
    "ComparisonOperator":"GreaterThanThreshold",
    "Metrics":[{"Id":"s","Period":60,"ReturnData":true,
                "Expression":"SEARCH('{AWS/EC2,InstanceId} CPUUtilization', 'Average', 60)"}]}]})json");
  const CliRun r = run("validate --config " + config);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("/MetricAlarms/0/Metrics/0/Expression: SEARCH expressions cannot be "
                          "used in alarms"),
            std::string::npos)
      << r.output;
}

TEST_F(CliTest, ValidateRejectsMetricMathThatReturnsAScalar) {
  const std::string config = write("alarms.json", R"json({"MetricAlarms":[{
    "AlarmName":"scalar","EvaluationPeriods":1,"Threshold":1,
    "ComparisonOperator":"GreaterThanThreshold",
    "Metrics":[{"Id":"m","ReturnData":false,
                "MetricStat":{"Metric":{"Namespace":"N","MetricName":"M"},"Period":60,"Stat":"Sum"}},
               {"Id":"e","Expression":"AVG(m)","ReturnData":true}]}]})json");
  const CliRun r = run("validate --config " + config);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("/MetricAlarms/0/Metrics/1/Expression: the expression must return a "
                          "single time series; it returns a scalar"),
            std::string::npos)
      << r.output;
}

TEST_F(CliTest, ValidateReportsCompositeCycles) {
  const std::string config = write("alarms.json", R"json({"CompositeAlarms":[
    {"AlarmName":"a","AlarmRule":"ALARM(b)"},
    {"AlarmName":"b","AlarmRule":"ALARM(a) OR ALARM(missing)"}]})json");
  const CliRun r = run("validate --config " + config);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cycle: a -> b -> a"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/CompositeAlarms/1/AlarmRule: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("missing"), std::string::npos) << r.output;
}

TEST_F(CliTest, ReplayRefusesAConfigurationValidateRejects) {
  const std::string config = write("alarms.json", R"json({"CompositeAlarms":[
    {"AlarmName":"a","AlarmRule":"ALARM(a)"}]})json");
  const CliRun r = run("replay --config " + config + " --input /dev/null");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cycle"), std::string::npos) << r.output;
}

TEST_F(CliTest, ReplaySurvivesGarbageInputAndDeadLettersIt) {
  const std::string config = write("alarms.json", R"({"MetricAlarms":[]})");
  std::string garbage;
  for (int i = 0; i < 2000; ++i) {
    garbage += std::string(static_cast<size_t>(i % 97), static_cast<char>('!' + i % 90)) +
               (i % 7 == 0 ? "\xff\x00\x01" : "{\"a\":[") + "\n";
  }
  const std::string input = write("garbage.jsonl", garbage);
  const std::string dead = (dir_ / "dead.jsonl").string();
  const CliRun r = run("replay --config " + config + " --input " + input + " --dead-letters " +
                       dead + " --output /dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.output.substr(0, 500);
  EXPECT_NE(r.output.find("dropped"), std::string::npos) << r.output.substr(0, 500);
  std::ifstream in(dead);
  const std::string letters((std::istreambuf_iterator<char>(in)), {});
  EXPECT_GT(std::count(letters.begin(), letters.end(), '\n'), 1000);
}

TEST_F(CliTest, ReplayReportsAMissingInputWithExitCodeThree) {
  const std::string config = write("alarms.json", R"({"MetricAlarms":[]})");
  const CliRun r = run("replay --config " + config + " --input " + (dir_ / "nope").string());
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("does not exist"), std::string::npos) << r.output;
}

TEST_F(CliTest, ReplayHelpPrintsUsageAndSucceeds) {
  const CliRun r = run("replay --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("usage: trailwatch replay"), std::string::npos) << r.output;
}

TEST_F(CliTest, ReplayAcceptsFlagEqualsValue) {
  const std::string config = write("alarms.json", R"({"MetricAlarms":[]})");
  const std::string input = write("in.jsonl", "");
  const CliRun r = run("replay --config=" + config + " --input=" + input + " --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(CliTest, ReplayReportsAnUnknownOptionWithoutSwallowingTheNextArgument) {
  const CliRun r = run("replay --ouput x --config y");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown option --ouput"), std::string::npos) << r.output;
}

TEST_F(CliTest, ReplayLeavesOutputsUntouchedWhenAnInputIsMissing) {
  const std::string config = write("alarms.json", R"({"MetricAlarms":[]})");
  const std::string previous = write("events.jsonl", "{\"kept\":true}\n");
  const CliRun r = run("replay --config " + config + " --input " + (dir_ / "nope").string() +
                       " --output " + previous);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  std::ifstream in(previous);
  const std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "{\"kept\":true}\n");
}

TEST_F(CliTest, RunChecksItsCommandLineAndConfiguration) {
  EXPECT_EQ(run("run").exit_code, 2);
  const CliRun unknown = run("run --config x.json --frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("unknown option --frobnicate"), std::string::npos)
      << unknown.output;
  const std::string config = write("alarms.json", R"json({"CompositeAlarms":[
    {"AlarmName":"a","AlarmRule":"ALARM(a)"}]})json");
  const CliRun invalid = run("run --config " + config);
  EXPECT_EQ(invalid.exit_code, 1) << invalid.output;
  EXPECT_NE(invalid.output.find("cycle: a -> a"), std::string::npos) << invalid.output;
}

TEST_F(CliTest, RunWithoutKafkaReadsItsFilesAndEndsLikeReplay) {
  // Only file inputs: run reads them, evaluates to the newest event time and exits.
  const std::string config = write("alarms.json", R"json({
    "trailwatch": {"account_id": "123456789012", "http_listen": "",
                   "inputs": [{"name": "m", "path": ")json" +
                                                      std::string(TW_SOURCE_DIR) +
                                                      R"json(/quickstart/metrics.jsonl"}],
                   "outputs": {"emissions": "-"}},
    "MetricAlarms": [{"AlarmName": "cpu", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
      "Dimensions": [{"Name": "InstanceId", "Value": "i-0a1b2c3d4e5f60001"}], "Statistic": "Average",
      "Period": 300, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 80,
      "ComparisonOperator": "GreaterThanThreshold"}]})json");
  const CliRun r = run("run --config " + config);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 3) << r.output;  // OK, ALARM, OK
  EXPECT_NE(r.output.find(R"("alarmName":"cpu","state":{"value":"ALARM")"), std::string::npos)
      << r.output;
}

TEST_F(CliTest, RunWithADirectoryStoreCheckpointsAndRestoresFileInputs) {
  // File inputs with a state directory: the run checkpoints before ending; a second run restores
  // it, skips the records it reflects and re-emits only what the final evaluation emits again
  // (the same events, same ids: at least once).
  const std::string config = write("alarms.json", R"json({
    "trailwatch": {"account_id": "123456789012", "http_listen": "",
                   "inputs": [{"name": "m", "path": ")json" +
                                                      std::string(TW_SOURCE_DIR) +
                                                      R"json(/quickstart/metrics.jsonl"}],
                   "outputs": {"emissions": "-"},
                   "state": {"store": "directory", "directory": "state"}},
    "MetricAlarms": [{"AlarmName": "cpu", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
      "Dimensions": [{"Name": "InstanceId", "Value": "i-0a1b2c3d4e5f60001"}], "Statistic": "Average",
      "Period": 300, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 80,
      "ComparisonOperator": "GreaterThanThreshold"}]})json");
  const CliRun first = run("run --config " + config);
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("no checkpoint in directory:"), std::string::npos) << first.output;
  EXPECT_TRUE(fs::exists(dir_ / "state" / "trailwatch.checkpoint"));  // Relative to the config.
  EXPECT_NE(first.output.find(R"("alarmName":"cpu","state":{"value":"ALARM")"), std::string::npos)
      << first.output;

  const CliRun second = run("run --config " + config);
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("state restored from directory:"), std::string::npos)
      << second.output;
  EXPECT_NE(second.output.find("1 file position(s)"), std::string::npos) << second.output;
  // Nothing was read again, so no transition happened again: every event line of the second
  // run is one of the first's.
  std::istringstream lines(second.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("{", 0) == 0) {
      EXPECT_NE(first.output.find(line), std::string::npos) << line;
    }
  }
  EXPECT_EQ(second.output.find(R"("value":"ALARM")"), std::string::npos) << second.output;

  // A damaged checkpoint stops the worker with a clear message instead of starting empty.
  std::ofstream(dir_ / "state" / "trailwatch.checkpoint", std::ios::binary) << "not a checkpoint";
  const CliRun damaged = run("run --config " + config);
  EXPECT_EQ(damaged.exit_code, 3) << damaged.output;
  EXPECT_NE(damaged.output.find("not a trailwatch live checkpoint"), std::string::npos)
      << damaged.output;
  EXPECT_NE(damaged.output.find("set trailwatch.state.store to \"none\""), std::string::npos)
      << damaged.output;
}

TEST_F(CliTest, UnknownCommandIsAUsageError) {
  const CliRun r = run("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown command"), std::string::npos);
}

}  // namespace
