// JSON document → Config, with every problem reported.
//
// Policy for messages: a problem points at the value that is wrong (or, for a missing key, at
// the object that lacks it), says what is wrong, and says what is allowed. A value whose type or
// range is wrong is reported once; checks that combine several fields skip fields that already
// failed, so one typo never produces a cascade. Problems come in document order within each
// object, followed by that object's cross-field checks.

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/config_internal.h"
#include "pipeline/json_pointer.h"
#include "pipeline/series.h"
#include "pipeline/units.h"

namespace tw::pipeline::config_internal {
namespace {

// A hash of an alarm's definition: its JSON object in canonical form (nlohmann::json sorts
// object keys, so key order and whitespace do not matter) without the read-only keys that
// describe-alarms output carries (StateValue, ...), which change nothing.
template <size_t N>
uint64_t definition_hash(const Json& value, const std::array<std::string_view, N>& read_only) {
  nlohmann::json canonical = nlohmann::json::parse(value.dump());
  for (const std::string_view key : read_only) {
    canonical.erase(std::string(key));
  }
  return hash_series_key(canonical.dump());
}

// Limits from the PutMetricAlarm / PutCompositeAlarm API reference.
constexpr size_t kMaxAlarmNameChars = 255;
constexpr size_t kMaxDescriptionChars = 1024;
constexpr size_t kMaxActionsPerList = 5;
constexpr size_t kMaxActionChars = 1024;
constexpr size_t kMaxMetricNameChars = 255;
constexpr size_t kMaxNamespaceChars = 255;
constexpr size_t kMaxDimensions = 30;
constexpr size_t kMaxDimensionNameChars = 255;
constexpr size_t kMaxDimensionValueChars = 1024;
constexpr size_t kMaxTags = 50;
constexpr size_t kMaxTagKeyChars = 128;
constexpr size_t kMaxTagValueChars = 256;
constexpr size_t kMaxQueries = 20;
constexpr size_t kMaxMetricStatQueries = 10;
constexpr size_t kMaxExpressionQueries = 10;
constexpr size_t kMaxQueryIdChars = 255;
constexpr size_t kMaxExpressionChars = 2048;
constexpr size_t kMaxThresholdMetricIdChars = 255;
constexpr size_t kMaxAlarmRuleChars = 10'240;
constexpr size_t kMaxActionsSuppressorChars = 1600;
// CloudWatch's evaluation window: one day for periods under an hour, seven days otherwise (the
// current PutMetricAlarm reference; older documentation said one day for everything, which
// would reject alarms AWS now accepts).
constexpr int64_t kMaxShortPeriodWindowSeconds = 86'400;
constexpr int64_t kMaxWindowSeconds = 604'800;
constexpr int kLongPeriodSeconds = 3600;
constexpr int kMinAnomalyPeriodSeconds = 60;

// trailwatch settings limits (docs/configuration.md).
constexpr int64_t kMaxExtraEvaluationPeriods = 100;
constexpr int64_t kMaxLatenessSeconds = 86'400;
constexpr int64_t kMaxForwardJumpSeconds = 10L * 365 * 86'400;
constexpr int64_t kMinRecordBytes = 1024;
constexpr int64_t kMaxRecordBytes = 64L << 20;
constexpr int64_t kMinFileBytes = 1L << 20;
constexpr int64_t kMaxFileBytes = 4L << 30;
constexpr int64_t kMaxSeries = 1'000'000'000;
constexpr int64_t kMaxShards = 256;
constexpr size_t kMaxInputNameChars = 128;
constexpr size_t kMaxPathChars = 4096;

// Keys are listed in the order the API reference lists them; suggestions use these lists.
constexpr std::array<std::string_view, 3> kTopLevelKeys = {"MetricAlarms", "CompositeAlarms",
                                                           "trailwatch"};

constexpr std::array<std::string_view, 22> kMetricAlarmKeys = {
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
    "Tags",
};

// Output-only fields of describe-alarms' MetricAlarm: accepted so that its output loads as is.
constexpr std::array<std::string_view, 8> kMetricAlarmReadOnlyKeys = {
    "AlarmArn",
    "AlarmConfigurationUpdatedTimestamp",
    "StateValue",
    "StateReason",
    "StateReasonData",
    "StateUpdatedTimestamp",
    "StateTransitionedTimestamp",
    "EvaluationState",
};

constexpr std::array<std::string_view, 11> kCompositeAlarmKeys = {
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "AlarmRule",
    "ActionsSuppressor",
    "ActionsSuppressorWaitPeriod",
    "ActionsSuppressorExtensionPeriod",
    "Tags",
};

constexpr std::array<std::string_view, 9> kCompositeAlarmReadOnlyKeys = {
    "AlarmArn",
    "AlarmConfigurationUpdatedTimestamp",
    "StateValue",
    "StateReason",
    "StateReasonData",
    "StateUpdatedTimestamp",
    "StateTransitionedTimestamp",
    "ActionsSuppressedBy",
    "ActionsSuppressedReason",
};

constexpr std::array<std::string_view, 2> kDimensionKeys = {"Name", "Value"};
constexpr std::array<std::string_view, 2> kTagKeys = {"Key", "Value"};
constexpr std::array<std::string_view, 7> kQueryKeys = {
    "Id", "MetricStat", "Expression", "Label", "ReturnData", "Period", "AccountId",
};
constexpr std::array<std::string_view, 4> kMetricStatKeys = {"Metric", "Period", "Stat", "Unit"};
constexpr std::array<std::string_view, 3> kMetricKeys = {"Namespace", "MetricName", "Dimensions"};

constexpr std::array<std::string_view, 5> kStateKeys = {"store", "topic", "directory",
                                                        "checkpoint_interval_seconds", "scale_out"};

// Checkpoints more often than every second cost more than they save; less often than hourly
// makes a restart replay an hour of input.
constexpr int64_t kMaxCheckpointIntervalSeconds = 3600;

constexpr std::array<std::string_view, 4> kActionsKeys = {"dry_run", "delivery", "aws", "targets"};
constexpr std::array<std::string_view, 7> kDeliveryKeys = {
    "max_attempts",   "initial_backoff_ms", "max_backoff_ms", "timeout_ms",
    "queue_capacity", "rate_per_second",    "burst"};
constexpr std::array<std::string_view, 1> kAwsKeys = {"endpoints"};
constexpr std::array<std::string_view, 3> kAwsServices = {"ec2", "autoscaling", "sts"};
constexpr std::array<std::string_view, 5> kTargetTypes = {"webhook", "alertmanager",
                                                          "kubernetes_scale", "ec2", "autoscaling"};
constexpr std::array<std::string_view, 5> kWebhookFormats = {"eventbridge", "sns", "alertmanager",
                                                             "slack", "pagerduty"};
constexpr std::array<std::string_view, 5> kTargetCommonKeys = {"type", "dry_run", "delivery",
                                                               "tls_verify", "ca_file"};
constexpr std::array<std::string_view, 7> kWebhookKeys = {
    "url", "method", "headers", "format", "secret", "routing_key", "severity"};
constexpr std::array<std::string_view, 3> kAlertmanagerKeys = {"url", "resend_interval_seconds",
                                                               "generator_url"};
constexpr std::array<std::string_view, 10> kKubernetesScaleKeys = {
    "api_server", "token_file", "namespace",    "kind",         "name",
    "mode",       "replicas",   "min_replicas", "max_replicas", "cooldown_seconds"};
constexpr std::array<std::string_view, 3> kEc2Keys = {"operation", "instance_ids", "region"};
constexpr std::array<std::string_view, 6> kAutoScalingKeys = {
    "operation", "group", "policy", "desired_capacity", "honor_cooldown", "region"};
constexpr std::array<std::string_view, 4> kPagerDutySeverities = {"critical", "error", "warning",
                                                                  "info"};
constexpr size_t kMaxTargetNameChars = 1024;
constexpr size_t kMaxUrlChars = 4096;
constexpr size_t kMaxHeaders = 64;
constexpr int64_t kMaxReplicas = 100'000;
constexpr int64_t kMaxCooldownSeconds = 86'400;

constexpr std::array<std::string_view, 17> kSettingsKeys = {
    "account_id",
    "region",
    "extra_evaluation_periods",
    "metric_lateness_seconds",
    "cloudtrail_lateness_seconds",
    "max_time_jump_seconds",
    "max_record_bytes",
    "max_file_bytes",
    "max_series",
    "shards",
    "inputs",
    "outputs",
    "kafka",
    "http_listen",
    "idle_timeout_seconds",
    "state",
    "actions",
};

constexpr std::array<std::string_view, 10> kInputKeys = {
    "name",       "type",   "path",  "format",   "allowed_lateness_seconds",
    "account_id", "region", "topic", "group_id", "properties",
};

constexpr std::array<std::string_view, 4> kOutputKeys = {"emissions", "dead_letters", "datapoints",
                                                         "actions"};

constexpr std::array<std::string_view, 5> kSimpleStatistics = {"SampleCount", "Average", "Sum",
                                                               "Minimum", "Maximum"};

constexpr std::array<std::string_view, 3> kInputTypes = {"file", "stdin", "kafka"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Edit distance (Levenshtein plus adjacent transpositions, "optimal string alignment"),
// ignoring ASCII case: a wrong case or two swapped letters are the commonest typos of all.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> before(b.size() + 1);  // Row i - 2.
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    previous[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && ascii_lower(a[i - 1]) == ascii_lower(b[j - 2]) &&
          ascii_lower(a[i - 2]) == ascii_lower(b[j - 1])) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// The closest candidate, if it is close enough to be what the user meant: within a third of its
// length (at least 1, at most 3 edits), so "Treshold" suggests "Threshold" but "Foo" suggests
// nothing.
std::optional<std::string_view> suggest(std::string_view text,
                                        std::span<const std::string_view> candidates) {
  constexpr size_t kMaxComparedChars = 64;  // Longer than any key; keeps hostile keys cheap.
  if (text.size() > kMaxComparedChars) {
    return std::nullopt;
  }
  std::optional<std::string_view> best;
  size_t best_distance = SIZE_MAX;
  for (const std::string_view candidate : candidates) {
    const size_t distance = edit_distance(text, candidate);
    const size_t allowed = std::clamp<size_t>(candidate.size() / 3, 1, 3);
    if (distance <= allowed && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string join(std::span<const std::string_view> items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += separator;
    }
    out += items[i];
  }
  return out;
}

std::string format_number(double value) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return ec == std::errc() ? std::string(buffer.data(), end) : std::string("a number");
}

std::string_view type_phrase(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return "an unsupported value";
}

bool is_ascii_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_lower_ascii_letters(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

bool is_account_id(std::string_view text) {
  return text.size() == 12 && is_ascii_digits(text);
}

// Region codes look like us-east-1, us-gov-west-1, ap-southeast-2: two lower-case letters,
// one or more lower-case words, and a number, separated by hyphens.
bool is_region_code(std::string_view text) {
  if (text.size() > 32) {
    return false;
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t dash = text.find('-', start);
    parts.push_back(text.substr(start, dash == std::string_view::npos ? dash : dash - start));
    if (dash == std::string_view::npos) {
      break;
    }
    start = dash + 1;
  }
  if (parts.size() < 3 || parts.front().size() != 2 || !is_lower_ascii_letters(parts.front()) ||
      !is_ascii_digits(parts.back())) {
    return false;
  }
  return std::all_of(parts.begin() + 1, parts.end() - 1, is_lower_ascii_letters);
}

// The index of the first ASCII control character, if any.
std::optional<size_t> find_control_char(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7F) {
      return i;
    }
  }
  return std::nullopt;
}

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Whether `expression` calls `function` (a whole word followed by optional spaces and '(').
bool calls_function(std::string_view expression, std::string_view function, bool ignore_case) {
  for (size_t i = 0; i + function.size() <= expression.size(); ++i) {
    if (i > 0 && is_identifier_char(expression[i - 1])) {
      continue;
    }
    bool match = true;
    for (size_t k = 0; k < function.size() && match; ++k) {
      const char a = expression[i + k];
      const char b = function[k];
      match = ignore_case ? ascii_lower(a) == ascii_lower(b) : a == b;
    }
    if (!match) {
      continue;
    }
    size_t j = i + function.size();
    while (j < expression.size() && (expression[j] == ' ' || expression[j] == '\t')) {
      ++j;
    }
    if (j < expression.size() && expression[j] == '(') {
      return true;
    }
  }
  return false;
}

bool is_valid_period(int64_t seconds) {
  return seconds > 0 && seconds <= INT_MAX &&
         (seconds == 10 || seconds == 20 || seconds == 30 || seconds % 60 == 0);
}

template <typename Enum, size_t N>
std::vector<std::string_view> enum_names() {
  std::vector<std::string_view> names;
  for (size_t i = 0; i < N; ++i) {
    names.push_back(to_string(static_cast<Enum>(i)));
  }
  return names;
}

// What read_metric_stat learned, including a valid period even when other fields are wrong (so
// that the shared-period check still runs).
struct MetricStatRead {
  std::optional<MetricStat> stat;
  std::optional<int> period;
  std::string period_pointer;
};

// What the alarm-level checks need to know about one Metrics entry.
struct QueryView {
  std::string pointer;
  std::string id;
  bool return_data = true;
  bool has_expression = false;
  std::string expression;
};

// What read_metrics learned about the whole list.
struct MetricsRead {
  std::vector<QueryView> queries;
  bool all_objects = true;
  std::optional<int> period;
  std::string period_pointer;
  bool period_problem = false;  // Already reported: don't report "no period" too.
};

class Validator {
 public:
  Validator(ProblemList& problems, Config& config) : problems_(problems), config_(config) {}

  void run(const Json& document);

 private:
  void problem(std::string pointer, std::string message) {
    problems_.add(std::move(pointer), std::move(message));
  }

  void unknown_key(const std::string& object_pointer, const std::string& key,
                   std::span<const std::string_view> valid, std::string_view where);

  void missing_key(const std::string& object_pointer, std::string_view key,
                   std::string_view why = {});

  // Type checks: each reports "expected X, got Y" and returns false / nullopt on a mismatch.
  bool expect_object(const Json& value, const std::string& pointer);
  bool expect_array(const Json& value, const std::string& pointer);
  std::optional<std::string> string_value(const Json& value, const std::string& pointer);
  std::optional<bool> bool_value(const Json& value, const std::string& pointer);
  std::optional<double> number_value(const Json& value, const std::string& pointer);
  std::optional<int64_t> integer_value(const Json& value, const std::string& pointer, int64_t min,
                                       int64_t max);

  // A string whose length in characters is within [min_chars, max_chars].
  std::optional<std::string> bounded_string(const Json& value, const std::string& pointer,
                                            size_t min_chars, size_t max_chars);

  template <typename Enum>
  std::optional<Enum> enum_value(const Json& value, const std::string& pointer,
                                 std::optional<Enum> (*parse)(std::string_view),
                                 std::span<const std::string_view> names);

  std::optional<int> period_value(const Json& value, const std::string& pointer);
  std::optional<Unit> unit_value(const Json& value, const std::string& pointer);
  std::optional<std::string> namespace_value(const Json& value, const std::string& pointer);
  std::optional<std::string> account_id_value(const Json& value, const std::string& pointer);
  std::optional<std::string> region_value(const Json& value, const std::string& pointer);
  std::optional<std::string> path_value(const Json& value, const std::string& pointer,
                                        size_t min_chars);

  std::optional<std::string> alarm_name(const Json& value, const std::string& pointer);
  void actions(const Json& value, const std::string& pointer, std::vector<std::string>& out);
  void dimensions(const Json& value, const std::string& pointer, std::vector<Dimension>& out);
  void tags(const Json& value, const std::string& pointer, std::vector<Tag>& out);
  std::optional<Statistic> simple_statistic(const Json& value, const std::string& pointer);
  std::optional<Statistic> extended_statistic(const Json& value, const std::string& pointer);
  std::optional<Statistic> any_statistic(const Json& value, const std::string& pointer);

  void metric_alarms(const Json& value, const std::string& pointer);
  void metric_alarm(const Json& value, const std::string& pointer);
  void extensions(const Json& value, const std::string& pointer, AlarmExtensions& out);
  void check_extensions(const MetricAlarmConfig& alarm, const std::string& pointer);
  MetricsRead metrics(const Json& value, const std::string& pointer,
                      std::vector<MetricDataQuery>& out);
  MetricStatRead metric_stat(const Json& value, const std::string& pointer);
  void composite_alarms(const Json& value, const std::string& pointer);
  void composite_alarm(const Json& value, const std::string& pointer);
  void settings(const Json& value, const std::string& pointer);
  void inputs(const Json& value, const std::string& pointer, std::vector<InputConfig>& out);
  void outputs(const Json& value, const std::string& pointer, OutputConfig& out);
  void kafka_properties(const Json& value, const std::string& pointer, KafkaProperties& out);
  void state(const Json& value, const std::string& pointer, StateConfig& out);
  void actions_settings(const Json& value, const std::string& pointer, ActionsConfig& out);
  void delivery(const Json& value, const std::string& pointer, DeliveryPolicy& out);
  void action_target(const Json& value, const std::string& pointer, ActionTargetConfig& out);
  std::optional<std::string> url_value(const Json& value, const std::string& pointer);
  void check_action_references(const std::string& alarm_pointer, std::string_view list_key,
                               const std::vector<std::string>& actions);
  std::optional<std::string> listen_address(const Json& value, const std::string& pointer);
  std::optional<std::string> kafka_name(const Json& value, const std::string& pointer);

  ProblemList& problems_;
  Config& config_;
  // Alarm names are unique across metric and composite alarms; value: where first defined.
  std::unordered_map<std::string, std::string> alarm_names_;
};

// ---------------------------------------------------------------------------------------------
// Generic readers.

void Validator::unknown_key(const std::string& object_pointer, const std::string& key,
                            std::span<const std::string_view> valid, std::string_view where) {
  std::string message = "unknown key " + quote_value(key) + " in " + std::string(where);
  if (!problems_.full()) {
    if (const auto suggestion = suggest(key, valid)) {
      message += "; did you mean \"" + std::string(*suggestion) + "\"?";
    } else if (valid.size() <= 12) {
      message += "; valid keys: " + join(valid, ", ");
    } else {
      message += " (docs/configuration.md lists the valid keys)";
    }
  }
  problem(json_pointer_child(object_pointer, key), std::move(message));
}

void Validator::missing_key(const std::string& object_pointer, std::string_view key,
                            std::string_view why) {
  std::string message = "missing required key \"" + std::string(key) + "\"";
  if (!why.empty()) {
    message += " (";
    message += why;
    message += ")";
  }
  problem(object_pointer, std::move(message));
}

bool Validator::expect_object(const Json& value, const std::string& pointer) {
  if (value.is_object()) {
    return true;
  }
  problem(pointer, "expected an object, got " + std::string(type_phrase(value)));
  return false;
}

bool Validator::expect_array(const Json& value, const std::string& pointer) {
  if (value.is_array()) {
    return true;
  }
  problem(pointer, "expected an array, got " + std::string(type_phrase(value)));
  return false;
}

std::optional<std::string> Validator::string_value(const Json& value, const std::string& pointer) {
  if (value.is_string()) {
    return value.get_ref<const Json::string_t&>();
  }
  problem(pointer, "expected a string, got " + std::string(type_phrase(value)));
  return std::nullopt;
}

std::optional<bool> Validator::bool_value(const Json& value, const std::string& pointer) {
  if (value.is_boolean()) {
    return value.get<bool>();
  }
  problem(pointer, "expected a boolean (true or false), got " + std::string(type_phrase(value)));
  return std::nullopt;
}

std::optional<double> Validator::number_value(const Json& value, const std::string& pointer) {
  if (value.is_number()) {
    // The parser refuses overflowing literals, so every number here is finite.
    return value.get<double>();
  }
  problem(pointer, "expected a number, got " + std::string(type_phrase(value)));
  return std::nullopt;
}

// JSON has one number type; an integral float such as 60.0 (which some generators write) is
// accepted as an integer, 60.5 is not.
std::optional<int64_t> Validator::integer_value(const Json& value, const std::string& pointer,
                                                int64_t min, int64_t max) {
  std::optional<int64_t> result;
  std::string shown;
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    result = value.get<int64_t>();
  } else if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    shown = std::to_string(u);
    if (u <= static_cast<uint64_t>(INT64_MAX)) {
      result = static_cast<int64_t>(u);
    }
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    shown = format_number(d);
    if (std::trunc(d) != d) {
      problem(pointer, "expected an integer, got " + shown);
      return std::nullopt;
    }
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (d >= -9.223372036854775808e18 && d < 9.223372036854775808e18) {
      result = static_cast<int64_t>(d);
    }
  } else {
    problem(pointer, "expected an integer, got " + std::string(type_phrase(value)));
    return std::nullopt;
  }
  if (result.has_value()) {
    shown = std::to_string(*result);
  }
  if (!result.has_value() || *result < min || *result > max) {
    if (min == INT64_MIN) {
      problem(pointer, "is out of range, got " + shown);
    } else if ((max == INT_MAX || max == INT64_MAX) && result.has_value() && *result < min) {
      problem(pointer, "must be at least " + std::to_string(min) + ", got " + shown);
    } else {
      problem(pointer, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                           ", got " + shown);
    }
    return std::nullopt;
  }
  return result;
}

std::optional<std::string> Validator::bounded_string(const Json& value, const std::string& pointer,
                                                     size_t min_chars, size_t max_chars) {
  auto text = string_value(value, pointer);
  if (!text.has_value()) {
    return std::nullopt;
  }
  const size_t length = utf8_length(*text);
  if (length < min_chars || length > max_chars) {
    std::string message;
    if (min_chars == 1 && length == 0) {
      message = "must not be empty";
    } else {
      message = "must be " +
                (min_chars == 0 ? "at most " + std::to_string(max_chars)
                                : std::to_string(min_chars) + " to " + std::to_string(max_chars)) +
                " characters long, got " + std::to_string(length);
    }
    problem(pointer, std::move(message));
    return std::nullopt;
  }
  return text;
}

template <typename Enum>
std::optional<Enum> Validator::enum_value(const Json& value, const std::string& pointer,
                                          std::optional<Enum> (*parse)(std::string_view),
                                          std::span<const std::string_view> names) {
  const auto text = string_value(value, pointer);
  if (!text.has_value()) {
    return std::nullopt;
  }
  if (const auto parsed = parse(*text)) {
    return parsed;
  }
  std::string message = quote_value(*text) + " is not one of " + join(names, ", ");
  if (const auto suggestion = suggest(*text, names)) {
    message += "; did you mean \"" + std::string(*suggestion) + "\"?";
  }
  problem(pointer, std::move(message));
  return std::nullopt;
}

std::optional<int> Validator::period_value(const Json& value, const std::string& pointer) {
  const auto seconds = integer_value(value, pointer, INT64_MIN, INT64_MAX);
  if (!seconds.has_value()) {
    return std::nullopt;
  }
  if (!is_valid_period(*seconds)) {
    problem(pointer,
            "must be 10, 20, 30 or a multiple of 60 (seconds), got " + std::to_string(*seconds));
    return std::nullopt;
  }
  return static_cast<int>(*seconds);
}

std::optional<Unit> Validator::unit_value(const Json& value, const std::string& pointer) {
  return enum_value<Unit>(value, pointer, &parse_unit, unit_names());
}

std::optional<std::string> Validator::namespace_value(const Json& value,
                                                      const std::string& pointer) {
  auto text = bounded_string(value, pointer, 1, kMaxNamespaceChars);
  if (text.has_value() && text->starts_with(':')) {
    problem(pointer, "must not start with ':'");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> Validator::account_id_value(const Json& value,
                                                       const std::string& pointer) {
  auto text = string_value(value, pointer);
  if (text.has_value() && !is_account_id(*text)) {
    problem(pointer, "must be a 12-digit AWS account id such as \"123456789012\", got " +
                         quote_value(*text));
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> Validator::region_value(const Json& value, const std::string& pointer) {
  auto text = string_value(value, pointer);
  if (text.has_value() && !is_region_code(*text)) {
    problem(pointer, "must be an AWS Region code such as \"us-east-1\", got " + quote_value(*text));
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> Validator::path_value(const Json& value, const std::string& pointer,
                                                 size_t min_chars) {
  auto text = bounded_string(value, pointer, min_chars, kMaxPathChars);
  if (text.has_value() && find_control_char(*text).has_value()) {
    problem(pointer, "must not contain control characters");
    return std::nullopt;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Fields shared by metric and composite alarms.

std::optional<std::string> Validator::alarm_name(const Json& value, const std::string& pointer) {
  auto name = bounded_string(value, pointer, 1, kMaxAlarmNameChars);
  if (!name.has_value()) {
    return std::nullopt;
  }
  if (const auto at = find_control_char(*name)) {
    problem(pointer, "must not contain control characters (found one at character " +
                         std::to_string(utf8_length(std::string_view(*name).substr(0, *at)) + 1) +
                         ")");
    return std::nullopt;
  }
  // Alarms are keyed by name (ARNs and composite rules refer to them by it), as in one
  // account and Region of CloudWatch.
  const auto [it, inserted] = alarm_names_.try_emplace(*name, pointer);
  if (!inserted) {
    problem(pointer, "duplicate alarm name " + quote_value(*name) + ": already used at " +
                         it->second + "; names are unique across metric and composite alarms");
    return std::nullopt;
  }
  return name;
}

void Validator::actions(const Json& value, const std::string& pointer,
                        std::vector<std::string>& out) {
  if (!expect_array(value, pointer)) {
    return;
  }
  if (value.size() > kMaxActionsPerList) {
    problem(pointer, "has " + std::to_string(value.size()) + " actions; at most " +
                         std::to_string(kMaxActionsPerList) + " are allowed");
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (auto action =
            bounded_string(value[i], json_pointer_child(pointer, i), 1, kMaxActionChars)) {
      out.push_back(std::move(*action));
    }
  }
}

void Validator::dimensions(const Json& value, const std::string& pointer,
                           std::vector<Dimension>& out) {
  if (!expect_array(value, pointer)) {
    return;
  }
  if (value.size() > kMaxDimensions) {
    problem(pointer, "has " + std::to_string(value.size()) + " dimensions; at most " +
                         std::to_string(kMaxDimensions) + " are allowed");
  }
  std::unordered_map<std::string, std::string> seen;  // Name → pointer of its first use.
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string entry_pointer = json_pointer_child(pointer, i);
    const Json& entry = value[i];
    if (!expect_object(entry, entry_pointer)) {
      continue;
    }
    std::optional<std::string> name;
    std::optional<std::string> dimension_value;
    bool has_name = false;
    bool has_value = false;
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string key_pointer = json_pointer_child(entry_pointer, it.key());
      if (it.key() == "Name") {
        has_name = true;
        name = bounded_string(it.value(), key_pointer, 1, kMaxDimensionNameChars);
        if (name.has_value()) {
          const auto [first, inserted] = seen.try_emplace(*name, key_pointer);
          if (!inserted) {
            problem(key_pointer, "duplicate dimension name " + quote_value(*name) +
                                     ": already used at " + first->second);
          }
        }
      } else if (it.key() == "Value") {
        has_value = true;
        dimension_value = bounded_string(it.value(), key_pointer, 1, kMaxDimensionValueChars);
      } else {
        unknown_key(entry_pointer, it.key(), kDimensionKeys, "a dimension");
      }
    }
    if (!has_name) {
      missing_key(entry_pointer, "Name");
    }
    if (!has_value) {
      missing_key(entry_pointer, "Value");
    }
    if (name.has_value() && dimension_value.has_value()) {
      out.push_back(Dimension{std::move(*name), std::move(*dimension_value)});
    }
  }
}

void Validator::tags(const Json& value, const std::string& pointer, std::vector<Tag>& out) {
  if (!expect_array(value, pointer)) {
    return;
  }
  if (value.size() > kMaxTags) {
    problem(pointer, "has " + std::to_string(value.size()) + " tags; at most " +
                         std::to_string(kMaxTags) + " are allowed");
  }
  std::unordered_map<std::string, std::string> seen;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string entry_pointer = json_pointer_child(pointer, i);
    const Json& entry = value[i];
    if (!expect_object(entry, entry_pointer)) {
      continue;
    }
    std::optional<std::string> key;
    std::optional<std::string> tag_value;
    bool has_key = false;
    bool has_value = false;
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string key_pointer = json_pointer_child(entry_pointer, it.key());
      if (it.key() == "Key") {
        has_key = true;
        key = bounded_string(it.value(), key_pointer, 1, kMaxTagKeyChars);
        if (key.has_value()) {
          const auto [first, inserted] = seen.try_emplace(*key, key_pointer);
          if (!inserted) {
            problem(key_pointer, "duplicate tag key " + quote_value(*key) + ": already used at " +
                                     first->second);
          }
        }
      } else if (it.key() == "Value") {
        has_value = true;
        tag_value = bounded_string(it.value(), key_pointer, 0, kMaxTagValueChars);
      } else {
        unknown_key(entry_pointer, it.key(), kTagKeys, "a tag");
      }
    }
    if (!has_key) {
      missing_key(entry_pointer, "Key");
    }
    if (!has_value) {
      missing_key(entry_pointer, "Value", "it may be the empty string");
    }
    if (key.has_value() && tag_value.has_value()) {
      out.push_back(Tag{std::move(*key), std::move(*tag_value)});
    }
  }
}

std::optional<Statistic> Validator::simple_statistic(const Json& value,
                                                     const std::string& pointer) {
  const auto text = string_value(value, pointer);
  if (!text.has_value()) {
    return std::nullopt;
  }
  auto statistic = parse_statistic(*text);
  if (statistic.has_value() && statistic->kind != Statistic::Kind::kPercentile) {
    return statistic;
  }
  std::string message = quote_value(*text) + " is not one of " + join(kSimpleStatistics, ", ");
  if (statistic.has_value() || is_unsupported_extended_statistic(*text)) {
    message += "; percentiles and other extended statistics go in ExtendedStatistic";
  } else if (const auto suggestion = suggest(*text, kSimpleStatistics)) {
    message += "; did you mean \"" + std::string(*suggestion) + "\"?";
  }
  problem(pointer, std::move(message));
  return std::nullopt;
}

std::optional<Statistic> Validator::extended_statistic(const Json& value,
                                                       const std::string& pointer) {
  const auto text = string_value(value, pointer);
  if (!text.has_value()) {
    return std::nullopt;
  }
  auto statistic = parse_statistic(*text);
  if (statistic.has_value() && statistic->kind == Statistic::Kind::kPercentile) {
    return statistic;
  }
  if (statistic.has_value()) {
    problem(pointer, quote_value(*text) + " is a simple statistic: put it in Statistic instead");
  } else if (is_unsupported_extended_statistic(*text)) {
    problem(pointer, quote_value(*text) +
                         " is not supported yet: trailwatch computes percentiles (p0.0 to p100) "
                         "but not trimmed or winsorized means, trimmed counts or sums, percentile "
                         "ranks or IQM");
  } else {
    problem(pointer, quote_value(*text) +
                         " is not a valid extended statistic: use a percentile p0.0 to p100, "
                         "such as p99 or p99.9");
  }
  return std::nullopt;
}

// MetricStat's Stat takes either kind.
std::optional<Statistic> Validator::any_statistic(const Json& value, const std::string& pointer) {
  const auto text = string_value(value, pointer);
  if (!text.has_value()) {
    return std::nullopt;
  }
  if (auto statistic = parse_statistic(*text)) {
    return statistic;
  }
  if (is_unsupported_extended_statistic(*text)) {
    problem(pointer, quote_value(*text) +
                         " is not supported yet: trailwatch computes SampleCount, Average, Sum, "
                         "Minimum, Maximum and percentiles (p0.0 to p100)");
  } else {
    std::string message = quote_value(*text) +
                          " is not a statistic: use SampleCount, Average, Sum, Minimum, Maximum "
                          "or a percentile such as p99 or p99.9";
    if (const auto suggestion = suggest(*text, kSimpleStatistics)) {
      message += "; did you mean \"" + std::string(*suggestion) + "\"?";
    }
    problem(pointer, std::move(message));
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Top level.

void Validator::run(const Json& document) {
  if (!document.is_object()) {
    problem("", "expected a JSON object with MetricAlarms, CompositeAlarms and trailwatch, got " +
                    std::string(type_phrase(document)));
    return;
  }
  for (auto it = document.begin(); it != document.end(); ++it) {
    const std::string& key = it.key();
    const std::string pointer = json_pointer_child("", key);
    if (key == "MetricAlarms") {
      metric_alarms(it.value(), pointer);
    } else if (key == "CompositeAlarms") {
      composite_alarms(it.value(), pointer);
    } else if (key == "trailwatch") {
      settings(it.value(), pointer);
    } else if (key == "NextToken") {
      // describe-alarms pagination token: part of its output, meaningless here.
    } else if (contains(kMetricAlarmKeys, key) || contains(kCompositeAlarmKeys, key)) {
      problem(pointer, "unknown top-level key " + quote_value(key) +
                           ": an alarm goes inside the \"MetricAlarms\" or \"CompositeAlarms\" "
                           "array, e.g. {\"MetricAlarms\": [{\"AlarmName\": ...}]}");
    } else {
      unknown_key("", key, kTopLevelKeys, "the top level");
    }
  }
  // Action lists name targets of the trailwatch section, which may come after the alarms.
  for (const MetricAlarmConfig& alarm : config_.metric_alarms) {
    check_action_references(alarm.source_pointer, "OKActions", alarm.ok_actions);
    check_action_references(alarm.source_pointer, "AlarmActions", alarm.alarm_actions);
    check_action_references(alarm.source_pointer, "InsufficientDataActions",
                            alarm.insufficient_data_actions);
  }
  for (const CompositeAlarmConfig& alarm : config_.composite_alarms) {
    check_action_references(alarm.source_pointer, "OKActions", alarm.ok_actions);
    check_action_references(alarm.source_pointer, "AlarmActions", alarm.alarm_actions);
    check_action_references(alarm.source_pointer, "InsufficientDataActions",
                            alarm.insufficient_data_actions);
  }
}

// ---------------------------------------------------------------------------------------------
// Metric alarms.

void Validator::metric_alarms(const Json& value, const std::string& pointer) {
  if (!expect_array(value, pointer)) {
    return;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    metric_alarm(value[i], json_pointer_child(pointer, i));
  }
}

void Validator::metric_alarm(const Json& value, const std::string& pointer) {
  if (!expect_object(value, pointer)) {
    return;
  }
  MetricAlarmConfig alarm;
  alarm.source_pointer = pointer;
  alarm.definition_hash = definition_hash(value, kMetricAlarmReadOnlyKeys);

  // Which keys are present, whatever their value: form checks look at presence, range checks at
  // the values that were valid.
  bool has_name = false;
  bool has_metric_name = false;
  bool has_namespace = false;
  bool has_statistic = false;
  bool has_extended = false;
  bool has_nonempty_dimensions = false;
  bool has_period = false;
  bool has_unit = false;
  bool has_evaluation_periods = false;
  bool has_threshold = false;
  bool has_operator = false;
  bool has_metrics = false;
  bool has_threshold_metric_id = false;

  std::optional<int> period;
  std::optional<int64_t> evaluation_periods;
  std::optional<int64_t> datapoints_to_alarm;
  std::optional<ComparisonOperator> op;
  std::optional<std::string> threshold_metric_id;
  MetricsRead metrics_read;

  static const std::vector<std::string_view> kOperatorNames = enum_names<ComparisonOperator, 7>();
  static const std::vector<std::string_view> kTreatMissingNames = enum_names<TreatMissingData, 4>();
  static const std::vector<std::string_view> kLowSampleNames =
      enum_names<LowSampleCountPercentile, 2>();

  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const Json& field = it.value();
    const std::string field_pointer = json_pointer_child(pointer, key);
    if (key == "AlarmName") {
      has_name = true;
      if (auto name = alarm_name(field, field_pointer)) {
        alarm.alarm_name = std::move(*name);
      }
    } else if (key == "AlarmDescription") {
      if (auto text = bounded_string(field, field_pointer, 0, kMaxDescriptionChars)) {
        alarm.alarm_description = std::move(*text);
      }
    } else if (key == "ActionsEnabled") {
      alarm.actions_enabled = bool_value(field, field_pointer).value_or(true);
    } else if (key == "OKActions") {
      actions(field, field_pointer, alarm.ok_actions);
    } else if (key == "AlarmActions") {
      actions(field, field_pointer, alarm.alarm_actions);
    } else if (key == "InsufficientDataActions") {
      actions(field, field_pointer, alarm.insufficient_data_actions);
    } else if (key == "MetricName") {
      has_metric_name = true;
      alarm.metric_name = bounded_string(field, field_pointer, 1, kMaxMetricNameChars).value_or("");
    } else if (key == "Namespace") {
      has_namespace = true;
      alarm.namespace_name = namespace_value(field, field_pointer).value_or("");
    } else if (key == "Statistic") {
      has_statistic = true;
      if (auto statistic = simple_statistic(field, field_pointer)) {
        alarm.statistic = std::move(statistic);
      }
    } else if (key == "ExtendedStatistic") {
      has_extended = true;
      if (auto statistic = extended_statistic(field, field_pointer)) {
        alarm.statistic = std::move(statistic);
        alarm.statistic_is_extended = true;
      }
    } else if (key == "Dimensions") {
      // describe-alarms writes "Dimensions": [] for metric-math alarms too, so an empty list
      // does not count as using the single-metric form.
      has_nonempty_dimensions = !(field.is_array() && field.empty());
      dimensions(field, field_pointer, alarm.dimensions);
    } else if (key == "Period") {
      has_period = true;
      period = period_value(field, field_pointer);
    } else if (key == "Unit") {
      has_unit = true;
      alarm.unit = unit_value(field, field_pointer);
    } else if (key == "EvaluationPeriods") {
      has_evaluation_periods = true;
      evaluation_periods = integer_value(field, field_pointer, 1, INT_MAX);
    } else if (key == "DatapointsToAlarm") {
      datapoints_to_alarm = integer_value(field, field_pointer, 1, INT_MAX);
    } else if (key == "Threshold") {
      has_threshold = true;
      alarm.threshold = number_value(field, field_pointer);
    } else if (key == "ComparisonOperator") {
      has_operator = true;
      op = enum_value<ComparisonOperator>(field, field_pointer, &parse_comparison_operator,
                                          kOperatorNames);
    } else if (key == "TreatMissingData") {
      if (const auto treat = enum_value<TreatMissingData>(
              field, field_pointer, &parse_treat_missing_data, kTreatMissingNames)) {
        alarm.treat_missing_data = *treat;
        alarm.treat_missing_data_set = true;
      }
    } else if (key == "EvaluateLowSampleCountPercentile") {
      // Only percentile alarms use it, but AWS accepts it on any alarm, and so do we.
      alarm.evaluate_low_sample_count_percentile = enum_value<LowSampleCountPercentile>(
          field, field_pointer,
          +[](std::string_view text) -> std::optional<LowSampleCountPercentile> {
            if (text == "evaluate") {
              return LowSampleCountPercentile::kEvaluate;
            }
            if (text == "ignore") {
              return LowSampleCountPercentile::kIgnore;
            }
            return std::nullopt;
          },
          kLowSampleNames);
    } else if (key == "Metrics") {
      has_metrics = true;
      metrics_read = metrics(field, field_pointer, alarm.metrics);
    } else if (key == "ThresholdMetricId") {
      has_threshold_metric_id = true;
      threshold_metric_id = bounded_string(field, field_pointer, 1, kMaxThresholdMetricIdChars);
    } else if (key == "Tags") {
      tags(field, field_pointer, alarm.tags);
    } else if (key == "Trailwatch") {
      extensions(field, field_pointer, alarm.extensions);
    } else if (key == "EvaluationCriteria" || key == "EvaluationInterval") {
      problem(field_pointer,
              "PromQL alarms (EvaluationCriteria, EvaluationInterval) are not supported; use "
              "MetricName or Metrics");
    } else if (!contains(kMetricAlarmReadOnlyKeys, key)) {
      unknown_key(pointer, key, kMetricAlarmKeys, "a metric alarm");
    }
  }

  // --- Cross-field checks. ---
  if (!has_name) {
    missing_key(pointer, "AlarmName");
  }

  const auto key_pointer = [&](std::string_view key) {
    return json_pointer_child(pointer, key);
  };
  if (has_metrics) {
    const std::string why = "a metric-math alarm sets it in each MetricStat of Metrics";
    if (has_metric_name) {
      problem(key_pointer("MetricName"),
              "cannot be used together with Metrics: an alarm watches either one metric "
              "(MetricName) or a metric-math expression (Metrics)");
    }
    if (has_namespace) {
      problem(key_pointer("Namespace"), "cannot be used together with Metrics: " + why);
    }
    if (has_nonempty_dimensions) {
      problem(key_pointer("Dimensions"), "cannot be used together with Metrics: " + why);
    }
    if (has_period) {
      problem(key_pointer("Period"), "cannot be used together with Metrics: " + why);
    }
    if (has_unit) {
      problem(key_pointer("Unit"), "cannot be used together with Metrics: " + why);
    }
    if (has_statistic) {
      problem(key_pointer("Statistic"),
              "cannot be used together with Metrics: a metric-math alarm sets the statistic in "
              "each MetricStat (Stat)");
    }
    if (has_extended) {
      problem(key_pointer("ExtendedStatistic"),
              "cannot be used together with Metrics: a metric-math alarm sets the statistic in "
              "each MetricStat (Stat)");
    }
    period = metrics_read.period;
    if (!period.has_value() && !metrics_read.period_problem && metrics_read.all_objects &&
        !metrics_read.queries.empty()) {
      problem(key_pointer("Metrics"),
              "no period: add an entry with a MetricStat, or set Period on the expression");
    }
  } else if (has_metric_name) {
    const std::string_view why =
        "an alarm on one metric needs MetricName, Namespace, Period and Statistic or "
        "ExtendedStatistic";
    if (!has_namespace) {
      missing_key(pointer, "Namespace", why);
    }
    if (!has_period) {
      missing_key(pointer, "Period", why);
    }
    if (!has_statistic && !has_extended) {
      problem(pointer, "missing Statistic or ExtendedStatistic (" + std::string(why) + ")");
    } else if (has_statistic && has_extended) {
      problem(key_pointer("ExtendedStatistic"),
              "cannot be used together with Statistic: set exactly one of them");
    }
  } else {
    problem(pointer,
            "missing MetricName or Metrics: an alarm watches either one metric (MetricName, "
            "Namespace, Statistic, Period) or a metric-math expression (Metrics)");
  }
  if (period.has_value()) {
    alarm.period = *period;
  }

  if (!has_evaluation_periods) {
    missing_key(pointer, "EvaluationPeriods");
  }
  if (!has_operator) {
    missing_key(pointer, "ComparisonOperator");
  }

  if (op.has_value() && is_band_operator(*op)) {
    if (has_threshold) {
      problem(key_pointer("Threshold"),
              "must not be set with ComparisonOperator " + std::string(to_string(*op)) +
                  ": an anomaly-detection alarm compares against the band named by "
                  "ThresholdMetricId");
    }
    if (!has_threshold_metric_id) {
      problem(key_pointer("ComparisonOperator"),
              "ComparisonOperators for ranges require ThresholdMetricId to be set");
    }
  } else if (op.has_value()) {
    if (!has_threshold) {
      missing_key(pointer, "Threshold",
                  "required with ComparisonOperator " + std::string(to_string(*op)));
    }
    if (has_threshold_metric_id) {
      problem(key_pointer("ThresholdMetricId"),
              "is only used with the anomaly-detection operators "
              "LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold and "
              "GreaterThanUpperThreshold");
    }
  }

  // ThresholdMetricId must name the band expression. Checked whenever the operator is a band
  // operator or unknown (so that a typo in the operator does not hide a second problem).
  bool anomaly_alarm = false;
  if (threshold_metric_id.has_value() && (!op.has_value() || is_band_operator(*op))) {
    if (!has_metrics) {
      problem(key_pointer("ThresholdMetricId"),
              "requires Metrics: an anomaly-detection alarm lists the metric and its "
              "ANOMALY_DETECTION_BAND expression in Metrics");
    } else if (metrics_read.all_objects) {
      const auto found =
          std::find_if(metrics_read.queries.begin(), metrics_read.queries.end(),
                       [&](const QueryView& q) { return q.id == *threshold_metric_id; });
      if (found == metrics_read.queries.end()) {
        std::vector<std::string_view> ids;
        for (const QueryView& q : metrics_read.queries) {
          if (!q.id.empty()) {
            ids.push_back(q.id);
          }
        }
        problem(key_pointer("ThresholdMetricId"),
                quote_value(*threshold_metric_id) +
                    " is not the Id of an entry of Metrics (Ids: " + join(ids, ", ") + ")");
      } else if (!found->has_expression ||
                 !calls_function(found->expression, "ANOMALY_DETECTION_BAND", false)) {
        problem(key_pointer("ThresholdMetricId"),
                "Threshold metric expression must use ANOMALY_DETECTION_BAND function");
      } else {
        anomaly_alarm = true;
        alarm.threshold_metric_id = *threshold_metric_id;
      }
    }
  } else if (threshold_metric_id.has_value()) {
    alarm.threshold_metric_id = *threshold_metric_id;
  }

  // ReturnData: the alarm evaluates exactly one series. Anomaly-detection alarms may also mark
  // the band expression, as AWS's own examples and CDK do.
  // When the alarm means to be an anomaly-detection alarm but its band is not set up right, that
  // problem is already reported and counting ReturnData would only add noise.
  const bool band_intended = has_threshold_metric_id || (op.has_value() && is_band_operator(*op));
  if (has_metrics && metrics_read.all_objects && !metrics_read.queries.empty() &&
      (anomaly_alarm || !band_intended)) {
    std::vector<std::string_view> returning;
    for (const QueryView& q : metrics_read.queries) {
      if (q.return_data && !(anomaly_alarm && q.id == alarm.threshold_metric_id)) {
        returning.push_back(q.pointer);
      }
    }
    const std::string besides_band = anomaly_alarm ? " besides the ThresholdMetricId entry" : "";
    if (returning.empty()) {
      problem(key_pointer("Metrics"), "no entry" + besides_band +
                                          " has ReturnData true; exactly one must: the "
                                          "metric or expression the alarm evaluates");
    } else if (returning.size() > 1) {
      problem(key_pointer("Metrics"),
              std::to_string(returning.size()) + " entries" + besides_band +
                  " have ReturnData true (" + join(returning, ", ") +
                  "); exactly one must, and ReturnData is true when omitted: set "
                  "\"ReturnData\": false on the others");
    }
  }

  if (anomaly_alarm && period.has_value() && *period < kMinAnomalyPeriodSeconds) {
    problem(metrics_read.period_pointer, "anomaly-detection alarms need a period of at least " +
                                             std::to_string(kMinAnomalyPeriodSeconds) +
                                             " seconds, got " + std::to_string(*period));
  }

  if (evaluation_periods.has_value()) {
    alarm.evaluation_periods = static_cast<int>(*evaluation_periods);
    if (period.has_value()) {
      const int64_t window = *evaluation_periods * *period;
      if (*period < kLongPeriodSeconds && window > kMaxShortPeriodWindowSeconds) {
        problem(key_pointer("EvaluationPeriods"),
                "Period × EvaluationPeriods is " + std::to_string(window) +
                    " seconds; with a period under an hour the limit is " +
                    std::to_string(kMaxShortPeriodWindowSeconds) + " (one day)");
      } else if (window > kMaxWindowSeconds) {
        problem(key_pointer("EvaluationPeriods"),
                "Period × EvaluationPeriods is " + std::to_string(window) +
                    " seconds; the limit is " + std::to_string(kMaxWindowSeconds) +
                    " (seven days)");
      }
    }
    if (datapoints_to_alarm.has_value() && *datapoints_to_alarm > *evaluation_periods) {
      problem(key_pointer("DatapointsToAlarm"),
              "must not exceed EvaluationPeriods (" + std::to_string(*evaluation_periods) +
                  "), got " + std::to_string(*datapoints_to_alarm));
    }
  }
  if (datapoints_to_alarm.has_value()) {
    alarm.datapoints_to_alarm = static_cast<int>(*datapoints_to_alarm);
  }
  if (op.has_value()) {
    alarm.comparison_operator = *op;
  }
  check_extensions(alarm, pointer);
  config_.metric_alarms.push_back(std::move(alarm));
}

void Validator::extensions(const Json& value, const std::string& pointer, AlarmExtensions& out) {
  static constexpr std::array<std::string_view, 4> kKeys = {
      "DatapointsToRecover", "RecoveryThreshold", "ReportMissingAfterPeriods", "ReportMissingAs"};
  if (!value.is_object()) {
    problem(pointer,
            "expected an object of trailwatch extensions, got " + std::string(type_phrase(value)));
    return;
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const std::string field_pointer = json_pointer_child(pointer, key);
    if (key == "DatapointsToRecover") {
      if (const auto n = integer_value(it.value(), field_pointer, 1, INT_MAX)) {
        out.datapoints_to_recover = static_cast<int>(*n);
      }
    } else if (key == "RecoveryThreshold") {
      out.recovery_threshold = number_value(it.value(), field_pointer);
    } else if (key == "ReportMissingAfterPeriods") {
      if (const auto n = integer_value(it.value(), field_pointer, 1, 100'000)) {
        out.report_missing_after_periods = static_cast<int>(*n);
      }
    } else if (key == "ReportMissingAs") {
      if (!it.value().is_string() || (it.value() != "ALARM" && it.value() != "INSUFFICIENT_DATA")) {
        problem(field_pointer, "expected \"ALARM\" or \"INSUFFICIENT_DATA\"");
      } else {
        out.report_missing_as = it.value().get<std::string>();
      }
    } else {
      unknown_key(pointer, key, kKeys, "the Trailwatch extensions");
    }
  }
}

void Validator::check_extensions(const MetricAlarmConfig& alarm, const std::string& pointer) {
  const AlarmExtensions& ext = alarm.extensions;
  const std::string base = json_pointer_child(pointer, "Trailwatch");
  if (ext.datapoints_to_recover && alarm.evaluation_periods > 0 &&
      *ext.datapoints_to_recover > alarm.evaluation_periods) {
    problem(json_pointer_child(base, "DatapointsToRecover"),
            "must not exceed EvaluationPeriods (" + std::to_string(alarm.evaluation_periods) +
                "), got " + std::to_string(*ext.datapoints_to_recover));
  }
  if (ext.recovery_threshold) {
    const std::string at = json_pointer_child(base, "RecoveryThreshold");
    if (is_band_operator(alarm.comparison_operator) || !alarm.threshold) {
      problem(at, "needs a static Threshold and ComparisonOperator");
    } else {
      const bool above =
          alarm.comparison_operator == ComparisonOperator::kGreaterThanThreshold ||
          alarm.comparison_operator == ComparisonOperator::kGreaterThanOrEqualToThreshold;
      if (above && *ext.recovery_threshold > *alarm.threshold) {
        problem(at, "must not be above Threshold (" + format_number(*alarm.threshold) +
                        ") for an alarm on values above it");
      }
      if (!above && *ext.recovery_threshold < *alarm.threshold) {
        problem(at, "must not be below Threshold (" + format_number(*alarm.threshold) +
                        ") for an alarm on values below it");
      }
    }
  }
}

MetricsRead Validator::metrics(const Json& value, const std::string& pointer,
                               std::vector<MetricDataQuery>& out) {
  MetricsRead read;
  if (!expect_array(value, pointer)) {
    read.all_objects = false;
    return read;
  }
  if (value.empty()) {
    problem(pointer, "must have at least one entry");
    return read;
  }
  if (value.size() > kMaxQueries) {
    problem(pointer, "has " + std::to_string(value.size()) + " entries; at most " +
                         std::to_string(kMaxQueries) + " are allowed");
  }
  size_t metric_stat_count = 0;
  size_t expression_count = 0;
  std::unordered_map<std::string, std::string> ids;  // Id → pointer of its first use.
  std::optional<int> query_period;                   // From MetricDataQuery.Period.
  std::string query_period_pointer;

  for (size_t i = 0; i < value.size(); ++i) {
    const std::string entry_pointer = json_pointer_child(pointer, i);
    const Json& entry = value[i];
    QueryView view;
    view.pointer = entry_pointer;
    if (!expect_object(entry, entry_pointer)) {
      read.all_objects = false;
      read.queries.push_back(std::move(view));
      continue;
    }
    MetricDataQuery query;
    bool has_id = false;
    bool has_metric_stat = false;
    bool has_expression = false;
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string& key = it.key();
      const Json& field = it.value();
      const std::string field_pointer = json_pointer_child(entry_pointer, key);
      if (key == "Id") {
        has_id = true;
        auto id = bounded_string(field, field_pointer, 1, kMaxQueryIdChars);
        if (!id.has_value()) {
          continue;
        }
        view.id = *id;  // Kept even if malformed, so ThresholdMetricId can still find it.
        const bool well_formed =
            (*id)[0] >= 'a' && (*id)[0] <= 'z' &&
            std::all_of(id->begin(), id->end(), [](char c) { return is_identifier_char(c); });
        if (!well_formed) {
          problem(field_pointer, quote_value(*id) +
                                     " is not a valid Id: it must start with a lower-case letter "
                                     "and contain only letters, digits and underscores");
          continue;
        }
        const auto [first, inserted] = ids.try_emplace(*id, field_pointer);
        if (!inserted) {
          problem(field_pointer, "duplicate Id " + quote_value(*id) + ": already used at " +
                                     first->second + "; Ids are unique within an alarm");
          continue;
        }
        query.id = std::move(*id);
      } else if (key == "MetricStat") {
        has_metric_stat = true;
        MetricStatRead stat = metric_stat(field, field_pointer);
        query.metric_stat = std::move(stat.stat);
        if (stat.period.has_value()) {
          if (!read.period.has_value()) {
            read.period = stat.period;
            read.period_pointer = stat.period_pointer;
          } else if (*read.period != *stat.period) {
            problem(stat.period_pointer, "all MetricStat periods of an alarm must be equal; " +
                                             read.period_pointer + " is " +
                                             std::to_string(*read.period) + ", this is " +
                                             std::to_string(*stat.period));
            read.period_problem = true;
          }
        } else {
          read.period_problem = true;
        }
      } else if (key == "Expression") {
        has_expression = true;
        view.has_expression = true;
        auto expression = bounded_string(field, field_pointer, 1, kMaxExpressionChars);
        if (!expression.has_value()) {
          continue;
        }
        view.expression = *expression;
        if (calls_function(*expression, "SEARCH", true)) {
          problem(field_pointer, "SEARCH expressions cannot be used in alarms");
          continue;
        }
        query.expression = std::move(*expression);
      } else if (key == "Label") {
        query.label = string_value(field, field_pointer).value_or("");
      } else if (key == "ReturnData") {
        const auto return_data = bool_value(field, field_pointer);
        query.return_data = return_data.value_or(true);
        view.return_data = query.return_data;
      } else if (key == "Period") {
        query.period = period_value(field, field_pointer);
        if (query.period.has_value() && !query_period.has_value()) {
          query_period = query.period;
          query_period_pointer = field_pointer;
        } else if (!query.period.has_value()) {
          read.period_problem = true;
        }
      } else if (key == "AccountId") {
        query.account_id = account_id_value(field, field_pointer).value_or("");
      } else {
        unknown_key(entry_pointer, key, kQueryKeys, "a MetricDataQuery (entry of Metrics)");
      }
    }
    if (!has_id) {
      missing_key(entry_pointer, "Id");
    }
    if (has_metric_stat && has_expression) {
      problem(json_pointer_child(entry_pointer, "Expression"),
              "cannot be used together with MetricStat: an entry is either a metric "
              "(MetricStat) or an expression (Expression)");
    } else if (!has_metric_stat && !has_expression) {
      problem(entry_pointer, "needs exactly one of MetricStat or Expression");
    }
    metric_stat_count += has_metric_stat ? 1 : 0;
    expression_count += has_expression ? 1 : 0;
    read.queries.push_back(std::move(view));
    out.push_back(std::move(query));
  }
  if (metric_stat_count > kMaxMetricStatQueries) {
    problem(pointer, "has " + std::to_string(metric_stat_count) +
                         " entries with MetricStat; at most " +
                         std::to_string(kMaxMetricStatQueries) + " are allowed");
  }
  if (expression_count > kMaxExpressionQueries) {
    problem(pointer, "has " + std::to_string(expression_count) +
                         " entries with Expression; at most " +
                         std::to_string(kMaxExpressionQueries) + " are allowed");
  }
  // An alarm on expressions alone (a Metrics Insights query, SERVICE_QUOTA) takes its period
  // from the query's own Period.
  if (!read.period.has_value() && query_period.has_value()) {
    read.period = query_period;
    read.period_pointer = query_period_pointer;
  }
  return read;
}

MetricStatRead Validator::metric_stat(const Json& value, const std::string& pointer) {
  MetricStatRead read;
  if (!expect_object(value, pointer)) {
    return read;
  }
  MetricStat stat;
  bool ok = true;
  bool has_metric = false;
  bool has_period = false;
  bool has_stat = false;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const Json& field = it.value();
    const std::string field_pointer = json_pointer_child(pointer, key);
    if (key == "Metric") {
      has_metric = true;
      if (!expect_object(field, field_pointer)) {
        ok = false;
        continue;
      }
      bool has_namespace = false;
      bool has_metric_name = false;
      for (auto m = field.begin(); m != field.end(); ++m) {
        const std::string metric_pointer = json_pointer_child(field_pointer, m.key());
        if (m.key() == "Namespace") {
          has_namespace = true;
          const auto text = namespace_value(m.value(), metric_pointer);
          ok = ok && text.has_value();
          stat.namespace_name = text.value_or("");
        } else if (m.key() == "MetricName") {
          has_metric_name = true;
          const auto text = bounded_string(m.value(), metric_pointer, 1, kMaxMetricNameChars);
          ok = ok && text.has_value();
          stat.metric_name = text.value_or("");
        } else if (m.key() == "Dimensions") {
          const size_t before = stat.dimensions.size();
          dimensions(m.value(), metric_pointer, stat.dimensions);
          ok = ok && m.value().is_array() && stat.dimensions.size() - before == m.value().size();
        } else {
          unknown_key(field_pointer, m.key(), kMetricKeys, "a Metric");
          ok = false;
        }
      }
      if (!has_namespace) {
        missing_key(field_pointer, "Namespace");
        ok = false;
      }
      if (!has_metric_name) {
        missing_key(field_pointer, "MetricName");
        ok = false;
      }
    } else if (key == "Period") {
      has_period = true;
      read.period = period_value(field, field_pointer);
      read.period_pointer = field_pointer;
      ok = ok && read.period.has_value();
      stat.period = read.period.value_or(0);
    } else if (key == "Stat") {
      has_stat = true;
      auto statistic = any_statistic(field, field_pointer);
      ok = ok && statistic.has_value();
      if (statistic.has_value()) {
        stat.stat = std::move(*statistic);
      }
    } else if (key == "Unit") {
      stat.unit = unit_value(field, field_pointer);
      ok = ok && stat.unit.has_value();
    } else {
      unknown_key(pointer, key, kMetricStatKeys, "a MetricStat");
      ok = false;
    }
  }
  if (!has_metric) {
    missing_key(pointer, "Metric");
  }
  if (!has_period) {
    missing_key(pointer, "Period");
  }
  if (!has_stat) {
    missing_key(pointer, "Stat");
  }
  if (ok && has_metric && has_period && has_stat) {
    read.stat = std::move(stat);
  }
  return read;
}

// ---------------------------------------------------------------------------------------------
// Composite alarms.

void Validator::composite_alarms(const Json& value, const std::string& pointer) {
  if (!expect_array(value, pointer)) {
    return;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    composite_alarm(value[i], json_pointer_child(pointer, i));
  }
}

void Validator::composite_alarm(const Json& value, const std::string& pointer) {
  if (!expect_object(value, pointer)) {
    return;
  }
  CompositeAlarmConfig alarm;
  alarm.source_pointer = pointer;
  alarm.definition_hash = definition_hash(value, kCompositeAlarmReadOnlyKeys);
  bool has_name = false;
  bool has_rule = false;
  bool has_suppressor = false;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const Json& field = it.value();
    const std::string field_pointer = json_pointer_child(pointer, key);
    if (key == "AlarmName") {
      has_name = true;
      if (auto name = alarm_name(field, field_pointer)) {
        alarm.alarm_name = std::move(*name);
      }
    } else if (key == "AlarmDescription") {
      alarm.alarm_description =
          bounded_string(field, field_pointer, 0, kMaxDescriptionChars).value_or("");
    } else if (key == "ActionsEnabled") {
      alarm.actions_enabled = bool_value(field, field_pointer).value_or(true);
    } else if (key == "OKActions") {
      actions(field, field_pointer, alarm.ok_actions);
    } else if (key == "AlarmActions") {
      actions(field, field_pointer, alarm.alarm_actions);
    } else if (key == "InsufficientDataActions") {
      actions(field, field_pointer, alarm.insufficient_data_actions);
    } else if (key == "AlarmRule") {
      has_rule = true;
      alarm.alarm_rule = bounded_string(field, field_pointer, 1, kMaxAlarmRuleChars).value_or("");
    } else if (key == "ActionsSuppressor") {
      has_suppressor = true;
      alarm.actions_suppressor =
          bounded_string(field, field_pointer, 1, kMaxActionsSuppressorChars).value_or("");
    } else if (key == "ActionsSuppressorWaitPeriod") {
      if (const auto seconds = integer_value(field, field_pointer, 0, INT_MAX)) {
        alarm.actions_suppressor_wait_period = static_cast<int>(*seconds);
      }
    } else if (key == "ActionsSuppressorExtensionPeriod") {
      if (const auto seconds = integer_value(field, field_pointer, 0, INT_MAX)) {
        alarm.actions_suppressor_extension_period = static_cast<int>(*seconds);
      }
    } else if (key == "Tags") {
      tags(field, field_pointer, alarm.tags);
    } else if (!contains(kCompositeAlarmReadOnlyKeys, key)) {
      unknown_key(pointer, key, kCompositeAlarmKeys, "a composite alarm");
    }
  }
  if (!has_name) {
    missing_key(pointer, "AlarmName");
  }
  if (!has_rule) {
    missing_key(pointer, "AlarmRule");
  }
  if (has_suppressor) {
    const std::string_view why = "required when ActionsSuppressor is set";
    if (!value.contains("ActionsSuppressorWaitPeriod")) {
      missing_key(pointer, "ActionsSuppressorWaitPeriod", why);
    }
    if (!value.contains("ActionsSuppressorExtensionPeriod")) {
      missing_key(pointer, "ActionsSuppressorExtensionPeriod", why);
    }
  }
  config_.composite_alarms.push_back(std::move(alarm));
}

// ---------------------------------------------------------------------------------------------
// trailwatch settings.

void Validator::settings(const Json& value, const std::string& pointer) {
  if (!expect_object(value, pointer)) {
    return;
  }
  Settings& s = config_.settings;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const Json& field = it.value();
    const std::string field_pointer = json_pointer_child(pointer, key);
    if (key == "account_id") {
      s.account_id = account_id_value(field, field_pointer).value_or(s.account_id);
    } else if (key == "region") {
      s.region = region_value(field, field_pointer).value_or(s.region);
    } else if (key == "extra_evaluation_periods") {
      if (const auto n = integer_value(field, field_pointer, 0, kMaxExtraEvaluationPeriods)) {
        s.extra_evaluation_periods = static_cast<int>(*n);
      }
    } else if (key == "metric_lateness_seconds") {
      if (const auto n = integer_value(field, field_pointer, 0, kMaxLatenessSeconds)) {
        s.metric_lateness = Duration::seconds(*n);
      }
    } else if (key == "cloudtrail_lateness_seconds") {
      if (const auto n = integer_value(field, field_pointer, 0, kMaxLatenessSeconds)) {
        s.cloudtrail_lateness = Duration::seconds(*n);
      }
    } else if (key == "max_time_jump_seconds") {
      if (const auto n = integer_value(field, field_pointer, 0, kMaxForwardJumpSeconds)) {
        s.max_time_jump = Duration::seconds(*n);
      }
    } else if (key == "max_record_bytes") {
      if (const auto n = integer_value(field, field_pointer, kMinRecordBytes, kMaxRecordBytes)) {
        s.max_record_bytes = *n;
      }
    } else if (key == "max_file_bytes") {
      if (const auto n = integer_value(field, field_pointer, kMinFileBytes, kMaxFileBytes)) {
        s.max_file_bytes = *n;
      }
    } else if (key == "max_series") {
      if (const auto n = integer_value(field, field_pointer, 1, kMaxSeries)) {
        s.max_series = *n;
      }
    } else if (key == "shards") {
      if (const auto n = integer_value(field, field_pointer, 0, kMaxShards)) {
        s.shards = static_cast<int>(*n);
      }
    } else if (key == "inputs") {
      inputs(field, field_pointer, s.inputs);
    } else if (key == "outputs") {
      outputs(field, field_pointer, s.outputs);
    } else if (key == "kafka") {
      kafka_properties(field, field_pointer, s.kafka);
    } else if (key == "http_listen") {
      if (auto listen = listen_address(field, field_pointer)) {
        s.http_listen = std::move(*listen);
      }
    } else if (key == "idle_timeout_seconds") {
      if (const auto n = integer_value(field, field_pointer, 1, kMaxLatenessSeconds)) {
        s.idle_timeout = Duration::seconds(*n);
      }
    } else if (key == "state") {
      state(field, field_pointer, s.state);
    } else if (key == "actions") {
      actions_settings(field, field_pointer, s.actions);
    } else {
      unknown_key(pointer, key, kSettingsKeys, "the trailwatch section");
    }
  }
  const bool any_kafka = std::any_of(s.inputs.begin(), s.inputs.end(), [](const InputConfig& i) {
    return i.type == InputConfig::Type::kKafka;
  });
  const Json* state_json = value.contains("state") ? &value["state"] : nullptr;
  const bool store_set =
      state_json != nullptr && state_json->is_object() && state_json->contains("store");
  if (!store_set) {
    s.state.store = any_kafka ? StateConfig::Store::kKafka : StateConfig::Store::kNone;
  } else if (s.state.store == StateConfig::Store::kKafka && !any_kafka) {
    problem(json_pointer_child(json_pointer_child(pointer, "state"), "store"),
            "\"kafka\" keeps the state on the cluster of the Kafka inputs, and there is none; use "
            "\"directory\" with file inputs");
  }
  if (s.state.scale_out) {
    const bool only_kafka =
        any_kafka && std::all_of(s.inputs.begin(), s.inputs.end(), [](const InputConfig& i) {
          return i.type == InputConfig::Type::kKafka;
        });
    const std::string at = json_pointer_child(json_pointer_child(pointer, "state"), "scale_out");
    if (s.state.store != StateConfig::Store::kKafka) {
      problem(at,
              "scale-out keeps each task's state in a partition of the changelog topic; it "
              "needs store \"kafka\"");
    } else if (!only_kafka) {
      problem(at,
              "scale-out workers share Kafka inputs; file and stdin inputs cannot be shared "
              "(use one worker, scale_out false)");
    }
  }
}

void Validator::state(const Json& value, const std::string& pointer, StateConfig& out) {
  if (!expect_object(value, pointer)) {
    return;
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const Json& field = it.value();
    const std::string field_pointer = json_pointer_child(pointer, key);
    if (key == "store") {
      const auto store = string_value(field, field_pointer);
      if (!store) {
        continue;
      }
      if (*store == "kafka") {
        out.store = StateConfig::Store::kKafka;
      } else if (*store == "directory") {
        out.store = StateConfig::Store::kDirectory;
      } else if (*store == "none") {
        out.store = StateConfig::Store::kNone;
      } else {
        problem(field_pointer, "unknown store \"" + *store +
                                   "\"; expected one of: kafka, "
                                   "directory, none");
      }
    } else if (key == "topic") {
      if (auto topic = kafka_name(field, field_pointer)) {
        out.topic = std::move(*topic);
      }
    } else if (key == "directory") {
      if (auto directory = path_value(field, field_pointer, 1)) {
        out.directory = std::move(*directory);
      }
    } else if (key == "checkpoint_interval_seconds") {
      if (const auto n = integer_value(field, field_pointer, 1, kMaxCheckpointIntervalSeconds)) {
        out.checkpoint_interval = Duration::seconds(*n);
      }
    } else if (key == "scale_out") {
      out.scale_out = bool_value(field, field_pointer).value_or(false);
    } else {
      unknown_key(pointer, key, kStateKeys, "state");
    }
  }
  if (out.store == StateConfig::Store::kDirectory && out.directory.empty() &&
      !value.contains("directory")) {
    missing_key(pointer, "directory", "required when store is \"directory\"");
  }
}

void Validator::inputs(const Json& value, const std::string& pointer,
                       std::vector<InputConfig>& out) {
  if (!expect_array(value, pointer)) {
    return;
  }
  static const std::vector<std::string_view> kFormatNames = enum_names<InputFormat, 5>();
  std::unordered_map<std::string, std::string> names;  // name → pointer of its first use.
  std::string stdin_pointer;                           // The input already reading stdin.
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string entry_pointer = json_pointer_child(pointer, i);
    const Json& entry = value[i];
    if (!expect_object(entry, entry_pointer)) {
      continue;
    }
    InputConfig input;
    bool has_name = false;
    bool has_path = false;
    bool has_topic = false;
    bool type_ok = true;
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string& key = it.key();
      const Json& field = it.value();
      const std::string field_pointer = json_pointer_child(entry_pointer, key);
      if (key == "name") {
        has_name = true;
        const auto name = bounded_string(field, field_pointer, 1, kMaxInputNameChars);
        if (!name.has_value()) {
          continue;
        }
        // Names label metrics and dead letters: keep them to characters that need no quoting.
        const bool plain = std::all_of(name->begin(), name->end(), [](char c) {
          return is_identifier_char(c) || c == '-' || c == '.';
        });
        if (!plain) {
          problem(field_pointer,
                  quote_value(*name) + " may contain only letters, digits, '_', '-' and '.'");
          continue;
        }
        const auto [first, inserted] = names.try_emplace(*name, field_pointer);
        if (!inserted) {
          problem(field_pointer, "duplicate input name " + quote_value(*name) +
                                     ": already used at " + first->second);
          continue;
        }
        input.name = *name;
      } else if (key == "type") {
        const auto type = string_value(field, field_pointer);
        if (!type.has_value()) {
          type_ok = false;
        } else if (*type == "file") {
          input.type = InputConfig::Type::kFile;
        } else if (*type == "kafka") {
          input.type = InputConfig::Type::kKafka;
        } else if (*type == "stdin") {
          input.type = InputConfig::Type::kStdin;
          if (!stdin_pointer.empty()) {
            problem(field_pointer,
                    "only one input can read standard input; " + stdin_pointer + " already does");
          } else {
            stdin_pointer = entry_pointer;
          }
        } else {
          type_ok = false;
          std::string message = quote_value(*type) + " is not one of file, stdin, kafka";
          if (const auto suggestion = suggest(*type, kInputTypes)) {
            message += "; did you mean \"" + std::string(*suggestion) + "\"?";
          }
          problem(field_pointer, std::move(message));
        }
      } else if (key == "path") {
        has_path = true;
        input.path = path_value(field, field_pointer, 1).value_or("");
      } else if (key == "format") {
        input.format =
            enum_value<InputFormat>(field, field_pointer, &parse_input_format, kFormatNames)
                .value_or(InputFormat::kAuto);
      } else if (key == "allowed_lateness_seconds") {
        if (const auto n = integer_value(field, field_pointer, 0, kMaxLatenessSeconds)) {
          input.allowed_lateness = Duration::seconds(*n);
        }
      } else if (key == "account_id") {
        input.account_id = account_id_value(field, field_pointer).value_or("");
      } else if (key == "region") {
        input.region = region_value(field, field_pointer).value_or("");
      } else if (key == "topic") {
        has_topic = true;
        input.topic = kafka_name(field, field_pointer).value_or("");
      } else if (key == "group_id") {
        input.group_id = kafka_name(field, field_pointer).value_or("");
      } else if (key == "properties") {
        kafka_properties(field, field_pointer, input.properties);
      } else {
        unknown_key(entry_pointer, key, kInputKeys, "an input");
      }
    }
    if (type_ok && input.type == InputConfig::Type::kKafka) {
      if (!has_topic) {
        missing_key(entry_pointer, "topic", "required for inputs of type \"kafka\"");
      }
      if (has_path) {
        problem(json_pointer_child(entry_pointer, "path"),
                R"(is not used with type "kafka": remove it, or use type "file")");
      }
      if (input.group_id.empty()) {
        input.group_id = "trailwatch";
      }
    } else {
      for (const char* kafka_only : {"topic", "group_id", "properties"}) {
        if (entry.contains(kafka_only)) {
          problem(json_pointer_child(entry_pointer, kafka_only),
                  R"(is used only with type "kafka")");
        }
      }
    }
    if (!has_name) {
      missing_key(entry_pointer, "name");
    }
    if (type_ok && input.type == InputConfig::Type::kFile && !has_path) {
      missing_key(entry_pointer, "path", "required for inputs of type \"file\", the default");
    }
    if (type_ok && input.type == InputConfig::Type::kStdin && has_path) {
      problem(json_pointer_child(entry_pointer, "path"),
              R"(is not used with type "stdin": remove it, or use type "file")");
    }
    out.push_back(std::move(input));
  }
}

// Kafka topic and group names: 1–249 characters of [A-Za-z0-9._-], as Kafka allows for topics
// (groups allow more, but a name that is also a valid topic name is never a surprise).
std::optional<std::string> Validator::kafka_name(const Json& value, const std::string& pointer) {
  auto name = bounded_string(value, pointer, 1, 249);
  if (!name) {
    return std::nullopt;
  }
  const bool ok = std::all_of(name->begin(), name->end(),
                              [](char c) { return is_identifier_char(c) || c == '-' || c == '.'; });
  if (!ok) {
    problem(pointer, quote_value(*name) + " may contain only letters, digits, '_', '-' and '.'");
    return std::nullopt;
  }
  return name;
}

void Validator::kafka_properties(const Json& value, const std::string& pointer,
                                 KafkaProperties& out) {
  if (!expect_object(value, pointer)) {
    return;
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string field_pointer = json_pointer_child(pointer, it.key());
    // librdkafka property names are lower-case words joined by dots.
    const bool name_ok = !it.key().empty() && it.key().size() <= 255 &&
                         std::all_of(it.key().begin(), it.key().end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                                  c == '_' || c == '-';
                         });
    if (!name_ok) {
      problem(field_pointer,
              "is not a librdkafka property name (lower-case words joined by dots, such as "
              "\"bootstrap.servers\")");
      continue;
    }
    // librdkafka takes every value as a string; numbers and booleans are accepted as written.
    const Json& v = it.value();
    if (v.is_string()) {
      out.emplace_back(it.key(), v.get<std::string>());
    } else if (v.is_boolean()) {
      out.emplace_back(it.key(), v.get<bool>() ? "true" : "false");
    } else if (v.is_number_integer()) {
      out.emplace_back(it.key(), v.dump());
    } else {
      problem(field_pointer,
              "expected a string, an integer or a boolean, got " + std::string(type_phrase(v)));
    }
  }
}

std::optional<std::string> Validator::listen_address(const Json& value,
                                                     const std::string& pointer) {
  auto text = bounded_string(value, pointer, 0, 255);
  if (!text || text->empty()) {
    return text;
  }
  const size_t colon = text->rfind(':');
  const std::string port = colon == std::string::npos ? "" : text->substr(colon + 1);
  const bool port_ok =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      std::stoi(port) <= 65535;
  if (!port_ok) {
    problem(pointer, quote_value(*text) +
                         " is not HOST:PORT or :PORT (port 0–65535), e.g. \":9464\" or "
                         "\"127.0.0.1:9464\"; \"\" disables the endpoint");
    return std::nullopt;
  }
  return text;
}

void Validator::outputs(const Json& value, const std::string& pointer, OutputConfig& out) {
  if (!expect_object(value, pointer)) {
    return;
  }
  std::unordered_map<std::string, std::string> files;  // path → pointer of its first use.
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const std::string field_pointer = json_pointer_child(pointer, key);
    std::string* target = nullptr;
    if (key == "emissions") {
      target = &out.emissions;
    } else if (key == "dead_letters") {
      target = &out.dead_letters;
    } else if (key == "datapoints") {
      target = &out.datapoints;
    } else if (key == "actions") {
      target = &out.actions;
    } else {
      unknown_key(pointer, key, kOutputKeys, "outputs");
      continue;
    }
    const auto path = path_value(it.value(), field_pointer, 0);
    if (!path.has_value()) {
      continue;
    }
    if (path->starts_with("kafka:")) {
      if (!kafka_name(Json(path->substr(6)), field_pointer)) {
        continue;
      }
      if (key == "datapoints") {
        problem(field_pointer, "the datapoints stream goes to a file or \"-\", not to Kafka");
        continue;
      }
    }
    // Two streams appended to one file would interleave their lines; standard output is shared
    // on purpose (every line says what it is).
    if (!path->empty() && *path != "-") {
      const auto [first, inserted] = files.try_emplace(*path, field_pointer);
      if (!inserted) {
        problem(field_pointer, "writes to the same file as " + first->second +
                                   "; each output needs its own file (or \"-\" for standard "
                                   "output)");
        continue;
      }
    }
    *target = *path;
  }
}

std::optional<std::string> Validator::url_value(const Json& value, const std::string& pointer) {
  auto url = bounded_string(value, pointer, 1, kMaxUrlChars);
  if (!url) {
    return std::nullopt;
  }
  const bool scheme_ok = url->starts_with("http://") || url->starts_with("https://");
  if (!scheme_ok || url->size() <= url->find("://") + 3 || find_control_char(*url)) {
    problem(pointer, quote_value(*url) +
                         " is not an http:// or https:// URL (with a host, without spaces or "
                         "control characters)");
    return std::nullopt;
  }
  if (url->find(' ') != std::string::npos) {
    problem(pointer, "a URL must not contain spaces; percent-encode them as %20");
    return std::nullopt;
  }
  return url;
}

void Validator::delivery(const Json& value, const std::string& pointer, DeliveryPolicy& out) {
  if (!expect_object(value, pointer)) {
    return;
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const Json& field = it.value();
    const std::string field_pointer = json_pointer_child(pointer, key);
    if (key == "max_attempts") {
      if (const auto n = integer_value(field, field_pointer, 1, 20)) {
        out.max_attempts = static_cast<int>(*n);
      }
    } else if (key == "initial_backoff_ms") {
      if (const auto n = integer_value(field, field_pointer, 10, 600'000)) {
        out.initial_backoff = Duration::millis(*n);
      }
    } else if (key == "max_backoff_ms") {
      if (const auto n = integer_value(field, field_pointer, 10, 3'600'000)) {
        out.max_backoff = Duration::millis(*n);
      }
    } else if (key == "timeout_ms") {
      if (const auto n = integer_value(field, field_pointer, 10, 300'000)) {
        out.timeout = Duration::millis(*n);
      }
    } else if (key == "queue_capacity") {
      if (const auto n = integer_value(field, field_pointer, 1, 1'000'000)) {
        out.queue_capacity = static_cast<int>(*n);
      }
    } else if (key == "rate_per_second") {
      if (const auto rate = number_value(field, field_pointer)) {
        if (*rate < 0 || *rate > 100'000) {
          problem(field_pointer,
                  "must be between 0 (unlimited) and 100000, got " + format_number(*rate));
        } else {
          out.rate_per_second = *rate;
        }
      }
    } else if (key == "burst") {
      if (const auto n = integer_value(field, field_pointer, 1, 10'000)) {
        out.burst = static_cast<int>(*n);
      }
    } else {
      unknown_key(pointer, key, kDeliveryKeys, "delivery");
    }
  }
  if (out.max_backoff < out.initial_backoff) {
    problem(pointer, "max_backoff_ms (" + std::to_string(out.max_backoff.millis()) +
                         ") must not be less than initial_backoff_ms (" +
                         std::to_string(out.initial_backoff.millis()) + ")");
  }
}

void Validator::actions_settings(const Json& value, const std::string& pointer,
                                 ActionsConfig& out) {
  if (!expect_object(value, pointer)) {
    return;
  }
  // The defaults first, wherever they are written, so that every target starts from them.
  if (value.contains("delivery")) {
    delivery(value["delivery"], json_pointer_child(pointer, "delivery"), out.delivery);
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const Json& field = it.value();
    const std::string field_pointer = json_pointer_child(pointer, key);
    if (key == "dry_run") {
      out.dry_run = bool_value(field, field_pointer).value_or(false);
    } else if (key == "delivery") {
      // Read above.
    } else if (key == "aws") {
      if (!expect_object(field, field_pointer)) {
        continue;
      }
      for (auto a = field.begin(); a != field.end(); ++a) {
        const std::string aws_pointer = json_pointer_child(field_pointer, a.key());
        if (a.key() != "endpoints") {
          unknown_key(field_pointer, a.key(), kAwsKeys, "aws");
          continue;
        }
        if (!expect_object(a.value(), aws_pointer)) {
          continue;
        }
        for (auto e = a.value().begin(); e != a.value().end(); ++e) {
          const std::string endpoint_pointer = json_pointer_child(aws_pointer, e.key());
          if (!contains(kAwsServices, e.key())) {
            unknown_key(aws_pointer, e.key(), kAwsServices, "endpoints");
          } else if (auto url = url_value(e.value(), endpoint_pointer)) {
            out.aws_endpoints.emplace_back(e.key(), std::move(*url));
          }
        }
      }
    } else if (key == "targets") {
      if (!expect_object(field, field_pointer)) {
        continue;
      }
      for (auto t = field.begin(); t != field.end(); ++t) {
        const std::string target_pointer = json_pointer_child(field_pointer, t.key());
        ActionTargetConfig target;
        target.delivery = out.delivery;
        target.name = t.key();
        target.pointer = target_pointer;
        if (t.key().empty() || utf8_length(t.key()) > kMaxTargetNameChars ||
            find_control_char(t.key())) {
          problem(target_pointer, "a target name must be 1 to " +
                                      std::to_string(kMaxTargetNameChars) +
                                      " characters without control characters");
          continue;
        }
        action_target(t.value(), target_pointer, target);
        out.targets.push_back(std::move(target));
      }
    } else {
      unknown_key(pointer, key, kActionsKeys, "actions");
    }
  }
}

void Validator::action_target(const Json& value, const std::string& pointer,
                              ActionTargetConfig& out) {
  using Type = ActionTargetConfig::Type;
  if (!expect_object(value, pointer)) {
    return;
  }
  if (!value.contains("type")) {
    missing_key(pointer, "type",
                "one of webhook, alertmanager, kubernetes_scale, ec2, autoscaling");
    return;
  }
  const auto type_name = string_value(value["type"], json_pointer_child(pointer, "type"));
  if (!type_name) {
    return;
  }
  std::span<const std::string_view> own_keys;
  if (*type_name == "webhook") {
    out.type = Type::kWebhook;
    own_keys = kWebhookKeys;
  } else if (*type_name == "alertmanager") {
    out.type = Type::kAlertmanager;
    own_keys = kAlertmanagerKeys;
  } else if (*type_name == "kubernetes_scale") {
    out.type = Type::kKubernetesScale;
    own_keys = kKubernetesScaleKeys;
  } else if (*type_name == "ec2") {
    out.type = Type::kEc2;
    own_keys = kEc2Keys;
  } else if (*type_name == "autoscaling") {
    out.type = Type::kAutoScaling;
    own_keys = kAutoScalingKeys;
  } else {
    std::string message = quote_value(*type_name) + " is not one of " + join(kTargetTypes, ", ");
    if (const auto suggestion = suggest(*type_name, kTargetTypes)) {
      message += "; did you mean \"" + std::string(*suggestion) + "\"?";
    }
    problem(json_pointer_child(pointer, "type"), std::move(message));
    return;
  }
  std::vector<std::string_view> valid(kTargetCommonKeys.begin(), kTargetCommonKeys.end());
  valid.insert(valid.end(), own_keys.begin(), own_keys.end());
  const std::string where = "a " + *type_name + " target";
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const Json& field = it.value();
    const std::string at = json_pointer_child(pointer, key);
    if (key == "type") {
      continue;
    }
    if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
      unknown_key(pointer, key, valid, where);
      continue;
    }
    if (key == "dry_run") {
      out.dry_run = bool_value(field, at).value_or(false);
    } else if (key == "delivery") {
      delivery(field, at, out.delivery);
    } else if (key == "tls_verify") {
      out.tls_verify = bool_value(field, at).value_or(true);
    } else if (key == "ca_file" || key == "token_file") {
      if (auto path = path_value(field, at, 1)) {
        (key == "ca_file" ? out.ca_file : out.token_file) = std::move(*path);
      }
    } else if (key == "url" && out.type == Type::kWebhook && field.is_string() &&
               field.get<std::string>().starts_with("${")) {
      // A webhook URL can be the secret itself (Slack's): then it comes from a reference.
      const std::string url = field.get<std::string>();
      if ((url.starts_with("${env:") || url.starts_with("${file:")) && url.ends_with("}") &&
          url.size() <= kMaxUrlChars) {
        out.url = url;
      } else {
        problem(at, "a URL from a secret is a reference, ${env:NAME} or ${file:/path}");
      }
    } else if (key == "url" || key == "api_server") {
      if (auto url = url_value(field, at)) {
        (key == "url" ? out.url : out.api_server) = std::move(*url);
      }
    } else if (key == "generator_url") {
      if (auto url = url_value(field, at)) {
        out.generator_url = std::move(*url);
      }
    } else if (key == "method") {
      if (auto method = string_value(field, at)) {
        if (*method == "POST" || *method == "PUT" || *method == "PATCH") {
          out.method = std::move(*method);
        } else {
          problem(at, quote_value(*method) + " is not one of POST, PUT, PATCH");
        }
      }
    } else if (key == "headers") {
      if (!expect_object(field, at)) {
        continue;
      }
      if (field.size() > kMaxHeaders) {
        problem(at, "has " + std::to_string(field.size()) + " headers; at most " +
                        std::to_string(kMaxHeaders) + " are allowed");
        continue;
      }
      for (auto h = field.begin(); h != field.end(); ++h) {
        const std::string header_pointer = json_pointer_child(at, h.key());
        const bool name_ok = !h.key().empty() && h.key().size() <= 256 &&
                             std::all_of(h.key().begin(), h.key().end(),
                                         [](char c) { return is_identifier_char(c) || c == '-'; });
        if (!name_ok) {
          problem(header_pointer, "is not a header name (letters, digits, '-' and '_')");
          continue;
        }
        auto header_value = bounded_string(h.value(), header_pointer, 0, 8192);
        if (header_value && find_control_char(*header_value)) {
          problem(header_pointer, "a header value must not contain control characters");
        } else if (header_value) {
          out.headers.emplace_back(h.key(), std::move(*header_value));
        }
      }
    } else if (key == "format") {
      if (auto format = string_value(field, at)) {
        if (contains(kWebhookFormats, *format)) {
          out.format = std::move(*format);
        } else {
          problem(at, quote_value(*format) + " is not one of " + join(kWebhookFormats, ", "));
        }
      }
    } else if (key == "secret" || key == "routing_key") {
      auto secret = bounded_string(field, at, 1, 4096);
      if (!secret) {
        continue;
      }
      // A secret is written as a reference so that the configuration itself holds none.
      if (!(secret->starts_with("${env:") || secret->starts_with("${file:")) ||
          !secret->ends_with("}")) {
        problem(at,
                "must be a reference, ${env:NAME} or ${file:/path}, so that the "
                "configuration holds no secret");
        continue;
      }
      (key == "secret" ? out.secret : out.routing_key) = std::move(*secret);
    } else if (key == "severity") {
      if (auto severity = string_value(field, at)) {
        if (contains(kPagerDutySeverities, *severity)) {
          out.severity = std::move(*severity);
        } else {
          problem(at,
                  quote_value(*severity) + " is not one of " + join(kPagerDutySeverities, ", "));
        }
      }
    } else if (key == "resend_interval_seconds") {
      if (const auto n = integer_value(field, at, 1, 3600)) {
        out.resend_interval = Duration::seconds(*n);
      }
    } else if (key == "namespace" || key == "name") {
      // Kubernetes object names: DNS-1123 labels / subdomains.
      auto name = bounded_string(field, at, 1, 253);
      if (name && !std::all_of(name->begin(), name->end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
          })) {
        problem(at, quote_value(*name) +
                        " is not a Kubernetes name (lower-case letters, digits, '-' and '.')");
      } else if (name) {
        (key == "namespace" ? out.kubernetes_namespace : out.workload) = std::move(*name);
      }
    } else if (key == "kind") {
      if (auto kind = string_value(field, at)) {
        if (*kind == "Deployment" || *kind == "StatefulSet") {
          out.kind = std::move(*kind);
        } else {
          problem(at, quote_value(*kind) + " is not one of Deployment, StatefulSet");
        }
      }
    } else if (key == "mode") {
      if (auto mode = string_value(field, at)) {
        if (*mode == "set") {
          out.mode = ActionTargetConfig::ScaleMode::kSet;
        } else if (*mode == "add") {
          out.mode = ActionTargetConfig::ScaleMode::kAdd;
        } else if (*mode == "subtract") {
          out.mode = ActionTargetConfig::ScaleMode::kSubtract;
        } else {
          problem(at, quote_value(*mode) + " is not one of set, add, subtract");
        }
      }
    } else if (key == "replicas" || key == "min_replicas" || key == "max_replicas" ||
               key == "desired_capacity") {
      if (const auto n = integer_value(field, at, 0, kMaxReplicas)) {
        int& slot = key == "min_replicas"   ? out.min_replicas
                    : key == "max_replicas" ? out.max_replicas
                                            : out.replicas;
        slot = static_cast<int>(*n);
      }
    } else if (key == "cooldown_seconds") {
      if (const auto n = integer_value(field, at, 0, kMaxCooldownSeconds)) {
        out.cooldown = Duration::seconds(*n);
      }
    } else if (key == "operation") {
      if (auto operation = string_value(field, at)) {
        const bool ok =
            out.type == Type::kEc2
                ? (*operation == "stop" || *operation == "terminate" || *operation == "reboot")
                : (*operation == "execute_policy" || *operation == "set_desired_capacity");
        if (ok) {
          out.operation = std::move(*operation);
        } else {
          problem(at, quote_value(*operation) + " is not one of " +
                          (out.type == Type::kEc2 ? "stop, terminate, reboot"
                                                  : "execute_policy, set_desired_capacity"));
        }
      }
    } else if (key == "instance_ids") {
      if (!expect_array(field, at)) {
        continue;
      }
      for (size_t i = 0; i < field.size(); ++i) {
        if (auto id = bounded_string(field[i], json_pointer_child(at, i), 1, 64)) {
          out.instance_ids.push_back(std::move(*id));
        }
      }
      if (field.size() > 1000) {
        problem(at, "EC2 takes at most 1000 instance ids in one call");
      }
    } else if (key == "region") {
      if (auto region = region_value(field, at)) {
        out.region = std::move(*region);
      }
    } else if (key == "group") {
      if (auto group = bounded_string(field, at, 1, 255)) {
        out.group = std::move(*group);
      }
    } else if (key == "policy") {
      if (auto policy = bounded_string(field, at, 1, 1600)) {
        out.policy = std::move(*policy);
      }
    } else if (key == "honor_cooldown") {
      out.honor_cooldown = bool_value(field, at);
    }
  }
  // What each type cannot do without.
  const auto require = [&](std::string_view key, bool present, std::string_view why) {
    if (!present && !value.contains(std::string(key))) {
      missing_key(pointer, key, why);
    }
  };
  switch (out.type) {
    case Type::kWebhook:
      require("url", !out.url.empty(), "a webhook target needs the URL it posts to");
      require("routing_key", out.format != "pagerduty" || !out.routing_key.empty(),
              "the pagerduty format needs the integration key");
      break;
    case Type::kAlertmanager:
      require("url", !out.url.empty(),
              "the Alertmanager's base URL, e.g. http://alertmanager:9093");
      break;
    case Type::kKubernetesScale:
      require("name", !out.workload.empty(), "the Deployment or StatefulSet to scale");
      require("max_replicas", value.contains("max_replicas"),
              "scaling is bounded: give the most replicas the target may reach");
      if (out.min_replicas > out.max_replicas && value.contains("max_replicas")) {
        problem(json_pointer_child(pointer, "min_replicas"),
                "must not be more than max_replicas (" + std::to_string(out.max_replicas) + ")");
      }
      if (out.mode == ActionTargetConfig::ScaleMode::kSet &&
          (out.replicas < out.min_replicas || out.replicas > out.max_replicas) &&
          value.contains("max_replicas")) {
        problem(json_pointer_child(pointer, "replicas"),
                "a set target must lie within [min_replicas, max_replicas]");
      }
      break;
    case Type::kEc2:
      require("operation", !out.operation.empty(), "stop, terminate or reboot");
      break;
    case Type::kAutoScaling:
      require("operation", !out.operation.empty(), "execute_policy or set_desired_capacity");
      if (out.operation == "execute_policy") {
        require("policy", !out.policy.empty(), "the policy name or ARN to execute");
      } else if (out.operation == "set_desired_capacity") {
        require("group", !out.group.empty(), "the Auto Scaling group to resize");
        require("desired_capacity", value.contains("desired_capacity"), "the capacity to set");
      }
      break;
  }
}

void Validator::check_action_references(const std::string& alarm_pointer, std::string_view list_key,
                                        const std::vector<std::string>& actions) {
  for (size_t i = 0; i < actions.size(); ++i) {
    const std::string& action = actions[i];
    // ARNs are CloudWatch's: an SNS topic without a target, a Lambda function, an SSM item
    // are accepted as CloudWatch accepts them (describe-alarms output loads as is) and counted
    // as unrouted when they fire. A plain name must name a target: a typo would silently drop
    // every action.
    if (action.starts_with("arn:") || config_.settings.actions.find(action) != nullptr) {
      continue;
    }
    problem(json_pointer_child(json_pointer_child(alarm_pointer, std::string(list_key)), i),
            quote_value(action) +
                " is neither an ARN nor the name of a target in /trailwatch/actions/targets");
  }
}

// Valid UTF-8 sequence length at `i`, or 0 if the bytes there are not valid UTF-8.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t length = 0;
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  for (size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0U) != 0x80U) {
      return 0;
    }
  }
  return length;
}

std::string hex_byte(unsigned char byte) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  return {kDigits[byte >> 4U], kDigits[byte & 0x0FU]};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Helpers declared in config_internal.h.

void ProblemList::add(std::string pointer, std::string message) {
  if (truncated_) {
    return;
  }
  if (problems_.size() == static_cast<size_t>(kMaxConfigProblems)) {
    truncated_ = true;
    problems_.push_back({file_, "",
                         "too many problems: only the first " + std::to_string(kMaxConfigProblems) +
                             " are reported"});
    return;
  }
  problems_.push_back({file_, std::move(pointer), std::move(message)});
}

std::string quote_value(std::string_view text) {
  constexpr size_t kMaxShownChars = 64;
  return '"' + printable(text, kMaxShownChars, true) + '"';
}

std::string printable(std::string_view text, size_t max_chars, bool escape_quotes) {
  std::string out;
  size_t shown = 0;
  for (size_t i = 0; i < text.size();) {
    if (shown == max_chars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(text[i]);
    const size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\\x" + hex_byte(byte);
      i += 1;
    } else if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      if (escape_quotes && (byte == '"' || byte == '\\')) {
        out += '\\';
        out += static_cast<char>(byte);
      } else if (byte < 0x20 || byte == 0x7F) {
        out += "\\u00" + hex_byte(byte);
      } else {
        out += static_cast<char>(byte);
      }
      i += 1;
    }
    ++shown;
  }
  return out;
}

size_t utf8_length(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

void validate_document(const Json& document, ProblemList& problems, Config& config) {
  Validator(problems, config).run(document);
}

}  // namespace tw::pipeline::config_internal
