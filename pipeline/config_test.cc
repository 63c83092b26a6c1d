#include "pipeline/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/units.h"

namespace tw::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kFile = "alarms.json";

ConfigLoadResult parse(std::string_view text) {
  return parse_config(text, kFile);
}

// A JSON object as an ordered list of (key, raw JSON value); nullopt removes a key.
using Fields = std::vector<std::pair<std::string, std::optional<std::string>>>;

Fields with(Fields base, const Fields& changes) {
  for (const auto& [key, value] : changes) {
    const auto it = std::find_if(base.begin(), base.end(),
                                 [&](const auto& field) { return field.first == key; });
    if (it != base.end()) {
      it->second = value;
    } else {
      base.emplace_back(key, value);
    }
  }
  return base;
}

std::string object(const Fields& fields) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : fields) {
    if (!value.has_value()) {
      continue;
    }
    out += first ? "" : ", ";
    out += "\"" + key + "\": " + *value;
    first = false;
  }
  return out + "}";
}

std::string json_string(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// A static-threshold alarm on one metric: valid as it is.
Fields cpu_alarm() {
  return {
      {"AlarmName", R"("cpu-high")"},
      {"Namespace", R"("AWS/EC2")"},
      {"MetricName", R"("CPUUtilization")"},
      {"Statistic", R"("Average")"},
      {"Dimensions", R"([{"Name": "InstanceId", "Value": "i-0c986c72"}])"},
      {"Period", "300"},
      {"EvaluationPeriods", "2"},
      {"Threshold", "70"},
      {"ComparisonOperator", R"("GreaterThanThreshold")"},
  };
}

// The AWS-documented anomaly-detection shape: metric and band both ReturnData true.
Fields anomaly_alarm() {
  return {
      {"AlarmName", R"("latency-anomaly")"},
      {"EvaluationPeriods", "3"},
      {"ComparisonOperator", R"("LessThanLowerOrGreaterThanUpperThreshold")"},
      {"Metrics", R"j([
        {"Id": "m1", "ReturnData": true,
         "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB",
                                   "MetricName": "TargetResponseTime",
                                   "Dimensions": [{"Name": "LoadBalancer",
                                                   "Value": "app/web/50dc6c495c0c9188"}]},
                        "Period": 300, "Stat": "p90"}},
        {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)",
         "Label": "TargetResponseTime (expected)", "ReturnData": true}])j"},
      {"ThresholdMetricId", R"("ad1")"},
  };
}

// Metric math: two metrics and the expression the alarm evaluates.
Fields error_rate_alarm() {
  return {
      {"AlarmName", R"("error-rate")"},
      {"EvaluationPeriods", "5"},
      {"DatapointsToAlarm", "3"},
      {"Threshold", "5"},
      {"ComparisonOperator", R"("GreaterThanThreshold")"},
      {"Metrics", R"([
        {"Id": "errors", "ReturnData": false,
         "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"},
                        "Period": 60, "Stat": "Sum"}},
        {"Id": "invocations", "ReturnData": false,
         "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations"},
                        "Period": 60, "Stat": "Sum"}},
        {"Id": "rate", "Expression": "100 * errors / invocations", "Label": "Error rate"}])"},
  };
}

Fields composite_alarm() {
  return {
      {"AlarmName", R"("service-down")"},
      {"AlarmRule", R"j("ALARM(cpu-high) AND ALARM(error-rate)")j"},
  };
}

std::string metric_alarms(const std::vector<Fields>& alarms) {
  std::string out = R"({"MetricAlarms": [)";
  for (size_t i = 0; i < alarms.size(); ++i) {
    out += (i == 0 ? "" : ", ") + object(alarms[i]);
  }
  return out + "]}";
}

std::string one_alarm(const Fields& changes) {
  return metric_alarms({with(cpu_alarm(), changes)});
}

std::string one_anomaly_alarm(const Fields& changes) {
  return metric_alarms({with(anomaly_alarm(), changes)});
}

std::string one_math_alarm(const Fields& changes) {
  return metric_alarms({with(error_rate_alarm(), changes)});
}

std::string one_composite(const Fields& changes) {
  return R"({"CompositeAlarms": [)" + object(with(composite_alarm(), changes)) + "]}";
}

std::string with_settings(std::string_view settings) {
  return R"({"trailwatch": )" + std::string(settings) + "}";
}

std::string describe(const ConfigLoadResult& result) {
  std::string out;
  for (const ConfigProblem& p : result.problems) {
    out += "\n  " + p.to_string();
  }
  return out;
}

// Exactly one problem, at `pointer`, whose message contains `fragment`.
::testing::AssertionResult one_problem(const ConfigLoadResult& result, std::string_view pointer,
                                       std::string_view fragment) {
  if (result.ok()) {
    return ::testing::AssertionFailure() << "loaded without problems";
  }
  if (result.problems.size() != 1) {
    return ::testing::AssertionFailure()
           << result.problems.size() << " problems:" << describe(result);
  }
  const ConfigProblem& p = result.problems[0];
  if (p.file != kFile || p.pointer != pointer || p.message.find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "expected " << pointer << " with \"" << fragment << "\", got" << describe(result);
  }
  return ::testing::AssertionSuccess();
}

// The load succeeded (prints every problem otherwise).
::testing::AssertionResult loads(const ConfigLoadResult& result) {
  if (result.ok() && result.problems.empty()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "problems:" << describe(result);
}

constexpr std::string_view kAlarm = "/MetricAlarms/0";

std::string at(std::string_view suffix) {
  return std::string(kAlarm) + std::string(suffix);
}

// ---------------------------------------------------------------------------------------------
// Whole files.

// Shaped like `aws cloudwatch describe-alarms --alarm-types MetricAlarm CompositeAlarm`, with
// every output-only field present.
constexpr std::string_view kDescribeAlarmsOutput = R"json({
  "MetricAlarms": [
    {
      "AlarmName": "web-1 cpu high",
      "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-1 cpu high",
      "AlarmDescription": "CPU above 80% for 10 minutes",
      "AlarmConfigurationUpdatedTimestamp": "2024-03-04T09:12:44.512000+00:00",
      "ActionsEnabled": true,
      "OKActions": ["arn:aws:sns:eu-west-1:111122223333:ops"],
      "AlarmActions": ["arn:aws:sns:eu-west-1:111122223333:ops",
                       "arn:aws:automate:eu-west-1:ec2:stop"],
      "InsufficientDataActions": [],
      "StateValue": "OK",
      "StateReason": "Threshold Crossed: 2 datapoints [41.2 (04/03/24 09:20:00), 39.9 (04/03/24 09:15:00)] were not greater than the threshold (80.0).",
      "StateReasonData": "{\"version\":\"1.0\",\"queryDate\":\"2024-03-04T09:25:31.210+0000\",\"startDate\":\"2024-03-04T09:15:00.000+0000\",\"statistic\":\"Average\",\"period\":300,\"recentDatapoints\":[39.9,41.2],\"threshold\":80.0,\"evaluatedDatapoints\":[{\"timestamp\":\"2024-03-04T09:20:00.000+0000\",\"sampleCount\":5.0,\"value\":41.2}]}",
      "StateUpdatedTimestamp": "2024-03-04T09:25:31.214000+00:00",
      "MetricName": "CPUUtilization",
      "Namespace": "AWS/EC2",
      "Statistic": "Average",
      "Dimensions": [{"Name": "InstanceId", "Value": "i-0a1b2c3d4e5f60718"}],
      "Period": 300,
      "Unit": "Percent",
      "EvaluationPeriods": 2,
      "DatapointsToAlarm": 2,
      "Threshold": 80.0,
      "ComparisonOperator": "GreaterThanThreshold",
      "TreatMissingData": "breaching",
      "StateTransitionedTimestamp": "2024-03-04T09:25:31.214000+00:00"
    },
    {
      "AlarmName": "api p99 latency",
      "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:api p99 latency",
      "AlarmConfigurationUpdatedTimestamp": "2024-02-11T17:03:09.001000+00:00",
      "ActionsEnabled": false,
      "OKActions": [],
      "AlarmActions": [],
      "InsufficientDataActions": [],
      "StateValue": "INSUFFICIENT_DATA",
      "StateReason": "Unchecked: Initial alarm creation",
      "StateUpdatedTimestamp": "2024-02-11T17:03:09.001000+00:00",
      "MetricName": "Latency",
      "Namespace": "AWS/ApiGateway",
      "ExtendedStatistic": "p99.9",
      "Dimensions": [{"Name": "ApiName", "Value": "orders"}, {"Name": "Stage", "Value": "prod"}],
      "Period": 60,
      "EvaluationPeriods": 5,
      "DatapointsToAlarm": 3,
      "Threshold": 1500.0,
      "ComparisonOperator": "GreaterThanOrEqualToThreshold",
      "TreatMissingData": "notBreaching",
      "EvaluateLowSampleCountPercentile": "ignore",
      "StateTransitionedTimestamp": "2024-02-11T17:03:09.001000+00:00"
    },
    {
      "AlarmName": "orders anomaly",
      "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders anomaly",
      "AlarmConfigurationUpdatedTimestamp": "2024-01-20T08:00:00.000000+00:00",
      "ActionsEnabled": true,
      "OKActions": [],
      "AlarmActions": ["arn:aws:sns:eu-west-1:111122223333:ops"],
      "InsufficientDataActions": [],
      "StateValue": "ALARM",
      "StateReason": "Thresholds Crossed: 1 out of the last 3 datapoints [2.0 (20/01/24 08:10:00)] was less than the lower thresholds [12.5] or greater than the upper thresholds [30.1] (minimum 1 datapoint for OK -> ALARM transition).",
      "StateReasonData": "{\"version\":\"1.0\",\"queryDate\":\"2024-01-20T08:15:12.000+0000\",\"startDate\":\"2024-01-20T08:00:00.000+0000\",\"period\":300,\"recentDatapoints\":[2.0],\"recentLowerThresholds\":[12.5],\"recentUpperThresholds\":[30.1]}",
      "StateUpdatedTimestamp": "2024-01-20T08:15:12.000000+00:00",
      "Dimensions": [],
      "EvaluationPeriods": 3,
      "DatapointsToAlarm": 1,
      "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
      "TreatMissingData": "missing",
      "Metrics": [
        {"Id": "m1", "ReturnData": true,
         "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Orders",
                                   "Dimensions": [{"Name": "Site", "Value": "eu"}]},
                        "Period": 300, "Stat": "Sum"}},
        {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 3)",
         "Label": "Orders (expected)", "ReturnData": true}
      ],
      "ThresholdMetricId": "ad1",
      "StateTransitionedTimestamp": "2024-01-20T08:15:12.000000+00:00",
      "EvaluationState": "PARTIAL_DATA"
    }
  ],
  "CompositeAlarms": [
    {
      "ActionsEnabled": true,
      "AlarmActions": ["arn:aws:sns:eu-west-1:111122223333:pager"],
      "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web degraded",
      "AlarmConfigurationUpdatedTimestamp": "2024-03-01T12:00:00.000000+00:00",
      "AlarmDescription": "CPU and latency together",
      "AlarmName": "web degraded",
      "AlarmRule": "ALARM(\"web-1 cpu high\") AND ALARM(\"api p99 latency\")",
      "InsufficientDataActions": [],
      "OKActions": [],
      "StateReason": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-1 cpu high transitioned to ALARM at Monday 04 March, 2024 09:10:00 UTC",
      "StateReasonData": "{\"triggeringAlarms\":[{\"arn\":\"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-1 cpu high\",\"state\":{\"value\":\"ALARM\",\"timestamp\":\"2024-03-04T09:10:00.000+0000\"}}]}",
      "StateUpdatedTimestamp": "2024-03-04T09:10:00.120000+00:00",
      "StateValue": "ALARM",
      "StateTransitionedTimestamp": "2024-03-04T09:10:00.120000+00:00",
      "ActionsSuppressor": "maintenance window",
      "ActionsSuppressorWaitPeriod": 60,
      "ActionsSuppressorExtensionPeriod": 120,
      "ActionsSuppressedBy": "WaitPeriod",
      "ActionsSuppressedReason": "Actions suppressed by WaitPeriod"
    }
  ]
})json";

TEST(ParseConfig, LoadsDescribeAlarmsOutputUnchanged) {
  const ConfigLoadResult result = parse(kDescribeAlarmsOutput);
  ASSERT_TRUE(loads(result));
  const Config& config = *result.config;
  EXPECT_EQ(config.source_file, kFile);
  ASSERT_EQ(config.metric_alarms.size(), 3U);
  ASSERT_EQ(config.composite_alarms.size(), 1U);

  const MetricAlarmConfig& cpu = config.metric_alarms[0];
  EXPECT_EQ(cpu.alarm_name, "web-1 cpu high");
  EXPECT_EQ(cpu.alarm_description, "CPU above 80% for 10 minutes");
  EXPECT_EQ(cpu.alarm_actions.size(), 2U);
  EXPECT_EQ(cpu.ok_actions, std::vector<std::string>{"arn:aws:sns:eu-west-1:111122223333:ops"});
  EXPECT_EQ(cpu.namespace_name, "AWS/EC2");
  EXPECT_EQ(cpu.metric_name, "CPUUtilization");
  ASSERT_TRUE(cpu.statistic.has_value());
  EXPECT_EQ(cpu.statistic->kind, Statistic::Kind::kAverage);
  EXPECT_FALSE(cpu.statistic_is_extended);
  EXPECT_EQ(cpu.dimensions, (std::vector<Dimension>{{"InstanceId", "i-0a1b2c3d4e5f60718"}}));
  EXPECT_EQ(cpu.unit, Unit::kPercent);
  EXPECT_EQ(cpu.period, 300);
  EXPECT_EQ(cpu.evaluation_periods, 2);
  EXPECT_EQ(cpu.threshold, 80.0);
  EXPECT_EQ(cpu.comparison_operator, ComparisonOperator::kGreaterThanThreshold);
  EXPECT_EQ(cpu.treat_missing_data, TreatMissingData::kBreaching);
  EXPECT_TRUE(cpu.treat_missing_data_set);
  EXPECT_EQ(cpu.source_pointer, "/MetricAlarms/0");

  const MetricAlarmConfig& latency = config.metric_alarms[1];
  EXPECT_FALSE(latency.actions_enabled);
  ASSERT_TRUE(latency.statistic.has_value());
  EXPECT_EQ(latency.statistic->kind, Statistic::Kind::kPercentile);
  EXPECT_DOUBLE_EQ(latency.statistic->percentile, 99.9);
  EXPECT_EQ(latency.statistic->text, "p99.9");
  EXPECT_TRUE(latency.statistic_is_extended);
  EXPECT_EQ(latency.effective_datapoints_to_alarm(), 3);
  EXPECT_TRUE(latency.high_resolution() == false);
  EXPECT_EQ(latency.evaluate_low_sample_count_percentile, LowSampleCountPercentile::kIgnore);

  const MetricAlarmConfig& anomaly = config.metric_alarms[2];
  EXPECT_EQ(anomaly.threshold_metric_id, "ad1");
  EXPECT_FALSE(anomaly.threshold.has_value());
  EXPECT_EQ(anomaly.period, 300);
  ASSERT_EQ(anomaly.metrics.size(), 2U);
  ASSERT_TRUE(anomaly.metrics[0].metric_stat.has_value());
  EXPECT_EQ(anomaly.metrics[0].metric_stat->metric_name, "Orders");
  EXPECT_EQ(anomaly.metrics[0].metric_stat->stat.kind, Statistic::Kind::kSum);
  EXPECT_EQ(anomaly.metrics[1].expression, "ANOMALY_DETECTION_BAND(m1, 3)");
  EXPECT_EQ(anomaly.metrics[1].label, "Orders (expected)");
  EXPECT_EQ(anomaly.source_pointer, "/MetricAlarms/2");

  const CompositeAlarmConfig& composite = config.composite_alarms[0];
  EXPECT_EQ(composite.alarm_name, "web degraded");
  EXPECT_EQ(composite.alarm_rule, R"(ALARM("web-1 cpu high") AND ALARM("api p99 latency"))");
  EXPECT_EQ(composite.actions_suppressor, "maintenance window");
  EXPECT_EQ(composite.actions_suppressor_wait_period, 60);
  EXPECT_EQ(composite.actions_suppressor_extension_period, 120);
  EXPECT_EQ(composite.source_pointer, "/CompositeAlarms/0");
}

TEST(ParseConfig, AppliesEveryDefaultToAFileWithOnlyAlarms) {
  const ConfigLoadResult result = parse(one_alarm({}));
  ASSERT_TRUE(loads(result));
  EXPECT_EQ(result.config->settings, Settings{});
  const MetricAlarmConfig& alarm = result.config->metric_alarms.at(0);
  EXPECT_TRUE(alarm.actions_enabled);
  EXPECT_EQ(alarm.treat_missing_data, TreatMissingData::kMissing);
  EXPECT_FALSE(alarm.treat_missing_data_set);
  EXPECT_FALSE(alarm.datapoints_to_alarm.has_value());
  EXPECT_EQ(alarm.effective_datapoints_to_alarm(), 2);
  EXPECT_FALSE(alarm.evaluate_low_sample_count_percentile.has_value());
}

TEST(ParseConfig, AcceptsAnEmptyObject) {
  const ConfigLoadResult result = parse("{}");
  ASSERT_TRUE(loads(result));
  EXPECT_TRUE(result.config->metric_alarms.empty());
  EXPECT_TRUE(result.config->composite_alarms.empty());
}

TEST(ParseConfig, LoadsAnomalyDetectionAlarmWithBothReturnDataTrue) {
  const ConfigLoadResult result = parse(one_anomaly_alarm({}));
  ASSERT_TRUE(loads(result));
  const MetricAlarmConfig& alarm = result.config->metric_alarms.at(0);
  EXPECT_TRUE(is_band_operator(alarm.comparison_operator));
  EXPECT_EQ(alarm.threshold_metric_id, "ad1");
  EXPECT_EQ(alarm.period, 300);
  ASSERT_EQ(alarm.metrics.size(), 2U);
  EXPECT_TRUE(alarm.metrics[0].return_data);
  EXPECT_TRUE(alarm.metrics[1].return_data);
  EXPECT_DOUBLE_EQ(alarm.metrics[0].metric_stat->stat.percentile, 90);
}

TEST(ParseConfig, LoadsMetricMathAlarmWithTheSharedPeriod) {
  const ConfigLoadResult result = parse(one_math_alarm({}));
  ASSERT_TRUE(loads(result));
  const MetricAlarmConfig& alarm = result.config->metric_alarms.at(0);
  EXPECT_EQ(alarm.period, 60);
  EXPECT_TRUE(alarm.high_resolution() == false);
  ASSERT_EQ(alarm.metrics.size(), 3U);
  EXPECT_FALSE(alarm.metrics[0].return_data);
  EXPECT_TRUE(alarm.metrics[2].return_data);  // Omitted: the API default.
  EXPECT_EQ(alarm.metrics[2].expression, "100 * errors / invocations");
  EXPECT_EQ(alarm.effective_datapoints_to_alarm(), 3);
}

TEST(ParseConfig, ReportsEveryProblemInDocumentOrder) {
  const ConfigLoadResult result = parse(metric_alarms({
      with(cpu_alarm(), {{"Period", "45"}, {"Threshold", R"("high")"}}),
      with(cpu_alarm(), {{"AlarmName", R"("b")"}, {"Unit", R"("Percentage")"}}),
  }));
  ASSERT_FALSE(result.ok());
  std::vector<std::string> pointers;
  pointers.reserve(result.problems.size());
  for (const ConfigProblem& p : result.problems) {
    pointers.push_back(p.pointer);
  }
  EXPECT_EQ(pointers,
            (std::vector<std::string>{"/MetricAlarms/0/Period", "/MetricAlarms/0/Threshold",
                                      "/MetricAlarms/1/Unit"}));
}

TEST(ParseConfig, CapsTheNumberOfReportedProblems) {
  std::string text = R"({"MetricAlarms": [)";
  for (int i = 0; i < 2 * kMaxConfigProblems; ++i) {
    text += i == 0 ? "{}" : ", {}";
  }
  text += "]}";
  const ConfigLoadResult result = parse(text);
  ASSERT_EQ(result.problems.size(), static_cast<size_t>(kMaxConfigProblems) + 1);
  EXPECT_THAT(result.problems.back().message, HasSubstr("too many problems"));
  EXPECT_EQ(result.problems.back().pointer, "");
}

// ---------------------------------------------------------------------------------------------
// Hostile and broken bytes: one problem each, with a position, and no crash or hang.

TEST(ParseConfig, RejectsEmptyInput) {
  EXPECT_TRUE(one_problem(parse(""), "", "line 1, column 1: the file is empty"));
  EXPECT_TRUE(one_problem(parse(" \n\t\n"), "", "line 3, column 1: the file is empty"));
}

TEST(ParseConfig, RejectsTextThatIsNotJson) {
  EXPECT_TRUE(one_problem(parse("not json"), "", "invalid JSON at line 1, column 2"));
  EXPECT_TRUE(one_problem(parse("{\n  \"MetricAlarms\": [],\n  oops\n}"), "", "line 3, column 3"));
}

TEST(ParseConfig, RejectsTruncatedInput) {
  EXPECT_TRUE(
      one_problem(parse(R"({"MetricAlarms": [{"AlarmName": "a")"), "", "unexpected end of input"));
  // The position is just past the last character: where more was expected.
  EXPECT_TRUE(one_problem(parse(R"({"MetricAlarms": [)"), "", "line 1, column 19"));
}

TEST(ParseConfig, RejectsTrailingGarbage) {
  EXPECT_TRUE(one_problem(parse("{} {}"), "", "expected end of input"));
}

TEST(ParseConfig, RejectsFileLargerThanTheLimit) {
  const std::string brackets(100L << 20, '[');
  EXPECT_TRUE(one_problem(parse(brackets), "", "104857600 bytes"));
  EXPECT_TRUE(one_problem(parse(brackets), "", "limited to 67108864 bytes"));
}

TEST(ParseConfig, RejectsHugeStringBeyondTheLimit) {
  std::string text = R"({"MetricAlarms": [{"AlarmName": ")";
  text.append(100L << 20, 'a');
  text += R"("}]})";
  EXPECT_TRUE(one_problem(parse(text), "", "configuration files are limited to"));
}

TEST(ParseConfig, ReportsLongStringWithoutRepeatingIt) {
  const Fields changes = {{"AlarmDescription", "\"" + std::string(32L << 20, 'x') + "\""}};
  const ConfigLoadResult result = parse(one_alarm(changes));
  EXPECT_TRUE(one_problem(result, at("/AlarmDescription"), "at most 1024 characters"));
  ASSERT_EQ(result.problems.size(), 1U);
  EXPECT_LT(result.problems[0].to_string().size(), 200U);
}

TEST(ParseConfig, RejectsUnterminatedHugeStringWithShortMessage) {
  std::string text = R"({"MetricAlarms": [{"AlarmName": ")";
  text.append(32L << 20, 'a');
  const ConfigLoadResult result = parse(text);
  EXPECT_TRUE(one_problem(result, "", "missing closing quote"));
  ASSERT_EQ(result.problems.size(), 1U);
  EXPECT_LT(result.problems[0].message.size(), 400U);
}

TEST(ParseConfig, RejectsNestingDeeperThan64Levels) {
  EXPECT_TRUE(one_problem(parse(std::string(100'000, '[')), "",
                          "line 1, column 65: nested deeper than 64"));
  std::string objects;
  for (int i = 0; i < 100'000; ++i) {
    objects += R"({"a":)";
  }
  EXPECT_TRUE(one_problem(parse(objects), "", "nested deeper than 64 levels"));
}

TEST(ParseConfig, AcceptsNestingOfExactly64Levels) {
  // Passes the depth check and reaches validation, which wants an object at the top.
  const std::string arrays = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(one_problem(parse(arrays), "", "expected a JSON object"));
}

TEST(ParseConfig, IgnoresBracketsInsideStringsWhenCountingDepth) {
  const std::string description = "\"" + std::string(100, '[') + R"(\"[{\\)" + "\"";
  const ConfigLoadResult result = parse(one_alarm({{"AlarmDescription", description}}));
  ASSERT_TRUE(loads(result));
  EXPECT_EQ(result.config->metric_alarms[0].alarm_description, std::string(100, '[') + "\"[{\\");
}

TEST(ParseConfig, RejectsInvalidUtf8) {
  const ConfigLoadResult result = parse(one_alarm({{"AlarmName", "\"cpu\xff\xfe\""}}));
  EXPECT_TRUE(one_problem(result, "", "ill-formed UTF-8"));
  ASSERT_EQ(result.problems.size(), 1U);
  EXPECT_THAT(result.problems[0].message, HasSubstr("invalid JSON at line 1, column"));
  EXPECT_THAT(result.problems[0].message, HasSubstr("\\xff"));  // Escaped, not raw.
  EXPECT_EQ(result.problems[0].message.find('\xff'), std::string::npos);
}

TEST(ParseConfig, RejectsInvalidUtf8OutsideStrings) {
  EXPECT_TRUE(one_problem(parse("{\xc3\x28}"), "", "invalid JSON at line 1, column 2"));
}

TEST(ParseConfig, RejectsNumberTooLargeForADouble) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Threshold", "1e400"}})), "", "number overflow"));
}

TEST(ParseConfig, RejectsDuplicateKeys) {
  const std::string text =
      R"({"MetricAlarms": [{"AlarmName": "a", "Period": 60, "Namespace": "N", "MetricName": "M",
          "Statistic": "Sum", "EvaluationPeriods": 1, "Threshold": 1,
          "ComparisonOperator": "GreaterThanThreshold", "Period": 300}]})";
  EXPECT_TRUE(one_problem(parse(text), at("/Period"), "duplicate key \"Period\""));
}

TEST(ParseConfig, HandlesObjectWithAMillionKeysInLinearTime) {
  std::string text = "{";
  for (int i = 0; i < 1'000'000; ++i) {
    text += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) + "\":0";
  }
  text += "}";
  const auto start = std::chrono::steady_clock::now();
  const ConfigLoadResult result = parse(text);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.problems.size(), static_cast<size_t>(kMaxConfigProblems) + 1);
  // A quadratic key lookup takes hours here; linear work takes well under a second. The bound
  // is loose enough for sanitizer builds on a busy machine.
  EXPECT_LT(elapsed, std::chrono::seconds(60));
}

TEST(ParseConfig, RejectsTopLevelThatIsNotAnObject) {
  EXPECT_TRUE(one_problem(parse("[]"), "", "expected a JSON object with MetricAlarms"));
  EXPECT_TRUE(one_problem(parse("42"), "", "got an integer"));
}

// ---------------------------------------------------------------------------------------------
// Unknown keys and read-only fields.

TEST(ParseConfig, RejectsUnknownTopLevelKeyWithSuggestion) {
  EXPECT_TRUE(one_problem(parse(R"({"MetricAlarm": []})"), "/MetricAlarm",
                          "did you mean \"MetricAlarms\"?"));
  EXPECT_TRUE(
      one_problem(parse(R"({"Trailwatch": {}})"), "/Trailwatch", "did you mean \"trailwatch\"?"));
}

TEST(ParseConfig, RejectsAlarmFieldsAtTopLevelWithAHint) {
  EXPECT_TRUE(one_problem(parse(R"({"AlarmName": "x"})"), "/AlarmName",
                          "inside the \"MetricAlarms\" or \"CompositeAlarms\" array"));
}

TEST(ParseConfig, AcceptsDescribeAlarmsNextToken) {
  EXPECT_TRUE(loads(parse(R"({"MetricAlarms": [], "NextToken": "eyJ0b2tlbiI6IDF9"})")));
}

TEST(ParseConfig, RejectsUnknownAlarmKeyWithSuggestion) {
  EXPECT_TRUE(
      one_problem(parse(one_alarm({{"Treshold", "70"}})), at("/Treshold"),
                  "unknown key \"Treshold\" in a metric alarm; did you mean \"Threshold\"?"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"alarmDescription", R"("x")"}})),
                          at("/alarmDescription"), "did you mean \"AlarmDescription\"?"));
}

TEST(ParseConfig, DoesNotSuggestDistantKeys) {
  const ConfigLoadResult result = parse(one_alarm({{"Owner", R"("team-a")"}}));
  EXPECT_TRUE(one_problem(result, at("/Owner"), "unknown key \"Owner\""));
  EXPECT_THAT(result.problems.at(0).message, Not(HasSubstr("did you mean")));
}

TEST(ParseConfig, EscapesJsonPointerTokens) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"a/b~c", "1"}})), at("/a~1b~0c"), "unknown key"));
}

TEST(ParseConfig, RejectsUnknownKeysInEveryObject) {
  struct Case {
    std::string text;
    std::string pointer;
    std::string fragment;
  };

  const std::vector<Case> cases = {
      {one_alarm({{"Dimensions", R"([{"Name": "a", "Value": "b", "Vaule": "c"}])"}}),
       at("/Dimensions/0/Vaule"), "in a dimension; did you mean \"Value\"?"},
      {one_alarm({{"Tags", R"([{"Key": "a", "Value": "b", "Keys": "c"}])"}}), at("/Tags/0/Keys"),
       "in a tag; did you mean \"Key\"?"},
      {one_math_alarm({{"Metrics", R"j([{"Id": "e1", "Expression": "TIME_SERIES(1)",
                                         "Period": 60, "ReturnDate": true}])j"}}),
       at("/Metrics/0/ReturnDate"), "did you mean \"ReturnData\"?"},
      {one_math_alarm({{"Metrics", R"([{"Id": "m1", "MetricStat": {
            "Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "Sum",
            "Units": "Count"}}])"}}),
       at("/Metrics/0/MetricStat/Units"), "in a MetricStat; did you mean \"Unit\"?"},
      {one_math_alarm({{"Metrics", R"([{"Id": "m1", "MetricStat": {
            "Metric": {"Namespace": "N", "MetricName": "M", "Dimension": []},
            "Period": 60, "Stat": "Sum"}}])"}}),
       at("/Metrics/0/MetricStat/Metric/Dimension"), "in a Metric; did you mean \"Dimensions\"?"},
      {with_settings(R"({"regoin": "us-east-1"})"), "/trailwatch/regoin",
       "in the trailwatch section; did you mean \"region\"?"},
      {with_settings(R"({"inputs": [{"name": "a", "path": "/x", "fromat": "emf"}]})"),
       "/trailwatch/inputs/0/fromat", "in an input; did you mean \"format\"?"},
      {with_settings(R"({"outputs": {"emission": "-"}})"), "/trailwatch/outputs/emission",
       "in outputs; did you mean \"emissions\"?"},
      {one_composite({{"AlarmRules", R"("TRUE")"}}), "/CompositeAlarms/0/AlarmRules",
       "in a composite alarm; did you mean \"AlarmRule\"?"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(one_problem(parse(c.text), c.pointer, c.fragment)) << c.text;
  }
}

TEST(ParseConfig, AcceptsAndIgnoresReadOnlyFields) {
  const ConfigLoadResult result = parse(one_alarm({
      {"AlarmArn", R"("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high")"},
      {"AlarmConfigurationUpdatedTimestamp", R"("2024-01-01T00:00:00Z")"},
      {"StateValue", R"("ALARM")"},
      {"StateReason", R"("Threshold Crossed")"},
      {"StateReasonData", R"("{}")"},
      {"StateUpdatedTimestamp", R"("2024-01-01T00:00:00Z")"},
      {"StateTransitionedTimestamp", R"("2024-01-01T00:00:00Z")"},
      {"EvaluationState", R"("PARTIAL_DATA")"},
  }));
  ASSERT_TRUE(loads(result));
  EXPECT_EQ(result.config->metric_alarms[0], *parse(one_alarm({})).config->metric_alarms.begin());
}

TEST(ParseConfig, RejectsCompositeOnlyReadOnlyFieldsOnMetricAlarms) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"ActionsSuppressedBy", R"("Alarm")"}})),
                          at("/ActionsSuppressedBy"), "unknown key"));
}

TEST(ParseConfig, RejectsPromQlAlarmsAsUnsupported) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"EvaluationInterval", "60"}})),
                          at("/EvaluationInterval"), "PromQL alarms"));
}

// ---------------------------------------------------------------------------------------------
// JSON types.

TEST(ParseConfig, RejectsWrongJsonTypes) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Period", R"("300")"}})), at("/Period"),
                          "expected an integer, got a string"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"ActionsEnabled", R"("true")"}})),
                          at("/ActionsEnabled"),
                          "expected a boolean (true or false), got a string"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Threshold", R"("70")"}})), at("/Threshold"),
                          "expected a number, got a string"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmDescription", "5"}})), at("/AlarmDescription"),
                          "expected a string, got an integer"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Dimensions", "{}"}})), at("/Dimensions"),
                          "expected an array, got an object"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmActions", "[null]"}})), at("/AlarmActions/0"),
                          "expected a string, got null"));
  EXPECT_TRUE(one_problem(parse(R"({"MetricAlarms": {}})"), "/MetricAlarms",
                          "expected an array, got an object"));
  EXPECT_TRUE(one_problem(parse(R"({"MetricAlarms": [[]]})"), "/MetricAlarms/0",
                          "expected an object, got an array"));
  EXPECT_TRUE(one_problem(parse(R"({"trailwatch": []})"), "/trailwatch",
                          "expected an object, got an array"));
}

TEST(ParseConfig, RejectsIntegerWithAFraction) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Period", "60.5"}})), at("/Period"),
                          "expected an integer, got 60.5"));
}

TEST(ParseConfig, AcceptsIntegralFloatAsInteger) {
  const ConfigLoadResult result = parse(one_alarm({{"Period", "300.0"}}));
  ASSERT_TRUE(loads(result));
  EXPECT_EQ(result.config->metric_alarms[0].period, 300);
}

TEST(ParseConfig, RejectsIntegerOutsideIntRange) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"EvaluationPeriods", "3000000000"}})),
                          at("/EvaluationPeriods"), "must be between 1 and 2147483647"));
  EXPECT_TRUE(
      one_problem(parse(one_alarm({{"Period", "1e300"}})), at("/Period"), "is out of range"));
}

// ---------------------------------------------------------------------------------------------
// Names, descriptions, actions.

TEST(ParseConfig, RequiresAlarmName) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmName", std::nullopt}})), kAlarm,
                          "missing required key \"AlarmName\""));
}

TEST(ParseConfig, RejectsAlarmNameOutside1To255Characters) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmName", R"("")"}})), at("/AlarmName"),
                          "must not be empty"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmName", json_string(std::string(256, 'a'))}})),
                          at("/AlarmName"), "must be 1 to 255 characters long, got 256"));
}

TEST(ParseConfig, CountsAlarmNameLengthInCharactersNotBytes) {
  std::string name;
  for (int i = 0; i < 255; ++i) {
    name += "\xc3\xa9";  // é: two bytes, one character.
  }
  EXPECT_TRUE(loads(parse(one_alarm({{"AlarmName", json_string(name)}}))));
}

TEST(ParseConfig, RejectsAlarmNameWithControlCharacters) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmName", R"("cpu\nhigh")"}})), at("/AlarmName"),
                          "must not contain control characters (found one at character 4)"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmName", R"("cpu\u007f")"}})), at("/AlarmName"),
                          "control characters"));
}

TEST(ParseConfig, RejectsDuplicateAlarmNamesAcrossMetricAndCompositeAlarms) {
  const std::string text = R"({"MetricAlarms": [)" + object(cpu_alarm()) +
                           R"(], "CompositeAlarms": [)" +
                           object(with(composite_alarm(), {{"AlarmName", R"("cpu-high")"}})) + "]}";
  EXPECT_TRUE(one_problem(parse(text), "/CompositeAlarms/0/AlarmName",
                          "duplicate alarm name \"cpu-high\": already used at "
                          "/MetricAlarms/0/AlarmName"));
  EXPECT_TRUE(one_problem(parse(metric_alarms({cpu_alarm(), cpu_alarm()})),
                          "/MetricAlarms/1/AlarmName", "duplicate alarm name"));
}

TEST(ParseConfig, RejectsAlarmDescriptionLongerThan1024Characters) {
  EXPECT_TRUE(loads(parse(one_alarm({{"AlarmDescription", json_string(std::string(1024, 'd'))}}))));
  EXPECT_TRUE(
      one_problem(parse(one_alarm({{"AlarmDescription", json_string(std::string(1025, 'd'))}})),
                  at("/AlarmDescription"), "at most 1024 characters"));
}

TEST(ParseConfig, RejectsMoreThanFiveActionsPerList) {
  const std::string six = R"(["arn:a1", "arn:a2", "arn:a3", "arn:a4", "arn:a5", "arn:a6"])";
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmActions", six}})), at("/AlarmActions"),
                          "has 6 actions; at most 5"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"OKActions", six}})), at("/OKActions"), "at most 5"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"InsufficientDataActions", six}})),
                          at("/InsufficientDataActions"), "at most 5"));
}

TEST(ParseConfig, RejectsActionOutside1To1024Characters) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"AlarmActions", R"([""])"}})), at("/AlarmActions/0"),
                          "must not be empty"));
  EXPECT_TRUE(one_problem(
      parse(one_alarm({{"OKActions", "[" + json_string(std::string(1025, 'a')) + "]"}})),
      at("/OKActions/0"), "1 to 1024 characters"));
}

// ---------------------------------------------------------------------------------------------
// The single-metric form.

TEST(ParseConfig, RejectsMetricNameOutside1To255Characters) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"MetricName", R"("")"}})), at("/MetricName"),
                          "must not be empty"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"MetricName", json_string(std::string(256, 'm'))}})),
                          at("/MetricName"), "1 to 255 characters"));
}

TEST(ParseConfig, RejectsNamespaceOutside1To255Characters) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Namespace", json_string(std::string(256, 'n'))}})),
                          at("/Namespace"), "1 to 255 characters"));
}

TEST(ParseConfig, RejectsNamespaceStartingWithColon) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Namespace", R"(":Custom")"}})), at("/Namespace"),
                          "must not start with ':'"));
}

TEST(ParseConfig, RequiresNamespaceAndPeriodForTheSingleMetricForm) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Namespace", std::nullopt}})), kAlarm,
                          "missing required key \"Namespace\""));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Period", std::nullopt}})), kAlarm,
                          "missing required key \"Period\""));
}

TEST(ParseConfig, RejectsUnknownStatisticWithSuggestion) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Statistic", R"("Averge")"}})), at("/Statistic"),
                          "\"Averge\" is not one of SampleCount, Average, Sum, Minimum, Maximum; "
                          "did you mean \"Average\"?"));
}

TEST(ParseConfig, RejectsPercentileInStatistic) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Statistic", R"("p99")"}})), at("/Statistic"),
                          "go in ExtendedStatistic"));
}

TEST(ParseConfig, AcceptsPercentileExtendedStatistics) {
  for (const auto& [text, value] : std::vector<std::pair<std::string, double>>{{"p0.0", 0},
                                                                               {"p50", 50},
                                                                               {"p99", 99},
                                                                               {"p99.9", 99.9},
                                                                               {"p99.99", 99.99},
                                                                               {"p100", 100}}) {
    const ConfigLoadResult result =
        parse(one_alarm({{"Statistic", std::nullopt}, {"ExtendedStatistic", json_string(text)}}));
    ASSERT_TRUE(loads(result)) << text;
    const MetricAlarmConfig& alarm = result.config->metric_alarms[0];
    EXPECT_TRUE(alarm.statistic_is_extended);
    EXPECT_EQ(alarm.statistic->kind, Statistic::Kind::kPercentile);
    EXPECT_DOUBLE_EQ(alarm.statistic->percentile, value) << text;
    EXPECT_EQ(alarm.statistic->text, text);
  }
}

TEST(ParseConfig, RejectsUnsupportedExtendedStatisticsAsNotSupportedYet) {
  for (const char* text : {"tm90", "wm99", "tc90", "ts90", "IQM", "TM(10%:90%)", "WM(:95%)",
                           "TC(0.005:0.030)", "TS(80%:)", "PR(:300)", "PR(100:2000)"}) {
    EXPECT_TRUE(one_problem(
        parse(one_alarm({{"Statistic", std::nullopt}, {"ExtendedStatistic", json_string(text)}})),
        at("/ExtendedStatistic"), "is not supported yet"))
        << text;
  }
}

TEST(ParseConfig, RejectsMalformedExtendedStatisticWithTheAllowedForms) {
  for (const char* text : {"p101", "P99", "p", "p99.", "p.5", "p99.12345678901", "avg", "TM()"}) {
    EXPECT_TRUE(one_problem(
        parse(one_alarm({{"Statistic", std::nullopt}, {"ExtendedStatistic", json_string(text)}})),
        at("/ExtendedStatistic"), "use a percentile p0.0 to p100, such as p99 or p99.9"))
        << text;
  }
  EXPECT_TRUE(one_problem(
      parse(one_alarm({{"Statistic", std::nullopt}, {"ExtendedStatistic", R"("Average")"}})),
      at("/ExtendedStatistic"), "put it in Statistic instead"));
}

TEST(ParseConfig, RequiresExactlyOneOfStatisticAndExtendedStatistic) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"ExtendedStatistic", R"("p99")"}})),
                          at("/ExtendedStatistic"), "cannot be used together with Statistic"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Statistic", std::nullopt}})), kAlarm,
                          "missing Statistic or ExtendedStatistic"));
}

TEST(ParseConfig, RequiresMetricNameOrMetrics) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"MetricName", std::nullopt},
                                           {"Namespace", std::nullopt},
                                           {"Statistic", std::nullopt},
                                           {"Dimensions", std::nullopt},
                                           {"Period", std::nullopt}})),
                          kAlarm, "missing MetricName or Metrics"));
}

TEST(ParseConfig, RejectsMetricNameTogetherWithMetrics) {
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"MetricName", R"("Errors")"}})), at("/MetricName"),
                          "cannot be used together with Metrics"));
}

TEST(ParseConfig, RejectsSingleMetricFieldsTogetherWithMetrics) {
  const Fields fields = {
      {"Namespace", R"("AWS/Lambda")"},
      {"Dimensions", R"([{"Name": "FunctionName", "Value": "f"}])"},
      {"Period", "60"},
      {"Unit", R"("Count")"},
      {"Statistic", R"("Sum")"},
      {"ExtendedStatistic", R"("p99")"},
  };
  for (const auto& field : fields) {
    EXPECT_TRUE(one_problem(parse(one_math_alarm({field})), at("/" + field.first),
                            "cannot be used together with Metrics"))
        << field.first;
  }
}

TEST(ParseConfig, AcceptsEmptyDimensionsWithMetrics) {
  EXPECT_TRUE(loads(parse(one_math_alarm({{"Dimensions", "[]"}}))));
}

TEST(ParseConfig, RejectsMoreThan30Dimensions) {
  std::string dimensions = "[";
  for (int i = 0; i < 31; ++i) {
    dimensions += (i == 0 ? "" : ",") + std::string(R"({"Name": "d)") + std::to_string(i) +
                  R"(", "Value": "v"})";
  }
  dimensions += "]";
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Dimensions", dimensions}})), at("/Dimensions"),
                          "has 31 dimensions; at most 30"));
}

TEST(ParseConfig, RejectsDimensionNameOrValueOutOfRange) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Dimensions", R"([{"Name": "", "Value": "v"}])"}})),
                          at("/Dimensions/0/Name"), "must not be empty"));
  EXPECT_TRUE(one_problem(
      parse(one_alarm({{"Dimensions", "[{\"Name\": \"n\", \"Value\": " +
                                          json_string(std::string(1025, 'v')) + "}]"}})),
      at("/Dimensions/0/Value"), "1 to 1024 characters"));
  EXPECT_TRUE(one_problem(
      parse(one_alarm({{"Dimensions", "[{\"Name\": " + json_string(std::string(256, 'n')) +
                                          ", \"Value\": \"v\"}]"}})),
      at("/Dimensions/0/Name"), "1 to 255 characters"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Dimensions", R"([{"Name": "n"}])"}})),
                          at("/Dimensions/0"), "missing required key \"Value\""));
}

TEST(ParseConfig, RejectsDuplicateDimensionNames) {
  EXPECT_TRUE(one_problem(
      parse(one_alarm(
          {{"Dimensions", R"([{"Name": "Host", "Value": "a"}, {"Name": "Host", "Value": "b"}])"}})),
      at("/Dimensions/1/Name"),
      "duplicate dimension name \"Host\": already used at /MetricAlarms/0/Dimensions/0/Name"));
}

TEST(ParseConfig, RejectsPeriodThatIsNotTenTwentyThirtyOrMultipleOfSixty) {
  for (const char* period : {"45", "0", "-60", "90", "15", "1", "61"}) {
    EXPECT_TRUE(one_problem(parse(one_alarm({{"Period", period}})), at("/Period"),
                            "must be 10, 20, 30 or a multiple of 60 (seconds), got"))
        << period;
  }
  for (const char* period : {"10", "20", "30", "60", "120", "300", "3600"}) {
    EXPECT_TRUE(loads(parse(one_alarm({{"Period", period}})))) << period;
  }
}

TEST(ParseConfig, MarksTenTwentyAndThirtySecondPeriodsAsHighResolution) {
  const ConfigLoadResult result = parse(one_alarm({{"Period", "10"}}));
  ASSERT_TRUE(loads(result));
  EXPECT_TRUE(result.config->metric_alarms[0].high_resolution());
}

TEST(ParseConfig, RejectsUnknownUnitWithSuggestion) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Unit", R"("Second")"}})), at("/Unit"),
                          "did you mean \"Seconds\"?"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Unit", R"("Furlongs")"}})), at("/Unit"),
                          "is not one of None, Seconds"));
}

TEST(ParseConfig, AcceptsEveryStandardUnit) {
  for (const std::string_view unit : unit_names()) {
    const ConfigLoadResult result = parse(one_alarm({{"Unit", json_string(unit)}}));
    ASSERT_TRUE(loads(result)) << unit;
    EXPECT_EQ(result.config->metric_alarms[0].unit, parse_unit(unit));
  }
}

TEST(ParseConfig, RequiresEvaluationPeriodsOfAtLeastOne) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"EvaluationPeriods", std::nullopt}})), kAlarm,
                          "missing required key \"EvaluationPeriods\""));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"EvaluationPeriods", "0"}})), at("/EvaluationPeriods"),
                          "must be at least 1, got 0"));
}

TEST(ParseConfig, RejectsEvaluationWindowLongerThanOneDayForPeriodsUnderAnHour) {
  EXPECT_TRUE(loads(parse(one_alarm({{"Period", "60"}, {"EvaluationPeriods", "1440"}}))));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Period", "60"}, {"EvaluationPeriods", "1441"}})),
                          at("/EvaluationPeriods"),
                          "Period × EvaluationPeriods is 86460 seconds; with a period under an "
                          "hour the limit is 86400 (one day)"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Period", "10"}, {"EvaluationPeriods", "8641"}})),
                          at("/EvaluationPeriods"), "one day"));
}

TEST(ParseConfig, RejectsEvaluationWindowLongerThanSevenDays) {
  EXPECT_TRUE(loads(parse(one_alarm({{"Period", "3600"}, {"EvaluationPeriods", "168"}}))));
  EXPECT_TRUE(loads(parse(one_alarm({{"Period", "86400"}, {"EvaluationPeriods", "7"}}))));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Period", "3600"}, {"EvaluationPeriods", "169"}})),
                          at("/EvaluationPeriods"),
                          "Period × EvaluationPeriods is 608400 seconds; the limit is 604800 "
                          "(seven days)"));
}

TEST(ParseConfig, RejectsDatapointsToAlarmOutside1ToEvaluationPeriods) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"DatapointsToAlarm", "3"}})), at("/DatapointsToAlarm"),
                          "must not exceed EvaluationPeriods (2), got 3"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"DatapointsToAlarm", "0"}})), at("/DatapointsToAlarm"),
                          "must be at least 1"));
  const ConfigLoadResult result = parse(one_alarm({{"DatapointsToAlarm", "1"}}));
  ASSERT_TRUE(loads(result));
  EXPECT_EQ(result.config->metric_alarms[0].effective_datapoints_to_alarm(), 1);
}

// ---------------------------------------------------------------------------------------------
// Thresholds and operators.

TEST(ParseConfig, RequiresComparisonOperator) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"ComparisonOperator", std::nullopt}})), kAlarm,
                          "missing required key \"ComparisonOperator\""));
}

TEST(ParseConfig, RejectsUnknownComparisonOperatorWithSuggestion) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"ComparisonOperator", R"("GreaterThanTreshold")"}})),
                          at("/ComparisonOperator"), "did you mean \"GreaterThanThreshold\"?"));
}

TEST(ParseConfig, RequiresThresholdForStaticOperators) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Threshold", std::nullopt}})), kAlarm,
                          "missing required key \"Threshold\" (required with ComparisonOperator "
                          "GreaterThanThreshold)"));
}

TEST(ParseConfig, RejectsThresholdWithBandOperators) {
  EXPECT_TRUE(one_problem(parse(one_anomaly_alarm({{"Threshold", "3"}})), at("/Threshold"),
                          "must not be set with ComparisonOperator "
                          "LessThanLowerOrGreaterThanUpperThreshold"));
}

TEST(ParseConfig, RequiresThresholdMetricIdForBandOperators) {
  EXPECT_TRUE(one_problem(parse(one_anomaly_alarm({{"ThresholdMetricId", std::nullopt}})),
                          at("/ComparisonOperator"),
                          "ComparisonOperators for ranges require ThresholdMetricId to be set"));
  EXPECT_TRUE(
      one_problem(parse(one_alarm({{"Threshold", std::nullopt},
                                   {"ComparisonOperator", R"("GreaterThanUpperThreshold")"}})),
                  at("/ComparisonOperator"), "require ThresholdMetricId"));
}

TEST(ParseConfig, RejectsThresholdMetricIdThatIsNotAnAnomalyDetectionBand) {
  EXPECT_TRUE(one_problem(parse(one_anomaly_alarm({{"ThresholdMetricId", R"("m1")"}})),
                          at("/ThresholdMetricId"),
                          "Threshold metric expression must use ANOMALY_DETECTION_BAND function"));
}

TEST(ParseConfig, RejectsThresholdMetricIdNamingNoEntry) {
  EXPECT_TRUE(one_problem(parse(one_anomaly_alarm({{"ThresholdMetricId", R"("band")"}})),
                          at("/ThresholdMetricId"),
                          "\"band\" is not the Id of an entry of Metrics (Ids: m1, ad1)"));
}

TEST(ParseConfig, RejectsThresholdMetricIdWithStaticOperator) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"ThresholdMetricId", R"("ad1")"}})),
                          at("/ThresholdMetricId"),
                          "is only used with the anomaly-detection operators"));
}

TEST(ParseConfig, RejectsAnomalyDetectionWithHighResolutionPeriod) {
  std::string metrics = *with(anomaly_alarm(), {})[3].second;
  metrics.replace(metrics.find("\"Period\": 300"), 13, "\"Period\": 30");
  EXPECT_TRUE(one_problem(parse(one_anomaly_alarm({{"Metrics", metrics}})),
                          at("/Metrics/0/MetricStat/Period"),
                          "anomaly-detection alarms need a period of at least 60 seconds"));
}

TEST(ParseConfig, RecordsWhetherTreatMissingDataWasSet) {
  const ConfigLoadResult result = parse(one_alarm({{"TreatMissingData", R"("missing")"}}));
  ASSERT_TRUE(loads(result));
  EXPECT_TRUE(result.config->metric_alarms[0].treat_missing_data_set);
  EXPECT_EQ(result.config->metric_alarms[0].treat_missing_data, TreatMissingData::kMissing);
}

TEST(ParseConfig, RejectsUnknownTreatMissingDataWithSuggestion) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"TreatMissingData", R"("NotBreaching")"}})),
                          at("/TreatMissingData"),
                          "is not one of missing, ignore, breaching, notBreaching; did you mean "
                          "\"notBreaching\"?"));
}

TEST(ParseConfig, AcceptsEvaluateLowSampleCountPercentileOnAnyAlarm) {
  const ConfigLoadResult result =
      parse(one_alarm({{"EvaluateLowSampleCountPercentile", R"("evaluate")"}}));
  ASSERT_TRUE(loads(result));
  EXPECT_EQ(result.config->metric_alarms[0].evaluate_low_sample_count_percentile,
            LowSampleCountPercentile::kEvaluate);
  EXPECT_TRUE(one_problem(parse(one_alarm({{"EvaluateLowSampleCountPercentile", R"("skip")"}})),
                          at("/EvaluateLowSampleCountPercentile"),
                          "is not one of evaluate, ignore"));
}

// ---------------------------------------------------------------------------------------------
// Tags.

TEST(ParseConfig, RejectsMoreThan50Tags) {
  std::string tags = "[";
  for (int i = 0; i < 51; ++i) {
    tags += (i == 0 ? "" : ",") + std::string(R"({"Key": "k)") + std::to_string(i) +
            R"(", "Value": "v"})";
  }
  tags += "]";
  EXPECT_TRUE(
      one_problem(parse(one_alarm({{"Tags", tags}})), at("/Tags"), "has 51 tags; at most 50"));
}

TEST(ParseConfig, RejectsTagKeyOrValueOutOfRange) {
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Tags", R"([{"Key": "", "Value": "v"}])"}})),
                          at("/Tags/0/Key"), "must not be empty"));
  EXPECT_TRUE(one_problem(
      parse(one_alarm(
          {{"Tags", "[{\"Key\": " + json_string(std::string(129, 'k')) + ", \"Value\": \"v\"}]"}})),
      at("/Tags/0/Key"), "1 to 128 characters"));
  EXPECT_TRUE(one_problem(
      parse(one_alarm(
          {{"Tags", "[{\"Key\": \"k\", \"Value\": " + json_string(std::string(257, 'v')) + "}]"}})),
      at("/Tags/0/Value"), "at most 256 characters"));
  EXPECT_TRUE(one_problem(parse(one_alarm({{"Tags", R"([{"Key": "k"}])"}})), at("/Tags/0"),
                          "missing required key \"Value\""));
}

TEST(ParseConfig, AcceptsEmptyTagValue) {
  const ConfigLoadResult result = parse(one_alarm({{"Tags", R"([{"Key": "team", "Value": ""}])"}}));
  ASSERT_TRUE(loads(result));
  EXPECT_EQ(result.config->metric_alarms[0].tags, (std::vector<Tag>{{"team", ""}}));
}

TEST(ParseConfig, RejectsDuplicateTagKeys) {
  EXPECT_TRUE(one_problem(
      parse(one_alarm(
          {{"Tags", R"([{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}])"}})),
      at("/Tags/1/Key"), "duplicate tag key \"team\""));
}

// ---------------------------------------------------------------------------------------------
// Metrics (MetricDataQuery).

std::string queries(int metric_stats, int expressions) {
  std::string out = "[";
  for (int i = 0; i < metric_stats; ++i) {
    out +=
        (out.size() > 1 ? "," : "") + std::string(R"({"Id": "m)") + std::to_string(i) +
        R"(", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "Sum"}})";
  }
  for (int i = 0; i < expressions; ++i) {
    out += (out.size() > 1 ? "," : "") + std::string(R"({"Id": "e)") + std::to_string(i) +
           R"(", "Expression": "m0 * 2", "ReturnData": )" + (i == 0 ? "true" : "false") + "}";
  }
  return out + "]";
}

TEST(ParseConfig, RejectsMoreThan20Queries) {
  EXPECT_TRUE(loads(parse(one_math_alarm({{"Metrics", queries(10, 10)}}))));
  const ConfigLoadResult result = parse(one_math_alarm({{"Metrics", queries(10, 11)}}));
  ASSERT_EQ(result.problems.size(), 2U) << describe(result);
  EXPECT_EQ(result.problems[0].pointer, at("/Metrics"));
  EXPECT_THAT(result.problems[0].message, HasSubstr("has 21 entries; at most 20"));
  EXPECT_THAT(result.problems[1].message, HasSubstr("11 entries with Expression; at most 10"));
}

TEST(ParseConfig, RejectsMoreThan10MetricStatQueries) {
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", queries(11, 1)}})), at("/Metrics"),
                          "has 11 entries with MetricStat; at most 10"));
}

TEST(ParseConfig, RejectsMoreThan10ExpressionQueries) {
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", queries(1, 11)}})), at("/Metrics"),
                          "has 11 entries with Expression; at most 10"));
}

TEST(ParseConfig, RejectsEmptyMetrics) {
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", "[]"}})), at("/Metrics"),
                          "must have at least one entry"));
}

TEST(ParseConfig, RequiresQueryId) {
  EXPECT_TRUE(one_problem(
      parse(one_math_alarm({{"Metrics", R"j([{"Expression": "TIME_SERIES(1)", "Period": 60}])j"}})),
      at("/Metrics/0"), "missing required key \"Id\""));
}

TEST(ParseConfig, RejectsQueryIdNotStartingWithALowerCaseLetter) {
  for (const char* id : {"M1", "1m", "_m", "m-1", "m 1", "é1"}) {
    const std::string metrics =
        "[{\"Id\": " + json_string(id) + R"j(, "Expression": "TIME_SERIES(1)", "Period": 60}])j";
    EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", metrics}})), at("/Metrics/0/Id"),
                            "must start with a lower-case letter and contain only letters, "
                            "digits and underscores"))
        << id;
  }
  EXPECT_TRUE(loads(parse(one_math_alarm(
      {{"Metrics", R"j([{"Id": "a_B9", "Expression": "TIME_SERIES(1)", "Period": 60}])j"}}))));
}

TEST(ParseConfig, RejectsQueryIdLongerThan255Characters) {
  const std::string metrics = "[{\"Id\": " + json_string("m" + std::string(255, 'x')) +
                              R"j(, "Expression": "TIME_SERIES(1)", "Period": 60}])j";
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", metrics}})), at("/Metrics/0/Id"),
                          "1 to 255 characters"));
}

TEST(ParseConfig, RejectsDuplicateQueryIds) {
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", R"j([
      {"Id": "e1", "Expression": "TIME_SERIES(1)", "Period": 60, "ReturnData": false},
      {"Id": "e1", "Expression": "TIME_SERIES(2)", "Period": 60}])j"}})),
                          at("/Metrics/1/Id"),
                          "duplicate Id \"e1\": already used at /MetricAlarms/0/Metrics/0/Id"));
}

TEST(ParseConfig, RequiresExactlyOneOfMetricStatAndExpression) {
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", R"([{"Id": "e1", "Period": 60}])"}})),
                          at("/Metrics/0"), "needs exactly one of MetricStat or Expression"));
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", R"([{"Id": "m1", "Expression": "1",
      "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 60,
                     "Stat": "Sum"}}])"}})),
                          at("/Metrics/0/Expression"), "cannot be used together with MetricStat"));
}

TEST(ParseConfig, RejectsExpressionOutside1To2048Characters) {
  EXPECT_TRUE(one_problem(
      parse(one_math_alarm({{"Metrics", R"([{"Id": "e1", "Expression": "", "Period": 60}])"}})),
      at("/Metrics/0/Expression"), "must not be empty"));
  const std::string metrics = R"([{"Id": "e1", "Expression": )" +
                              json_string("1" + std::string(2048, ' ')) + R"(, "Period": 60}])";
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", metrics}})),
                          at("/Metrics/0/Expression"), "1 to 2048 characters"));
}

TEST(ParseConfig, RejectsSearchExpressions) {
  for (const char* expression : {"SEARCH('{AWS/EC2,InstanceId} CPUUtilization', 'Average', 300)",
                                 "MAX(SEARCH ('Errors', 'Sum'))", "search('x')"}) {
    const std::string metrics =
        R"([{"Id": "e1", "Expression": )" + json_string(expression) + R"(, "Period": 300}])";
    EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", metrics}})),
                            at("/Metrics/0/Expression"),
                            "SEARCH expressions cannot be used in alarms"))
        << expression;
  }
  // A metric Id that merely contains the word is fine.
  EXPECT_TRUE(loads(parse(one_math_alarm({{"Metrics", R"([
      {"Id": "research", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "N",
       "MetricName": "M"}, "Period": 60, "Stat": "Sum"}},
      {"Id": "e1", "Expression": "research * 2"}])"}}))));
}

TEST(ParseConfig, RequiresMetricStatFields) {
  const ConfigLoadResult result =
      parse(one_math_alarm({{"Metrics", R"([{"Id": "m1", "MetricStat": {"Metric": {}}}])"}}));
  ASSERT_EQ(result.problems.size(), 4U) << describe(result);
  EXPECT_EQ(result.problems[0].pointer, at("/Metrics/0/MetricStat/Metric"));
  EXPECT_THAT(result.problems[0].message, HasSubstr("missing required key \"Namespace\""));
  EXPECT_THAT(result.problems[1].message, HasSubstr("missing required key \"MetricName\""));
  EXPECT_EQ(result.problems[2].pointer, at("/Metrics/0/MetricStat"));
  EXPECT_THAT(result.problems[2].message, HasSubstr("missing required key \"Period\""));
  EXPECT_THAT(result.problems[3].message, HasSubstr("missing required key \"Stat\""));
}

TEST(ParseConfig, RejectsInvalidMetricStatPeriod) {
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", R"([{"Id": "m1",
      "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 45,
                     "Stat": "Sum"}}])"}})),
                          at("/Metrics/0/MetricStat/Period"), "multiple of 60"));
}

TEST(ParseConfig, RejectsMetricStatsWithDifferentPeriods) {
  std::string metrics = queries(2, 1);
  metrics.replace(metrics.rfind("\"Period\": 60"), 12, "\"Period\": 300");
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", metrics}})),
                          at("/Metrics/1/MetricStat/Period"),
                          "all MetricStat periods of an alarm must be equal; "
                          "/MetricAlarms/0/Metrics/0/MetricStat/Period is 60, this is 300"));
}

TEST(ParseConfig, TakesThePeriodOfAnExpressionOnlyAlarmFromTheQuery) {
  const ConfigLoadResult result = parse(one_math_alarm(
      {{"Metrics", R"j([{"Id": "q1", "Expression": "SERVICE_QUOTA(m1)", "Period": 300}])j"}}));
  ASSERT_TRUE(loads(result));
  EXPECT_EQ(result.config->metric_alarms[0].period, 300);
  EXPECT_TRUE(one_problem(
      parse(one_math_alarm({{"Metrics", R"j([{"Id": "q1", "Expression": "TIME_SERIES(1)"}])j"}})),
      at("/Metrics"), "no period"));
}

TEST(ParseConfig, AcceptsAnyStatisticInMetricStat) {
  for (const char* stat : {"Sum", "SampleCount", "p99", "p99.9", "Maximum"}) {
    std::string metrics = queries(1, 1);
    metrics.replace(metrics.find("\"Sum\""), 5, json_string(stat));
    EXPECT_TRUE(loads(parse(one_math_alarm({{"Metrics", metrics}})))) << stat;
  }
}

TEST(ParseConfig, RejectsUnsupportedStatInMetricStat) {
  std::string metrics = queries(1, 1);
  metrics.replace(metrics.find("\"Sum\""), 5, R"j("TM(10%:90%)")j");
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", metrics}})),
                          at("/Metrics/0/MetricStat/Stat"), "is not supported yet"));
  metrics = queries(1, 1);
  metrics.replace(metrics.find("\"Sum\""), 5, R"("Avg")");
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", metrics}})),
                          at("/Metrics/0/MetricStat/Stat"), "is not a statistic"));
}

TEST(ParseConfig, RequiresExactlyOneQueryWithReturnDataTrue) {
  // ReturnData omitted everywhere: all three entries default to true.
  const std::string omitted = R"([
    {"Id": "a", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "A"}, "Period": 60,
                               "Stat": "Sum"}},
    {"Id": "b", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "B"}, "Period": 60,
                               "Stat": "Sum"}},
    {"Id": "e", "Expression": "a / b"}])";
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", omitted}})), at("/Metrics"),
                          "3 entries have ReturnData true (/MetricAlarms/0/Metrics/0, "
                          "/MetricAlarms/0/Metrics/1, /MetricAlarms/0/Metrics/2); exactly one "
                          "must, and ReturnData is true when omitted"));
  std::string none = queries(2, 1);
  none.replace(none.find("\"ReturnData\": true"), 18, "\"ReturnData\": false");
  EXPECT_TRUE(one_problem(parse(one_math_alarm({{"Metrics", none}})), at("/Metrics"),
                          "no entry has ReturnData true"));
}

TEST(ParseConfig, AllowsOnlyTheBandBesidesOneReturnDataTrueInAnomalyAlarms) {
  const std::string metrics = R"j([
    {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 300,
                                "Stat": "Average"}},
    {"Id": "m2", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M2"}, "Period": 300,
                                "Stat": "Average"}},
    {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1)"}])j";
  EXPECT_TRUE(one_problem(parse(one_anomaly_alarm({{"Metrics", metrics}})), at("/Metrics"),
                          "2 entries besides the ThresholdMetricId entry have ReturnData true"));
}

TEST(ParseConfig, RejectsInvalidQueryAccountId) {
  EXPECT_TRUE(one_problem(
      parse(one_math_alarm({{"Metrics", R"j([{"Id": "e1", "Expression": "TIME_SERIES(1)",
                                            "Period": 60, "AccountId": "1234"}])j"}})),
      at("/Metrics/0/AccountId"), "12-digit AWS account id"));
}

// ---------------------------------------------------------------------------------------------
// Composite alarms.

TEST(ParseConfig, LoadsCompositeAlarm) {
  const ConfigLoadResult result = parse(one_composite({
      {"AlarmDescription", R"("both")"},
      {"ActionsEnabled", "false"},
      {"AlarmActions", R"(["arn:aws:sns:us-east-1:123456789012:pager"])"},
      {"Tags", R"([{"Key": "team", "Value": "web"}])"},
  }));
  ASSERT_TRUE(loads(result));
  const CompositeAlarmConfig& alarm = result.config->composite_alarms.at(0);
  EXPECT_EQ(alarm.alarm_name, "service-down");
  EXPECT_EQ(alarm.alarm_rule, "ALARM(cpu-high) AND ALARM(error-rate)");
  EXPECT_FALSE(alarm.actions_enabled);
  EXPECT_EQ(alarm.alarm_actions.size(), 1U);
  EXPECT_EQ(alarm.tags, (std::vector<Tag>{{"team", "web"}}));
  EXPECT_TRUE(alarm.actions_suppressor.empty());
  EXPECT_FALSE(alarm.actions_suppressor_wait_period.has_value());
}

TEST(ParseConfig, RequiresAlarmRuleOf1To10240Characters) {
  EXPECT_TRUE(one_problem(parse(one_composite({{"AlarmRule", std::nullopt}})), "/CompositeAlarms/0",
                          "missing required key \"AlarmRule\""));
  EXPECT_TRUE(one_problem(parse(one_composite({{"AlarmRule", R"("")"}})),
                          "/CompositeAlarms/0/AlarmRule", "must not be empty"));
  EXPECT_TRUE(
      one_problem(parse(one_composite({{"AlarmRule", json_string(std::string(10'241, 'x'))}})),
                  "/CompositeAlarms/0/AlarmRule", "1 to 10240 characters"));
}

TEST(ParseConfig, RequiresCompositeAlarmName) {
  EXPECT_TRUE(one_problem(parse(one_composite({{"AlarmName", std::nullopt}})), "/CompositeAlarms/0",
                          "missing required key \"AlarmName\""));
}

TEST(ParseConfig, RequiresBothSuppressorPeriodsWithActionsSuppressor) {
  const ConfigLoadResult result = parse(one_composite({{"ActionsSuppressor", R"("maint")"}}));
  ASSERT_EQ(result.problems.size(), 2U) << describe(result);
  EXPECT_EQ(result.problems[0].pointer, "/CompositeAlarms/0");
  EXPECT_THAT(result.problems[0].message,
              HasSubstr("missing required key \"ActionsSuppressorWaitPeriod\" (required when "
                        "ActionsSuppressor is set)"));
  EXPECT_THAT(result.problems[1].message,
              HasSubstr("missing required key \"ActionsSuppressorExtensionPeriod\""));
  EXPECT_TRUE(one_problem(parse(one_composite({{"ActionsSuppressor", R"("maint")"},
                                               {"ActionsSuppressorWaitPeriod", "60"}})),
                          "/CompositeAlarms/0", "ActionsSuppressorExtensionPeriod"));
}

TEST(ParseConfig, RejectsNegativeSuppressorPeriods) {
  EXPECT_TRUE(one_problem(parse(one_composite({{"ActionsSuppressor", R"("maint")"},
                                               {"ActionsSuppressorWaitPeriod", "-1"},
                                               {"ActionsSuppressorExtensionPeriod", "60"}})),
                          "/CompositeAlarms/0/ActionsSuppressorWaitPeriod",
                          "must be at least 0, got -1"));
}

TEST(ParseConfig, RejectsMoreThanFiveCompositeActions) {
  EXPECT_TRUE(one_problem(
      parse(one_composite(
          {{"OKActions", R"(["arn:a", "arn:b", "arn:c", "arn:d", "arn:e", "arn:f"])"}})),
      "/CompositeAlarms/0/OKActions", "at most 5"));
}

// ---------------------------------------------------------------------------------------------
// The trailwatch section.

TEST(ParseConfig, LoadsEverySetting) {
  const ConfigLoadResult result = parse(with_settings(R"({
    "account_id": "123456789012",
    "region": "eu-central-1",
    "extra_evaluation_periods": 3,
    "metric_lateness_seconds": 120,
    "cloudtrail_lateness_seconds": 1800,
    "max_time_jump_seconds": 0,
    "max_record_bytes": 2097152,
    "max_file_bytes": 4294967296,
    "max_series": 1000,
    "shards": 4,
    "inputs": [
      {"name": "metrics", "path": "/var/lib/metrics", "format": "metric_stream",
       "allowed_lateness_seconds": 60, "account_id": "210987654321", "region": "us-west-2"},
      {"name": "trail", "type": "stdin", "format": "cloudtrail"}
    ],
    "outputs": {"emissions": "/var/log/tw/emissions.jsonl", "dead_letters": "-",
                "datapoints": ""}
  })"));
  ASSERT_TRUE(loads(result));
  const Settings& s = result.config->settings;
  EXPECT_EQ(s.account_id, "123456789012");
  EXPECT_EQ(s.region, "eu-central-1");
  EXPECT_EQ(s.extra_evaluation_periods, 3);
  EXPECT_EQ(s.metric_lateness, Duration::seconds(120));
  EXPECT_EQ(s.cloudtrail_lateness, Duration::seconds(1800));
  EXPECT_EQ(s.max_time_jump, Duration::seconds(0));
  EXPECT_EQ(s.max_record_bytes, 2'097'152);
  EXPECT_EQ(s.max_file_bytes, 4'294'967'296);
  EXPECT_EQ(s.max_series, 1000);
  EXPECT_EQ(s.shards, 4);
  ASSERT_EQ(s.inputs.size(), 2U);
  EXPECT_EQ(s.inputs[0].name, "metrics");
  EXPECT_EQ(s.inputs[0].type, InputConfig::Type::kFile);
  EXPECT_EQ(s.inputs[0].path, "/var/lib/metrics");
  EXPECT_EQ(s.inputs[0].format, InputFormat::kMetricStream);
  EXPECT_EQ(s.inputs[0].allowed_lateness, Duration::seconds(60));
  EXPECT_EQ(s.inputs[0].account_id, "210987654321");
  EXPECT_EQ(s.inputs[0].region, "us-west-2");
  EXPECT_EQ(s.inputs[1].type, InputConfig::Type::kStdin);
  EXPECT_EQ(s.inputs[1].format, InputFormat::kCloudTrail);
  EXPECT_FALSE(s.inputs[1].allowed_lateness.has_value());
  EXPECT_EQ(s.outputs.emissions, "/var/log/tw/emissions.jsonl");
  EXPECT_EQ(s.outputs.dead_letters, "-");
  EXPECT_EQ(s.outputs.datapoints, "");
}

TEST(ParseConfig, RejectsAccountIdThatIsNotTwelveDigits) {
  for (const char* id : {"12345678901", "1234567890123", "12345678901a", ""}) {
    EXPECT_TRUE(one_problem(parse(with_settings("{\"account_id\": " + json_string(id) + "}")),
                            "/trailwatch/account_id", "must be a 12-digit AWS account id"))
        << id;
  }
}

TEST(ParseConfig, RejectsMalformedRegion) {
  for (const char* region : {"US-EAST-1", "useast1", "us-east", "us-east-1a", "u-east-1", ""}) {
    EXPECT_TRUE(one_problem(parse(with_settings("{\"region\": " + json_string(region) + "}")),
                            "/trailwatch/region", "must be an AWS Region code"))
        << region;
  }
  for (const char* region : {"us-gov-west-1", "ap-southeast-2", "cn-north-1", "il-central-1"}) {
    EXPECT_TRUE(loads(parse(with_settings("{\"region\": " + json_string(region) + "}")))) << region;
  }
}

TEST(ParseConfig, RejectsSettingsOutsideTheirLimits) {
  struct Case {
    const char* key;
    const char* value;
    const char* fragment;
  };

  for (const Case& c : std::vector<Case>{
           {"extra_evaluation_periods", "101", "between 0 and 100"},
           {"extra_evaluation_periods", "-1", "between 0 and 100"},
           {"metric_lateness_seconds", "86401", "between 0 and 86400"},
           {"cloudtrail_lateness_seconds", "-5", "between 0 and 86400"},
           {"max_time_jump_seconds", "315360001", "between 0 and 315360000"},
           {"max_record_bytes", "1023", "between 1024 and 67108864"},
           {"max_record_bytes", "67108865", "between 1024 and 67108864"},
           {"max_file_bytes", "1048575", "between 1048576 and 4294967296"},
           {"max_file_bytes", "4294967297", "between 1048576 and 4294967296"},
           {"max_series", "0", "between 1 and 1000000000"},
           {"shards", "257", "between 0 and 256"},
           {"shards", "2.5", "expected an integer, got 2.5"},
       }) {
    const std::string text =
        with_settings("{\"" + std::string(c.key) + "\": " + std::string(c.value) + "}");
    EXPECT_TRUE(one_problem(parse(text), "/trailwatch/" + std::string(c.key), c.fragment))
        << c.key << " " << c.value;
  }
}

TEST(ParseConfig, RequiresInputName) {
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"inputs": [{"path": "/x"}]})")),
                          "/trailwatch/inputs/0", "missing required key \"name\""));
}

TEST(ParseConfig, RejectsDuplicateInputNames) {
  EXPECT_TRUE(
      one_problem(parse(with_settings(
                      R"({"inputs": [{"name": "a", "path": "/x"}, {"name": "a", "path": "/y"}]})")),
                  "/trailwatch/inputs/1/name",
                  "duplicate input name \"a\": already used at /trailwatch/inputs/0/name"));
}

TEST(ParseConfig, RejectsInputNameWithCharactersThatNeedQuoting) {
  EXPECT_TRUE(
      one_problem(parse(with_settings(R"({"inputs": [{"name": "my input", "path": "/x"}]})")),
                  "/trailwatch/inputs/0/name", "may contain only letters, digits"));
}

TEST(ParseConfig, RequiresPathForFileInputs) {
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"inputs": [{"name": "a", "type": "file"}]})")),
                          "/trailwatch/inputs/0", "missing required key \"path\""));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"inputs": [{"name": "a", "path": ""}]})")),
                          "/trailwatch/inputs/0/path", "must not be empty"));
}

TEST(ParseConfig, RejectsPathForStdinInputs) {
  EXPECT_TRUE(one_problem(
      parse(with_settings(R"({"inputs": [{"name": "a", "type": "stdin", "path": "/x"}]})")),
      "/trailwatch/inputs/0/path", "is not used with type \"stdin\""));
}

TEST(ParseConfig, RejectsSecondStdinInput) {
  EXPECT_TRUE(one_problem(
      parse(with_settings(
          R"({"inputs": [{"name": "a", "type": "stdin"}, {"name": "b", "type": "stdin"}]})")),
      "/trailwatch/inputs/1/type",
      "only one input can read standard input; /trailwatch/inputs/0 already "
      "does"));
}

TEST(ParseConfig, RejectsUnknownInputTypeAndFormat) {
  EXPECT_TRUE(one_problem(
      parse(with_settings(R"({"inputs": [{"name": "a", "type": "kafak", "path": "/x"}]})")),
      "/trailwatch/inputs/0/type", "\"kafak\" is not one of file, stdin, kafka"));
  EXPECT_TRUE(one_problem(
      parse(with_settings(R"({"inputs": [{"name": "a", "path": "/x", "format": "cloudtrial"}]})")),
      "/trailwatch/inputs/0/format", "did you mean \"cloudtrail\"?"));
}

TEST(ParseConfig, LoadsKafkaInputsOutputsAndLiveSettings) {
  const ConfigLoadResult r = parse(with_settings(R"({
    "kafka": {"bootstrap.servers": "b1:9092,b2:9092", "sasl.password": "${env:KAFKA_PASSWORD}",
              "socket.keepalive.enable": true, "fetch.wait.max.ms": 50},
    "inputs": [{"name": "metrics", "type": "kafka", "topic": "cw.metrics", "format": "metric_stream",
                "properties": {"fetch.max.bytes": "1048576"}},
               {"name": "trail", "type": "kafka", "topic": "cloudtrail", "group_id": "tw-trail"}],
    "outputs": {"emissions": "kafka:alarm-events", "dead_letters": "kafka:tw-dead-letters"},
    "http_listen": "127.0.0.1:9464", "idle_timeout_seconds": 45})"));
  ASSERT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems[0].to_string());
  const Settings& s = r.config->settings;
  ASSERT_EQ(s.inputs.size(), 2U);
  EXPECT_EQ(s.inputs[0].type, InputConfig::Type::kKafka);
  EXPECT_EQ(s.inputs[0].topic, "cw.metrics");
  EXPECT_EQ(s.inputs[0].group_id, "trailwatch");
  EXPECT_EQ(s.inputs[0].properties, (KafkaProperties{{"fetch.max.bytes", "1048576"}}));
  EXPECT_EQ(s.inputs[1].group_id, "tw-trail");
  EXPECT_EQ(s.kafka, (KafkaProperties{{"bootstrap.servers", "b1:9092,b2:9092"},
                                      {"sasl.password", "${env:KAFKA_PASSWORD}"},
                                      {"socket.keepalive.enable", "true"},
                                      {"fetch.wait.max.ms", "50"}}));
  EXPECT_EQ(s.outputs.emissions, "kafka:alarm-events");
  EXPECT_EQ(s.http_listen, "127.0.0.1:9464");
  EXPECT_EQ(s.idle_timeout, Duration::seconds(45));
}

TEST(ParseConfig, KafkaInputsNeedATopicAndNoPath) {
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"inputs": [{"name": "a", "type": "kafka"}]})")),
                          "/trailwatch/inputs/0", "missing required key \"topic\""));
  EXPECT_TRUE(one_problem(
      parse(with_settings(
          R"({"inputs": [{"name": "a", "type": "kafka", "topic": "t", "path": "/x"}]})")),
      "/trailwatch/inputs/0/path", "is not used with type \"kafka\""));
  EXPECT_TRUE(one_problem(
      parse(with_settings(R"({"inputs": [{"name": "a", "path": "/x", "topic": "t"}]})")),
      "/trailwatch/inputs/0/topic", "is used only with type \"kafka\""));
  EXPECT_TRUE(one_problem(
      parse(with_settings(R"({"inputs": [{"name": "a", "type": "kafka", "topic": "a topic"}]})")),
      "/trailwatch/inputs/0/topic", "may contain only letters, digits"));
}

TEST(ParseConfig, RejectsBadKafkaPropertiesAndListenAddresses) {
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"kafka": {"Bootstrap Servers": "x"}})")),
                          "/trailwatch/kafka/Bootstrap Servers",
                          "is not a librdkafka property name"));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"kafka": {"linger.ms": 0.5}})")),
                          "/trailwatch/kafka/linger.ms",
                          "expected a string, an integer or a boolean, got a number"));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"http_listen": "localhost"})")),
                          "/trailwatch/http_listen", "is not HOST:PORT or :PORT"));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"http_listen": ":70000"})")),
                          "/trailwatch/http_listen", "is not HOST:PORT or :PORT"));
  EXPECT_TRUE(loads(parse(with_settings(R"({"http_listen": ""})"))));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"outputs": {"datapoints": "kafka:dp"}})")),
                          "/trailwatch/outputs/datapoints", "not to Kafka"));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"outputs": {"emissions": "kafka:"}})")),
                          "/trailwatch/outputs/emissions", "must not be empty"));
}

TEST(ParseConfig, StateStoreDefaultsToKafkaWithKafkaInputsAndToNoneOtherwise) {
  const ConfigLoadResult live = parse(with_settings(
      R"({"inputs": [{"name": "m", "type": "kafka", "topic": "t"}],
          "state": {"topic": "tw.state", "checkpoint_interval_seconds": 5}})"));
  ASSERT_TRUE(loads(live));
  EXPECT_EQ(live.config->settings.state.store, StateConfig::Store::kKafka);
  EXPECT_EQ(live.config->settings.state.topic, "tw.state");
  EXPECT_EQ(live.config->settings.state.checkpoint_interval, Duration::seconds(5));
  const ConfigLoadResult files =
      parse(with_settings(R"({"inputs": [{"name": "f", "path": "x"}]})"));
  ASSERT_TRUE(loads(files));
  EXPECT_EQ(files.config->settings.state.store, StateConfig::Store::kNone);
  EXPECT_EQ(files.config->settings.state.checkpoint_interval, Duration::seconds(10));
  const ConfigLoadResult directory = parse(
      with_settings(R"({"state": {"store": "directory", "directory": "/var/lib/trailwatch"}})"));
  ASSERT_TRUE(loads(directory));
  EXPECT_EQ(directory.config->settings.state.store, StateConfig::Store::kDirectory);
  EXPECT_EQ(directory.config->settings.state.directory, "/var/lib/trailwatch");
  const ConfigLoadResult none = parse(with_settings(
      R"({"inputs": [{"name": "m", "type": "kafka", "topic": "t"}], "state": {"store": "none"}})"));
  ASSERT_TRUE(loads(none));
  EXPECT_EQ(none.config->settings.state.store, StateConfig::Store::kNone);
}

TEST(ParseConfig, RejectsBadStateSettings) {
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"state": {"store": "directory"}})")),
                          "/trailwatch/state",
                          "missing required key \"directory\" (required when store is"));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"state": {"store": "kafka"}})")),
                          "/trailwatch/state/store", "there is none; use \"directory\""));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"state": {"store": "s3"}})")),
                          "/trailwatch/state/store", "expected one of: kafka, directory, none"));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"state": {"checkpoint_interval_seconds": 0}})")),
                          "/trailwatch/state/checkpoint_interval_seconds", "1"));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"state": {"topic": "a b"}})")),
                          "/trailwatch/state/topic", "may contain only letters, digits"));
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"state": {"dir": "/x"}})")),
                          "/trailwatch/state/dir", "directory"));
}

TEST(ParseConfig, ScaleOutNeedsTheKafkaStoreAndOnlyKafkaInputs) {
  const ConfigLoadResult shared = parse(with_settings(
      R"({"inputs": [{"name": "m", "type": "kafka", "topic": "t"}],
          "state": {"topic": "tw.tasks", "scale_out": true}})"));
  ASSERT_TRUE(loads(shared));
  EXPECT_TRUE(shared.config->settings.state.scale_out);
  const ConfigLoadResult single =
      parse(with_settings(R"({"inputs": [{"name": "m", "type": "kafka", "topic": "t"}]})"));
  ASSERT_TRUE(loads(single));
  EXPECT_FALSE(single.config->settings.state.scale_out);
  EXPECT_TRUE(
      one_problem(parse(with_settings(R"({"inputs": [{"name": "m", "type": "kafka", "topic": "t"}],
                              "state": {"store": "none", "scale_out": true}})")),
                  "/trailwatch/state/scale_out", "needs store \"kafka\""));
  EXPECT_TRUE(
      one_problem(parse(with_settings(R"({"inputs": [{"name": "m", "type": "kafka", "topic": "t"},
                                         {"name": "f", "path": "x"}],
                              "state": {"scale_out": true}})")),
                  "/trailwatch/state/scale_out", "file and stdin inputs cannot be shared"));
  EXPECT_TRUE(
      one_problem(parse(with_settings(R"({"inputs": [{"name": "m", "type": "kafka", "topic": "t"}],
                              "state": {"scale_out": "yes"}})")),
                  "/trailwatch/state/scale_out", "boolean"));
}

constexpr std::string_view kActionsSection = R"({"actions": {
  "dry_run": true,
  "delivery": {"max_attempts": 3, "initial_backoff_ms": 200, "timeout_ms": 2000},
  "aws": {"endpoints": {"ec2": "http://127.0.0.1:4566"}},
  "targets": {
    "arn:aws:sns:us-east-1:123456789012:ops": {"type": "webhook", "url": "https://hooks.example/ops",
        "format": "sns", "secret": "${env:OPS_SECRET}", "headers": {"X-Team": "ops"}},
    "pager": {"type": "webhook", "url": "https://events.pagerduty.com/v2/enqueue",
        "format": "pagerduty", "routing_key": "${file:/run/secrets/pd}", "severity": "error",
        "delivery": {"max_attempts": 6, "rate_per_second": 2, "burst": 4}},
    "am": {"type": "alertmanager", "url": "http://alertmanager:9093", "resend_interval_seconds": 30},
    "scale-web": {"type": "kubernetes_scale", "namespace": "shop", "name": "web", "mode": "add",
        "replicas": 2, "min_replicas": 2, "max_replicas": 10, "cooldown_seconds": 300},
    "stop-it": {"type": "ec2", "operation": "stop", "dry_run": false},
    "asg": {"type": "autoscaling", "operation": "set_desired_capacity", "group": "web-asg",
        "desired_capacity": 4, "honor_cooldown": true}
  }}})";

TEST(ParseConfig, LoadsActionTargetsWithTheirDeliveryPolicies) {
  const ConfigLoadResult result = parse(with_settings(kActionsSection));
  ASSERT_TRUE(loads(result)) << describe(result);
  const ActionsConfig& actions = result.config->settings.actions;
  EXPECT_TRUE(actions.dry_run);
  EXPECT_EQ(actions.delivery.max_attempts, 3);
  ASSERT_EQ(actions.aws_endpoints.size(), 1U);
  EXPECT_EQ(actions.aws_endpoints[0].second, "http://127.0.0.1:4566");
  ASSERT_EQ(actions.targets.size(), 6U);
  const ActionTargetConfig* sns = actions.find("arn:aws:sns:us-east-1:123456789012:ops");
  ASSERT_NE(sns, nullptr);
  EXPECT_EQ(sns->format, "sns");
  EXPECT_EQ(sns->secret, "${env:OPS_SECRET}");
  EXPECT_EQ(sns->delivery.max_attempts, 3);  // The section's default.
  EXPECT_EQ(sns->delivery.initial_backoff.millis(), 200);
  ASSERT_EQ(sns->headers.size(), 1U);
  const ActionTargetConfig* pager = actions.find("pager");
  ASSERT_NE(pager, nullptr);
  EXPECT_EQ(pager->delivery.max_attempts, 6);
  EXPECT_EQ(pager->delivery.timeout.millis(), 2000);  // Defaults under its own overrides.
  EXPECT_DOUBLE_EQ(pager->delivery.rate_per_second, 2);
  EXPECT_EQ(pager->severity, "error");
  const ActionTargetConfig* scale = actions.find("scale-web");
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ(scale->type, ActionTargetConfig::Type::kKubernetesScale);
  EXPECT_EQ(scale->mode, ActionTargetConfig::ScaleMode::kAdd);
  EXPECT_EQ(scale->max_replicas, 10);
  EXPECT_EQ(scale->cooldown.millis(), 300'000);
  EXPECT_EQ(scale->kind, "Deployment");
  const ActionTargetConfig* asg = actions.find("asg");
  ASSERT_NE(asg, nullptr);
  EXPECT_EQ(asg->replicas, 4);
  EXPECT_EQ(asg->honor_cooldown, true);
  EXPECT_EQ(actions.find("nope"), nullptr);
}

TEST(ParseConfig, ReportsWhatIsWrongWithAnActionTarget) {
  const auto target = [](std::string_view body) {
    return parse(with_settings(std::string(R"({"actions": {"targets": {"t": )") +
                               std::string(body) + "}}}"));
  };
  EXPECT_TRUE(one_problem(target(R"({"type": "webhok", "url": "http://x"})"),
                          "/trailwatch/actions/targets/t/type", "did you mean \"webhook\"?"));
  EXPECT_TRUE(
      one_problem(target(R"({"type": "webhook"})"), "/trailwatch/actions/targets/t", "url"));
  EXPECT_TRUE(one_problem(target(R"({"type": "webhook", "url": "ftp://x"})"),
                          "/trailwatch/actions/targets/t/url",
                          "is not an http:// or https:// URL"));
  EXPECT_TRUE(one_problem(target(R"({"type": "webhook", "url": "http://x", "secret": "hunter2"})"),
                          "/trailwatch/actions/targets/t/secret", "must be a reference"));
  EXPECT_TRUE(
      one_problem(target(R"({"type": "webhook", "url": "http://x", "format": "pagerduty"})"),
                  "/trailwatch/actions/targets/t", "routing_key"));
  EXPECT_TRUE(one_problem(target(R"({"type": "webhook", "url": "http://x", "replicas": 2})"),
                          "/trailwatch/actions/targets/t/replicas", "a webhook target"));
  EXPECT_TRUE(loads(target(R"({"type": "webhook", "url": "${env:SLACK_WEBHOOK_URL}"})")));
  EXPECT_TRUE(one_problem(target(R"({"type": "webhook", "url": "${vault:x}"})"),
                          "/trailwatch/actions/targets/t/url", "is a reference"));
  EXPECT_TRUE(one_problem(target(R"({"type": "alertmanager", "url": "${env:AM}"})"),
                          "/trailwatch/actions/targets/t/url", "is not an http:// or https://"));
  EXPECT_TRUE(one_problem(target(R"({"type": "kubernetes_scale", "name": "web"})"),
                          "/trailwatch/actions/targets/t", "max_replicas"));
  EXPECT_TRUE(one_problem(
      target(
          R"({"type": "kubernetes_scale", "name": "web", "min_replicas": 5, "max_replicas": 3})"),
      "/trailwatch/actions/targets/t/min_replicas", "must not be more than max_replicas"));
  EXPECT_TRUE(one_problem(target(R"({"type": "ec2", "operation": "hibernate"})"),
                          "/trailwatch/actions/targets/t/operation", "stop, terminate, reboot"));
  EXPECT_TRUE(one_problem(target(R"({"type": "autoscaling", "operation": "execute_policy"})"),
                          "/trailwatch/actions/targets/t", "policy"));
  EXPECT_TRUE(one_problem(
      target(R"({"type": "webhook", "url": "http://x", "delivery": {"max_attempts": 0}})"),
      "/trailwatch/actions/targets/t/delivery/max_attempts", "between 1 and 20"));
  EXPECT_TRUE(one_problem(
      target(R"({"type": "webhook", "url": "http://x", "delivery": {"initial_backoff_ms": 5000,
                                                                    "max_backoff_ms": 1000}})"),
      "/trailwatch/actions/targets/t/delivery", "must not be less than initial_backoff_ms"));
  EXPECT_TRUE(
      one_problem(target(R"({"type": "webhook", "url": "http://x", "headers": {"X-A": "1\n2"}})"),
                  "/trailwatch/actions/targets/t/headers/X-A", "control characters"));
}

TEST(ParseConfig, ActionListsNameTargetsOrArns) {
  const std::string settings = R"({"actions": {"targets": {"hook": {"type": "webhook",
                                                                      "url": "http://x"}}}})";
  const auto with_actions = [&](std::string_view actions) {
    return std::string(R"({"MetricAlarms": [)") +
           object(with(cpu_alarm(), {{"AlarmActions", std::string(actions)}})) +
           R"(], "trailwatch": )" + settings + "}";
  };
  EXPECT_TRUE(loads(parse(with_actions(
      R"(["hook", "arn:aws:sns:us-east-1:1:t", "arn:aws:automate:us-east-1:ec2:stop"])"))));
  EXPECT_TRUE(one_problem(parse(with_actions(R"(["hook", "hok"])")),
                          "/MetricAlarms/0/AlarmActions/1",
                          "neither an ARN nor the name of a target"));
}

TEST(ParseConfig, RejectsTwoOutputsWritingTheSameFile) {
  EXPECT_TRUE(
      loads(parse(with_settings(R"({"outputs": {"emissions": "-", "dead_letters": "-"}})"))));
  EXPECT_TRUE(one_problem(
      parse(with_settings(R"({"outputs": {"emissions": "/o.jsonl", "datapoints": "/o.jsonl"}})")),
      "/trailwatch/outputs/datapoints",
      "writes to the same file as /trailwatch/outputs/emissions"));
}

TEST(ParseConfig, RejectsOutputThatIsNotAString) {
  EXPECT_TRUE(one_problem(parse(with_settings(R"({"outputs": {"emissions": null}})")),
                          "/trailwatch/outputs/emissions", "expected a string, got null"));
}

// ---------------------------------------------------------------------------------------------
// load_config.

class LoadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tw_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(std::string_view name, std::string_view content) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(LoadConfigTest, LoadsAFile) {
  const std::string path = write("alarms.json", one_alarm({}));
  const ConfigLoadResult result = load_config(path);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config->source_file, path);
  EXPECT_EQ(result.config->metric_alarms.size(), 1U);
}

TEST_F(LoadConfigTest, NamesTheFileInProblems) {
  const std::string path = write("bad.json", one_alarm({{"Period", "45"}}));
  const ConfigLoadResult result = load_config(path);
  ASSERT_EQ(result.problems.size(), 1U);
  EXPECT_EQ(result.problems[0].file, path);
  EXPECT_EQ(result.problems[0].to_string(),
            path +
                ": /MetricAlarms/0/Period: must be 10, 20, 30 or a multiple of 60 (seconds), "
                "got 45");
}

TEST_F(LoadConfigTest, ReportsMissingFile) {
  const std::string path = (dir_ / "absent.json").string();
  const ConfigLoadResult result = load_config(path);
  ASSERT_EQ(result.problems.size(), 1U);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.problems[0].to_string(),
            path + ": (root): cannot open the file: No such file or directory");
}

TEST_F(LoadConfigTest, ReportsDirectory) {
  const ConfigLoadResult result = load_config(dir_.string());
  ASSERT_EQ(result.problems.size(), 1U);
  EXPECT_THAT(result.problems[0].message, HasSubstr("is a directory"));
}

TEST_F(LoadConfigTest, RefusesOversizedFileWithoutReadingIt) {
  const std::string path = write("huge.json", "");
  std::filesystem::resize_file(path,
                               static_cast<uintmax_t>(kMaxConfigBytes) + 1);  // Sparse.
  const ConfigLoadResult result = load_config(path);
  ASSERT_EQ(result.problems.size(), 1U);
  EXPECT_THAT(result.problems[0].message, HasSubstr("the file is 67108865 bytes"));
}

// ---------------------------------------------------------------------------------------------
// Free functions.

TEST(ParseStatistic, ParsesSimpleStatisticsAndPercentiles) {
  EXPECT_EQ(parse_statistic("SampleCount")->kind, Statistic::Kind::kSampleCount);
  EXPECT_EQ(parse_statistic("Average")->kind, Statistic::Kind::kAverage);
  EXPECT_EQ(parse_statistic("Sum")->kind, Statistic::Kind::kSum);
  EXPECT_EQ(parse_statistic("Minimum")->kind, Statistic::Kind::kMinimum);
  EXPECT_EQ(parse_statistic("Maximum")->kind, Statistic::Kind::kMaximum);
  const auto p = parse_statistic("p99.9");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->kind, Statistic::Kind::kPercentile);
  EXPECT_DOUBLE_EQ(p->percentile, 99.9);
  EXPECT_EQ(p->text, "p99.9");
  EXPECT_DOUBLE_EQ(parse_statistic("p0.0")->percentile, 0);
  EXPECT_DOUBLE_EQ(parse_statistic("p100")->percentile, 100);
  EXPECT_DOUBLE_EQ(parse_statistic("p99.1234567891")->percentile, 99.1234567891);
}

TEST(ParseStatistic, RejectsEverythingElse) {
  for (const char* text : {"", "average", "AVERAGE", "p", "p-1", "p100.1", "p101", "p1000", "p99.",
                           "p.9", "P99", "p99.12345678901", "p 99", "tm90", "IQM"}) {
    EXPECT_FALSE(parse_statistic(text).has_value()) << text;
  }
}

TEST(IsUnsupportedExtendedStatistic, RecognisesTheOtherExtendedStatistics) {
  for (const char* text :
       {"tm90", "tm99.5", "wm98", "tc90", "ts90", "IQM", "TM(10%:90%)", "TM(:90%)", "TM(150:1000)",
        "WM(10%:90%)", "TC(0.005:0.030)", "TS(80%:)", "PR(:300)", "PR(100:2000)"}) {
    EXPECT_TRUE(is_unsupported_extended_statistic(text)) << text;
  }
  for (const char* text : {"p99", "Average", "tm", "TM90", "tm(10%:90%)", "TM()", "TM(:)",
                           "TM(10%)", "PR(a:b)", "iqm", "xx(1:2)"}) {
    EXPECT_FALSE(is_unsupported_extended_statistic(text)) << text;
  }
}

TEST(Enumerations, RoundTripThroughTheirNames) {
  for (int i = 0; i < 7; ++i) {
    const auto op = static_cast<ComparisonOperator>(i);
    EXPECT_EQ(parse_comparison_operator(to_string(op)), op);
  }
  for (int i = 0; i < 4; ++i) {
    const auto t = static_cast<TreatMissingData>(i);
    EXPECT_EQ(parse_treat_missing_data(to_string(t)), t);
  }
  for (int i = 0; i < 5; ++i) {
    const auto f = static_cast<InputFormat>(i);
    EXPECT_EQ(parse_input_format(to_string(f)), f);
  }
  EXPECT_EQ(to_string(TreatMissingData::kNotBreaching), "notBreaching");
  EXPECT_EQ(to_string(LowSampleCountPercentile::kEvaluate), "evaluate");
  EXPECT_EQ(to_string(LowSampleCountPercentile::kIgnore), "ignore");
  EXPECT_EQ(to_string(InputFormat::kPutMetricData), "put_metric_data");
  EXPECT_FALSE(parse_comparison_operator("greaterThanThreshold").has_value());
  EXPECT_FALSE(parse_input_format("json").has_value());
}

TEST(Enumerations, BandOperatorsAreTheThreeAnomalyOperators) {
  EXPECT_TRUE(is_band_operator(ComparisonOperator::kLessThanLowerOrGreaterThanUpperThreshold));
  EXPECT_TRUE(is_band_operator(ComparisonOperator::kLessThanLowerThreshold));
  EXPECT_TRUE(is_band_operator(ComparisonOperator::kGreaterThanUpperThreshold));
  EXPECT_FALSE(is_band_operator(ComparisonOperator::kGreaterThanThreshold));
  EXPECT_FALSE(is_band_operator(ComparisonOperator::kLessThanOrEqualToThreshold));
}

TEST(Enumerations, MetricFormatsAreTheThreeMetricDecoders) {
  EXPECT_TRUE(is_metric_format(InputFormat::kMetricStream));
  EXPECT_TRUE(is_metric_format(InputFormat::kPutMetricData));
  EXPECT_TRUE(is_metric_format(InputFormat::kEmf));
  EXPECT_FALSE(is_metric_format(InputFormat::kCloudTrail));
  EXPECT_FALSE(is_metric_format(InputFormat::kAuto));
}

TEST(LatenessFor, PrefersTheInputsOwnLateness) {
  const Config config{};
  InputConfig input;
  input.format = InputFormat::kCloudTrail;
  input.allowed_lateness = Duration::seconds(42);
  EXPECT_EQ(config.lateness_for(input, InputFormat::kCloudTrail), Duration::seconds(42));
}

TEST(LatenessFor, UsesTheDefaultForTheInputsKind) {
  Config config;
  config.settings.metric_lateness = Duration::seconds(100);
  config.settings.cloudtrail_lateness = Duration::seconds(1000);
  InputConfig input;
  input.format = InputFormat::kCloudTrail;
  EXPECT_EQ(config.lateness_for(input, InputFormat::kAuto), Duration::seconds(1000));
  input.format = InputFormat::kEmf;
  EXPECT_EQ(config.lateness_for(input, InputFormat::kAuto), Duration::seconds(100));
}

TEST(LatenessFor, AutoInputsUseWhatWasDetectedAndCountAsMetricsUntilThen) {
  const Config config{};
  const InputConfig input{};  // format kAuto.
  EXPECT_EQ(config.lateness_for(input, InputFormat::kCloudTrail), Duration::seconds(900));
  EXPECT_EQ(config.lateness_for(input, InputFormat::kMetricStream), Duration::seconds(300));
  EXPECT_EQ(config.lateness_for(input, InputFormat::kAuto), Duration::seconds(300));
}

TEST(AlarmArn, KeepsTheNameVerbatim) {
  Settings settings;
  settings.account_id = "123456789012";
  settings.region = "eu-west-1";
  EXPECT_EQ(alarm_arn(settings, "web-1 cpu high"),
            "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-1 cpu high");
  EXPECT_EQ(alarm_arn(Settings{}, "a"), "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a");
}

TEST(AlarmArn, UsesThePartitionOfTheRegion) {
  Settings settings;
  settings.region = "cn-north-1";
  EXPECT_EQ(alarm_arn(settings, "a"), "arn:aws-cn:cloudwatch:cn-north-1:000000000000:alarm:a");
  settings.region = "us-gov-west-1";
  EXPECT_THAT(alarm_arn(settings, "a"), HasSubstr("arn:aws-us-gov:cloudwatch:us-gov-west-1:"));
}

TEST(ConfigProblemToString, IsFilePointerMessage) {
  EXPECT_EQ((ConfigProblem{"a.json", "/MetricAlarms/0/Period", "bad"}).to_string(),
            "a.json: /MetricAlarms/0/Period: bad");
  EXPECT_EQ((ConfigProblem{"a.json", "", "bad"}).to_string(), "a.json: (root): bad");
}

}  // namespace
}  // namespace tw::pipeline
