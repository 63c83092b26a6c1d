#pragma once

// Helpers for the replay suites: run `trailwatch replay` in-process and read its outputs.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/replay_command.h"

namespace tw::testing {

struct ReplayRun {
  int exit_code = -1;
  std::string events;
  std::string datapoints;
  std::string dead_letters;
  std::string actions;
  std::string stderr_text;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Runs replay with `config`, `inputs` and `extra` arguments, writing outputs under `work_dir`.
inline ReplayRun run_replay(const std::filesystem::path& work_dir, const std::string& config,
                            const std::vector<std::string>& inputs,
                            const std::vector<std::string>& extra = {}) {
  std::filesystem::create_directories(work_dir);
  const auto events = work_dir / "events.jsonl";
  const auto datapoints = work_dir / "datapoints.jsonl";
  const auto dead = work_dir / "dead-letters.jsonl";
  const auto actions = work_dir / "actions.jsonl";
  std::vector<std::string> args = {
      "--config",          config,           "--output",    events.string(), "--datapoints",
      datapoints.string(), "--dead-letters", dead.string(), "--actions",     actions.string()};
  for (const std::string& input : inputs) {
    args.push_back("--input");
    args.push_back(input);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  std::ostringstream out;
  std::ostringstream err;
  ReplayRun run;
  run.exit_code = app::run_replay(args, out, err);
  run.events = read_file(events);
  run.datapoints = read_file(datapoints);
  run.dead_letters = read_file(dead);
  run.actions = read_file(actions);
  run.stderr_text = err.str();
  return run;
}

}  // namespace tw::testing
