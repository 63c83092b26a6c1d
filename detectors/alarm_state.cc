#include "detectors/alarm_state.h"

namespace tw::detectors {

std::string_view to_string(AlarmState state) {
  switch (state) {
    case AlarmState::kOk:
      return "OK";
    case AlarmState::kAlarm:
      return "ALARM";
    case AlarmState::kInsufficientData:
      return "INSUFFICIENT_DATA";
  }
  return "INSUFFICIENT_DATA";
}

std::optional<AlarmState> parse_alarm_state(std::string_view text) {
  if (text == "OK") {
    return AlarmState::kOk;
  }
  if (text == "ALARM") {
    return AlarmState::kAlarm;
  }
  if (text == "INSUFFICIENT_DATA") {
    return AlarmState::kInsufficientData;
  }
  return std::nullopt;
}

std::string_view to_string(SuppressedBy by) {
  switch (by) {
    case SuppressedBy::kNone:
      return "";
    case SuppressedBy::kWaitPeriod:
      return "WaitPeriod";
    case SuppressedBy::kExtensionPeriod:
      return "ExtensionPeriod";
    case SuppressedBy::kAlarm:
      return "Alarm";
  }
  return "";
}

void save(pipeline::StateWriter& out, const StateRecord& record) {
  out.u8(static_cast<uint8_t>(record.value));
  out.text(record.reason);
  out.text(record.reason_data);
  out.time(record.timestamp);
  out.u8(static_cast<uint8_t>(record.actions_suppressed_by));
  out.text(record.actions_suppressed_reason);
}

StateRecord load_state_record(pipeline::StateReader& in) {
  StateRecord record;
  const uint8_t value = in.u8();
  if (value > static_cast<uint8_t>(AlarmState::kInsufficientData)) {
    in.fail("an alarm state is " + std::to_string(value));
  }
  record.value = static_cast<AlarmState>(value);
  record.reason = in.text();
  record.reason_data = in.text();
  record.timestamp = in.time();
  const uint8_t by = in.u8();
  if (by > static_cast<uint8_t>(SuppressedBy::kAlarm)) {
    in.fail("a suppression cause is " + std::to_string(by));
  }
  record.actions_suppressed_by = static_cast<SuppressedBy>(by);
  record.actions_suppressed_reason = in.text();
  return in.ok() ? record : StateRecord{};
}

void save(pipeline::StateWriter& out, const StateTransition& transition) {
  out.text(transition.alarm_name);
  out.text(transition.alarm_arn);
  out.boolean(transition.composite);
  save(out, transition.previous);
  save(out, transition.current);
}

StateTransition load_state_transition(pipeline::StateReader& in) {
  StateTransition t;
  t.alarm_name = in.text();
  t.alarm_arn = in.text();
  t.composite = in.boolean();
  t.previous = load_state_record(in);
  t.current = load_state_record(in);
  return in.ok() ? t : StateTransition{};
}

}  // namespace tw::detectors
