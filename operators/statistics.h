#pragma once

/// The CloudWatch statistics of one period's aggregate (reference: cloudwatch-alarms.md §8), and
/// the low-sample-count rule for percentile alarms (§2.6).

#include <optional>

#include "operators/quantile_sketch.h"
#include "pipeline/config.h"
#include "pipeline/metric.h"

namespace tw::operators {

/// The value of `stat` for a period whose values are summarised by `set` and, for percentiles,
/// `sketch` (which must describe the same values as `set`; may be null).
///
/// - SampleCount, Sum, Average (Sum / SampleCount), Minimum and Maximum are exact, from `set`.
/// - A percentile pNN is `sketch->quantile(NN / 100)`: the nearest-rank value within the
///   sketch's relative accuracy (see QuantileSketch). It is unavailable (nullopt) when there is
///   no sketch, the sketch is empty, or any value is negative (`set.minimum < 0`), as in
///   CloudWatch.
/// - nullopt when `set` is empty: a period without data has no datapoint.
///
/// Pure function; thread-safe.
[[nodiscard]] std::optional<double> compute_statistic(const pipeline::Statistic& stat,
                                                      const pipeline::StatisticSet& set,
                                                      const QuantileSketch* sketch);

/// The smallest sample count at which a percentile alarm's period is not "low" under
/// EvaluateLowSampleCountPercentile (§2.6), for `percentile` in 0..100:
///
/// - 50 ≤ p < 100: 10 / (1 − p/100), e.g. p99 → 1000, p90 → 100, p50 → 20;
/// - 0 < p < 50: 10 / (p/100), e.g. p25 → 40, p10 → 100;
/// - p = 0 and p = 100 (the exact minimum and maximum): 1.
///
/// A result within 1e-9 (relative) of a whole number is that number, so p99.9 gives exactly
/// 10000 although 100 − 99.9 is not exact in binary. Precondition: 0 ≤ percentile ≤ 100.
[[nodiscard]] double percentile_minimum_samples(double percentile);

/// True when `stat` is a percentile and `sample_count` is below its minimum (the period's
/// sample is too small to evaluate under EvaluateLowSampleCountPercentile=ignore). Always false
/// for the simple statistics.
[[nodiscard]] bool is_low_sample_count(const pipeline::Statistic& stat, double sample_count);

}  // namespace tw::operators
