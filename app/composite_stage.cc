#include "app/composite_stage.h"

#include <algorithm>
#include <map>

#include "app/action_router.h"
#include "detectors/alarm_payloads.h"

namespace tw::app {

using pipeline::EventTime;

CompositeStage::CompositeStage(std::shared_ptr<const pipeline::Config> config)
    : config_(std::move(config)) {
  std::map<std::string, const pipeline::CompositeAlarmConfig*, std::less<>> by_name;
  for (const pipeline::CompositeAlarmConfig& c : config_->composite_alarms) {
    by_name.emplace(c.alarm_name, &c);
  }
  for (const std::string& name : detectors::topological_order(*config_)) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      continue;
    }
    pipeline::Result<detectors::CompositeAlarm> created =
        detectors::CompositeAlarm::create(*it->second, config_->settings);
    if (created.is_ok()) {
      composites_.push_back(Owned{std::move(created).value()});
    }
  }
}

void CompositeStage::adopt_state(const CompositeStage& previous) {
  if (!previous.initialized_) {
    return;
  }
  std::map<std::string, const detectors::CompositeAlarm*, std::less<>> before;
  for (const Owned& owned : previous.composites_) {
    before.emplace(owned.alarm.name(), &owned.alarm);
  }
  bool all_adopted = true;
  for (Owned& owned : composites_) {
    pipeline::CompositeAlarmConfig mine = owned.alarm.config();
    const auto it = before.find(mine.alarm_name);
    if (it == before.end()) {
      all_adopted = false;
      continue;
    }
    mine.source_pointer = it->second->config().source_pointer;
    if (mine == it->second->config()) {
      owned.alarm = *it->second;
    } else {
      all_adopted = false;
    }
  }
  // New composites still need their first evaluation; adopted ones ignore a second one.
  initialized_ = all_adopted;
  pending_initial_ = !all_adopted;
}

void CompositeStage::save_state(pipeline::StateWriter& out) const {
  pipeline::StateWriter blob;
  blob.boolean(initialized_);
  blob.boolean(pending_initial_);
  blob.u32(sequence_);
  out.entry('c', "", blob.bytes());
  for (const Owned& owned : composites_) {
    blob.clear();
    blob.u64(owned.alarm.config().definition_hash);
    blob.u64(owned.transitions);
    owned.alarm.save(blob);
    out.entry('C', owned.alarm.name(), blob.bytes());
  }
}

void CompositeStage::load_state(const pipeline::StateEntries& entries) {
  const std::optional<std::string_view> stage = entries.find('c', "");
  if (!stage) {
    return;  // A checkpoint taken without composites: all start afresh.
  }
  pipeline::StateReader in(*stage);
  const bool initialized = in.boolean();
  const bool pending_initial = in.boolean();
  const uint32_t sequence = in.u32();
  if (!in.ok()) {
    return;
  }
  sequence_ = sequence;
  if (!initialized) {
    initialized_ = false;  // No step had been taken: nothing to restore.
    pending_initial_ = pending_initial;
    return;
  }
  bool all_restored = !pending_initial;
  for (Owned& owned : composites_) {
    const std::optional<std::string_view> blob = entries.find('C', owned.alarm.name());
    bool restored = false;
    if (blob) {
      pipeline::StateReader entry(*blob);
      const uint64_t hash = entry.u64();
      const uint64_t transitions = entry.u64();
      detectors::CompositeAlarm alarm = owned.alarm;
      if (entry.ok() && hash == owned.alarm.config().definition_hash && alarm.load(entry) &&
          entry.at_end()) {
        owned.alarm = std::move(alarm);
        owned.transitions = transitions;
        restored = true;
      }
    }
    all_restored = all_restored && restored;
  }
  // As after a reload: new composites get their first evaluation at the next step, restored
  // ones ignore it.
  initialized_ = all_restored;
  pending_initial_ = !all_restored;
}

void CompositeStage::reconfigure(std::shared_ptr<const pipeline::Config> config) {
  CompositeStage next(std::move(config));
  next.adopt_state(*this);
  config_ = std::move(next.config_);
  composites_ = std::move(next.composites_);
  initialized_ = next.initialized_;
  pending_initial_ = next.pending_initial_;
}

void CompositeStage::on_step(const pipeline::WatermarkStep& step,
                             std::vector<pipeline::Emission>& emissions) {
  if (composites_.empty()) {
    return;
  }
  // The first evaluation: the run's first one-minute tick (where metric alarms first report).
  const EventTime initial =
      step.origin.floor(pipeline::Duration::minutes(1)) + pipeline::Duration::minutes(1);
  std::vector<pipeline::Emission> added;
  if (pending_initial_) {
    // After a reload that added or changed composites: they are evaluated first thing in this
    // step (the adopted ones ignore it), at the earliest event time the step carries.
    EventTime at = step.watermark;
    for (const pipeline::Emission& e : emissions) {
      at = std::min(at, e.time);
    }
    pending_initial_ = false;
    initialize(at, added);
  }
  for (const pipeline::Emission& e : emissions) {
    if (!e.state_change) {
      continue;
    }
    if (!initialized_ && e.time > initial) {
      initialize(initial, added);
    }
    const std::optional<detectors::AlarmState> state =
        detectors::parse_alarm_state(e.state_change->state);
    if (state) {
      propagate(0, e.state_change->alarm_name, *state, e.time, added);
    }
  }
  if (!initialized_ && step.watermark >= initial) {
    initialize(initial, added);
  }
  // Let suppression periods that ended by the watermark expire, running the actions they held.
  for (size_t i = 0; i < composites_.size(); ++i) {
    scratch_.clear();
    composites_[i].alarm.on_time(step.watermark, scratch_);
    emit_actions(i, std::move(scratch_.actions_due), added);
  }
  emissions.insert(emissions.end(), std::make_move_iterator(added.begin()),
                   std::make_move_iterator(added.end()));
}

void CompositeStage::initialize(EventTime at, std::vector<pipeline::Emission>& added) {
  initialized_ = true;
  for (size_t i = 0; i < composites_.size(); ++i) {
    scratch_.clear();
    composites_[i].alarm.evaluate_initial(at, scratch_);
    const std::vector<detectors::StateTransition> transitions = std::move(scratch_.transitions);
    std::vector<detectors::ActionsDue> due = std::move(scratch_.actions_due);
    for (const detectors::StateTransition& t : transitions) {
      emit(i, t, added);
      propagate(i + 1, t.alarm_name, t.current.value, at, added);
    }
    emit_actions(i, std::move(due), added);
  }
}

void CompositeStage::propagate(size_t first, const std::string& name, detectors::AlarmState state,
                               EventTime at, std::vector<pipeline::Emission>& added) {
  for (size_t i = first; i < composites_.size(); ++i) {
    Owned& owned = composites_[i];
    if (!owned.alarm.depends_on(name)) {
      continue;
    }
    scratch_.clear();
    owned.alarm.on_child_state(name, state, at, scratch_);
    const std::vector<detectors::StateTransition> transitions = std::move(scratch_.transitions);
    std::vector<detectors::ActionsDue> due = std::move(scratch_.actions_due);
    for (const detectors::StateTransition& t : transitions) {
      emit(i, t, added);
      // Parents come later in topological order.
      propagate(i + 1, t.alarm_name, t.current.value, at, added);
    }
    emit_actions(i, std::move(due), added);
  }
}

void CompositeStage::emit(size_t index, const detectors::StateTransition& t,
                          std::vector<pipeline::Emission>& added) {
  Owned& owned = composites_[index];
  ++owned.transitions;
  // Stage 1 + topological position: at one event time, children are written before parents.
  added.push_back(pipeline::Emission{
      t.current.timestamp, pipeline::EmissionStream::kEvents, static_cast<uint32_t>(index + 1),
      t.alarm_name, sequence_++,
      detectors::state_change_event(t, owned.alarm.config(), config_->settings),
      pipeline::StateChangeNote{t.alarm_name, std::string(detectors::to_string(t.current.value))}});
}

void CompositeStage::emit_actions(size_t index, std::vector<detectors::ActionsDue> due,
                                  std::vector<pipeline::Emission>& added) {
  const pipeline::CompositeAlarmConfig& config = composites_[index].alarm.config();
  for (const detectors::ActionsDue& d : due) {
    const pipeline::ActionNotice notice = composite_alarm_notice(
        d.transition, config, config_->settings,
        detectors::state_change_event(d.transition, config, config_->settings));
    add_actions(d.actions, notice, d.transition.current.timestamp, d.at,
                static_cast<uint32_t>(index + 1), sequence_, added);
  }
}

std::vector<AlarmRunSummary> CompositeStage::summaries() const {
  std::vector<AlarmRunSummary> out;
  for (const Owned& owned : composites_) {
    AlarmRunSummary s;
    s.alarm_name = owned.alarm.name();
    s.statistic = "composite";
    s.transitions = owned.transitions;
    s.state = std::string(detectors::to_string(owned.alarm.state().value));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace tw::app
