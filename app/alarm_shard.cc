#include "app/alarm_shard.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "app/action_router.h"
#include "detectors/alarm_payloads.h"
#include "operators/statistics.h"

namespace tw::app {

using pipeline::Duration;
using pipeline::EventTime;

namespace {

AlarmMetric metric_of(const pipeline::MetricDataQuery& query, const pipeline::Settings& settings) {
  const pipeline::MetricStat& stat = *query.metric_stat;
  return AlarmMetric{
      stat.namespace_name, stat.metric_name,
      stat.dimensions,     query.account_id.empty() ? settings.account_id : query.account_id,
      stat.stat,           stat.unit};
}

// The one entry a Metrics alarm returns, if exactly one has ReturnData.
const pipeline::MetricDataQuery* returned_entry(const pipeline::MetricAlarmConfig& alarm) {
  const pipeline::MetricDataQuery* returned = nullptr;
  for (const pipeline::MetricDataQuery& q : alarm.metrics) {
    if (q.return_data) {
      if (returned != nullptr) {
        return nullptr;
      }
      returned = &q;
    }
  }
  return returned;
}

}  // namespace

std::optional<AlarmMetric> alarm_metric(const pipeline::MetricAlarmConfig& alarm,
                                        const pipeline::Settings& settings) {
  if (!alarm.threshold_metric_id.empty()) {
    return std::nullopt;  // Band alarms need the band expression: always metric math.
  }
  if (alarm.metrics.empty()) {
    if (!alarm.statistic) {
      return std::nullopt;
    }
    return AlarmMetric{alarm.namespace_name, alarm.metric_name, alarm.dimensions,
                       settings.account_id,  *alarm.statistic,  alarm.unit};
  }
  // A Metrics alarm whose returned series is one MetricStat reads that metric directly.
  const pipeline::MetricDataQuery* returned = returned_entry(alarm);
  if (returned == nullptr || !returned->metric_stat) {
    return std::nullopt;
  }
  return metric_of(*returned, settings);
}

std::vector<AlarmMetric> math_inputs(const pipeline::MetricAlarmConfig& alarm,
                                     const pipeline::Settings& settings) {
  std::vector<AlarmMetric> inputs;
  for (const pipeline::MetricDataQuery& q : alarm.metrics) {
    if (q.metric_stat) {
      inputs.push_back(metric_of(q, settings));
    }
  }
  return inputs;
}

Duration evaluation_step(const pipeline::Config& config) {
  for (const pipeline::MetricAlarmConfig& alarm : config.metric_alarms) {
    if (alarm.high_resolution()) {
      return Duration::seconds(10);
    }
  }
  return Duration::minutes(1);
}

AlarmShardProcessor::AlarmShardProcessor(std::shared_ptr<const pipeline::Config> config, int index,
                                         int count, pipeline::SeriesInterner& interner,
                                         AlarmShardOptions options)
    : config_(std::move(config)), evaluations_(options.evaluations) {
  const pipeline::Settings& settings = config_->settings;
  // Aliases of the shared configuration: no copy per alarm.
  const std::shared_ptr<const pipeline::Settings> shared_settings(config_, &settings);
  alarms_.reserve(config_->metric_alarms.size() / static_cast<size_t>(count) + 16);
  pipeline::SeriesKeyBuilder builder;
  for (const pipeline::MetricAlarmConfig& alarm_config : config_->metric_alarms) {
    std::shared_ptr<const pipeline::MetricAlarmConfig> shared(config_, &alarm_config);
    if (std::optional<AlarmMetric> metric = alarm_metric(alarm_config, settings)) {
      const std::string key =
          builder.build_owned(metric->namespace_name, metric->metric_name, metric->account_id,
                              settings.region, metric->dimensions);
      if (pipeline::shard_for_hash(pipeline::hash_series_key(key), count) != index) {
        continue;
      }
      const pipeline::Statistic* statistic = alarm_config.metrics.empty()
                                                 ? &*alarm_config.statistic
                                                 : &returned_entry(alarm_config)->metric_stat->stat;
      detectors::MetricAlarm alarm(std::move(shared), shared_settings);
      alarm.set_emit_datapoints(options.datapoints);
      const Input input = track(*metric, statistic, alarm_config, alarm, interner, -1);
      alarms_.push_back(OwnedAlarm{std::move(alarm), input, nullptr});
      continue;
    }
    // Metric math: owned by the shard the alarm's name hashes to.
    if (pipeline::shard_for_hash(pipeline::hash_series_key(alarm_config.alarm_name), count) !=
        index) {
      continue;
    }
    detectors::MetricMathCompileResult compiled =
        detectors::compile_metric_math(alarm_config.metrics, alarm_config.threshold_metric_id);
    if (!compiled.ok()) {
      continue;  // `validate` reports these; a run never starts with them.
    }
    detectors::MetricAlarm alarm(std::move(shared), shared_settings);
    alarm.set_emit_datapoints(options.datapoints);
    auto math = std::make_unique<MathState>(MathState{std::move(*compiled.math)});
    std::vector<Input>& inputs = math->inputs;
    const std::vector<AlarmMetric> metrics = math_inputs(alarm_config, settings);
    size_t metric_index = 0;
    for (const pipeline::MetricDataQuery& q : alarm_config.metrics) {
      if (!q.metric_stat) {
        continue;
      }
      inputs.push_back(track(metrics[metric_index++], &q.metric_stat->stat, alarm_config, alarm,
                             interner, index));
      math->histories.emplace_back(alarm.period(), alarm.cadence(), alarm.range_periods());
    }
    const auto range = static_cast<size_t>(alarm.range_periods());
    math->values.assign(inputs.size(), std::vector<std::optional<double>>(range));
    math->times.resize(range);
    alarms_.push_back(OwnedAlarm{std::move(alarm), Input{}, std::move(math)});
  }
}

AlarmShardProcessor::Input AlarmShardProcessor::track(const AlarmMetric& metric,
                                                      const pipeline::Statistic* statistic,
                                                      const pipeline::MetricAlarmConfig& alarm,
                                                      const detectors::MetricAlarm& state_machine,
                                                      pipeline::SeriesInterner& interner,
                                                      int reader_shard) {
  pipeline::SeriesKeyBuilder builder;
  const std::string key =
      builder.build_owned(metric.namespace_name, metric.metric_name, metric.account_id,
                          config_->settings.region, metric.dimensions);
  const std::optional<pipeline::SeriesId> id =
      interner.intern(key, pipeline::hash_series_key(key), /*beyond_limit=*/true);
  TW_CHECK(id.has_value(), "interning beyond the limit always succeeds");
  if (reader_shard >= 0) {
    interner.add_reader(*id, reader_shard);
  }
  operators::WindowRequirements requirements;
  requirements.resolution = alarm.high_resolution() ? Duration::seconds(10) : Duration::minutes(1);
  // Buckets are needed for the newest period only (older periods are remembered). Eviction runs
  // after the ticks up to the watermark W are evaluated, and every later tick T > W reads
  // [T − period, T), so buckets starting before W − period are never read again.
  requirements.retention = state_machine.period();
  requirements.percentiles = statistic->kind == pipeline::Statistic::Kind::kPercentile;
  windows_.track(*id, requirements);
  return Input{*id, statistic, metric.unit};
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
  uint64_t evaluations = 0;
  for (OwnedAlarm& owned : alarms_) {
    if (owned.next_tick == EventTime::min()) {
      owned.next_tick = owned.alarm.first_tick_after(step.origin);
    }
    while (owned.next_tick <= step.watermark) {
      evaluate(owned, owned.next_tick, out);
      owned.next_tick = owned.next_tick + owned.alarm.cadence();
      ++evaluations;
    }
  }
  windows_.evict(step.watermark);
  if (evaluations_ != nullptr) {
    evaluations_->fetch_add(evaluations, std::memory_order_relaxed);
  }
}

detectors::PeriodDatapoint AlarmShardProcessor::aggregate(const Input& input, EventTime tick,
                                                          Duration period) {
  const operators::SeriesWindow* window = windows_.find(input.series);
  const bool percentile = input.statistic->kind == pipeline::Statistic::Kind::kPercentile;
  const EventTime start = tick - period;
  operators::RangeAggregate aggregate;
  if (percentile) {
    scratch_sketch_.clear();
  }
  window->aggregate(start, tick, input.unit, aggregate, percentile ? &scratch_sketch_ : nullptr);
  detectors::PeriodDatapoint datapoint{start, std::nullopt, aggregate.stats.sample_count};
  if (!aggregate.stats.empty() && (!percentile || aggregate.percentiles_available)) {
    datapoint.value = operators::compute_statistic(*input.statistic, aggregate.stats,
                                                   percentile ? &scratch_sketch_ : nullptr);
    datapoint.low_sample_count =
        operators::is_low_sample_count(*input.statistic, aggregate.stats.sample_count);
  }
  return datapoint;
}

void AlarmShardProcessor::evaluate(OwnedAlarm& owned, EventTime tick,
                                   pipeline::EmissionBuffer& out) {
  std::optional<detectors::StateTransition> transition;
  std::optional<double> value;
  if (owned.math) {
    transition = evaluate_math(owned, tick, out);
    value = owned.math->range.front().value;
  } else {
    // Only the period ending at this tick is aggregated; the alarm recalls the older periods of
    // its evaluation range from earlier ticks.
    const detectors::PeriodDatapoint newest = aggregate(owned.input, tick, owned.alarm.period());
    value = newest.value;
    transition = owned.alarm.evaluate(tick, newest, out);
  }
  const pipeline::MetricAlarmConfig& config = owned.alarm.config();
  if (transition) {
    ++owned.counters.transitions;
    std::string event = detectors::state_change_event(*transition, config, config_->settings);
    const std::vector<std::string>& actions = action_list(config, transition->current.value);
    std::optional<pipeline::ActionNotice> notice;
    if (config.actions_enabled && !actions.empty()) {
      notice = metric_alarm_notice(*transition, config, config_->settings, event, value);
    }
    out.add_state_change(
        tick, config.alarm_name, std::move(event),
        pipeline::StateChangeNote{transition->alarm_name,
                                  std::string(detectors::to_string(transition->current.value))});
    if (notice) {
      add_actions(actions, *notice, transition->current.timestamp, tick, 0,
                  /*only_repeating=*/false, config_->settings.actions, out);
    }
  } else if (config.actions_enabled && owned.alarm.has_transitioned()) {
    add_repeated_actions(owned, tick, value, out);
  }
  Counters& counters = owned.counters;
  ++counters.evaluations;
  if (value) {
    const auto v = static_cast<float>(*value);
    ++counters.periods_with_data;
    counters.minimum = counters.periods_with_data == 1 ? v : std::min(counters.minimum, v);
    counters.maximum = counters.periods_with_data == 1 ? v : std::max(counters.maximum, v);
    counters.last = v;
  }
}

void AlarmShardProcessor::add_repeated_actions(const OwnedAlarm& owned, EventTime tick,
                                               std::optional<double> value,
                                               pipeline::EmissionBuffer& out) const {
  // Auto Scaling actions run again every whole minute after the transition, while the alarm
  // stays in the state; derived from the state's entry time, so nothing extra is checkpointed.
  const EventTime entered = owned.alarm.state_timestamp();
  const int64_t since = (tick - entered).millis();
  constexpr int64_t kMinute = 60'000;
  if (since <= 0 || since % kMinute != 0) {
    return;
  }
  const pipeline::MetricAlarmConfig& config = owned.alarm.config();
  const std::vector<std::string>& actions = action_list(config, owned.alarm.state());
  const pipeline::ActionsConfig& targets = config_->settings.actions;
  if (std::none_of(actions.begin(), actions.end(),
                   [&](const std::string& a) { return repeats_every_minute(a, targets); })) {
    return;
  }
  detectors::StateTransition current{
      config.alarm_name, owned.alarm.arn(), false, {}, owned.alarm.state_record()};
  pipeline::ActionNotice notice =
      metric_alarm_notice(current, config, config_->settings, std::string(), value);
  // A repeat is not a transition: the state it left is not known here.
  notice.old_state.clear();
  add_actions(actions, notice, entered, tick, static_cast<uint32_t>(since / kMinute),
              /*only_repeating=*/true, targets, out);
}

std::optional<detectors::StateTransition> AlarmShardProcessor::evaluate_math(
    OwnedAlarm& owned, EventTime tick, pipeline::EmissionBuffer& out) {
  MathState& m = *owned.math;
  const Duration period = owned.alarm.period();
  const size_t range = m.times.size();
  // Times oldest first: the range's periods end at tick − (range − 1 − i) · period.
  for (size_t i = 0; i < range; ++i) {
    m.times[i] = tick - period * static_cast<int64_t>(range - i);
  }
  for (size_t k = 0; k < m.inputs.size(); ++k) {
    m.histories[k].remember(tick, aggregate(m.inputs[k], tick, period));
    m.histories[k].assemble(tick, m.scratch);  // Newest first.
    for (size_t i = 0; i < range; ++i) {
      m.values[k][i] = m.scratch[range - 1 - i].value;
    }
  }
  const detectors::MathInput input{static_cast<int>(period.millis() / 1000), m.times, m.values};
  m.range.assign(range, detectors::PeriodDatapoint{});
  const bool evaluated = m.math.evaluate(input, no_bands_, m.result).is_ok();
  for (size_t j = 0; j < range; ++j) {
    // Newest first for the alarm.
    const size_t i = range - 1 - j;
    detectors::PeriodDatapoint& d = m.range[j];
    d.start = m.times[i];
    if (evaluated) {
      d.value = m.result.values[i];
      if (!m.result.band_upper.empty()) {
        d.upper = m.result.band_upper[i];
        d.lower = m.result.band_lower[i];
      }
    }
  }
  return owned.alarm.evaluate_range(tick, m.range, out);
}

namespace {

// Whether two alarm definitions are the same, wherever they sit in their files.
bool same_definition(const pipeline::MetricAlarmConfig& a, const pipeline::MetricAlarmConfig& b) {
  pipeline::MetricAlarmConfig a_here = a;
  a_here.source_pointer = b.source_pointer;
  return a_here == b;
}

}  // namespace

void AlarmShardProcessor::take_over(pipeline::ShardProcessor& previous) {
  if (auto* alarms = dynamic_cast<AlarmShardProcessor*>(&previous)) {
    adopt_state(*alarms);
  }
}

void AlarmShardProcessor::adopt_state(AlarmShardProcessor& previous) {
  windows_.take_buckets(previous.windows_);
  std::unordered_map<std::string_view, const OwnedAlarm*> before;
  for (const OwnedAlarm& owned : previous.alarms_) {
    before.emplace(owned.alarm.config().alarm_name, &owned);
  }
  for (OwnedAlarm& owned : alarms_) {
    const auto it = before.find(owned.alarm.config().alarm_name);
    if (it == before.end() || !same_definition(it->second->alarm.config(), owned.alarm.config()) ||
        (it->second->math == nullptr) != (owned.math == nullptr)) {
      continue;
    }
    const OwnedAlarm& old = *it->second;
    owned.alarm.adopt_state(old.alarm);
    owned.next_tick = old.next_tick;
    owned.counters = old.counters;
    if (owned.math) {
      for (size_t k = 0; k < owned.math->histories.size(); ++k) {
        if (owned.math->histories[k].same_shape(old.math->histories[k])) {
          owned.math->histories[k] = old.math->histories[k];
        }
      }
    }
  }
}

void AlarmShardProcessor::save_state(const pipeline::SeriesInterner& interner,
                                     pipeline::StateWriter& out) const {
  pipeline::StateWriter blob;
  for (const OwnedAlarm& owned : alarms_) {
    blob.clear();
    blob.u64(owned.alarm.config().definition_hash);
    blob.boolean(owned.math != nullptr);
    blob.time(owned.next_tick);
    const Counters& c = owned.counters;
    blob.u32(c.evaluations);
    blob.u32(c.periods_with_data);
    blob.u32(c.transitions);
    blob.f64(c.minimum);
    blob.f64(c.maximum);
    blob.f64(c.last);
    owned.alarm.save(blob);
    if (owned.math) {
      blob.u32(static_cast<uint32_t>(owned.math->histories.size()));
      for (const detectors::PeriodHistory& history : owned.math->histories) {
        history.save(blob);
      }
    }
    out.entry('A', owned.alarm.config().alarm_name, blob.bytes());
  }
  windows_.for_each([&](pipeline::SeriesId id, const operators::SeriesWindow& window) {
    blob.clear();
    window.save(blob);
    out.entry('W', interner.key(id), blob.bytes());
  });
}

void AlarmShardProcessor::load_state(const pipeline::SeriesInterner& interner,
                                     const pipeline::StateEntries& entries) {
  restored_alarms_ = 0;
  for (OwnedAlarm& owned : alarms_) {
    const std::optional<std::string_view> blob = entries.find('A', owned.alarm.config().alarm_name);
    if (!blob) {
      continue;
    }
    pipeline::StateReader in(*blob);
    const uint64_t hash = in.u64();
    const bool math = in.boolean();
    if (hash != owned.alarm.config().definition_hash || math != (owned.math != nullptr)) {
      continue;  // Another definition: starts as a new alarm, as after a reload.
    }
    const EventTime next_tick = in.time();
    Counters c;
    c.evaluations = in.u32();
    c.periods_with_data = in.u32();
    c.transitions = in.u32();
    c.minimum = static_cast<float>(in.f64());
    c.maximum = static_cast<float>(in.f64());
    c.last = static_cast<float>(in.f64());
    detectors::MetricAlarm alarm = owned.alarm;
    if (!in.ok() || !alarm.load(in)) {
      continue;
    }
    std::vector<detectors::PeriodHistory> histories;
    if (owned.math) {
      histories = owned.math->histories;
      const uint32_t n = in.u32();
      if (n != histories.size()) {
        continue;
      }
      bool loaded = true;
      for (detectors::PeriodHistory& history : histories) {
        loaded = loaded && history.load(in);
      }
      if (!loaded) {
        continue;
      }
    }
    if (!in.ok() || !in.at_end()) {
      continue;
    }
    owned.alarm = std::move(alarm);
    owned.next_tick = next_tick;
    owned.counters = c;
    if (owned.math) {
      owned.math->histories = std::move(histories);
    }
    ++restored_alarms_;
  }
  windows_.for_each([&](pipeline::SeriesId id, operators::SeriesWindow& window) {
    // Shards that read one series each checkpointed their window of it; they hold the same
    // buckets but for eviction, so the fullest one of this resolution serves.
    std::optional<operators::SeriesWindow> best;
    for (const std::string_view blob : entries.find_all('W', interner.key(id))) {
      operators::SeriesWindow candidate(window.requirements());
      pipeline::StateReader in(blob);
      if (candidate.load(in) && (!best || candidate.bucket_count() > best->bucket_count())) {
        best = std::move(candidate);
      }
    }
    if (best) {
      window.take_buckets(*best);
    }
  });
}

std::vector<AlarmRunSummary> AlarmShardProcessor::summaries() const {
  std::vector<AlarmRunSummary> out;
  out.reserve(alarms_.size());
  for (const OwnedAlarm& owned : alarms_) {
    const Counters& c = owned.counters;
    AlarmRunSummary s;
    s.alarm_name = owned.alarm.config().alarm_name;
    s.statistic = owned.math ? "math" : owned.input.statistic->text;
    s.evaluations = c.evaluations;
    s.periods_with_data = c.periods_with_data;
    if (c.periods_with_data > 0) {
      s.minimum = c.minimum;
      s.maximum = c.maximum;
      s.last = c.last;
    }
    s.transitions = c.transitions;
    s.state = std::string(detectors::to_string(owned.alarm.state()));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace tw::app
