#pragma once

/// Actions: what an alarm's AlarmActions / OKActions / InsufficientDataActions ask for when it
/// enters a state, as value types that cross from the detectors (which decide that an action is
/// due) to the connectors (which deliver it). Nothing here does IO.
///
/// An ActionRequest is one entry of one action list, resolved for one transition (or, for Auto
/// Scaling, for one of the per-minute repeats while the alarm stays in the state). Its `key` is
/// the idempotency key every delivery of it carries: derived only from the transition's identity,
/// the action and the repeat number, so a transition emitted again after a restart produces the
/// same key and receivers can drop the duplicate.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/time.h"

namespace tw::pipeline {

/// What a connector needs to know of the transition behind an action: enough to build every
/// payload format without the alarm's configuration. The three payloads CloudWatch itself builds
/// (EventBridge event, SNS subject and message) come ready-made, byte for byte as the events
/// stream and `detectors/alarm_payloads.h` produce them.
struct ActionNotice {
  std::string alarm_name;
  std::string alarm_arn;
  std::string alarm_description;  ///< Empty when the alarm has none.
  bool composite = false;
  std::string account_id;
  std::string region;     ///< Region code, e.g. "us-east-1".
  std::string new_state;  ///< "OK", "ALARM" or "INSUFFICIENT_DATA".
  std::string old_state;
  std::string reason;       ///< StateReason.
  std::string reason_data;  ///< StateReasonData (JSON text); empty when there is none.
  EventTime state_change_time;
  /// The single-metric form's metric; empty for metric-math and composite alarms.
  std::string namespace_name;
  std::string metric_name;
  std::vector<std::pair<std::string, std::string>> dimensions;  ///< (name, value), as configured.
  std::vector<std::pair<std::string, std::string>> tags;        ///< (key, value), as configured.
  std::optional<double> threshold;
  /// The newest datapoint the transition was decided on (Auto Scaling step policies compare it
  /// with the threshold); absent when the reason data holds none.
  std::optional<double> metric_value;
  std::string event_json;   ///< The EventBridge "CloudWatch Alarm State Change" event.
  std::string sns_subject;  ///< `ALARM: "name" in US East (N. Virginia)`.
  std::string sns_message;  ///< The SNS `Message` JSON.

  bool operator==(const ActionNotice&) const = default;
};

/// One action to run.
struct ActionRequest {
  /// The idempotency key: `<transition event id>/<index of the action in its list>` and, for a
  /// repeat, `/r<repeat>`. Stable across restarts and replays.
  std::string key;
  /// The action list entry, verbatim: an ARN (`arn:aws:sns:…`, `arn:aws:automate:…`,
  /// `arn:aws:autoscaling:…`) or the name of a configured target.
  std::string action;
  /// The event time the action became due: the transition, the end of an action suppression
  /// period, or a per-minute repeat.
  EventTime due;
  /// 0 for the action of the transition itself; n for the n-th per-minute repeat of an Auto
  /// Scaling action while the alarm stays in the state.
  uint32_t repeat = 0;
  ActionNotice notice;

  bool operator==(const ActionRequest&) const = default;
};

}  // namespace tw::pipeline
