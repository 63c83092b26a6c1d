#pragma once

/// Composite alarms at run time: a coordinator-side stage (pipeline::StepStage) that follows the
/// state changes of every alarm in the merged, ordered emissions of each watermark step and
/// re-evaluates the composites that depend on them (detectors/composite_alarm.h).
///
/// Order within a step: state changes are applied in emission order (event time, then alarm
/// name); for each, composites run in topological order (children first), so a composite's own
/// transition reaches its parents at the same event time. Composite events sort after the
/// metric alarms' at the same event time, children before parents (Emission::stage). A composite's
/// first evaluation happens at the run's first one-minute tick, after the child states of that tick
/// are known (a child starting in OK does not make the composite flip twice). Composite transitions
/// are written as events like metric alarms' (same shape, `configuration` with the rule), stamped
/// with the event time of the change that caused them.
///
/// Because it reads only the merged stream, what it emits does not depend on the shard count.
/// Thread-safety: used by the runtime's coordinator thread only.

#include <memory>
#include <vector>

#include "app/alarm_shard.h"
#include "detectors/composite_alarm.h"
#include "pipeline/config.h"
#include "pipeline/runtime.h"

namespace tw::app {

class CompositeStage final : public pipeline::StepStage {
 public:
  /// Precondition: the configuration passed check_detectors (composites whose rule cannot be
  /// built are skipped).
  explicit CompositeStage(std::shared_ptr<const pipeline::Config> config);

  void on_step(const pipeline::WatermarkStep& step,
               std::vector<pipeline::Emission>& emissions) override;

  [[nodiscard]] size_t alarm_count() const { return composites_.size(); }

  /// Configuration reload: every composite whose definition did not change (and whose
  /// suppressor did not either) continues from its state in `previous` — state, reason, child
  /// states, running suppression periods. New or changed composites start as new alarms do and
  /// are evaluated at the next step, knowing only the child changes since the reload (live mode
  /// will seed them with the children's current states). Call before the first step of the new
  /// configuration.
  void adopt_state(const CompositeStage& previous);

  /// Configuration reload in place: the composites of `config`, each unchanged one continuing
  /// from its current state (as adopt_state). Call between steps.
  void reconfigure(std::shared_ptr<const pipeline::Config> config);

  /// Checkpoint: an entry per composite ('C', by name: definition hash, transitions, state) and
  /// one for the stage ('c').
  void save_state(pipeline::StateWriter& out) const override;

  /// Restore: composites whose entry carries their definition hash continue from it; the others
  /// start as after a reload that added them (adopt_state).
  void load_state(const pipeline::StateEntries& entries) override;

  /// One summary per composite (transitions and final state), in topological order.
  [[nodiscard]] std::vector<AlarmRunSummary> summaries() const;

 private:
  struct Owned {
    detectors::CompositeAlarm alarm;
    uint64_t transitions = 0;
  };

  void initialize(pipeline::EventTime at, std::vector<pipeline::Emission>& added);
  /// Applies a change of `name` to every composite from `first` on, emitting their transitions
  /// and applying those in turn.
  void propagate(size_t first, const std::string& name, detectors::AlarmState state,
                 pipeline::EventTime at, std::vector<pipeline::Emission>& added);
  void emit(size_t index, const detectors::StateTransition& t,
            std::vector<pipeline::Emission>& added);
  /// The actions-stream emissions of composite `index`'s actions that became due.
  void emit_actions(size_t index, std::vector<detectors::ActionsDue> due,
                    std::vector<pipeline::Emission>& added);

  std::shared_ptr<const pipeline::Config> config_;
  std::vector<Owned> composites_;  ///< Topological order.
  bool initialized_ = false;
  bool pending_initial_ = false;  ///< After a reload with new composites.
  uint32_t sequence_ = 0;
  detectors::CompositeOutput scratch_;
};

}  // namespace tw::app
