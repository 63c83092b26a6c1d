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

void PeriodHistory::save(pipeline::StateWriter& out) const {
  out.duration(period_);
  out.duration(cadence_);
  out.u32(static_cast<uint32_t>(range_periods_));
  out.boolean(!bands_.empty());
  out.u32(static_cast<uint32_t>(newest_slot_));
  out.u32(static_cast<uint32_t>(slots_.size()));
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    out.u32(slot.tick_number);
    out.boolean(slot.has_value);
    out.boolean(slot.low_sample_count);
    out.f64(slot.value);
    out.f64(slot.sample_count);
    if (!bands_.empty()) {
      out.optional_f64(bands_[i].lower);
      out.optional_f64(bands_[i].upper);
    }
  }
}

bool PeriodHistory::load(pipeline::StateReader& in) {
  const Duration period = in.duration();
  const Duration cadence = in.duration();
  const uint32_t range = in.u32();
  const bool with_bands = in.boolean();
  const uint32_t newest = in.u32();
  const uint32_t n = in.count(4 + 1 + 1 + 8 + 8);
  std::vector<Slot> slots(n);
  std::vector<Band> bands(with_bands ? n : 0);
  for (uint32_t i = 0; i < n && in.ok(); ++i) {
    slots[i].tick_number = in.u32();
    slots[i].has_value = in.boolean();
    slots[i].low_sample_count = in.boolean();
    slots[i].value = in.f64();
    slots[i].sample_count = in.f64();
    if (with_bands) {
      bands[i].lower = in.optional_f64();
      bands[i].upper = in.optional_f64();
    }
  }
  if (in.ok() && n > 0 && newest >= n) {
    in.fail("a period history's newest slot is out of range");
  }
  if (!in.ok()) {
    return false;
  }
  const bool same = period == period_ && cadence == cadence_ &&
                    static_cast<int64_t>(range) == range_periods_ &&
                    with_bands == !bands_.empty() && n == slots_.size();
  if (same) {
    slots_ = std::move(slots);
    bands_ = std::move(bands);
    newest_slot_ = newest;
  }
  return true;
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
