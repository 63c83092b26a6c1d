#include "detectors/metric_alarm.h"

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

#include "detectors/alarm_reason.h"

namespace tw::detectors {

using pipeline::Duration;
using pipeline::EventTime;

MetricAlarm::MetricAlarm(const pipeline::MetricAlarmConfig& config,
                         const pipeline::Settings& settings)
    : config_(config),
      arn_(pipeline::alarm_arn(settings, config.alarm_name)),
      range_periods_(config.evaluation_periods + settings.extra_evaluation_periods) {
  state_.value = AlarmState::kInsufficientData;
  state_.reason = std::string(kInitialReason);
  // Range × Period / cadence ticks back to the oldest period of the range, plus the current one.
  ticks_per_period_ = static_cast<size_t>(period().millis() / cadence().millis());
  history_.resize(ticks_per_period_ * static_cast<size_t>(range_periods_) + 1);
  range_.reserve(static_cast<size_t>(range_periods_));
  verdicts_.reserve(static_cast<size_t>(range_periods_));
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

void MetricAlarm::adopt_state(const MetricAlarm& previous) {
  state_ = previous.state_;
  started_ = previous.started_;
  if (previous.history_.size() == history_.size()) {
    history_ = previous.history_;
    newest_slot_ = previous.newest_slot_;
  }
}

// Slots follow the ticks: the slot of a tick is its number (time / cadence) modulo the ring size;
// the periods of the range are whole numbers of ticks back.
void MetricAlarm::remember(EventTime tick, const PeriodDatapoint& datapoint) {
  newest_slot_ = static_cast<size_t>(tick.millis() / cadence().millis()) % history_.size();
  history_[newest_slot_] = Remembered{tick, datapoint};
}

void MetricAlarm::assemble_range(EventTime tick) {
  range_.clear();
  const size_t size = history_.size();
  for (int k = 0; k < range_periods_; ++k) {
    const EventTime end = tick - period() * k;
    const size_t back = (static_cast<size_t>(k) * ticks_per_period_) % size;
    const Remembered& slot = history_[(newest_slot_ + size - back) % size];
    if (slot.tick == end) {
      range_.push_back(slot.datapoint);
    } else {
      // Not evaluated: before the run's first tick, where no data exists.
      range_.push_back(PeriodDatapoint{end - period(), std::nullopt, 0});
    }
  }
}

Verdict MetricAlarm::verdict(const PeriodDatapoint& d) const {
  if (!d.value) {
    return Verdict::kMissing;
  }
  const double v = *d.value;
  const double t = config_.threshold.value_or(0);
  bool breaching = false;
  switch (config_.comparison_operator) {
    case pipeline::ComparisonOperator::kGreaterThanOrEqualToThreshold:
      breaching = v >= t;
      break;
    case pipeline::ComparisonOperator::kGreaterThanThreshold:
      breaching = v > t;
      break;
    case pipeline::ComparisonOperator::kLessThanThreshold:
      breaching = v < t;
      break;
    case pipeline::ComparisonOperator::kLessThanOrEqualToThreshold:
      breaching = v <= t;
      break;
    case pipeline::ComparisonOperator::kLessThanLowerOrGreaterThanUpperThreshold:
      if (!d.lower || !d.upper) {
        return Verdict::kMissing;  // No band (model not ready): nothing to compare with.
      }
      breaching = v < *d.lower || v > *d.upper;
      break;
    case pipeline::ComparisonOperator::kLessThanLowerThreshold:
      if (!d.lower) {
        return Verdict::kMissing;
      }
      breaching = v < *d.lower;
      break;
    case pipeline::ComparisonOperator::kGreaterThanUpperThreshold:
      if (!d.upper) {
        return Verdict::kMissing;
      }
      breaching = v > *d.upper;
      break;
  }
  return breaching ? Verdict::kBreaching : Verdict::kNotBreaching;
}

// CloudWatch: "Alarms on AWS/DynamoDB metrics always behave as ignore."
pipeline::TreatMissingData MetricAlarm::effective_treatment() const {
  bool dynamodb = config_.namespace_name == "AWS/DynamoDB";
  if (!config_.metrics.empty()) {
    dynamodb = true;
    bool any = false;
    for (const pipeline::MetricDataQuery& q : config_.metrics) {
      if (q.metric_stat) {
        any = true;
        dynamodb = dynamodb && q.metric_stat->namespace_name == "AWS/DynamoDB";
      }
    }
    dynamodb = dynamodb && any;
  }
  return dynamodb ? pipeline::TreatMissingData::kIgnore : config_.treat_missing_data;
}

std::optional<StateTransition> MetricAlarm::evaluate(EventTime evaluation_time,
                                                     const PeriodDatapoint& newest,
                                                     pipeline::EmissionBuffer& out) {
  if (!started_) {
    // The alarm exists from its first evaluation on (the run's start in a replay).
    started_ = true;
    state_.timestamp = evaluation_time;
  }
  remember(evaluation_time, newest);
  assemble_range(evaluation_time);
  if (emit_datapoints_) {
    out.add(evaluation_time, pipeline::EmissionStream::kDatapoints, config_.alarm_name,
            format_datapoint_line(config_.alarm_name, evaluation_time, newest));
  }
  // EvaluateLowSampleCountPercentile=ignore: "the alarm state does not change during periods
  // with too few data samples to be statistically significant".
  if (newest.low_sample_count && newest.value &&
      config_.evaluate_low_sample_count_percentile == pipeline::LowSampleCountPercentile::kIgnore) {
    return std::nullopt;
  }
  verdicts_.clear();
  for (const PeriodDatapoint& d : range_) {
    verdicts_.push_back(verdict(d));
  }
  const Decision decision = decide(verdicts_, config_.evaluation_periods,
                                   config_.effective_datapoints_to_alarm(), effective_treatment());
  if (decision.kind == Decision::Kind::kRetain || decision.state == state_.value) {
    return std::nullopt;
  }
  const Reason reason = build_reason(ReasonInput{&config_, evaluation_time, range_, verdicts_,
                                                 &decision, state_.value, decision.state});
  StateTransition transition;
  transition.alarm_name = config_.alarm_name;
  transition.alarm_arn = arn_;
  transition.previous = state_;
  state_ = StateRecord{decision.state, reason.text, reason.data, evaluation_time};
  transition.current = state_;
  return transition;
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
  if (datapoint.lower || datapoint.upper) {
    line += R"(,"lower":)";
    line += datapoint.lower ? format_number(*datapoint.lower) : "null";
    line += R"(,"upper":)";
    line += datapoint.upper ? format_number(*datapoint.upper) : "null";
  }
  line += '}';
  return line;
}

}  // namespace tw::detectors
