#include "operators/statistics.h"

#include <cmath>

#include "pipeline/status.h"

namespace tw::operators {

std::optional<double> compute_statistic(const pipeline::Statistic& stat,
                                        const pipeline::StatisticSet& set,
                                        const QuantileSketch* sketch) {
  using Kind = pipeline::Statistic::Kind;
  if (set.empty()) {
    return std::nullopt;
  }
  switch (stat.kind) {
    case Kind::kSampleCount:
      return set.sample_count;
    case Kind::kSum:
      return set.sum;
    case Kind::kAverage:
      return set.average();
    case Kind::kMinimum:
      return set.minimum;
    case Kind::kMaximum:
      return set.maximum;
    case Kind::kPercentile:
      // CloudWatch reports no percentile for a period with a negative value (§8), whatever the
      // sketch could compute.
      if (set.minimum < 0 || sketch == nullptr || sketch->empty()) {
        return std::nullopt;
      }
      return sketch->quantile(stat.percentile / 100);
  }
  return std::nullopt;
}

double percentile_minimum_samples(double percentile) {
  const bool valid = percentile >= 0 && percentile <= 100;  // False for NaN.
  TW_CHECK(valid, "percentile must be in 0..100");
  if (percentile == 0 || percentile == 100) {
    return 1;
  }
  // 10 / (1 − p/100) written as 1000 / (100 − p): exact for whole percentiles, where the
  // fraction form already rounds (1 − 0.99 is not 0.01 in binary).
  const double minimum = percentile >= 50 ? 1000 / (100 - percentile) : 1000 / percentile;
  // Fractional percentiles (p99.9) still round; a count is whole, so snap near-integers lest
  // 10000.000000000568 call 10000 samples "low".
  const double whole = std::round(minimum);
  return std::abs(minimum - whole) <= 1e-9 * whole ? whole : minimum;
}

bool is_low_sample_count(const pipeline::Statistic& stat, double sample_count) {
  if (stat.kind != pipeline::Statistic::Kind::kPercentile) {
    return false;
  }
  return sample_count < percentile_minimum_samples(stat.percentile);
}

}  // namespace tw::operators
