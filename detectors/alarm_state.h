#pragma once

/// Alarm states and state transitions: the vocabulary shared by metric alarms, composite alarms
/// and the payloads built from their transitions (EventBridge events, SNS messages).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/state_codec.h"
#include "pipeline/time.h"

namespace tw::detectors {

enum class AlarmState : uint8_t { kOk, kAlarm, kInsufficientData };

/// "OK", "ALARM", "INSUFFICIENT_DATA".
std::string_view to_string(AlarmState state);

/// Parses the three state names (exact spelling). nullopt otherwise.
std::optional<AlarmState> parse_alarm_state(std::string_view text);

/// Why a composite alarm's actions are not running (PutCompositeAlarm's ActionsSuppressedBy).
enum class SuppressedBy : uint8_t { kNone, kWaitPeriod, kExtensionPeriod, kAlarm };

/// "WaitPeriod", "ExtensionPeriod", "Alarm"; empty for kNone.
std::string_view to_string(SuppressedBy by);

/// A state as CloudWatch reports it: value, reason text, reason data and when it was entered.
struct StateRecord {
  AlarmState value = AlarmState::kInsufficientData;
  std::string reason;       ///< StateReason text, e.g. "Threshold Crossed: ...".
  std::string reason_data;  ///< StateReasonData: a JSON object as a string; may be empty.
  pipeline::EventTime timestamp;
  /// Composite alarms only: whether and why actions are suppressed in this state.
  SuppressedBy actions_suppressed_by = SuppressedBy::kNone;
  std::string actions_suppressed_reason;

  bool operator==(const StateRecord&) const = default;
};

/// The reason of a newly created alarm, as CloudWatch writes it.
inline constexpr std::string_view kInitialReason = "Unchecked: Initial alarm creation";

/// One state change of one alarm, at an evaluation time (event time).
struct StateTransition {
  std::string alarm_name;
  std::string alarm_arn;
  bool composite = false;
  StateRecord previous;
  StateRecord current;  ///< current.timestamp is the transition time.

  bool operator==(const StateTransition&) const = default;
};

/// Checkpoints: a state record or a transition in the state codec's format. The readers return
/// defaults (and leave `in` failed) on malformed bytes.
void save(pipeline::StateWriter& out, const StateRecord& record);
StateRecord load_state_record(pipeline::StateReader& in);
void save(pipeline::StateWriter& out, const StateTransition& transition);
StateTransition load_state_transition(pipeline::StateReader& in);

}  // namespace tw::detectors
