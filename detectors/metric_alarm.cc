#include "detectors/metric_alarm.h"

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

namespace tw::detectors {

using pipeline::Duration;
using pipeline::EventTime;

std::string_view to_string(AlarmState state) {
  switch (state) {
    case AlarmState::kOk:
      return "OK";
    case AlarmState::kAlarm:
      return "ALARM";
    case AlarmState::kInsufficientData:
      return "INSUFFICIENT_DATA";
  }
  return "INSUFFICIENT_DATA";
}

MetricAlarm::MetricAlarm(const pipeline::MetricAlarmConfig& config,
                         const pipeline::Settings& settings)
    : config_(config),
      arn_(pipeline::alarm_arn(settings, config.alarm_name)),
      range_periods_(config.evaluation_periods + settings.extra_evaluation_periods) {
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

// Not const although it only reads today: evaluation is where the state machine (state_,
// state_reason_) advances.
// NOLINTNEXTLINE(readability-make-member-function-const)
void MetricAlarm::evaluate(EventTime evaluation_time, std::span<const PeriodDatapoint> range,
                           pipeline::EmissionBuffer& out) {
  if (range.empty() || !emit_datapoints_) {
    return;
  }
  out.add(evaluation_time, pipeline::EmissionStream::kDatapoints, config_.alarm_name,
          format_datapoint_line(config_.alarm_name, evaluation_time, range.front()));
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
