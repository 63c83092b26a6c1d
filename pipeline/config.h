#pragma once

/// The configuration model: CloudWatch alarm definitions with the PutMetricAlarm /
/// PutCompositeAlarm field names, plus trailwatch's own settings in a `trailwatch` section.
///
/// One JSON file holds everything. The output of `aws cloudwatch describe-alarms` (an object with
/// `MetricAlarms` and `CompositeAlarms`) is a valid file as it is: read-only fields such as
/// `StateValue` or `AlarmArn` are accepted and ignored. A file with only alarms is valid; every
/// setting has a default. The field reference is docs/configuration.md.
///
/// Parsing never throws and never stops the process: `load_config` returns either a Config or the
/// full list of problems, each with the file, the JSON pointer of the offending value, what is
/// wrong and what is allowed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/time.h"
#include "pipeline/units.h"

namespace tw::pipeline {

/// A {Name, Value} pair of a metric's identity.
struct Dimension {
  std::string name;
  std::string value;

  auto operator<=>(const Dimension&) const = default;
};

/// A {Key, Value} resource tag.
struct Tag {
  std::string key;
  std::string value;

  bool operator==(const Tag&) const = default;
};

/// The statistic an alarm evaluates: one of the five simple statistics or a percentile.
/// (Trimmed/winsorized means and the other extended statistics are rejected by validation until
/// the engine computes them.)
struct Statistic {
  enum class Kind : uint8_t { kSampleCount, kAverage, kSum, kMinimum, kMaximum, kPercentile };

  Kind kind = Kind::kAverage;
  double percentile = 0;  ///< For kPercentile: 0..100, e.g. 99.9.
  std::string text;       ///< As written: "Average", "p99.9".

  bool operator==(const Statistic&) const = default;
};

/// Parses a simple statistic name ("Average", ...) or a percentile ("p99", "p99.9", "p0.0",
/// "p100"). nullopt for anything else, including the extended statistics not yet supported.
std::optional<Statistic> parse_statistic(std::string_view text);

/// True for the extended-statistic syntaxes CloudWatch accepts but trailwatch does not compute
/// yet (tm90, TM(10%:90%), wm, tc, ts, PR, IQM): validation names them specifically.
bool is_unsupported_extended_statistic(std::string_view text);

enum class ComparisonOperator : uint8_t {
  kGreaterThanOrEqualToThreshold,
  kGreaterThanThreshold,
  kLessThanThreshold,
  kLessThanOrEqualToThreshold,
  kLessThanLowerOrGreaterThanUpperThreshold,
  kLessThanLowerThreshold,
  kGreaterThanUpperThreshold,
};

std::string_view to_string(ComparisonOperator op);
std::optional<ComparisonOperator> parse_comparison_operator(std::string_view text);

/// True for the three operators that compare against an anomaly-detection band.
bool is_band_operator(ComparisonOperator op);

enum class TreatMissingData : uint8_t { kMissing, kIgnore, kBreaching, kNotBreaching };

std::string_view to_string(TreatMissingData t);
std::optional<TreatMissingData> parse_treat_missing_data(std::string_view text);

enum class LowSampleCountPercentile : uint8_t { kEvaluate, kIgnore };

std::string_view to_string(LowSampleCountPercentile v);

/// The metric a MetricStat names.
struct MetricStat {
  std::string namespace_name;
  std::string metric_name;
  std::vector<Dimension> dimensions;  ///< As configured; identity is order-insensitive.
  int period = 0;                     ///< Seconds.
  Statistic stat;
  std::optional<Unit> unit;

  bool operator==(const MetricStat&) const = default;
};

/// One entry of an alarm's `Metrics` (MetricDataQuery).
struct MetricDataQuery {
  std::string id;
  std::optional<MetricStat> metric_stat;  ///< Exactly one of metric_stat / expression.
  std::string expression;
  std::string label;
  bool return_data = true;  ///< The API default when ReturnData is omitted.
  std::optional<int> period;
  std::string account_id;  ///< Cross-account metric; empty: the alarm's account.

  bool operator==(const MetricDataQuery&) const = default;
};

/// trailwatch's extensions of a metric alarm: the alarm's `Trailwatch` object. All off when
/// absent; when unset they change nothing of CloudWatch's semantics.
struct AlarmExtensions {
  /// Anti-flapping: in ALARM, go back to OK only when at least this many of the evaluated
  /// datapoints are good (CloudWatch's implicit value is N − M + 1). 1..EvaluationPeriods.
  std::optional<int> datapoints_to_recover;
  /// Anti-flapping: in ALARM, a datapoint counts as good only on the good side of this
  /// threshold (hysteresis: alarm above 80, recover below 70). Static operators only.
  std::optional<double> recovery_threshold;
  /// Missing-series detection: once the metric has reported, this many periods without any
  /// datapoint move the alarm to `report_missing_as`, whatever TreatMissingData says.
  std::optional<int> report_missing_after_periods;
  std::string report_missing_as = "ALARM";  ///< "ALARM" or "INSUFFICIENT_DATA".

  [[nodiscard]] bool any() const {
    return datapoints_to_recover || recovery_threshold || report_missing_after_periods;
  }

  bool operator==(const AlarmExtensions&) const = default;
};

/// A metric alarm (PutMetricAlarm). Exactly one of: {MetricName + Namespace + Statistic or
/// ExtendedStatistic + Period} or `Metrics`.
struct MetricAlarmConfig {
  std::string alarm_name;
  std::string alarm_description;
  bool actions_enabled = true;
  std::vector<std::string> ok_actions;
  std::vector<std::string> alarm_actions;
  std::vector<std::string> insufficient_data_actions;

  // Single-metric form.
  std::string metric_name;
  std::string namespace_name;
  std::optional<Statistic> statistic;  ///< From Statistic or ExtendedStatistic.
  bool statistic_is_extended = false;  ///< True when it came from ExtendedStatistic.
  std::vector<Dimension> dimensions;
  std::optional<Unit> unit;

  int period = 0;  ///< Seconds; for the Metrics form, the common period of its MetricStats.
  int evaluation_periods = 0;
  std::optional<int> datapoints_to_alarm;  ///< Absent: equals evaluation_periods.
  std::optional<double> threshold;
  ComparisonOperator comparison_operator = ComparisonOperator::kGreaterThanThreshold;
  TreatMissingData treat_missing_data = TreatMissingData::kMissing;
  bool treat_missing_data_set = false;  ///< Whether the field was present (payload quirks).
  std::optional<LowSampleCountPercentile> evaluate_low_sample_count_percentile;

  // Metric-math form.
  std::vector<MetricDataQuery> metrics;
  std::string threshold_metric_id;

  std::vector<Tag> tags;

  AlarmExtensions extensions;  ///< The `Trailwatch` object (trailwatch-only; see the struct).

  /// JSON pointer of this alarm in its file, e.g. "/MetricAlarms/3" (for messages).
  std::string source_pointer;
  /// A hash of the alarm's JSON object in canonical form (keys sorted, no whitespace): whether a
  /// checkpointed state belongs to this very definition. 0 when built in code.
  uint64_t definition_hash = 0;

  [[nodiscard]] int effective_datapoints_to_alarm() const {
    return datapoints_to_alarm.value_or(evaluation_periods);
  }

  /// Period 10, 20 or 30 seconds: evaluated every 10 seconds on 10-second buckets.
  [[nodiscard]] bool high_resolution() const { return period < 60; }

  bool operator==(const MetricAlarmConfig&) const = default;
};

/// A composite alarm (PutCompositeAlarm).
struct CompositeAlarmConfig {
  std::string alarm_name;
  std::string alarm_description;
  bool actions_enabled = true;
  std::vector<std::string> ok_actions;
  std::vector<std::string> alarm_actions;
  std::vector<std::string> insufficient_data_actions;
  std::string alarm_rule;
  std::string actions_suppressor;
  std::optional<int> actions_suppressor_wait_period;
  std::optional<int> actions_suppressor_extension_period;
  std::vector<Tag> tags;
  std::string source_pointer;
  uint64_t definition_hash = 0;  ///< As MetricAlarmConfig::definition_hash.

  bool operator==(const CompositeAlarmConfig&) const = default;
};

/// How an input's bytes are decoded. kAuto sniffs each file from its first record.
enum class InputFormat : uint8_t {
  kAuto,
  kMetricStream,   ///< CloudWatch metric streams JSON, one object per line.
  kPutMetricData,  ///< PutMetricData-shaped JSON, one request or datum per line.
  kEmf,            ///< Embedded Metric Format log events, one per line.
  kCloudTrail,     ///< CloudTrail records, EventBridge envelopes or `Records` log files.
};

std::string_view to_string(InputFormat f);
std::optional<InputFormat> parse_input_format(std::string_view text);

/// True for the metric formats (lateness default for metrics applies): metric streams,
/// PutMetricData and EMF. False for kCloudTrail and for kAuto (not a format yet; see
/// Config::lateness_for for how an undetected input is treated).
bool is_metric_format(InputFormat f);

/// One source of records.
/// librdkafka properties as written (name → value), in file order. Values may reference secrets
/// as `${env:NAME}` or `${file:/path}`; they are resolved only when a client is created, and never
/// printed.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

struct InputConfig {
  enum class Type : uint8_t { kFile, kStdin, kKafka };

  std::string name;  ///< Unique; labels metrics and dead letters.
  Type type = Type::kFile;
  std::string path;      ///< kFile: a file or a folder (read recursively, in name order).
  std::string topic;     ///< kKafka: the topic consumed.
  std::string group_id;  ///< kKafka: the consumer group (default "trailwatch").
  /// kKafka: librdkafka properties for this input, over `trailwatch.kafka`.
  KafkaProperties properties;
  InputFormat format = InputFormat::kAuto;
  /// Records older than (newest event time seen on this input − lateness) are late. Absent: the
  /// settings' default for the input's kind (metrics or CloudTrail).
  std::optional<Duration> allowed_lateness;
  std::string account_id;  ///< For records that carry none; empty: settings' account.
  std::string region;      ///< For records that carry none; empty: settings' region.

  bool operator==(const InputConfig&) const = default;
};

/// Where a stream of JSON lines goes: a file path, "-" for standard output, or `kafka:TOPIC` (live
/// mode: one Kafka message per line, keyed by the alarm ARN for events). Empty: disabled.
struct OutputConfig {
  std::string emissions = "-";
  std::string dead_letters;
  std::string datapoints;
  /// Every action that became due (what was asked of which target, with its idempotency key):
  /// the record of what replay says would have run, and of what live mode handed to delivery.
  std::string actions;

  bool operator==(const OutputConfig&) const = default;
};

/// Live mode: where checkpoints of the state go (the `state` object of the trailwatch section).
struct StateConfig {
  enum class Store : uint8_t {
    kNone,       ///< No checkpoints: a restart starts from the committed offsets, state empty.
    kKafka,      ///< A changelog topic on the Kafka inputs' cluster.
    kDirectory,  ///< A file in a local directory (file inputs, or a persistent volume).
  };
  /// When not configured: kKafka if any input is a Kafka topic, otherwise kNone.
  Store store = Store::kNone;
  std::string topic = "trailwatch-state";  ///< kKafka: the changelog topic.
  std::string directory;                   ///< kDirectory: where the checkpoint file lives.
  /// How often the state is checkpointed (and offsets committed after it).
  Duration checkpoint_interval = Duration::seconds(10);
  /// Several workers share the alarms: the partitions of `topic` are tasks, the consumer group
  /// of the first Kafka input spreads them over its workers, and each task reads every input
  /// partition and evaluates its alarm groups (app/task_plan.h). Needs kKafka and only Kafka
  /// inputs.
  bool scale_out = false;

  bool operator==(const StateConfig&) const = default;
};

/// How deliveries to one action target are attempted (the `delivery` object of a target, over
/// the `actions.delivery` defaults).
struct DeliveryPolicy {
  /// Attempts in all, the first included (1–20). Retried: timeouts, connection failures, 429,
  /// 5xx and the throttling errors of AWS; never other 4xx.
  int max_attempts = 5;
  Duration initial_backoff = Duration::seconds(1);  ///< Before the 2nd attempt (10 ms–10 min).
  Duration max_backoff = Duration::seconds(60);     ///< Cap of the doubling backoff (≥ initial).
  Duration timeout = Duration::seconds(10);         ///< One attempt, connect included (10 ms–5 min).
  /// Actions waiting for this target at most; a further one is dead-lettered (1–1,000,000).
  int queue_capacity = 1000;
  /// Requests per second to this target (token bucket); 0: unlimited.
  double rate_per_second = 0;
  int burst = 1;  ///< Requests that may go at once after an idle spell (1–10,000).

  bool operator==(const DeliveryPolicy&) const = default;
};

/// One named action target: where and how an action is delivered (docs/configuration.md).
struct ActionTargetConfig {
  enum class Type : uint8_t { kWebhook, kAlertmanager, kKubernetesScale, kEc2, kAutoScaling };
  enum class ScaleMode : uint8_t { kSet, kAdd, kSubtract };

  std::string name;  ///< The key in `actions.targets`: a name, or an `arn:aws:sns:` ARN.
  Type type = Type::kWebhook;
  bool dry_run = false;
  DeliveryPolicy delivery;
  bool tls_verify = true;
  std::string ca_file;  ///< Trusted instead of the system store; empty: the system's.

  // webhook, alertmanager
  std::string url;  ///< webhook: the URL; alertmanager: its base URL (…/api/v2/alerts is added).
  std::string method = "POST";  ///< webhook: POST, PUT or PATCH.
  /// webhook: extra request headers; values may be `${env:NAME}` / `${file:/path}` references.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string format = "eventbridge";  ///< webhook: eventbridge, sns, alertmanager, slack, pagerduty.
  /// webhook: the HMAC-SHA256 signing secret, as a `${env:NAME}` / `${file:/path}` reference;
  /// empty: bodies are not signed.
  std::string secret;
  std::string routing_key;  ///< webhook format pagerduty: the integration key (a reference).
  std::string severity = "critical";  ///< webhook format pagerduty.
  /// alertmanager: how often a firing alert is sent again (its endsAt is 4× this ahead).
  Duration resend_interval = Duration::seconds(60);
  std::string generator_url;  ///< alertmanager: the alerts' generatorURL; empty: none.

  // kubernetes_scale
  std::string api_server;  ///< Empty: in-cluster (KUBERNETES_SERVICE_HOST/PORT).
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string kubernetes_namespace;  ///< Empty: the service account's namespace file.
  std::string kind = "Deployment";   ///< Deployment or StatefulSet.
  std::string workload;              ///< The Deployment's or StatefulSet's name.
  ScaleMode mode = ScaleMode::kAdd;
  int replicas = 1;  ///< set: the count; add / subtract: the step.
  int min_replicas = 0;
  int max_replicas = 0;  ///< Required for kubernetes_scale; and for autoscaling set.
  Duration cooldown = Duration::seconds(0);  ///< No scaling within this after one.

  // ec2, autoscaling
  std::string operation;  ///< ec2: stop, terminate, reboot; autoscaling: execute_policy,
                          ///< set_desired_capacity.
  std::vector<std::string> instance_ids;  ///< ec2; empty: the alarm's InstanceId dimension.
  std::string region;                     ///< AWS calls; empty: the settings' region.
  std::string group;                      ///< autoscaling: AutoScalingGroupName.
  std::string policy;                     ///< autoscaling execute_policy: PolicyName or ARN.
  std::optional<bool> honor_cooldown;     ///< autoscaling.

  std::string pointer;  ///< JSON pointer of the target in its file (for messages).

  bool operator==(const ActionTargetConfig&) const = default;
};

std::string_view to_string(ActionTargetConfig::Type type);

/// The `actions` object of the trailwatch section.
struct ActionsConfig {
  /// Every target logs and exports what it would do instead of doing it.
  bool dry_run = false;
  DeliveryPolicy delivery;  ///< Defaults for every target.
  /// AWS endpoints by service ("ec2", "autoscaling", "sts"), over the environment's
  /// AWS_ENDPOINT_URL_<SERVICE> and the default `https://SERVICE.REGION.amazonaws.com`.
  std::vector<std::pair<std::string, std::string>> aws_endpoints;
  std::vector<ActionTargetConfig> targets;  ///< In document order.

  /// The target an action list entry names, or nullptr (`arn:aws:automate:` and
  /// `arn:aws:autoscaling:` policy ARNs need none).
  [[nodiscard]] const ActionTargetConfig* find(std::string_view name) const;

  bool operator==(const ActionsConfig&) const = default;
};

/// trailwatch's own settings: the `trailwatch` section of the file.
struct Settings {
  std::string account_id = "000000000000";  ///< Used in ARNs and for records without one.
  std::string region = "us-east-1";         ///< Used in ARNs and for records without one.
  int extra_evaluation_periods = 2;         ///< Evaluation range = N + this.
  Duration metric_lateness = Duration::seconds(300);
  Duration cloudtrail_lateness = Duration::seconds(900);
  /// A datapoint (or event) whose event time is more than this away from both its neighbours on
  /// its input — the one before and the one after — is an outlier, rejected as
  /// timestamp_out_of_range: one corrupt timestamp can neither drag the watermark ahead nor, as
  /// the first record, make every good record look wrong. Gaps in the data are kept. Zero
  /// disables the check.
  Duration max_time_jump = Duration::seconds(30L * 24 * 3600);
  int64_t max_record_bytes = 1 << 20;   ///< One line / one envelope.
  int64_t max_file_bytes = 512L << 20;  ///< One whole document (`Records` files), after gunzip.
  int64_t max_series = 5'000'000;       ///< Distinct series per process (alarm series are
                                        ///< always kept).
  int shards = 0;                       ///< 0: one per available core.
  std::vector<InputConfig> inputs;
  OutputConfig outputs;
  /// librdkafka properties shared by every Kafka client (bootstrap.servers, security, ...).
  KafkaProperties kafka;
  /// Live mode: the HTTP endpoint (/metrics, /healthz, /readyz, /api/v1/alarms), "HOST:PORT" or
  /// ":PORT"; empty disables it.
  std::string http_listen = ":9464";
  /// Live mode: a Kafka partition that has nothing left to read and delivered nothing for this long
  /// (wall time) stops holding the watermark back, and when every input is idle the watermark
  /// follows wall time, so missing data is still evaluated on time.
  Duration idle_timeout = Duration::seconds(30);
  StateConfig state;
  ActionsConfig actions;

  bool operator==(const Settings&) const = default;
};

/// A whole configuration file.
struct Config {
  std::string source_file;
  Settings settings;
  std::vector<MetricAlarmConfig> metric_alarms;
  std::vector<CompositeAlarmConfig> composite_alarms;

  /// The lateness that applies to `input`: its allowed_lateness if set; otherwise
  /// settings.cloudtrail_lateness if its format (or, for kAuto, `detected`) is kCloudTrail;
  /// otherwise settings.metric_lateness (kAuto not yet detected counts as metrics).
  [[nodiscard]] Duration lateness_for(const InputConfig& input, InputFormat detected) const;
};

/// One thing wrong with a configuration file.
struct ConfigProblem {
  std::string file;
  /// JSON pointer (RFC 6901) of the offending value ("" is the root); for a missing key, the
  /// object that lacks it.
  std::string pointer;
  std::string message;  ///< What is wrong and what is allowed.

  /// `file: /MetricAlarms/0/Period: message`; a problem with the whole file (empty pointer)
  /// reads `file: (root): message`, so every line has the same three parts.
  [[nodiscard]] std::string to_string() const;

  bool operator==(const ConfigProblem&) const = default;
};

/// Either a valid Config or every problem found (never both, never neither).
struct ConfigLoadResult {
  std::optional<Config> config;
  std::vector<ConfigProblem> problems;

  [[nodiscard]] bool ok() const { return config.has_value(); }
};

/// Hard limits on configuration files themselves (not on alarms).
inline constexpr int64_t kMaxConfigBytes = 64L << 20;
inline constexpr int kMaxConfigDepth = 64;
/// At most this many problems are reported for one file; a last one then says the list was cut.
inline constexpr int kMaxConfigProblems = 1000;

/// Parses and validates configuration text. `file` names it in problems. Text over
/// kMaxConfigBytes, nested deeper than kMaxConfigDepth, empty, or not JSON (including invalid
/// UTF-8) yields exactly one problem (its message gives the line and column where there is
/// one); otherwise every problem is reported, in document order, up to kMaxConfigProblems.
ConfigLoadResult parse_config(std::string_view text, std::string_view file);

/// Reads and parses a configuration file. A missing or unreadable file is a problem, not a
/// crash.
ConfigLoadResult load_config(const std::string& path);

/// `arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME` (the name verbatim, spaces included). The
/// partition follows the Region as in AWS: `aws-cn` for cn-*, `aws-us-gov` for us-gov-*,
/// `aws-iso` / `aws-iso-b` for us-iso-* / us-isob-*, `aws` otherwise.
std::string alarm_arn(const Settings& settings, std::string_view alarm_name);

}  // namespace tw::pipeline
