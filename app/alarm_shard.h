#pragma once

/// The shard processor that wires metric windows (operators/) to metric alarms (detectors/).
///
/// Ownership: an alarm on one metric lives on the shard that owns the metric's series (by hash),
/// so its samples reach it without extra routing. A metric-math alarm lives on the shard its
/// name hashes to and registers that shard as a reader of every series its MetricStat entries
/// name (SeriesInterner::add_reader), so the runtime copies those samples to it too.
///
/// At every tick the watermark passes, each alarm aggregates the period that ends at the tick
/// for each metric it reads, remembers it (detectors/period_history.h), and is evaluated: a plain
/// alarm on that datapoint, a math alarm on its expression evaluated over the whole range. This
/// file is wiring only; the semantics live in the components it connects.

#include <atomic>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detectors/metric_alarm.h"
#include "detectors/metric_math.h"
#include "detectors/period_history.h"
#include "operators/metric_window.h"
#include "operators/quantile_sketch.h"
#include "pipeline/config.h"
#include "pipeline/runtime.h"
#include "pipeline/series.h"

namespace tw::app {

/// One metric an alarm reads: the alarm's own metric, or one MetricStat entry of its Metrics.
struct AlarmMetric {
  std::string namespace_name;
  std::string metric_name;
  std::vector<pipeline::Dimension> dimensions;
  std::string account_id;
  pipeline::Statistic statistic;
  std::optional<pipeline::Unit> unit;
};

/// The single metric of an alarm that reads one metric directly (classic alarms, and Metrics
/// alarms whose returned entry is a MetricStat); nullopt for metric-math alarms, including every
/// anomaly-detection alarm (its band is an expression, whichever entries return data).
std::optional<AlarmMetric> alarm_metric(const pipeline::MetricAlarmConfig& alarm,
                                        const pipeline::Settings& settings);

/// The MetricStat entries of a Metrics alarm, in query order (the inputs of its metric math).
std::vector<AlarmMetric> math_inputs(const pipeline::MetricAlarmConfig& alarm,
                                     const pipeline::Settings& settings);

/// The watermark step the runtime needs: 10 s if any alarm is high-resolution, else 60 s.
pipeline::Duration evaluation_step(const pipeline::Config& config);

/// What one alarm saw during a run, for the end-of-run report.
struct AlarmRunSummary {
  std::string alarm_name;
  std::string statistic;  ///< The statistic, or "math" for metric-math alarms.
  uint64_t evaluations = 0;
  uint64_t periods_with_data = 0;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<double> last;
  uint64_t transitions = 0;
  std::string state;
};

/// What the shard processors produce besides transitions.
struct AlarmShardOptions {
  bool datapoints = true;  ///< Write the datapoints stream (`--datapoints`).
  /// When set, every watermark step adds the number of alarm evaluations it ran (one relaxed
  /// atomic add per step, for live mode's metrics; read from any thread).
  std::atomic<uint64_t>* evaluations = nullptr;
};

class AlarmShardProcessor final : public pipeline::ShardProcessor {
 public:
  /// Creates the alarms owned by shard `index` of `count` and registers, in `interner`, the
  /// series they read. Alarms whose metric math does not compile are skipped (validation
  /// reports them before a run starts). `config` stays shared for the processor's life.
  AlarmShardProcessor(std::shared_ptr<const pipeline::Config> config, int index, int count,
                      pipeline::SeriesInterner& interner, AlarmShardOptions options = {});

  void on_metric(pipeline::SeriesId series, const pipeline::MetricSample& sample) override;

  void on_cloudtrail(const pipeline::CloudTrailEvent& event) override;

  void on_watermark(const pipeline::WatermarkStep& step, pipeline::EmissionBuffer& out) override;

  /// Runtime::replace_processors: adopt_state from the previous AlarmShardProcessor.
  void take_over(pipeline::ShardProcessor& previous) override;

  /// Checkpoint: an entry per alarm ('A', by name: definition hash, schedule, counters, state,
  /// math histories) and per series window ('W', by canonical series key).
  void save_state(const pipeline::SeriesInterner& interner,
                  pipeline::StateWriter& out) const override;

  /// Restore: every alarm whose entry carries the same definition hash continues from it (as
  /// after a reload, adopt_state); each window takes the fullest entry of its series with its
  /// resolution. Returns nothing: what has no usable entry starts afresh, counted in
  /// restored_alarms().
  void load_state(const pipeline::SeriesInterner& interner,
                  const pipeline::StateEntries& entries) override;

  /// Alarms that took their state from the last load_state.
  [[nodiscard]] size_t restored_alarms() const { return restored_alarms_; }

  [[nodiscard]] size_t alarm_count() const { return alarms_.size(); }

  [[nodiscard]] uint64_t cloudtrail_events() const { return cloudtrail_events_; }

  /// Bytes held by the metric windows (buckets and sketches) of this shard.
  [[nodiscard]] size_t window_memory_bytes() const { return windows_.memory_bytes(); }

  /// Configuration reload: takes over, from the processor of the previous configuration (same
  /// shard, same series interner), the state of every alarm whose definition did not change —
  /// state, reason, remembered periods, schedule — and the buckets of every series both read.
  /// Alarms that are new or changed start as CloudWatch starts a new alarm. Call before the new
  /// processor sees any record; `previous` is left without buckets.
  void adopt_state(AlarmShardProcessor& previous);

  /// Per-alarm summaries. Call only when the runtime has finished (the shard thread is idle).
  [[nodiscard]] std::vector<AlarmRunSummary> summaries() const;

 private:
  /// A metric as one alarm reads it.
  struct Input {
    pipeline::SeriesId series;
    const pipeline::Statistic* statistic = nullptr;  ///< Points into the shared configuration.
    std::optional<pipeline::Unit> unit;
  };

  /// The metric-math part of an alarm: the compiled expressions, its inputs (the MetricStat
  /// entries) and their histories.
  struct MathState {
    detectors::MetricMath math;
    std::vector<Input> inputs;
    std::vector<detectors::PeriodHistory> histories;  ///< One per input.
    std::vector<std::vector<std::optional<double>>> values;
    std::vector<pipeline::EventTime> times;
    detectors::MathOutput result;
    std::vector<detectors::PeriodDatapoint> range;
    std::vector<detectors::PeriodDatapoint> scratch;
  };

  /// For the end-of-run table only, so kept small: values as floats (the table shows four
  /// digits); meaningful once periods_with_data > 0.
  struct Counters {
    uint32_t evaluations = 0;
    uint32_t periods_with_data = 0;
    uint32_t transitions = 0;
    float minimum = 0;
    float maximum = 0;
    float last = 0;
  };

  struct OwnedAlarm {
    detectors::MetricAlarm alarm;
    Input input;                      ///< Plain alarms: the metric (unused for math).
    std::unique_ptr<MathState> math;  ///< Set for metric-math alarms only.
    pipeline::EventTime next_tick = pipeline::EventTime::min();  ///< min(): not scheduled yet.
    Counters counters;
  };

  [[nodiscard]] detectors::PeriodDatapoint aggregate(const Input& input, pipeline::EventTime tick,
                                                     pipeline::Duration period);
  void evaluate(OwnedAlarm& owned, pipeline::EventTime tick, pipeline::EmissionBuffer& out);
  /// The per-minute repeats of Auto Scaling actions while `owned` stays in its state.
  void add_repeated_actions(const OwnedAlarm& owned, pipeline::EventTime tick,
                            std::optional<double> value, pipeline::EmissionBuffer& out) const;
  std::optional<detectors::StateTransition> evaluate_math(OwnedAlarm& owned,
                                                          pipeline::EventTime tick,
                                                          pipeline::EmissionBuffer& out);
  /// Interns the series of `metric`, sets up its window, and registers `reader_shard` as an
  /// extra reader (math alarms; -1 for none). `statistic` points into the configuration.
  Input track(const AlarmMetric& metric, const pipeline::Statistic* statistic,
              const pipeline::MetricAlarmConfig& alarm, const detectors::MetricAlarm& state_machine,
              pipeline::SeriesInterner& interner, int reader_shard);

  std::shared_ptr<const pipeline::Config> config_;
  std::vector<OwnedAlarm> alarms_;
  operators::MetricWindows windows_;
  operators::QuantileSketch scratch_sketch_;
  detectors::NullBandProvider no_bands_;
  uint64_t cloudtrail_events_ = 0;
  size_t restored_alarms_ = 0;
  std::atomic<uint64_t>* evaluations_ = nullptr;
};

}  // namespace tw::app
