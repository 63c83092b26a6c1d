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

}  // namespace tw::detectors
