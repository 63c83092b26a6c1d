#pragma once

/// A metric alarm as the runtime evaluates it: its schedule, its evaluation range and its view
/// of the metric.
///
/// Lifecycle: created from a validated MetricAlarmConfig in state INSUFFICIENT_DATA with reason
/// `Unchecked: Initial alarm creation`, as CloudWatch does. The owning shard calls `evaluate`
/// once per evaluation tick, in tick order, with the datapoints of the evaluation range (N +
/// extra periods, newest first). Ticks are the multiples of `cadence()` (one minute, or 10
/// seconds for 10/20/30-second periods) after the run's origin, and the datapoint of a period is
/// stamped with the period's start. The decision logic (M out of N, missing data, reasons) is
/// applied on top of exactly this view.
///
/// Time semantics: never reads a clock; `evaluation_time` is event time.
/// Thread-safety: none; owned by one shard.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pipeline/config.h"
#include "pipeline/emission.h"
#include "pipeline/time.h"

namespace tw::detectors {

enum class AlarmState : uint8_t { kOk, kAlarm, kInsufficientData };

/// "OK", "ALARM", "INSUFFICIENT_DATA".
std::string_view to_string(AlarmState state);

/// One period of an alarm's evaluation range.
struct PeriodDatapoint {
  pipeline::EventTime start;    ///< The period's start: the datapoint's timestamp.
  std::optional<double> value;  ///< The statistic; nullopt when the period has no data.
  double sample_count = 0;      ///< Samples in the period (0 when missing).
};

class MetricAlarm {
 public:
  MetricAlarm(const pipeline::MetricAlarmConfig& config, const pipeline::Settings& settings);

  [[nodiscard]] const pipeline::MetricAlarmConfig& config() const { return config_; }

  [[nodiscard]] const std::string& arn() const { return arn_; }

  [[nodiscard]] AlarmState state() const { return state_; }

  [[nodiscard]] const std::string& state_reason() const { return state_reason_; }

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

  /// Evaluates the alarm at `evaluation_time` on `range` (range_periods() datapoints, newest
  /// first) and appends its output: the datapoint line of the newest period to the datapoints
  /// stream, when enabled. Precondition: range.size() == range_periods().
  void evaluate(pipeline::EventTime evaluation_time, std::span<const PeriodDatapoint> range,
                pipeline::EmissionBuffer& out);

 private:
  pipeline::MetricAlarmConfig config_;
  std::string arn_;
  int range_periods_;
  bool emit_datapoints_ = true;
  AlarmState state_ = AlarmState::kInsufficientData;
  std::string state_reason_ = "Unchecked: Initial alarm creation";
};

/// The datapoints-stream line of one evaluated period:
/// `{"alarm":NAME,"evaluation_time":ISO,"period_start":ISO,"value":V|null,"sample_count":N}`.
std::string format_datapoint_line(std::string_view alarm_name, pipeline::EventTime evaluation_time,
                                  const PeriodDatapoint& datapoint);

/// Shortest decimal text that reads back as the same double ("21.5", "0.1", "1e+21").
std::string format_number(double value);

}  // namespace tw::detectors
