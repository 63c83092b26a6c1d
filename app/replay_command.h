#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace tw::app {

/// `trailwatch replay --config FILE [--input PATH ...] [--output FILE] [--datapoints FILE]
/// [--dead-letters FILE] [--shards N] [--quiet]`
///
/// Runs the inputs (files or folders; format detected per file; `.gz` handled; `-` is standard
/// input) through the live runtime in event time to the end of input, and writes emissions as
/// JSON lines (`--output`, default the configuration's `outputs.emissions`, default stdout), the
/// alarms' datapoints (`--datapoints`) and dead letters (`--dead-letters`). Prints a one-line
/// summary to `err` unless `--quiet`. Returns a process exit code (cli_args.h).
int run_replay(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace tw::app
