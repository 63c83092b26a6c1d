#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace tw::app {

/// `trailwatch validate --config FILE` (also `--config=FILE`).
///
/// Loads and validates the configuration file without starting anything. `args` are the
/// arguments after `validate`.
///
///   * Valid: writes one summary line to `out` and returns kExitOk, e.g.
///     `alarms.json: valid: 12 metric alarms (3 metric math, 1 anomaly detection), 2 composite
///     alarms, 1 input; account 123456789012, region eu-west-1`.
///   * Invalid: writes every problem to `err`, one per line (`file: /json/pointer: message`,
///     see ConfigProblem::to_string), nothing to `out`, and returns kExitInvalidConfig.
///   * Wrong command line: writes what is wrong and the usage line to `err` and returns
///     kExitUsage. `--help` writes the usage to `out` and returns kExitOk.
///
/// Never throws for anything the file contains.
int run_validate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace tw::app
