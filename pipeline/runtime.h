#pragma once

/// The event-time runtime shared by `trailwatch replay` and live mode.
///
/// Data flow:
///
///     record bytes ─► decode ─► checks (size, time, lateness) ─► intern series ─► route by key
///          │              │                                                        │
///          │              └─ bad record: counted by reason, dead-lettered          ▼
///          │                                                         shard (one thread each)
///          └─ watermark per input = newest event time − allowed lateness    ShardProcessor:
///             global watermark = min over unfinished inputs                  buckets, alarms
///             crossing a step boundary ─► every shard evaluates ─► emissions merged in order
///
/// Time semantics. A record is *late* when its event time is older than its input's watermark
/// at arrival; late records are dead-lettered, never merged into state that may already have
/// been evaluated. Evaluation is driven only by the global watermark, so what a shard evaluates
/// at a tick depends only on which records were accepted — not on arrival order within the
/// allowed lateness, on how inputs interleave, or on the number of shards. A finished input no
/// longer holds the global watermark back; when every input has finished, the watermark moves
/// to the newest event time seen anywhere.
///
/// Threading. One coordinator thread calls `process`, `finish_input` and `finish` (the runtime
/// is not thread-safe towards its caller). With more than one shard, each shard runs on its own
/// thread and owns its processor and all its state; records reach it in batches through a
/// bounded queue (one lock per batch, none per record). With one shard everything runs inline on
/// the caller's thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/cloudtrail.h"
#include "pipeline/config.h"
#include "pipeline/drop_reason.h"
#include "pipeline/emission.h"
#include "pipeline/metric.h"
#include "pipeline/series.h"
#include "pipeline/state_codec.h"
#include "pipeline/status.h"
#include "pipeline/time.h"

namespace tw::pipeline {

/// What a watermark step tells the shards.
struct WatermarkStep {
  /// Event time up to (excluding) this instant is complete: no record older than it will be
  /// accepted any more.
  EventTime watermark;
  /// The earliest accepted event time of the whole run; final (steps are only issued once the
  /// watermark has passed it). Evaluation schedules start at the first tick after it, so they do
  /// not depend on which record happened to arrive first.
  EventTime origin;
  /// True for the step issued by `finish()`.
  bool final = false;
};

/// Per-shard logic supplied by the application (alarm evaluation and, later, other detectors).
/// Created once per shard; every call for one instance comes from that shard's thread.
class ShardProcessor {
 public:
  ShardProcessor() = default;
  virtual ~ShardProcessor() = default;
  ShardProcessor(const ShardProcessor&) = delete;
  ShardProcessor& operator=(const ShardProcessor&) = delete;
  ShardProcessor(ShardProcessor&&) = delete;
  ShardProcessor& operator=(ShardProcessor&&) = delete;

  /// An accepted sample of a series this shard owns. `sample`'s views are valid for the call.
  virtual void on_metric(SeriesId series, const MetricSample& sample) = 0;

  /// An accepted CloudTrail event routed to this shard (by account and region).
  virtual void on_cloudtrail(const CloudTrailEvent& event) = 0;

  /// The global watermark advanced: evaluate everything due up to `step.watermark` and append
  /// the results to `out`.
  virtual void on_watermark(const WatermarkStep& step, EmissionBuffer& out) = 0;

  /// Configuration reload: this processor replaces `previous` (same shard) and may take over its
  /// state. Called on the shard's thread, after `previous` has seen every record and step issued
  /// before the reload and before this one sees any. The default takes nothing.
  virtual void take_over(ShardProcessor& /*previous*/) {}

  /// Checkpoint: appends this processor's state as entries (StateWriter::entry), keyed so that
  /// any processor of any shard count can find what it owns (an alarm by name, a window by its
  /// series' canonical key in `interner`). Called on the shard's thread after every record and
  /// step issued before the checkpoint, while the coordinator waits (so `interner` is stable).
  virtual void save_state(const SeriesInterner& /*interner*/, StateWriter& /*out*/) const {}

  /// Restore: takes from `entries` the state of what this processor owns; whatever it finds no
  /// entry for (or an entry of another definition) starts afresh. Called as save_state is,
  /// before the processor sees any record.
  virtual void load_state(const SeriesInterner& /*interner*/, const StateEntries& /*entries*/) {}
};

/// Logic that needs the output of every shard, such as composite alarms (whose children live on
/// different shards). Runs on the coordinator thread once per watermark step, after the shards'
/// emissions of the step are merged and sorted and before they are written; it sees them in
/// their deterministic order and may append its own (the runtime sorts again). Whatever it
/// decides therefore depends only on the merged stream, not on the shard count.
class StepStage {
 public:
  StepStage() = default;
  virtual ~StepStage() = default;
  StepStage(const StepStage&) = delete;
  StepStage& operator=(const StepStage&) = delete;
  StepStage(StepStage&&) = delete;
  StepStage& operator=(StepStage&&) = delete;

  virtual void on_step(const WatermarkStep& step, std::vector<Emission>& emissions) = 0;

  /// Checkpoint and restore, as ShardProcessor's (on the coordinator thread).
  virtual void save_state(StateWriter& /*out*/) const {}

  virtual void load_state(const StateEntries& /*entries*/) {}
};

/// Creates the processor of shard `index` (0-based) of `count`. Called on the coordinator
/// thread before any record is processed; `interner` is the run's series interner, in which
/// the processor registers the series its alarms read (see `shard_for_hash`).
using ShardProcessorFactory =
    std::function<std::unique_ptr<ShardProcessor>(int index, int count, SeriesInterner& interner)>;

/// The shard that owns a series (or another keyed item) with hash `hash`.
inline int shard_for_hash(uint64_t hash, int shard_count) {
  return static_cast<int>((hash >> 32U) % static_cast<uint64_t>(shard_count));
}

/// A dropped record as written to the dead-letter output.
struct DeadLetter {
  std::string_view input;   ///< The input's name.
  std::string_view source;  ///< File path, "stdin", or a topic/partition later.
  uint64_t position = 0;    ///< 1-based line (or record index) within the source.
  DropReason reason = DropReason::kNotJson;
  std::string_view detail;
  std::string_view record;  ///< The offending bytes (possibly a single record of a document).
};

/// Where the runtime writes. Called on the coordinator thread only.
class RuntimeOutput {
 public:
  RuntimeOutput() = default;
  virtual ~RuntimeOutput() = default;
  RuntimeOutput(const RuntimeOutput&) = delete;
  RuntimeOutput& operator=(const RuntimeOutput&) = delete;
  RuntimeOutput(RuntimeOutput&&) = delete;
  RuntimeOutput& operator=(RuntimeOutput&&) = delete;

  /// Emissions of one watermark step, already in their deterministic order.
  virtual void write_emissions(std::span<const Emission> emissions) = 0;

  virtual void write_dead_letter(const DeadLetter& letter) = 0;
};

/// Identifies an input registered with `Runtime::add_input`.
struct InputId {
  uint32_t value = 0;
};

/// Where a record came from, for dead letters.
struct RecordOrigin {
  std::string_view source;
  uint64_t position = 0;
};

/// Counters of one input.
struct InputStats {
  std::string name;
  uint64_t records = 0;            ///< Documents offered to `process`.
  uint64_t datapoints = 0;         ///< Metric datapoints accepted.
  uint64_t cloudtrail_events = 0;  ///< CloudTrail events accepted.
  uint64_t dropped = 0;            ///< Datapoints/events/records dropped (all reasons).
  DropCounters dropped_by_reason;
  EventTime newest = EventTime::min();
  EventTime watermark = EventTime::min();
};

struct RuntimeStats {
  std::vector<InputStats> inputs;
  uint64_t series = 0;  ///< Distinct series interned.
  uint64_t watermark_steps = 0;
  uint64_t emissions = 0;        ///< Lines written to the events stream.
  uint64_t datapoint_lines = 0;  ///< Lines written to the datapoints stream.
  EventTime watermark = EventTime::min();
};

struct RuntimeOptions {
  int shards = 1;
  /// The watermark is broadcast to the shards whenever it crosses a multiple of this (10 s when
  /// any alarm is high-resolution, else 60 s).
  Duration step = Duration::minutes(1);
  /// Optional coordinator-side stage (not owned; must outlive the runtime).
  StepStage* stage = nullptr;
};

class Runtime {
 public:
  /// Precondition: options.shards ≥ 1; the factory returns a processor for every shard.
  Runtime(const Settings& settings, RuntimeOptions options, const ShardProcessorFactory& factory,
          RuntimeOutput& output);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  Runtime(Runtime&&) = delete;
  Runtime& operator=(Runtime&&) = delete;

  /// Registers an input. `account_id`/`region` apply to records that carry none. Without an
  /// explicit lateness, the settings' default for the kind of the input's first record applies
  /// (metric_lateness or cloudtrail_lateness).
  InputId add_input(std::string name, std::optional<Duration> allowed_lateness,
                    std::string account_id, std::string region);

  /// Processes one JSON document of `format` from input `id`. For kAuto the document's shape is
  /// detected. Precondition: `json_padding()` readable bytes follow `record` in memory.
  void process(InputId id, InputFormat format, std::string_view record, const RecordOrigin& origin);

  /// Reports a record the source could not even deliver (e.g. a line over the size limit, a file
  /// that is not valid gzip): counted and dead-lettered like a decode failure.
  void reject(InputId id, DropReason reason, std::string_view detail, std::string_view record,
              const RecordOrigin& origin);

  /// Input `id` ended: it no longer holds the global watermark back.
  void finish_input(InputId id);

  /// Live mode: input `id` delivered nothing for the idle timeout (wall time), so it stops
  /// holding the global watermark back — one quiet Kafka partition must not stall every alarm.
  /// The next record it delivers makes it active again; a record of it older than the global
  /// watermark is then late (alarms were evaluated past it).
  void set_input_idle(InputId id, bool idle);

  [[nodiscard]] bool input_idle(InputId id) const;

  /// Live mode: when every unfinished input is idle, the global watermark moves to at least
  /// `floor` (the caller passes wall time minus the allowed lateness), so periods without any
  /// data are still evaluated on time. Has no effect while any input is active: an active input
  /// catching up on a backlog decides. Monotonic.
  void advance_idle_watermark(EventTime floor);

  /// Configuration reload: every shard gets a new processor from `factory` (created here, on the
  /// caller's thread, where it may register series in the interner), which takes over from the
  /// old one on the shard's thread (`ShardProcessor::take_over`) after the records and steps
  /// issued before this call.
  void replace_processors(const ShardProcessorFactory& factory);

  /// Writes the emissions of every watermark step the shards have finished since the last
  /// write, without waiting for unfinished ones. With several shards, results are otherwise
  /// collected only when more records are routed or at `finish`; live mode calls this in its loop
  /// so that a step caused by wall time alone (idle inputs) is written at once.
  void collect_finished_steps();

  /// Watermark steps sent to the shards whose emissions are not written yet (the shards are
  /// still evaluating them): live mode polls its inputs briefly while any are, so that their
  /// events leave as soon as they are ready.
  [[nodiscard]] uint64_t steps_in_flight() const;

  /// Ends the run: the watermark moves to the newest event time seen, every shard evaluates up
  /// to it, all output is written. No other call may follow.
  void finish();

  /// Checkpoint: the complete state of the run — watermarks, every input's sequencing state
  /// (held outliers included), the origin, and every processor's and the stage's state — after
  /// everything processed so far, every watermark step included, whose emissions are written to
  /// the output before this returns. Blocks until the shards have caught up. Restoring it into a
  /// runtime of the same configuration and feeding that the records that followed produces
  /// exactly the emissions this runtime would have produced (any shard count). Format: see
  /// docs/architecture.md ("Checkpoints"); closed by a CRC-32.
  [[nodiscard]] std::string checkpoint();

  /// Restore: adopts a checkpoint's state. Inputs are matched by name — those not added yet take
  /// their state when `add_input` registers them. Alarms whose definition changed since start
  /// afresh. Precondition: no record has been processed yet. A checkpoint that is truncated,
  /// corrupted or of another format yields kDataLoss and changes nothing.
  Status restore(std::string_view bytes);

  /// The current watermark of input `id` (EventTime::max() once finished).
  [[nodiscard]] EventTime input_watermark(InputId id) const;

  /// Counters so far (the series/emission counts are final after `finish`).
  [[nodiscard]] RuntimeStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::pipeline
