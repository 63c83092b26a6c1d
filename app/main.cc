// trailwatch: the command-line entry point. Only main() decides exit codes; every subcommand is a
// function returning one, so tests can call them in-process.

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli_args.h"
#include "app/replay_command.h"
#include "app/run_command.h"
#include "app/validate_command.h"

namespace {

constexpr std::string_view kHelp =
    R"(trailwatch — real-time alarms and insights on CloudWatch-shaped metrics and CloudTrail

usage: trailwatch <command> [options]

commands:
  replay    --config FILE [--input PATH ...] [--output FILE] [--datapoints FILE]
            [--dead-letters FILE] [--shards N] [--quiet]
            Run inputs through the runtime in event time and write what the alarms saw and did.
  run       --config FILE [--http-listen HOST:PORT] [--shards N] [--until-idle]
            Live mode: consume the configured inputs (Kafka topics, files, stdin) until stopped;
            write events and dead letters to files, stdout or Kafka; serve /metrics, /healthz,
            /readyz and /api/v1/alarms.
  validate  --config FILE
            Check a configuration file; prints one line per problem.
  version   Print the version.

Documentation: README.md and docs/ in the repository.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kHelp;
    return args.empty() ? tw::app::kExitUsage : tw::app::kExitOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "replay") {
    return tw::app::run_replay(args, std::cout, std::cerr);
  }
  if (command == "run") {
    return tw::app::run_live(args, std::cout, std::cerr);
  }
  if (command == "validate") {
    return tw::app::run_validate(args, std::cout, std::cerr);
  }
  if (command == "version" || command == "--version") {
    std::cout << "trailwatch " << TW_VERSION << "\n";
    return tw::app::kExitOk;
  }
  std::cerr << "trailwatch: unknown command '" << command << "'\n\n" << kHelp;
  return tw::app::kExitUsage;
}
