#include "app/validate_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli_args.h"

namespace tw::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kValidConfig = R"json({
  "MetricAlarms": [
    {"AlarmName": "cpu-high", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
     "Statistic": "Average", "Period": 300, "EvaluationPeriods": 2, "Threshold": 80,
     "ComparisonOperator": "GreaterThanThreshold"},
    {"AlarmName": "fast", "Namespace": "App", "MetricName": "Errors", "Statistic": "Sum",
     "Period": 10, "EvaluationPeriods": 3, "Threshold": 1,
     "ComparisonOperator": "GreaterThanOrEqualToThreshold"},
    {"AlarmName": "orders anomaly", "EvaluationPeriods": 3,
     "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold", "ThresholdMetricId": "ad1",
     "Metrics": [
       {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Orders"},
                                   "Period": 300, "Stat": "Sum"}},
       {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}]}
  ],
  "CompositeAlarms": [{"AlarmName": "down", "AlarmRule": "ALARM(\"cpu-high\")"}],
  "trailwatch": {"account_id": "123456789012", "region": "eu-west-1",
                 "inputs": [{"name": "metrics", "path": "/var/lib/metrics"}]}
})json";

class ValidateCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tw_validate_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(std::string_view name, std::string_view content) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  int run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    return run_validate(args, out_, err_);
  }

  std::filesystem::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ValidateCommandTest, PrintsOneSummaryLineForAValidFile) {
  const std::string path = write("alarms.json", kValidConfig);
  EXPECT_EQ(run({"--config", path}), kExitOk);
  EXPECT_EQ(out_.str(), path +
                            ": valid: 3 metric alarms (1 anomaly detection, 1 high-resolution), "
                            "1 composite alarm, 1 input; account 123456789012, region eu-west-1\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(ValidateCommandTest, AcceptsConfigWithEqualsSign) {
  const std::string path = write("alarms.json", "{}");
  EXPECT_EQ(run({"--config=" + path}), kExitOk);
  EXPECT_EQ(out_.str(), path +
                            ": valid: 0 metric alarms, 0 composite alarms, 0 inputs; account "
                            "000000000000, region us-east-1\n");
}

TEST_F(ValidateCommandTest, PrintsEveryProblemOnItsOwnLineAndExitsOne) {
  const std::string path = write("bad.json", R"({"MetricAlarms": [
    {"AlarmName": "a", "Namespace": "N", "MetricName": "M", "Statistic": "Averge",
     "Period": 45, "EvaluationPeriods": 1, "Threshold": 1,
     "ComparisonOperator": "GreaterThanThreshold"}], "Trailwatch": {}})");
  EXPECT_EQ(run({"--config", path}), kExitInvalidConfig);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            path +
                ": /MetricAlarms/0/Statistic: \"Averge\" is not one of SampleCount, Average, Sum, "
                "Minimum, Maximum; did you mean \"Average\"?\n" +
                path +
                ": /MetricAlarms/0/Period: must be 10, 20, 30 or a multiple of 60 (seconds), got "
                "45\n" +
                path +
                ": /Trailwatch: unknown key \"Trailwatch\" in the top level; did you mean "
                "\"trailwatch\"?\n");
}

TEST_F(ValidateCommandTest, ReportsSyntaxErrorWithLineAndColumn) {
  const std::string path = write("broken.json", "{\n  \"MetricAlarms\": [\n}\n");
  EXPECT_EQ(run({"--config", path}), kExitInvalidConfig);
  EXPECT_THAT(err_.str(), StartsWith(path + ": (root): invalid JSON at line 3, column 1: "));
}

TEST_F(ValidateCommandTest, ReportsMissingFileAsAProblem) {
  const std::string path = (dir_ / "absent.json").string();
  EXPECT_EQ(run({"--config", path}), kExitInvalidConfig);
  EXPECT_EQ(err_.str(), path + ": (root): cannot open the file: No such file or directory\n");
}

TEST_F(ValidateCommandTest, RejectsMissingConfigFlagWithUsage) {
  EXPECT_EQ(run({}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "trailwatch validate: missing --config FILE\n"
            "usage: trailwatch validate --config FILE\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ValidateCommandTest, RejectsConfigFlagWithoutValue) {
  EXPECT_EQ(run({"--config"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--config needs a value"));
  EXPECT_EQ(run({"--config="}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--config needs a non-empty file name"));
}

TEST_F(ValidateCommandTest, RejectsUnexpectedArguments) {
  EXPECT_EQ(run({"--config", "a.json", "b.json"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("unexpected argument 'b.json'"));
  EXPECT_THAT(err_.str(), HasSubstr("usage: trailwatch validate --config FILE"));
}

TEST_F(ValidateCommandTest, RejectsConfigGivenTwice) {
  EXPECT_EQ(run({"--config", "a.json", "--config", "b.json"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--config given more than once"));
}

TEST_F(ValidateCommandTest, PrintsHelpToStandardOutput) {
  EXPECT_EQ(run({"--help"}), kExitOk);
  EXPECT_THAT(out_.str(), StartsWith("usage: trailwatch validate --config FILE\n"));
  EXPECT_EQ(err_.str(), "");
}

}  // namespace
}  // namespace tw::app
