#pragma once

/// The datapoints of a series' recent periods, remembered tick by tick so that each evaluation
/// aggregates only the newest period.
///
/// An alarm evaluated at tick T compares the periods ending at T, T − Period, T − 2·Period, ...
/// The period ending at T − k·Period was the newest period of tick T − k·Period, and its data
/// was final then (later records are late), so what was computed at that tick can be reused.
/// The history is a ring indexed by tick number (time / cadence) modulo its size, large enough
/// for the whole range; each slot remembers its tick, so a slot from an older lap (or never
/// written) reads as missing.
///
/// Used for a metric alarm's own metric and for every MetricStat input of a metric-math alarm.
/// Thread-safety: none.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "detectors/period_datapoint.h"
#include "pipeline/state_codec.h"
#include "pipeline/time.h"

namespace tw::detectors {

class PeriodHistory {
 public:
  /// Precondition: period is a positive multiple of cadence; range_periods ≥ 1. Bands (the
  /// lower/upper of band alarms) are remembered only `with_bands`, so that the common static
  /// alarm pays 24 bytes per slot (band alarms 32 more).
  PeriodHistory(pipeline::Duration period, pipeline::Duration cadence, int range_periods,
                bool with_bands = false);

  /// Remembers the datapoint of the period ending at `tick`.
  void remember(pipeline::EventTime tick, const PeriodDatapoint& datapoint);

  /// Writes the range_periods datapoints of the periods ending at tick, tick − period, ...
  /// (newest first) into `out`, replacing its contents. Periods never remembered are missing,
  /// stamped with their start.
  void assemble(pipeline::EventTime tick, std::vector<PeriodDatapoint>& out) const;

  [[nodiscard]] int range_periods() const { return range_periods_; }

  /// Whether `other` has the same shape (period, cadence, range), so its contents can be taken
  /// over by assignment.
  [[nodiscard]] bool same_shape(const PeriodHistory& other) const {
    return period_ == other.period_ && cadence_ == other.cadence_ &&
           range_periods_ == other.range_periods_ && bands_.size() == other.bands_.size();
  }

  /// Checkpoint: appends the shape and the remembered datapoints.
  void save(pipeline::StateWriter& out) const;

  /// Restore: takes what `save` wrote when the shape is the same (else keeps nothing and
  /// returns true: a changed period or range remembers nothing, as after a reload). Returns
  /// false, with nothing changed, when the bytes are malformed.
  bool load(pipeline::StateReader& in);

 private:
  // A datapoint without its start (tick − period) and bands, in 24 bytes; value is meaningful
  // only when has_value. The tick is kept as its number (time / cadence) plus one, modulo 2^32
  // (0 = never written): 2^32 ten-second ticks are 1,361 years, so numbers never collide.
  struct Slot {
    uint32_t tick_number = 0;
    bool has_value = false;
    bool low_sample_count = false;
    double value = 0;
    double sample_count = 0;
  };

  [[nodiscard]] uint32_t tick_number(pipeline::EventTime tick) const {
    return static_cast<uint32_t>(tick.millis() / cadence_.millis()) + 1U;
  }

  struct Band {
    std::optional<double> lower;
    std::optional<double> upper;
  };

  pipeline::Duration period_;
  pipeline::Duration cadence_;
  int range_periods_;
  size_t ticks_per_period_;
  size_t newest_slot_ = 0;
  std::vector<Slot> slots_;
  std::vector<Band> bands_;  ///< Parallel to slots_ when with_bands, else empty.
};

}  // namespace tw::detectors
