#pragma once

/// The shard processor that wires metric windows (operators/) to metric alarms (detectors/).
///
/// Each shard owns the alarms whose metric hashes to it, the windows of those metrics, and
/// evaluates its alarms at every tick the watermark passes: for each period of an alarm's
/// evaluation range it merges the buckets, computes the statistic and hands the range to the
/// alarm. This file is wiring only; the semantics live in the components it connects.

#include <memory>
#include <optional>
#include <vector>

#include "detectors/metric_alarm.h"
#include "operators/metric_window.h"
#include "operators/quantile_sketch.h"
#include "pipeline/config.h"
#include "pipeline/runtime.h"
#include "pipeline/series.h"

namespace tw::app {

/// The metric an alarm reads, or nullopt for alarms whose returned series is a metric-math
/// expression (evaluated by the metric-math engine, not by a single window).
struct AlarmMetric {
  std::string namespace_name;
  std::string metric_name;
  std::vector<pipeline::Dimension> dimensions;
  std::string account_id;
  pipeline::Statistic statistic;
  std::optional<pipeline::Unit> unit;
};

std::optional<AlarmMetric> alarm_metric(const pipeline::MetricAlarmConfig& alarm,
                                        const pipeline::Settings& settings);

/// The watermark step the runtime needs: 10 s if any alarm is high-resolution, else 60 s.
pipeline::Duration evaluation_step(const pipeline::Config& config);

/// What one alarm saw during a run, for the end-of-run report.
struct AlarmRunSummary {
  std::string alarm_name;
  std::string statistic;
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
};

class AlarmShardProcessor final : public pipeline::ShardProcessor {
 public:
  /// Registers, in `interner`, the series of every alarm owned by shard `index` of `count`.
  AlarmShardProcessor(const pipeline::Config& config, int index, int count,
                      pipeline::SeriesInterner& interner, AlarmShardOptions options = {});

  void on_metric(pipeline::SeriesId series, const pipeline::MetricSample& sample) override;

  void on_cloudtrail(const pipeline::CloudTrailEvent& event) override;

  void on_watermark(const pipeline::WatermarkStep& step, pipeline::EmissionBuffer& out) override;

  [[nodiscard]] size_t alarm_count() const { return alarms_.size(); }

  [[nodiscard]] uint64_t cloudtrail_events() const { return cloudtrail_events_; }

  /// Per-alarm summaries. Call only when the runtime has finished (the shard thread is idle).
  [[nodiscard]] std::vector<AlarmRunSummary> summaries() const;

 private:
  struct OwnedAlarm {
    detectors::MetricAlarm alarm;
    pipeline::SeriesId series;
    AlarmMetric metric;
    std::optional<pipeline::EventTime> next_tick;
    AlarmRunSummary summary;
  };

  void evaluate(OwnedAlarm& owned, pipeline::EventTime tick, pipeline::EmissionBuffer& out);

  const pipeline::Settings* settings_;
  std::vector<OwnedAlarm> alarms_;
  operators::MetricWindows windows_;
  operators::QuantileSketch scratch_sketch_;
  uint64_t cloudtrail_events_ = 0;
};

}  // namespace tw::app
