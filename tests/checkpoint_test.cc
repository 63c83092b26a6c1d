// Checkpoints (Runtime::checkpoint / restore) against the golden replay cases: a run that is
// checkpointed at any record, abandoned (as by kill -9) and continued from the checkpoint in a
// fresh runtime — with another shard count — writes exactly what the uninterrupted run writes.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "app/alarm_shard.h"
#include "app/composite_stage.h"
#include "app/config_check.h"
#include "app/inputs.h"
#include "pipeline/metric_decoder.h"
#include "pipeline/runtime.h"
#include "tests/line_diff.h"

namespace tw {
namespace {

namespace fs = std::filesystem;
using testing::first_difference;

struct CaseInput {
  pipeline::InputConfig config;
  std::vector<std::string> lines;
};

struct Case {
  app::CheckedConfig loaded;
  std::vector<CaseInput> inputs;
  // (input index, line index) in the order the runs feed them: round robin over the inputs.
  std::vector<std::pair<size_t, size_t>> order;
};

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

Case load_case(const std::string& name) {
  const fs::path dir = fs::path(TW_SOURCE_DIR) / "tests" / "replay" / name;
  Case c{app::load_checked_config((dir / "alarms.json").string()), {}, {}};
  EXPECT_TRUE(c.loaded.ok()) << name;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("input", 0) == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    pipeline::InputConfig input;
    input.name = file.filename().string();
    input.path = file.string();
    c.inputs.push_back(CaseInput{input, read_lines(file)});
  }
  if (files.empty()) {
    for (const pipeline::InputConfig& configured : c.loaded.config->settings.inputs) {
      const pipeline::InputConfig input =
          app::resolve_input_path(configured, (dir / "alarms.json").string());
      c.inputs.push_back(CaseInput{input, read_lines(input.path)});
    }
  }
  for (size_t line = 0;; ++line) {
    bool any = false;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      if (line < c.inputs[i].lines.size()) {
        c.order.emplace_back(i, line);
        any = true;
      }
    }
    if (!any) {
      break;
    }
  }
  return c;
}

// Everything a run writes, per stream in order (the streams are separate files; how they
// interleave depends on thread timing).
class CollectedOutput final : public pipeline::RuntimeOutput {
 public:
  void write_emissions(std::span<const pipeline::Emission> emissions) override {
    for (const pipeline::Emission& e : emissions) {
      (e.stream == pipeline::EmissionStream::kEvents ? events : points).push_back(e.json);
    }
  }

  void write_dead_letter(const pipeline::DeadLetter& letter) override {
    dead.push_back(std::string(letter.input) + " " +
                   std::string(pipeline::to_string(letter.reason)) + " " +
                   std::string(letter.detail) + " " + std::string(letter.record));
  }

  void append_to(std::vector<std::string>& events_out, std::vector<std::string>& points_out,
                 std::vector<std::string>& dead_out) const {
    events_out.insert(events_out.end(), events.begin(), events.end());
    points_out.insert(points_out.end(), points.begin(), points.end());
    dead_out.insert(dead_out.end(), dead.begin(), dead.end());
  }

  std::vector<std::string> events;
  std::vector<std::string> points;
  std::vector<std::string> dead;
};

// The three streams one after the other, each with a header line.
std::vector<std::string> joined(std::vector<std::string> events, std::vector<std::string> points,
                                std::vector<std::string> dead) {
  std::vector<std::string> all{"-- events"};
  all.insert(all.end(), events.begin(), events.end());
  all.emplace_back("-- datapoints");
  all.insert(all.end(), points.begin(), points.end());
  all.emplace_back("-- dead letters");
  all.insert(all.end(), dead.begin(), dead.end());
  return all;
}

// One runtime wired as `replay` wires it.
class RuntimeRun {
 public:
  RuntimeRun(const Case& c, int shards, CollectedOutput& out)
      : case_(c),
        stage_(c.loaded.config),
        runtime_(
            c.loaded.config->settings,
            pipeline::RuntimeOptions{shards, app::evaluation_step(*c.loaded.config), &stage_},
            [&c](int index, int count, pipeline::SeriesInterner& interner) {
              return std::make_unique<app::AlarmShardProcessor>(c.loaded.config, index, count,
                                                                interner);
            },
            out) {}

  void add_inputs() {
    for (const CaseInput& input : case_.inputs) {
      ids_.push_back(
          app::add_runtime_input(runtime_, *case_.loaded.config, input.config, input.config.name));
    }
  }

  void feed(size_t from, size_t to) {
    for (size_t k = from; k < to; ++k) {
      const auto [input, line] = case_.order[k];
      std::string padded = case_.inputs[input].lines[line];
      const size_t size = padded.size();
      padded.append(pipeline::json_padding(), ' ');
      runtime_.process(ids_[input], case_.inputs[input].config.format,
                       std::string_view(padded).substr(0, size),
                       pipeline::RecordOrigin{case_.inputs[input].config.name, line + 1});
    }
  }

  pipeline::Runtime& runtime() { return runtime_; }

 private:
  const Case& case_;
  app::CompositeStage stage_;
  pipeline::Runtime runtime_;
  std::vector<pipeline::InputId> ids_;
};

std::vector<std::string> uninterrupted(const Case& c) {
  CollectedOutput out;
  RuntimeRun run(c, 1, out);
  run.add_inputs();
  run.feed(0, c.order.size());
  run.runtime().finish();
  return joined(out.events, out.points, out.dead);
}

// Runs to each cut, checkpoints, abandons the runtime, restores into a new one with the next
// shard count and carries on.
std::vector<std::string> interrupted(const Case& c, const std::vector<size_t>& cuts,
                                     const std::vector<int>& shard_counts,
                                     bool inputs_before_restore) {
  std::vector<std::string> events;
  std::vector<std::string> points;
  std::vector<std::string> dead;
  std::string checkpoint;
  size_t from = 0;
  for (size_t leg = 0; leg <= cuts.size(); ++leg) {
    CollectedOutput out;
    auto run = std::make_unique<RuntimeRun>(c, shard_counts[leg % shard_counts.size()], out);
    if (inputs_before_restore) {
      run->add_inputs();
    }
    if (!checkpoint.empty()) {
      const pipeline::Status restored = run->runtime().restore(checkpoint);
      EXPECT_TRUE(restored.is_ok()) << restored.to_string();
    }
    if (!inputs_before_restore) {
      run->add_inputs();
    }
    const size_t to = leg < cuts.size() ? cuts[leg] : c.order.size();
    run->feed(from, to);
    if (leg < cuts.size()) {
      checkpoint = run->runtime().checkpoint();
    } else {
      run->runtime().finish();
    }
    run.reset();  // Abandoned without finish, as a killed worker is.
    out.append_to(events, points, dead);
    from = to;
  }
  return joined(events, points, dead);
}

class CheckpointGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(CheckpointGolden, RestoringAtAnyCutReproducesTheUninterruptedRun) {
  const Case c = load_case(GetParam());
  ASSERT_FALSE(c.order.empty());
  const std::vector<std::string> reference = uninterrupted(c);
  ASSERT_FALSE(reference.empty());
  const size_t n = c.order.size();
  // One cut at a time, at spread-out points, alternating the shard counts and when inputs are
  // registered; then a chain of four checkpoints in one run.
  const std::vector<size_t> single_cuts = {1, n / 7, n / 3, n / 2, (5 * n) / 6, n - 1};
  for (size_t i = 0; i < single_cuts.size(); ++i) {
    const size_t cut = std::max<size_t>(1, single_cuts[i]);
    const std::vector<int> shards = i % 2 == 0 ? std::vector<int>{1, 3} : std::vector<int>{2, 1};
    EXPECT_EQ(first_difference(interrupted(c, {cut}, shards, i % 3 != 0), reference), "")
        << "cut at record " << cut;
  }
  EXPECT_EQ(first_difference(
                interrupted(c, {n / 5, (2 * n) / 5, (3 * n) / 5, (4 * n) / 5}, {1, 2, 3}, true),
                reference),
            "");
}

INSTANTIATE_TEST_SUITE_P(Cases, CheckpointGolden,
                         ::testing::Values("quickstart", "bad-and-late", "timestamp-outliers",
                                           "alarm-semantics"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

class CheckpointFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    c_ = std::make_unique<Case>(load_case("quickstart"));
    CollectedOutput out;
    RuntimeRun run(*c_, 2, out);
    run.add_inputs();
    run.feed(0, c_->order.size() / 2);
    checkpoint_ = run.runtime().checkpoint();
  }

  pipeline::Status restore(const std::string& bytes) {
    CollectedOutput out;
    RuntimeRun run(*c_, 1, out);
    run.add_inputs();
    return run.runtime().restore(bytes);
  }

  std::unique_ptr<Case> c_;
  std::string checkpoint_;
};

TEST_F(CheckpointFailure, EveryTruncationIsRefusedAsDataLoss) {
  ASSERT_TRUE(restore(checkpoint_).is_ok());
  for (size_t size = 0; size < checkpoint_.size(); size += 1 + size / 3) {
    const pipeline::Status status = restore(checkpoint_.substr(0, size));
    EXPECT_EQ(status.code(), pipeline::StatusCode::kDataLoss) << size;
  }
}

TEST_F(CheckpointFailure, FlippedBitsAreRefusedAsDataLoss) {
  for (size_t at = 0; at < checkpoint_.size(); at += 1 + checkpoint_.size() / 97) {
    std::string corrupt = checkpoint_;
    corrupt[at] = static_cast<char>(corrupt[at] ^ 0x10);
    const pipeline::Status status = restore(corrupt);
    EXPECT_EQ(status.code(), pipeline::StatusCode::kDataLoss) << at;
    EXPECT_FALSE(status.message().empty());
  }
}

TEST_F(CheckpointFailure, AnotherFileIsNotACheckpoint) {
  const pipeline::Status status = restore("{\"not\": \"a checkpoint\"}");
  EXPECT_EQ(status.code(), pipeline::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("not a trailwatch checkpoint"), std::string::npos);
}

// An alarm whose definition changed between checkpoint and restore starts afresh (as after a
// reload); the unchanged ones continue.
TEST(CheckpointConfigChange, OnlyUnchangedAlarmsContinue) {
  const Case before = load_case("quickstart");
  CollectedOutput out1;
  std::string checkpoint;
  size_t alarms = 0;
  {
    RuntimeRun run(before, 1, out1);
    run.add_inputs();
    run.feed(0, before.order.size() / 2);
    checkpoint = run.runtime().checkpoint();
  }
  Case after = load_case("quickstart");
  auto config = std::make_shared<pipeline::Config>(*after.loaded.config);
  ASSERT_FALSE(config->metric_alarms.empty());
  config->metric_alarms[0].threshold = *config->metric_alarms[0].threshold + 1;
  config->metric_alarms[0].definition_hash ^= 1;
  after.loaded.config = config;
  CollectedOutput out2;
  std::vector<app::AlarmShardProcessor*> processors;
  app::CompositeStage stage(after.loaded.config);
  pipeline::Runtime runtime(
      config->settings, pipeline::RuntimeOptions{1, app::evaluation_step(*config), &stage},
      [&](int index, int count, pipeline::SeriesInterner& interner) {
        auto p = std::make_unique<app::AlarmShardProcessor>(config, index, count, interner);
        alarms += p->alarm_count();
        processors.push_back(p.get());
        return p;
      },
      out2);
  ASSERT_TRUE(runtime.restore(checkpoint).is_ok());
  ASSERT_EQ(processors.size(), 1U);
  EXPECT_EQ(processors[0]->restored_alarms(), alarms - 1);
}

}  // namespace
}  // namespace tw
