#include "detectors/metric_alarm.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include "detectors/alarm_reason.h"
#include "detectors/json_text.h"

namespace tw::detectors {

using pipeline::Duration;
using pipeline::EventTime;

namespace {

bool has_band_operator(const pipeline::MetricAlarmConfig& config) {
  return pipeline::is_band_operator(config.comparison_operator);
}

Duration cadence_of(const pipeline::MetricAlarmConfig& config) {
  return config.high_resolution() ? Duration::seconds(10) : Duration::minutes(1);
}

// Per-thread buffers for one evaluation: alarms keep none of their own (see "Memory").
struct Scratch {
  std::vector<PeriodDatapoint> range;
  std::vector<Verdict> verdicts;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

MetricAlarm::MetricAlarm(std::shared_ptr<const pipeline::MetricAlarmConfig> config,
                         std::shared_ptr<const pipeline::Settings> settings)
    : config_(std::move(config)),
      settings_(std::move(settings)),
      history_(Duration::seconds(config_->period), cadence_of(*config_),
               config_->evaluation_periods + settings_->extra_evaluation_periods,
               has_band_operator(*config_)) {
}

MetricAlarm::MetricAlarm(const pipeline::MetricAlarmConfig& config,
                         const pipeline::Settings& settings)
    : MetricAlarm(std::make_shared<const pipeline::MetricAlarmConfig>(config),
                  std::make_shared<const pipeline::Settings>(settings)) {
}

std::string MetricAlarm::arn() const {
  return pipeline::alarm_arn(*settings_, config_->alarm_name);
}

Duration MetricAlarm::period() const {
  return Duration::seconds(config_->period);
}

Duration MetricAlarm::cadence() const {
  return cadence_of(*config_);
}

EventTime MetricAlarm::first_tick_after(EventTime origin) const {
  return origin.floor(cadence()) + cadence();
}

void MetricAlarm::adopt_state(const MetricAlarm& previous) {
  state_ = previous.state_;
  started_ = previous.started_;
  state_timestamp_ = previous.state_timestamp_;
  last_data_start_ = previous.last_data_start_;
  decided_by_ = previous.decided_by_;
  if (previous.history_.same_shape(history_)) {
    history_ = previous.history_;
  }
}

void MetricAlarm::save(pipeline::StateWriter& out) const {
  out.u8(static_cast<uint8_t>(state_));
  out.boolean(started_);
  out.time(state_timestamp_);
  out.time(last_data_start_);
  out.u8(static_cast<uint8_t>(decided_by_.kind));
  out.u8(static_cast<uint8_t>(decided_by_.from));
  out.u32(decided_by_.recover_minimum);
  out.optional_f64(decided_by_.threshold_used);
  out.time(decided_by_.last_data_start);
  out.u32(static_cast<uint32_t>(decided_by_.range.size()));
  for (const double v : decided_by_.range) {
    out.f64(v);
  }
  history_.save(out);
}

bool MetricAlarm::load(pipeline::StateReader& in) {
  const auto read_state = [&in]() {
    const uint8_t v = in.u8();
    if (v > static_cast<uint8_t>(AlarmState::kInsufficientData)) {
      in.fail("an alarm state is " + std::to_string(v));
    }
    return static_cast<AlarmState>(v);
  };
  const AlarmState state = read_state();
  const bool started = in.boolean();
  const EventTime state_timestamp = in.time();
  const EventTime last_data_start = in.time();
  DecidedBy decided;
  const uint8_t kind = in.u8();
  if (kind > static_cast<uint8_t>(DecidedBy::Kind::kMissingSeries)) {
    in.fail("a decision kind is " + std::to_string(kind));
  }
  decided.kind = static_cast<DecidedBy::Kind>(kind);
  decided.from = read_state();
  decided.recover_minimum = in.u32();
  decided.threshold_used = in.optional_f64();
  decided.last_data_start = in.time();
  const uint32_t n = in.count(sizeof(double));
  decided.range.resize(n);
  for (double& v : decided.range) {
    v = in.f64();
  }
  PeriodHistory history = history_;
  if (!in.ok() || !history.load(in)) {
    return false;
  }
  state_ = state;
  started_ = started;
  state_timestamp_ = state_timestamp;
  last_data_start_ = last_data_start;
  decided_by_ = std::move(decided);
  history_ = std::move(history);
  return true;
}

Verdict MetricAlarm::verdict(const PeriodDatapoint& d, double threshold) const {
  if (!d.value) {
    return Verdict::kMissing;
  }
  const double v = *d.value;
  const double t = threshold;
  bool breaching = false;
  switch (config_->comparison_operator) {
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
  bool dynamodb = config_->namespace_name == "AWS/DynamoDB";
  if (!config_->metrics.empty()) {
    dynamodb = true;
    bool any = false;
    for (const pipeline::MetricDataQuery& q : config_->metrics) {
      if (q.metric_stat) {
        any = true;
        dynamodb = dynamodb && q.metric_stat->namespace_name == "AWS/DynamoDB";
      }
    }
    dynamodb = dynamodb && any;
  }
  return dynamodb ? pipeline::TreatMissingData::kIgnore : config_->treat_missing_data;
}

std::optional<StateTransition> MetricAlarm::evaluate(EventTime evaluation_time,
                                                     const PeriodDatapoint& newest,
                                                     pipeline::EmissionBuffer& out) {
  history_.remember(evaluation_time, newest);
  std::vector<PeriodDatapoint>& range = scratch().range;
  history_.assemble(evaluation_time, range);
  return decide_and_record(evaluation_time, range, out);
}

std::optional<StateTransition> MetricAlarm::evaluate_range(EventTime evaluation_time,
                                                           std::span<const PeriodDatapoint> range,
                                                           pipeline::EmissionBuffer& out) {
  std::vector<PeriodDatapoint>& kept = scratch().range;
  kept.assign(range.begin(), range.end());
  kept.resize(static_cast<size_t>(range_periods()),
              PeriodDatapoint{EventTime::min(), std::nullopt, 0});
  return decide_and_record(evaluation_time, kept, out);
}

std::optional<StateTransition> MetricAlarm::decide_and_record(
    EventTime evaluation_time, std::span<const PeriodDatapoint> range,
    pipeline::EmissionBuffer& out) {
  const pipeline::MetricAlarmConfig& config = *config_;
  const PeriodDatapoint& newest = range.front();
  if (!started_) {
    // The alarm exists from its first evaluation on (the run's start in a replay).
    started_ = true;
    state_timestamp_ = evaluation_time;
  }
  if (emit_datapoints_) {
    out.add(evaluation_time, pipeline::EmissionStream::kDatapoints, config.alarm_name,
            format_datapoint_line(config.alarm_name, evaluation_time, newest,
                                  has_band_operator(config)));
  }
  if (newest.value) {
    last_data_start_ = newest.start;
  }
  if (series_missing(evaluation_time)) {
    const AlarmState target =
        parse_alarm_state(config.extensions.report_missing_as).value_or(AlarmState::kAlarm);
    if (state_ == target) {
      return std::nullopt;
    }
    DecidedBy how;
    how.kind = DecidedBy::Kind::kMissingSeries;
    how.last_data_start = last_data_start_;
    return transition_to(target, std::move(how), evaluation_time);
  }
  // EvaluateLowSampleCountPercentile=ignore: "the alarm state does not change during periods
  // with too few data samples to be statistically significant".
  if (newest.low_sample_count && newest.value &&
      config.evaluate_low_sample_count_percentile == pipeline::LowSampleCountPercentile::kIgnore) {
    return std::nullopt;
  }
  // Anti-flapping: in ALARM, the recovery threshold (if any) judges the datapoints.
  const pipeline::AlarmExtensions& ext = config.extensions;
  const bool recovering = state_ == AlarmState::kAlarm;
  const std::optional<double> threshold_used =
      recovering && ext.recovery_threshold ? ext.recovery_threshold : std::nullopt;
  const double threshold = threshold_used.value_or(config.threshold.value_or(0));
  std::vector<Verdict>& verdicts = scratch().verdicts;
  verdicts.clear();
  for (const PeriodDatapoint& d : range) {
    verdicts.push_back(verdict(d, threshold));
  }
  const Decision decision = decide(verdicts, config.evaluation_periods,
                                   config.effective_datapoints_to_alarm(), effective_treatment());
  if (decision.kind == Decision::Kind::kRetain || decision.state == state_) {
    return std::nullopt;
  }
  uint32_t recover_minimum = 0;
  if (recovering && decision.state == AlarmState::kOk && ext.datapoints_to_recover) {
    size_t good = decision.filled_as == Verdict::kNotBreaching ? decision.filled : 0;
    for (const size_t slot : decision.evaluated) {
      good += verdicts[slot] == Verdict::kNotBreaching ? 1U : 0U;
    }
    recover_minimum = static_cast<uint32_t>(*ext.datapoints_to_recover);
    if (good < recover_minimum) {
      return std::nullopt;  // Not enough good datapoints yet: stay in ALARM.
    }
  }
  DecidedBy how;
  how.kind = DecidedBy::Kind::kEvaluation;
  how.recover_minimum = recover_minimum;
  how.threshold_used = threshold_used;
  const bool band = has_band_operator(config);
  constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  how.range.reserve(range.size() * (band ? 4 : 2));
  for (const PeriodDatapoint& d : range) {
    how.range.push_back(d.value.value_or(kNone));
    how.range.push_back(d.sample_count);
    if (band) {
      how.range.push_back(d.lower.value_or(kNone));
      how.range.push_back(d.upper.value_or(kNone));
    }
  }
  return transition_to(decision.state, std::move(how), evaluation_time);
}

// Missing-series extension: K newest periods without data after the series has reported.
bool MetricAlarm::series_missing(EventTime evaluation_time) const {
  const pipeline::AlarmExtensions& ext = config_->extensions;
  if (!ext.report_missing_after_periods || last_data_start_ == EventTime::min()) {
    return false;
  }
  const EventTime newest_start = evaluation_time - period();
  return (newest_start - last_data_start_).millis() / period().millis() >=
         *ext.report_missing_after_periods;
}

StateTransition MetricAlarm::transition_to(AlarmState next, DecidedBy how, EventTime at) {
  StateTransition transition;
  transition.alarm_name = config_->alarm_name;
  transition.alarm_arn = arn();
  transition.previous = state_record();
  how.from = state_;
  state_ = next;
  state_timestamp_ = at;
  decided_by_ = std::move(how);
  transition.current = state_record();
  return transition;
}

StateRecord MetricAlarm::state_record() const {
  return record_of(state_, decided_by_, state_timestamp_);
}

StateRecord MetricAlarm::record_of(AlarmState state, const DecidedBy& how, EventTime at) const {
  StateRecord record{state, {}, {}, at};
  switch (how.kind) {
    case DecidedBy::Kind::kCreation:
      record.reason = std::string(kInitialReason);
      break;
    case DecidedBy::Kind::kMissingSeries: {
      const int k = *config_->extensions.report_missing_after_periods;
      const int64_t periods_missing =
          (at - period() - how.last_data_start).millis() / period().millis();
      record.reason = "Missing Data: no datapoints were received for " + std::to_string(k) +
                      (k == 1 ? " period" : " periods") + " since " +
                      pipeline::format_reason_timestamp(how.last_data_start + period()) + ".";
      record.reason_data = R"({"version":"1.0","queryDate":")" +
                           pipeline::format_cloudwatch_timestamp(at) + R"(","missingPeriods":)" +
                           std::to_string(periods_missing) + R"(,"lastDatapointTimestamp":")" +
                           pipeline::format_cloudwatch_timestamp(how.last_data_start) + R"("})";
      break;
    }
    case DecidedBy::Kind::kEvaluation: {
      // The decision is a pure function of the range: decide again, then word it.
      std::vector<PeriodDatapoint> range;
      std::vector<Verdict> verdicts;
      const double threshold = how.threshold_used.value_or(config_->threshold.value_or(0));
      const size_t stride = has_band_operator(*config_) ? 4 : 2;
      const auto present = [](double v) {
        return std::isnan(v) ? std::nullopt : std::optional<double>(v);
      };
      for (size_t k = 0; k * stride < how.range.size(); ++k) {
        const double* p = &how.range[k * stride];
        PeriodDatapoint d{at - period() * static_cast<int64_t>(k + 1), present(p[0]), p[1]};
        if (stride == 4) {
          d.lower = present(p[2]);
          d.upper = present(p[3]);
        }
        verdicts.push_back(verdict(d, threshold));
        range.push_back(d);
      }
      const Decision decision =
          decide(verdicts, config_->evaluation_periods, config_->effective_datapoints_to_alarm(),
                 effective_treatment());
      ReasonInput input{config_.get(), at, range, verdicts, &decision, how.from, state};
      input.threshold_used = how.threshold_used;
      input.recover_minimum = how.recover_minimum;
      Reason reason = build_reason(input);
      record.reason = std::move(reason.text);
      record.reason_data = std::move(reason.data);
      break;
    }
  }
  return record;
}

std::string format_number(double value) {
  std::array<char, 32> buf{};
  const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  return {buf.data(), result.ptr};
}

std::string format_datapoint_line(std::string_view alarm_name, EventTime evaluation_time,
                                  const PeriodDatapoint& datapoint, bool band) {
  std::string line = R"({"alarm":)";
  append_json_string(line, alarm_name);
  line += R"(,"evaluation_time":")";
  line += pipeline::format_iso8601_seconds(evaluation_time);
  line += R"(","period_start":")";
  line += pipeline::format_iso8601_seconds(datapoint.start);
  line += R"(","value":)";
  line += datapoint.value ? format_number(*datapoint.value) : "null";
  line += R"(,"sample_count":)";
  line += format_number(datapoint.sample_count);
  if (band || datapoint.lower || datapoint.upper) {
    line += R"(,"lower":)";
    line += datapoint.lower ? format_number(*datapoint.lower) : "null";
    line += R"(,"upper":)";
    line += datapoint.upper ? format_number(*datapoint.upper) : "null";
  }
  line += '}';
  return line;
}

}  // namespace tw::detectors
