#include "pipeline/runtime.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <thread>
#include <unordered_map>

#include "pipeline/blocking_queue.h"
#include "pipeline/metric_decoder.h"
#include "pipeline/status.h"

namespace tw::pipeline {
namespace {

// Records per batch handed to a shard thread: large enough that the queue's lock and the
// thread hand-off disappear in the per-record cost, small enough to keep shards busy.
constexpr size_t kBatchRecords = 4096;
// Batches in flight per shard before the coordinator waits (bounds memory).
constexpr size_t kQueueDepth = 8;

struct RoutedSample {
  SeriesId series;
  EventTime time;
  Unit unit = Unit::kNone;
  bool high_resolution = false;
  StatisticSet stats;
  uint32_t first_value = 0;
  uint32_t value_count = 0;
  uint32_t first_quantile = 0;
  uint32_t quantile_count = 0;
};

struct ShardBatch {
  std::vector<RoutedSample> samples;
  std::vector<WeightedValue> values;
  std::vector<ReportedQuantile> quantiles;
  std::vector<CloudTrailEvent> events;
  bool has_step = false;
  WatermarkStep step;
  bool stop = false;
  /// Configuration reload: the shard's next processor, which takes over after this batch.
  std::unique_ptr<ShardProcessor> replacement;
  /// Checkpoint or restore: run on the shard's thread after this batch (Impl::run_on_shards).
  const std::function<void(ShardProcessor&, int)>* task = nullptr;

  void clear() {
    samples.clear();
    values.clear();
    quantiles.clear();
    events.clear();
    has_step = false;
    stop = false;
    replacement.reset();
    task = nullptr;
  }

  [[nodiscard]] size_t size() const { return samples.size() + events.size(); }
};

struct StepResult {
  WatermarkStep step;
  std::vector<Emission> emissions;
};

// A datapoint or event whose event time is far from its predecessor's, waiting for its
// successor to tell whether it is an outlier (see Impl::sequence()).
struct HeldItem {
  bool active = false;
  EventTime time;
  bool has_predecessor = false;
  InputFormat format = InputFormat::kMetricStream;
  std::string record;  // The whole record (metric datums are decoded again on release).
  std::string source;
  uint64_t position = 0;
  size_t datum_index = 0;
  std::optional<CloudTrailEvent> event;
};

struct InputState {
  InputStats stats;
  std::optional<Duration> lateness;
  bool has_previous = false;  // Whether a datapoint or event has been sequenced.
  EventTime previous_time;    // The event time of the last one, outlier or not.
  HeldItem held;
  std::string account_id;
  std::string region;
  bool finished = false;
  bool idle = false;  // Live mode: delivered nothing for a while; does not hold the watermark.
};

std::string describe_time(EventTime t) {
  return format_iso8601_millis(t);
}

}  // namespace

struct Runtime::Impl {
  // One shard: its processor and, in threaded mode, its thread and queues.
  struct Shard {
    std::unique_ptr<ShardProcessor> processor;
    EmissionBuffer buffer;
    std::thread thread;
    BlockingQueue<std::unique_ptr<ShardBatch>> inbox{kQueueDepth};
    BlockingQueue<std::unique_ptr<ShardBatch>> spare{0};
    BlockingQueue<StepResult> results{0};
    std::unique_ptr<ShardBatch> filling;
    BlockingQueue<int> task_done{0};
    int index = 0;

    // Not const: it feeds the batch to the shard's processor, which it owns (through a pointer).
    // NOLINTNEXTLINE(readability-make-member-function-const)
    void apply(const ShardBatch& batch) {
      for (const RoutedSample& s : batch.samples) {
        processor->on_metric(
            s.series,
            MetricSample{
                s.time, s.unit, s.high_resolution, s.stats,
                std::span<const WeightedValue>(batch.values).subspan(s.first_value, s.value_count),
                std::span<const ReportedQuantile>(batch.quantiles)
                    .subspan(s.first_quantile, s.quantile_count)});
      }
      for (const CloudTrailEvent& e : batch.events) {
        processor->on_cloudtrail(e);
      }
    }

    void run() {
      while (true) {
        std::unique_ptr<ShardBatch> batch = inbox.pop();
        if (batch->stop) {
          return;
        }
        apply(*batch);
        if (batch->has_step) {
          buffer.clear();
          processor->on_watermark(batch->step, buffer);
          results.push(StepResult{batch->step, std::move(buffer.items())});
        }
        if (batch->replacement) {
          batch->replacement->take_over(*processor);
          processor = std::move(batch->replacement);
        }
        if (batch->task != nullptr) {
          (*batch->task)(*processor, index);
          task_done.push(1);
        }
        batch->clear();
        spare.push(std::move(batch));
      }
    }
  };

  Impl(const Settings& s, RuntimeOptions o, RuntimeOutput& out)
      : settings(s),
        options(o),
        output(out),
        interner(static_cast<size_t>(std::max<int64_t>(1, s.max_series))) {}

  [[nodiscard]] bool threaded() const { return shards.size() > 1; }

  void drop(InputState& input, DropReason reason, std::string_view detail, std::string_view record,
            const RecordOrigin& origin) {
    input.stats.dropped_by_reason.add(reason);
    ++input.stats.dropped;
    output.write_dead_letter(
        DeadLetter{input.stats.name, origin.source, origin.position, reason, detail, record});
  }

  // The checks every accepted datapoint or event passes, in order: a sane forward jump, then
  // lateness. Returns true when accepted (and advances the input's newest time).
  // Lateness: the one check between sequencing and routing. Returns true when accepted (and
  // advances the input's newest time and the run's origin).
  bool admit(InputState& input, EventTime t, std::string_view record, const RecordOrigin& origin) {
    // Alarms were evaluated up to the global watermark: nothing older may enter a window. Only an
    // input that was idle (and so did not hold the watermark back) can deliver such a record.
    if (t < watermark && watermark != EventTime::min()) {
      drop(input, DropReason::kLate,
           "event time " + describe_time(t) + " is older than the global watermark " +
               describe_time(watermark) +
               ", up to which alarms were already evaluated (the input was idle)",
           record, origin);
      return false;
    }
    if (t < input.stats.watermark) {
      drop(input, DropReason::kLate,
           "event time " + describe_time(t) + " is older than the input's watermark " +
               describe_time(input.stats.watermark) + " (newest " +
               describe_time(input.stats.newest) + " minus allowed lateness " +
               std::to_string(input.lateness.value_or(Duration()).seconds()) + " s)",
           record, origin);
      return false;
    }
    if (t > input.stats.newest) {
      input.stats.newest = t;
    }
    origin_time = std::min(origin_time, t);
    return true;
  }

  // Timestamp outliers. One corrupt timestamp must neither drag an input's watermark years ahead
  // (making everything after it late) nor, as the first record of a file, become the reference
  // against which every good record looks wrong. So a datapoint (or event) is judged against its
  // neighbours in its input: it is an outlier when its event time is more than
  // max_time_jump_seconds from both the one before and the one after it — a lone spike.
  // A gap in the data (far from the one before, close to the one after) is kept, and so is the
  // only datapoint of an input. Deciding needs the successor, so a datapoint far from its
  // predecessor is held until the next one arrives (or the input ends); all others pass at once.
  //
  // Returns true when the item may proceed now; false when it was held (the caller stops).
  // Before judging `t`, releases any held item, with `t` as its successor.
  bool sequence(InputState& input, EventTime t, InputFormat format, std::string_view record,
                const RecordOrigin& origin, size_t datum_index) {
    release_held(input, t);
    const Duration jump = settings.max_time_jump;
    const bool far = !input.has_previous || distance(t, input.previous_time) > jump;
    const bool had_predecessor = input.has_previous;
    input.has_previous = true;
    input.previous_time = t;
    if (jump <= Duration() || !far) {
      return true;
    }
    HeldItem& held = input.held;
    held.active = true;
    held.time = t;
    held.has_predecessor = had_predecessor;
    held.format = format;
    held.record.assign(record);
    held.source.assign(origin.source);
    held.position = origin.position;
    held.datum_index = datum_index;
    held.event.reset();
    return false;
  }

  static Duration distance(EventTime a, EventTime b) { return a > b ? a - b : b - a; }

  // Decides on the held item given its successor's time (nullopt: the input ended).
  void release_held(InputState& input, std::optional<EventTime> successor) {
    HeldItem& held = input.held;
    if (!held.active) {
      return;
    }
    held.active = false;
    const Duration jump = settings.max_time_jump;
    const bool outlier = successor ? distance(held.time, *successor) > jump : held.has_predecessor;
    const RecordOrigin origin{held.source, held.position};
    if (outlier) {
      std::string detail = "event time " + describe_time(held.time) +
                           " is more than max_time_jump_seconds (" +
                           std::to_string(jump.seconds()) + ") away from ";
      if (held.has_predecessor && successor) {
        detail += "both the datapoint before it and the one after it (" +
                  describe_time(*successor) + ") on this input";
      } else if (successor) {
        detail += "the datapoint after it (" + describe_time(*successor) +
                  "), and is the first of its input";
      } else {
        detail += "the datapoint before it, and is the last of its input";
      }
      drop(input, DropReason::kTimestampOutOfRange, detail,
           held.event ? std::string_view(held.event->raw) : std::string_view(held.record), origin);
      return;
    }
    if (held.event) {
      if (admit(input, held.time, held.event->raw, origin)) {
        route_event(input, std::move(*held.event));
      }
      return;
    }
    // Decode the held record again, with a decoder of its own so that the batch being iterated
    // by the caller stays intact.
    held_batch.clear();
    if (held_decoder.decode(held.format, held.record, held_batch) ||
        held.datum_index >= held_batch.datums.size()) {
      return;  // Cannot happen: it decoded before.
    }
    const MetricDatum& d = held_batch.datums[held.datum_index];
    if (admit(input, d.time, held.record, origin)) {
      route_metric(input, held_batch, d, held.record, origin);
    }
  }

  Shard& shard_for(uint64_t hash) {
    return *shards[static_cast<size_t>(shard_for_hash(hash, static_cast<int>(shards.size())))];
  }

  static ShardBatch& filling(Shard& shard) {
    if (!shard.filling) {
      auto spare = shard.spare.try_pop();
      shard.filling = spare ? std::move(*spare) : std::make_unique<ShardBatch>();
    }
    return *shard.filling;
  }

  void send(Shard& shard) {
    shard.inbox.push(std::move(shard.filling));
    shard.filling.reset();
    collect_results(false);
  }

  void route_metric(InputState& input, const MetricBatch& decoded, const MetricDatum& d,
                    std::string_view record, const RecordOrigin& origin) {
    dimension_scratch.clear();
    for (const DimensionRef& dim : decoded.dimensions_of(d)) {
      dimension_scratch.push_back(DimensionView{dim.name, dim.value});
    }
    const std::string_view account =
        !d.account_id.empty() ? d.account_id : std::string_view(input.account_id);
    const std::string_view region = !d.region.empty() ? d.region : std::string_view(input.region);
    const std::string_view key =
        key_builder.build(d.namespace_name, d.metric_name, account, region, dimension_scratch);
    const uint64_t hash = hash_series_key(key);
    const std::optional<SeriesId> id = interner.intern(key, hash);
    if (!id) {
      drop(input, DropReason::kSeriesLimit,
           "the series limit (max_series " + std::to_string(settings.max_series) +
               ") is reached; this datapoint starts a new series",
           record, origin);
      return;
    }
    ++input.stats.datapoints;
    const int owner = shard_for_hash(hash, static_cast<int>(shards.size()));
    deliver(*shards[static_cast<size_t>(owner)], *id, decoded, d);
    for (const int reader : interner.extra_readers(*id)) {
      if (reader != owner) {
        deliver(*shards[static_cast<size_t>(reader)], *id, decoded, d);
      }
    }
  }

  void deliver(Shard& shard, SeriesId id, const MetricBatch& decoded, const MetricDatum& d) {
    if (!threaded()) {
      shard.processor->on_metric(id, MetricSample{d.time, d.unit, d.high_resolution, d.stats,
                                                  decoded.values_of(d), decoded.quantiles_of(d)});
      return;
    }
    ShardBatch& b = filling(shard);
    const RoutedSample s{id,
                         d.time,
                         d.unit,
                         d.high_resolution,
                         d.stats,
                         static_cast<uint32_t>(b.values.size()),
                         d.value_count,
                         static_cast<uint32_t>(b.quantiles.size()),
                         d.quantile_count};
    const auto values = decoded.values_of(d);
    b.values.insert(b.values.end(), values.begin(), values.end());
    const auto quantiles = decoded.quantiles_of(d);
    b.quantiles.insert(b.quantiles.end(), quantiles.begin(), quantiles.end());
    b.samples.push_back(s);
    if (b.size() >= kBatchRecords) {
      send(shard);
    }
  }

  void route_event(InputState& input, CloudTrailEvent&& event) {
    if (event.account_id.empty()) {
      event.account_id = input.account_id;
    }
    if (event.aws_region.empty()) {
      event.aws_region = input.region;
    }
    ++input.stats.cloudtrail_events;
    key_scratch.assign(event.account_id);
    key_scratch += '\0';
    key_scratch += event.aws_region;
    Shard& shard = shard_for(hash_series_key(key_scratch));
    if (!threaded()) {
      shard.processor->on_cloudtrail(event);
      return;
    }
    ShardBatch& b = filling(shard);
    b.events.push_back(std::move(event));
    if (b.size() >= kBatchRecords) {
      send(shard);
    }
  }

  void process_metrics(InputState& input, InputFormat format, std::string_view record,
                       const RecordOrigin& origin) {
    batch.clear();
    if (auto error = metric_decoder.decode_padded(format, record, batch); error) {
      drop(input, error->reason, error->detail, record, origin);
      return;
    }
    for (size_t i = 0; i < batch.datums.size(); ++i) {
      const MetricDatum& d = batch.datums[i];
      if (sequence(input, d.time, format, record, origin, i) &&
          admit(input, d.time, record, origin)) {
        route_metric(input, batch, d, record, origin);
      }
    }
  }

  void process_cloudtrail(InputState& input, std::string_view record, const RecordOrigin& origin) {
    cloudtrail_out.clear();
    cloudtrail_decoder.decode(record, cloudtrail_out,
                              static_cast<size_t>(settings.max_record_bytes));
    for (const CloudTrailRecordError& e : cloudtrail_out.errors) {
      drop(input, e.error.reason, e.error.detail, e.raw, origin);
    }
    for (CloudTrailEvent& event : cloudtrail_out.events) {
      if (!sequence(input, event.time, InputFormat::kCloudTrail, "", origin, 0)) {
        input.held.event = std::move(event);  // Held with the event itself, not the document.
        continue;
      }
      if (admit(input, event.time, event.raw, origin)) {
        route_event(input, std::move(event));
      }
    }
  }

  // The watermark the shards may evaluate up to: the slowest unfinished input, or, once every
  // input has finished, the newest event time of all.
  // Idle inputs (live mode) are left out; when every unfinished input is idle, the watermark
  // stays where it is unless the wall-clock floor (advance_idle_watermark) moves it.
  [[nodiscard]] EventTime global_watermark() const {
    EventTime lowest = EventTime::max();
    EventTime newest = EventTime::min();
    bool any_open = false;
    bool any_active = false;
    for (const InputState& input : inputs) {
      newest = std::max(newest, input.stats.newest);
      if (!input.finished) {
        any_open = true;
        if (!input.idle) {
          any_active = true;
          lowest = std::min(lowest, input.stats.watermark);
        }
      }
    }
    if (!any_open) {
      return newest;
    }
    return any_active ? lowest : std::max(watermark, idle_floor);
  }

  void maybe_step(bool final) {
    const EventTime w = global_watermark();
    if (w == EventTime::min() || w == EventTime::max()) {
      if (!final) {
        return;
      }
    }
    if (w <= watermark && !final) {
      return;
    }
    // Broadcast only when a step boundary is crossed: nothing can become due in between.
    const bool crossed =
        w.floor(options.step) > watermark.floor(options.step) || watermark == EventTime::min();
    if (w > watermark) {
      watermark = w;
    }
    if (!crossed && !final) {
      return;
    }
    // The origin (earliest accepted event time) is final only once the watermark has passed it:
    // until then an earlier record may still be accepted. No tick can be due before that anyway.
    if (origin_time == EventTime::max() || (!final && watermark <= origin_time)) {
      return;
    }
    broadcast(WatermarkStep{watermark, origin_time, final});
  }

  void broadcast(const WatermarkStep& step) {
    ++watermark_steps;
    if (!threaded()) {
      Shard& shard = *shards.front();
      shard.buffer.clear();
      shard.processor->on_watermark(step, shard.buffer);
      write(step, shard.buffer.items());
      return;
    }
    for (auto& shard : shards) {
      ShardBatch& b = filling(*shard);
      b.has_step = true;
      b.step = step;
      send(*shard);
    }
    ++steps_sent;
  }

  void write(const WatermarkStep& step, std::vector<Emission>& emissions) {
    std::sort(emissions.begin(), emissions.end());
    if (options.stage != nullptr) {
      const size_t before = emissions.size();
      options.stage->on_step(step, emissions);
      if (emissions.size() != before) {
        std::sort(emissions.begin(), emissions.end());
      }
    }
    for (const Emission& e : emissions) {
      if (e.stream == EmissionStream::kEvents) {
        ++emission_count;
      } else {
        ++datapoint_lines;
      }
    }
    if (!emissions.empty()) {
      output.write_emissions(emissions);
    }
  }

  // Writes the results of every step all shards have finished, in step order. With `wait`,
  // blocks until every step sent so far is written.
  void collect_results(bool wait) {
    while (steps_written < steps_sent) {
      // A step is complete when every shard has delivered its result for it; shards deliver in
      // step order, so each shard's oldest pending result belongs to the oldest unwritten step.
      for (size_t i = 0; i < shards.size(); ++i) {
        if (pending[i].empty()) {
          if (wait) {
            pending[i].push_back(shards[i]->results.pop());
          } else if (auto r = shards[i]->results.try_pop(); r) {
            pending[i].push_back(std::move(*r));
          }
        }
      }
      const bool complete =
          std::all_of(pending.begin(), pending.end(), [](const auto& q) { return !q.empty(); });
      if (!complete) {
        return;
      }
      std::vector<Emission> merged;
      const WatermarkStep step = pending.front().front().step;
      for (auto& q : pending) {
        auto& items = q.front().emissions;
        merged.insert(merged.end(), std::make_move_iterator(items.begin()),
                      std::make_move_iterator(items.end()));
        q.pop_front();
      }
      write(step, merged);
      ++steps_written;
    }
  }

  // Runs `task` on every shard's processor, on the shard's thread, after everything routed so
  // far, and waits for all of them.
  void run_on_shards(const std::function<void(ShardProcessor&, int)>& task) {
    if (!threaded()) {
      task(*shards.front()->processor, 0);
      return;
    }
    for (auto& shard : shards) {
      filling(*shard).task = &task;
      send(*shard);
    }
    for (auto& shard : shards) {
      shard->task_done.pop();
    }
  }

  void stop_threads() {
    if (!threaded()) {
      return;
    }
    for (auto& shard : shards) {
      if (shard->thread.joinable()) {
        ShardBatch& b = filling(*shard);
        b.stop = true;
        shard->inbox.push(std::move(shard->filling));
        shard->filling.reset();
        shard->thread.join();
      }
    }
  }

  EventTime idle_floor = EventTime::min();  // Set by advance_idle_watermark.
  Settings settings;
  RuntimeOptions options;
  RuntimeOutput& output;
  SeriesInterner interner;
  SeriesKeyBuilder key_builder;
  MetricDecoder metric_decoder;
  MetricDecoder held_decoder;
  CloudTrailDecoder cloudtrail_decoder;
  MetricBatch batch;
  MetricBatch held_batch;
  CloudTrailDecodeOutput cloudtrail_out;
  std::vector<DimensionView> dimension_scratch;
  std::string key_scratch;
  std::vector<InputState> inputs;
  // Checkpointed state of inputs not registered yet (Runtime::restore), by name.
  std::unordered_map<std::string, InputState> restored_inputs;
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<std::deque<StepResult>> pending;
  EventTime watermark = EventTime::min();
  EventTime origin_time = EventTime::max();
  uint64_t watermark_steps = 0;
  uint64_t steps_sent = 0;
  uint64_t steps_written = 0;
  uint64_t emission_count = 0;
  uint64_t datapoint_lines = 0;
  bool finished = false;
};

Runtime::Runtime(const Settings& settings, RuntimeOptions options,
                 const ShardProcessorFactory& factory, RuntimeOutput& output)
    : impl_(std::make_unique<Impl>(settings, options, output)) {
  TW_CHECK(options.shards >= 1, "at least one shard");
  TW_CHECK(options.step > Duration(), "a positive watermark step");
  for (int i = 0; i < options.shards; ++i) {
    auto shard = std::make_unique<Impl::Shard>();
    shard->index = i;
    shard->processor = factory(i, options.shards, impl_->interner);
    TW_CHECK(shard->processor != nullptr, "the factory returned a processor");
    impl_->shards.push_back(std::move(shard));
  }
  impl_->pending.resize(impl_->shards.size());
  if (impl_->threaded()) {
    for (auto& shard : impl_->shards) {
      Impl::Shard* s = shard.get();
      s->thread = std::thread([s] { s->run(); });
    }
  }
}

Runtime::~Runtime() {
  impl_->stop_threads();
}

void Runtime::replace_processors(const ShardProcessorFactory& factory) {
  const int count = static_cast<int>(impl_->shards.size());
  for (int i = 0; i < count; ++i) {
    Impl::Shard& shard = *impl_->shards[static_cast<size_t>(i)];
    std::unique_ptr<ShardProcessor> next = factory(i, count, impl_->interner);
    TW_CHECK(next != nullptr, "the factory returned a processor");
    if (!impl_->threaded()) {
      next->take_over(*shard.processor);
      shard.processor = std::move(next);
      continue;
    }
    // Records routed so far go to the old processor; the replacement travels behind them.
    ShardBatch& batch = Impl::filling(shard);
    batch.replacement = std::move(next);
    impl_->send(shard);
  }
}

InputId Runtime::add_input(std::string name, std::optional<Duration> allowed_lateness,
                           std::string account_id, std::string region) {
  InputState input;
  if (auto it = impl_->restored_inputs.find(name); it != impl_->restored_inputs.end()) {
    input = std::move(it->second);
    impl_->restored_inputs.erase(it);
  }
  input.stats.name = std::move(name);
  if (allowed_lateness) {
    input.lateness = allowed_lateness;  // The configuration's, even over a checkpoint's.
  }
  input.account_id = std::move(account_id);
  input.region = std::move(region);
  impl_->inputs.push_back(std::move(input));
  return InputId{static_cast<uint32_t>(impl_->inputs.size() - 1)};
}

void Runtime::process(InputId id, InputFormat format, std::string_view record,
                      const RecordOrigin& origin) {
  InputState& input = impl_->inputs.at(id.value);
  ++input.stats.records;
  input.idle = false;  // It delivers again: it holds the watermark again.
  if (format == InputFormat::kAuto) {
    format = detect_format(record);
    if (format == InputFormat::kAuto) {
      impl_->drop(input, DropReason::kUnknownFormat,
                  "(root): not a metric stream, PutMetricData, EMF or CloudTrail document", record,
                  origin);
      return;
    }
  }
  const int64_t limit = format == InputFormat::kCloudTrail ? impl_->settings.max_file_bytes
                                                           : impl_->settings.max_record_bytes;
  if (static_cast<int64_t>(record.size()) > limit) {
    impl_->drop(input, DropReason::kOversized,
                "record of " + std::to_string(record.size()) + " bytes exceeds the limit of " +
                    std::to_string(limit),
                record.substr(0, 4096), origin);
    return;
  }
  if (!input.lateness) {
    input.lateness = format == InputFormat::kCloudTrail ? impl_->settings.cloudtrail_lateness
                                                        : impl_->settings.metric_lateness;
  }
  if (format == InputFormat::kCloudTrail) {
    impl_->process_cloudtrail(input, record, origin);
  } else {
    impl_->process_metrics(input, format, record, origin);
  }
  if (input.stats.newest != EventTime::min()) {
    input.stats.watermark =
        std::max(input.stats.watermark, input.stats.newest - input.lateness.value_or(Duration()));
  }
  impl_->maybe_step(false);
}

void Runtime::reject(InputId id, DropReason reason, std::string_view detail,
                     std::string_view record, const RecordOrigin& origin) {
  InputState& input = impl_->inputs.at(id.value);
  ++input.stats.records;
  impl_->drop(input, reason, detail, record, origin);
}

void Runtime::collect_finished_steps() {
  impl_->collect_results(false);
}

void Runtime::set_input_idle(InputId id, bool idle) {
  InputState& input = impl_->inputs.at(id.value);
  if (input.idle == idle || input.finished) {
    return;
  }
  input.idle = idle;
  impl_->maybe_step(false);
}

bool Runtime::input_idle(InputId id) const {
  return impl_->inputs.at(id.value).idle;
}

void Runtime::advance_idle_watermark(EventTime floor) {
  impl_->idle_floor = std::max(impl_->idle_floor, floor);
  impl_->maybe_step(false);
}

void Runtime::finish_input(InputId id) {
  InputState& input = impl_->inputs.at(id.value);
  if (input.finished) {
    return;
  }
  impl_->release_held(input, std::nullopt);
  input.finished = true;
  impl_->maybe_step(false);
}

void Runtime::finish() {
  if (impl_->finished) {
    return;
  }
  impl_->finished = true;
  for (InputState& input : impl_->inputs) {
    if (!input.finished) {
      impl_->release_held(input, std::nullopt);
      input.finished = true;
    }
  }
  impl_->maybe_step(true);
  if (impl_->threaded()) {
    for (auto& shard : impl_->shards) {
      if (shard->filling && shard->filling->size() > 0) {
        impl_->send(*shard);
      }
    }
    impl_->collect_results(true);
  }
  impl_->stop_threads();
}

namespace {

// Checkpoint framing: magic, format version, body, CRC-32 of everything before it.
constexpr std::string_view kCheckpointMagic = "TWCKPT\x01\x00";
constexpr uint32_t kCheckpointVersion = 1;

void save_input(StateWriter& out, const InputState& input) {
  out.text(input.stats.name);
  out.boolean(input.lateness.has_value());
  out.duration(input.lateness.value_or(Duration()));
  out.time(input.stats.newest);
  out.time(input.stats.watermark);
  out.boolean(input.has_previous);
  out.time(input.previous_time);
  const HeldItem& held = input.held;
  out.boolean(held.active);
  if (held.active) {
    out.time(held.time);
    out.boolean(held.has_predecessor);
    out.u8(static_cast<uint8_t>(held.format));
    out.text(held.event ? std::string_view(held.event->raw) : std::string_view(held.record));
    out.boolean(held.event.has_value());
    out.text(held.source);
    out.u64(held.position);
    out.u64(held.datum_index);
  }
}

// Reads one input's state; a held CloudTrail event is decoded again from its raw text.
InputState load_input(StateReader& in, CloudTrailDecoder& decoder, int64_t max_record_bytes) {
  InputState input;
  input.stats.name = in.text();
  const bool has_lateness = in.boolean();
  const Duration lateness = in.duration();
  if (has_lateness) {
    input.lateness = lateness;
  }
  input.stats.newest = in.time();
  input.stats.watermark = in.time();
  input.has_previous = in.boolean();
  input.previous_time = in.time();
  HeldItem& held = input.held;
  held.active = in.boolean();
  if (held.active) {
    held.time = in.time();
    held.has_predecessor = in.boolean();
    const uint8_t format = in.u8();
    if (format > static_cast<uint8_t>(InputFormat::kCloudTrail)) {
      in.fail("a held record's format is " + std::to_string(format));
    }
    held.format = static_cast<InputFormat>(format);
    held.record = in.text();
    const bool is_event = in.boolean();
    held.source = in.text();
    held.position = in.u64();
    held.datum_index = in.u64();
    if (is_event && in.ok()) {
      CloudTrailDecodeOutput decoded;
      decoder.decode(held.record, decoded, static_cast<size_t>(max_record_bytes));
      if (decoded.events.size() != 1) {
        in.fail("a held CloudTrail event does not decode");
      } else {
        held.event = std::move(decoded.events.front());
        held.record.clear();
      }
    }
  }
  return input;
}

}  // namespace

std::string Runtime::checkpoint() {
  Impl& im = *impl_;
  TW_CHECK(!im.finished, "checkpoint before finish");
  std::vector<StateWriter> parts(im.shards.size());
  const SeriesInterner& interner = im.interner;
  im.run_on_shards([&parts, &interner](ShardProcessor& processor, int index) {
    processor.save_state(interner, parts[static_cast<size_t>(index)]);
  });
  im.collect_results(true);

  StateWriter out;
  for (const char c : kCheckpointMagic) {
    out.u8(static_cast<uint8_t>(c));
  }
  out.u32(kCheckpointVersion);
  out.time(im.watermark);
  out.time(im.origin_time);
  // Not the idle floor: it is wall time, which a restarted worker (or a --until-idle run, which
  // must not use it at all) takes afresh.
  out.u32(static_cast<uint32_t>(im.inputs.size() + im.restored_inputs.size()));
  for (const InputState& input : im.inputs) {
    save_input(out, input);
  }
  for (const auto& [name, input] : im.restored_inputs) {
    save_input(out, input);  // Restored but not registered again yet: kept for later.
  }
  StateWriter stage;
  if (im.options.stage != nullptr) {
    im.options.stage->save_state(stage);
  }
  size_t total = out.bytes().size() + stage.bytes().size() + 8;
  for (const StateWriter& part : parts) {
    total += part.bytes().size();
  }
  std::string bytes = out.take();
  bytes.reserve(total);  // Checkpoints reach hundreds of megabytes: one allocation, no regrowth.
  for (StateWriter& part : parts) {
    bytes += part.bytes();
    part = StateWriter();  // Release it: the parts and the whole would double the peak.
  }
  bytes += stage.bytes();
  StateWriter tail;
  tail.u8(0);  // End of entries.
  bytes += tail.bytes();
  tail.clear();
  tail.u32(checksum(bytes));
  bytes += tail.bytes();
  return bytes;
}

Status Runtime::restore(std::string_view bytes) {
  Impl& im = *impl_;
  if (bytes.size() < kCheckpointMagic.size() + 8 ||
      bytes.substr(0, kCheckpointMagic.size()) != kCheckpointMagic) {
    return data_loss("not a trailwatch checkpoint (" + std::to_string(bytes.size()) + " bytes)");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  StateReader crc_reader(bytes.substr(bytes.size() - 4));
  if (crc_reader.u32() != checksum(body)) {
    return data_loss("checkpoint checksum mismatch: truncated or corrupted");
  }
  StateReader in(body.substr(kCheckpointMagic.size()));
  const uint32_t version = in.u32();
  if (version != kCheckpointVersion) {
    return data_loss("checkpoint format version " + std::to_string(version) +
                     " is not supported (this build reads version " +
                     std::to_string(kCheckpointVersion) + ")");
  }
  const EventTime watermark = in.time();
  const EventTime origin = in.time();
  const uint32_t input_count = in.count(4 + 1 + 8 * 5);
  std::vector<InputState> inputs;
  for (uint32_t i = 0; i < input_count && in.ok(); ++i) {
    inputs.push_back(load_input(in, im.cloudtrail_decoder, im.settings.max_record_bytes));
  }
  StateEntries entries;
  if (in.ok()) {
    entries.read(in);
  }
  if (in.ok() && !in.at_end()) {
    in.fail("bytes after the last entry");
  }
  if (!in.ok()) {
    return data_loss("checkpoint: " + in.error());
  }

  im.watermark = watermark;
  im.origin_time = origin;
  for (InputState& restored : inputs) {
    auto it = std::find_if(im.inputs.begin(), im.inputs.end(), [&](const InputState& input) {
      return input.stats.name == restored.stats.name;
    });
    if (it == im.inputs.end()) {
      std::string name = restored.stats.name;
      im.restored_inputs.insert_or_assign(std::move(name), std::move(restored));
      continue;
    }
    InputState& input = *it;
    if (!input.lateness) {
      input.lateness = restored.lateness;
    }
    input.stats.newest = restored.stats.newest;
    input.stats.watermark = restored.stats.watermark;
    input.has_previous = restored.has_previous;
    input.previous_time = restored.previous_time;
    input.held = std::move(restored.held);
  }
  const SeriesInterner& interner = im.interner;
  im.run_on_shards([&entries, &interner](ShardProcessor& processor, int /*index*/) {
    processor.load_state(interner, entries);
  });
  if (im.options.stage != nullptr) {
    im.options.stage->load_state(entries);
  }
  return Status::ok();
}

EventTime Runtime::input_watermark(InputId id) const {
  const InputState& input = impl_->inputs.at(id.value);
  return input.finished ? EventTime::max() : input.stats.watermark;
}

uint64_t Runtime::steps_in_flight() const {
  return impl_->steps_sent - impl_->steps_written;
}

RuntimeStats Runtime::stats() const {
  RuntimeStats s;
  for (const InputState& input : impl_->inputs) {
    s.inputs.push_back(input.stats);
  }
  s.series = impl_->interner.size();
  s.watermark_steps = impl_->watermark_steps;
  s.emissions = impl_->emission_count;
  s.datapoint_lines = impl_->datapoint_lines;
  s.watermark = impl_->watermark;
  return s;
}

}  // namespace tw::pipeline
