#pragma once

/// A task of a live worker: a runtime with the alarms it owns, its Kafka inputs, its output and
/// its checkpoints. A worker runs one task that owns everything (single mode) or, in scale-out
/// mode, the tasks its consumer group assigns to it (app/task_plan.h): each such task reads every
/// partition of every input, evaluates only its alarm groups, and checkpoints into its own
/// partition of the changelog topic, so that another worker can take it over exactly.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "app/composite_stage.h"
#include "app/kafka_input.h"
#include "app/live_checkpoint.h"
#include "app/live_output.h"
#include "connectors/state_store.h"
#include "pipeline/config.h"
#include "pipeline/runtime.h"
#include "pipeline/status.h"
#include "pipeline/time.h"

namespace tw::app {

/// What the tasks of one worker share. Everything pointed to outlives the tasks.
struct LiveTaskContext {
  const pipeline::Config* whole = nullptr;  ///< The full configuration (settings, inputs).
  LineSink* events = nullptr;
  LineSink* datapoints = nullptr;
  LineSink* dead_letters = nullptr;
  AlarmBoard* board = nullptr;
  std::map<std::string, uint64_t>* transitions = nullptr;  ///< By new state, all tasks together.
  std::atomic<uint64_t>* evaluations = nullptr;
  int shards = 1;
  pipeline::Duration step;  ///< The whole configuration's evaluation step, in every task alike.
  LineSink* action_lines = nullptr;                    ///< outputs.actions; null when unset.
  connectors::ActionDispatcher* dispatcher = nullptr;  ///< Delivery of actions; null: none.
};

class LiveTask {
 public:
  /// `config`: the alarms this task owns. `index` of `count` tasks (0 of 1 owns everything).
  /// `store`: where its checkpoints live; null for none.
  LiveTask(const LiveTaskContext& context, std::shared_ptr<const pipeline::Config> config,
           int index, int count, std::unique_ptr<connectors::StateStore> store);
  ~LiveTask();
  LiveTask(const LiveTask&) = delete;
  LiveTask& operator=(const LiveTask&) = delete;
  LiveTask(LiveTask&&) = delete;
  LiveTask& operator=(LiveTask&&) = delete;

  [[nodiscard]] int index() const { return index_; }

  /// Loads the store's newest checkpoint into the runtime and the board (the board must know the
  /// task's alarms already). No checkpoint is fine; a damaged one is an error.
  pipeline::Status restore(std::ostream& log);

  /// Creates and opens a KafkaInput for every Kafka input of the configuration.
  pipeline::Status open_kafka_inputs(KafkaInput::Mode mode,
                                     const std::function<void()>& before_revoke);

  /// Polls every input once; returns the records read.
  pipeline::Result<size_t> poll(std::chrono::milliseconds timeout);

  /// Updates idleness; when every partition is idle and `wall_floor` is set, advances the
  /// watermark to it. Returns whether every partition is idle.
  bool update_idleness(Clock::time_point now, pipeline::Duration idle_timeout,
                       std::optional<pipeline::EventTime> wall_floor);

  /// Takes the state (the runtime writes every finished step's emissions first) with the input
  /// positions it reflects. Flush the outputs before `save`.
  LiveCheckpoint snapshot();
  /// Writes `checkpoint` to the store (a no-op without one); returns the bytes written.
  pipeline::Result<size_t> save(const LiveCheckpoint& checkpoint);
  /// Commits input offsets (group members only; call once what they caused is durable).
  void commit(std::ostream& log);

  /// Whether the state changed since the last successful save.
  [[nodiscard]] bool changed_since_save() const;

  /// The alarms changed (reload): unchanged ones keep their state.
  void reconfigure(std::shared_ptr<const pipeline::Config> config);

  [[nodiscard]] bool has_store() const { return store_ != nullptr; }

  [[nodiscard]] bool assigned() const;
  [[nodiscard]] int64_t lag(const std::string& input) const;

  [[nodiscard]] pipeline::Runtime& runtime() { return *runtime_; }

  [[nodiscard]] LiveOutput& output() { return *output_; }

  [[nodiscard]] const std::shared_ptr<const pipeline::Config>& config() const { return config_; }

  [[nodiscard]] const LiveCheckpoint& restored() const { return restored_; }

  [[nodiscard]] std::vector<std::unique_ptr<KafkaInput>>& kafka_inputs() { return kafka_inputs_; }

  [[nodiscard]] std::map<std::string, uint64_t>& file_positions() { return file_positions_; }

  /// The runtime's statistics with only the inputs this task reports (see reporting_task).
  [[nodiscard]] pipeline::RuntimeStats reported_stats() const;

  void close_inputs();

 private:
  [[nodiscard]] uint64_t progress() const;
  /// Puts a checkpoint's pending actions and connector states back into the dispatcher.
  pipeline::Status restore_actions(std::string_view bytes, std::ostream& log);
  void index_alarm_names();

  LiveTaskContext context_;
  std::shared_ptr<const pipeline::Config> config_;
  int index_;
  int count_;
  std::unique_ptr<connectors::StateStore> store_;
  std::unique_ptr<CompositeStage> composites_;
  std::unique_ptr<LiveOutput> output_;
  std::unique_ptr<pipeline::Runtime> runtime_;
  LiveCheckpoint restored_;
  std::vector<std::unique_ptr<KafkaInput>> kafka_inputs_;
  std::map<std::string, uint64_t> file_positions_;
  uint64_t progress_at_save_ = 0;
  /// The names of config_'s alarms: what a scale-out task saves of the shared board.
  std::set<std::string, std::less<>> alarm_names_;
};

}  // namespace tw::app
