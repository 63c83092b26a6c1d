#pragma once

/// ActionDispatcher: asynchronous, at-least-once delivery of actions to their targets.
///
/// Contract:
/// - `submit()` never blocks on a target and never fails the caller: evaluation hands actions over
///   and moves on. Each target has its own bounded FIFO queue and its own delivery thread, so a
///   slow or dead receiver delays only its own actions. An action for a full queue is
///   dead-lettered (`queue_full`) at once.
/// - Per target, actions are delivered in the order submitted; an action waiting to be retried
///   holds back the ones behind it (an OK must never overtake the ALARM it resolves).
/// - An attempt that fails retryably (timeout, connection failure, 429, 5xx, AWS throttling) is
///   tried again after a backoff: full jitter, random(0, min(initial · 2^(n−1), max)), and never
///   sooner than a Retry-After the target asked for. Other failures are final. After the last
///   allowed attempt, or a final failure, the action becomes a `DeliveryFailure` with the last
///   response, for the dead-letter output.
/// - Dry-run targets (or a dry-run dispatcher) do not call the target: they log what they would
///   have sent and count it (outcome `dry_run`).
/// - Per-target rate limits: a token bucket; an action waits for its token in the queue.
/// - `pending()` lists every action submitted and not yet finished, with the attempts spent on
///   it, for the checkpoint; `restore()` puts such a list back in front of the queues after a
///   restart. Keys stay the same, so receivers can drop a duplicate.
///
/// Metrics (prometheus, on the registry given): trailwatch_action_deliveries_total{target,
/// outcome}, trailwatch_action_retries_total{target}, trailwatch_action_queue_depth{target},
/// trailwatch_action_delivery_latency_seconds{target} (submit to final outcome).
///
/// Threading: `submit`, `restore`, `pending`, `take_failures` and `stop` may be called from any
/// thread; connectors run on their target's delivery thread only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/action.h"
#include "pipeline/config.h"
#include "pipeline/state_codec.h"
#include "pipeline/status.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace tw::connectors {

/// How one attempt ended.
struct AttemptResult {
  enum class Outcome : uint8_t {
    kDelivered,  ///< The target accepted it.
    kSkipped,    ///< Nothing to do (e.g. already at the scaling bound, or in cooldown).
    kRetry,      ///< Failed; trying again may help.
    kFailed,     ///< Failed for good (a 4xx other than 429, a bad request).
  };
  Outcome outcome = Outcome::kDelivered;
  int http_status = 0;  ///< 0 when no response came.
  /// For logs and dead letters: the error, or an excerpt of the response. Never a secret.
  std::string detail;
  std::optional<std::chrono::milliseconds> retry_after;

  static AttemptResult delivered(int status, std::string detail = {}) {
    return {Outcome::kDelivered, status, std::move(detail), std::nullopt};
  }

  static AttemptResult skipped(std::string detail) {
    return {Outcome::kSkipped, 0, std::move(detail), std::nullopt};
  }
};

/// One target's way of performing an action. Implementations: connectors/action_connectors.h.
class ActionConnector {
 public:
  ActionConnector() = default;
  virtual ~ActionConnector() = default;
  ActionConnector(const ActionConnector&) = delete;
  ActionConnector& operator=(const ActionConnector&) = delete;
  ActionConnector(ActionConnector&&) = delete;
  ActionConnector& operator=(ActionConnector&&) = delete;

  /// One attempt (number `attempt`, from 1). Must not throw; bounded by the policy's timeout.
  virtual AttemptResult attempt(const pipeline::ActionRequest& request, int attempt) = 0;

  /// What `attempt` would send, for dry-run logs: method, URL and body, secrets left out.
  virtual std::string describe(const pipeline::ActionRequest& request) = 0;

  /// Called on the delivery thread when its queue is idle, at least every `maintenance_interval`
  /// (Alertmanager re-sends its firing alerts here).
  virtual void maintain(std::chrono::system_clock::time_point /*now*/) {}

  [[nodiscard]] virtual std::optional<std::chrono::milliseconds> maintenance_interval() const {
    return std::nullopt;
  }

  /// Connector state that must survive a restart (Alertmanager's firing alerts); empty if none.
  [[nodiscard]] virtual std::string save_state() const { return {}; }

  virtual void load_state(std::string_view /*bytes*/) {}
};

/// An action that could not be delivered.
struct DeliveryFailure {
  pipeline::ActionRequest request;
  std::string target;
  std::string reason;  ///< "attempts_exhausted", "rejected", "queue_full", "unrouted".
  int attempts = 0;
  int http_status = 0;
  std::string detail;  ///< The last error or response excerpt.
};

/// The dead-letter line of a failed delivery: {"reason","target","action","key","alarmName",
/// "state","attempts","httpStatus","detail","time"}.
std::string format_delivery_failure(const DeliveryFailure& failure);

/// An action submitted and not yet finished, as checkpointed.
struct PendingAction {
  std::string target;
  int attempts = 0;  ///< Attempts already spent.
  pipeline::ActionRequest request;

  bool operator==(const PendingAction&) const = default;
};

/// Checkpoint encoding of pending actions (state_codec format); decode returns nullopt on
/// malformed bytes.
void save_pending(pipeline::StateWriter& out, const std::vector<PendingAction>& pending);
std::optional<std::vector<PendingAction>> load_pending(std::string_view bytes);

/// The backoff before attempt `next_attempt` (≥ 2): full jitter over the capped exponential.
/// `unit_random` is uniform in [0, 1).
std::chrono::milliseconds backoff_delay(const pipeline::DeliveryPolicy& policy, int next_attempt,
                                        double unit_random);

/// A token bucket on an injected clock: `rate` tokens per second, at most `burst` stored.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double rate, int burst, Clock::time_point now);
  /// Zero when a token was taken now; otherwise how long until one is available (none taken).
  std::chrono::milliseconds take(Clock::time_point now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

/// Builds the connector of a target; nullptr with an error for a target it cannot build.
using ConnectorFactory = std::function<pipeline::Result<std::unique_ptr<ActionConnector>>(
    const pipeline::ActionTargetConfig& target)>;

struct ActionDispatcherOptions {
  pipeline::ActionsConfig actions;
  ConnectorFactory factory;
  /// Where metrics go; nullptr: none.
  std::shared_ptr<prometheus::Registry> registry;
  /// Log lines (dry-run reports, failures); default: standard error.
  std::function<void(std::string_view)> log;
};

class ActionDispatcher {
 public:
  /// Builds every configured target's connector and starts its thread. Fails when a target
  /// cannot be built (an unreadable secret, a bad URL), naming it.
  static pipeline::Result<std::unique_ptr<ActionDispatcher>> create(
      ActionDispatcherOptions options);

  ~ActionDispatcher();
  ActionDispatcher(const ActionDispatcher&) = delete;
  ActionDispatcher& operator=(const ActionDispatcher&) = delete;
  ActionDispatcher(ActionDispatcher&&) = delete;
  ActionDispatcher& operator=(ActionDispatcher&&) = delete;

  /// Hands an action to its target's queue. ARN actions without a configured target
  /// (`arn:aws:automate:…:ec2:…`, Auto Scaling policy ARNs) get a built-in target named by the
  /// ARN; other unknown actions are counted as unrouted and reported once each.
  void submit(std::shared_ptr<const pipeline::ActionRequest> request);

  /// Puts checkpointed actions back (before anything submitted later on the same target).
  void restore(std::vector<PendingAction> pending);

  /// Everything submitted and not finished: queued, waiting for a retry, or being attempted.
  [[nodiscard]] std::vector<PendingAction> pending() const;

  /// The connectors' own state (by target), for the checkpoint, and its restore.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> connector_states() const;
  void load_connector_states(const std::vector<std::pair<std::string, std::string>>& states);

  /// Failed deliveries since the last call, oldest first.
  [[nodiscard]] std::vector<DeliveryFailure> take_failures();

  /// Blocks until every queue is empty and nothing is in flight, or `timeout` passes; true when
  /// idle. (For `--until-idle` runs and tests.)
  bool wait_idle(std::chrono::milliseconds timeout);

  /// Stops the delivery threads after their current attempt; pending actions stay listed.
  void stop();

 private:
  class Impl;
  explicit ActionDispatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::connectors
