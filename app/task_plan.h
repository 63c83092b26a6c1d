#pragma once

/// Scale-out: how the alarms of one configuration are divided into tasks, the unit a worker of a
/// consumer group owns, checkpoints and hands over.
///
/// An alarm group is what must be evaluated in one place: a composite alarm together with its
/// children and its ActionsSuppressor (transitively, so nested composites join their children's
/// group); every other metric alarm is a group of its own. A group belongs to task
/// `fnv1a64(smallest alarm name in the group) mod tasks`: a pure function of the configuration
/// and the task count, so every worker computes the same plan without talking to the others.
/// Adding an alarm moves no other group; joining groups through a new composite moves the
/// joined alarms to one task (where they start afresh unless that task held them already).

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "pipeline/config.h"

namespace tw::app {

class TaskPlan {
 public:
  /// Precondition: tasks >= 1. Composite rules that do not parse (an invalid configuration, which
  /// validation refuses before this) only put the composite in a group of its own.
  TaskPlan(const pipeline::Config& config, int tasks);

  [[nodiscard]] int tasks() const { return tasks_; }

  /// The task of `alarm_name` (metric or composite); -1 for a name the configuration lacks.
  [[nodiscard]] int task_of(std::string_view alarm_name) const;

  /// The configuration restricted to the alarms of `tasks`: settings unchanged, alarms in their
  /// document order.
  [[nodiscard]] std::shared_ptr<const pipeline::Config> config_for(
      const std::set<int>& tasks) const;

  /// The name of the group `alarm_name` belongs to (its smallest alarm name); empty if unknown.
  [[nodiscard]] std::string group_of(std::string_view alarm_name) const;

 private:
  pipeline::Config config_;
  int tasks_;
  std::map<std::string, std::string, std::less<>> group_;  ///< Alarm name -> group name.
};

/// The task that reports what belongs to no alarm — dead letters and the input counters of one
/// runtime input (a Kafka partition) — so that a group's workers report each of them exactly once
/// although every task reads every record.
int reporting_task(std::string_view runtime_input_name, int tasks);

}  // namespace tw::app
