// What handing an action to delivery costs the evaluating thread, and what a dead target costs it:
// the dispatcher's submit() against (a) a target that answers at once and (b) a target whose
// every attempt blocks (a receiver that never answers). Evaluation must not feel (b).
//
//   build/release/bench/action_dispatch_bench [--benchmark_repetitions=5]

#include <benchmark/benchmark.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "connectors/action_dispatcher.h"

namespace tw::connectors {
namespace {

class InstantConnector final : public ActionConnector {
 public:
  AttemptResult attempt(const pipeline::ActionRequest& /*request*/, int /*attempt*/) override {
    return AttemptResult::delivered(200);
  }

  std::string describe(const pipeline::ActionRequest& /*request*/) override { return "instant"; }
};

/// Every attempt waits until the benchmark ends: a receiver that accepts and never answers.
class BlockedConnector final : public ActionConnector {
 public:
  AttemptResult attempt(const pipeline::ActionRequest& /*request*/, int /*attempt*/) override {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return released_; });
    return AttemptResult::delivered(200);
  }

  std::string describe(const pipeline::ActionRequest& /*request*/) override { return "blocked"; }

  void release() {
    const std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
};

std::shared_ptr<const pipeline::ActionRequest> make_request(int64_t i) {
  auto r = std::make_shared<pipeline::ActionRequest>();
  r->key = "0b3f0c3e-6c0f-8a4e-9d2b-7f1c2a3b4c5d/" + std::to_string(i);
  r->action = "t";
  r->notice.alarm_name = "HighCPU";
  r->notice.new_state = "ALARM";
  // The payloads travel by pointer: their size does not matter to submit().
  return r;
}

constexpr int64_t kActions = 1'000'000;

/// state.range(0): the target's queue capacity.
template <typename Connector>
void submit_bench(benchmark::State& state) {
  pipeline::ActionsConfig actions;
  pipeline::ActionTargetConfig target;
  target.name = "t";
  target.delivery.queue_capacity = static_cast<int>(state.range(0));
  actions.targets.push_back(target);
  Connector* connector = nullptr;
  auto created =
      ActionDispatcher::create({actions,
                                [&connector](const pipeline::ActionTargetConfig&)
                                    -> pipeline::Result<std::unique_ptr<ActionConnector>> {
                                  auto c = std::make_unique<Connector>();
                                  connector = c.get();
                                  return std::unique_ptr<ActionConnector>(std::move(c));
                                },
                                nullptr,
                                [](std::string_view) {
                                }});
  auto dispatcher = std::move(created).value();
  std::vector<std::shared_ptr<const pipeline::ActionRequest>> requests;
  for (int64_t i = 0; i < kActions; ++i) {
    requests.push_back(make_request(i));
  }
  size_t next = 0;
  for (auto _ : state) {
    dispatcher->submit(requests[next++]);  // Distinct keys: nothing is deduplicated.
  }
  state.SetItemsProcessed(state.iterations());
  if constexpr (std::is_same_v<Connector, BlockedConnector>) {
    state.counters["queued"] = static_cast<double>(dispatcher->pending().size());
    state.counters["dead_lettered"] = static_cast<double>(dispatcher->take_failures().size());
    connector->release();
  }
  dispatcher->stop();
}

// Each run submits 1,000,000 distinct actions.
BENCHMARK_TEMPLATE(submit_bench, InstantConnector)
    ->Name("submit/answering_target")
    ->Arg(kActions)
    ->Iterations(kActions);
// A dead target while its queue fills (capacity 1,000,000), and once it is full (the default
// 1,000: every further action is dead-lettered at once).
BENCHMARK_TEMPLATE(submit_bench, BlockedConnector)
    ->Name("submit/dead_target_queueing")
    ->Arg(kActions)
    ->Iterations(kActions);
BENCHMARK_TEMPLATE(submit_bench, BlockedConnector)
    ->Name("submit/dead_target_queue_full")
    ->Arg(1000)
    ->Iterations(kActions);

}  // namespace
}  // namespace tw::connectors

BENCHMARK_MAIN();
