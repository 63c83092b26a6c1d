#include "app/config_check.h"

#include "detectors/composite_alarm.h"
#include "detectors/metric_math.h"

namespace tw::app {

std::vector<pipeline::ConfigProblem> check_detectors(const pipeline::Config& config) {
  std::vector<pipeline::ConfigProblem> problems;
  for (size_t i = 0; i < config.metric_alarms.size(); ++i) {
    const pipeline::MetricAlarmConfig& alarm = config.metric_alarms[i];
    if (alarm.metrics.empty()) {
      continue;
    }
    const std::string base =
        alarm.source_pointer.empty() ? "/MetricAlarms/" + std::to_string(i) : alarm.source_pointer;
    for (detectors::MathProblem& p :
         detectors::check_alarm_metrics(alarm.metrics, alarm.threshold_metric_id)) {
      problems.push_back(
          pipeline::ConfigProblem{config.source_file, base + p.pointer, std::move(p.message)});
    }
  }
  std::vector<pipeline::ConfigProblem> composite = detectors::check_composite_alarms(config);
  problems.insert(problems.end(), std::make_move_iterator(composite.begin()),
                  std::make_move_iterator(composite.end()));
  return problems;
}

CheckedConfig load_checked_config(const std::string& path) {
  pipeline::ConfigLoadResult loaded = pipeline::load_config(path);
  if (!loaded.ok()) {
    return CheckedConfig{nullptr, std::move(loaded.problems)};
  }
  std::vector<pipeline::ConfigProblem> problems = check_detectors(*loaded.config);
  if (!problems.empty()) {
    return CheckedConfig{nullptr, std::move(problems)};
  }
  return CheckedConfig{std::make_shared<const pipeline::Config>(std::move(*loaded.config)), {}};
}

}  // namespace tw::app
