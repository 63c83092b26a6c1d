// Golden replay tests: every folder under tests/replay/ holds a configuration (alarms.json), its
// inputs (input*.jsonl / input*.json / input*.log / input*.gz, read in name order, or the
// configuration's own inputs when there are none) and the complete expected outputs
// (expected_events.jsonl, expected_datapoints.jsonl, expected_dead_letters.jsonl,
// expected_actions.jsonl: every action that became due, with its idempotency key). The replay
// runs through the same runtime as live mode and must reproduce every byte.
//
// To regenerate after an intended change: TW_UPDATE_GOLDEN=1 ctest -R Golden, then review the
// diff like code.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/replay_test_util.h"

namespace tw::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> golden_cases() {
  std::vector<std::string> cases;
  for (const auto& entry : fs::directory_iterator(fs::path(TW_SOURCE_DIR) / "tests" / "replay")) {
    if (entry.is_directory()) {
      cases.push_back(entry.path().filename().string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class GoldenReplay : public ::testing::TestWithParam<std::string> {};

void compare_or_update(const fs::path& expected, const std::string& actual,
                       const std::string& label) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in the test process calls setenv.
  if (std::getenv("TW_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expected, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(expected)) << expected << " is missing";
  EXPECT_EQ(read_file(expected), actual) << label << " differs from " << expected;
}

TEST_P(GoldenReplay, ReproducesExpectedOutputsExactly) {
  const fs::path dir = fs::path(TW_SOURCE_DIR) / "tests" / "replay" / GetParam();
  // Run from the case's folder with relative paths, so that the sources named in dead letters
  // are the same on every machine.
  fs::current_path(dir);
  std::vector<std::string> inputs;
  for (const auto& entry : fs::directory_iterator(".")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("input", 0) == 0) {
      inputs.push_back(name);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  const fs::path work = fs::absolute(fs::path(::testing::TempDir()) / ("golden_" + GetParam()));
  const ReplayRun run = run_replay(work, "alarms.json", inputs, {"--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  compare_or_update(dir / "expected_events.jsonl", run.events, "events");
  compare_or_update(dir / "expected_datapoints.jsonl", run.datapoints, "datapoints");
  compare_or_update(dir / "expected_dead_letters.jsonl", run.dead_letters, "dead letters");
  compare_or_update(dir / "expected_actions.jsonl", run.actions, "actions");
  // The same run with several shards writes the same bytes.
  const ReplayRun sharded =
      run_replay(work / "sharded", "alarms.json", inputs, {"--quiet", "--shards", "3"});
  ASSERT_EQ(sharded.exit_code, 0) << sharded.stderr_text;
  EXPECT_EQ(sharded.events, run.events);
  EXPECT_EQ(sharded.datapoints, run.datapoints);
  EXPECT_EQ(sharded.dead_letters, run.dead_letters);
  EXPECT_EQ(sharded.actions, run.actions);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenReplay, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace tw::testing
