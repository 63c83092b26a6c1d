#pragma once

/// Kafka clients over librdkafka: a consumer-group member with manual commits, and an idempotent
/// producer that accounts for every message.
///
/// Both take `KafkaProperties` (any librdkafka property; secrets by `${env:…}` / `${file:…}`
/// reference, resolved by `create()`), report every failure as a `Status`, never throw and never
/// end the process. librdkafka is private to tw::connectors: no librdkafka type appears here.
///
/// Threading. librdkafka runs its own threads (one per broker connection plus a main thread);
/// they never call into trailwatch code except the optional log function. Everything else —
/// records, rebalance listeners, delivery reports — is handed over on the caller's thread, inside
/// `KafkaConsumer::poll`/`close` and `KafkaProducer::produce`/`poll`/`flush`. Each object has one
/// owner thread; none of their methods may be called concurrently.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/kafka_properties.h"
#include "pipeline/status.h"

namespace tw::connectors {

struct KafkaPartition {
  std::string topic;
  int32_t partition = 0;

  auto operator<=>(const KafkaPartition&) const = default;
};

/// A position in a partition. For `commit` and `seek` it is the offset of the next record to read
/// (the last processed offset + 1), as in Kafka.
struct KafkaOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;

  auto operator<=>(const KafkaOffset&) const = default;
};

/// Returned by `KafkaConsumer::committed` for a partition the group has never committed.
inline constexpr int64_t kNoCommittedOffset = -1;

/// One consumed record. Owns its bytes: it stays valid after the next poll.
struct KafkaRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;            ///< Empty when the record has no key.
  std::string value;          ///< The payload, as bytes.
  int64_t timestamp_ms = -1;  ///< Create or log-append time in Unix ms; -1 when absent.
};

struct KafkaWatermarks {
  int64_t low = 0;   ///< The oldest offset still in the log.
  int64_t high = 0;  ///< One past the newest offset.
};

/// Consumer lag of one assigned partition, from cached values (no broker round trip).
struct KafkaPartitionLag {
  KafkaPartition partition;
  int64_t position = -1;        ///< The next offset this consumer will read; -1 if unknown yet.
  int64_t high_watermark = -1;  ///< As of the latest fetch response; -1 if none yet.
  int64_t lag = -1;             ///< high_watermark - position; -1 when either is unknown.
};

/// librdkafka's log lines (syslog levels: 3 error, 4 warning, 6 info, 7 debug). Called from
/// librdkafka's own threads, so it must be thread-safe. When unset, lines go to standard error.
using KafkaLogFunction =
    std::function<void(int level, std::string_view facility, std::string_view message)>;

class KafkaConsumer;

/// Told about partition assignment changes, eager protocol: on a rebalance every partition is
/// revoked, then the new set is assigned. Both calls happen on the caller's thread, from inside
/// `KafkaConsumer::poll` (or `close`, for the final revocation), *before* the consumer changes its
/// assignment:
///   - in `on_revoked` the partitions are still owned: commit what has been processed now;
///   - in `on_assigned`, `consumer.seek()` on one of the partitions sets where it starts (restore
///     from a checkpoint); partitions not sought start at the group's committed offset, or by
///     `auto.offset.reset` when there is none.
class KafkaRebalanceListener {
 public:
  KafkaRebalanceListener() = default;
  virtual ~KafkaRebalanceListener() = default;
  KafkaRebalanceListener(const KafkaRebalanceListener&) = delete;
  KafkaRebalanceListener& operator=(const KafkaRebalanceListener&) = delete;
  KafkaRebalanceListener(KafkaRebalanceListener&&) = delete;
  KafkaRebalanceListener& operator=(KafkaRebalanceListener&&) = delete;

  virtual void on_assigned(KafkaConsumer& consumer,
                           const std::vector<KafkaPartition>& partitions) = 0;

  virtual void on_revoked(KafkaConsumer& consumer,
                          const std::vector<KafkaPartition>& partitions) = 0;
};

struct KafkaConsumerOptions {
  /// Attempts of one `commit` on retriable errors (REBALANCE_IN_PROGRESS, coordinator moving,
  /// timeouts, lost connections), the first included.
  int commit_attempts = 5;
  /// Wait before the second attempt; doubled for each further one, up to 1 s.
  std::chrono::milliseconds commit_backoff{100};
  /// The consumer only takes part in the group: its assigned partitions are paused at once, so
  /// nothing is fetched. The assignment itself is the information (live mode's scale-out: the
  /// partitions of the changelog topic a worker is assigned are the tasks it runs).
  bool membership_only = false;
  KafkaLogFunction log;
};

struct KafkaConsumerStats {
  uint64_t records = 0;     ///< Records returned by poll.
  uint64_t rebalances = 0;  ///< Assignments received.
  uint64_t errors = 0;      ///< Transient errors that librdkafka reported and recovers from itself.
  std::string last_error;   ///< The latest of them, for health reporting.
};

/// A member of a consumer group that commits only when told to (at-least-once: records after the
/// last commit are delivered again after a restart or a rebalance).
///
/// `create` sets, unless the properties set them: `enable.auto.commit=false`,
/// `enable.auto.offset.store=false`, `auto.offset.reset=earliest`,
/// `partition.assignment.strategy=range,roundrobin`. `group.id` and `bootstrap.servers` are
/// required. The cooperative-sticky assignor is refused: the listener contract is eager.
class KafkaConsumer {
 public:
  /// Resolves the properties, creates the client and subscribes to `topics`. `listener`, when not
  /// null, must outlive the consumer. Errors: `invalid_argument` for a property librdkafka
  /// rejects (a sensitive or referenced property's value is never quoted), and those of
  /// `KafkaProperties::resolve`.
  static pipeline::Result<std::unique_ptr<KafkaConsumer>> create(
      const KafkaProperties& properties, const std::vector<std::string>& topics,
      KafkaRebalanceListener* listener = nullptr, KafkaConsumerOptions options = {});

  /// A consumer outside any group: it reads exactly the partitions given to `assign`, from the
  /// offsets given there, and never commits (`commit` and `committed` are `failed_precondition`).
  /// For readers whose positions live elsewhere (live mode's tasks keep them in their
  /// checkpoints). Errors as for `create`; `group.id` is not needed.
  static pipeline::Result<std::unique_ptr<KafkaConsumer>> create_reader(
      const KafkaProperties& properties, KafkaConsumerOptions options = {});

  /// Closes (see `close`) if not closed yet.
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;
  KafkaConsumer(KafkaConsumer&&) = delete;
  KafkaConsumer& operator=(KafkaConsumer&&) = delete;

  /// Waits up to `timeout` for a first record, then takes what is already fetched, up to
  /// `max_records` in all. Records of one partition come in offset order. Rebalance callbacks run
  /// inside. An empty batch is not an error. Errors: `internal` for a fatal client error or a
  /// failed (un)assignment, `failed_precondition` after `close`. Transient errors (a broker down,
  /// a topic not created yet) are counted in `stats()` while librdkafka retries.
  pipeline::Result<std::vector<KafkaRecord>> poll(size_t max_records,
                                                  std::chrono::milliseconds timeout);

  /// Makes the next record read from an assigned partition be at `offset`, discarding what was
  /// prefetched. Inside `on_assigned`, sets the partition's starting offset instead. Errors:
  /// `failed_precondition` for a partition not assigned, `internal` when librdkafka refuses.
  pipeline::Status seek(std::string_view topic, int32_t partition, int64_t offset);

  /// Commits `offsets` (next offsets to read) synchronously. Retriable errors are retried per the
  /// options; then `unavailable`. Inside a rebalance callback only one attempt is made, because
  /// the rebalance cannot finish while the callback runs. `failed_precondition` when the member
  /// was fenced out of the group (its generation is over; another member owns the partitions).
  pipeline::Status commit(const std::vector<KafkaOffset>& offsets);

  /// The group's committed offsets for `partitions`, `kNoCommittedOffset` where there is none.
  pipeline::Result<std::vector<KafkaOffset>> committed(
      const std::vector<KafkaPartition>& partitions, std::chrono::milliseconds timeout);

  /// Asks the partition leader for the low and high watermarks (a broker round trip).
  pipeline::Result<KafkaWatermarks> query_watermarks(std::string_view topic, int32_t partition,
                                                     std::chrono::milliseconds timeout);

  /// Reader only (see `create_reader`): reads `offsets` from now on, replacing any earlier
  /// assignment. Offsets may also be the logical -2 (oldest) and -1 (end). Errors:
  /// `failed_precondition` for a group member, `internal` when librdkafka refuses.
  pipeline::Status assign(const std::vector<KafkaOffset>& offsets);

  /// The number of partitions of `topic`, from the cluster's metadata (a broker round trip).
  /// Errors: `not_found` for a topic the cluster does not have, `unavailable` when no broker
  /// answered within `timeout`.
  pipeline::Result<int32_t> partition_count(std::string_view topic,
                                            std::chrono::milliseconds timeout);

  /// Lag of every assigned partition from cached fetch state; cheap enough for every poll.
  [[nodiscard]] std::vector<KafkaPartitionLag> lag();

  /// The partitions currently assigned, sorted.
  [[nodiscard]] const std::vector<KafkaPartition>& assignment() const;

  /// Revokes the assignment (calling `on_revoked`), leaves the group and stops the client. Does
  /// not commit: commit before, or in `on_revoked`. Further calls do nothing.
  pipeline::Status close();

  [[nodiscard]] bool closed() const;

  [[nodiscard]] KafkaConsumerStats stats() const;

 private:
  struct Impl;
  explicit KafkaConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Reads partition `partition` of `topic` from its oldest record up to its end as of the call,
/// without joining a consumer group (assign, not subscribe) and without committing: how a worker
/// restores its state from a changelog topic. A topic or partition that does not exist reads as
/// empty. Errors: `unavailable` when the partition cannot be read completely within `timeout`
/// (no leader, broker down), and those of `KafkaConsumer::create` for bad properties.
pipeline::Result<std::vector<KafkaRecord>> read_partition(const KafkaProperties& properties,
                                                          const std::string& topic,
                                                          int32_t partition,
                                                          std::chrono::milliseconds timeout);

/// As above, but hands each record to `on_record` as it arrives instead of keeping them all: a
/// changelog can hold many large checkpoints before compaction catches up.
pipeline::Status read_partition(const KafkaProperties& properties, const std::string& topic,
                                int32_t partition, std::chrono::milliseconds timeout,
                                const std::function<void(KafkaRecord&&)>& on_record);

/// A message whose delivery failed for good (after librdkafka's own retries), with everything
/// needed to dead-letter or produce it again.
struct KafkaDeliveryFailure {
  std::string topic;
  int32_t partition = -1;
  std::string key;
  std::string value;
  /// `unavailable` when retrying may help (timed out, no leader), otherwise `internal` or
  /// `invalid_argument` (too large, unknown topic...).
  pipeline::Status error;
};

struct KafkaProducerOptions {
  /// How long `produce` waits for room when librdkafka's local queue is full
  /// (`queue.buffering.max.messages` / `.kbytes`) before giving up with `resource_exhausted`.
  std::chrono::milliseconds queue_full_wait{1000};
  KafkaLogFunction log;
};

/// A producer that knows the fate of every message: acknowledged, failed (kept, with the error),
/// or still outstanding. `create` sets `enable.idempotence=true` unless the properties set it, so
/// librdkafka's retries never duplicate or reorder a partition's messages.
class KafkaProducer {
 public:
  /// Any partition, chosen by librdkafka's partitioner from the key.
  static constexpr int32_t kAnyPartition = -1;

  /// Resolves the properties and creates the client. `bootstrap.servers` is required. Errors as
  /// for `KafkaConsumer::create`.
  static pipeline::Result<std::unique_ptr<KafkaProducer>> create(const KafkaProperties& properties,
                                                                 KafkaProducerOptions options = {});

  /// Purges what is still outstanding (counted as failed) and destroys the client: call `flush`
  /// first to deliver it.
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;
  KafkaProducer(KafkaProducer&&) = delete;
  KafkaProducer& operator=(KafkaProducer&&) = delete;

  /// Queues one message (key and value are copied; an empty key is sent as no key) and serves
  /// the delivery reports that are due. Errors: `resource_exhausted` when the local queue stayed
  /// full, `invalid_argument` (message too large, unknown partition), `internal` after a fatal
  /// producer error. A message that was queued is counted in `outstanding()` until its report.
  pipeline::Status produce(std::string_view topic, std::string_view key, std::string_view value,
                           int32_t partition = kAnyPartition);

  /// Serves due delivery reports, waiting up to `timeout` for one.
  void poll(std::chrono::milliseconds timeout);

  /// Waits up to `timeout` until nothing is outstanding. Ok only when every message produced so
  /// far was acknowledged, or failed and was taken with `take_failures`. Otherwise `unavailable`
  /// (still outstanding, or failures that a retry may fix), `internal` (a fatal producer error, or
  /// failures that will not go away by retrying).
  pipeline::Status flush(std::chrono::milliseconds timeout);

  /// Messages queued and not reported yet.
  [[nodiscard]] uint64_t outstanding() const;

  [[nodiscard]] uint64_t produced() const;

  [[nodiscard]] uint64_t acknowledged() const;

  /// Messages whose delivery failed, in report order, since the last `take_failures`.
  [[nodiscard]] const std::vector<KafkaDeliveryFailure>& failures() const;

  /// Hands the failures over (for a dead-letter output or a retry) and forgets them.
  std::vector<KafkaDeliveryFailure> take_failures();

  /// Failures reported since creation, taken or not.
  [[nodiscard]] uint64_t failed() const;

 private:
  struct Impl;
  explicit KafkaProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::connectors
