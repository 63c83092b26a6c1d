// Property tests of the event-time runtime: the replayed output is the same for any shard count
// and for any reordering of the input records within the allowed lateness.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/replay_test_util.h"

namespace tw::testing {
namespace {

namespace fs = std::filesystem;

struct Record {
  int64_t time_ms;
  std::string line;
};

// Twelve series over two hours, one record per series per 20 seconds, with gaps; values vary so
// that every statistic differs between periods.
std::vector<Record> make_records(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> value(0, 100);
  std::vector<Record> records;
  const int64_t start = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  for (int64_t t = start; t < start + int64_t{2} * 3'600'000; t += 20'000) {
    for (int s = 0; s < 12; ++s) {
      if ((t / 60'000 + s) % 17 == 0) {
        continue;  // Missing minutes.
      }
      const double v = value(rng);
      std::string line = R"({"Namespace":"Prop","MetricName":"Latency","Dimensions":[{"Name":)"
                         R"("Host","Value":"h)" +
                         std::to_string(s) + R"("}],"Timestamp":)" + std::to_string(t / 1000) +
                         R"(,"Values":[)" + std::to_string(v) + "," + std::to_string(v / 2) +
                         R"(],"Unit":"Milliseconds"})";
      records.push_back({t, std::move(line)});
    }
  }
  return records;
}

std::string config_text() {
  std::string alarms;
  const std::array<const char*, 6> stats = {"Average", "Sum",         "Minimum",
                                            "Maximum", "SampleCount", "p90"};
  for (int s = 0; s < 12; ++s) {
    const std::string stat = stats[static_cast<size_t>(s) % stats.size()];
    const bool extended = stat[0] == 'p';
    alarms +=
        std::string(s > 0 ? "," : "") + R"({"AlarmName":"host )" + std::to_string(s) +
        R"(","Namespace":"Prop","MetricName":"Latency","Dimensions":[{"Name":"Host",)" +
        R"("Value":"h)" + std::to_string(s) + R"("}],)" +
        (extended ? R"("ExtendedStatistic":")" : R"("Statistic":")") + stat + R"(","Period":)" +
        (s % 3 == 0 ? "300" : "60") +
        R"(,"EvaluationPeriods":2,"Threshold":50,"ComparisonOperator":"GreaterThanThreshold"})";
  }
  // Metric-math alarms read two hosts each; the hosts' series hash to different shards, so the
  // math alarm's shard must receive copies of both.
  for (int p = 0; p < 3; ++p) {
    const auto stat = [&](const char* id, int host) {
      return std::string(R"({"Id":")") + id +
             R"(","MetricStat":{"Metric":{"Namespace":"Prop","MetricName":"Latency",)" +
             R"("Dimensions":[{"Name":"Host","Value":"h)" + std::to_string(host) +
             R"("}]},"Period":60,"Stat":"Average"},"ReturnData":false})";
    };
    alarms += R"(,{"AlarmName":"pair )" + std::to_string(p) + R"(","Metrics":[)" + stat("a", p) +
              "," + stat("b", p + 5) +
              R"json(,{"Id":"e","Expression":"MAX(METRICS()) - 0.5 * FILL(b, REPEAT)"}],)json" +
              R"("EvaluationPeriods":3,"DatapointsToAlarm":2,"Threshold":25,)" +
              R"("ComparisonOperator":"GreaterThanThreshold"})";
  }
  const std::string composites = R"json(
    {"AlarmName": "quorum",
     "AlarmRule": "AT_LEAST(2, ALARM, (\"host 1\", \"host 2\", \"pair 0\", \"pair 1\"))"},
    {"AlarmName": "page", "AlarmRule": "ALARM(quorum) AND NOT ALARM(\"pair 2\")",
     "ActionsSuppressor": "host 4", "ActionsSuppressorWaitPeriod": 60,
     "ActionsSuppressorExtensionPeriod": 120})json";
  return R"({"trailwatch":{"metric_lateness_seconds":300},"MetricAlarms":[)" + alarms +
         R"(],"CompositeAlarms":[)" + composites + "]}";
}

// Shuffles records inside consecutive blocks of event time shorter than the lateness, so no
// record can fall behind its input's watermark.
std::vector<Record> shuffle_within(std::vector<Record> records, int64_t block_ms, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto begin = records.begin();
  while (begin != records.end()) {
    const int64_t block = begin->time_ms / block_ms;
    auto end = std::find_if(begin, records.end(),
                            [&](const Record& r) { return r.time_ms / block_ms != block; });
    std::shuffle(begin, end, rng);
    begin = end;
  }
  return records;
}

std::string write_records(const fs::path& path, const std::vector<Record>& records) {
  std::ofstream out(path, std::ios::binary);
  for (const Record& r : records) {
    out << r.line << "\n";
  }
  return path.string();
}

class ReplayProperty : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs the tests of this file in parallel processes.
    dir_ = fs::path(::testing::TempDir()) /
           ("replay_property_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_ = (dir_ / "alarms.json").string();
    std::ofstream(config_) << config_text();
  }

  fs::path dir_;
  std::string config_;
};

TEST_F(ReplayProperty, OutputIsIdenticalForAnyShardCountAndAnyOrderWithinLateness) {
  const std::vector<Record> records = make_records(7);
  const std::string ordered = write_records(dir_ / "ordered.jsonl", records);
  const ReplayRun reference = run_replay(dir_ / "reference", config_, {ordered}, {"--shards", "1"});
  ASSERT_EQ(reference.exit_code, 0) << reference.stderr_text;
  ASSERT_FALSE(reference.datapoints.empty());
  EXPECT_TRUE(reference.dead_letters.empty()) << reference.dead_letters.substr(0, 500);
  // The run exercises every kind of alarm into and out of ALARM.
  for (const char* expected : {R"("alarmName":"host 1","state":{"value":"ALARM")",
                               R"("alarmName":"pair 0","state":{"value":"ALARM")",
                               R"("alarmName":"pair 1","state":{"value":"OK")",
                               R"("alarmName":"quorum","state":{"value":"ALARM")",
                               R"("alarmName":"quorum","state":{"value":"OK")",
                               R"("alarmName":"page","state":{"value":"ALARM")"}) {
    EXPECT_NE(reference.events.find(expected), std::string::npos) << expected;
  }

  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const std::string shuffled =
        write_records(dir_ / ("shuffled" + std::to_string(seed) + ".jsonl"),
                      shuffle_within(records, /*block_ms=*/240'000, seed));
    for (const int shards : {1, 2, 3, 5}) {
      const ReplayRun run =
          run_replay(dir_ / ("run" + std::to_string(seed) + "_" + std::to_string(shards)), config_,
                     {shuffled}, {"--shards", std::to_string(shards)});
      ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
      EXPECT_EQ(run.datapoints, reference.datapoints) << "seed " << seed << ", shards " << shards;
      EXPECT_EQ(run.events, reference.events) << "seed " << seed << ", shards " << shards;
      EXPECT_EQ(run.dead_letters, reference.dead_letters);
    }
  }
}

TEST_F(ReplayProperty, SplittingAnInputIntoSeveralInputsChangesNothing) {
  const std::vector<Record> records = make_records(11);
  std::vector<Record> even;
  std::vector<Record> odd;
  for (size_t i = 0; i < records.size(); ++i) {
    (i % 2 == 0 ? even : odd).push_back(records[i]);
  }
  const ReplayRun whole =
      run_replay(dir_ / "whole", config_, {write_records(dir_ / "all.jsonl", records)});
  const ReplayRun split =
      run_replay(dir_ / "split", config_,
                 {write_records(dir_ / "even.jsonl", even), write_records(dir_ / "odd.jsonl", odd)},
                 {"--shards", "2"});
  ASSERT_EQ(whole.exit_code, 0);
  ASSERT_EQ(split.exit_code, 0);
  EXPECT_EQ(split.datapoints, whole.datapoints);
  EXPECT_EQ(split.events, whole.events);
}

TEST_F(ReplayProperty, RecordsLaterThanTheLatenessAreDeadLetteredNotMerged) {
  std::vector<Record> records = make_records(3);
  // Move one record ten minutes later in the stream than its event time allows.
  const size_t victim = 100;
  Record late = records[victim];
  records.erase(records.begin() + static_cast<std::ptrdiff_t>(victim));
  const auto position = std::find_if(records.begin(), records.end(), [&](const Record& r) {
    return r.time_ms > late.time_ms + 600'000;
  });
  records.insert(position, late);
  const ReplayRun run =
      run_replay(dir_ / "late", config_, {write_records(dir_ / "late.jsonl", records)});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_NE(run.dead_letters.find(R"("reason":"late")"), std::string::npos);
  EXPECT_EQ(std::count(run.dead_letters.begin(), run.dead_letters.end(), '\n'), 1);
}

}  // namespace
}  // namespace tw::testing
