#pragma once

/// Where live mode keeps its checkpoints: a compacted Kafka changelog topic, or a local directory.
///
/// A store holds the latest checkpoint of one worker state under one name. `save` returns only
/// once the bytes are durable (acknowledged by the brokers with acks=all, or fsynced and renamed
/// into place), so the caller may commit the input offsets the checkpoint reflects. `load`
/// returns the newest *complete* checkpoint: a save interrupted by a crash (kill -9 between two
/// chunks, a half-written temporary file) never hides the previous one.
///
/// Threading: one owner thread.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/kafka.h"
#include "connectors/kafka_properties.h"
#include "pipeline/status.h"

namespace tw::connectors {

class StateStore {
 public:
  StateStore() = default;
  virtual ~StateStore() = default;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;
  StateStore(StateStore&&) = delete;
  StateStore& operator=(StateStore&&) = delete;

  /// The newest complete checkpoint, or nullopt when none was ever saved. Errors: `unavailable`
  /// (store unreachable), `data_loss` (every stored checkpoint is damaged).
  virtual pipeline::Result<std::optional<std::string>> load() = 0;

  /// Stores `bytes` as the newest checkpoint; durable when ok.
  virtual pipeline::Status save(std::string_view bytes) = 0;

  /// For logs and metrics: "kafka:TOPIC[0] key NAME" or "directory:PATH".
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// Checkpoints as `DIR/NAME.checkpoint`: written to a temporary file, fsynced, renamed over the
/// previous one, and the directory fsynced — a crash leaves either the old or the new file.
class DirectoryStateStore final : public StateStore {
 public:
  /// Creates `directory` (and parents) when missing; fails when it cannot.
  static pipeline::Result<std::unique_ptr<DirectoryStateStore>> open(const std::string& directory,
                                                                     const std::string& name);

  pipeline::Result<std::optional<std::string>> load() override;
  pipeline::Status save(std::string_view bytes) override;

  [[nodiscard]] std::string describe() const override { return "directory:" + directory_; }

 private:
  DirectoryStateStore(std::string directory, std::string path)
      : directory_(std::move(directory)), path_(std::move(path)) {}

  std::string directory_;
  std::string path_;
};

/// Checkpoints in one partition (`Options::partition`) of a Kafka topic (make it
/// `cleanup.policy=compact` on real clusters). A checkpoint larger than one message is split into
/// chunks of at most `chunk_bytes`; each chunk carries the checkpoint's sequence number, its index,
/// the chunk count and the checkpoint's CRC-32. Successive checkpoints alternate between two key
/// sets
/// (`NAME/a/I` and `NAME/b/I`), so compaction can never remove a chunk of the newest complete
/// checkpoint while a newer one is only half written.
class KafkaStateStore final : public StateStore {
 public:
  struct Options {
    std::string topic = "trailwatch-state";
    std::string name;  ///< Whose state: live mode uses the consumer group id.
    /// The partition the checkpoints live in: 0, or the task's partition in scale-out mode.
    int32_t partition = 0;
    size_t chunk_bytes = size_t{512} * 1024;
    std::chrono::milliseconds timeout{30'000};  ///< For a whole save or load.
  };

  /// `properties`: the shared Kafka client properties (bootstrap.servers, security...).
  static pipeline::Result<std::unique_ptr<KafkaStateStore>> open(const KafkaProperties& properties,
                                                                 Options options);

  pipeline::Result<std::optional<std::string>> load() override;
  pipeline::Status save(std::string_view bytes) override;
  [[nodiscard]] std::string describe() const override;

 private:
  KafkaStateStore(KafkaProperties properties, Options options,
                  std::unique_ptr<KafkaProducer> producer)
      : properties_(std::move(properties)),
        options_(std::move(options)),
        producer_(std::move(producer)) {}

  KafkaProperties properties_;
  Options options_;
  std::unique_ptr<KafkaProducer> producer_;
  uint64_t sequence_ = 0;  ///< Of the newest checkpoint seen or written.
  bool loaded_ = false;    ///< save() learns the newest sequence first.
};

}  // namespace tw::connectors
