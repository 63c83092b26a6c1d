#pragma once

/// MockKafkaCluster: librdkafka's in-process mock Kafka cluster, for tests, the
/// `trailwatch-mock-kafka` tool and trying trailwatch out without a broker.
///
/// The brokers speak the real Kafka protocol on loopback ports (`127.0.0.1:<ephemeral>`), so any
/// client — KafkaConsumer, KafkaProducer, kcat, another process — connects to `bootstraps()`.
/// They run on librdkafka threads inside this process and hold everything in memory.
///
/// Limits of librdkafka 2.0.2's mock (see connectors/README.md for the whole list):
///   - no CreateTopics: create topics here (auto-created ones get 4 partitions);
///   - consumer groups work, but are timer-driven: the first join takes ~3 s, a later rebalance
///     `session.timeout.ms` − 1 s; use session timeouts of 4–6 s (below ~3 s groups never form);
///   - OffsetCommit is refused with REBALANCE_IN_PROGRESS while a group rebalances;
///   - each partition keeps about 5 MiB; older records are dropped silently;
///   - a broker taken down keeps its partitions' leadership: move it with
///     `set_partition_leader`;
///   - transactions are protocol-only (offsets sent in a transaction are not stored).
///
/// Thread-safety: every method may be called from any thread; the cluster applies changes on its
/// own thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/status.h"

namespace tw::connectors {

/// Kafka protocol request types (ApiKey), for error injection.
enum class KafkaApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kInitProducerId = 22,
};

/// Kafka protocol error codes, plus librdkafka's local kTransport, which makes the mock broker
/// drop the connection instead of answering. Other codes may be cast in.
enum class KafkaErrorCode : int32_t {
  kTransport = -195,
  kNotLeaderForPartition = 6,
  kRequestTimedOut = 7,
  kNetworkException = 13,
  kCoordinatorLoadInProgress = 14,
  kCoordinatorNotAvailable = 15,
  kNotCoordinator = 16,
  kNotEnoughReplicas = 19,
  kNotEnoughReplicasAfterAppend = 20,
  kRebalanceInProgress = 27,
};

class MockKafkaCluster {
 public:
  /// Starts `brokers` brokers (ids 1..brokers, at most 64). Errors: `invalid_argument` for a bad
  /// count, `internal` when librdkafka cannot start the cluster (no loopback sockets).
  static pipeline::Result<std::unique_ptr<MockKafkaCluster>> create(int brokers);

  /// Stops the brokers. Clients still connected see their connections refused from then on:
  /// destroy them first to keep their logs quiet.
  ~MockKafkaCluster();
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;
  MockKafkaCluster(MockKafkaCluster&&) = delete;
  MockKafkaCluster& operator=(MockKafkaCluster&&) = delete;

  /// `host:port,host:port,...`, for `bootstrap.servers`.
  [[nodiscard]] const std::string& bootstraps() const { return bootstraps_; }

  [[nodiscard]] int brokers() const { return brokers_; }

  /// Creates `name` with `partitions` partitions (1..10000), each on `replication` brokers
  /// (1..brokers()). The mock picks each partition's leader; `set_partition_leader` moves it.
  /// `invalid_argument` for bad arguments, `failed_precondition` when the topic exists.
  pipeline::Status create_topic(std::string_view name, int partitions, int replication);

  /// Refuses (down) or accepts again (up) connections to broker `id` (1..brokers()).
  pipeline::Status set_broker_down(int32_t id);

  pipeline::Status set_broker_up(int32_t id);

  /// Makes broker `broker` (1..brokers(), or -1 for no leader) lead the partition. `not_found`
  /// for a partition beyond the topic's; an unknown topic is auto-created first (4 partitions), as
  /// the mock does for clients.
  pipeline::Status set_partition_leader(std::string_view topic, int32_t partition, int32_t broker);

  /// Makes broker `broker` the coordinator of consumer group `group` (by default the mock picks
  /// one by hashing the name), so that a test can take another broker down safely.
  pipeline::Status set_group_coordinator(std::string_view group, int32_t broker);

  /// The next `errors.size()` requests of type `api`, to any broker, fail with these errors, in
  /// order. Requests past them succeed again.
  void push_request_errors(KafkaApiKey api, const std::vector<KafkaErrorCode>& errors);

  /// Forgets errors pushed for `api` that have not fired yet.
  void clear_request_errors(KafkaApiKey api);

 private:
  struct Handles;
  MockKafkaCluster(std::unique_ptr<Handles> handles, int brokers, std::string bootstraps);
  pipeline::Status check_broker(int32_t id) const;

  std::unique_ptr<Handles> handles_;
  int brokers_ = 0;
  std::string bootstraps_;
};

}  // namespace tw::connectors
