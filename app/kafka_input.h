#pragma once

/// One Kafka input of a live worker: its consumer and a runtime input per assigned partition.

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/inputs.h"
#include "app/live_checkpoint.h"
#include "connectors/kafka.h"
#include "connectors/kafka_properties.h"
#include "pipeline/config.h"
#include "pipeline/runtime.h"
#include "pipeline/time.h"

namespace tw::app {

using Clock = std::chrono::steady_clock;

/// Records taken from a consumer per poll.
inline constexpr size_t kPollRecords = 4096;

/// The librdkafka properties of one client: the shared `trailwatch.kafka` ones, then the
/// client's own over them.
inline connectors::KafkaProperties client_properties(const pipeline::Settings& settings,
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
  /// How the input's partitions come to this worker.
  enum class Mode : uint8_t {
    /// A member of the input's consumer group: the group assigns partitions, offsets are
    /// committed to it (one worker per group, or each worker reading its share).
    kGroupMember,
    /// A reader of every partition of the topic, outside any group, positioned only by the
    /// checkpoint (scale-out: every task of every worker reads the whole input).
    kReader,
  };

  /// `restored`: where a restored checkpoint says each partition continues (may be empty).
  /// `before_revoke`: called while partitions are still owned, before they are revoked (live
  /// mode checkpoints there).
  KafkaInput(const pipeline::InputConfig& config, const pipeline::Config& whole,
             pipeline::Runtime& runtime, const LiveCheckpoint& restored,
             std::function<void()> before_revoke, Mode mode = Mode::kGroupMember)
      : config_(config),
        whole_(whole),
        runtime_(runtime),
        restored_(restored),
        before_revoke_(std::move(before_revoke)),
        mode_(mode) {}

  pipeline::Status open() {
    connectors::KafkaProperties properties = client_properties(whole_.settings, config_.properties);
    if (mode_ == Mode::kReader) {
      return open_reader(properties);
    }
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
  bool update_idleness(Clock::time_point now, pipeline::Duration idle_timeout) {
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
    if (mode_ == Mode::kReader) {
      return {};  // A reader's positions live in the checkpoint only.
    }
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
      add_partition(kp.partition, start);
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
    if (mode_ == Mode::kGroupMember) {
      auto committed = consumer.committed({{config_.topic, partition}}, kTimeout);
      if (committed.is_ok() && !committed.value().empty() && committed.value()[0].offset >= 0) {
        return committed.value()[0].offset;
      }
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
  /// Reader mode: every partition of the topic, each from the restored checkpoint's offset, else
  /// per auto.offset.reset.
  pipeline::Status open_reader(const connectors::KafkaProperties& properties) {
    constexpr auto kMetadataTimeout = std::chrono::seconds(30);
    pipeline::Result<std::unique_ptr<connectors::KafkaConsumer>> consumer =
        connectors::KafkaConsumer::create_reader(properties);
    if (!consumer.is_ok()) {
      return {consumer.status().code(),
              "input \"" + config_.name + "\": " + consumer.status().message()};
    }
    consumer_ = std::move(consumer).value();
    pipeline::Result<int32_t> count = consumer_->partition_count(config_.topic, kMetadataTimeout);
    if (!count.is_ok()) {
      return {count.status().code(), "input \"" + config_.name + "\": " + count.status().message()};
    }
    std::vector<connectors::KafkaOffset> offsets;
    for (int32_t partition = 0; partition < count.value(); ++partition) {
      int64_t start = -1;
      if (auto it = restored_.kafka_offsets.find({config_.topic, partition});
          it != restored_.kafka_offsets.end()) {
        start = it->second;
      } else {
        start = starting_offset(*consumer_, partition);
      }
      if (start < 0) {
        return pipeline::unavailable("input \"" + config_.name + "\": cannot tell where " +
                                     config_.topic + "[" + std::to_string(partition) +
                                     "] starts (no broker answered)");
      }
      add_partition(partition, start);
      offsets.push_back({config_.topic, partition, start});
    }
    assigned_once_ = true;
    return consumer_->assign(offsets);
  }

  void add_partition(int32_t partition, int64_t start) {
    const pipeline::InputId id = add_runtime_input(runtime_, whole_, config_,
                                                   config_.name + "/" + std::to_string(partition));
    partitions_[partition] = Partition{id, start, Clock::now(), false};
  }

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
  Mode mode_;
  std::unique_ptr<connectors::KafkaConsumer> consumer_;
  std::map<int32_t, Partition> partitions_;
  std::string source_;
  std::optional<pipeline::InputId> unassigned_;  ///< Holds the watermark until assigned.
  bool assigned_once_ = false;
  bool closing_ = false;
};

}  // namespace tw::app
