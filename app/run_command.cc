#include "app/run_command.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/alarm_shard.h"
#include "app/cli_args.h"
#include "app/composite_stage.h"
#include "app/config_check.h"
#include "app/inputs.h"
#include "app/live_checkpoint.h"
#include "app/output_lines.h"
#include "connectors/file_source.h"
#include "connectors/http_server.h"
#include "connectors/jsonl_writer.h"
#include "connectors/kafka.h"
#include "connectors/state_store.h"
#include "pipeline/runtime.h"
#include "pipeline/state_codec.h"

namespace tw::app {
namespace {

using pipeline::Duration;
using pipeline::EventTime;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "usage: trailwatch run --config FILE [--http-listen HOST:PORT] [--shards N] [--until-idle]";
constexpr size_t kPollRecords = 4096;
constexpr auto kPollTimeout = std::chrono::milliseconds(100);
constexpr auto kFlushTimeout = std::chrono::seconds(30);

// Set by signal handlers, which can reach nothing else: process-wide by nature.
std::atomic<bool> g_stop{false};    // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<bool> g_reload{false};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

extern "C" void on_stop_signal(int /*signal*/) {
  g_stop.store(true);
}

extern "C" void on_reload_signal(int /*signal*/) {
  g_reload.store(true);
}

// ---- Outputs ---------------------------------------------------------------------------------

/// One output stream: a JSON-lines file (or standard output) or a Kafka topic.
class LineSink {
 public:
  LineSink() = default;
  virtual ~LineSink() = default;
  LineSink(const LineSink&) = delete;
  LineSink& operator=(const LineSink&) = delete;
  LineSink(LineSink&&) = delete;
  LineSink& operator=(LineSink&&) = delete;

  virtual void write(std::string_view key, std::string_view line) = 0;
  /// Everything written so far is durable (on the broker, or handed to the file).
  virtual pipeline::Status flush() = 0;
};

class FileSink final : public LineSink {
 public:
  pipeline::Status open(const std::string& path) { return writer_.open(path); }

  void write(std::string_view /*key*/, std::string_view line) override { writer_.write_line(line); }

  pipeline::Status flush() override { return writer_.flush(); }

 private:
  connectors::JsonLinesWriter writer_;
};

class KafkaSink final : public LineSink {
 public:
  KafkaSink(connectors::KafkaProducer& producer, std::string topic)
      : producer_(producer), topic_(std::move(topic)) {}

  void write(std::string_view key, std::string_view line) override {
    pipeline::Status s = producer_.produce(topic_, key, line);
    if (!s.is_ok() && first_error_.is_ok()) {
      first_error_ = std::move(s);
    }
  }

  pipeline::Status flush() override {
    if (!first_error_.is_ok()) {
      return std::exchange(first_error_, pipeline::Status());
    }
    return producer_.flush(kFlushTimeout);
  }

 private:
  connectors::KafkaProducer& producer_;
  std::string topic_;
  pipeline::Status first_error_;
};

/// The current state of every alarm, as the events stream told it; read by /api/v1/alarms.
class AlarmBoard {
 public:
  struct Entry {
    std::string name;
    std::string arn;
    bool composite = false;
    std::string state = "INSUFFICIENT_DATA";
    std::string reason = "Unchecked: Initial alarm creation";
    std::string reason_data;
    std::string timestamp;
  };

  explicit AlarmBoard(const pipeline::Config& config) { reconfigure(config); }

  /// The alarms of `config`; those already known keep their state.
  void reconfigure(const pipeline::Config& config) {
    const std::lock_guard lock(mutex_);
    std::map<std::string, Entry, std::less<>> before = std::move(entries_);
    entries_.clear();
    for (const pipeline::MetricAlarmConfig& a : config.metric_alarms) {
      entries_.emplace(a.alarm_name,
                       Entry{a.alarm_name, pipeline::alarm_arn(config.settings, a.alarm_name)});
    }
    for (const pipeline::CompositeAlarmConfig& a : config.composite_alarms) {
      entries_.emplace(
          a.alarm_name,
          Entry{a.alarm_name, pipeline::alarm_arn(config.settings, a.alarm_name), true});
    }
    for (auto& [name, entry] : entries_) {
      if (auto it = before.find(name);
          it != before.end() && it->second.composite == entry.composite) {
        entry = std::move(it->second);
      }
    }
  }

  /// Takes a state-change event line (only transitions reach here, so parsing is rare).
  void apply(const pipeline::Emission& e) {
    const nlohmann::json event = nlohmann::json::parse(e.json, nullptr, /*allow_exceptions=*/false);
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(e.state_change->alarm_name);
    if (it == entries_.end() || event.is_discarded()) {
      return;
    }
    Entry& entry = it->second;
    entry.state = e.state_change->state;
    const nlohmann::json& state = event["detail"]["state"];
    entry.reason = state.value("reason", "");
    entry.reason_data = state.value("reasonData", "");
    entry.timestamp = state.value("timestamp", "");
  }

  /// {"MetricAlarms":[...],"CompositeAlarms":[...]} with describe-alarms field names.
  std::string describe(std::string_view prefix, std::string_view state) const {
    nlohmann::ordered_json out;
    out["MetricAlarms"] = nlohmann::ordered_json::array();
    out["CompositeAlarms"] = nlohmann::ordered_json::array();
    const std::lock_guard lock(mutex_);
    for (const auto& [name, entry] : entries_) {
      if (!name.starts_with(prefix) || (!state.empty() && entry.state != state)) {
        continue;
      }
      nlohmann::ordered_json a;
      a["AlarmName"] = entry.name;
      a["AlarmArn"] = entry.arn;
      a["StateValue"] = entry.state;
      a["StateReason"] = entry.reason;
      if (!entry.reason_data.empty()) {
        a["StateReasonData"] = entry.reason_data;
      }
      if (!entry.timestamp.empty()) {
        a["StateUpdatedTimestamp"] = entry.timestamp;
      }
      out[entry.composite ? "CompositeAlarms" : "MetricAlarms"].push_back(std::move(a));
    }
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  /// Checkpoint: the state of every alarm as last reported (restored with the runtime, so that
  /// /api/v1/alarms and the alarms gauge are right from the first moment after a restart).
  [[nodiscard]] std::string save() const {
    pipeline::StateWriter out;
    const std::lock_guard lock(mutex_);
    out.u32(static_cast<uint32_t>(entries_.size()));
    for (const auto& [name, e] : entries_) {
      out.text(name);
      out.boolean(e.composite);
      out.text(e.state);
      out.text(e.reason);
      out.text(e.reason_data);
      out.text(e.timestamp);
    }
    return out.take();
  }

  /// Restore: the saved states of alarms that still exist (of the same kind). Malformed bytes
  /// change nothing.
  void load(std::string_view bytes) {
    pipeline::StateReader in(bytes);
    std::map<std::string, Entry, std::less<>> saved;
    const uint32_t n = in.count(4 * 5 + 1);
    for (uint32_t i = 0; i < n && in.ok(); ++i) {
      Entry e;
      e.name = in.text();
      e.composite = in.boolean();
      e.state = in.text();
      e.reason = in.text();
      e.reason_data = in.text();
      e.timestamp = in.text();
      std::string name = e.name;
      saved.emplace(std::move(name), std::move(e));
    }
    if (!in.ok()) {
      return;
    }
    const std::lock_guard lock(mutex_);
    for (auto& [name, entry] : entries_) {
      if (auto it = saved.find(name);
          it != saved.end() && it->second.composite == entry.composite) {
        const std::string arn = entry.arn;
        entry = std::move(it->second);
        entry.arn = arn;
      }
    }
  }

  [[nodiscard]] std::map<std::string, size_t> count_by_state() const {
    std::map<std::string, size_t> counts{{"OK", 0}, {"ALARM", 0}, {"INSUFFICIENT_DATA", 0}};
    const std::lock_guard lock(mutex_);
    for (const auto& [name, entry] : entries_) {
      ++counts[entry.state];
    }
    return counts;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

class LiveOutput final : public pipeline::RuntimeOutput {
 public:
  LiveOutput(const pipeline::Settings& settings, LineSink* events, LineSink* datapoints,
             LineSink* dead_letters, AlarmBoard& board)
      : settings_(settings),
        events_(events),
        datapoints_(datapoints),
        dead_letters_(dead_letters),
        board_(board) {}

  void write_emissions(std::span<const pipeline::Emission> emissions) override {
    for (const pipeline::Emission& e : emissions) {
      if (e.stream == pipeline::EmissionStream::kEvents) {
        if (e.state_change) {
          board_.apply(e);
          ++transitions[e.state_change->state];
        }
        if (events_ != nullptr) {
          // Keyed by alarm ARN: one alarm's events stay in order on one partition.
          events_->write(pipeline::alarm_arn(settings_, e.key), e.json);
          ++undelivered_events;
        }
      } else if (datapoints_ != nullptr) {
        datapoints_->write(e.key, e.json);
      }
    }
  }

  void write_dead_letter(const pipeline::DeadLetter& letter) override {
    if (dead_letters_ != nullptr) {
      dead_letters_->write(letter.input, format_dead_letter_line(letter));
    }
  }

  std::map<std::string, uint64_t> transitions;
  /// Events written since the outputs were last flushed (their latency is observed then).
  uint64_t undelivered_events = 0;

 private:
  const pipeline::Settings& settings_;
  LineSink* events_;
  LineSink* datapoints_;
  LineSink* dead_letters_;
  AlarmBoard& board_;
};

// ---- Metrics ---------------------------------------------------------------------------------

/// trailwatch's Prometheus metrics. Label values are input names, drop reasons and alarm states:
/// bounded by the configuration, never by the data.
class LiveMetrics {
 public:
  LiveMetrics()
      : registry_(std::make_shared<prometheus::Registry>()),
        records_(prometheus::BuildCounter()
                     .Name("trailwatch_records_total")
                     .Help("Records read, by input")
                     .Register(*registry_)),
        datapoints_(prometheus::BuildCounter()
                        .Name("trailwatch_datapoints_total")
                        .Help("Metric datapoints accepted, by input")
                        .Register(*registry_)),
        dropped_(prometheus::BuildCounter()
                     .Name("trailwatch_dropped_total")
                     .Help("Records or datapoints dropped, by input and reason (late included)")
                     .Register(*registry_)),
        transitions_(prometheus::BuildCounter()
                         .Name("trailwatch_transitions_total")
                         .Help("Alarm state transitions, by new state")
                         .Register(*registry_)),
        alarms_(prometheus::BuildGauge()
                    .Name("trailwatch_alarms")
                    .Help("Alarms currently in each state")
                    .Register(*registry_)),
        watermark_(prometheus::BuildGauge()
                       .Name("trailwatch_watermark_seconds")
                       .Help("The global event-time watermark (Unix seconds)")
                       .Register(*registry_)),
        watermark_lag_(prometheus::BuildGauge()
                           .Name("trailwatch_watermark_lag_seconds")
                           .Help("Wall time minus the global watermark")
                           .Register(*registry_)),
        consumer_lag_(prometheus::BuildGauge()
                          .Name("trailwatch_consumer_lag_records")
                          .Help("Kafka consumer lag summed over assigned partitions, by input")
                          .Register(*registry_)),
        evaluations_(prometheus::BuildCounter()
                         .Name("trailwatch_evaluations_total")
                         .Help("Alarm evaluations (one per alarm per evaluation tick)")
                         .Register(*registry_)
                         .Add({})),
        checkpoints_(prometheus::BuildCounter()
                         .Name("trailwatch_checkpoints_total")
                         .Help("Checkpoints of the state, by result (ok, failed)")
                         .Register(*registry_)),
        checkpoint_age_(prometheus::BuildGauge()
                            .Name("trailwatch_checkpoint_age_seconds")
                            .Help("Seconds since the last durable checkpoint (since start "
                                  "before the first)")
                            .Register(*registry_)
                            .Add({})),
        checkpoint_bytes_(prometheus::BuildGauge()
                              .Name("trailwatch_checkpoint_bytes")
                              .Help("Size of the last durable checkpoint")
                              .Register(*registry_)
                              .Add({})),
        checkpoint_seconds_(prometheus::BuildGauge()
                                .Name("trailwatch_checkpoint_duration_seconds")
                                .Help("How long the last checkpoint took, durable write included")
                                .Register(*registry_)
                                .Add({})),
        restore_seconds_(prometheus::BuildGauge()
                             .Name("trailwatch_restore_duration_seconds")
                             .Help("How long restoring the state took at start")
                             .Register(*registry_)
                             .Add({})),
        latency_(prometheus::BuildHistogram()
                     .Name("trailwatch_evaluation_latency_seconds")
                     .Help("From reading the record (or the wall-clock tick) that moved the "
                           "watermark past a period's end to the event's delivery")
                     .Register(*registry_)
                     .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01,
                                                                      0.025, 0.05, 0.1, 0.25, 0.5,
                                                                      1, 2.5, 5, 10})) {}

  /// One delivered event, `seconds` after its cause was read.
  void observe_latency(double seconds) { latency_.Observe(seconds); }

  [[nodiscard]] std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  /// Brings the counters up to `stats` (the runtime's cumulative counts, inputs by name).
  void update(const pipeline::RuntimeStats& stats, const std::map<std::string, uint64_t>& trans,
              const std::map<std::string, size_t>& by_state) {
    std::map<std::string, InputTotals> totals;
    for (const pipeline::InputStats& input : stats.inputs) {
      // Kafka partitions are inputs "NAME/PARTITION" in the runtime; metrics stay per input.
      const std::string name = input.name.substr(0, input.name.find('/'));
      InputTotals& t = totals[name];
      t.records += input.records;
      t.datapoints += input.datapoints;
      for (size_t i = 0; i < pipeline::kDropReasonCount; ++i) {
        t.dropped.at(i) += input.dropped_by_reason.by_reason.at(i);
      }
    }
    for (const auto& [name, t] : totals) {
      advance(records_, {{"input", name}}, t.records);
      advance(datapoints_, {{"input", name}}, t.datapoints);
      for (size_t i = 0; i < pipeline::kDropReasonCount; ++i) {
        if (t.dropped.at(i) > 0) {
          advance(
              dropped_,
              {{"input", name},
               {"reason", std::string(pipeline::to_string(static_cast<pipeline::DropReason>(i)))}},
              t.dropped.at(i));
        }
      }
    }
    for (const auto& [state, n] : trans) {
      advance(transitions_, {{"state", state}}, n);
    }
    for (const auto& [state, n] : by_state) {
      alarms_.Add({{"state", state}}).Set(static_cast<double>(n));
    }
    if (stats.watermark != EventTime::min()) {
      const double w = static_cast<double>(stats.watermark.millis()) / 1000.0;
      watermark_.Add({}).Set(w);
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      watermark_lag_.Add({}).Set(now - w);
    }
  }

  void set_consumer_lag(const std::string& input, int64_t lag) {
    consumer_lag_.Add({{"input", input}}).Set(static_cast<double>(lag));
  }

  void set_evaluations(uint64_t total) {
    const double delta = static_cast<double>(total) - evaluations_.Value();
    if (delta > 0) {
      evaluations_.Increment(delta);
    }
  }

  void checkpoint_done(bool ok, size_t bytes, double seconds) {
    checkpoints_.Add({{"result", ok ? "ok" : "failed"}}).Increment();
    if (ok) {
      checkpoint_bytes_.Set(static_cast<double>(bytes));
      checkpoint_seconds_.Set(seconds);
    }
  }

  void set_checkpoint_age(double seconds) { checkpoint_age_.Set(seconds); }

  void set_restore_seconds(double seconds) { restore_seconds_.Set(seconds); }

 private:
  struct InputTotals {
    uint64_t records = 0;
    uint64_t datapoints = 0;
    std::array<uint64_t, pipeline::kDropReasonCount> dropped{};
  };

  static void advance(prometheus::Family<prometheus::Counter>& family,
                      const std::map<std::string, std::string>& labels, uint64_t total) {
    prometheus::Counter& c = family.Add(labels);
    const double delta = static_cast<double>(total) - c.Value();
    if (delta > 0) {
      c.Increment(delta);
    }
  }

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& records_;
  prometheus::Family<prometheus::Counter>& datapoints_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Gauge>& alarms_;
  prometheus::Family<prometheus::Gauge>& watermark_;
  prometheus::Family<prometheus::Gauge>& watermark_lag_;
  prometheus::Family<prometheus::Gauge>& consumer_lag_;
  prometheus::Counter& evaluations_;
  prometheus::Family<prometheus::Counter>& checkpoints_;
  prometheus::Gauge& checkpoint_age_;
  prometheus::Gauge& checkpoint_bytes_;
  prometheus::Gauge& checkpoint_seconds_;
  prometheus::Gauge& restore_seconds_;
  prometheus::Histogram& latency_;
};

// ---- Kafka inputs ----------------------------------------------------------------------------

/// The librdkafka properties of one client: the shared `trailwatch.kafka` ones, then the
/// client's own over them.
connectors::KafkaProperties client_properties(const pipeline::Settings& settings,
                                              const pipeline::KafkaProperties& own) {
  connectors::KafkaProperties properties;
  for (const auto& [name, value] : settings.kafka) {
    properties.set(name, value);
  }
  for (const auto& [name, value] : own) {
    properties.set(name, value);
  }
  properties.set_default("client.id", "trailwatch");
  return properties;
}

/// One Kafka input: its consumer, and a runtime input per assigned partition (per-partition
/// watermarks). Partitions are registered on assignment, before their first record, so that a
/// partition that has not delivered yet holds the watermark back instead of having its records
/// judged late against the others'.
class KafkaInput final : public connectors::KafkaRebalanceListener {
 public:
  /// `restored`: where a restored checkpoint says each partition continues (may be empty).
  /// `before_revoke`: called while partitions are still owned, before they are revoked (live
  /// mode checkpoints there).
  KafkaInput(const pipeline::InputConfig& config, const pipeline::Config& whole,
             pipeline::Runtime& runtime, const LiveCheckpoint& restored,
             std::function<void()> before_revoke)
      : config_(config),
        whole_(whole),
        runtime_(runtime),
        restored_(restored),
        before_revoke_(std::move(before_revoke)) {}

  pipeline::Status open() {
    connectors::KafkaProperties properties = client_properties(whole_.settings, config_.properties);
    properties.set("group.id", config_.group_id);
    pipeline::Result<std::unique_ptr<connectors::KafkaConsumer>> consumer =
        connectors::KafkaConsumer::create(properties, {config_.topic}, this);
    if (!consumer.is_ok()) {
      return {consumer.status().code(),
              "input \"" + config_.name + "\": " + consumer.status().message()};
    }
    consumer_ = std::move(consumer).value();
    // Until its partitions are assigned, this input holds the watermark back: otherwise an
    // input whose group formed first would advance it alone, and this one's records would
    // arrive late (consumer groups of different inputs form at different times).
    unassigned_ = add_runtime_input(runtime_, whole_, config_, config_.name + "/unassigned");
    return {};
  }

  /// Polls one batch into the runtime; returns the number of records.
  pipeline::Result<size_t> poll(std::chrono::milliseconds timeout) {
    pipeline::Result<std::vector<connectors::KafkaRecord>> batch =
        consumer_->poll(kPollRecords, timeout);
    if (!batch.is_ok()) {
      return batch.status();
    }
    const auto now = Clock::now();
    for (connectors::KafkaRecord& r : batch.value()) {
      auto it = partitions_.find(r.partition);
      if (it == partitions_.end()) {
        continue;  // Not assigned any more (revoked inside this poll).
      }
      Partition& p = it->second;
      if (r.offset < p.next_offset) {
        // Fetched before a rebalance handed the partition back and we sought to where we were:
        // already processed.
        continue;
      }
      // simdjson needs readable padding after the record.
      r.value.append(64, ' ');
      const std::string_view record(r.value.data(), r.value.size() - 64);
      source_ = config_.topic + "/" + std::to_string(r.partition);
      runtime_.process(p.input, config_.format, record,
                       pipeline::RecordOrigin{source_, static_cast<uint64_t>(r.offset)});
      p.next_offset = r.offset + 1;
      p.last_record = now;
      p.dirty = true;
    }
    return batch.value().size();
  }

  /// Marks partitions silent for `idle_timeout` and caught up as idle. Returns whether every
  /// partition is idle.
  ///
  /// Idle means quiet *and* caught up: a partition with records still to fetch (a slow fetch,
  /// a broker far away, a loaded machine) keeps holding the watermark however long its records
  /// take, so they are never judged late against the others.
  bool update_idleness(Clock::time_point now, Duration idle_timeout) {
    std::map<int32_t, connectors::KafkaPartitionLag> lags;
    for (const connectors::KafkaPartitionLag& l : consumer_->lag()) {
      lags[l.partition.partition] = l;
    }
    bool all_idle = true;
    for (auto& [partition, p] : partitions_) {
      const auto lag = lags.find(partition);
      const bool caught_up = lag != lags.end() && lag->second.high_watermark >= 0 &&
                             (lag->second.lag == 0 ||
                              (lag->second.lag < 0 && p.next_offset >= lag->second.high_watermark));
      const bool idle =
          caught_up && now - p.last_record > std::chrono::milliseconds(idle_timeout.millis());
      runtime_.set_input_idle(p.input, idle);
      all_idle = all_idle && idle;
    }
    return all_idle;
  }

  /// Adds the next offset of every assigned partition whose position is known.
  void positions(LiveCheckpoint& checkpoint) const {
    for (const auto& [partition, p] : partitions_) {
      if (p.next_offset >= 0) {
        checkpoint.kafka_offsets[{config_.topic, partition}] = p.next_offset;
      }
    }
  }

  /// Commits the offsets processed since the last commit. Call only once everything they caused
  /// is durable (emissions delivered and, with a state store, the state checkpointed).
  pipeline::Status commit() {
    std::vector<connectors::KafkaOffset> offsets;
    for (auto& [partition, p] : partitions_) {
      if (p.dirty && p.next_offset >= 0) {
        offsets.push_back({config_.topic, partition, p.next_offset});
      }
    }
    if (offsets.empty()) {
      return {};
    }
    pipeline::Status s = consumer_->commit(offsets);
    if (s.is_ok()) {
      for (auto& [partition, p] : partitions_) {
        p.dirty = false;
      }
    }
    return s;
  }

  pipeline::Status close() { return consumer_ ? consumer_->close() : pipeline::Status(); }

  [[nodiscard]] bool assigned() const { return assigned_once_; }

  [[nodiscard]] int64_t lag() const {
    int64_t total = 0;
    for (const connectors::KafkaPartitionLag& l : consumer_->lag()) {
      total += std::max<int64_t>(l.lag, 0);
    }
    return total;
  }

  [[nodiscard]] const std::string& name() const { return config_.name; }

  void on_assigned(connectors::KafkaConsumer& consumer,
                   const std::vector<connectors::KafkaPartition>& partitions) override {
    assigned_once_ = true;
    std::map<int32_t, Partition> before = std::move(partitions_);
    partitions_.clear();
    for (const connectors::KafkaPartition& kp : partitions) {
      if (auto it = before.find(kp.partition); it != before.end()) {
        // Ours before the rebalance and again now: the state is here, go on where we were.
        const Partition p = it->second;
        before.erase(it);
        if (p.next_offset >= 0) {
          (void)consumer.seek(config_.topic, kp.partition, p.next_offset);
        }
        partitions_[kp.partition] = p;
        continue;
      }
      const pipeline::InputId id = add_runtime_input(
          runtime_, whole_, config_, config_.name + "/" + std::to_string(kp.partition));
      int64_t start = -1;
      if (auto it = restored_.kafka_offsets.find({config_.topic, kp.partition});
          it != restored_.kafka_offsets.end()) {
        // The checkpoint's offset is authoritative: the state reflects exactly what precedes it.
        if (consumer.seek(config_.topic, kp.partition, it->second).is_ok()) {
          start = it->second;
        }
      }
      if (start < 0) {
        start = starting_offset(consumer, kp.partition);
      }
      partitions_[kp.partition] = Partition{id, start, Clock::now(), false};
    }
    // Partitions another member owns now no longer hold the watermark back here; nor does the
    // stand-in of the whole input once it has partitions.
    for (auto& [partition, p] : before) {
      runtime_.finish_input(p.input);
    }
    if (unassigned_) {
      runtime_.finish_input(*unassigned_);
      unassigned_.reset();
    }
  }

  void on_revoked(connectors::KafkaConsumer& /*consumer*/,
                  const std::vector<connectors::KafkaPartition>& /*partitions*/) override {
    // Eager protocol: every partition is revoked, then the new assignment arrives
    // (on_assigned). Checkpoint while they are still ours: whoever owns them next restores from
    // it (without a state store, it re-reads from the last commit: at least once). Their state
    // is kept until the assignment says whether they come back. At shutdown the last checkpoint
    // was taken before closing.
    if (before_revoke_ && !closing_) {
      before_revoke_();
    }
  }

  /// Where a partition without a checkpointed offset starts: the group's committed offset, else
  /// per auto.offset.reset (earliest unless set otherwise). Knowing it keeps the position known
  /// before the first record — needed to tell that an empty partition is caught up, and to
  /// checkpoint it. -1 when the broker cannot tell now (the first record will).
  int64_t starting_offset(connectors::KafkaConsumer& consumer, int32_t partition) {
    constexpr auto kTimeout = std::chrono::seconds(5);
    auto committed = consumer.committed({{config_.topic, partition}}, kTimeout);
    if (committed.is_ok() && !committed.value().empty() && committed.value()[0].offset >= 0) {
      return committed.value()[0].offset;
    }
    auto marks = consumer.query_watermarks(config_.topic, partition, kTimeout);
    if (!marks.is_ok()) {
      return -1;
    }
    const connectors::KafkaProperties properties =
        client_properties(whole_.settings, config_.properties);
    const std::string* reset = properties.find("auto.offset.reset");
    const bool latest =
        reset != nullptr && (*reset == "latest" || *reset == "end" || *reset == "largest");
    return latest ? marks.value().high : marks.value().low;
  }

  /// Shutdown: the final checkpoint has been taken; the revocation inside close() must not take
  /// another.
  void set_closing() { closing_ = true; }

 private:
  struct Partition {
    pipeline::InputId input;
    int64_t next_offset = -1;  ///< -1 until known (first record, or a restored checkpoint).
    Clock::time_point last_record;
    bool dirty = false;
  };

  const pipeline::InputConfig& config_;
  const pipeline::Config& whole_;
  pipeline::Runtime& runtime_;
  const LiveCheckpoint& restored_;
  std::function<void()> before_revoke_;
  std::unique_ptr<connectors::KafkaConsumer> consumer_;
  std::map<int32_t, Partition> partitions_;
  std::string source_;
  std::optional<pipeline::InputId> unassigned_;  ///< Holds the watermark until assigned.
  bool assigned_once_ = false;
  bool closing_ = false;
};

// ---- State ----------------------------------------------------------------------------------

/// The store `settings.state` names, or null for none. Whose state it holds: the consumer group
/// of the first Kafka input (workers of one group share it), else "trailwatch".
pipeline::Result<std::unique_ptr<connectors::StateStore>> open_state_store(
    const pipeline::Settings& settings, const std::string& config_path) {
  const pipeline::StateConfig& state = settings.state;
  const auto kafka =
      std::find_if(settings.inputs.begin(), settings.inputs.end(),
                   [](const auto& i) { return i.type == pipeline::InputConfig::Type::kKafka; });
  const std::string name = kafka != settings.inputs.end() ? kafka->group_id : "trailwatch";
  switch (state.store) {
    case pipeline::StateConfig::Store::kNone:
      return std::unique_ptr<connectors::StateStore>();
    case pipeline::StateConfig::Store::kDirectory: {
      // Relative to the configuration file, as file inputs are.
      std::filesystem::path directory(state.directory);
      if (directory.is_relative()) {
        directory = std::filesystem::path(config_path).parent_path() / directory;
      }
      TW_ASSIGN_OR_RETURN(std::unique_ptr<connectors::DirectoryStateStore> store,
                          connectors::DirectoryStateStore::open(directory.string(), name));
      return std::unique_ptr<connectors::StateStore>(std::move(store));
    }
    case pipeline::StateConfig::Store::kKafka: {
      if (kafka == settings.inputs.end()) {
        return pipeline::invalid_argument("the kafka state store needs a Kafka input");
      }
      connectors::KafkaStateStore::Options options;
      options.topic = state.topic;
      options.name = name;
      TW_ASSIGN_OR_RETURN(std::unique_ptr<connectors::KafkaStateStore> store,
                          connectors::KafkaStateStore::open(
                              client_properties(settings, kafka->properties), options));
      return std::unique_ptr<connectors::StateStore>(std::move(store));
    }
  }
  return std::unique_ptr<connectors::StateStore>();
}

/// Loads the newest checkpoint from `store` into `runtime` and `restored`; none is fine.
pipeline::Status restore_state(connectors::StateStore& store, pipeline::Runtime& runtime,
                               AlarmBoard& board, LiveCheckpoint& restored, std::ostream& err) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.load());
  if (!bytes) {
    err << "trailwatch run: no checkpoint in " << store.describe() << "; starting empty\n";
    return {};
  }
  TW_ASSIGN_OR_RETURN(LiveCheckpoint checkpoint, decode_live_checkpoint(*bytes));
  TW_RETURN_IF_ERROR(runtime.restore(checkpoint.runtime));
  board.load(checkpoint.board);
  err << "trailwatch run: state restored from " << store.describe() << " (" << bytes->size()
      << " bytes; " << checkpoint.kafka_offsets.size() << " partition offset(s), "
      << checkpoint.file_records.size() << " file position(s))\n";
  restored = std::move(checkpoint);
  return {};
}

struct RunArgs {
  std::string config;
  std::optional<std::string> http_listen;
  std::optional<int> shards;
  bool until_idle = false;
};

std::optional<RunArgs> parse_run_args(const std::vector<std::string>& args, std::ostream& err,
                                      int& exit_code) {
  RunArgs parsed;
  ArgReader reader(args);
  exit_code = kExitUsage;
  while (!reader.done()) {
    const std::string flag = reader.next();
    if (flag == "--until-idle" && !reader.has_inline_value()) {
      parsed.until_idle = true;
      continue;
    }
    if (flag == "--config" || flag == "--http-listen" || flag == "--shards") {
      std::optional<std::string> value = reader.value_for(flag, err);
      if (!value) {
        return std::nullopt;
      }
      if (flag == "--config") {
        parsed.config = std::move(*value);
      } else if (flag == "--http-listen") {
        parsed.http_listen = std::move(*value);
      } else {
        const std::optional<int> n = parse_int(*value);
        if (!n || *n < 1 || *n > 256) {
          err << "trailwatch run: --shards takes an integer from 1 to 256\n";
          return std::nullopt;
        }
        parsed.shards = n;
      }
    } else {
      err << "trailwatch run: unknown option " << flag << "\n" << kUsage << "\n";
      return std::nullopt;
    }
  }
  if (parsed.config.empty()) {
    err << "trailwatch run: --config is required\n" << kUsage << "\n";
    return std::nullopt;
  }
  return parsed;
}

}  // namespace

int run_live(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  (void)out;
  int exit_code = kExitOk;
  const std::optional<RunArgs> parsed = parse_run_args(args, err, exit_code);
  if (!parsed) {
    return exit_code;
  }
  const CheckedConfig loaded = load_checked_config(parsed->config);
  if (!loaded.ok()) {
    for (const pipeline::ConfigProblem& problem : loaded.problems) {
      err << problem.to_string() << "\n";
    }
    return kExitInvalidConfig;
  }
  const pipeline::Config& config = *loaded.config;
  const pipeline::Settings& settings = config.settings;

  // Outputs.
  std::unique_ptr<connectors::KafkaProducer> producer;
  std::vector<std::unique_ptr<LineSink>> sinks;
  auto open_sink = [&](const std::string& target) -> pipeline::Result<LineSink*> {
    if (target.empty()) {
      return static_cast<LineSink*>(nullptr);
    }
    if (target.starts_with("kafka:")) {
      if (!producer) {
        auto created = connectors::KafkaProducer::create(client_properties(settings, {}));
        if (!created.is_ok()) {
          return created.status();
        }
        producer = std::move(created).value();
      }
      sinks.push_back(std::make_unique<KafkaSink>(*producer, target.substr(6)));
      return sinks.back().get();
    }
    auto file = std::make_unique<FileSink>();
    if (const pipeline::Status s = file->open(target); !s.is_ok()) {
      return s;
    }
    sinks.push_back(std::move(file));
    return sinks.back().get();
  };
  std::array<LineSink*, 3> streams{};
  const std::array<const std::string*, 3> targets = {
      &settings.outputs.emissions, &settings.outputs.datapoints, &settings.outputs.dead_letters};
  for (size_t i = 0; i < streams.size(); ++i) {
    pipeline::Result<LineSink*> sink = open_sink(*targets.at(i));
    if (!sink.is_ok()) {
      err << "trailwatch run: " << sink.status().message() << "\n";
      return kExitIoError;
    }
    streams.at(i) = sink.value();
  }

  AlarmBoard board(config);
  LiveOutput output(settings, streams[0], streams[1], streams[2], board);
  LiveMetrics metrics;
  CompositeStage composites(loaded.config);
  int shards = parsed->shards.value_or(settings.shards);
  if (shards <= 0) {
    shards = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  }
  // The configuration the alarms run with; replaced by a reload.
  std::shared_ptr<const pipeline::Config> current = loaded.config;
  std::atomic<uint64_t> evaluations{0};
  const auto processors = [&](int index, int count, pipeline::SeriesInterner& interner) {
    return std::make_unique<AlarmShardProcessor>(
        current, index, count, interner,
        AlarmShardOptions{/*datapoints=*/streams[1] != nullptr, &evaluations});
  };
  pipeline::Runtime runtime(settings,
                            pipeline::RuntimeOptions{shards, evaluation_step(config), &composites},
                            processors, output);

  // HTTP endpoint, first: a long restore must not fail the liveness probe.
  enum class Phase : int { kRestoring, kAssigning, kReady };
  std::atomic<Phase> phase{Phase::kRestoring};
  const std::string listen = parsed->http_listen.value_or(settings.http_listen);
  connectors::HttpServer http(connectors::HttpServerOptions{listen});
  if (!listen.empty()) {
    (void)http.add_handler("/healthz", [](const connectors::HttpRequest&) {
      return connectors::HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
    });
    (void)http.add_handler("/readyz", [&phase](const connectors::HttpRequest&) {
      switch (phase.load()) {
        case Phase::kReady:
          return connectors::HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
        case Phase::kRestoring:
          return connectors::HttpResponse{503, "text/plain; charset=utf-8",
                                          "not ready: restoring state\n"};
        default:
          return connectors::HttpResponse{503, "text/plain; charset=utf-8",
                                          "not ready: inputs not assigned yet\n"};
      }
    });
    (void)http.add_handler("/metrics", connectors::metrics_handler({metrics.registry()}));
    (void)http.add_handler("/api/v1/alarms", [&board](const connectors::HttpRequest& request) {
      return connectors::HttpResponse{200, "application/json",
                                      board.describe(request.query_value("prefix").value_or(""),
                                                     request.query_value("state").value_or(""))};
    });
    if (const pipeline::Status s = http.start(); !s.is_ok()) {
      err << "trailwatch run: http: " << s.message() << "\n";
      return kExitIoError;
    }
    err << "trailwatch run: http endpoint on port " << http.port() << "\n";
  }

  // State: the newest checkpoint is restored before anything is read.
  std::unique_ptr<connectors::StateStore> store;
  LiveCheckpoint restored;
  {
    const auto started = Clock::now();
    pipeline::Result<std::unique_ptr<connectors::StateStore>> opened =
        open_state_store(settings, parsed->config);
    if (!opened.is_ok()) {
      err << "trailwatch run: state: " << opened.status().message() << "\n";
      return kExitIoError;
    }
    store = std::move(opened).value();
    if (store) {
      const pipeline::Status restore_status = restore_state(*store, runtime, board, restored, err);
      if (!restore_status.is_ok()) {
        err << "trailwatch run: state: " << restore_status.message()
            << "\ntrailwatch run: not starting: the state cannot be restored (to start without "
               "it, set trailwatch.state.store to \"none\" or remove the checkpoint)\n";
        return kExitIoError;
      }
    }
    metrics.set_restore_seconds(std::chrono::duration<double>(Clock::now() - started).count());
  }
  phase.store(Phase::kAssigning);

  // Durability: emissions delivered, then (with a store) the state checkpointed together with
  // the input positions it reflects, then those offsets committed. Returns whether it all
  // succeeded.
  std::vector<std::unique_ptr<KafkaInput>> kafka_inputs;
  std::map<std::string, uint64_t> file_positions = restored.file_records;
  bool runtime_finished = false;
  auto last_checkpoint = Clock::now();
  uint64_t progress_at_checkpoint = 0;
  const auto progress = [&] {
    const pipeline::RuntimeStats stats = runtime.stats();
    uint64_t n = stats.watermark_steps;
    for (const pipeline::InputStats& input : stats.inputs) {
      n += input.records;
    }
    return n;
  };
  const auto flush_outputs = [&]() -> bool {
    bool durable = true;
    for (auto& sink : sinks) {
      if (const pipeline::Status s = sink->flush(); !s.is_ok()) {
        err << "trailwatch run: output: " << s.message() << "\n";
        durable = false;
      }
    }
    return durable;
  };
  const auto commit_inputs = [&] {
    for (auto& input : kafka_inputs) {
      if (const pipeline::Status s = input->commit(); !s.is_ok()) {
        err << "trailwatch run: input \"" << input->name() << "\": commit: " << s.message() << "\n";
      }
    }
  };
  const auto checkpoint = [&]() -> bool {
    if (!store || runtime_finished) {
      return false;
    }
    const auto started = Clock::now();
    LiveCheckpoint state;
    state.runtime = runtime.checkpoint();  // Also writes every finished step's emissions.
    if (!flush_outputs()) {
      metrics.checkpoint_done(false, 0, 0);
      return false;
    }
    state.file_records = file_positions;
    state.board = board.save();
    for (const auto& input : kafka_inputs) {
      input->positions(state);
    }
    const std::string bytes = encode(state);
    const pipeline::Status saved = store->save(bytes);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    metrics.checkpoint_done(saved.is_ok(), bytes.size(), seconds);
    if (!saved.is_ok()) {
      err << "trailwatch run: checkpoint: " << saved.message() << "\n";
      return false;
    }
    last_checkpoint = Clock::now();
    progress_at_checkpoint = progress();
    commit_inputs();
    return true;
  };

  // Inputs: files and stdin are read to their end first; Kafka inputs are consumed until stopped.
  for (const pipeline::InputConfig& input : settings.inputs) {
    if (input.type == pipeline::InputConfig::Type::kKafka) {
      kafka_inputs.push_back(std::make_unique<KafkaInput>(input, config, runtime, restored,
                                                          [&checkpoint] { (void)checkpoint(); }));
      if (const pipeline::Status s = kafka_inputs.back()->open(); !s.is_ok()) {
        err << "trailwatch run: " << s.message() << "\n";
        return kExitIoError;
      }
    }
  }

  struct sigaction action {};

  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  struct sigaction reload_action {};

  reload_action.sa_handler = on_reload_signal;
  sigemptyset(&reload_action.sa_mask);
  sigaction(SIGHUP, &reload_action, nullptr);

  // Configuration reload (SIGHUP, or the file changed): alarm definitions change in place, and
  // unchanged alarms keep their state. The trailwatch section (inputs, outputs, Kafka, limits)
  // is read at start only.
  std::error_code mtime_error;
  auto config_mtime = std::filesystem::last_write_time(parsed->config, mtime_error);
  auto last_mtime_check = Clock::now();
  const auto reload = [&] {
    const CheckedConfig next = load_checked_config(parsed->config);
    if (!next.ok()) {
      err << "trailwatch run: reload rejected; the running configuration stays:\n";
      for (const pipeline::ConfigProblem& problem : next.problems) {
        err << problem.to_string() << "\n";
      }
      return;
    }
    auto merged = std::make_shared<pipeline::Config>(*next.config);
    if (!(merged->settings == settings)) {
      err << "trailwatch run: the trailwatch section changed; it takes effect at the next "
             "restart (alarms are reloaded now)\n";
      merged->settings = settings;
    }
    if (evaluation_step(*merged) != evaluation_step(*current)) {
      err << "trailwatch run: reload rejected: adding or removing the only high-resolution "
             "alarms changes the evaluation step; restart instead\n";
      return;
    }
    current = std::move(merged);
    runtime.replace_processors(processors);
    composites.reconfigure(current);
    board.reconfigure(*current);
    err << "trailwatch run: configuration reloaded: " << current->metric_alarms.size()
        << " metric alarm(s), " << current->composite_alarms.size() << " composite alarm(s)\n";
  };

  for (const pipeline::InputConfig& configured : settings.inputs) {
    if (configured.type == pipeline::InputConfig::Type::kKafka) {
      continue;
    }
    const pipeline::InputConfig input = resolve_input_path(configured, parsed->config);
    connectors::FileSource source(file_source_options(input, settings));
    if (const pipeline::Status s = source.open(); !s.is_ok()) {
      err << "trailwatch run: " << s.message() << "\n";
      return kExitIoError;
    }
    const pipeline::InputId id = add_runtime_input(runtime, config, input, input.name);
    uint64_t& position = file_positions[input.name];
    connectors::RuntimeConsumer consumer(runtime, id, position);
    while (!g_stop.load() && source.pump(consumer, kPollRecords)) {
      position = consumer.records();
      if (store && Clock::now() - last_checkpoint >=
                       std::chrono::milliseconds(settings.state.checkpoint_interval.millis())) {
        (void)checkpoint();
      }
    }
    position = consumer.records();
    if (!g_stop.load()) {
      runtime.finish_input(id);
    }
  }

  // The main loop.
  const Duration idle_timeout = settings.idle_timeout;
  const Duration lateness = std::max(settings.metric_lateness, settings.cloudtrail_lateness);
  int code = kExitOk;
  if (kafka_inputs.empty()) {
    phase.store(Phase::kReady);
  }
  uint64_t consumed = 0;
  std::optional<Clock::time_point> first_record;
  Clock::time_point last_record;
  while (!g_stop.load() && !kafka_inputs.empty()) {
    const Clock::time_point cause = Clock::now();
    if (cause - last_mtime_check > std::chrono::seconds(1)) {
      last_mtime_check = cause;
      const auto mtime = std::filesystem::last_write_time(parsed->config, mtime_error);
      if (!mtime_error && mtime != config_mtime) {
        config_mtime = mtime;
        g_reload.store(true);
      }
    }
    if (g_reload.exchange(false)) {
      reload();
    }
    size_t records = 0;
    for (auto& input : kafka_inputs) {
      pipeline::Result<size_t> n = input->poll(kPollTimeout);
      if (!n.is_ok()) {
        err << "trailwatch run: input \"" << input->name() << "\": " << n.status().message()
            << "\n";
        g_stop.store(true);
        code = kExitIoError;
        break;
      }
      records += n.value();
    }
    if (records > 0) {
      consumed += records;
      last_record = Clock::now();
      if (!first_record) {
        first_record = cause;
      }
    }
    const bool assigned = std::all_of(kafka_inputs.begin(), kafka_inputs.end(),
                                      [](const auto& i) { return i->assigned(); });
    phase.store(assigned ? Phase::kReady : Phase::kAssigning);
    const auto now = Clock::now();
    bool all_idle = true;
    for (auto& input : kafka_inputs) {
      all_idle = input->update_idleness(now, idle_timeout) && all_idle;
      metrics.set_consumer_lag(input->name(), input->lag());
    }
    // Only once every input has its partitions: before that, "no partition is active" says
    // nothing about the data.
    if (all_idle && phase.load() == Phase::kReady && !parsed->until_idle) {
      const auto wall = std::chrono::system_clock::now().time_since_epoch();
      runtime.advance_idle_watermark(
          EventTime::from_millis(
              std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()) -
          lateness);
    }
    runtime.collect_finished_steps();
    if (records > 0 || all_idle) {
      // Emissions are delivered at once (latency); offsets are committed only after what they
      // caused is durable: here without a state store, after the next checkpoint with one.
      if (flush_outputs()) {
        const double latency = std::chrono::duration<double>(Clock::now() - cause).count();
        for (; output.undelivered_events > 0; --output.undelivered_events) {
          metrics.observe_latency(latency);
        }
        if (!store) {
          commit_inputs();
        }
      }
    }
    if (store && Clock::now() - last_checkpoint >=
                     std::chrono::milliseconds(settings.state.checkpoint_interval.millis())) {
      if (progress() != progress_at_checkpoint) {
        (void)checkpoint();
      } else {
        last_checkpoint = Clock::now();  // Nothing changed: the last checkpoint is current.
      }
    }
    metrics.update(runtime.stats(), output.transitions, board.count_by_state());
    metrics.set_evaluations(evaluations.load(std::memory_order_relaxed));
    metrics.set_checkpoint_age(
        std::chrono::duration<double>(Clock::now() - last_checkpoint).count());
    if (parsed->until_idle && all_idle && phase.load() == Phase::kReady) {
      break;  // Everything available was consumed, evaluated, delivered and committed.
    }
  }
  if (first_record && consumed > 0) {
    const double seconds = std::chrono::duration<double>(last_record - *first_record).count();
    err << "trailwatch run: consumed " << consumed << " Kafka records in " << seconds
        << " s (first to last record";
    if (seconds > 0) {
      err << ", " << static_cast<uint64_t>(static_cast<double>(consumed) / seconds) << " records/s";
    }
    err << ")\n";
  }

  // Shutdown: what was read is evaluated as far as the watermark allows, written, checkpointed
  // and committed. A run that ends with its input (files only, or --until-idle) evaluates to the
  // newest event time, as replay does (after a last checkpoint: a restart goes on from there, at
  // least once); a stopped live run leaves the rest to the next worker (or to its own restart).
  const bool stopped = g_stop.load();
  const bool ends_with_input =
      kafka_inputs.empty() ? (!stopped || !store) : (parsed->until_idle && !stopped);
  if (store && !checkpoint()) {
    code = kExitIoError;
  }
  if (ends_with_input) {
    runtime.finish();
    runtime_finished = true;
  } else {
    runtime.collect_finished_steps();
  }
  if (!flush_outputs()) {
    code = kExitIoError;
  } else if (!store) {
    commit_inputs();
  }
  for (auto& input : kafka_inputs) {
    input->set_closing();
  }
  for (auto& input : kafka_inputs) {
    (void)input->close();
  }
  http.stop();
  return code;
}

}  // namespace tw::app
