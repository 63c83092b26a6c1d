#include "operators/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace tw::operators {
namespace {

constexpr double kAlpha = 0.01;

// The quantiles every accuracy test checks, as thousandths so that the exact rank is computed in
// integers: q = kPermille[i] / 1000.
constexpr std::array<int64_t, 9> kPermille = {0, 10, 100, 250, 500, 900, 990, 999, 1000};

// The nearest-rank quantile of `sorted`: rank ⌈q·n⌉ (1-based), rank 1 for q = 0.
double exact_quantile(const std::vector<double>& sorted, int64_t permille) {
  const auto n = static_cast<int64_t>(sorted.size());
  const int64_t rank = std::max<int64_t>(1, (permille * n + 999) / 1000);
  return sorted[static_cast<size_t>(rank - 1)];
}

QuantileSketch sketch_of(const std::vector<double>& values, double alpha = kAlpha) {
  QuantileSketch sketch(alpha);
  for (const double v : values) {
    sketch.add(v);
  }
  return sketch;
}

// quantile(q), or NaN (which fails any comparison) when there is none.
double quantile_of(const QuantileSketch& sketch, double q) {
  const std::optional<double> value = sketch.quantile(q);
  EXPECT_TRUE(value.has_value()) << "q=" << q;
  return value.value_or(std::numeric_limits<double>::quiet_NaN());
}

std::string bytes_of(const QuantileSketch& sketch) {
  std::string out;
  sketch.serialize(out);
  return out;
}

// The documented bound for one quantile: relative error ≤ α for |exact| ≥ 1e-9, absolute error
// below 1e-9 under that.
void expect_close(double estimate, double exact, double alpha, double q) {
  const double allowed = std::abs(exact) >= QuantileSketch::kMinIndexableValue
                             ? alpha * std::abs(exact)
                             : QuantileSketch::kMinIndexableValue;
  EXPECT_LE(std::abs(estimate - exact), allowed)
      << "q=" << q << " exact=" << exact << " estimate=" << estimate;
}

// Checks the bound at every q of kPermille, and exact extremes at q = 0 and q = 1.
void expect_within_bound(std::vector<double> values, double alpha = kAlpha) {
  const QuantileSketch sketch = sketch_of(values, alpha);
  std::sort(values.begin(), values.end());
  for (const int64_t permille : kPermille) {
    const double q = static_cast<double>(permille) / 1000;
    const std::optional<double> estimate = sketch.quantile(q);
    ASSERT_TRUE(estimate.has_value()) << "q=" << q;
    expect_close(estimate.value(), exact_quantile(values, permille), alpha, q);
  }
  EXPECT_EQ(sketch.quantile(0), values.front());
  EXPECT_EQ(sketch.quantile(1), values.back());
  EXPECT_EQ(sketch.count(), static_cast<double>(values.size()));
}

std::vector<double> lognormal(size_t n, double mu, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(mu, sigma);
  std::vector<double> values(n);
  for (double& v : values) {
    v = dist(rng);
  }
  return values;
}

TEST(QuantileSketch, EmptySketchHasNoQuantile) {
  const QuantileSketch sketch;
  EXPECT_TRUE(sketch.empty());
  EXPECT_EQ(sketch.count(), 0);
  EXPECT_EQ(sketch.quantile(0.5), std::nullopt);
  EXPECT_EQ(sketch.quantile(0), std::nullopt);
  EXPECT_EQ(sketch.min(), std::nullopt);
  EXPECT_EQ(sketch.max(), std::nullopt);
}

TEST(QuantileSketch, BoundHoldsForUniformValues) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> dist(0, 1000);
  std::vector<double> values(20000);
  for (double& v : values) {
    v = dist(rng);
  }
  expect_within_bound(values);
}

TEST(QuantileSketch, BoundHoldsForLognormalValues) {
  expect_within_bound(lognormal(20000, 3, 1.5, 2));
}

TEST(QuantileSketch, BoundHoldsForBimodalValues) {
  std::vector<double> values = lognormal(5000, std::log(10), 0.1, 3);
  const std::vector<double> slow = lognormal(500, std::log(2000), 0.2, 4);
  values.insert(values.end(), slow.begin(), slow.end());
  std::shuffle(values.begin(), values.end(), std::mt19937_64(5));
  expect_within_bound(values);
}

TEST(QuantileSketch, BoundHoldsWithQuantilesOnTheGapOfTwoModes) {
  // 900 values at 1 and 100 at 1000: p90 is the last 1, p90.1 (rank 902) is the first 1000.
  std::vector<double> values(900, 1.0);
  values.insert(values.end(), 100, 1000.0);
  expect_within_bound(values);
  const QuantileSketch sketch = sketch_of(values);
  EXPECT_EQ(sketch.quantile(0.9), 1.0);
  EXPECT_NEAR(quantile_of(sketch, 0.901), 1000.0, 10.0);
}

TEST(QuantileSketch, ConstantValuesGiveTheExactValue) {
  const std::vector<double> values(1000, 42.5);
  expect_within_bound(values);
  const QuantileSketch sketch = sketch_of(values);
  for (const int64_t permille : kPermille) {
    // Clamping to [min, max] makes a constant exact.
    EXPECT_EQ(sketch.quantile(static_cast<double>(permille) / 1000), 42.5);
  }
}

TEST(QuantileSketch, BoundHoldsWithManyDuplicates) {
  std::mt19937_64 rng(6);
  const std::array<double, 5> choices = {1, 2, 3, 5, 8};
  std::uniform_int_distribution<size_t> pick(0, choices.size() - 1);
  std::vector<double> values(5000);
  for (double& v : values) {
    v = choices[pick(rng)];
  }
  expect_within_bound(values);
}

TEST(QuantileSketch, BoundHoldsForTinyCounts) {
  expect_within_bound({7.25});
  expect_within_bound({3, 1000});
  expect_within_bound({1000, 3});
  expect_within_bound({5, 0.5, 50});
  expect_within_bound({-5, 0, 5});
}

TEST(QuantileSketch, SingleValueIsExactAtEveryQuantile) {
  const QuantileSketch sketch = sketch_of({123.456});
  for (const int64_t permille : kPermille) {
    EXPECT_EQ(sketch.quantile(static_cast<double>(permille) / 1000), 123.456);
  }
}

TEST(QuantileSketch, BoundHoldsOverAWideDynamicRange) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-6, 9);
  std::vector<double> values(20000);
  for (double& v : values) {
    v = std::pow(10.0, exponent(rng));
  }
  expect_within_bound(values);
}

TEST(QuantileSketch, BoundHoldsAtTheExtremesOfTheDoubleRange) {
  expect_within_bound(
      {1e-9, 2e-9, 1.0, 1e300, 1.7e308, std::numeric_limits<double>::max(), 5e-9, 1e100});
}

TEST(QuantileSketch, BoundHoldsForEveryValueAcrossBucketBoundaries) {
  // A fine sweep (steps of 2e-5 relative) over ~100 buckets probes values at every bucket edge,
  // where the error reaches α. The middle value of {1e-6, v, 1e12} is v, and clamping to
  // [1e-6, 1e12] cannot help it.
  QuantileSketch sketch;
  double worst = 0;
  for (const int sign : {1, -1}) {
    for (int k = 0; k < 100000; ++k) {
      const double v = sign * 3 * std::pow(1.00002, k);
      sketch.clear();
      sketch.add(sign * 1e-6);
      sketch.add(v);
      sketch.add(sign * 1e12);
      const double estimate = quantile_of(sketch, 0.5);
      const double error = std::abs(estimate - v) / std::abs(v);
      ASSERT_LE(error, kAlpha) << "v=" << v << " estimate=" << estimate;
      worst = std::max(worst, error);
    }
  }
  // The sweep did reach the edges: the bound is tight, not loose.
  EXPECT_GT(worst, 0.999 * kAlpha);
}

TEST(QuantileSketch, BoundHoldsForNegativeValues) {
  std::vector<double> values = lognormal(10000, 2, 1, 8);
  for (double& v : values) {
    v = -v;
  }
  expect_within_bound(values);
}

TEST(QuantileSketch, BoundHoldsForMixedSignValues) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> dist(0, 100);
  std::vector<double> values(10000);
  for (double& v : values) {
    v = dist(rng);
  }
  values.insert(values.end(), 300, 0.0);
  std::shuffle(values.begin(), values.end(), rng);
  expect_within_bound(values);
}

TEST(QuantileSketch, BoundHoldsForACoarserAccuracy) {
  expect_within_bound(lognormal(10000, 0, 2, 10), 0.05);
}

TEST(QuantileSketch, ValuesNearZeroCountAsZero) {
  QuantileSketch sketch;
  sketch.add(-5e-10);
  sketch.add(0);
  sketch.add(3e-10);
  sketch.add(10);
  // Rank 2 of {-5e-10, 0, 3e-10, 10} is 0; the zero bucket reports 0.
  EXPECT_EQ(sketch.quantile(0.5), 0.0);
  // Rank 3 is 3e-10, also in the zero bucket: within 1e-9, not within 1%.
  EXPECT_EQ(sketch.quantile(0.75), 0.0);
  EXPECT_EQ(sketch.quantile(0), -5e-10);
  EXPECT_EQ(sketch.quantile(1), 10);
}

TEST(QuantileSketch, UsesNearestRank) {
  // Values far enough apart that each has its own bucket.
  const QuantileSketch sketch = sketch_of({1, 10, 100, 1000});
  EXPECT_NEAR(quantile_of(sketch, 0.25), 1, 0.01);     // Rank 1.
  EXPECT_NEAR(quantile_of(sketch, 0.26), 10, 0.1);     // Rank 2.
  EXPECT_NEAR(quantile_of(sketch, 0.5), 10, 0.1);      // Rank 2.
  EXPECT_NEAR(quantile_of(sketch, 0.51), 100, 1);      // Rank 3.
  EXPECT_NEAR(quantile_of(sketch, 0.75), 100, 1);      // Rank 3.
  EXPECT_NEAR(quantile_of(sketch, 0.7501), 1000, 10);  // Rank 4.
}

TEST(QuantileSketch, TreatsDecimalQuantilesAsExactFractions) {
  // 0.07 · 100 is 7.000000000000001 in doubles; rank 7, not 8, is meant.
  std::vector<double> values;
  for (int i = 1; i <= 100; ++i) {
    values.push_back(std::ldexp(1.0, i));
  }
  const QuantileSketch sketch = sketch_of(values);
  EXPECT_NEAR(quantile_of(sketch, 0.07), 128, 1.28);
  EXPECT_NEAR(quantile_of(sketch, 0.29), std::ldexp(1.0, 29), std::ldexp(1.0, 29) * kAlpha);
  EXPECT_NEAR(quantile_of(sketch, 0.57), std::ldexp(1.0, 57), std::ldexp(1.0, 57) * kAlpha);
}

TEST(QuantileSketch, WeightedAddEqualsRepeatedAdds) {
  QuantileSketch weighted;
  QuantileSketch repeated;
  const std::vector<double> values = lognormal(200, 1, 1, 11);
  for (size_t i = 0; i < values.size(); ++i) {
    const auto times = static_cast<int>(1 + i % 7);
    weighted.add(values[i], times);
    for (int t = 0; t < times; ++t) {
      repeated.add(values[i]);
    }
  }
  weighted.add(-3, 4);
  weighted.add(0, 2);
  for (int t = 0; t < 4; ++t) {
    repeated.add(-3);
  }
  repeated.add(0);
  repeated.add(0);
  EXPECT_EQ(weighted, repeated);
  EXPECT_EQ(bytes_of(weighted), bytes_of(repeated));
  for (const int64_t permille : kPermille) {
    const double q = static_cast<double>(permille) / 1000;
    EXPECT_EQ(weighted.quantile(q), repeated.quantile(q));
  }
}

TEST(QuantileSketch, FractionalWeightsSelectByCumulativeWeight) {
  QuantileSketch sketch;
  sketch.add(10, 0.25);
  sketch.add(1000, 0.75);
  EXPECT_EQ(sketch.count(), 1.0);
  EXPECT_NEAR(quantile_of(sketch, 0.25), 10, 0.1);
  EXPECT_NEAR(quantile_of(sketch, 0.3), 1000, 10);
}

TEST(QuantileSketch, CountsStayExactBeyondEachCounterWidth) {
  QuantileSketch sketch;
  // 300 and 70000 overflow 8- and 16-bit counters; 5e9 overflows 32 bits.
  for (int i = 0; i < 300; ++i) {
    sketch.add(1);
  }
  sketch.add(2, 70000);
  sketch.add(3, 5e9);
  EXPECT_EQ(sketch.count(), 300 + 70000 + 5e9);
  const double n = sketch.count();
  // Rank 300 is the last 1, rank 301 the first 2, rank 70300 the last 2.
  EXPECT_NEAR(quantile_of(sketch, 300 / n), 1, 0.01);
  EXPECT_NEAR(quantile_of(sketch, 301 / n), 2, 0.02);
  EXPECT_NEAR(quantile_of(sketch, 70300 / n), 2, 0.02);
  EXPECT_NEAR(quantile_of(sketch, 70301 / n), 3, 0.03);
}

TEST(QuantileSketch, WidenedCountersEqualOneWeightedAdd) {
  QuantileSketch one_by_one;
  for (int i = 0; i < 70000; ++i) {
    one_by_one.add(2);
  }
  QuantileSketch weighted;
  weighted.add(2, 70000);
  EXPECT_EQ(one_by_one, weighted);
}

// Sends each value to one of `parts` sketches at random, then merges the parts in random order.
QuantileSketch merge_of_random_split(const std::vector<double>& values, size_t parts,
                                     std::mt19937_64& rng) {
  std::vector<QuantileSketch> sketches(parts);
  std::uniform_int_distribution<size_t> pick(0, parts - 1);
  for (const double v : values) {
    sketches[pick(rng)].add(v);
  }
  std::shuffle(sketches.begin(), sketches.end(), rng);
  QuantileSketch merged;
  for (const QuantileSketch& part : sketches) {
    merged.merge(part);
  }
  return merged;
}

TEST(QuantileSketch, MergeEqualsSinglePassBitForBit) {
  std::vector<double> values = lognormal(20000, 0, 2, 12);
  for (size_t i = 0; i < values.size(); i += 9) {
    values[i] = -values[i];
  }
  for (size_t i = 0; i < values.size(); i += 50) {
    values[i] = 0;
  }
  const QuantileSketch whole = sketch_of(values);
  std::mt19937_64 rng(13);
  for (int trial = 0; trial < 5; ++trial) {
    const QuantileSketch merged = merge_of_random_split(values, 7, rng);
    EXPECT_EQ(merged, whole);
    EXPECT_EQ(bytes_of(merged), bytes_of(whole));
    for (const int64_t permille : kPermille) {
      const double q = static_cast<double>(permille) / 1000;
      EXPECT_EQ(merged.quantile(q), whole.quantile(q));
    }
  }
}

TEST(QuantileSketch, MergeIsCommutative) {
  const QuantileSketch a = sketch_of(lognormal(1000, 0, 1, 14));
  const QuantileSketch b = sketch_of(lognormal(3000, 5, 1, 15));
  QuantileSketch ab = a;
  ab.merge(b);
  QuantileSketch ba = b;
  ba.merge(a);
  EXPECT_EQ(ab, ba);
  EXPECT_EQ(bytes_of(ab), bytes_of(ba));
}

TEST(QuantileSketch, MergeIsAssociative) {
  const QuantileSketch a = sketch_of(lognormal(1000, 0, 1, 16));
  const QuantileSketch b = sketch_of(lognormal(500, -3, 2, 17));
  const QuantileSketch c = sketch_of({-4, -400, 0, 7});
  QuantileSketch left = a;  // (a + b) + c
  left.merge(b);
  left.merge(c);
  QuantileSketch bc = b;  // a + (b + c)
  bc.merge(c);
  QuantileSketch right = a;
  right.merge(bc);
  EXPECT_EQ(left, right);
  EXPECT_EQ(bytes_of(left), bytes_of(right));
}

TEST(QuantileSketch, MergeWithEmptyChangesNothing) {
  const QuantileSketch a = sketch_of(lognormal(100, 0, 1, 18));
  QuantileSketch merged = a;
  merged.merge(QuantileSketch());
  EXPECT_EQ(merged, a);
  QuantileSketch into_empty;
  into_empty.merge(a);
  EXPECT_EQ(into_empty, a);
}

TEST(QuantileSketch, MergeCombinesCounterWidths) {
  QuantileSketch narrow;
  narrow.add(5, 200);
  QuantileSketch wide;
  wide.add(5, 100);
  wide.add(5e6, 70000);
  QuantileSketch merged = narrow;
  merged.merge(wide);
  QuantileSketch expected;
  expected.add(5, 300);
  expected.add(5e6, 70000);
  EXPECT_EQ(merged, expected);
}

TEST(QuantileSketch, ClearEmptiesAndReleasesMemory) {
  QuantileSketch sketch = sketch_of(lognormal(1000, 0, 1, 19));
  const size_t empty_bytes = QuantileSketch().memory_bytes();
  EXPECT_GT(sketch.memory_bytes(), empty_bytes);
  sketch.clear();
  EXPECT_TRUE(sketch.empty());
  EXPECT_EQ(sketch, QuantileSketch());
  EXPECT_EQ(sketch.memory_bytes(), empty_bytes);
  sketch.add(3);
  EXPECT_EQ(sketch.quantile(0.5), 3);
}

TEST(QuantileSketch, MemoryCoversOnlyTheRangeUsed) {
  const size_t empty_bytes = QuantileSketch().memory_bytes();
  const QuantileSketch constant = sketch_of(std::vector<double>(10000, 250.0));
  // One bucket plus slack, one byte per counter... widened to 2 bytes by 10000 counts.
  EXPECT_LE(constant.memory_bytes(), empty_bytes + 64);
  // A minute of 60 latencies spanning a factor of about 50: ~200 one-byte counters.
  const QuantileSketch minute = sketch_of(lognormal(60, std::log(20), 0.7, 20));
  EXPECT_LE(minute.memory_bytes(), empty_bytes + 400);
}

TEST(QuantileSketch, AddDoesNotGrowOnceTheRangeIsCovered) {
  QuantileSketch sketch;
  sketch.add(1);
  sketch.add(1000);
  const size_t bytes = sketch.memory_bytes();
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> dist(1, 1000);
  for (int i = 0; i < 200; ++i) {  // Stays below 255 per bucket: no widening either.
    sketch.add(dist(rng));
  }
  EXPECT_EQ(sketch.memory_bytes(), bytes);
}

// Deserializing what serialize wrote gives an equal sketch that encodes to the same bytes and
// answers every quantile identically.
void expect_round_trip(const QuantileSketch& sketch) {
  const std::string bytes = bytes_of(sketch);
  auto restored = QuantileSketch::deserialize(bytes);
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(*restored, sketch);
  EXPECT_EQ(bytes_of(*restored), bytes);
  EXPECT_EQ(restored->relative_accuracy(), sketch.relative_accuracy());
  for (const int64_t permille : kPermille) {
    const double q = static_cast<double>(permille) / 1000;
    EXPECT_EQ(restored->quantile(q), sketch.quantile(q));
  }
}

bool rejects(std::string_view bytes) {
  const auto result = QuantileSketch::deserialize(bytes);
  return !result.is_ok() && result.status().code() == pipeline::StatusCode::kDataLoss;
}

// Deserializes corrupted bytes: true when rejected; otherwise checks the result is usable.
bool rejected_or_usable(std::string_view bytes) {
  const auto result = QuantileSketch::deserialize(bytes);
  if (!result.is_ok()) {
    return true;
  }
  EXPECT_TRUE(result->quantile(0.5).has_value());
  EXPECT_FALSE(rejects(bytes_of(*result)));
  return false;
}

TEST(QuantileSketch, SerializeRoundTrips) {
  std::vector<QuantileSketch> cases;
  cases.emplace_back();
  cases.push_back(sketch_of({42}));
  cases.push_back(sketch_of({-1e9, -3, 0, 1e-12, 2, 1e9, std::numeric_limits<double>::max()}));
  cases.push_back(sketch_of(lognormal(10000, 0, 1, 22)));
  QuantileSketch fractional(0.05);
  fractional.add(3, 0.5);
  fractional.add(-7, 2.25);
  fractional.add(0, 1e10);
  cases.push_back(fractional);
  for (const QuantileSketch& sketch : cases) {
    expect_round_trip(sketch);
  }
}

TEST(QuantileSketch, SerializationIsCompact) {
  const QuantileSketch minute = sketch_of(lognormal(60, std::log(20), 0.7, 23));
  // Header 43 bytes, then about one byte per bucket of the range.
  EXPECT_LT(bytes_of(minute).size(), 400U);
}

TEST(QuantileSketch, DeserializeRejectsEveryTruncation) {
  QuantileSketch sketch = sketch_of(lognormal(500, 0, 1, 24));
  sketch.add(-2.5, 1000);
  sketch.add(0);
  const std::string bytes = bytes_of(sketch);
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_TRUE(rejects(std::string_view(bytes).substr(0, length))) << "length " << length;
  }
}

TEST(QuantileSketch, DeserializeRejectsTrailingBytes) {
  std::string bytes = bytes_of(sketch_of({1, 2, 3}));
  bytes.push_back('\0');
  EXPECT_TRUE(rejects(bytes));
}

TEST(QuantileSketch, DeserializeRejectsInconsistentHeaders) {
  const std::string good = bytes_of(sketch_of({1, 2, 3}));
  auto with_double = [&](size_t at, double value) {
    std::string bytes = good;
    auto bits = std::bit_cast<uint64_t>(value);
    for (size_t i = 0; i < 8; ++i) {
      bytes[at + i] = static_cast<char>(bits & 0xFFU);
      bits >>= 8U;
    }
    return bytes;
  };
  // Offsets: magic 0-1, version 2, accuracy 3, count 11, zero count 19, min 27, max 35.
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_TRUE(rejects(bad_magic));
  std::string bad_version = good;
  bad_version[2] = 9;
  EXPECT_TRUE(rejects(bad_version));

  struct Corruption {
    size_t offset;
    double value;
  };

  const std::array<Corruption, 8> corruptions = {{
      {3, std::nan("")},                              // Accuracy not a number.
      {3, 1e-9},                                      // Accuracy out of range.
      {11, 4},                                        // Count ≠ sum of buckets.
      {11, -3},                                       // Negative count.
      {19, 1},                                        // Zero count without a zero.
      {27, 5},                                        // Minimum above maximum.
      {35, -1},                                       // Maximum below the positive buckets.
      {35, std::numeric_limits<double>::infinity()},  // Infinite maximum.
  }};
  for (const Corruption& c : corruptions) {
    EXPECT_TRUE(rejects(with_double(c.offset, c.value))) << "offset " << c.offset;
  }
  EXPECT_TRUE(QuantileSketch::deserialize(good).is_ok());
}

TEST(QuantileSketch, DeserializeRejectsHugeBucketCountsWithoutAllocating) {
  std::string bytes = bytes_of(QuantileSketch());
  bytes.pop_back();  // Negative store.
  bytes.pop_back();  // Positive store.
  // 2^62 buckets claimed, then almost nothing.
  bytes += std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x40", 9);
  bytes += std::string("\x02\x00\x01", 3);
  EXPECT_TRUE(rejects(bytes));
}

TEST(QuantileSketch, DeserializeSurvivesEveryByteCorruption) {
  QuantileSketch sketch = sketch_of(lognormal(300, 0, 1, 25));
  sketch.add(-7);
  sketch.add(0);
  const std::string good = bytes_of(sketch);
  size_t rejected = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (const int flip : {0x01, 0x80, 0xFF}) {
      std::string bytes = good;
      bytes[i] = static_cast<char>(static_cast<uint8_t>(bytes[i]) ^ flip);
      if (rejected_or_usable(bytes)) {
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, good.size());
}

TEST(QuantileSketch, DeserializeRejectsRandomGarbage) {
  std::mt19937_64 rng(26);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(0, 300);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes(length(rng), '\0');
    for (char& c : bytes) {
      c = static_cast<char>(byte(rng));
    }
    if (trial % 2 == 0 && bytes.size() >= 3) {
      bytes[0] = 'T';  // Get past the magic and version half of the time.
      bytes[1] = 'Q';
      bytes[2] = 1;
    }
    EXPECT_TRUE(rejects(bytes));
  }
}

TEST(QuantileSketchDeathTest, AddRejectsNonFiniteValues) {
  QuantileSketch sketch;
  EXPECT_DEATH(sketch.add(std::nan("")), "finite");
  EXPECT_DEATH(sketch.add(1, 0), "finite");
}

TEST(QuantileSketchDeathTest, MergeRejectsDifferentAccuracies) {
  QuantileSketch fine(0.01);
  const QuantileSketch coarse(0.02);
  EXPECT_DEATH(fine.merge(coarse), "same accuracy");
}

}  // namespace
}  // namespace tw::operators
