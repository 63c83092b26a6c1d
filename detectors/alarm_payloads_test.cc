// Tests of the payloads built from alarm transitions: full EventBridge events and SNS messages
// compared byte for byte, the quirks of CloudWatch's SNS message (reference
// cloudwatch-alarms.md §6.2, §10.4), and the stability of the deterministic ids.

#include "detectors/alarm_payloads.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/time.h"

namespace tw::detectors {
namespace {

using pipeline::ComparisonOperator;
using pipeline::EventTime;
using pipeline::MetricAlarmConfig;

EventTime at(const char* iso) {
  return pipeline::parse_iso8601(iso).value();
}

pipeline::Settings settings_in(const std::string& region, const std::string& account) {
  pipeline::Settings s;
  s.region = region;
  s.account_id = account;
  return s;
}

StateRecord record(AlarmState value, std::string reason, std::string reason_data,
                   const char* timestamp) {
  StateRecord r;
  r.value = value;
  r.reason = std::move(reason);
  r.reason_data = std::move(reason_data);
  r.timestamp = at(timestamp);
  return r;
}

StateTransition transition(const MetricAlarmConfig& alarm, const pipeline::Settings& settings,
                           StateRecord previous, StateRecord current) {
  return StateTransition{alarm.alarm_name, pipeline::alarm_arn(settings, alarm.alarm_name), false,
                         std::move(previous), std::move(current)};
}

// A single-metric alarm: average CPU of one instance above 80 for one minute.
MetricAlarmConfig cpu_alarm() {
  MetricAlarmConfig a;
  a.alarm_name = "web-1 high CPU";
  a.alarm_description = "CPU above 80% on web-1";
  a.alarm_actions = {"arn:aws:sns:eu-west-1:111122223333:ops"};
  a.ok_actions = {"arn:aws:sns:eu-west-1:111122223333:ops"};
  a.metric_name = "CPUUtilization";
  a.namespace_name = "AWS/EC2";
  a.statistic = pipeline::parse_statistic("Average");
  a.dimensions = {{"InstanceId", "i-0abc"}, {"AutoScalingGroupName", "web"}};
  a.period = 60;
  a.evaluation_periods = 1;
  a.threshold = 80.0;
  a.comparison_operator = ComparisonOperator::kGreaterThanThreshold;
  return a;
}

StateTransition cpu_transition(const MetricAlarmConfig& alarm, const pipeline::Settings& s) {
  return transition(
      alarm, s,
      record(AlarmState::kOk,
             "Threshold Crossed: 1 out of the last 1 datapoints [12.5 (05/03/24 07:59:00)] was not "
             "greater than the threshold (80.0) (minimum 1 datapoint for ALARM -> OK transition).",
             R"j({"version":"1.0"})j", "2024-03-05T08:00:00.120Z"),
      record(AlarmState::kAlarm,
             "Threshold Crossed: 1 out of the last 1 datapoints [91.25 (05/03/24 09:14:00)] was "
             "greater than the threshold (80.0) (minimum 1 datapoint for OK -> ALARM transition).",
             R"j({"version":"1.0","threshold":80.0})j", "2024-03-05T09:15:42.007Z"));
}

// A p99 latency alarm in milliseconds, created moments before its first transition.
MetricAlarmConfig latency_alarm() {
  MetricAlarmConfig a;
  a.alarm_name = "api-p99";
  a.metric_name = "Latency";
  a.namespace_name = "MyApp";
  a.statistic = pipeline::parse_statistic("p99");
  a.statistic_is_extended = true;
  a.unit = pipeline::Unit::kMilliseconds;
  a.dimensions = {{"Service", "api"}};
  a.period = 300;
  a.evaluation_periods = 3;
  a.datapoints_to_alarm = 2;
  a.threshold = 250.0;
  a.comparison_operator = ComparisonOperator::kGreaterThanOrEqualToThreshold;
  a.treat_missing_data = pipeline::TreatMissingData::kNotBreaching;
  a.treat_missing_data_set = true;
  a.evaluate_low_sample_count_percentile = pipeline::LowSampleCountPercentile::kIgnore;
  return a;
}

StateTransition latency_transition(const MetricAlarmConfig& alarm, const pipeline::Settings& s) {
  return transition(alarm, s,
                    record(AlarmState::kInsufficientData, std::string(kInitialReason), "",
                           "2024-06-01T00:00:00.500Z"),
                    record(AlarmState::kOk,
                           "Threshold Crossed: 2 out of the last 3 datapoints [120.0 (01/06/24 "
                           "00:05:00), 110.0 (01/06/24 00:00:00)] were not greater than or equal "
                           "to the threshold (250.0) (minimum 2 datapoints for ALARM -> OK "
                           "transition).",
                           "", "2024-06-01T00:11:00.000Z"));
}

pipeline::MetricDataQuery stat_query(std::string id, std::string metric, std::string function,
                                     const std::string& stat, bool return_data) {
  pipeline::MetricDataQuery q;
  q.id = std::move(id);
  q.metric_stat = pipeline::MetricStat{"AWS/Lambda",
                                       std::move(metric),
                                       {{"FunctionName", std::move(function)}},
                                       60,
                                       pipeline::parse_statistic(stat).value(),
                                       std::nullopt};
  q.return_data = return_data;
  return q;
}

pipeline::MetricDataQuery expression_query(std::string id, std::string expression,
                                           std::string label, bool return_data) {
  pipeline::MetricDataQuery q;
  q.id = std::move(id);
  q.expression = std::move(expression);
  q.label = std::move(label);
  q.return_data = return_data;
  return q;
}

// Metric math: the errors of two functions, summed.
MetricAlarmConfig errors_alarm() {
  MetricAlarmConfig a;
  a.alarm_name = "lambda-errors";
  a.alarm_description = "Errors of both workers";
  a.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:pager"};
  a.metrics = {expression_query("e1", "m1+m2", "Total errors", true),
               stat_query("m1", "Errors", "worker-a", "Sum", false),
               stat_query("m2", "Errors", "worker-b", "Sum", false)};
  a.period = 60;
  a.evaluation_periods = 5;
  a.datapoints_to_alarm = 3;
  a.threshold = 10.0;
  a.comparison_operator = ComparisonOperator::kGreaterThanThreshold;
  a.treat_missing_data = pipeline::TreatMissingData::kMissing;
  a.treat_missing_data_set = true;
  return a;
}

StateTransition errors_transition(const MetricAlarmConfig& alarm, const pipeline::Settings& s) {
  return transition(
      alarm, s, record(AlarmState::kOk, "Threshold Crossed: ok", "", "2024-07-01T10:00:00.000Z"),
      record(AlarmState::kAlarm, "Threshold Crossed: alarm", R"j({"version":"1.0"})j",
             "2024-07-01T10:30:00.250Z"));
}

// Anomaly detection: invocations outside a two-sigma band.
MetricAlarmConfig anomaly_alarm() {
  MetricAlarmConfig a;
  a.alarm_name = "invocations-anomaly";
  a.metrics = {stat_query("m1", "Invocations", "worker-a", "Average", true),
               expression_query("ad1", "ANOMALY_DETECTION_BAND(m1, 2)", "", true)};
  a.threshold_metric_id = "ad1";
  a.period = 60;
  a.evaluation_periods = 1;
  a.comparison_operator = ComparisonOperator::kLessThanLowerOrGreaterThanUpperThreshold;
  return a;
}

StateTransition anomaly_transition(const MetricAlarmConfig& alarm, const pipeline::Settings& s) {
  return transition(
      alarm, s, record(AlarmState::kOk, "Thresholds Crossed: ok", "", "2024-08-01T12:00:00.000Z"),
      record(AlarmState::kAlarm, "Thresholds Crossed: alarm", "", "2024-08-01T12:05:00.000Z"));
}

pipeline::CompositeAlarmConfig composite_alarm() {
  pipeline::CompositeAlarmConfig c;
  c.alarm_name = "web degraded";
  c.alarm_description = "CPU high outside maintenance";
  c.alarm_rule = R"j(ALARM("web-1 high CPU") AND NOT ALARM(maintenance))j";
  c.alarm_actions = {"arn:aws:sns:eu-west-1:111122223333:ops"};
  c.actions_suppressor = "maintenance";
  c.actions_suppressor_wait_period = 120;
  c.actions_suppressor_extension_period = 180;
  return c;
}

constexpr const char* kChildReasonData =
    R"j({"triggeringAlarms":[{"arn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:)j"
    R"j(web-1 high CPU","state":{"value":"ALARM","timestamp":"2024-03-05T09:15:42.007+0000"}}]})j";

StateTransition composite_transition(const pipeline::CompositeAlarmConfig& c,
                                     const pipeline::Settings& s, std::string reason_data) {
  StateTransition t;
  t.alarm_name = c.alarm_name;
  t.alarm_arn = pipeline::alarm_arn(s, c.alarm_name);
  t.composite = true;
  t.previous = record(AlarmState::kOk, "created", "", "2024-03-05T07:00:00.000Z");
  t.current = record(AlarmState::kAlarm,
                     "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-1 high CPU transitioned "
                     "to ALARM at Tuesday 05 March, 2024 09:15:42 UTC",
                     std::move(reason_data), "2024-03-05T09:15:42.107Z");
  t.current.actions_suppressed_by = SuppressedBy::kWaitPeriod;
  t.current.actions_suppressed_reason = "Actions suppressed by WaitPeriod";
  return t;
}

std::string id_of(const StateTransition& t) {
  return transition_event_id(t.alarm_arn, t.current.timestamp, t.current.value);
}

// ---------------------------------------------------------------------------------------------
// Deterministic ids.

constexpr const char* kCpuArn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-1 high CPU";

TEST(EventId, IsPinnedForFixedInputs) {
  // These values are a wire format: consumers deduplicate on them across restarts and upgrades.
  // They were cross-checked against OpenSSL's SipHash-2-4 (`openssl mac -macopt size:16
  // -macopt hexkey:<"trailwatch-ids-1" in hex> SIPHASH` over the encoded input, then the
  // version and variant bits set).
  EXPECT_EQ(transition_event_id(kCpuArn, at("2024-03-05T09:15:42.007Z"), AlarmState::kAlarm),
            "879a79ac-dd3d-859f-87f4-8b3ada4e0ce4");
  EXPECT_EQ(transition_event_id("", EventTime::from_millis(0), AlarmState::kOk),
            "2c1af8cc-96df-891e-b968-c69b1ff4054a");
  EXPECT_EQ(single_metric_query_id(kCpuArn), "a1e7959f-0a01-800c-86dd-5ea3d9ac4a14");
}

TEST(EventId, IsAVersion8RfcVariantUuid) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (const AlarmState s : {AlarmState::kOk, AlarmState::kAlarm, AlarmState::kInsufficientData}) {
    for (const int64_t ms : {int64_t{0}, int64_t{1}, int64_t{1'709'630'142'007}, int64_t{-5}}) {
      const std::string id = transition_event_id(kCpuArn, EventTime::from_millis(ms), s);
      EXPECT_TRUE(std::regex_match(id, uuid)) << id;
    }
  }
  EXPECT_TRUE(std::regex_match(single_metric_query_id(kCpuArn), uuid));
}

TEST(EventId, SameInputsGiveTheSameId) {
  const EventTime t = at("2024-03-05T09:15:42.007Z");
  EXPECT_EQ(transition_event_id(kCpuArn, t, AlarmState::kAlarm),
            transition_event_id(std::string(kCpuArn), t, AlarmState::kAlarm));
  EXPECT_EQ(single_metric_query_id(kCpuArn), single_metric_query_id(std::string(kCpuArn)));
}

TEST(EventId, AnyChangedInputGivesADifferentId) {
  const EventTime t = at("2024-03-05T09:15:42.007Z");
  const pipeline::Duration ms = pipeline::Duration::millis(1);
  std::set<std::string> ids;
  ids.insert(transition_event_id(kCpuArn, t, AlarmState::kAlarm));
  ids.insert(transition_event_id(kCpuArn, t, AlarmState::kOk));
  ids.insert(transition_event_id(kCpuArn, t, AlarmState::kInsufficientData));
  ids.insert(transition_event_id(kCpuArn, t + ms, AlarmState::kAlarm));
  ids.insert(transition_event_id(kCpuArn, t - ms, AlarmState::kAlarm));
  ids.insert(transition_event_id("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-2 high CPU",
                                 t, AlarmState::kAlarm));
  ids.insert(transition_event_id("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-1 high CPU ",
                                 t, AlarmState::kAlarm));
  ids.insert(transition_event_id("", t, AlarmState::kAlarm));
  ids.insert(single_metric_query_id(kCpuArn));
  EXPECT_EQ(ids.size(), 9U);
}

// ---------------------------------------------------------------------------------------------
// EventBridge.

TEST(StateChangeEvent, MetricAlarmMatchesCloudWatchShape) {
  const auto s = settings_in("eu-west-1", "111122223333");
  const MetricAlarmConfig alarm = cpu_alarm();
  const std::string expected =
      R"j({"version":"0","id":"879a79ac-dd3d-859f-87f4-8b3ada4e0ce4","detail-type":"CloudWatch Alarm State Change",)j"
      R"j("source":"aws.cloudwatch","account":"111122223333","time":"2024-03-05T09:15:42Z",)j"
      R"j("region":"eu-west-1",)j"
      R"j("resources":["arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-1 high CPU"],)j"
      R"j("detail":{"alarmName":"web-1 high CPU",)j"
      R"j("state":{"value":"ALARM","reason":"Threshold Crossed: 1 out of the last 1 datapoints )j"
      R"j([91.25 (05/03/24 09:14:00)] was greater than the threshold (80.0) (minimum 1 datapoint )j"
      R"j(for OK -> ALARM transition).",)j"
      R"j("reasonData":"{\"version\":\"1.0\",\"threshold\":80.0}",)j"
      R"j("timestamp":"2024-03-05T09:15:42.007+0000"},)j"
      R"j("previousState":{"value":"OK","reason":"Threshold Crossed: 1 out of the last 1 )j"
      R"j(datapoints [12.5 (05/03/24 07:59:00)] was not greater than the threshold (80.0) )j"
      R"j((minimum 1 datapoint for ALARM -> OK transition).",)j"
      R"j("reasonData":"{\"version\":\"1.0\"}","timestamp":"2024-03-05T08:00:00.120+0000"},)j"
      R"j("configuration":{"description":"CPU above 80% on web-1",)j"
      R"j("metrics":[{"id":"a1e7959f-0a01-800c-86dd-5ea3d9ac4a14","metricStat":{"metric":{"namespace":"AWS/EC2",)j"
      R"j("name":"CPUUtilization",)j"
      R"j("dimensions":{"InstanceId":"i-0abc","AutoScalingGroupName":"web"}},)j"
      R"j("period":60,"stat":"Average"},"returnData":true}]}}})j";
  EXPECT_EQ(state_change_event(cpu_transition(alarm, s), alarm, s), expected);
}

TEST(StateChangeEvent, PercentileAlarmOmitsEmptyDescriptionAndReasonData) {
  const auto s = settings_in("ap-southeast-2", "123456789012");
  const MetricAlarmConfig alarm = latency_alarm();
  const StateTransition t = latency_transition(alarm, s);
  const std::string expected =
      R"j({"version":"0","id":")j" + id_of(t) +
      R"j(","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",)j"
      R"j("account":"123456789012","time":"2024-06-01T00:11:00Z","region":"ap-southeast-2",)j"
      R"j("resources":["arn:aws:cloudwatch:ap-southeast-2:123456789012:alarm:api-p99"],)j"
      R"j("detail":{"alarmName":"api-p99","state":{"value":"OK","reason":"Threshold Crossed: 2 )j"
      R"j(out of the last 3 datapoints [120.0 (01/06/24 00:05:00), 110.0 (01/06/24 00:00:00)] )j"
      R"j(were not greater than or equal to the threshold (250.0) (minimum 2 datapoints for )j"
      R"j(ALARM -> OK transition).","timestamp":"2024-06-01T00:11:00.000+0000"},)j"
      R"j("previousState":{"value":"INSUFFICIENT_DATA","reason":"Unchecked: Initial alarm )j"
      R"j(creation","timestamp":"2024-06-01T00:00:00.500+0000"},)j"
      R"j("configuration":{"metrics":[{"id":")j" +
      single_metric_query_id(t.alarm_arn) +
      R"j(","metricStat":{"metric":{"namespace":"MyApp","name":"Latency",)j"
      R"j("dimensions":{"Service":"api"}},"period":300,"stat":"p99","unit":"Milliseconds"},)j"
      R"j("returnData":true}]}}})j";
  EXPECT_EQ(state_change_event(t, alarm, s), expected);
}

TEST(StateChangeEvent, MathAlarmListsEveryQuery) {
  const auto s = settings_in("us-east-1", "123456789012");
  const MetricAlarmConfig alarm = errors_alarm();
  const StateTransition t = errors_transition(alarm, s);
  const std::string expected =
      R"j({"version":"0","id":")j" + id_of(t) +
      R"j(","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",)j"
      R"j("account":"123456789012","time":"2024-07-01T10:30:00Z","region":"us-east-1",)j"
      R"j("resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:lambda-errors"],)j"
      R"j("detail":{"alarmName":"lambda-errors",)j"
      R"j("state":{"value":"ALARM","reason":"Threshold Crossed: alarm",)j"
      R"j("reasonData":"{\"version\":\"1.0\"}","timestamp":"2024-07-01T10:30:00.250+0000"},)j"
      R"j("previousState":{"value":"OK","reason":"Threshold Crossed: ok",)j"
      R"j("timestamp":"2024-07-01T10:00:00.000+0000"},)j"
      R"j("configuration":{"description":"Errors of both workers","metrics":[)j"
      R"j({"id":"e1","expression":"m1+m2","label":"Total errors","returnData":true},)j"
      R"j({"id":"m1","metricStat":{"metric":{"namespace":"AWS/Lambda","name":"Errors",)j"
      R"j("dimensions":{"FunctionName":"worker-a"}},"period":60,"stat":"Sum"},)j"
      R"j("returnData":false},)j"
      R"j({"id":"m2","metricStat":{"metric":{"namespace":"AWS/Lambda","name":"Errors",)j"
      R"j("dimensions":{"FunctionName":"worker-b"}},"period":60,"stat":"Sum"},)j"
      R"j("returnData":false}]}}})j";
  EXPECT_EQ(state_change_event(t, alarm, s), expected);
}

TEST(StateChangeEvent, AnomalyAlarmListsMetricAndBand) {
  const auto s = settings_in("us-west-2", "123456789012");
  const MetricAlarmConfig alarm = anomaly_alarm();
  const StateTransition t = anomaly_transition(alarm, s);
  const std::string expected =
      R"j({"version":"0","id":")j" + id_of(t) +
      R"j(","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",)j"
      R"j("account":"123456789012","time":"2024-08-01T12:05:00Z","region":"us-west-2",)j"
      R"j("resources":["arn:aws:cloudwatch:us-west-2:123456789012:alarm:invocations-anomaly"],)j"
      R"j("detail":{"alarmName":"invocations-anomaly",)j"
      R"j("state":{"value":"ALARM","reason":"Thresholds Crossed: alarm",)j"
      R"j("timestamp":"2024-08-01T12:05:00.000+0000"},)j"
      R"j("previousState":{"value":"OK","reason":"Thresholds Crossed: ok",)j"
      R"j("timestamp":"2024-08-01T12:00:00.000+0000"},)j"
      R"j("configuration":{"metrics":[)j"
      R"j({"id":"m1","metricStat":{"metric":{"namespace":"AWS/Lambda","name":"Invocations",)j"
      R"j("dimensions":{"FunctionName":"worker-a"}},"period":60,"stat":"Average"},)j"
      R"j("returnData":true},)j"
      R"j({"id":"ad1","expression":"ANOMALY_DETECTION_BAND(m1, 2)","returnData":true}]}}})j";
  EXPECT_EQ(state_change_event(t, alarm, s), expected);
}

TEST(StateChangeEvent, CompositeAlarmCarriesRuleAndSuppression) {
  const auto s = settings_in("eu-west-1", "111122223333");
  const pipeline::CompositeAlarmConfig c = composite_alarm();
  const StateTransition t = composite_transition(c, s, kChildReasonData);
  const std::string expected =
      R"j({"version":"0","id":")j" + id_of(t) +
      R"j(","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",)j"
      R"j("account":"111122223333","time":"2024-03-05T09:15:42Z","region":"eu-west-1",)j"
      R"j("resources":["arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web degraded"],)j"
      R"j("detail":{"alarmName":"web degraded",)j"
      R"j("state":{"value":"ALARM","reason":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:)j"
      R"j(web-1 high CPU transitioned to ALARM at Tuesday 05 March, 2024 09:15:42 UTC",)j"
      R"j("reasonData":"{\"triggeringAlarms\":[{\"arn\":\"arn:aws:cloudwatch:eu-west-1:)j"
      R"j(111122223333:alarm:web-1 high CPU\",\"state\":{\"value\":\"ALARM\",)j"
      R"j(\"timestamp\":\"2024-03-05T09:15:42.007+0000\"}}]}",)j"
      R"j("timestamp":"2024-03-05T09:15:42.107+0000","actionsSuppressedBy":"WaitPeriod",)j"
      R"j("actionsSuppressedReason":"Actions suppressed by WaitPeriod"},)j"
      R"j("previousState":{"value":"OK","reason":"created",)j"
      R"j("timestamp":"2024-03-05T07:00:00.000+0000"},)j"
      R"j("configuration":{"alarmRule":"ALARM(\"web-1 high CPU\") AND NOT ALARM(maintenance)",)j"
      R"j("actionsSuppressor":"maintenance","actionsSuppressorWaitPeriod":120,)j"
      R"j("actionsSuppressorExtensionPeriod":180}}})j";
  EXPECT_EQ(state_change_event(t, c, s), expected);
}

TEST(StateChangeEvent, CompositeWithoutSuppressorHasOnlyTheRule) {
  const auto s = settings_in("eu-west-1", "111122223333");
  pipeline::CompositeAlarmConfig c = composite_alarm();
  c.actions_suppressor.clear();
  c.actions_suppressor_wait_period.reset();
  c.actions_suppressor_extension_period.reset();
  StateTransition t = composite_transition(c, s, "");
  t.current.actions_suppressed_by = SuppressedBy::kNone;
  const std::string event = state_change_event(t, c, s);
  EXPECT_TRUE(event.ends_with(
      R"j("configuration":{"alarmRule":"ALARM(\"web-1 high CPU\") AND NOT ALARM(maintenance)"}}})j"))
      << event;
  EXPECT_EQ(event.find("actionsSuppressed"), std::string::npos) << event;
  EXPECT_EQ(event.find("reasonData"), std::string::npos) << event;
}

TEST(StateChangeEvent, EventIdIsTheTransitionIdAndReplaysAreIdentical) {
  const auto s = settings_in("eu-west-1", "111122223333");
  const MetricAlarmConfig alarm = cpu_alarm();
  const StateTransition t = cpu_transition(alarm, s);
  const std::string event = state_change_event(t, alarm, s);
  const std::string id = transition_event_id(kCpuArn, t.current.timestamp, AlarmState::kAlarm);
  EXPECT_NE(event.find(R"j("id":")j" + id + "\""), std::string::npos) << event;
  EXPECT_EQ(state_change_event(t, alarm, s), event);
}

TEST(StateChangeEvent, SuppressionWithoutReasonGetsCloudWatchsWording) {
  const auto s = settings_in("eu-west-1", "111122223333");
  const pipeline::CompositeAlarmConfig c = composite_alarm();
  StateTransition t = composite_transition(c, s, "");
  t.current.actions_suppressed_by = SuppressedBy::kExtensionPeriod;
  t.current.actions_suppressed_reason.clear();
  const std::string event = state_change_event(t, c, s);
  EXPECT_NE(event.find(R"j("actionsSuppressedBy":"ExtensionPeriod",)j"
                       R"j("actionsSuppressedReason":"Actions suppressed by ExtensionPeriod")j"),
            std::string::npos)
      << event;
}

// ---------------------------------------------------------------------------------------------
// SNS.

TEST(SnsSubject, MatchesTheReferenceOracle) {
  const auto s = settings_in("us-east-1", "123456789012");
  MetricAlarmConfig alarm = cpu_alarm();
  alarm.alarm_name = "x";
  const StateTransition t =
      transition(alarm, s, record(AlarmState::kAlarm, "a", "", "2024-01-01T00:00:00Z"),
                 record(AlarmState::kOk, "b", "", "2024-01-01T00:01:00Z"));
  EXPECT_EQ(sns_message(t, alarm, s, EventTime{}).subject, R"j(OK: "x" in US East (N. Virginia))j");
}

TEST(SnsSubject, UsesStateNameAndRegionDisplayName) {
  const auto s = settings_in("eu-west-1", "111122223333");
  const MetricAlarmConfig alarm = cpu_alarm();
  EXPECT_EQ(sns_message(cpu_transition(alarm, s), alarm, s, EventTime{}).subject,
            R"j(ALARM: "web-1 high CPU" in EU (Ireland))j");
  StateTransition t = cpu_transition(alarm, s);
  t.current.value = AlarmState::kInsufficientData;
  EXPECT_EQ(sns_message(t, alarm, s, EventTime{}).subject,
            R"j(INSUFFICIENT_DATA: "web-1 high CPU" in EU (Ireland))j");
}

// The §6.2 message, rebuilt from an equivalent configuration (a Route 53 health check counted
// with SampleCount, 2 of 2 below 1.0, missing data breaching) and compared byte for byte.
TEST(SnsMessage, HealthCheckAlarmMatchesReferenceMessage) {
  const auto s = settings_in("us-east-1", "210987654321");
  MetricAlarmConfig alarm;
  alarm.alarm_name = "shop health check";
  alarm.alarm_description = "Shop endpoint unhealthy";
  alarm.ok_actions = {"arn:aws:sns:us-east-1:210987654321:shop-alerts"};
  alarm.alarm_actions = {"arn:aws:sns:us-east-1:210987654321:shop-alerts"};
  alarm.insufficient_data_actions = {"arn:aws:sns:us-east-1:210987654321:shop-alerts"};
  alarm.metric_name = "HealthCheckStatus";
  alarm.namespace_name = "AWS/Route53";
  alarm.statistic = pipeline::parse_statistic("SampleCount");
  alarm.dimensions = {{"HealthCheckId", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}};
  alarm.period = 60;
  alarm.evaluation_periods = 2;
  alarm.datapoints_to_alarm = 2;
  alarm.threshold = 1.0;
  alarm.comparison_operator = ComparisonOperator::kLessThanThreshold;
  alarm.treat_missing_data = pipeline::TreatMissingData::kBreaching;
  alarm.treat_missing_data_set = true;
  const StateTransition t = transition(
      alarm, s, record(AlarmState::kAlarm, "earlier", "", "2024-02-10T11:20:00.000Z"),
      record(AlarmState::kOk,
             "Threshold Crossed: 2 out of the last 2 datapoints [4.0 (10/02/24 11:31:00), 4.0 "
             "(10/02/24 11:30:00)] were not less than the threshold (1.0) (minimum 1 datapoint "
             "for ALARM -> OK transition).",
             "", "2024-02-10T11:32:05.314Z"));
  const SnsMessage m = sns_message(t, alarm, s, at("2024-02-10T11:05:12.777Z"));
  const std::string expected =
      R"j({"AlarmName":"shop health check","AlarmDescription":"Shop endpoint unhealthy",)j"
      R"j("AWSAccountId":"210987654321",)j"
      R"j("AlarmConfigurationUpdatedTimestamp":"2024-02-10T11:05:12.777+0000",)j"
      R"j("NewStateValue":"OK","NewStateReason":"Threshold Crossed: 2 out of the last 2 )j"
      R"j(datapoints [4.0 (10/02/24 11:31:00), 4.0 (10/02/24 11:30:00)] were not less than the )j"
      R"j(threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).",)j"
      R"j("StateChangeTime":"2024-02-10T11:32:05.314+0000","Region":"US East (N. Virginia)",)j"
      R"j("AlarmArn":"arn:aws:cloudwatch:us-east-1:210987654321:alarm:shop health check",)j"
      R"j("OldStateValue":"ALARM",)j"
      R"j("OKActions":["arn:aws:sns:us-east-1:210987654321:shop-alerts"],)j"
      R"j("AlarmActions":["arn:aws:sns:us-east-1:210987654321:shop-alerts"],)j"
      R"j("InsufficientDataActions":["arn:aws:sns:us-east-1:210987654321:shop-alerts"],)j"
      R"j("Trigger":{"MetricName":"HealthCheckStatus","Namespace":"AWS/Route53",)j"
      R"j("StatisticType":"Statistic","Statistic":"SAMPLE_COUNT","Unit":null,)j"
      R"j("Dimensions":[{"value":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",)j"
      R"j("name":"HealthCheckId"}],)j"
      R"j("Period":60,"EvaluationPeriods":2,"DatapointsToAlarm":2,)j"
      R"j("ComparisonOperator":"LessThanThreshold","Threshold":1.0,)j"
      R"j("TreatMissingData":"breaching","EvaluateLowSampleCountPercentile":""}})j";
  EXPECT_EQ(m.message, expected);
  EXPECT_EQ(m.subject, R"j(OK: "shop health check" in US East (N. Virginia))j");
}

TEST(SnsMessage, UnsetTreatMissingDataUsesCloudWatchsLiteral) {
  const auto s = settings_in("eu-west-1", "111122223333");
  MetricAlarmConfig alarm = cpu_alarm();
  ASSERT_FALSE(alarm.treat_missing_data_set);
  const std::string unset = sns_message(cpu_transition(alarm, s), alarm, s, EventTime{}).message;
  EXPECT_NE(unset.find(R"j("TreatMissingData":"- TreatMissingData:                    missing")j"),
            std::string::npos)
      << unset;
  alarm.treat_missing_data_set = true;
  const std::string set = sns_message(cpu_transition(alarm, s), alarm, s, EventTime{}).message;
  EXPECT_NE(set.find(R"j("TreatMissingData":"missing")j"), std::string::npos) << set;
}

TEST(SnsMessage, EmptyDescriptionIsNullAndEmptyActionListsStay) {
  const auto s = settings_in("eu-west-1", "111122223333");
  MetricAlarmConfig alarm = cpu_alarm();
  alarm.alarm_description.clear();
  const std::string m = sns_message(cpu_transition(alarm, s), alarm, s, EventTime{}).message;
  EXPECT_TRUE(m.starts_with(R"j({"AlarmName":"web-1 high CPU","AlarmDescription":null,)j")) << m;
  EXPECT_NE(m.find(R"j("InsufficientDataActions":[],)j"), std::string::npos) << m;
  EXPECT_EQ(m.find("DatapointsToAlarm"), std::string::npos) << m;
}

TEST(SnsMessage, SimpleStatisticsAreUpperSnakeCase) {
  const auto s = settings_in("eu-west-1", "111122223333");
  MetricAlarmConfig alarm = cpu_alarm();
  const std::vector<std::pair<std::string, std::string>> names = {{"Average", "AVERAGE"},
                                                                  {"Sum", "SUM"},
                                                                  {"Minimum", "MINIMUM"},
                                                                  {"Maximum", "MAXIMUM"},
                                                                  {"SampleCount", "SAMPLE_COUNT"}};
  for (const auto& [name, expected] : names) {
    alarm.statistic = pipeline::parse_statistic(name);
    const std::string m = sns_message(cpu_transition(alarm, s), alarm, s, EventTime{}).message;
    EXPECT_NE(m.find(R"j("StatisticType":"Statistic","Statistic":")j" + expected + "\""),
              std::string::npos)
        << m;
  }
}

TEST(SnsMessage, PercentileAlarmUsesExtendedStatistic) {
  const auto s = settings_in("ap-southeast-2", "123456789012");
  const MetricAlarmConfig alarm = latency_alarm();
  const SnsMessage m =
      sns_message(latency_transition(alarm, s), alarm, s, at("2024-05-31T23:59:00.000Z"));
  const std::string expected =
      R"j({"AlarmName":"api-p99","AlarmDescription":null,"AWSAccountId":"123456789012",)j"
      R"j("AlarmConfigurationUpdatedTimestamp":"2024-05-31T23:59:00.000+0000",)j"
      R"j("NewStateValue":"OK","NewStateReason":"Threshold Crossed: 2 out of the last 3 )j"
      R"j(datapoints [120.0 (01/06/24 00:05:00), 110.0 (01/06/24 00:00:00)] were not greater )j"
      R"j(than or equal to the threshold (250.0) (minimum 2 datapoints for ALARM -> OK )j"
      R"j(transition).","StateChangeTime":"2024-06-01T00:11:00.000+0000",)j"
      R"j("Region":"Asia Pacific (Sydney)",)j"
      R"j("AlarmArn":"arn:aws:cloudwatch:ap-southeast-2:123456789012:alarm:api-p99",)j"
      R"j("OldStateValue":"INSUFFICIENT_DATA","OKActions":[],"AlarmActions":[],)j"
      R"j("InsufficientDataActions":[],)j"
      R"j("Trigger":{"MetricName":"Latency","Namespace":"MyApp",)j"
      R"j("StatisticType":"ExtendedStatistic","Statistic":"p99","Unit":"Milliseconds",)j"
      R"j("Dimensions":[{"value":"api","name":"Service"}],"Period":300,"EvaluationPeriods":3,)j"
      R"j("DatapointsToAlarm":2,"ComparisonOperator":"GreaterThanOrEqualToThreshold",)j"
      R"j("Threshold":250.0,"TreatMissingData":"notBreaching",)j"
      R"j("EvaluateLowSampleCountPercentile":"ignore"}})j";
  EXPECT_EQ(m.message, expected);
  EXPECT_EQ(m.subject, R"j(OK: "api-p99" in Asia Pacific (Sydney))j");
}

TEST(SnsMessage, ThresholdPrintsLikeJava) {
  const auto s = settings_in("eu-west-1", "111122223333");
  MetricAlarmConfig alarm = cpu_alarm();
  const std::vector<std::pair<double, std::string>> thresholds = {
      {1.0, "1.0"}, {0.0, "0.0"}, {-2.5, "-2.5"}, {1.0e7, "1.0E7"}, {1.25e-4, "1.25E-4"}};
  for (const auto& [value, text] : thresholds) {
    alarm.threshold = value;
    const std::string m = sns_message(cpu_transition(alarm, s), alarm, s, EventTime{}).message;
    EXPECT_NE(m.find(R"j("Threshold":)j" + text + ","), std::string::npos) << m;
  }
}

TEST(SnsMessage, MathAlarmTriggerListsQueriesWithSortedKeys) {
  const auto s = settings_in("us-east-1", "123456789012");
  const MetricAlarmConfig alarm = errors_alarm();
  const SnsMessage m =
      sns_message(errors_transition(alarm, s), alarm, s, at("2024-06-30T08:00:00.000Z"));
  const std::string expected =
      R"j({"AlarmName":"lambda-errors","AlarmDescription":"Errors of both workers",)j"
      R"j("AWSAccountId":"123456789012",)j"
      R"j("AlarmConfigurationUpdatedTimestamp":"2024-06-30T08:00:00.000+0000",)j"
      R"j("NewStateValue":"ALARM","NewStateReason":"Threshold Crossed: alarm",)j"
      R"j("StateChangeTime":"2024-07-01T10:30:00.250+0000","Region":"US East (N. Virginia)",)j"
      R"j("AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:lambda-errors",)j"
      R"j("OldStateValue":"OK","OKActions":[],)j"
      R"j("AlarmActions":["arn:aws:sns:us-east-1:123456789012:pager"],)j"
      R"j("InsufficientDataActions":[],)j"
      R"j("Trigger":{"Period":60,"EvaluationPeriods":5,"DatapointsToAlarm":3,)j"
      R"j("ComparisonOperator":"GreaterThanThreshold","Threshold":10.0,)j"
      R"j("TreatMissingData":"missing","EvaluateLowSampleCountPercentile":"",)j"
      R"j("Metrics":[{"Expression":"m1+m2","Id":"e1","Label":"Total errors","ReturnData":true},)j"
      R"j({"Id":"m1","MetricStat":{"Metric":{"Dimensions":[{"value":"worker-a",)j"
      R"j("name":"FunctionName"}],"MetricName":"Errors","Namespace":"AWS/Lambda"},)j"
      R"j("Period":60,"Stat":"Sum"},"ReturnData":false},)j"
      R"j({"Id":"m2","MetricStat":{"Metric":{"Dimensions":[{"value":"worker-b",)j"
      R"j("name":"FunctionName"}],"MetricName":"Errors","Namespace":"AWS/Lambda"},)j"
      R"j("Period":60,"Stat":"Sum"},"ReturnData":false}]}})j";
  EXPECT_EQ(m.message, expected);
}

TEST(SnsMessage, AnomalyAlarmTriggerHasThresholdMetricIdInsteadOfThreshold) {
  const auto s = settings_in("us-west-2", "123456789012");
  const MetricAlarmConfig alarm = anomaly_alarm();
  const SnsMessage m =
      sns_message(anomaly_transition(alarm, s), alarm, s, at("2024-07-31T00:00:00.000Z"));
  const std::string expected =
      R"j({"AlarmName":"invocations-anomaly","AlarmDescription":null,)j"
      R"j("AWSAccountId":"123456789012",)j"
      R"j("AlarmConfigurationUpdatedTimestamp":"2024-07-31T00:00:00.000+0000",)j"
      R"j("NewStateValue":"ALARM","NewStateReason":"Thresholds Crossed: alarm",)j"
      R"j("StateChangeTime":"2024-08-01T12:05:00.000+0000","Region":"US West (Oregon)",)j"
      R"j("AlarmArn":"arn:aws:cloudwatch:us-west-2:123456789012:alarm:invocations-anomaly",)j"
      R"j("OldStateValue":"OK","OKActions":[],"AlarmActions":[],"InsufficientDataActions":[],)j"
      R"j("Trigger":{"Period":60,"EvaluationPeriods":1,)j"
      R"j("ComparisonOperator":"LessThanLowerOrGreaterThanUpperThreshold",)j"
      R"j("ThresholdMetricId":"ad1",)j"
      R"j("TreatMissingData":"- TreatMissingData:                    missing",)j"
      R"j("EvaluateLowSampleCountPercentile":"",)j"
      R"j("Metrics":[{"Id":"m1","MetricStat":{"Metric":{"Dimensions":[{"value":"worker-a",)j"
      R"j("name":"FunctionName"}],"MetricName":"Invocations","Namespace":"AWS/Lambda"},)j"
      R"j("Period":60,"Stat":"Average"},"ReturnData":true},)j"
      R"j({"Expression":"ANOMALY_DETECTION_BAND(m1, 2)","Id":"ad1","ReturnData":true}]}})j";
  EXPECT_EQ(m.message, expected);
}

TEST(SnsMessage, CompositeAlarmListsTriggeringChildren) {
  const auto s = settings_in("eu-west-1", "111122223333");
  const pipeline::CompositeAlarmConfig c = composite_alarm();
  const SnsMessage m = sns_message(composite_transition(c, s, kChildReasonData), c, s,
                                   at("2024-03-01T00:00:00.000Z"));
  const std::string expected =
      R"j({"AlarmName":"web degraded","AlarmDescription":"CPU high outside maintenance",)j"
      R"j("AWSAccountId":"111122223333",)j"
      R"j("AlarmConfigurationUpdatedTimestamp":"2024-03-01T00:00:00.000+0000",)j"
      R"j("NewStateValue":"ALARM","NewStateReason":"arn:aws:cloudwatch:eu-west-1:111122223333:)j"
      R"j(alarm:web-1 high CPU transitioned to ALARM at Tuesday 05 March, 2024 09:15:42 UTC",)j"
      R"j("StateChangeTime":"2024-03-05T09:15:42.107+0000","Region":"EU (Ireland)",)j"
      R"j("AlarmArn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web degraded",)j"
      R"j("OldStateValue":"OK","OKActions":[],)j"
      R"j("AlarmActions":["arn:aws:sns:eu-west-1:111122223333:ops"],)j"
      R"j("InsufficientDataActions":[],)j"
      R"j("AlarmRule":"ALARM(\"web-1 high CPU\") AND NOT ALARM(maintenance)",)j"
      R"j("TriggeringChildren":[{"Arn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:)j"
      R"j(web-1 high CPU","State":{"Value":"ALARM",)j"
      R"j("Timestamp":"2024-03-05T09:15:42.007+0000"}}]})j";
  EXPECT_EQ(m.message, expected);
  EXPECT_EQ(m.subject, R"j(ALARM: "web degraded" in EU (Ireland))j");
}

TEST(SnsMessage, CompositeWithoutUsableReasonDataHasNoTriggeringChildren) {
  const auto s = settings_in("eu-west-1", "111122223333");
  const pipeline::CompositeAlarmConfig c = composite_alarm();
  const std::vector<std::string> reason_data = {"",
                                                "not json",
                                                "[1,2]",
                                                R"j({"triggeringAlarms":{}})j",
                                                R"j({"triggeringAlarms":[1,{}]})j",
                                                R"j({"triggeringAlarms":[{"arn":7}]})j",
                                                "{\"triggeringAlarms\":[\xff]}"};
  for (const std::string& data : reason_data) {
    const std::string m = sns_message(composite_transition(c, s, data), c, s, EventTime{}).message;
    EXPECT_TRUE(m.ends_with(R"j(,"TriggeringChildren":[]})j")) << data << " gave " << m;
  }
}

TEST(SnsMessage, RegionDisplayNames) {
  EXPECT_EQ(region_display_name("us-east-1"), "US East (N. Virginia)");
  EXPECT_EQ(region_display_name("us-west-2"), "US West (Oregon)");
  EXPECT_EQ(region_display_name("eu-west-1"), "EU (Ireland)");
  EXPECT_EQ(region_display_name("eu-central-1"), "EU (Frankfurt)");
  EXPECT_EQ(region_display_name("ap-southeast-2"), "Asia Pacific (Sydney)");
  EXPECT_EQ(region_display_name("ap-northeast-1"), "Asia Pacific (Tokyo)");
  EXPECT_EQ(region_display_name("sa-east-1"), "South America (Sao Paulo)");
  EXPECT_EQ(region_display_name("ca-central-1"), "Canada (Central)");
  // Unknown Regions print as their code.
  EXPECT_EQ(region_display_name("xx-nowhere-9"), "xx-nowhere-9");
  EXPECT_EQ(region_display_name(""), "");
  const auto s = settings_in("xx-nowhere-9", "111122223333");
  const MetricAlarmConfig alarm = cpu_alarm();
  EXPECT_EQ(sns_message(cpu_transition(alarm, s), alarm, s, EventTime{}).subject,
            R"j(ALARM: "web-1 high CPU" in xx-nowhere-9)j");
}

// ---------------------------------------------------------------------------------------------
// Robustness.

TEST(AlarmPayloads, InvalidUtf8NeverThrowsAndIsReplaced) {
  const auto s = settings_in("eu-west-1", "111122223333");
  MetricAlarmConfig alarm = cpu_alarm();
  alarm.alarm_name = "bad \xff\xfe name";
  alarm.alarm_description = "desc \xc3";
  StateTransition t = cpu_transition(alarm, s);
  t.current.reason = "reason \xe2\x82";
  t.current.reason_data = "{\"k\":\"\xff\"}";
  std::string event;
  SnsMessage sns;
  EXPECT_NO_THROW(event = state_change_event(t, alarm, s));
  EXPECT_NO_THROW(sns = sns_message(t, alarm, s, EventTime{}));
  for (const std::string* text : {&event, &sns.message}) {
    EXPECT_EQ(text->find('\xff'), std::string::npos) << *text;
    EXPECT_EQ(text->find("desc \xc3\""), std::string::npos) << *text;
    EXPECT_NE(text->find("bad \xef\xbf\xbd\xef\xbf\xbd name"), std::string::npos) << *text;
  }
  pipeline::CompositeAlarmConfig c = composite_alarm();
  c.alarm_name = "composite \xff";
  c.alarm_rule = "ALARM(\xfe)";
  const StateTransition ct = composite_transition(c, s, "{\"triggeringAlarms\":[\xff]}");
  EXPECT_NO_THROW(event = state_change_event(ct, c, s));
  EXPECT_NO_THROW(sns = sns_message(ct, c, s, EventTime{}));
  EXPECT_EQ(event.find('\xfe'), std::string::npos) << event;
  EXPECT_EQ(sns.message.find('\xfe'), std::string::npos) << sns.message;
}

TEST(AlarmPayloads, ConfigAndSettingsStandInForMissingIdentity) {
  const auto s = settings_in("eu-west-1", "111122223333");
  const MetricAlarmConfig alarm = cpu_alarm();
  StateTransition t = cpu_transition(alarm, s);
  const std::string full = state_change_event(t, alarm, s);
  t.alarm_name.clear();
  t.alarm_arn.clear();
  EXPECT_EQ(state_change_event(t, alarm, s), full);
}

}  // namespace
}  // namespace tw::detectors
