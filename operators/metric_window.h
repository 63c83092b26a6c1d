#pragma once

/// Per-series, per-minute (or per-10-second) mergeable buckets: the unit of metric state.
///
/// CloudWatch evaluates alarms every minute over periods that slide by one minute (every 10 s for
/// 10/20/30-second periods). So trailwatch keeps, per series, one bucket per minute (10 s for
/// series read by a high-resolution alarm) holding an exact StatisticSet and, when a percentile
/// alarm reads the series, a QuantileSketch. A period of any length is the merge of its buckets.
///
/// Time semantics: a sample lands in the bucket containing its event time. Buckets are kept for
/// the configured retention behind the watermark and evicted by `evict_before`; the caller
/// (the runtime) guarantees that samples older than its watermark never arrive (they are late and
/// dead-lettered upstream), so a bucket is never changed after the evaluations that read it.
///
/// Units are labels: samples with different units go to separate buckets so that an alarm with a
/// Unit sees only its unit, and an alarm without one sees all of them merged.
///
/// Thread-safety: none. Each shard owns the windows of its series.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "operators/quantile_sketch.h"
#include "pipeline/metric.h"
#include "pipeline/series.h"
#include "pipeline/state_codec.h"
#include "pipeline/time.h"
#include "pipeline/units.h"

namespace tw::operators {

/// What one alarm needs from a series; the window keeps the union of all its readers' needs.
struct WindowRequirements {
  pipeline::Duration resolution = pipeline::Duration::minutes(1);  ///< 1 min, or 10 s.
  pipeline::Duration retention = pipeline::Duration::minutes(1);   ///< Look-back behind the
                                                                   ///< watermark.
  bool percentiles = false;                                        ///< Keep a sketch per bucket.

  /// The union: finest resolution, longest retention, sketches if either wants them.
  void merge(const WindowRequirements& other);
};

/// The merged content of a time range of one series.
struct RangeAggregate {
  pipeline::StatisticSet stats;
  /// Percentiles are computable for the range: every bucket in it had raw values (or an exactly
  /// reconstructible set). False when some bucket held only a pre-aggregated statistic set, as
  /// CloudWatch cannot compute percentiles from those either.
  bool percentiles_available = true;
};

/// The buckets of one series.
class SeriesWindow {
 public:
  explicit SeriesWindow(const WindowRequirements& requirements);

  /// Adds a sample to its bucket.
  void add(const pipeline::MetricSample& sample);

  /// Merges the buckets whose start lies in [from, to), restricted to `unit` when given. When
  /// `sketch` is not null and this window keeps sketches, their merge is added to `*sketch`
  /// (the caller clears it first).
  void aggregate(pipeline::EventTime from, pipeline::EventTime to,
                 std::optional<pipeline::Unit> unit, RangeAggregate& out,
                 QuantileSketch* sketch) const;

  /// Drops buckets that start before `t`.
  void evict_before(pipeline::EventTime t);

  /// Widens what the window keeps (a new alarm reads the series). Existing buckets keep their
  /// resolution; the change applies to buckets created from now on.
  void require(const WindowRequirements& requirements);

  [[nodiscard]] const WindowRequirements& requirements() const { return requirements_; }

  [[nodiscard]] size_t bucket_count() const { return buckets_.size() - head_; }

  [[nodiscard]] size_t memory_bytes() const;

  /// Takes over the buckets of `previous` (the window of the same series before a configuration
  /// reload) when both use the same resolution; buckets without a sketch are marked as lacking
  /// percentiles if this window needs them. Leaves `previous` empty.
  void take_buckets(SeriesWindow& previous);

  /// Checkpoint: appends the resolution and every live bucket (statistics and sketch).
  void save(pipeline::StateWriter& out) const;

  /// Restore: replaces the buckets with those `save` wrote when it used the same resolution
  /// (otherwise keeps none and returns true: the data cannot be re-bucketed); as take_buckets,
  /// buckets without a sketch lack percentiles when this window needs them. Returns false, with
  /// nothing changed, when the bytes are malformed.
  bool load(pipeline::StateReader& in);

 private:
  struct Bucket {
    int64_t start_ms = 0;
    pipeline::Unit unit = pipeline::Unit::kNone;
    bool percentiles_available = true;
    pipeline::StatisticSet stats;
    std::unique_ptr<QuantileSketch> sketch;
  };

  Bucket& bucket_for(int64_t start_ms, pipeline::Unit unit);
  static void feed_sketch(QuantileSketch& sketch, const pipeline::MetricSample& sample,
                          bool& percentiles_available);

  WindowRequirements requirements_;
  std::vector<Bucket> buckets_;  ///< Sorted by (start, unit) from head_ on.
  size_t head_ = 0;              ///< Evicted prefix, compacted lazily.
};

/// The windows of every series a shard's alarms read, indexed by dense series id.
class MetricWindows {
 public:
  /// Starts keeping buckets for `id` with at least `requirements`.
  void track(pipeline::SeriesId id, const WindowRequirements& requirements);

  /// The window of `id`, or null when no alarm reads the series.
  [[nodiscard]] SeriesWindow* find(pipeline::SeriesId id) {
    return id.value < windows_.size() ? windows_[id.value].get() : nullptr;
  }

  [[nodiscard]] const SeriesWindow* find(pipeline::SeriesId id) const {
    return id.value < windows_.size() ? windows_[id.value].get() : nullptr;
  }

  /// Adds `sample` if the series is tracked; returns whether it was.
  bool add(pipeline::SeriesId id, const pipeline::MetricSample& sample) {
    SeriesWindow* window = find(id);
    if (window == nullptr) {
      return false;
    }
    window->add(sample);
    return true;
  }

  /// Evicts, in every window, buckets older than the watermark minus that window's retention.
  void evict(pipeline::EventTime watermark);

  /// After a configuration reload: every series tracked here and in `previous` keeps the data
  /// already aggregated (SeriesWindow::take_buckets).
  void take_buckets(MetricWindows& previous);

  [[nodiscard]] size_t tracked_series() const { return tracked_; }

  /// Calls f(SeriesId, SeriesWindow&) for every tracked series, in id order.
  template <typename F>
  void for_each(F&& f) {
    for (size_t i = 0; i < windows_.size(); ++i) {
      if (windows_[i]) {
        f(pipeline::SeriesId{static_cast<uint32_t>(i)}, *windows_[i]);
      }
    }
  }

  template <typename F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < windows_.size(); ++i) {
      if (windows_[i]) {
        f(pipeline::SeriesId{static_cast<uint32_t>(i)}, std::as_const(*windows_[i]));
      }
    }
  }

  [[nodiscard]] size_t memory_bytes() const;

 private:
  std::vector<std::unique_ptr<SeriesWindow>> windows_;
  size_t tracked_ = 0;
};

}  // namespace tw::operators
