#include "operators/statistics.h"

#include <gtest/gtest.h>

#include <optional>

namespace tw::operators {
namespace {

using pipeline::Statistic;
using pipeline::StatisticSet;
using Kind = pipeline::Statistic::Kind;

Statistic simple(Kind kind) {
  return Statistic{kind, 0, ""};
}

Statistic percentile(double p) {
  return Statistic{Kind::kPercentile, p, ""};
}

TEST(ComputeStatistic, ComputesTheSimpleStatisticsOfZeroToNine) {
  // Reference §10.7: values 0..9.
  StatisticSet set;
  QuantileSketch sketch;
  for (int v = 0; v < 10; ++v) {
    set.add(v);
    sketch.add(v);
  }
  EXPECT_EQ(compute_statistic(simple(Kind::kSampleCount), set, &sketch), 10.0);
  EXPECT_EQ(compute_statistic(simple(Kind::kSum), set, &sketch), 45.0);
  EXPECT_EQ(compute_statistic(simple(Kind::kAverage), set, &sketch), 4.5);
  EXPECT_EQ(compute_statistic(simple(Kind::kMinimum), set, &sketch), 0.0);
  EXPECT_EQ(compute_statistic(simple(Kind::kMaximum), set, &sketch), 9.0);
}

TEST(ComputeStatistic, SimpleStatisticsNeedNoSketch) {
  StatisticSet set;
  set.add(2, 3);
  set.add(8);
  EXPECT_EQ(compute_statistic(simple(Kind::kSampleCount), set, nullptr), 4.0);
  EXPECT_EQ(compute_statistic(simple(Kind::kAverage), set, nullptr), 3.5);
  EXPECT_EQ(compute_statistic(simple(Kind::kMaximum), set, nullptr), 8.0);
}

TEST(ComputeStatistic, EmptySetHasNoStatistic) {
  const StatisticSet set;
  const QuantileSketch sketch;
  for (const Kind kind :
       {Kind::kSampleCount, Kind::kAverage, Kind::kSum, Kind::kMinimum, Kind::kMaximum}) {
    EXPECT_EQ(compute_statistic(simple(kind), set, &sketch), std::nullopt);
  }
  EXPECT_EQ(compute_statistic(percentile(50), set, &sketch), std::nullopt);
}

TEST(ComputeStatistic, PercentileComesFromTheSketch) {
  StatisticSet set;
  QuantileSketch sketch;
  for (int v = 1; v <= 100; ++v) {
    set.add(v);
    sketch.add(v);
  }
  const std::optional<double> p90 = compute_statistic(percentile(90), set, &sketch);
  ASSERT_TRUE(p90.has_value());
  EXPECT_NEAR(p90.value_or(0), 90, 0.9);
  const std::optional<double> p99 = compute_statistic(percentile(99.5), set, &sketch);
  ASSERT_TRUE(p99.has_value());
  EXPECT_NEAR(p99.value_or(0), 100, 1.0);
  EXPECT_EQ(compute_statistic(percentile(100), set, &sketch), 100.0);
  EXPECT_EQ(compute_statistic(percentile(0), set, &sketch), 1.0);
}

TEST(ComputeStatistic, PercentileAllowsZeroValues) {
  StatisticSet set;
  QuantileSketch sketch;
  for (const double v : {0.0, 0.0, 5.0}) {
    set.add(v);
    sketch.add(v);
  }
  EXPECT_EQ(compute_statistic(percentile(50), set, &sketch), 0.0);
}

TEST(ComputeStatistic, PercentileIsUnavailableWithANegativeValue) {
  StatisticSet set;
  QuantileSketch sketch;
  for (const double v : {-0.5, 10.0, 20.0}) {
    set.add(v);
    sketch.add(v);
  }
  EXPECT_EQ(compute_statistic(percentile(50), set, &sketch), std::nullopt);
  EXPECT_EQ(compute_statistic(simple(Kind::kMinimum), set, &sketch), -0.5);
}

TEST(ComputeStatistic, PercentileIsUnavailableWithoutASketch) {
  StatisticSet set;
  set.add(3);
  EXPECT_EQ(compute_statistic(percentile(50), set, nullptr), std::nullopt);
  const QuantileSketch empty;
  EXPECT_EQ(compute_statistic(percentile(50), set, &empty), std::nullopt);
}

TEST(PercentileMinimumSamples, MatchesTheDocumentedExamples) {
  // Reference §2.6 and §10.3; exact, not approximately.
  EXPECT_EQ(percentile_minimum_samples(99), 1000.0);
  EXPECT_EQ(percentile_minimum_samples(90), 100.0);
  EXPECT_EQ(percentile_minimum_samples(50), 20.0);
  EXPECT_EQ(percentile_minimum_samples(25), 40.0);
  EXPECT_EQ(percentile_minimum_samples(10), 100.0);
}

TEST(PercentileMinimumSamples, IsWholeForFractionalPercentiles) {
  EXPECT_EQ(percentile_minimum_samples(99.9), 10000.0);
  EXPECT_EQ(percentile_minimum_samples(99.99), 100000.0);
  EXPECT_EQ(percentile_minimum_samples(0.1), 10000.0);
  EXPECT_EQ(percentile_minimum_samples(75), 40.0);
  EXPECT_DOUBLE_EQ(percentile_minimum_samples(33.3), 1000 / 33.3);
}

TEST(PercentileMinimumSamples, ExtremesNeedOneSample) {
  EXPECT_EQ(percentile_minimum_samples(0), 1.0);
  EXPECT_EQ(percentile_minimum_samples(100), 1.0);
}

TEST(IsLowSampleCount, IsLowBelowTheMinimumOnly) {
  EXPECT_TRUE(is_low_sample_count(percentile(99), 999));
  EXPECT_FALSE(is_low_sample_count(percentile(99), 1000));
  EXPECT_TRUE(is_low_sample_count(percentile(99.9), 9999));
  EXPECT_FALSE(is_low_sample_count(percentile(99.9), 10000));
  EXPECT_TRUE(is_low_sample_count(percentile(50), 19));
  EXPECT_FALSE(is_low_sample_count(percentile(50), 20));
  EXPECT_TRUE(is_low_sample_count(percentile(10), 99));
  EXPECT_FALSE(is_low_sample_count(percentile(10), 100));
  EXPECT_FALSE(is_low_sample_count(percentile(100), 1));
}

TEST(IsLowSampleCount, IsNeverLowForSimpleStatistics) {
  for (const Kind kind :
       {Kind::kSampleCount, Kind::kAverage, Kind::kSum, Kind::kMinimum, Kind::kMaximum}) {
    EXPECT_FALSE(is_low_sample_count(simple(kind), 1));
  }
}

}  // namespace
}  // namespace tw::operators
