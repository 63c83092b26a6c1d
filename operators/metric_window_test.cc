#include "operators/metric_window.h"

#include <gtest/gtest.h>

#include <vector>

#include "operators/statistics.h"

namespace tw::operators {
namespace {

using pipeline::Duration;
using pipeline::EventTime;
using pipeline::MetricSample;
using pipeline::StatisticSet;
using pipeline::Unit;

const EventTime kT0 = EventTime::from_seconds(1'700'000'000).floor(Duration::minutes(1));

MetricSample value_at(Duration offset, double value, Unit unit = Unit::kNone) {
  MetricSample s;
  s.time = kT0 + offset;
  s.unit = unit;
  s.stats.add(value);
  return s;
}

WindowRequirements minutes(int retention_minutes, bool percentiles = false) {
  WindowRequirements r;
  r.retention = Duration::minutes(retention_minutes);
  r.percentiles = percentiles;
  return r;
}

RangeAggregate aggregate(const SeriesWindow& w, Duration from, Duration to,
                         std::optional<Unit> unit = std::nullopt) {
  RangeAggregate out;
  w.aggregate(kT0 + from, kT0 + to, unit, out, nullptr);
  return out;
}

TEST(SeriesWindow, SamplesLandInTheMinuteBucketOfTheirEventTime) {
  SeriesWindow w(minutes(10));
  w.add(value_at(Duration::seconds(0), 1));
  w.add(value_at(Duration::seconds(59), 2));
  w.add(value_at(Duration::seconds(60), 4));
  EXPECT_EQ(w.bucket_count(), 2U);
  EXPECT_EQ(aggregate(w, Duration(), Duration::minutes(1)).stats, (StatisticSet{2, 3, 1, 2}));
  EXPECT_EQ(aggregate(w, Duration::minutes(1), Duration::minutes(2)).stats,
            (StatisticSet{1, 4, 4, 4}));
}

TEST(SeriesWindow, PeriodsMergeTheirBucketsExactly) {
  SeriesWindow w(minutes(10));
  for (int m = 0; m < 5; ++m) {
    w.add(value_at(Duration::minutes(m), m));
  }
  EXPECT_EQ(aggregate(w, Duration(), Duration::minutes(5)).stats, (StatisticSet{5, 10, 0, 4}));
  EXPECT_EQ(aggregate(w, Duration::minutes(1), Duration::minutes(3)).stats,
            (StatisticSet{2, 3, 1, 2}));
}

TEST(SeriesWindow, OutOfOrderSamplesWithinLatenessLandInTheirBuckets) {
  SeriesWindow w(minutes(10));
  w.add(value_at(Duration::minutes(3), 3));
  w.add(value_at(Duration::minutes(1), 1));
  w.add(value_at(Duration::minutes(2), 2));
  w.add(value_at(Duration::minutes(1), 10));
  EXPECT_EQ(w.bucket_count(), 3U);
  EXPECT_EQ(aggregate(w, Duration::minutes(1), Duration::minutes(2)).stats,
            (StatisticSet{2, 11, 1, 10}));
}

TEST(SeriesWindow, HighResolutionBucketsAreTenSeconds) {
  WindowRequirements r = minutes(10);
  r.resolution = Duration::seconds(10);
  SeriesWindow w(r);
  MetricSample first = value_at(Duration::seconds(5), 1);
  MetricSample second = value_at(Duration::seconds(15), 2);
  first.high_resolution = true;
  second.high_resolution = true;
  w.add(first);
  w.add(second);
  EXPECT_EQ(aggregate(w, Duration(), Duration::seconds(10)).stats, (StatisticSet{1, 1, 1, 1}));
  EXPECT_EQ(aggregate(w, Duration::seconds(10), Duration::seconds(20)).stats,
            (StatisticSet{1, 2, 2, 2}));
}

TEST(SeriesWindow, StandardResolutionDataBelongsToTheStartOfItsMinute) {
  WindowRequirements r = minutes(10);
  r.resolution = Duration::seconds(10);
  SeriesWindow w(r);
  w.add(value_at(Duration::seconds(35), 7));  // Not high resolution: stored at the minute.
  EXPECT_EQ(aggregate(w, Duration(), Duration::seconds(10)).stats, (StatisticSet{1, 7, 7, 7}));
  EXPECT_TRUE(aggregate(w, Duration::seconds(30), Duration::seconds(40)).stats.empty());
}

TEST(SeriesWindow, UnitFilterSeesOnlyItsUnit) {
  SeriesWindow w(minutes(10));
  w.add(value_at(Duration(), 1, Unit::kSeconds));
  w.add(value_at(Duration(), 1000, Unit::kMilliseconds));
  EXPECT_EQ(aggregate(w, Duration(), Duration::minutes(1), Unit::kSeconds).stats,
            (StatisticSet{1, 1, 1, 1}));
  EXPECT_EQ(aggregate(w, Duration(), Duration::minutes(1)).stats.sample_count, 2);
  EXPECT_TRUE(aggregate(w, Duration(), Duration::minutes(1), Unit::kBytes).stats.empty());
}

TEST(SeriesWindow, EvictionDropsOnlyOlderBuckets) {
  SeriesWindow w(minutes(10));
  for (int m = 0; m < 5; ++m) {
    w.add(value_at(Duration::minutes(m), m));
  }
  w.evict_before(kT0 + Duration::minutes(3));
  EXPECT_EQ(w.bucket_count(), 2U);
  EXPECT_TRUE(aggregate(w, Duration(), Duration::minutes(3)).stats.empty());
  EXPECT_EQ(aggregate(w, Duration(), Duration::minutes(5)).stats.sample_count, 2);
}

TEST(SeriesWindow, PercentilesFromRawValuesAreWithinTheSketchBound) {
  SeriesWindow w(minutes(10, true));
  MetricSample s;
  s.time = kT0;
  std::vector<pipeline::WeightedValue> values;
  for (int i = 1; i <= 1000; ++i) {
    values.push_back({static_cast<double>(i), 1});
    s.stats.add(i);
  }
  s.values = values;
  w.add(s);
  RangeAggregate out;
  QuantileSketch sketch;
  w.aggregate(kT0, kT0 + Duration::minutes(1), std::nullopt, out, &sketch);
  EXPECT_TRUE(out.percentiles_available);
  const auto p99 = compute_statistic(*pipeline::parse_statistic("p99"), out.stats, &sketch);
  ASSERT_TRUE(p99.has_value());
  EXPECT_NEAR(*p99, 990, 990 * 0.01);
}

TEST(SeriesWindow, PlainStatisticSetsMakePercentilesUnavailable) {
  SeriesWindow w(minutes(10, true));
  MetricSample s;
  s.time = kT0;
  s.stats = StatisticSet{10, 55, 1, 10};
  w.add(s);
  RangeAggregate out;
  QuantileSketch sketch;
  w.aggregate(kT0, kT0 + Duration::minutes(1), std::nullopt, out, &sketch);
  EXPECT_FALSE(out.percentiles_available);
}

TEST(SeriesWindow, ReportedPercentilesAreReproduced) {
  SeriesWindow w(minutes(10, true));
  MetricSample s;
  s.time = kT0;
  s.stats = StatisticSet{1000, 50'000, 1, 900};
  const std::vector<pipeline::ReportedQuantile> reported = {{0.99, 250}, {0.5, 40}};
  s.quantiles = reported;
  w.add(s);
  RangeAggregate out;
  QuantileSketch sketch;
  w.aggregate(kT0, kT0 + Duration::minutes(1), std::nullopt, out, &sketch);
  ASSERT_TRUE(out.percentiles_available);
  EXPECT_DOUBLE_EQ(sketch.count(), 1000);
  EXPECT_NEAR(*sketch.quantile(0.99), 250, 2.5);
  EXPECT_NEAR(*sketch.quantile(0.5), 40, 0.4);
  EXPECT_EQ(*sketch.quantile(1.0), 900);
}

TEST(MetricWindows, IgnoresSeriesNobodyTracks) {
  MetricWindows windows;
  windows.track(pipeline::SeriesId{2}, minutes(5));
  EXPECT_FALSE(windows.add(pipeline::SeriesId{0}, value_at(Duration(), 1)));
  EXPECT_FALSE(windows.add(pipeline::SeriesId{7}, value_at(Duration(), 1)));
  EXPECT_TRUE(windows.add(pipeline::SeriesId{2}, value_at(Duration(), 1)));
  EXPECT_EQ(windows.tracked_series(), 1U);
}

TEST(MetricWindows, TrackingTwiceKeepsTheUnionOfRequirements) {
  MetricWindows windows;
  windows.track(pipeline::SeriesId{0}, minutes(5));
  WindowRequirements fine = minutes(2, true);
  fine.resolution = Duration::seconds(10);
  windows.track(pipeline::SeriesId{0}, fine);
  const WindowRequirements& r = windows.find(pipeline::SeriesId{0})->requirements();
  EXPECT_EQ(r.resolution, Duration::seconds(10));
  EXPECT_EQ(r.retention, Duration::minutes(5));
  EXPECT_TRUE(r.percentiles);
}

TEST(MetricWindows, EvictsByEachWindowsRetention) {
  MetricWindows windows;
  windows.track(pipeline::SeriesId{0}, minutes(2));
  windows.track(pipeline::SeriesId{1}, minutes(60));
  for (int m = 0; m < 10; ++m) {
    windows.add(pipeline::SeriesId{0}, value_at(Duration::minutes(m), 1));
    windows.add(pipeline::SeriesId{1}, value_at(Duration::minutes(m), 1));
  }
  windows.evict(kT0 + Duration::minutes(10));
  EXPECT_EQ(windows.find(pipeline::SeriesId{0})->bucket_count(), 2U);
  EXPECT_EQ(windows.find(pipeline::SeriesId{1})->bucket_count(), 10U);
}

}  // namespace
}  // namespace tw::operators
