#include "app/action_router.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "detectors/alarm_payloads.h"

namespace tw::app {
namespace {

using pipeline::ActionNotice;
using pipeline::ActionRequest;
using pipeline::EventTime;

// The configuration time is not known (CloudWatch's AlarmConfigurationUpdatedTimestamp is
// read-only and not kept); the epoch says "unknown" plainly and keeps payloads deterministic.
constexpr EventTime kConfigurationUpdatedUnknown = EventTime::from_millis(0);

template <typename AlarmConfig>
ActionNotice common_notice(const detectors::StateTransition& t, const AlarmConfig& alarm,
                           const pipeline::Settings& settings, std::string event_json) {
  ActionNotice n;
  n.alarm_name = t.alarm_name.empty() ? alarm.alarm_name : t.alarm_name;
  n.alarm_arn = t.alarm_arn.empty() ? pipeline::alarm_arn(settings, alarm.alarm_name) : t.alarm_arn;
  n.alarm_description = alarm.alarm_description;
  n.composite = t.composite;
  n.account_id = settings.account_id;
  n.region = settings.region;
  n.new_state = std::string(detectors::to_string(t.current.value));
  n.old_state = std::string(detectors::to_string(t.previous.value));
  n.reason = t.current.reason;
  n.reason_data = t.current.reason_data;
  n.state_change_time = t.current.timestamp;
  for (const pipeline::Tag& tag : alarm.tags) {
    n.tags.emplace_back(tag.key, tag.value);
  }
  n.event_json = std::move(event_json);
  const detectors::SnsMessage sns =
      detectors::sns_message(t, alarm, settings, kConfigurationUpdatedUnknown);
  n.sns_subject = sns.subject;
  n.sns_message = sns.message;
  return n;
}

std::string action_key(const ActionNotice& notice, EventTime entered, EventTime due, size_t index,
                       uint32_t repeat) {
  const auto state = detectors::parse_alarm_state(notice.new_state);
  std::string key =
      detectors::transition_event_id(notice.alarm_arn, entered,
                                     state.value_or(detectors::AlarmState::kInsufficientData)) +
      "/" + std::to_string(index);
  if (repeat > 0) {
    key += "/r" + std::to_string(repeat);
  } else if (due != entered) {
    key += "/d" + std::to_string(due.millis());
  }
  return key;
}

std::shared_ptr<const ActionRequest> make_request(const std::string& action,
                                                  const ActionNotice& notice, EventTime entered,
                                                  EventTime due, size_t index, uint32_t repeat) {
  auto request = std::make_shared<ActionRequest>();
  request->key = action_key(notice, entered, due, index, repeat);
  request->action = action;
  request->due = due;
  request->repeat = repeat;
  request->notice = notice;
  return request;
}

}  // namespace

bool repeats_every_minute(std::string_view action, const pipeline::ActionsConfig& actions) {
  if (action.starts_with("arn:aws:autoscaling:") || action.starts_with("arn:aws-cn:autoscaling:") ||
      action.starts_with("arn:aws-us-gov:autoscaling:")) {
    return true;
  }
  const pipeline::ActionTargetConfig* target = actions.find(action);
  return target != nullptr && target->type == pipeline::ActionTargetConfig::Type::kAutoScaling;
}

ActionNotice metric_alarm_notice(const detectors::StateTransition& t,
                                 const pipeline::MetricAlarmConfig& alarm,
                                 const pipeline::Settings& settings, std::string event_json,
                                 std::optional<double> metric_value) {
  ActionNotice n = common_notice(t, alarm, settings, std::move(event_json));
  n.namespace_name = alarm.namespace_name;
  n.metric_name = alarm.metric_name;
  for (const pipeline::Dimension& d : alarm.dimensions) {
    n.dimensions.emplace_back(d.name, d.value);
  }
  n.threshold = alarm.threshold;
  n.metric_value = metric_value;
  return n;
}

ActionNotice composite_alarm_notice(const detectors::StateTransition& t,
                                    const pipeline::CompositeAlarmConfig& alarm,
                                    const pipeline::Settings& settings, std::string event_json) {
  return common_notice(t, alarm, settings, std::move(event_json));
}

void add_actions(const std::vector<std::string>& actions, const ActionNotice& notice,
                 EventTime entered, EventTime due, uint32_t repeat, bool only_repeating,
                 const pipeline::ActionsConfig& config, pipeline::EmissionBuffer& out) {
  for (size_t i = 0; i < actions.size(); ++i) {
    if (only_repeating && !repeats_every_minute(actions[i], config)) {
      continue;
    }
    auto request = make_request(actions[i], notice, entered, due, i, repeat);
    std::string line = format_action_line(*request);
    out.add_action(due, notice.alarm_name, std::move(line), std::move(request));
  }
}

void add_actions(const std::vector<std::string>& actions, const ActionNotice& notice,
                 EventTime entered, EventTime due, uint32_t stage, uint32_t& sequence,
                 std::vector<pipeline::Emission>& out) {
  for (size_t i = 0; i < actions.size(); ++i) {
    auto request = make_request(actions[i], notice, entered, due, i, 0);
    std::string line = format_action_line(*request);
    out.push_back(pipeline::Emission{due, pipeline::EmissionStream::kActions, stage,
                                     notice.alarm_name, sequence++, std::move(line), std::nullopt,
                                     std::move(request)});
  }
}

std::string format_action_line(const ActionRequest& request) {
  nlohmann::ordered_json line;
  line["time"] = pipeline::format_iso8601_millis(request.due);
  line["key"] = request.key;
  line["alarmName"] = request.notice.alarm_name;
  line["alarmArn"] = request.notice.alarm_arn;
  line["state"] = request.notice.new_state;
  line["previousState"] = request.notice.old_state;
  line["action"] = request.action;
  line["repeat"] = request.repeat;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tw::app
