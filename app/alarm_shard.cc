#include "app/alarm_shard.h"

#include <algorithm>

#include "detectors/alarm_payloads.h"
#include "operators/statistics.h"

namespace tw::app {

using pipeline::Duration;
using pipeline::EventTime;

std::optional<AlarmMetric> alarm_metric(const pipeline::MetricAlarmConfig& alarm,
                                        const pipeline::Settings& settings) {
  if (alarm.metrics.empty()) {
    if (!alarm.statistic) {
      return std::nullopt;
    }
    return AlarmMetric{alarm.namespace_name, alarm.metric_name, alarm.dimensions,
                       settings.account_id,  *alarm.statistic,  alarm.unit};
  }
  // A Metrics alarm whose returned series is one MetricStat reads that metric directly.
  const pipeline::MetricDataQuery* returned = nullptr;
  for (const pipeline::MetricDataQuery& q : alarm.metrics) {
    if (q.return_data) {
      if (returned != nullptr) {
        return std::nullopt;
      }
      returned = &q;
    }
  }
  if (returned == nullptr || !returned->metric_stat) {
    return std::nullopt;
  }
  const pipeline::MetricStat& stat = *returned->metric_stat;
  return AlarmMetric{stat.namespace_name,
                     stat.metric_name,
                     stat.dimensions,
                     returned->account_id.empty() ? settings.account_id : returned->account_id,
                     stat.stat,
                     stat.unit};
}

Duration evaluation_step(const pipeline::Config& config) {
  for (const pipeline::MetricAlarmConfig& alarm : config.metric_alarms) {
    if (alarm.high_resolution()) {
      return Duration::seconds(10);
    }
  }
  return Duration::minutes(1);
}

AlarmShardProcessor::AlarmShardProcessor(const pipeline::Config& config, int index, int count,
                                         pipeline::SeriesInterner& interner,
                                         AlarmShardOptions options)
    : settings_(&config.settings) {
  pipeline::SeriesKeyBuilder builder;
  for (const pipeline::MetricAlarmConfig& alarm_config : config.metric_alarms) {
    std::optional<AlarmMetric> metric = alarm_metric(alarm_config, config.settings);
    if (!metric) {
      continue;
    }
    const std::string key =
        builder.build_owned(metric->namespace_name, metric->metric_name, metric->account_id,
                            config.settings.region, metric->dimensions);
    const uint64_t hash = pipeline::hash_series_key(key);
    if (pipeline::shard_for_hash(hash, count) != index) {
      continue;
    }
    const std::optional<pipeline::SeriesId> id = interner.intern(key, hash, /*beyond_limit=*/true);
    TW_CHECK(id.has_value(), "interning beyond the limit always succeeds");
    detectors::MetricAlarm alarm(alarm_config, config.settings);
    alarm.set_emit_datapoints(options.datapoints);
    operators::WindowRequirements requirements;
    requirements.resolution =
        alarm_config.high_resolution() ? Duration::seconds(10) : Duration::minutes(1);
    // Buckets are needed for the newest period only (older periods are remembered by the
    // alarm); one extra cadence covers the tick being evaluated.
    requirements.retention = alarm.period() + alarm.cadence();
    requirements.percentiles = metric->statistic.kind == pipeline::Statistic::Kind::kPercentile;
    windows_.track(*id, requirements);
    AlarmRunSummary summary;
    summary.alarm_name = alarm_config.alarm_name;
    summary.statistic = metric->statistic.text;
    alarms_.push_back(
        OwnedAlarm{std::move(alarm), *id, std::move(*metric), std::nullopt, std::move(summary)});
  }
}

void AlarmShardProcessor::on_metric(pipeline::SeriesId series,
                                    const pipeline::MetricSample& sample) {
  windows_.add(series, sample);
}

void AlarmShardProcessor::on_cloudtrail(const pipeline::CloudTrailEvent& /*event*/) {
  // CloudTrail detectors (Insights, metric filters, rules) attach here.
  ++cloudtrail_events_;
}

void AlarmShardProcessor::on_watermark(const pipeline::WatermarkStep& step,
                                       pipeline::EmissionBuffer& out) {
  for (OwnedAlarm& owned : alarms_) {
    if (!owned.next_tick) {
      owned.next_tick = owned.alarm.first_tick_after(step.origin);
    }
    while (*owned.next_tick <= step.watermark) {
      evaluate(owned, *owned.next_tick, out);
      *owned.next_tick = *owned.next_tick + owned.alarm.cadence();
    }
  }
  windows_.evict(step.watermark);
}

void AlarmShardProcessor::evaluate(OwnedAlarm& owned, EventTime tick,
                                   pipeline::EmissionBuffer& out) {
  // Only the period ending at this tick is aggregated; the alarm recalls the older periods of
  // its evaluation range from earlier ticks (see MetricAlarm).
  const operators::SeriesWindow* window = windows_.find(owned.series);
  const Duration period = owned.alarm.period();
  const bool percentile = owned.metric.statistic.kind == pipeline::Statistic::Kind::kPercentile;
  const EventTime start = tick - period;
  operators::RangeAggregate aggregate;
  if (percentile) {
    scratch_sketch_.clear();
  }
  window->aggregate(start, tick, owned.metric.unit, aggregate,
                    percentile ? &scratch_sketch_ : nullptr);
  detectors::PeriodDatapoint newest{start, std::nullopt, aggregate.stats.sample_count};
  if (!aggregate.stats.empty() && (!percentile || aggregate.percentiles_available)) {
    newest.value = operators::compute_statistic(owned.metric.statistic, aggregate.stats,
                                                percentile ? &scratch_sketch_ : nullptr);
    newest.low_sample_count =
        operators::is_low_sample_count(owned.metric.statistic, aggregate.stats.sample_count);
  }
  if (std::optional<detectors::StateTransition> transition =
          owned.alarm.evaluate(tick, newest, out)) {
    ++owned.summary.transitions;
    out.add_state_change(
        tick, owned.alarm.config().alarm_name,
        detectors::state_change_event(*transition, owned.alarm.config(), *settings_),
        pipeline::StateChangeNote{transition->alarm_name,
                                  std::string(detectors::to_string(transition->current.value))});
  }
  AlarmRunSummary& summary = owned.summary;
  ++summary.evaluations;
  if (const std::optional<double> value = newest.value; value) {
    ++summary.periods_with_data;
    summary.minimum = std::min(summary.minimum.value_or(*value), *value);
    summary.maximum = std::max(summary.maximum.value_or(*value), *value);
    summary.last = value;
  }
}

std::vector<AlarmRunSummary> AlarmShardProcessor::summaries() const {
  std::vector<AlarmRunSummary> out;
  out.reserve(alarms_.size());
  for (const OwnedAlarm& owned : alarms_) {
    out.push_back(owned.summary);
    out.back().state = std::string(detectors::to_string(owned.alarm.state()));
  }
  return out;
}

}  // namespace tw::app
