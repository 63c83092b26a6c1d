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
/// The alarm remembers the datapoints of earlier ticks and assembles the range from them: the
/// period ending at tick T − k·Period was the newest period of tick T − k·Period, and its data
/// was final then (later records are late). So each tick aggregates one period instead of the
/// whole range — five times less work for a 3-of-3 alarm, 1,440 times for daily periods
/// evaluated every minute.
///
/// Rules applied besides the decision: `EvaluateLowSampleCountPercentile: ignore` keeps the state
/// while the newest period's percentile rests on too few samples; alarms on `AWS/DynamoDB`
/// metrics treat missing data as `ignore`, whatever TreatMissingData says.
///
/// Metric-math alarms: the runtime evaluates the expressions and passes the returned series'
/// newest datapoint (with its band for band operators) the same way.
///
/// Time semantics: never reads a clock; `evaluation_time` is event time.
/// Thread-safety: none; owned by one shard.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detectors/alarm_decision.h"
#include "detectors/alarm_state.h"
#include "detectors/period_datapoint.h"
#include "pipeline/config.h"
#include "pipeline/emission.h"
#include "pipeline/time.h"

namespace tw::detectors {

class MetricAlarm {
 public:
  MetricAlarm(const pipeline::MetricAlarmConfig& config, const pipeline::Settings& settings);

  [[nodiscard]] const pipeline::MetricAlarmConfig& config() const { return config_; }

  [[nodiscard]] const std::string& arn() const { return arn_; }

  [[nodiscard]] AlarmState state() const { return state_.value; }

  [[nodiscard]] const StateRecord& state_record() const { return state_; }

  [[nodiscard]] const std::string& state_reason() const { return state_.reason; }

  /// Period length.
  [[nodiscard]] pipeline::Duration period() const;

  /// How often the alarm is evaluated: 10 s for high-resolution periods, else one minute.
  [[nodiscard]] pipeline::Duration cadence() const;

  /// Number of periods fetched per evaluation: EvaluationPeriods + extra (the evaluation range).
  [[nodiscard]] int range_periods() const { return range_periods_; }

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

  /// The evaluation range of the last evaluation: range_periods() datapoints, newest first
  /// (periods before the first tick, which hold no data, are missing). Empty before the first
  /// evaluation. Valid until the next evaluation.
  [[nodiscard]] std::span<const PeriodDatapoint> range() const { return range_; }

  /// Takes over the state of `previous` (the same alarm before a configuration reload), so that
  /// an unchanged alarm does not start again from INSUFFICIENT_DATA.
  void adopt_state(const MetricAlarm& previous);

 private:
  void remember(pipeline::EventTime tick, const PeriodDatapoint& datapoint);
  void assemble_range(pipeline::EventTime tick);
  [[nodiscard]] Verdict verdict(const PeriodDatapoint& d) const;
  [[nodiscard]] pipeline::TreatMissingData effective_treatment() const;

  pipeline::MetricAlarmConfig config_;
  std::string arn_;
  int range_periods_;
  bool emit_datapoints_ = true;
  StateRecord state_;
  bool started_ = false;

  // The datapoints of recent ticks, in a ring indexed by tick number modulo its size (enough
  // for the whole range); each slot remembers its tick so that stale slots read as missing.
  struct Remembered {
    pipeline::EventTime tick = pipeline::EventTime::min();
    PeriodDatapoint datapoint;
  };

  std::vector<Remembered> history_;
  size_t ticks_per_period_ = 1;
  size_t newest_slot_ = 0;  ///< Slot of the last evaluated tick.
  std::vector<PeriodDatapoint> range_;
  std::vector<Verdict> verdicts_;
};

/// The datapoints-stream line of one evaluated period:
/// `{"alarm":NAME,"evaluation_time":ISO,"period_start":ISO,"value":V|null,"sample_count":N}`,
/// plus `"lower"` and `"upper"` for band alarms.
std::string format_datapoint_line(std::string_view alarm_name, pipeline::EventTime evaluation_time,
                                  const PeriodDatapoint& datapoint);

/// Shortest decimal text that reads back as the same double ("21.5", "0.1", "1e+21").
std::string format_number(double value);

}  // namespace tw::detectors
