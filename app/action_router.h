#pragma once

/// Routing of alarm actions: which entries of an alarm's action lists are due when, as
/// `pipeline::ActionRequest`s on the actions stream (pipeline::EmissionStream::kActions).
///
/// CloudWatch's rules (reference: cloudwatch-alarms.md §2.9, §4.4):
/// - A transition into state S makes every entry of S's list due (OKActions, AlarmActions,
///   InsufficientDataActions), in list order, when ActionsEnabled is true. Nothing else does:
///   staying in a state runs nothing...
/// - ...except Auto Scaling actions, which run again once per minute while the alarm stays in the
///   state (`repeats_every_minute`). The n-th repeat is due n minutes after the transition.
/// - Composite alarms' actions are due when detectors::CompositeAlarm says so (suppression).
///
/// Everything here runs on event time, so replay produces exactly the actions live mode hands to
/// delivery, with the same idempotency keys: `<transition event id>/<list index>` (plus
/// `/r<n>` for repeats and `/d<millis>` for composite actions that ran at the end of a
/// suppression period rather than at the transition).

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "detectors/alarm_state.h"
#include "detectors/composite_alarm.h"
#include "pipeline/action.h"
#include "pipeline/config.h"
#include "pipeline/emission.h"

namespace tw::app {

/// The action list of `alarm` (metric or composite config) for `state`.
template <typename AlarmConfig>
const std::vector<std::string>& action_list(const AlarmConfig& alarm, detectors::AlarmState state) {
  switch (state) {
    case detectors::AlarmState::kOk:
      return alarm.ok_actions;
    case detectors::AlarmState::kAlarm:
      return alarm.alarm_actions;
    case detectors::AlarmState::kInsufficientData:
      break;
  }
  return alarm.insufficient_data_actions;
}

/// Whether `action` runs again every minute while its alarm stays in the state: Auto Scaling
/// policy ARNs and targets of type autoscaling.
bool repeats_every_minute(std::string_view action, const pipeline::ActionsConfig& actions);

/// The notice of a metric alarm's transition (SNS subject and message built here, the
/// EventBridge event passed in as the events stream wrote it).
pipeline::ActionNotice metric_alarm_notice(const detectors::StateTransition& t,
                                           const pipeline::MetricAlarmConfig& alarm,
                                           const pipeline::Settings& settings,
                                           std::string event_json,
                                           std::optional<double> metric_value);

/// The notice of a composite alarm's transition.
pipeline::ActionNotice composite_alarm_notice(const detectors::StateTransition& t,
                                              const pipeline::CompositeAlarmConfig& alarm,
                                              const pipeline::Settings& settings,
                                              std::string event_json);

/// Appends one actions-stream emission per entry of `actions` (all of them, or with
/// `only_repeating` the Auto Scaling ones), due at `due`, at `stage` (0 for the shards). The
/// keys derive from the transition that entered the state: `transition_event_id` of
/// (notice.alarm_arn, `entered`, new state).
void add_actions(const std::vector<std::string>& actions, const pipeline::ActionNotice& notice,
                 pipeline::EventTime entered, pipeline::EventTime due, uint32_t repeat,
                 bool only_repeating, const pipeline::ActionsConfig& config,
                 pipeline::EmissionBuffer& out);

/// The same, for what runs after the shards (composite alarms): emissions at `stage` with
/// sequence numbers from `sequence`.
void add_actions(const std::vector<std::string>& actions, const pipeline::ActionNotice& notice,
                 pipeline::EventTime entered, pipeline::EventTime due, uint32_t stage,
                 uint32_t& sequence, std::vector<pipeline::Emission>& out);

/// The actions-stream line of one request: {"time","key","alarmName","alarmArn","state",
/// "previousState","action","repeat"}.
std::string format_action_line(const pipeline::ActionRequest& request);

}  // namespace tw::app
