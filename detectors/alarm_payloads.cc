#include "detectors/alarm_payloads.h"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "detectors/number_format.h"

namespace tw::detectors {
namespace {

// Payloads are built as ordered JSON values (key order is part of CloudWatch's format) and then
// written by `write_json` below rather than by nlohmann's dump: CloudWatch is a Java service and
// prints doubles as Java's Double.toString does ("Threshold":1.0, 1.0E7), which nlohmann does
// not for large and small magnitudes.
using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// Deterministic ids.
//
// SipHash-2-4 with its 128-bit output (Aumasson and Bernstein's reference `siphash.c` with
// outlen 16), written out so that trailwatch needs no crypto library. It is a keyed PRF, not a
// signature: the key is a fixed public constant, the point being a well-mixed 128-bit value
// that is identical on every platform, compiler and run. Changing the key, the domain tags or
// the encoding changes every id ever emitted, which breaks consumers that deduplicate across a
// trailwatch upgrade: treat all three as a wire format.

constexpr uint64_t kSipKey0 = 0x7461'776c'6961'7274;  // "trailwat", little-endian.
constexpr uint64_t kSipKey1 = 0x312d'7364'692d'6863;  // "ch-ids-1", little-endian.

constexpr uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

struct SipState {
  uint64_t v0;
  uint64_t v1;
  uint64_t v2;
  uint64_t v3;

  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }

  void rounds(int n) {
    for (int i = 0; i < n; ++i) {
      round();
    }
  }

  [[nodiscard]] uint64_t fold() const { return v0 ^ v1 ^ v2 ^ v3; }
};

uint64_t byte_at(std::string_view data, size_t i) {
  return static_cast<unsigned char>(data[i]);
}

uint64_t load_le64(std::string_view data, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v |= byte_at(data, at + i) << (8 * i);
  }
  return v;
}

void store_le64(uint64_t v, unsigned char* p) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<unsigned char>(v >> (8 * i));
  }
}

std::array<unsigned char, 16> siphash128(std::string_view data) {
  SipState s{0x736f'6d65'7073'6575ULL ^ kSipKey0, 0x646f'7261'6e64'6f6dULL ^ kSipKey1,
             0x6c79'6765'6e65'7261ULL ^ kSipKey0, 0x7465'6462'7974'6573ULL ^ kSipKey1};
  s.v1 ^= 0xee;
  const size_t full = data.size() - data.size() % 8;
  for (size_t i = 0; i < full; i += 8) {
    const uint64_t m = load_le64(data, i);
    s.v3 ^= m;
    s.rounds(2);
    s.v0 ^= m;
  }
  uint64_t last = static_cast<uint64_t>(data.size()) << 56;
  for (size_t i = full; i < data.size(); ++i) {
    last |= byte_at(data, i) << (8 * (i - full));
  }
  s.v3 ^= last;
  s.rounds(2);
  s.v0 ^= last;
  s.v2 ^= 0xee;
  s.rounds(4);
  std::array<unsigned char, 16> out{};
  store_le64(s.fold(), out.data());
  s.v1 ^= 0xdd;
  s.rounds(4);
  store_le64(s.fold(), out.data() + 8);
  return out;
}

void append_le64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(v >> (8 * i))));
  }
}

// Hash input: a domain tag (so the two kinds of id never coincide), then every variable-length
// field behind its length, so that no two different inputs encode to the same bytes.
std::string uuid_v8(std::string_view domain, std::string_view text, const std::string& suffix) {
  std::string input(domain);
  input.push_back('\0');
  append_le64(input, static_cast<uint64_t>(text.size()));
  input.append(text);
  input.append(suffix);
  std::array<unsigned char, 16> b = siphash128(input);
  b[6] = static_cast<unsigned char>((b[6] & 0x0fU) | 0x80U);  // Version 8 (RFC 9562 §5.8).
  b[8] = static_cast<unsigned char>((b[8] & 0x3fU) | 0x80U);  // Variant 10xx.
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      id.push_back('-');
    }
    id.push_back(kHex[b[i] >> 4]);
    id.push_back(kHex[b[i] & 0x0fU]);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// JSON text.

constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

std::string quoted(const std::string& text) {
  return Json(text).dump(-1, ' ', false, kReplace);
}

// Recursion depth is that of the payloads built in this file (at most six levels).
void write_json(const Json& value, std::string& out) {
  switch (value.type()) {
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        out += quoted(key);
        out.push_back(':');
        write_json(item, out);
      }
      out.push_back('}');
      return;
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        write_json(item, out);
      }
      out.push_back(']');
      return;
    }
    case Json::value_t::number_float: {
      // JSON has no NaN or infinity; validation keeps them out of thresholds anyway.
      const double d = value.get<double>();
      out += std::isfinite(d) ? java_double(d) : std::string("null");
      return;
    }
    default:
      out += value.dump(-1, ' ', false, kReplace);
      return;
  }
}

std::string to_text(const Json& value) {
  std::string out;
  write_json(value, out);
  return out;
}

Json str(std::string_view text) {
  Json out = std::string(text);  // Not `return {...}`: braces would make a one-element array.
  return out;
}

Json string_array(const std::vector<std::string>& items) {
  Json out = Json::array();
  for (const auto& item : items) {
    out.push_back(item);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared pieces.

// Names as written in the configuration; the canonical spelling only for a Statistic built in
// code without its text.
std::string statistic_text(const pipeline::Statistic& stat) {
  if (!stat.text.empty()) {
    return stat.text;
  }
  switch (stat.kind) {
    case pipeline::Statistic::Kind::kSampleCount:
      return "SampleCount";
    case pipeline::Statistic::Kind::kAverage:
      return "Average";
    case pipeline::Statistic::Kind::kSum:
      return "Sum";
    case pipeline::Statistic::Kind::kMinimum:
      return "Minimum";
    case pipeline::Statistic::Kind::kMaximum:
      return "Maximum";
    case pipeline::Statistic::Kind::kPercentile: {
      std::string number = java_double(stat.percentile);
      if (number.ends_with(".0")) {
        number.resize(number.size() - 2);
      }
      return "p" + number;
    }
  }
  return "Average";
}

// The SNS Trigger's spelling of the simple statistics (the Java enum names).
std::string_view sns_statistic_name(pipeline::Statistic::Kind kind) {
  switch (kind) {
    case pipeline::Statistic::Kind::kSampleCount:
      return "SAMPLE_COUNT";
    case pipeline::Statistic::Kind::kAverage:
      return "AVERAGE";
    case pipeline::Statistic::Kind::kSum:
      return "SUM";
    case pipeline::Statistic::Kind::kMinimum:
      return "MINIMUM";
    case pipeline::Statistic::Kind::kMaximum:
      return "MAXIMUM";
    case pipeline::Statistic::Kind::kPercentile:
      break;
  }
  return "";
}

// CloudWatch's SNS message prints a TreatMissingData that was never configured as this literal,
// apparently a pretty-printer's placeholder leaking into the payload; tools in the wild match
// on it, so it is reproduced to the space.
constexpr std::string_view kUnsetTreatMissingData =
    "- TreatMissingData:                    missing";

std::string treat_missing_data_text(const pipeline::MetricAlarmConfig& alarm) {
  if (!alarm.treat_missing_data_set) {
    return std::string(kUnsetTreatMissingData);
  }
  return std::string(pipeline::to_string(alarm.treat_missing_data));
}

std::string low_sample_count_text(const pipeline::MetricAlarmConfig& alarm) {
  if (!alarm.evaluate_low_sample_count_percentile) {
    return "";
  }
  return std::string(pipeline::to_string(*alarm.evaluate_low_sample_count_percentile));
}

// The transition normally carries the alarm's name and ARN; the config and settings stand in
// for a transition built without them (tests, SetAlarmState tooling).
struct Identity {
  std::string name;
  std::string arn;
};

Identity identity_of(const StateTransition& t, const std::string& config_name,
                     const pipeline::Settings& settings) {
  Identity id{t.alarm_name.empty() ? config_name : t.alarm_name, t.alarm_arn};
  if (id.arn.empty()) {
    id.arn = pipeline::alarm_arn(settings, id.name);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// EventBridge.

Json event_state(const StateRecord& record) {
  Json out = Json::object();
  out["value"] = str(to_string(record.value));
  out["reason"] = record.reason;
  if (!record.reason_data.empty()) {
    out["reasonData"] = record.reason_data;
  }
  out["timestamp"] = pipeline::format_cloudwatch_timestamp(record.timestamp);
  if (record.actions_suppressed_by != SuppressedBy::kNone) {
    out["actionsSuppressedBy"] = str(to_string(record.actions_suppressed_by));
    // CloudWatch always pairs the two; its reason reads "Actions suppressed by WaitPeriod".
    out["actionsSuppressedReason"] =
        record.actions_suppressed_reason.empty()
            ? "Actions suppressed by " + std::string(to_string(record.actions_suppressed_by))
            : record.actions_suppressed_reason;
  }
  return out;
}

Json event_metric_stat(const pipeline::MetricStat& stat) {
  Json dimensions = Json::object();
  for (const auto& d : stat.dimensions) {
    dimensions[d.name] = d.value;
  }
  Json metric = Json::object();
  metric["namespace"] = stat.namespace_name;
  metric["name"] = stat.metric_name;
  metric["dimensions"] = std::move(dimensions);
  Json out = Json::object();
  out["metric"] = std::move(metric);
  out["period"] = stat.period;
  out["stat"] = statistic_text(stat.stat);
  if (stat.unit) {
    out["unit"] = str(pipeline::to_string(*stat.unit));
  }
  return out;
}

Json event_query(const pipeline::MetricDataQuery& query) {
  Json out = Json::object();
  out["id"] = query.id;
  if (query.metric_stat) {
    out["metricStat"] = event_metric_stat(*query.metric_stat);
  } else {
    out["expression"] = query.expression;
  }
  if (!query.label.empty()) {
    out["label"] = query.label;
  }
  out["returnData"] = query.return_data;
  if (query.period) {
    out["period"] = *query.period;
  }
  if (!query.account_id.empty()) {
    out["accountId"] = query.account_id;
  }
  return out;
}

std::string event_text(const StateTransition& t, const Identity& id,
                       const pipeline::Settings& settings, Json configuration) {
  Json detail = Json::object();
  detail["alarmName"] = id.name;
  detail["state"] = event_state(t.current);
  detail["previousState"] = event_state(t.previous);
  detail["configuration"] = std::move(configuration);

  Json event = Json::object();
  event["version"] = "0";
  event["id"] = transition_event_id(id.arn, t.current.timestamp, t.current.value);
  event["detail-type"] = "CloudWatch Alarm State Change";
  event["source"] = "aws.cloudwatch";
  event["account"] = settings.account_id;
  event["time"] = pipeline::format_iso8601_seconds(t.current.timestamp);
  event["region"] = settings.region;
  event["resources"] = Json::array({id.arn});
  event["detail"] = std::move(detail);
  return to_text(event);
}

// ---------------------------------------------------------------------------------------------
// SNS.

Json sns_dimensions(const std::vector<pipeline::Dimension>& dimensions) {
  Json out = Json::array();
  for (const auto& d : dimensions) {
    Json entry = Json::object();
    entry["value"] = d.value;  // CloudWatch's order: value first.
    entry["name"] = d.name;
    out.push_back(std::move(entry));
  }
  return out;
}

// Queries inside the SNS Trigger come with their keys sorted alphabetically, as CloudWatch's
// serializer writes them (unlike the rest of the message).
Json sns_query(const pipeline::MetricDataQuery& query) {
  Json out = Json::object();
  if (!query.account_id.empty()) {
    out["AccountId"] = query.account_id;
  }
  if (!query.metric_stat) {
    out["Expression"] = query.expression;
  }
  out["Id"] = query.id;
  if (!query.label.empty()) {
    out["Label"] = query.label;
  }
  if (query.metric_stat) {
    const pipeline::MetricStat& stat = *query.metric_stat;
    Json metric = Json::object();
    metric["Dimensions"] = sns_dimensions(stat.dimensions);
    metric["MetricName"] = stat.metric_name;
    metric["Namespace"] = stat.namespace_name;
    Json metric_stat = Json::object();
    metric_stat["Metric"] = std::move(metric);
    metric_stat["Period"] = stat.period;
    metric_stat["Stat"] = statistic_text(stat.stat);
    if (stat.unit) {
      metric_stat["Unit"] = str(pipeline::to_string(*stat.unit));
    }
    out["MetricStat"] = std::move(metric_stat);
  }
  if (query.period) {
    out["Period"] = *query.period;
  }
  out["ReturnData"] = query.return_data;
  return out;
}

Json sns_trigger(const pipeline::MetricAlarmConfig& alarm) {
  Json out = Json::object();
  if (alarm.metrics.empty()) {
    out["MetricName"] = alarm.metric_name;
    out["Namespace"] = alarm.namespace_name;
    if (alarm.statistic) {
      const bool extended = alarm.statistic_is_extended ||
                            alarm.statistic->kind == pipeline::Statistic::Kind::kPercentile;
      out["StatisticType"] = extended ? "ExtendedStatistic" : "Statistic";
      out["Statistic"] = extended ? statistic_text(*alarm.statistic)
                                  : std::string(sns_statistic_name(alarm.statistic->kind));
    }
    out["Unit"] = alarm.unit ? str(pipeline::to_string(*alarm.unit)) : Json(nullptr);
    out["Dimensions"] = sns_dimensions(alarm.dimensions);
  }
  out["Period"] = alarm.period;
  out["EvaluationPeriods"] = alarm.evaluation_periods;
  if (alarm.datapoints_to_alarm) {
    out["DatapointsToAlarm"] = *alarm.datapoints_to_alarm;
  }
  out["ComparisonOperator"] = str(pipeline::to_string(alarm.comparison_operator));
  if (alarm.threshold) {
    out["Threshold"] = *alarm.threshold;
  }
  if (!alarm.threshold_metric_id.empty()) {
    out["ThresholdMetricId"] = alarm.threshold_metric_id;
  }
  out["TreatMissingData"] = treat_missing_data_text(alarm);
  out["EvaluateLowSampleCountPercentile"] = low_sample_count_text(alarm);
  if (!alarm.metrics.empty()) {
    Json metrics = Json::array();
    for (const auto& query : alarm.metrics) {
      metrics.push_back(sns_query(query));
    }
    out["Metrics"] = std::move(metrics);
  }
  return out;
}

struct SnsCommon {
  const std::string& description;
  const std::vector<std::string>& ok_actions;
  const std::vector<std::string>& alarm_actions;
  const std::vector<std::string>& insufficient_data_actions;
};

Json sns_body(const StateTransition& t, const Identity& id, const SnsCommon& common,
              const pipeline::Settings& settings, pipeline::EventTime config_updated) {
  Json out = Json::object();
  out["AlarmName"] = id.name;
  out["AlarmDescription"] = common.description.empty() ? Json(nullptr) : Json(common.description);
  out["AWSAccountId"] = settings.account_id;
  out["AlarmConfigurationUpdatedTimestamp"] = pipeline::format_cloudwatch_timestamp(config_updated);
  out["NewStateValue"] = str(to_string(t.current.value));
  out["NewStateReason"] = t.current.reason;
  out["StateChangeTime"] = pipeline::format_cloudwatch_timestamp(t.current.timestamp);
  out["Region"] = str(region_display_name(settings.region));
  out["AlarmArn"] = id.arn;
  out["OldStateValue"] = str(to_string(t.previous.value));
  out["OKActions"] = string_array(common.ok_actions);
  out["AlarmActions"] = string_array(common.alarm_actions);
  out["InsufficientDataActions"] = string_array(common.insufficient_data_actions);
  return out;
}

std::string sns_subject(const StateTransition& t, const Identity& id,
                        const pipeline::Settings& settings) {
  std::string subject(to_string(t.current.value));
  subject += ": \"";
  subject += id.name;
  subject += "\" in ";
  subject += region_display_name(settings.region);
  return subject;
}

// The composite's reason data is {"triggeringAlarms":[{"arn","state":{"value","timestamp"}}]}
// (reference §4.3). It is trailwatch's own output, but it passed through a StateRecord that
// SetAlarmState tooling may also fill, so anything malformed degrades to fewer children rather
// than to an exception.
Json triggering_children(const std::string& reason_data) {
  Json out = Json::array();
  if (reason_data.empty()) {
    return out;
  }
  const nlohmann::json parsed =
      nlohmann::json::parse(reason_data.begin(), reason_data.end(), nullptr, false);
  if (!parsed.is_object()) {
    return out;
  }
  const auto alarms = parsed.find("triggeringAlarms");
  if (alarms == parsed.end() || !alarms->is_array()) {
    return out;
  }
  for (const auto& child : *alarms) {
    if (!child.is_object()) {
      continue;
    }
    const auto arn = child.find("arn");
    if (arn == child.end() || !arn->is_string()) {
      continue;
    }
    Json state = Json::object();
    const auto child_state = child.find("state");
    if (child_state != child.end() && child_state->is_object()) {
      const auto value = child_state->find("value");
      if (value != child_state->end() && value->is_string()) {
        state["Value"] = value->get<std::string>();
      }
      const auto timestamp = child_state->find("timestamp");
      if (timestamp != child_state->end() && timestamp->is_string()) {
        state["Timestamp"] = timestamp->get<std::string>();
      }
    }
    Json entry = Json::object();
    entry["Arn"] = arn->get<std::string>();
    entry["State"] = std::move(state);
    out.push_back(std::move(entry));
  }
  return out;
}

// Display names as CloudWatch writes them in SNS messages: the long names of the AWS SDK for
// Java's Regions enum, which keep the older "EU (...)" form for the European Regions opened
// before 2022 and use "Europe (...)" for later ones. Regions opened since 2024 carry their
// console names [INF]. Unknown codes (new Regions, partitions not listed) print as the code.
constexpr std::array<std::pair<std::string_view, std::string_view>, 40> kRegionNames = {{
    {"us-east-1", "US East (N. Virginia)"},
    {"us-east-2", "US East (Ohio)"},
    {"us-west-1", "US West (N. California)"},
    {"us-west-2", "US West (Oregon)"},
    {"af-south-1", "Africa (Cape Town)"},
    {"ap-east-1", "Asia Pacific (Hong Kong)"},
    {"ap-south-1", "Asia Pacific (Mumbai)"},
    {"ap-south-2", "Asia Pacific (Hyderabad)"},
    {"ap-southeast-1", "Asia Pacific (Singapore)"},
    {"ap-southeast-2", "Asia Pacific (Sydney)"},
    {"ap-southeast-3", "Asia Pacific (Jakarta)"},
    {"ap-southeast-4", "Asia Pacific (Melbourne)"},
    {"ap-southeast-5", "Asia Pacific (Malaysia)"},
    {"ap-southeast-7", "Asia Pacific (Thailand)"},
    {"ap-northeast-1", "Asia Pacific (Tokyo)"},
    {"ap-northeast-2", "Asia Pacific (Seoul)"},
    {"ap-northeast-3", "Asia Pacific (Osaka)"},
    {"ca-central-1", "Canada (Central)"},
    {"ca-west-1", "Canada West (Calgary)"},
    {"eu-central-1", "EU (Frankfurt)"},
    {"eu-central-2", "Europe (Zurich)"},
    {"eu-west-1", "EU (Ireland)"},
    {"eu-west-2", "EU (London)"},
    {"eu-west-3", "EU (Paris)"},
    {"eu-north-1", "EU (Stockholm)"},
    {"eu-south-1", "EU (Milan)"},
    {"eu-south-2", "Europe (Spain)"},
    {"il-central-1", "Israel (Tel Aviv)"},
    {"me-central-1", "Middle East (UAE)"},
    {"me-south-1", "Middle East (Bahrain)"},
    {"mx-central-1", "Mexico (Central)"},
    {"sa-east-1", "South America (Sao Paulo)"},
    {"cn-north-1", "China (Beijing)"},
    {"cn-northwest-1", "China (Ningxia)"},
    {"us-gov-west-1", "AWS GovCloud (US)"},
    {"us-gov-east-1", "AWS GovCloud (US-East)"},
    {"us-iso-east-1", "US ISO East"},
    {"us-iso-west-1", "US ISO WEST"},
    {"us-isob-east-1", "US ISOB East (Ohio)"},
    {"ap-east-2", "Asia Pacific (Taipei)"},
}};

}  // namespace

std::string transition_event_id(std::string_view alarm_arn, pipeline::EventTime at,
                                AlarmState new_state) {
  // The state by name, not by enumerator value: reordering AlarmState must not change ids.
  std::string suffix;
  append_le64(suffix, static_cast<uint64_t>(at.millis()));
  suffix.append(to_string(new_state));
  return uuid_v8("trailwatch.transition.v1", alarm_arn, suffix);
}

std::string single_metric_query_id(std::string_view alarm_arn) {
  return uuid_v8("trailwatch.metric-query.v1", alarm_arn, "");
}

std::string_view region_display_name(std::string_view region) {
  for (const auto& [code, name] : kRegionNames) {
    if (code == region) {
      return name;
    }
  }
  return region;
}

std::string state_change_event(const StateTransition& t, const pipeline::MetricAlarmConfig& alarm,
                               const pipeline::Settings& settings) {
  const Identity id = identity_of(t, alarm.alarm_name, settings);
  Json metrics = Json::array();
  if (alarm.metrics.empty()) {
    pipeline::MetricStat stat;
    stat.namespace_name = alarm.namespace_name;
    stat.metric_name = alarm.metric_name;
    stat.dimensions = alarm.dimensions;
    stat.period = alarm.period;
    stat.stat = alarm.statistic.value_or(pipeline::Statistic{});
    stat.unit = alarm.unit;
    Json query = Json::object();
    query["id"] = single_metric_query_id(id.arn);
    query["metricStat"] = event_metric_stat(stat);
    query["returnData"] = true;
    metrics.push_back(std::move(query));
  } else {
    for (const auto& query : alarm.metrics) {
      metrics.push_back(event_query(query));
    }
  }
  // CloudWatch leaves out what is unset rather than writing null or "" (reasonData too), so an
  // alarm without a description has no `description` key.
  Json configuration = Json::object();
  if (!alarm.alarm_description.empty()) {
    configuration["description"] = alarm.alarm_description;
  }
  configuration["metrics"] = std::move(metrics);
  return event_text(t, id, settings, std::move(configuration));
}

std::string state_change_event(const StateTransition& t,
                               const pipeline::CompositeAlarmConfig& alarm,
                               const pipeline::Settings& settings) {
  const Identity id = identity_of(t, alarm.alarm_name, settings);
  Json configuration = Json::object();
  configuration["alarmRule"] = alarm.alarm_rule;
  if (!alarm.actions_suppressor.empty()) {
    configuration["actionsSuppressor"] = alarm.actions_suppressor;
  }
  if (alarm.actions_suppressor_wait_period) {
    configuration["actionsSuppressorWaitPeriod"] = *alarm.actions_suppressor_wait_period;
  }
  if (alarm.actions_suppressor_extension_period) {
    configuration["actionsSuppressorExtensionPeriod"] = *alarm.actions_suppressor_extension_period;
  }
  return event_text(t, id, settings, std::move(configuration));
}

SnsMessage sns_message(const StateTransition& t, const pipeline::MetricAlarmConfig& alarm,
                       const pipeline::Settings& settings, pipeline::EventTime config_updated) {
  const Identity id = identity_of(t, alarm.alarm_name, settings);
  const SnsCommon common{alarm.alarm_description, alarm.ok_actions, alarm.alarm_actions,
                         alarm.insufficient_data_actions};
  Json body = sns_body(t, id, common, settings, config_updated);
  body["Trigger"] = sns_trigger(alarm);
  return SnsMessage{sns_subject(t, id, settings), to_text(body)};
}

SnsMessage sns_message(const StateTransition& t, const pipeline::CompositeAlarmConfig& alarm,
                       const pipeline::Settings& settings, pipeline::EventTime config_updated) {
  const Identity id = identity_of(t, alarm.alarm_name, settings);
  const SnsCommon common{alarm.alarm_description, alarm.ok_actions, alarm.alarm_actions,
                         alarm.insufficient_data_actions};
  Json body = sns_body(t, id, common, settings, config_updated);
  body["AlarmRule"] = alarm.alarm_rule;
  body["TriggeringChildren"] = triggering_children(t.current.reason_data);
  return SnsMessage{sns_subject(t, id, settings), to_text(body)};
}

}  // namespace tw::detectors
