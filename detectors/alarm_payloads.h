#pragma once

/// The payloads CloudWatch builds from an alarm state transition, byte for byte where AWS's
/// format is known: the EventBridge "CloudWatch Alarm State Change" event and the SNS
/// notification (subject and JSON message). Sinks deliver them; tools that parse CloudWatch's
/// payloads read trailwatch's unchanged.
///
/// Every function here is pure and deterministic: no clock, no randomness, no IO. The same
/// transition and configuration always give the same bytes, so replaying history (or restarting
/// and re-emitting a transition) yields identical payloads, event ids included, and downstream
/// consumers can deduplicate on the id. No function throws: text that is not valid UTF-8 (an
/// alarm name, a reason) is written with U+FFFD in place of each invalid byte sequence.

#include <string>
#include <string_view>

#include "detectors/alarm_state.h"
#include "pipeline/config.h"
#include "pipeline/time.h"

namespace tw::detectors {

/// A deterministic, UUID-formatted id for the transition of `alarm_arn` into `new_state` at
/// `at`: 8-4-4-4-12 lowercase hex, RFC 9562 version 8 ("custom") with the RFC variant bits, the
/// other 122 bits from a keyed 128-bit SipHash-2-4 of the three inputs. The same inputs give the
/// same id on every run and every machine; a change in any of them gives a different id (up to
/// a 2^-122 collision chance). Used as the EventBridge event `id`.
///
/// Example: `transition_event_id("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a",
/// EventTime::from_seconds(1'570'035'880), AlarmState::kAlarm)` always returns the same
/// `xxxxxxxx-xxxx-8xxx-[89ab]xxx-xxxxxxxxxxxx` string.
std::string transition_event_id(std::string_view alarm_arn, pipeline::EventTime at,
                                AlarmState new_state);

/// The `id` CloudWatch generates for the single metric of a MetricName-form alarm in
/// `detail.configuration.metrics` of its events: UUID-formatted like transition_event_id, and
/// derived from the alarm ARN only, so it is stable for the alarm's lifetime.
std::string single_metric_query_id(std::string_view alarm_arn);

/// The display name of an AWS Region as CloudWatch writes it in SNS messages and subjects:
/// "us-east-1" → "US East (N. Virginia)", "eu-west-1" → "EU (Ireland)", "ap-southeast-2" →
/// "Asia Pacific (Sydney)". An unknown code is returned as it is.
std::string_view region_display_name(std::string_view region);

/// The EventBridge "CloudWatch Alarm State Change" event for a metric alarm's transition, as
/// one line of JSON (no trailing newline). Keys, in order: version, id
/// (transition_event_id), detail-type, source, account, time (the transition time, to the
/// second), region, resources [alarm ARN], detail {alarmName, state, previousState,
/// configuration}.
///
/// `state` and `previousState` are {value, reason, reasonData (only when non-empty),
/// timestamp, actionsSuppressedBy and actionsSuppressedReason (only when suppressed)}.
/// `configuration` is {description (only when non-empty), metrics}: the MetricName form gives
/// one query {id (single_metric_query_id), metricStat {metric {namespace, name, dimensions (an
/// object, name → value)}, period, stat, unit (only when set)}, returnData true}; the Metrics
/// form gives each MetricDataQuery as {id, metricStat | expression, label (only when non-empty),
/// returnData, period and accountId (only when set)}.
///
/// The alarm name and ARN come from the transition (the config's name and `settings` are the
/// fallback when the transition leaves them empty); account and region from `settings`.
std::string state_change_event(const StateTransition& t, const pipeline::MetricAlarmConfig& alarm,
                               const pipeline::Settings& settings);

/// The same event for a composite alarm: `configuration` is {alarmRule, actionsSuppressor,
/// actionsSuppressorWaitPeriod, actionsSuppressorExtensionPeriod}, the last three only when
/// set.
std::string state_change_event(const StateTransition& t,
                               const pipeline::CompositeAlarmConfig& alarm,
                               const pipeline::Settings& settings);

/// An SNS notification as CloudWatch publishes it.
struct SnsMessage {
  /// `ALARM: "my-alarm" in US East (N. Virginia)`: new state, quoted alarm name, Region
  /// display name. Not truncated: SNS limits subjects to 100 characters, which the sink that
  /// publishes must enforce.
  std::string subject;
  /// The JSON body (SNS's `Message`), one line, keys in CloudWatch's order.
  std::string message;

  bool operator==(const SnsMessage&) const = default;
};

/// The SNS notification for a metric alarm's transition. `config_updated` is the time the
/// alarm's configuration was last written (AlarmConfigurationUpdatedTimestamp).
///
/// Message keys, in order: AlarmName, AlarmDescription (null when empty), AWSAccountId,
/// AlarmConfigurationUpdatedTimestamp, NewStateValue, NewStateReason, StateChangeTime, Region
/// (display name), AlarmArn, OldStateValue, OKActions, AlarmActions, InsufficientDataActions,
/// Trigger. The MetricName form's Trigger is {MetricName, Namespace, StatisticType
/// ("Statistic" or "ExtendedStatistic"), Statistic (AVERAGE, SAMPLE_COUNT, ... or the
/// percentile as written, "p99"), Unit (null when unset), Dimensions [{value, name}], Period,
/// EvaluationPeriods, DatapointsToAlarm (only when set), ComparisonOperator, Threshold,
/// TreatMissingData, EvaluateLowSampleCountPercentile ("" when unset)}. The Metrics form's is
/// {Period, EvaluationPeriods, DatapointsToAlarm (only when set), ComparisonOperator,
/// Threshold | ThresholdMetricId, TreatMissingData, EvaluateLowSampleCountPercentile, Metrics},
/// each query with its keys in alphabetical order as CloudWatch sends them. Numbers print as
/// Java does (`"Threshold":1.0`). A TreatMissingData never configured prints as CloudWatch's
/// literal `- TreatMissingData:                    missing`.
SnsMessage sns_message(const StateTransition& t, const pipeline::MetricAlarmConfig& alarm,
                       const pipeline::Settings& settings, pipeline::EventTime config_updated);

/// The SNS notification for a composite alarm's transition: the same top-level keys without
/// Trigger, then AlarmRule and TriggeringChildren [{Arn, State {Value, Timestamp}}], taken
/// from the `triggeringAlarms` of the new state's reason data (`[]` when it has none or is not
/// valid JSON).
SnsMessage sns_message(const StateTransition& t, const pipeline::CompositeAlarmConfig& alarm,
                       const pipeline::Settings& settings, pipeline::EventTime config_updated);

}  // namespace tw::detectors
