#include "connectors/action_dispatcher.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <future>
#include <mutex>

#include "connectors/http_server.h"

namespace tw::connectors {
namespace {

using pipeline::ActionRequest;
using pipeline::ActionTargetConfig;
using pipeline::DeliveryPolicy;
using std::chrono::milliseconds;

ActionRequest request(std::string key, std::string action = "t") {
  ActionRequest r;
  r.key = std::move(key);
  r.action = std::move(action);
  r.due = pipeline::EventTime::from_seconds(1'700'000'000);
  r.notice.alarm_name = "HighCPU";
  r.notice.alarm_arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU";
  r.notice.new_state = "ALARM";
  r.notice.old_state = "OK";
  r.notice.dimensions = {{"InstanceId", "i-1"}};
  r.notice.tags = {{"team", "web"}};
  r.notice.threshold = 80;
  r.notice.metric_value = 91.5;
  r.notice.event_json = R"({"id":"x"})";
  return r;
}

TEST(BackoffDelay, IsFullJitterOverTheCappedExponential) {
  DeliveryPolicy p;
  p.initial_backoff = pipeline::Duration::millis(100);
  p.max_backoff = pipeline::Duration::millis(1000);
  EXPECT_EQ(backoff_delay(p, 2, 0.999999), milliseconds(99));  // Before the 2nd: up to 100.
  EXPECT_EQ(backoff_delay(p, 3, 0.5), milliseconds(100));      // Up to 200.
  EXPECT_EQ(backoff_delay(p, 4, 0.5), milliseconds(200));      // Up to 400.
  EXPECT_EQ(backoff_delay(p, 10, 0.5), milliseconds(500));     // Capped at 1000.
  EXPECT_EQ(backoff_delay(p, 60, 1.0), milliseconds(1000));    // No overflow.
  EXPECT_EQ(backoff_delay(p, 3, 0.0), milliseconds(0));
}

TEST(TokenBucket, AllowsABurstThenTheRate) {
  const auto t0 = TokenBucket::Clock::time_point{} + std::chrono::hours(1);
  TokenBucket bucket(2.0, 3, t0);  // 2 per second, 3 at once.
  EXPECT_EQ(bucket.take(t0), milliseconds(0));
  EXPECT_EQ(bucket.take(t0), milliseconds(0));
  EXPECT_EQ(bucket.take(t0), milliseconds(0));
  EXPECT_EQ(bucket.take(t0), milliseconds(500));
  EXPECT_EQ(bucket.take(t0 + milliseconds(250)), milliseconds(250));
  EXPECT_EQ(bucket.take(t0 + milliseconds(500)), milliseconds(0));
  EXPECT_EQ(bucket.take(t0 + milliseconds(10'000)), milliseconds(0));  // Refilled to 3, not 20.
  EXPECT_EQ(bucket.take(t0 + milliseconds(10'000)), milliseconds(0));
  EXPECT_EQ(bucket.take(t0 + milliseconds(10'000)), milliseconds(0));
  EXPECT_GT(bucket.take(t0 + milliseconds(10'000)).count(), 0);
  TokenBucket unlimited(0, 1, t0);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(unlimited.take(t0), milliseconds(0));
  }
}

TEST(PendingActions, RoundTripThroughTheCheckpointCodec) {
  std::vector<PendingAction> pending{{"hook", 2, request("k1")}, {"am", 0, request("k2", "am")}};
  pipeline::StateWriter out;
  save_pending(out, pending);
  const std::string bytes = out.take();
  const auto back = load_pending(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, pending);
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    EXPECT_FALSE(load_pending(std::string_view(bytes).substr(0, cut)).has_value()) << cut;
  }
}

/// A connector whose outcomes the test scripts (the delivery rules are what is under test here;
/// the real connectors are tested against real receivers in action_connectors_test).
class ScriptedConnector final : public ActionConnector {
 public:
  explicit ScriptedConnector(std::vector<AttemptResult> script) : script_(std::move(script)) {}

  AttemptResult attempt(const ActionRequest& r, int attempt) override {
    if (gate.valid()) {
      gate.wait();  // Held until the test lets attempts finish.
    }
    const std::lock_guard lock(mutex_);
    calls.emplace_back(r.key, attempt);
    if (script_.empty()) {
      return AttemptResult::delivered(200);
    }
    AttemptResult result = script_.front();
    script_.erase(script_.begin());
    return result;
  }

  std::string describe(const ActionRequest& r) override { return "POST /hook " + r.key; }

  std::mutex mutex_;
  std::vector<std::pair<std::string, int>> calls;
  std::shared_future<void> gate;

 private:
  std::vector<AttemptResult> script_;
};

struct Rig {
  ScriptedConnector* connector = nullptr;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::vector<std::string> log;
  std::mutex log_mutex;
  std::unique_ptr<ActionDispatcher> dispatcher;

  /// `dry_run`: the target's own; `global_dry_run`: the actions section's.
  Rig(std::vector<AttemptResult> script, DeliveryPolicy policy, bool dry_run = false,
      bool global_dry_run = false) {
    pipeline::ActionsConfig actions;
    actions.dry_run = global_dry_run;
    ActionTargetConfig target;
    target.name = "t";
    target.delivery = policy;
    target.dry_run = dry_run;
    actions.targets.push_back(target);
    auto owned = std::make_unique<ScriptedConnector>(std::move(script));
    connector = owned.get();
    auto holder = std::make_shared<std::unique_ptr<ScriptedConnector>>(std::move(owned));
    auto created = ActionDispatcher::create(
        {actions,
         [holder](const ActionTargetConfig&) -> pipeline::Result<std::unique_ptr<ActionConnector>> {
           return std::unique_ptr<ActionConnector>(std::move(*holder));
         },
         registry,
         [this](std::string_view line) {
           const std::lock_guard lock(log_mutex);
           log.emplace_back(line);
         }});
    EXPECT_TRUE(created.is_ok());
    dispatcher = std::move(created).value();
  }

  double metric(const std::string& name, const std::map<std::string, std::string>& labels) {
    const std::string text = serialize_metrics({registry});
    std::string line = name + "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
      line += (first ? "" : ",") + k + "=\"" + v + "\"";
      first = false;
    }
    line += "} ";
    const auto at = text.find(line);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + line.size()));
  }
};

DeliveryPolicy fast_policy(int attempts = 5) {
  DeliveryPolicy p;
  p.max_attempts = attempts;
  p.initial_backoff = pipeline::Duration::millis(10);
  p.max_backoff = pipeline::Duration::millis(20);
  return p;
}

AttemptResult retry(int status) {
  return {AttemptResult::Outcome::kRetry, status, "HTTP " + std::to_string(status), std::nullopt};
}

TEST(ActionDispatcher, RetriesRetryableFailuresThenDelivers) {
  Rig rig({retry(500), retry(500)}, fast_policy());
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k1")));
  ASSERT_TRUE(rig.dispatcher->wait_idle(std::chrono::seconds(10)));
  const std::vector<std::pair<std::string, int>> expected{{"k1", 1}, {"k1", 2}, {"k1", 3}};
  EXPECT_EQ(rig.connector->calls, expected);
  EXPECT_TRUE(rig.dispatcher->take_failures().empty());
  EXPECT_EQ(
      rig.metric("trailwatch_action_deliveries_total", {{"outcome", "delivered"}, {"target", "t"}}),
      1);
  EXPECT_EQ(rig.metric("trailwatch_action_retries_total", {{"target", "t"}}), 2);
  EXPECT_EQ(rig.metric("trailwatch_action_queue_depth", {{"target", "t"}}), 0);
}

TEST(ActionDispatcher, DeadLettersAfterTheLastAttemptAndOnFinalFailures) {
  Rig rig({retry(503),
           retry(503),
           retry(503),
           {AttemptResult::Outcome::kFailed, 404, "not found", std::nullopt}},
          fast_policy(3));
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k1")));
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k2")));
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k3")));
  ASSERT_TRUE(rig.dispatcher->wait_idle(std::chrono::seconds(10)));
  const auto failures = rig.dispatcher->take_failures();
  ASSERT_EQ(failures.size(), 2U);
  EXPECT_EQ(failures[0].request.key, "k1");
  EXPECT_EQ(failures[0].reason, "attempts_exhausted");
  EXPECT_EQ(failures[0].attempts, 3);
  EXPECT_EQ(failures[0].http_status, 503);
  EXPECT_EQ(failures[1].request.key, "k2");
  EXPECT_EQ(failures[1].reason, "rejected");
  EXPECT_EQ(failures[1].attempts, 1);  // No retry of a 404.
  EXPECT_EQ(format_delivery_failure(failures[1]),
            R"({"reason":"rejected","target":"t","action":"t","key":"k2","alarmName":"HighCPU",)"
            R"("state":"ALARM","attempts":1,"httpStatus":404,"detail":"not found",)"
            R"("time":"2023-11-14T22:13:20.000Z"})");
  // Order kept: k3 only after k1's retries and k2.
  ASSERT_EQ(rig.connector->calls.size(), 5U);
  EXPECT_EQ(rig.connector->calls.back().first, "k3");
  EXPECT_EQ(
      rig.metric("trailwatch_action_deliveries_total", {{"outcome", "failed"}, {"target", "t"}}),
      2);
}

TEST(ActionDispatcher, HonoursRetryAfter) {
  AttemptResult throttled = retry(429);
  throttled.retry_after = milliseconds(300);
  Rig rig({throttled}, fast_policy());
  const auto start = std::chrono::steady_clock::now();
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k1")));
  ASSERT_TRUE(rig.dispatcher->wait_idle(std::chrono::seconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
  EXPECT_EQ(rig.connector->calls.size(), 2U);
}

TEST(ActionDispatcher, DryRunLogsInsteadOfCalling) {
  Rig rig({}, fast_policy(), /*dry_run=*/true);
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k1")));
  ASSERT_TRUE(rig.dispatcher->wait_idle(std::chrono::seconds(10)));
  EXPECT_TRUE(rig.connector->calls.empty());
  ASSERT_EQ(rig.log.size(), 1U);
  EXPECT_EQ(rig.log[0], "actions: dry run: target 't' would POST /hook k1 (key k1)");
  EXPECT_EQ(
      rig.metric("trailwatch_action_deliveries_total", {{"outcome", "dry_run"}, {"target", "t"}}),
      1);
}

TEST(ActionDispatcher, GlobalDryRunCoversEveryTarget) {
  Rig rig({}, fast_policy(), /*dry_run=*/false, /*global_dry_run=*/true);
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k1")));
  ASSERT_TRUE(rig.dispatcher->wait_idle(std::chrono::seconds(10)));
  EXPECT_TRUE(rig.connector->calls.empty());
  EXPECT_EQ(
      rig.metric("trailwatch_action_deliveries_total", {{"outcome", "dry_run"}, {"target", "t"}}),
      1);
}

TEST(ActionDispatcher, BoundsTheQueueAndCountsUnroutedActions) {
  DeliveryPolicy policy = fast_policy(20);
  policy.queue_capacity = 2;
  policy.initial_backoff = pipeline::Duration::seconds(60);  // The first stays at the front.
  policy.max_backoff = pipeline::Duration::seconds(60);
  Rig rig({retry(500), retry(500)}, policy);
  for (const char* key : {"k1", "k2", "k3"}) {
    rig.dispatcher->submit(std::make_shared<ActionRequest>(request(key)));
  }
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k4", "nowhere")));
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k5", "nowhere")));
  const auto failures = rig.dispatcher->take_failures();
  ASSERT_EQ(failures.size(), 1U);
  EXPECT_EQ(failures[0].request.key, "k3");
  EXPECT_EQ(failures[0].reason, "queue_full");
  EXPECT_EQ(rig.metric("trailwatch_action_deliveries_total",
                       {{"outcome", "unrouted"}, {"target", "nowhere"}}),
            2);
  EXPECT_EQ(rig.log.size(), 1U);  // Unrouted is reported once per action.
  // Both queued actions are pending, the one being retried first, with its attempts.
  const auto pending = rig.dispatcher->pending();
  ASSERT_EQ(pending.size(), 2U);
  EXPECT_EQ(pending[0].request.key, "k1");
  EXPECT_EQ(pending[1].request.key, "k2");
  EXPECT_EQ(pending[1].attempts, 0);
  rig.dispatcher->stop();
}

TEST(ActionDispatcher, SpacesDeliveriesByTheTargetsRateLimit) {
  DeliveryPolicy policy = fast_policy();
  policy.rate_per_second = 20;  // One every 50 ms once the burst of 2 is spent.
  policy.burst = 2;
  Rig rig({}, policy);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) {
    rig.dispatcher->submit(std::make_shared<ActionRequest>(request("k" + std::to_string(i))));
  }
  ASSERT_TRUE(rig.dispatcher->wait_idle(std::chrono::seconds(10)));
  // 2 at once, then 4 more at 50 ms intervals: at least 200 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(190));
  EXPECT_EQ(rig.connector->calls.size(), 6U);
}

TEST(ActionDispatcher, RestoresPendingActionsAheadOfNewOnes) {
  std::promise<void> open;
  Rig rig({}, fast_policy());
  rig.connector->gate = open.get_future().share();
  rig.dispatcher->restore({{"t", 1, request("old")}, {"t", 0, request("old")}});
  // The replayed input emits it again while it is still queued: delivered once.
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("old")));
  rig.dispatcher->submit(std::make_shared<ActionRequest>(request("new")));
  open.set_value();
  ASSERT_TRUE(rig.dispatcher->wait_idle(std::chrono::seconds(10)));
  const std::vector<std::pair<std::string, int>> expected{{"old", 2}, {"new", 1}};
  EXPECT_EQ(rig.connector->calls, expected);  // The restored one continues its attempt count.
}

}  // namespace
}  // namespace tw::connectors
