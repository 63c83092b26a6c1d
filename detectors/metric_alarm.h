#pragma once

/// A metric alarm: its schedule, its view of the metric, and CloudWatch's state machine.
///
/// Lifecycle: created from a validated MetricAlarmConfig in state INSUFFICIENT_DATA with reason
/// `Unchecked: Initial alarm creation`, as CloudWatch does. The owning shard calls `evaluate`
/// once per evaluation tick, in tick order, with the datapoint of the period that ends at the
/// tick. Ticks are the multiples of `cadence()` (one minute, or 10 seconds for 10/20/30-second
/// periods) after the run's origin, and the datapoint of a period is stamped with the period's
/// start. Each evaluation classifies the periods of the evaluation range (the newest N + extra,
/// newest first) as breaching, not breaching or missing, decides as CloudWatch does
/// (detectors/alarm_decision.h) and, when the state changes, returns the transition with its
/// reason text and reason data (detectors/alarm_reason.h).
///
/// The alarm remembers the datapoints of earlier ticks (detectors/period_history.h), so each
/// tick aggregates one period instead of the whole range: N + extra times less work (five for a
/// 3-of-3 alarm).
///
/// Rules applied besides the decision: `EvaluateLowSampleCountPercentile: ignore` keeps the state
/// while the newest period's percentile rests on too few samples; alarms on `AWS/DynamoDB`
/// metrics treat missing data as `ignore`, whatever TreatMissingData says.
///
/// Metric-math alarms: the runtime evaluates the expressions over the whole range each tick
/// (values of older periods can change: FILL, RATE) and passes the range with
/// `evaluate_range`.
///
/// Extensions (the alarm's `Trailwatch` object; each is inactive when unset, and then nothing
/// here differs from CloudWatch):
/// - RecoveryThreshold: while in ALARM, datapoints are judged against it instead of Threshold,
///   so a metric hovering between the two stays in ALARM (hysteresis).
/// - DatapointsToRecover R: while in ALARM, the alarm goes to OK only when at least R of the
///   evaluated datapoints are good (CloudWatch's implicit value is N − M + 1; a smaller R
///   changes nothing). Otherwise it stays in ALARM.
/// - ReportMissingAfterPeriods K: once the metric has had a datapoint, K consecutive newest
///   periods without any move the alarm to ReportMissingAs (ALARM or INSUFFICIENT_DATA) with
///   the reason `Missing Data: no datapoints were received for K periods since <last period>.`,
///   whatever TreatMissingData says; the first datapoint back resumes normal evaluation.
///
/// Memory: an alarm is evaluated every minute but changes state rarely, and a shard holds up to
/// millions of them, so it keeps the inputs of its last decision (the evaluated range, compactly)
/// instead of the ~600 bytes of reason text and reason data; `state_record()` rebuilds those on
/// demand, exactly, since the decision and the texts are pure functions of the range.
///
/// Time semantics: never reads a clock; `evaluation_time` is event time.
/// Thread-safety: none; owned by one shard. Evaluation uses per-thread scratch buffers.

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detectors/alarm_decision.h"
#include "detectors/alarm_state.h"
#include "detectors/period_datapoint.h"
#include "detectors/period_history.h"
#include "pipeline/config.h"
#include "pipeline/emission.h"
#include "pipeline/state_codec.h"
#include "pipeline/time.h"

namespace tw::detectors {

class MetricAlarm {
 public:
  /// Shares `config` and `settings` (callers alias them into their loaded configuration, so
  /// alarms cost no copy).
  MetricAlarm(std::shared_ptr<const pipeline::MetricAlarmConfig> config,
              std::shared_ptr<const pipeline::Settings> settings);

  /// Convenience: keeps copies of `config` and `settings`.
  MetricAlarm(const pipeline::MetricAlarmConfig& config, const pipeline::Settings& settings);

  [[nodiscard]] const pipeline::MetricAlarmConfig& config() const { return *config_; }

  [[nodiscard]] std::string arn() const;

  [[nodiscard]] AlarmState state() const { return state_; }

  /// When the current state was entered; meaningful once `has_transitioned()`.
  [[nodiscard]] pipeline::EventTime state_timestamp() const { return state_timestamp_; }

  /// Whether the current state came from a transition (not from the alarm's creation).
  [[nodiscard]] bool has_transitioned() const {
    return decided_by_.kind != DecidedBy::Kind::kCreation;
  }

  /// The current state with its reason text and reason data (rebuilt; see "Memory").
  [[nodiscard]] StateRecord state_record() const;

  [[nodiscard]] std::string state_reason() const { return state_record().reason; }

  /// Period length.
  [[nodiscard]] pipeline::Duration period() const;

  /// How often the alarm is evaluated: 10 s for high-resolution periods, else one minute.
  [[nodiscard]] pipeline::Duration cadence() const;

  /// Number of periods fetched per evaluation: EvaluationPeriods + extra (the evaluation range).
  [[nodiscard]] int range_periods() const { return history_.range_periods(); }

  /// The first evaluation tick strictly after `origin`.
  [[nodiscard]] pipeline::EventTime first_tick_after(pipeline::EventTime origin) const;

  /// Whether `evaluate` writes the datapoints stream (formatting a line per evaluation costs
  /// more than the evaluation itself, so it is done only when someone reads the stream).
  void set_emit_datapoints(bool emit) { emit_datapoints_ = emit; }

  /// Evaluates the alarm at tick `evaluation_time` given `newest`, the datapoint of the period
  /// [evaluation_time − Period, evaluation_time). Appends the datapoint line to `out` when
  /// enabled, and returns the transition when the state changes. Preconditions: ticks come in
  /// increasing order and newest.start == evaluation_time − period().
  std::optional<StateTransition> evaluate(pipeline::EventTime evaluation_time,
                                          const PeriodDatapoint& newest,
                                          pipeline::EmissionBuffer& out);

  /// Evaluates a metric-math alarm at tick `evaluation_time` given its whole evaluation range
  /// (range_periods() datapoints of the returned expression, newest first, with bands for band
  /// operators). Otherwise as `evaluate`. Precondition: range[0].start == evaluation_time −
  /// period().
  std::optional<StateTransition> evaluate_range(pipeline::EventTime evaluation_time,
                                                std::span<const PeriodDatapoint> range,
                                                pipeline::EmissionBuffer& out);

  /// Takes over the state of `previous` (the same alarm before a configuration reload), so that
  /// an unchanged alarm does not start again from INSUFFICIENT_DATA.
  void adopt_state(const MetricAlarm& previous);

  /// Checkpoint: appends the state, what decided it and the remembered periods.
  void save(pipeline::StateWriter& out) const;

  /// Restore: the state `save` wrote (of this same alarm definition — the caller checks), as
  /// adopt_state does. Returns false, with nothing changed, when the bytes are malformed.
  bool load(pipeline::StateReader& in);

 private:
  /// How the current state was decided: enough to rebuild its reason text and data.
  struct DecidedBy {
    enum class Kind : uint8_t { kCreation, kEvaluation, kMissingSeries };
    Kind kind = Kind::kCreation;
    AlarmState from = AlarmState::kInsufficientData;
    uint32_t recover_minimum = 0;          ///< ReasonInput::recover_minimum.
    std::optional<double> threshold_used;  ///< ReasonInput::threshold_used.
    /// kMissingSeries: start of the last period that had data.
    pipeline::EventTime last_data_start;
    /// kEvaluation: the range, newest first, as (value, sample count) pairs — plus (lower,
    /// upper) for band alarms — with NaN for "none" (values and bands are always finite).
    std::vector<double> range;
  };

  std::optional<StateTransition> decide_and_record(pipeline::EventTime evaluation_time,
                                                   std::span<const PeriodDatapoint> range,
                                                   pipeline::EmissionBuffer& out);
  [[nodiscard]] bool series_missing(pipeline::EventTime evaluation_time) const;
  /// Moves to `next`, decided as `how`, and returns the transition with both reasons built.
  StateTransition transition_to(AlarmState next, DecidedBy how, pipeline::EventTime at);
  [[nodiscard]] StateRecord record_of(AlarmState state, const DecidedBy& how,
                                      pipeline::EventTime at) const;
  [[nodiscard]] Verdict verdict(const PeriodDatapoint& d, double threshold) const;
  [[nodiscard]] pipeline::TreatMissingData effective_treatment() const;

  std::shared_ptr<const pipeline::MetricAlarmConfig> config_;
  std::shared_ptr<const pipeline::Settings> settings_;
  AlarmState state_ = AlarmState::kInsufficientData;
  bool emit_datapoints_ = true;
  bool started_ = false;
  pipeline::EventTime state_timestamp_;
  /// Start of the newest period that had a value (missing-series extension); min() = never.
  pipeline::EventTime last_data_start_ = pipeline::EventTime::min();
  DecidedBy decided_by_;
  PeriodHistory history_;
};

/// The datapoints-stream line of one evaluated period:
/// `{"alarm":NAME,"evaluation_time":ISO,"period_start":ISO,"value":V|null,"sample_count":N}`,
/// plus `"lower":L|null,"upper":U|null` when `band` (band alarms always show their band, null
/// while there is none, so a reader can tell "no band yet" from "not a band alarm").
std::string format_datapoint_line(std::string_view alarm_name, pipeline::EventTime evaluation_time,
                                  const PeriodDatapoint& datapoint, bool band = false);

/// Shortest decimal text that reads back as the same double ("21.5", "0.1", "1e+21").
std::string format_number(double value);

}  // namespace tw::detectors
