#include "app/live_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <string>

namespace tw::app {
namespace {

pipeline::RuntimeStats stats_with(const std::string& input, uint64_t records) {
  pipeline::RuntimeStats stats;
  pipeline::InputStats s;
  s.name = input;
  s.records = records;
  s.datapoints = records;
  stats.inputs.push_back(s);
  return stats;
}

std::string exposition(const LiveMetrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.registry()->Collect());
}

TEST(LiveMetricsTest, InputCountersFollowEachRuntimeInputAndSurviveItsRestart) {
  LiveMetrics metrics;
  metrics.update(stats_with("metrics/0", 10), {}, {});
  metrics.update(stats_with("metrics/1", 5), {}, {});
  EXPECT_NE(exposition(metrics).find("trailwatch_records_total{input=\"metrics\"} 15"),
            std::string::npos)
      << exposition(metrics);
  // metrics/0 belongs to a scale-out task that moved away and came back restored: its runtime
  // counts from 0 again. What it reads from then on is added, nothing is subtracted.
  metrics.update(stats_with("metrics/0", 4), {}, {});
  EXPECT_NE(exposition(metrics).find("trailwatch_records_total{input=\"metrics\"} 19"),
            std::string::npos)
      << exposition(metrics);
  metrics.update(stats_with("metrics/0", 6), {}, {});
  EXPECT_NE(exposition(metrics).find("trailwatch_records_total{input=\"metrics\"} 21"),
            std::string::npos)
      << exposition(metrics);
  EXPECT_NE(exposition(metrics).find("trailwatch_datapoints_total{input=\"metrics\"} 21"),
            std::string::npos)
      << exposition(metrics);
}

}  // namespace
}  // namespace tw::app
