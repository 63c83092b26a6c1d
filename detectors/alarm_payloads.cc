#include "detectors/alarm_payloads.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "detectors/json_text.h"
#include "detectors/number_format.h"

namespace tw::detectors {
namespace {

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
//
// Payloads are written straight into one string, member by member in CloudWatch's key order,
// rather than built as a JSON DOM and dumped: they are built on every state transition, and the
// DOM's allocations and dump cost more than a third of one. Strings are escaped as nlohmann's
// dump escaped them (json_text.h), so the bytes are the same as when payloads were DOMs.
// Doubles print as Java's Double.toString does ("Threshold":1.0, 1.0E7): CloudWatch is a Java
// service.

// Writes one JSON value left to right. It places the commas (before every member or element
// but the first of its object or array); the caller keeps objects and arrays balanced and gives
// every key a value.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }

  void end_object() { close('}'); }

  void begin_array() { open('['); }

  void end_array() { close(']'); }

  // The key of the next member; one value call (or a begin_*) must follow.
  JsonWriter& key(std::string_view name) {
    separate();
    append_json_string(out_, name);
    out_.push_back(':');
    comma_ = false;
    return *this;
  }

  void str(std::string_view text) {
    separate();
    append_json_string(out_, text);
    comma_ = true;
  }

  void integer(int64_t value) {
    std::array<char, 24> buf{};
    const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    raw(std::string_view(buf.data(), static_cast<size_t>(result.ptr - buf.data())));
  }

  void boolean(bool value) { raw(value ? "true" : "false"); }

  void null() { raw("null"); }

  // JSON has no NaN or infinity; validation keeps them out of thresholds anyway.
  void number(double value) { raw(std::isfinite(value) ? java_double(value) : "null"); }

 private:
  void separate() {
    if (comma_) {
      out_.push_back(',');
    }
  }

  void open(char bracket) {
    separate();
    out_.push_back(bracket);
    comma_ = false;
  }

  void close(char bracket) {
    out_.push_back(bracket);
    comma_ = true;
  }

  void raw(std::string_view text) {
    separate();
    out_ += text;
    comma_ = true;
  }

  std::string& out_;
  bool comma_ = false;  // Whether a value precedes at this level, so the next needs a comma.
};

void write_string_array(JsonWriter& w, const std::vector<std::string>& items) {
  w.begin_array();
  for (const auto& item : items) {
    w.str(item);
  }
  w.end_array();
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

std::string_view treat_missing_data_text(const pipeline::MetricAlarmConfig& alarm) {
  if (!alarm.treat_missing_data_set) {
    return kUnsetTreatMissingData;
  }
  return pipeline::to_string(alarm.treat_missing_data);
}

std::string_view low_sample_count_text(const pipeline::MetricAlarmConfig& alarm) {
  if (!alarm.evaluate_low_sample_count_percentile) {
    return "";
  }
  return pipeline::to_string(*alarm.evaluate_low_sample_count_percentile);
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

void write_event_state(JsonWriter& w, const StateRecord& record) {
  w.begin_object();
  w.key("value").str(to_string(record.value));
  w.key("reason").str(record.reason);
  if (!record.reason_data.empty()) {
    w.key("reasonData").str(record.reason_data);
  }
  w.key("timestamp").str(pipeline::format_cloudwatch_timestamp(record.timestamp));
  if (record.actions_suppressed_by != SuppressedBy::kNone) {
    w.key("actionsSuppressedBy").str(to_string(record.actions_suppressed_by));
    // CloudWatch always pairs the two; its reason reads "Actions suppressed by WaitPeriod".
    w.key("actionsSuppressedReason");
    if (record.actions_suppressed_reason.empty()) {
      w.str("Actions suppressed by " + std::string(to_string(record.actions_suppressed_by)));
    } else {
      w.str(record.actions_suppressed_reason);
    }
  }
  w.end_object();
}

// Dimensions as an object, name → value. A name given twice (validation should not let it
// through) is one member, in the place of its first occurrence, with the value of its last:
// what assigning them in turn to an ordered JSON object did when events were built that way.
void write_event_dimensions(JsonWriter& w, const std::vector<pipeline::Dimension>& dimensions) {
  w.begin_object();
  for (size_t i = 0; i < dimensions.size(); ++i) {
    const std::string& name = dimensions[i].name;
    bool repeated = false;
    for (size_t j = 0; j < i && !repeated; ++j) {
      repeated = dimensions[j].name == name;
    }
    if (repeated) {
      continue;
    }
    const std::string* value = &dimensions[i].value;
    for (size_t j = i + 1; j < dimensions.size(); ++j) {
      if (dimensions[j].name == name) {
        value = &dimensions[j].value;
      }
    }
    w.key(name).str(*value);
  }
  w.end_object();
}

// The fields of a MetricStat, passed one by one so that the MetricName form of an alarm can be
// written without copying its fields into a MetricStat first.
struct MetricStatFields {
  const std::string& namespace_name;
  const std::string& metric_name;
  const std::vector<pipeline::Dimension>& dimensions;
  int period;
  const pipeline::Statistic& stat;
  const std::optional<pipeline::Unit>& unit;
};

MetricStatFields fields_of(const pipeline::MetricStat& stat) {
  return {stat.namespace_name, stat.metric_name, stat.dimensions,
          stat.period,         stat.stat,        stat.unit};
}

void write_event_metric_stat(JsonWriter& w, const MetricStatFields& stat) {
  w.begin_object();
  w.key("metric").begin_object();
  w.key("namespace").str(stat.namespace_name);
  w.key("name").str(stat.metric_name);
  w.key("dimensions");
  write_event_dimensions(w, stat.dimensions);
  w.end_object();
  w.key("period").integer(stat.period);
  w.key("stat").str(statistic_text(stat.stat));
  if (stat.unit) {
    w.key("unit").str(pipeline::to_string(*stat.unit));
  }
  w.end_object();
}

void write_event_query(JsonWriter& w, const pipeline::MetricDataQuery& query) {
  w.begin_object();
  w.key("id").str(query.id);
  if (query.metric_stat) {
    w.key("metricStat");
    write_event_metric_stat(w, fields_of(*query.metric_stat));
  } else {
    w.key("expression").str(query.expression);
  }
  if (!query.label.empty()) {
    w.key("label").str(query.label);
  }
  w.key("returnData").boolean(query.return_data);
  if (query.period) {
    w.key("period").integer(*query.period);
  }
  if (!query.account_id.empty()) {
    w.key("accountId").str(query.account_id);
  }
  w.end_object();
}

// Room for the event's fixed text (about 540 bytes with a single-metric configuration) and its
// variable parts, the reason data growing by its escaped quotes, so that most events are
// written without the string growing.
size_t event_size_hint(const StateTransition& t, const Identity& id,
                       const pipeline::Settings& settings, size_t configuration_size) {
  const size_t reason_data = t.current.reason_data.size() + t.previous.reason_data.size();
  return 640 + id.name.size() + 2 * id.arn.size() + settings.account_id.size() +
         settings.region.size() + t.current.reason.size() + t.previous.reason.size() + reason_data +
         reason_data / 4 + configuration_size;
}

// The event around its `configuration`, which `write_configuration(w)` writes as one value.
template <typename WriteConfiguration>
std::string event_text(const StateTransition& t, const Identity& id,
                       const pipeline::Settings& settings, size_t configuration_size,
                       const WriteConfiguration& write_configuration) {
  std::string out;
  out.reserve(event_size_hint(t, id, settings, configuration_size));
  JsonWriter w(out);
  w.begin_object();
  w.key("version").str("0");
  w.key("id").str(transition_event_id(id.arn, t.current.timestamp, t.current.value));
  w.key("detail-type").str("CloudWatch Alarm State Change");
  w.key("source").str("aws.cloudwatch");
  w.key("account").str(settings.account_id);
  w.key("time").str(pipeline::format_iso8601_seconds(t.current.timestamp));
  w.key("region").str(settings.region);
  w.key("resources").begin_array();
  w.str(id.arn);
  w.end_array();
  w.key("detail").begin_object();
  w.key("alarmName").str(id.name);
  w.key("state");
  write_event_state(w, t.current);
  w.key("previousState");
  write_event_state(w, t.previous);
  w.key("configuration");
  write_configuration(w);
  w.end_object();
  w.end_object();
  return out;
}

// ---------------------------------------------------------------------------------------------
// SNS.

void write_sns_dimensions(JsonWriter& w, const std::vector<pipeline::Dimension>& dimensions) {
  w.begin_array();
  for (const auto& d : dimensions) {
    w.begin_object();
    w.key("value").str(d.value);  // CloudWatch's order: value first.
    w.key("name").str(d.name);
    w.end_object();
  }
  w.end_array();
}

// Queries inside the SNS Trigger come with their keys sorted alphabetically, as CloudWatch's
// serializer writes them (unlike the rest of the message).
void write_sns_query(JsonWriter& w, const pipeline::MetricDataQuery& query) {
  w.begin_object();
  if (!query.account_id.empty()) {
    w.key("AccountId").str(query.account_id);
  }
  if (!query.metric_stat) {
    w.key("Expression").str(query.expression);
  }
  w.key("Id").str(query.id);
  if (!query.label.empty()) {
    w.key("Label").str(query.label);
  }
  if (query.metric_stat) {
    const pipeline::MetricStat& stat = *query.metric_stat;
    w.key("MetricStat").begin_object();
    w.key("Metric").begin_object();
    w.key("Dimensions");
    write_sns_dimensions(w, stat.dimensions);
    w.key("MetricName").str(stat.metric_name);
    w.key("Namespace").str(stat.namespace_name);
    w.end_object();
    w.key("Period").integer(stat.period);
    w.key("Stat").str(statistic_text(stat.stat));
    if (stat.unit) {
      w.key("Unit").str(pipeline::to_string(*stat.unit));
    }
    w.end_object();
  }
  if (query.period) {
    w.key("Period").integer(*query.period);
  }
  w.key("ReturnData").boolean(query.return_data);
  w.end_object();
}

void write_sns_trigger(JsonWriter& w, const pipeline::MetricAlarmConfig& alarm) {
  w.begin_object();
  if (alarm.metrics.empty()) {
    w.key("MetricName").str(alarm.metric_name);
    w.key("Namespace").str(alarm.namespace_name);
    if (alarm.statistic) {
      const bool extended = alarm.statistic_is_extended ||
                            alarm.statistic->kind == pipeline::Statistic::Kind::kPercentile;
      w.key("StatisticType").str(extended ? "ExtendedStatistic" : "Statistic");
      w.key("Statistic");
      if (extended) {
        w.str(statistic_text(*alarm.statistic));
      } else {
        w.str(sns_statistic_name(alarm.statistic->kind));
      }
    }
    w.key("Unit");
    if (alarm.unit) {
      w.str(pipeline::to_string(*alarm.unit));
    } else {
      w.null();
    }
    w.key("Dimensions");
    write_sns_dimensions(w, alarm.dimensions);
  }
  w.key("Period").integer(alarm.period);
  w.key("EvaluationPeriods").integer(alarm.evaluation_periods);
  if (alarm.datapoints_to_alarm) {
    w.key("DatapointsToAlarm").integer(*alarm.datapoints_to_alarm);
  }
  w.key("ComparisonOperator").str(pipeline::to_string(alarm.comparison_operator));
  if (alarm.threshold) {
    w.key("Threshold").number(*alarm.threshold);
  }
  if (!alarm.threshold_metric_id.empty()) {
    w.key("ThresholdMetricId").str(alarm.threshold_metric_id);
  }
  w.key("TreatMissingData").str(treat_missing_data_text(alarm));
  w.key("EvaluateLowSampleCountPercentile").str(low_sample_count_text(alarm));
  if (!alarm.metrics.empty()) {
    w.key("Metrics").begin_array();
    for (const auto& query : alarm.metrics) {
      write_sns_query(w, query);
    }
    w.end_array();
  }
  w.end_object();
}

struct SnsCommon {
  const std::string& description;
  const std::vector<std::string>& ok_actions;
  const std::vector<std::string>& alarm_actions;
  const std::vector<std::string>& insufficient_data_actions;
};

// The members every SNS message starts with, inside its (open) top-level object.
void write_sns_common(JsonWriter& w, const StateTransition& t, const Identity& id,
                      const SnsCommon& common, const pipeline::Settings& settings,
                      pipeline::EventTime config_updated) {
  w.key("AlarmName").str(id.name);
  w.key("AlarmDescription");
  if (common.description.empty()) {
    w.null();
  } else {
    w.str(common.description);
  }
  w.key("AWSAccountId").str(settings.account_id);
  w.key("AlarmConfigurationUpdatedTimestamp")
      .str(pipeline::format_cloudwatch_timestamp(config_updated));
  w.key("NewStateValue").str(to_string(t.current.value));
  w.key("NewStateReason").str(t.current.reason);
  w.key("StateChangeTime").str(pipeline::format_cloudwatch_timestamp(t.current.timestamp));
  w.key("Region").str(region_display_name(settings.region));
  w.key("AlarmArn").str(id.arn);
  w.key("OldStateValue").str(to_string(t.previous.value));
  w.key("OKActions");
  write_string_array(w, common.ok_actions);
  w.key("AlarmActions");
  write_string_array(w, common.alarm_actions);
  w.key("InsufficientDataActions");
  write_string_array(w, common.insufficient_data_actions);
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
// One child as {Arn, State {Value, Timestamp}}; nothing for an entry without a string `arn`.
void write_triggering_child(JsonWriter& w, const nlohmann::json& child) {
  if (!child.is_object()) {
    return;
  }
  const auto arn = child.find("arn");
  if (arn == child.end() || !arn->is_string()) {
    return;
  }
  w.begin_object();
  w.key("Arn").str(arn->get_ref<const std::string&>());
  w.key("State").begin_object();
  const auto state = child.find("state");
  if (state != child.end() && state->is_object()) {
    const auto value = state->find("value");
    if (value != state->end() && value->is_string()) {
      w.key("Value").str(value->get_ref<const std::string&>());
    }
    const auto timestamp = state->find("timestamp");
    if (timestamp != state->end() && timestamp->is_string()) {
      w.key("Timestamp").str(timestamp->get_ref<const std::string&>());
    }
  }
  w.end_object();
  w.end_object();
}

void write_triggering_children(JsonWriter& w, const std::string& reason_data) {
  w.begin_array();
  if (!reason_data.empty()) {
    const nlohmann::json parsed =
        nlohmann::json::parse(reason_data.begin(), reason_data.end(), nullptr, false);
    // find() gives end() on anything but an object, a failed parse included.
    const auto alarms = parsed.find("triggeringAlarms");
    if (alarms != parsed.end() && alarms->is_array()) {
      for (const auto& child : *alarms) {
        write_triggering_child(w, child);
      }
    }
  }
  w.end_array();
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
  // CloudWatch leaves out what is unset rather than writing null or "" (reasonData too), so an
  // alarm without a description has no `description` key.
  const auto write_configuration = [&](JsonWriter& w) {
    w.begin_object();
    if (!alarm.alarm_description.empty()) {
      w.key("description").str(alarm.alarm_description);
    }
    w.key("metrics").begin_array();
    if (alarm.metrics.empty()) {
      w.begin_object();
      w.key("id").str(single_metric_query_id(id.arn));
      w.key("metricStat");
      write_event_metric_stat(
          w,
          MetricStatFields{alarm.namespace_name, alarm.metric_name, alarm.dimensions, alarm.period,
                           alarm.statistic.value_or(pipeline::Statistic{}), alarm.unit});
      w.key("returnData").boolean(true);
      w.end_object();
    } else {
      for (const auto& query : alarm.metrics) {
        write_event_query(w, query);
      }
    }
    w.end_array();
    w.end_object();
  };
  // The variable-length text of a single-metric configuration (event_size_hint's constant
  // covers its fixed text); math queries are left to the string's growth.
  size_t configuration_size =
      alarm.alarm_description.size() + alarm.namespace_name.size() + alarm.metric_name.size();
  for (const auto& d : alarm.dimensions) {
    configuration_size += d.name.size() + d.value.size() + 6;
  }
  return event_text(t, id, settings, configuration_size, write_configuration);
}

std::string state_change_event(const StateTransition& t,
                               const pipeline::CompositeAlarmConfig& alarm,
                               const pipeline::Settings& settings) {
  const Identity id = identity_of(t, alarm.alarm_name, settings);
  const auto write_configuration = [&](JsonWriter& w) {
    w.begin_object();
    w.key("alarmRule").str(alarm.alarm_rule);
    if (!alarm.actions_suppressor.empty()) {
      w.key("actionsSuppressor").str(alarm.actions_suppressor);
    }
    if (alarm.actions_suppressor_wait_period) {
      w.key("actionsSuppressorWaitPeriod").integer(*alarm.actions_suppressor_wait_period);
    }
    if (alarm.actions_suppressor_extension_period) {
      w.key("actionsSuppressorExtensionPeriod").integer(*alarm.actions_suppressor_extension_period);
    }
    w.end_object();
  };
  return event_text(t, id, settings, alarm.alarm_rule.size() + alarm.actions_suppressor.size(),
                    write_configuration);
}

SnsMessage sns_message(const StateTransition& t, const pipeline::MetricAlarmConfig& alarm,
                       const pipeline::Settings& settings, pipeline::EventTime config_updated) {
  const Identity id = identity_of(t, alarm.alarm_name, settings);
  const SnsCommon common{alarm.alarm_description, alarm.ok_actions, alarm.alarm_actions,
                         alarm.insufficient_data_actions};
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  write_sns_common(w, t, id, common, settings, config_updated);
  w.key("Trigger");
  write_sns_trigger(w, alarm);
  w.end_object();
  return SnsMessage{sns_subject(t, id, settings), std::move(body)};
}

SnsMessage sns_message(const StateTransition& t, const pipeline::CompositeAlarmConfig& alarm,
                       const pipeline::Settings& settings, pipeline::EventTime config_updated) {
  const Identity id = identity_of(t, alarm.alarm_name, settings);
  const SnsCommon common{alarm.alarm_description, alarm.ok_actions, alarm.alarm_actions,
                         alarm.insufficient_data_actions};
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  write_sns_common(w, t, id, common, settings, config_updated);
  w.key("AlarmRule").str(alarm.alarm_rule);
  w.key("TriggeringChildren");
  write_triggering_children(w, t.current.reason_data);
  w.end_object();
  return SnsMessage{sns_subject(t, id, settings), std::move(body)};
}

}  // namespace tw::detectors
