#include "detectors/period_history.h"

namespace tw::detectors {

using pipeline::Duration;
using pipeline::EventTime;

PeriodHistory::PeriodHistory(Duration period, Duration cadence, int range_periods, bool with_bands)
    : period_(period),
      cadence_(cadence),
      range_periods_(range_periods),
      ticks_per_period_(static_cast<size_t>(period.millis() / cadence.millis())) {
  // The oldest period of the range ended (range − 1) × Period / cadence ticks before the newest.
  slots_.resize(ticks_per_period_ * static_cast<size_t>(range_periods - 1) + 1);
  if (with_bands) {
    bands_.resize(slots_.size());
  }
}

void PeriodHistory::remember(EventTime tick, const PeriodDatapoint& datapoint) {
  newest_slot_ = static_cast<size_t>(tick.millis() / cadence_.millis()) % slots_.size();
  slots_[newest_slot_] =
      Slot{tick_number(tick), datapoint.value.has_value(), datapoint.low_sample_count,
           datapoint.value.value_or(0), datapoint.sample_count};
  if (!bands_.empty()) {
    bands_[newest_slot_] = Band{datapoint.lower, datapoint.upper};
  }
}

void PeriodHistory::assemble(EventTime tick, std::vector<PeriodDatapoint>& out) const {
  out.clear();
  const size_t size = slots_.size();
  for (int k = 0; k < range_periods_; ++k) {
    const EventTime end = tick - period_ * k;
    const size_t back = (static_cast<size_t>(k) * ticks_per_period_) % size;
    const size_t index = (newest_slot_ + size - back) % size;
    const Slot& slot = slots_[index];
    PeriodDatapoint d{end - period_, std::nullopt, 0};
    if (slot.tick_number == tick_number(end)) {
      if (slot.has_value) {
        d.value = slot.value;
      }
      d.sample_count = slot.sample_count;
      d.low_sample_count = slot.low_sample_count;
      if (!bands_.empty()) {
        d.lower = bands_[index].lower;
        d.upper = bands_[index].upper;
      }
    }
    out.push_back(d);
  }
}

}  // namespace tw::detectors
