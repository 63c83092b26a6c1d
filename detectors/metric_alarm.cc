#include "detectors/metric_alarm.h"

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

namespace tw::detectors {

using pipeline::Duration;
using pipeline::EventTime;

MetricAlarm::MetricAlarm(const pipeline::MetricAlarmConfig& config,
                         const pipeline::Settings& settings)
    : config_(config),
      arn_(pipeline::alarm_arn(settings, config.alarm_name)),
      range_periods_(config.evaluation_periods + settings.extra_evaluation_periods) {
  // Range × Period / cadence ticks back to the oldest period of the range, plus the current one.
  ticks_per_period_ = static_cast<size_t>(period().millis() / cadence().millis());
  history_.resize(ticks_per_period_ * static_cast<size_t>(range_periods_) + 1);
  range_.reserve(static_cast<size_t>(range_periods_));
}

Duration MetricAlarm::period() const {
  return Duration::seconds(config_.period);
}

Duration MetricAlarm::cadence() const {
  return config_.high_resolution() ? Duration::seconds(10) : Duration::minutes(1);
}

EventTime MetricAlarm::first_tick_after(EventTime origin) const {
  return origin.floor(cadence()) + cadence();
}

// Slots follow the ticks: the slot of a tick is its number (time / cadence) modulo the ring size,
// computed once per evaluation; the periods of the range are whole numbers of ticks back.
void MetricAlarm::remember(EventTime tick, const PeriodDatapoint& datapoint) {
  newest_slot_ = static_cast<size_t>(tick.millis() / cadence().millis()) % history_.size();
  history_[newest_slot_] = Remembered{tick, datapoint};
}

PeriodDatapoint MetricAlarm::recall(EventTime period_end, size_t periods_back) const {
  const size_t back = (periods_back * ticks_per_period_) % history_.size();
  const size_t slot = (newest_slot_ + history_.size() - back) % history_.size();
  if (history_[slot].tick == period_end) {
    return history_[slot].datapoint;
  }
  // Not evaluated: before the run's first tick, where no data exists.
  return PeriodDatapoint{period_end - period(), std::nullopt, 0};
}

std::span<const PeriodDatapoint> MetricAlarm::range() {
  range_.clear();
  if (last_tick_) {
    for (int k = 0; k < range_periods_; ++k) {
      range_.push_back(recall(*last_tick_ - period() * k, static_cast<size_t>(k)));
    }
  }
  return range_;
}

void MetricAlarm::evaluate(EventTime evaluation_time, const PeriodDatapoint& newest,
                           pipeline::EmissionBuffer& out) {
  remember(evaluation_time, newest);
  last_tick_ = evaluation_time;
  if (emit_datapoints_) {
    out.add(evaluation_time, pipeline::EmissionStream::kDatapoints, config_.alarm_name,
            format_datapoint_line(config_.alarm_name, evaluation_time, newest));
  }
}

std::string format_number(double value) {
  std::array<char, 32> buf{};
  const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  return {buf.data(), result.ptr};
}

std::string format_datapoint_line(std::string_view alarm_name, EventTime evaluation_time,
                                  const PeriodDatapoint& datapoint) {
  std::string line = R"({"alarm":)";
  line += nlohmann::json(alarm_name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += R"(,"evaluation_time":")";
  line += pipeline::format_iso8601_seconds(evaluation_time);
  line += R"(","period_start":")";
  line += pipeline::format_iso8601_seconds(datapoint.start);
  line += R"(","value":)";
  line += datapoint.value ? format_number(*datapoint.value) : "null";
  line += R"(,"sample_count":)";
  line += format_number(datapoint.sample_count);
  line += '}';
  return line;
}

}  // namespace tw::detectors
