#pragma once

/// Loading a configuration for a run: the file checks of pipeline/config.h plus the checks that
/// need the detectors — metric math of every Metrics alarm (detectors/metric_math.h) and the
/// composite alarms against each other and the metric alarms (detectors/composite_alarm.h).
/// `validate`, `replay` (and later `run`) all go through here, so they accept and reject exactly
/// the same files with the same messages.

#include <memory>
#include <string>
#include <vector>

#include "pipeline/config.h"

namespace tw::app {

struct CheckedConfig {
  std::shared_ptr<const pipeline::Config> config;  ///< Set only when there are no problems.
  std::vector<pipeline::ConfigProblem> problems;

  [[nodiscard]] bool ok() const { return config != nullptr; }
};

/// The detector-level problems of an already loaded configuration, in document order: each
/// metric alarm's metric math (pointer = the alarm's pointer + "/Metrics/..."), then the
/// composite alarms.
std::vector<pipeline::ConfigProblem> check_detectors(const pipeline::Config& config);

/// load_config, then check_detectors.
CheckedConfig load_checked_config(const std::string& path);

}  // namespace tw::app
