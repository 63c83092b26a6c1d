#include "app/validate_command.h"

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "app/cli_args.h"
#include "app/config_check.h"
#include "pipeline/config.h"

namespace tw::app {
namespace {

constexpr std::string_view kUsage = "usage: trailwatch validate --config FILE";

int usage_error(std::ostream& err, std::string_view problem) {
  err << "trailwatch validate: " << problem << "\n" << kUsage << "\n";
  return kExitUsage;
}

// "1 input", "2 inputs".
std::string count(size_t n, std::string_view noun) {
  std::string text = std::to_string(n) + " " + std::string(noun);
  if (n != 1) {
    text += 's';
  }
  return text;
}

// One line that tells an operator what the engine will run: how many alarms of each kind
// (metric math, anomaly detection and high resolution cost more than plain alarms, so they are
// worth seeing), how many inputs, and the account and Region that ARNs will carry.
std::string summary(const pipeline::Config& config) {
  size_t math = 0;
  size_t anomaly = 0;
  size_t high_resolution = 0;
  for (const pipeline::MetricAlarmConfig& alarm : config.metric_alarms) {
    if (!alarm.threshold_metric_id.empty()) {
      ++anomaly;
    } else if (!alarm.metrics.empty()) {
      ++math;
    }
    if (alarm.high_resolution()) {
      ++high_resolution;
    }
  }
  std::string details;
  const auto add = [&](size_t n, std::string_view what) {
    if (n > 0) {
      details += (details.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(what);
    }
  };
  add(math, "metric math");
  add(anomaly, "anomaly detection");
  add(high_resolution, "high-resolution");

  std::string line =
      config.source_file + ": valid: " + count(config.metric_alarms.size(), "metric alarm");
  if (!details.empty()) {
    line += " (" + details + ")";
  }
  line += ", " + count(config.composite_alarms.size(), "composite alarm") + ", " +
          count(config.settings.inputs.size(), "input") + "; account " +
          config.settings.account_id + ", region " + config.settings.region;
  return line;
}

}  // namespace

int run_validate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::optional<std::string> config_path;
  ArgReader reader(args);
  while (!reader.done()) {
    const std::string arg = reader.next();
    std::optional<std::string> value;
    if (arg == "--help" || arg == "-h") {
      out << kUsage << "\n"
          << "Checks a configuration file: prints a one-line summary if it is valid, otherwise "
             "every problem, one per line, and exits with status 1.\n";
      return kExitOk;
    }
    if (arg != "--config") {
      return usage_error(err, "unexpected argument '" + arg + "'");
    }
    if (!reader.has_inline_value() && reader.done()) {
      return usage_error(err, "--config needs a value");
    }
    std::ostringstream ignored;
    value = reader.value_for(arg, ignored);
    if (config_path.has_value()) {
      return usage_error(err, "--config given more than once");
    }
    if (value->empty()) {
      return usage_error(err, "--config needs a non-empty file name");
    }
    config_path = std::move(value);
  }
  if (!config_path.has_value()) {
    return usage_error(err, "missing --config FILE");
  }

  const CheckedConfig result = load_checked_config(*config_path);
  if (!result.ok()) {
    for (const pipeline::ConfigProblem& problem : result.problems) {
      err << problem.to_string() << "\n";
    }
    return kExitInvalidConfig;
  }
  out << summary(*result.config) << "\n";
  return kExitOk;
}

}  // namespace tw::app
