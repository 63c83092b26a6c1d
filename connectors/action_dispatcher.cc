#include "connectors/action_dispatcher.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "connectors/action_payloads.h"

namespace tw::connectors {
namespace {

using Clock = std::chrono::steady_clock;
using pipeline::ActionRequest;
using pipeline::ActionTargetConfig;

// Pending actions: format version of their checkpoint entry.
constexpr uint32_t kPendingVersion = 1;

void save_request(pipeline::StateWriter& out, const ActionRequest& r) {
  out.text(r.key);
  out.text(r.action);
  out.time(r.due);
  out.u32(r.repeat);
  const pipeline::ActionNotice& n = r.notice;
  out.text(n.alarm_name);
  out.text(n.alarm_arn);
  out.text(n.alarm_description);
  out.boolean(n.composite);
  out.text(n.account_id);
  out.text(n.region);
  out.text(n.new_state);
  out.text(n.old_state);
  out.text(n.reason);
  out.text(n.reason_data);
  out.time(n.state_change_time);
  out.text(n.namespace_name);
  out.text(n.metric_name);
  for (const auto* pairs : {&n.dimensions, &n.tags}) {
    out.u32(static_cast<uint32_t>(pairs->size()));
    for (const auto& [k, v] : *pairs) {
      out.text(k);
      out.text(v);
    }
  }
  out.optional_f64(n.threshold);
  out.optional_f64(n.metric_value);
  out.text(n.event_json);
  out.text(n.sns_subject);
  out.text(n.sns_message);
}

ActionRequest load_request(pipeline::StateReader& in) {
  ActionRequest r;
  r.key = in.text();
  r.action = in.text();
  r.due = in.time();
  r.repeat = in.u32();
  pipeline::ActionNotice& n = r.notice;
  n.alarm_name = in.text();
  n.alarm_arn = in.text();
  n.alarm_description = in.text();
  n.composite = in.boolean();
  n.account_id = in.text();
  n.region = in.text();
  n.new_state = in.text();
  n.old_state = in.text();
  n.reason = in.text();
  n.reason_data = in.text();
  n.state_change_time = in.time();
  n.namespace_name = in.text();
  n.metric_name = in.text();
  for (auto* pairs : {&n.dimensions, &n.tags}) {
    const uint32_t count = in.count(8);
    for (uint32_t i = 0; i < count && in.ok(); ++i) {
      std::string k(in.text());
      std::string v(in.text());
      pairs->emplace_back(std::move(k), std::move(v));
    }
  }
  n.threshold = in.optional_f64();
  n.metric_value = in.optional_f64();
  n.event_json = in.text();
  n.sns_subject = in.text();
  n.sns_message = in.text();
  return r;
}

/// The built-in target of an ARN action that has no configured target, or nullopt.
std::optional<ActionTargetConfig> builtin_target(std::string_view action,
                                                 const pipeline::DeliveryPolicy& policy) {
  ActionTargetConfig target;
  target.name = std::string(action);
  target.delivery = policy;
  if (const auto automate = parse_automate_arn(action)) {
    const auto operation = ec2_operation(automate->action);
    if (!operation) {
      return std::nullopt;  // recover has no API call we make.
    }
    target.type = ActionTargetConfig::Type::kEc2;
    target.operation = *operation == Ec2Operation::kStop        ? "stop"
                       : *operation == Ec2Operation::kTerminate ? "terminate"
                                                                : "reboot";
    target.region = automate->region;
    return target;
  }
  if (const auto policy_arn = parse_scaling_policy_arn(action)) {
    target.type = ActionTargetConfig::Type::kAutoScaling;
    target.operation = "execute_policy";
    target.policy = std::string(action);
    target.region = policy_arn->region;
    return target;
  }
  return std::nullopt;
}

}  // namespace

std::string format_delivery_failure(const DeliveryFailure& f) {
  nlohmann::ordered_json line;
  line["reason"] = f.reason;
  line["target"] = f.target;
  line["action"] = f.request.action;
  line["key"] = f.request.key;
  line["alarmName"] = f.request.notice.alarm_name;
  line["state"] = f.request.notice.new_state;
  line["attempts"] = f.attempts;
  line["httpStatus"] = f.http_status;
  line["detail"] = f.detail;
  line["time"] = pipeline::format_iso8601_millis(f.request.due);
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void save_pending(pipeline::StateWriter& out, const std::vector<PendingAction>& pending) {
  out.u32(kPendingVersion);
  out.u32(static_cast<uint32_t>(pending.size()));
  for (const PendingAction& p : pending) {
    out.text(p.target);
    out.u32(static_cast<uint32_t>(p.attempts));
    save_request(out, p.request);
  }
}

std::optional<std::vector<PendingAction>> load_pending(std::string_view bytes) {
  pipeline::StateReader in(bytes);
  if (in.u32() != kPendingVersion) {
    return std::nullopt;
  }
  const uint32_t count = in.count(16);
  std::vector<PendingAction> out;
  for (uint32_t i = 0; i < count && in.ok(); ++i) {
    PendingAction p;
    p.target = in.text();
    p.attempts = static_cast<int>(in.u32());
    p.request = load_request(in);
    out.push_back(std::move(p));
  }
  if (!in.ok()) {
    return std::nullopt;
  }
  return out;
}

std::chrono::milliseconds backoff_delay(const pipeline::DeliveryPolicy& policy, int next_attempt,
                                        double unit_random) {
  const double initial = static_cast<double>(policy.initial_backoff.millis());
  const double cap = static_cast<double>(policy.max_backoff.millis());
  const int doublings = std::clamp(next_attempt - 2, 0, 40);
  const double ceiling = std::min(cap, initial * std::ldexp(1.0, doublings));
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::clamp(unit_random, 0.0, 1.0) * ceiling));
}

TokenBucket::TokenBucket(double rate, int burst, Clock::time_point now)
    : rate_(rate), burst_(std::max(1, burst)), tokens_(burst_), last_(now) {
}

std::chrono::milliseconds TokenBucket::take(Clock::time_point now) {
  if (rate_ <= 0) {
    return std::chrono::milliseconds(0);
  }
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  if (elapsed > 0) {
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::chrono::milliseconds(0);
  }
  const double wait_seconds = (1.0 - tokens_) / rate_;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(wait_seconds * 1000.0)));
}

class ActionDispatcher::Impl {
 public:
  struct Item {
    std::shared_ptr<const ActionRequest> request;
    int attempts = 0;
    Clock::time_point not_before;
    Clock::time_point submitted;
  };

  struct Target {
    std::string name;
    pipeline::DeliveryPolicy policy;
    bool dry_run = false;
    std::unique_ptr<ActionConnector> connector;
    TokenBucket bucket{0, 1, Clock::now()};
    std::deque<Item> queue;
    std::set<std::string, std::less<>> queued_keys;  ///< Keys in `queue`.
    bool busy = false;
    /// Wakes this target's thread only (new work, stop): submit() must not wake every target.
    std::condition_variable wake;  ///< The queue's front is being attempted.
    std::thread thread;
    prometheus::Counter* retries = nullptr;
    prometheus::Gauge* depth = nullptr;
    prometheus::Histogram* latency = nullptr;
  };

  explicit Impl(ActionDispatcherOptions options) : options_(std::move(options)) {
    if (!options_.log) {
      options_.log = [](std::string_view line) {
        std::cerr << line << '\n';
      };
    }
    if (options_.registry) {
      deliveries_ = &prometheus::BuildCounter()
                         .Name("trailwatch_action_deliveries_total")
                         .Help(
                             "Actions by target and final outcome (delivered, skipped, "
                             "dry_run, failed, queue_full, unrouted).")
                         .Register(*options_.registry);
      retries_ = &prometheus::BuildCounter()
                      .Name("trailwatch_action_retries_total")
                      .Help("Attempts that were retried after a retryable failure.")
                      .Register(*options_.registry);
      depth_ = &prometheus::BuildGauge()
                    .Name("trailwatch_action_queue_depth")
                    .Help("Actions waiting for their target, the one being attempted included.")
                    .Register(*options_.registry);
      latency_ = &prometheus::BuildHistogram()
                      .Name("trailwatch_action_delivery_latency_seconds")
                      .Help("From submission to the final outcome of an action.")
                      .Register(*options_.registry);
    }
  }

  ~Impl() { stop(); }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  /// Builds and starts every configured target; the first that cannot be built fails it.
  pipeline::Status add_configured_targets() {
    for (const ActionTargetConfig& target : options_.actions.targets) {
      TW_RETURN_IF_ERROR(start_target(target));
    }
    return pipeline::Status::ok();
  }

  void submit(std::shared_ptr<const ActionRequest> request) {
    Target* target = find_or_create(request->action);
    if (target == nullptr) {
      count(request->action, "unrouted");
      const std::lock_guard lock(mutex_);
      if (unrouted_reported_.insert(request->action).second) {
        options_.log("actions: no target for action '" + request->action +
                     "' (configure one under trailwatch.actions.targets); counted as unrouted");
      }
      return;
    }
    std::unique_lock lock(mutex_);
    if (std::cmp_greater_equal(target->queue.size(),
                               static_cast<size_t>(target->policy.queue_capacity))) {
      failures_.push_back(DeliveryFailure{*request, target->name, "queue_full", 0, 0,
                                          "the target's queue holds " +
                                              std::to_string(target->queue.size()) +
                                              " actions (delivery.queue_capacity)"});
      lock.unlock();
      count(target->name, "queue_full");
      return;
    }
    if (target->queued_keys.contains(request->key)) {
      // Emitted again after a restore (the checkpoint listed it, the replayed input made it
      // again): one delivery is enough.
      return;
    }
    const auto now = Clock::now();
    target->queued_keys.insert(request->key);
    target->queue.push_back(Item{std::move(request), 0, now, now});
    update_depth(*target);
    lock.unlock();
    target->wake.notify_one();
  }

  void restore(std::vector<PendingAction> pending) {
    // Grouped by target, in order, then put in front of what is queued.
    std::map<Target*, std::vector<Item>> by_target;
    for (PendingAction& p : pending) {
      Target* target = find_or_create(p.target);
      if (target == nullptr) {
        target = find_or_create(p.request.action);
      }
      if (target == nullptr) {
        count(p.request.action, "unrouted");
        continue;
      }
      const auto now = Clock::now();
      {
        const std::lock_guard lock(mutex_);
        if (!target->queued_keys.insert(p.request.key).second) {
          continue;
        }
      }
      by_target[target].push_back(
          Item{std::make_shared<const ActionRequest>(std::move(p.request)), p.attempts, now, now});
    }
    {
      const std::lock_guard lock(mutex_);
      for (auto& [target, items] : by_target) {
        // Behind the action being attempted, if any: it holds the front.
        const auto at = target->busy ? std::next(target->queue.begin()) : target->queue.begin();
        target->queue.insert(at, std::make_move_iterator(items.begin()),
                             std::make_move_iterator(items.end()));
        update_depth(*target);
      }
    }
    for (const auto& [target, items] : by_target) {
      target->wake.notify_one();
    }
  }

  std::vector<PendingAction> pending() const {
    const std::lock_guard lock(mutex_);
    std::vector<PendingAction> out;
    for (const auto& [name, target] : targets_) {
      for (const Item& item : target->queue) {
        out.push_back(PendingAction{name, item.attempts, *item.request});
      }
    }
    return out;
  }

  std::vector<std::pair<std::string, std::string>> connector_states() const {
    const std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, target] : targets_) {
      std::string state = target->connector->save_state();
      if (!state.empty()) {
        out.emplace_back(name, std::move(state));
      }
    }
    return out;
  }

  void load_connector_states(const std::vector<std::pair<std::string, std::string>>& states) {
    for (const auto& [name, bytes] : states) {
      if (Target* target = find_or_create(name)) {
        const std::lock_guard lock(mutex_);
        target->connector->load_state(bytes);
      }
    }
  }

  std::vector<DeliveryFailure> take_failures() {
    const std::lock_guard lock(mutex_);
    return std::exchange(failures_, {});
  }

  bool wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_cv_.wait_for(lock, timeout, [&] {
      return std::all_of(targets_.begin(), targets_.end(),
                         [](const auto& t) { return t.second->queue.empty(); });
    });
  }

  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    for (auto& [name, target] : targets_) {
      target->wake.notify_one();
    }
    for (auto& [name, target] : targets_) {
      if (target->thread.joinable()) {
        target->thread.join();
      }
    }
  }

 private:
  Target* find_or_create(const std::string& action) {
    {
      const std::lock_guard lock(mutex_);
      if (auto it = targets_.find(action); it != targets_.end()) {
        return it->second.get();
      }
      if (stopping_) {
        return nullptr;
      }
    }
    std::optional<ActionTargetConfig> builtin = builtin_target(action, options_.actions.delivery);
    if (!builtin) {
      return nullptr;
    }
    const std::lock_guard create_lock(create_mutex_);
    {
      const std::lock_guard lock(mutex_);
      if (auto it = targets_.find(action); it != targets_.end()) {
        return it->second.get();
      }
    }
    if (const pipeline::Status s = start_target(*builtin); !s.is_ok()) {
      options_.log("actions: " + s.message());
      return nullptr;
    }
    const std::lock_guard lock(mutex_);
    return targets_.at(action).get();
  }

  /// Builds the connector of `config`, publishes the target and starts its delivery thread.
  pipeline::Status start_target(const ActionTargetConfig& config) {
    // targets_ is only ever added to; a new entry is published under mutex_.
    auto connector = options_.factory(config);
    if (!connector.is_ok()) {
      return pipeline::Status(connector.status().code(), "action target '" + config.name +
                                                             "': " + connector.status().message());
    }
    auto target = std::make_unique<Target>();
    target->name = config.name;
    target->policy = config.delivery;
    target->dry_run = config.dry_run || options_.actions.dry_run;
    target->connector = std::move(connector).value();
    target->bucket =
        TokenBucket(config.delivery.rate_per_second, config.delivery.burst, Clock::now());
    if (options_.registry) {
      target->retries = &retries_->Add({{"target", config.name}});
      target->depth = &depth_->Add({{"target", config.name}});
      target->latency =
          &latency_->Add({{"target", config.name}},
                         prometheus::Histogram::BucketBoundaries{
                             0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300});
    }
    Target* raw = target.get();
    {
      const std::lock_guard lock(mutex_);
      targets_.emplace(config.name, std::move(target));
    }
    raw->thread = std::thread([this, raw] { run(*raw); });
    return pipeline::Status::ok();
  }

  void count(const std::string& target, const std::string& outcome) {
    if (deliveries_ != nullptr) {
      deliveries_->Add({{"target", target}, {"outcome", outcome}}).Increment();
    }
  }

  void update_depth(const Target& target) {
    if (target.depth != nullptr) {
      target.depth->Set(static_cast<double>(target.queue.size()));
    }
  }

  void run(Target& target) {
    std::mt19937_64 random(std::random_device{}());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto maintenance = target.connector->maintenance_interval();
    auto next_maintenance = Clock::now() + maintenance.value_or(std::chrono::hours(24));
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      auto now = Clock::now();
      if (maintenance && now >= next_maintenance && !target.busy) {
        lock.unlock();
        target.connector->maintain(std::chrono::system_clock::now());
        lock.lock();
        next_maintenance = Clock::now() + *maintenance;
        continue;
      }
      if (target.queue.empty()) {
        idle_cv_.notify_all();
        target.wake.wait_until(lock, next_maintenance);
        continue;
      }
      Item& head = target.queue.front();
      if (head.not_before > now) {
        target.wake.wait_until(lock, std::min(head.not_before, next_maintenance));
        continue;
      }
      if (!target.dry_run) {
        if (const auto wait = target.bucket.take(now); wait.count() > 0) {
          target.wake.wait_for(lock, wait);
          continue;
        }
      }
      target.busy = true;
      const std::shared_ptr<const ActionRequest> request = head.request;
      const int attempt = head.attempts + 1;
      lock.unlock();
      AttemptResult result;
      if (target.dry_run) {
        options_.log("actions: dry run: target '" + target.name + "' would " +
                     target.connector->describe(*request) + " (key " + request->key + ")");
        result.outcome = AttemptResult::Outcome::kDelivered;
        result.detail = "dry_run";
      } else {
        result = target.connector->attempt(*request, attempt);
      }
      lock.lock();
      target.busy = false;
      Item& item = target.queue.front();  // Still the front: only this thread pops.
      item.attempts = attempt;
      now = Clock::now();
      std::string outcome;
      switch (result.outcome) {
        case AttemptResult::Outcome::kDelivered:
          outcome = target.dry_run ? "dry_run" : "delivered";
          break;
        case AttemptResult::Outcome::kSkipped:
          outcome = "skipped";
          options_.log("actions: target '" + target.name + "' skipped " + request->key + ": " +
                       result.detail);
          break;
        case AttemptResult::Outcome::kRetry:
          if (attempt < target.policy.max_attempts) {
            auto delay = backoff_delay(target.policy, attempt + 1, unit(random));
            if (result.retry_after) {
              delay = std::max(delay, *result.retry_after);
            }
            item.not_before = now + delay;
            if (target.retries != nullptr) {
              target.retries->Increment();
            }
            continue;
          }
          outcome = "failed";
          failures_.push_back(DeliveryFailure{*request, target.name, "attempts_exhausted", attempt,
                                              result.http_status, result.detail});
          break;
        case AttemptResult::Outcome::kFailed:
          outcome = "failed";
          failures_.push_back(DeliveryFailure{*request, target.name, "rejected", attempt,
                                              result.http_status, result.detail});
          break;
      }
      if (outcome == "failed") {
        options_.log("actions: target '" + target.name + "' failed " + request->key + " after " +
                     std::to_string(attempt) + " attempt(s): " + result.detail);
      }
      if (target.latency != nullptr) {
        target.latency->Observe(std::chrono::duration<double>(now - item.submitted).count());
      }
      target.queued_keys.erase(item.request->key);
      target.queue.pop_front();
      update_depth(target);
      count(target.name, outcome);
    }
  }

 private:
  ActionDispatcherOptions options_;
  mutable std::mutex mutex_;
  std::mutex create_mutex_;
  std::condition_variable idle_cv_;
  std::map<std::string, std::unique_ptr<Target>> targets_;
  std::vector<DeliveryFailure> failures_;
  std::set<std::string> unrouted_reported_;
  bool stopping_ = false;
  prometheus::Family<prometheus::Counter>* deliveries_ = nullptr;
  prometheus::Family<prometheus::Counter>* retries_ = nullptr;
  prometheus::Family<prometheus::Gauge>* depth_ = nullptr;
  prometheus::Family<prometheus::Histogram>* latency_ = nullptr;
};

pipeline::Result<std::unique_ptr<ActionDispatcher>> ActionDispatcher::create(
    ActionDispatcherOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  TW_RETURN_IF_ERROR(impl->add_configured_targets());
  return std::unique_ptr<ActionDispatcher>(new ActionDispatcher(std::move(impl)));
}

ActionDispatcher::ActionDispatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
}

ActionDispatcher::~ActionDispatcher() = default;

void ActionDispatcher::submit(std::shared_ptr<const pipeline::ActionRequest> request) {
  impl_->submit(std::move(request));
}

void ActionDispatcher::restore(std::vector<PendingAction> pending) {
  impl_->restore(std::move(pending));
}

std::vector<PendingAction> ActionDispatcher::pending() const {
  return impl_->pending();
}

std::vector<std::pair<std::string, std::string>> ActionDispatcher::connector_states() const {
  return impl_->connector_states();
}

void ActionDispatcher::load_connector_states(
    const std::vector<std::pair<std::string, std::string>>& states) {
  impl_->load_connector_states(states);
}

std::vector<DeliveryFailure> ActionDispatcher::take_failures() {
  return impl_->take_failures();
}

bool ActionDispatcher::wait_idle(std::chrono::milliseconds timeout) {
  return impl_->wait_idle(timeout);
}

void ActionDispatcher::stop() {
  impl_->stop();
}

}  // namespace tw::connectors
