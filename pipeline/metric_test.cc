#include "pipeline/metric.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <ranges>
#include <vector>

namespace tw::pipeline {
namespace {

std::vector<double> sample_values() {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> value(0, 100);
  std::vector<double> values(1000);
  for (double& v : values) {
    v = value(rng);
  }
  return values;
}

TEST(StatisticSet, SumIsTheSameWhateverTheAdditionOrder) {
  std::vector<double> values = sample_values();
  StatisticSet reference;
  for (const double v : values) {
    reference.add(v);
  }
  std::mt19937_64 rng(9);
  bool naive_differed = false;
  for (int round = 0; round < 20; ++round) {
    std::shuffle(values.begin(), values.end(), rng);
    StatisticSet shuffled;
    double naive = 0;
    for (const double v : values) {
      shuffled.add(v);
      naive += v;
    }
    EXPECT_EQ(shuffled, reference);
    naive_differed = naive_differed || naive != reference.sum;
  }
  // Plain double accumulation does depend on the order, which is why the pair exists.
  EXPECT_TRUE(naive_differed);
}

TEST(StatisticSet, MergingAnySplitEqualsAddingEverything) {
  const std::vector<double> values = sample_values();
  StatisticSet all;
  for (const double v : values) {
    all.add(v);
  }
  for (const size_t parts : {2U, 3U, 7U, 60U}) {
    std::vector<StatisticSet> pieces(parts);
    for (size_t i = 0; i < values.size(); ++i) {
      pieces[(i * 7919) % parts].add(values[i]);
    }
    StatisticSet merged;
    for (const StatisticSet& piece : std::views::reverse(pieces)) {
      merged.merge(piece);
    }
    EXPECT_EQ(merged, all) << parts << " parts";
  }
}

TEST(StatisticSet, KeepsCountMinimumAndMaximum) {
  StatisticSet s;
  EXPECT_TRUE(s.empty());
  s.add(3, 2);
  s.add(-1);
  EXPECT_EQ(s.sample_count, 3);
  EXPECT_EQ(s.sum, 5);
  EXPECT_EQ(s.minimum, -1);
  EXPECT_EQ(s.maximum, 3);
  EXPECT_DOUBLE_EQ(s.average(), 5.0 / 3);
}

}  // namespace
}  // namespace tw::pipeline
