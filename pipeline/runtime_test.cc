// Runtime tests for what the replay tests cannot show: live-mode idleness of inputs and the
// wall-clock watermark floor. (Replay behaviour is covered end to end by tests/replay_*.)
#include "pipeline/runtime.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace tw::pipeline {
namespace {

const EventTime kT0 = EventTime::from_seconds(1'772'442'000);  // 2026-03-02T09:00:00Z

// Records every watermark step its shard sees.
class StepRecorder final : public ShardProcessor {
 public:
  explicit StepRecorder(std::vector<EventTime>& steps) : steps_(steps) {}

  void on_metric(SeriesId /*series*/, const MetricSample& /*sample*/) override {}

  void on_cloudtrail(const CloudTrailEvent& /*event*/) override {}

  void on_watermark(const WatermarkStep& step, EmissionBuffer& /*out*/) override {
    steps_.push_back(step.watermark);
  }

 private:
  std::vector<EventTime>& steps_;
};

class CollectingOutput final : public RuntimeOutput {
 public:
  void write_emissions(std::span<const Emission> /*emissions*/) override {}

  void write_dead_letter(const DeadLetter& letter) override {
    dead_letters.push_back(std::string(to_string(letter.reason)) + ": " +
                           std::string(letter.detail));
  }

  std::vector<std::string> dead_letters;
};

class IdleInputs : public ::testing::Test {
 protected:
  IdleInputs()
      : runtime_(
            Settings{}, RuntimeOptions{1, Duration::minutes(1)},
            [this](int, int, SeriesInterner&) { return std::make_unique<StepRecorder>(steps_); },
            output_) {
    a_ = runtime_.add_input("a", Duration::seconds(0), "123456789012", "us-east-1");
    b_ = runtime_.add_input("b", Duration::seconds(0), "123456789012", "us-east-1");
  }

  // One PutMetricData datum at `t`, with the padding the decoders may read past the end.
  void datum(InputId input, EventTime t) {
    const std::string line = R"({"Namespace":"N","MetricName":"M","Timestamp":)" +
                             std::to_string(t.millis() / 1000) + R"(,"Value":1})";
    const std::string padded = line + std::string(64, ' ');
    runtime_.process(input, InputFormat::kPutMetricData,
                     std::string_view(padded).substr(0, line.size()),
                     RecordOrigin{"test", ++position_});
  }

  [[nodiscard]] EventTime last_step() const {
    return steps_.empty() ? EventTime::min() : steps_.back();
  }

  std::vector<EventTime> steps_;
  CollectingOutput output_;
  Runtime runtime_;
  InputId a_;
  InputId b_;
  uint64_t position_ = 0;
};

// The first records: a at the origin, then both inputs a minute later (steps are issued once the
// watermark has passed the origin). An input's first datapoint counts once its second arrives
// (the timestamp-outlier check judges it against its successor), hence b's two records.
constexpr Duration kMinute = Duration::minutes(1);

TEST_F(IdleInputs, AQuietInputHoldsTheWatermarkUntilItIsIdle) {
  datum(a_, kT0);
  datum(a_, kT0 + kMinute);
  datum(b_, kT0 + kMinute);
  datum(b_, kT0 + kMinute);
  datum(a_, kT0 + Duration::minutes(10));
  // b is quiet: the watermark stays at b's newest event time.
  EXPECT_EQ(last_step(), kT0 + kMinute);
  runtime_.set_input_idle(b_, true);
  EXPECT_TRUE(runtime_.input_idle(b_));
  EXPECT_EQ(last_step(), kT0 + Duration::minutes(10));
}

TEST_F(IdleInputs, AnIdleInputThatWakesUpWithOldDataIsLate) {
  datum(a_, kT0);
  datum(a_, kT0 + kMinute);
  datum(b_, kT0 + kMinute);
  datum(b_, kT0 + kMinute);
  runtime_.set_input_idle(b_, true);
  datum(a_, kT0 + Duration::minutes(10));
  ASSERT_EQ(last_step(), kT0 + Duration::minutes(10));
  // b wakes up with a record from before the watermark: alarms were evaluated past it.
  datum(b_, kT0 + Duration::minutes(5));
  EXPECT_FALSE(runtime_.input_idle(b_));
  ASSERT_EQ(output_.dead_letters.size(), 1U);
  EXPECT_EQ(output_.dead_letters[0],
            "late: event time 2026-03-02T09:05:00.000Z is older than the global watermark "
            "2026-03-02T09:10:00.000Z, up to which alarms were already evaluated (the input was "
            "idle)");
  // Records at or after the watermark are accepted, and b holds the watermark again.
  datum(b_, kT0 + Duration::minutes(11));
  datum(a_, kT0 + Duration::minutes(20));
  EXPECT_EQ(output_.dead_letters.size(), 1U);
  EXPECT_EQ(last_step(), kT0 + Duration::minutes(11));
}

TEST_F(IdleInputs, WallClockFloorMovesTheWatermarkOnlyWhenEveryInputIsIdle) {
  datum(a_, kT0);
  datum(a_, kT0 + kMinute);
  datum(b_, kT0 + kMinute);
  datum(b_, kT0 + kMinute);
  runtime_.advance_idle_watermark(kT0 + Duration::minutes(3));
  EXPECT_EQ(last_step(), kT0 + kMinute);  // Both inputs are active: they decide.
  runtime_.set_input_idle(a_, true);
  runtime_.set_input_idle(b_, true);
  EXPECT_EQ(last_step(), kT0 + Duration::minutes(3));
  runtime_.advance_idle_watermark(kT0 + Duration::minutes(5));
  EXPECT_EQ(last_step(), kT0 + Duration::minutes(5));
  // The floor never moves the watermark back.
  runtime_.advance_idle_watermark(kT0 + Duration::minutes(4));
  EXPECT_EQ(last_step(), kT0 + Duration::minutes(5));
}

// Counts the samples it saw, including those of the processor it took over from.
class Counter final : public ShardProcessor {
 public:
  explicit Counter(int generation) : generation_(generation) {}

  void on_metric(SeriesId /*series*/, const MetricSample& /*sample*/) override { ++samples_; }

  void on_cloudtrail(const CloudTrailEvent& /*event*/) override {}

  void on_watermark(const WatermarkStep& /*step*/, EmissionBuffer& out) override {
    out.add(EventTime::from_seconds(0), EmissionStream::kEvents, "counter",
            std::to_string(generation_) + ":" + std::to_string(samples_));
  }

  void take_over(ShardProcessor& previous) override {
    samples_ += dynamic_cast<Counter&>(previous).samples_;
  }

 private:
  int generation_;
  int samples_ = 0;
};

class EmissionLog final : public RuntimeOutput {
 public:
  void write_emissions(std::span<const Emission> emissions) override {
    for (const Emission& e : emissions) {
      lines.push_back(e.json);
    }
  }

  void write_dead_letter(const DeadLetter& /*letter*/) override {}

  std::vector<std::string> lines;
};

class ReplaceProcessors : public ::testing::TestWithParam<int> {};

TEST_P(ReplaceProcessors, NewProcessorsTakeOverAfterEverythingRoutedBefore) {
  EmissionLog log;
  int generation = 1;
  Runtime runtime(
      Settings{}, RuntimeOptions{GetParam(), Duration::minutes(1)},
      [&](int, int, SeriesInterner&) { return std::make_unique<Counter>(generation); }, log);
  const InputId in = runtime.add_input("a", Duration::seconds(0), "123456789012", "us-east-1");
  uint64_t position = 0;
  const auto datum = [&](EventTime t) {
    const std::string line = R"({"Namespace":"N","MetricName":"M","Timestamp":)" +
                             std::to_string(t.millis() / 1000) + R"(,"Value":1})";
    const std::string padded = line + std::string(64, ' ');
    runtime.process(in, InputFormat::kPutMetricData,
                    std::string_view(padded).substr(0, line.size()), RecordOrigin{"t", ++position});
  };
  for (int i = 0; i < 5; ++i) {
    datum(kT0 + Duration::seconds(10 * i));
  }
  generation = 2;
  runtime.replace_processors(
      [&](int, int, SeriesInterner&) { return std::make_unique<Counter>(generation); });
  for (int i = 5; i < 10; ++i) {
    datum(kT0 + Duration::seconds(10 * i));
  }
  runtime.finish();
  // The final step (the last line of each shard) comes from second-generation processors, and
  // together they counted all ten samples: the five routed before the reload were taken over.
  const auto shards = static_cast<size_t>(GetParam());
  ASSERT_GE(log.lines.size(), shards);
  int total = 0;
  for (size_t i = log.lines.size() - shards; i < log.lines.size(); ++i) {
    EXPECT_EQ(log.lines[i].substr(0, 2), "2:") << log.lines[i];
    total += std::stoi(log.lines[i].substr(2));
  }
  EXPECT_EQ(total, 10);
}

INSTANTIATE_TEST_SUITE_P(Shards, ReplaceProcessors, ::testing::Values(1, 3));

}  // namespace
}  // namespace tw::pipeline
