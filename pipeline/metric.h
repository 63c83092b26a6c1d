#pragma once

/// Metric datapoints as the decoders produce them, and the statistic set every bucket keeps.
///
/// Decoders append to a reusable `MetricBatch`. Its strings are views into the decoder's own
/// buffers (the parser's unescaped-string buffer), so decoding copies and allocates nothing per
/// record in steady state; the views stay valid until the decoder decodes its next record. A
/// batch belongs to one thread at a time.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/time.h"
#include "pipeline/units.h"

namespace tw::pipeline {

/// SampleCount, Sum, Minimum and Maximum of a set of values. Merging two sets is exact, which is
/// what lets per-minute buckets combine into periods of any length, and partial results from
/// several shards combine into one.
///
/// The sum is kept as an unevaluated pair `sum + sum_error` (a double-double, updated with the
/// error-free TwoSum transformation), and so is the sample count (counts may be fractional in
/// PutMetricData and metric streams). A pair holds the exact total whenever it fits in about 106
/// significant bits — for metric data, always in practice — so `sum` and `sample_count` are then
/// the correctly rounded exact totals, whatever the order in which values were added or sets
/// merged. Plain double accumulation would make a replayed Average differ in its last digit when
/// records arrive in a different order, breaking replay's byte-for-byte determinism.
struct StatisticSet {
  double sample_count = 0;  ///< Rounded to nearest.
  double sum = 0;           ///< Rounded to nearest.
  double minimum = std::numeric_limits<double>::infinity();
  double maximum = -std::numeric_limits<double>::infinity();
  double sum_error = 0;    ///< Exact sum minus `sum`; |sum_error| ≤ ulp(sum) / 2.
  double count_error = 0;  ///< Exact count minus `sample_count`.

  [[nodiscard]] bool empty() const { return sample_count <= 0; }

  /// Adds `weight` copies of `value`. Precondition: weight > 0, value finite.
  void add(double value, double weight = 1) {
    accumulate(sample_count, count_error, weight);
    accumulate(sum, sum_error, value * weight);
    minimum = std::min(minimum, value);
    maximum = std::max(maximum, value);
  }

  void merge(const StatisticSet& other) {
    accumulate(sample_count, count_error, other.sample_count);
    accumulate(sample_count, count_error, other.count_error);
    accumulate(sum, sum_error, other.sum);
    accumulate(sum, sum_error, other.sum_error);
    minimum = std::min(minimum, other.minimum);
    maximum = std::max(maximum, other.maximum);
  }

  [[nodiscard]] double average() const { return sum / sample_count; }

  bool operator==(const StatisticSet&) const = default;

 private:
  // Knuth's TwoSum, then renormalisation, so (high, low) stays a canonical pair.
  static void accumulate(double& high, double& low, double x) {
    const double s = high + x;
    const double b = s - high;
    const double error = (high - (s - b)) + (x - b);
    const double l = low + error;
    high = s + l;
    low = l - (high - s);
  }
};

/// A value with a multiplicity, as in PutMetricData's Values/Counts.
struct WeightedValue {
  double value = 0;
  double weight = 1;
};

/// A percentile a pre-aggregated record reports, e.g. metric streams' `p99`.
struct ReportedQuantile {
  double quantile = 0;  ///< In (0, 1), e.g. 0.99.
  double value = 0;
};

/// One datapoint of one metric as decoded; strings are views (see MetricBatch).
struct MetricDatum {
  std::string_view namespace_name;
  std::string_view metric_name;
  std::string_view account_id;   ///< Empty: the input's (or the configuration's) account.
  std::string_view region;       ///< Empty: the input's (or the configuration's) region.
  uint32_t first_dimension = 0;  ///< Index into MetricBatch::dimensions.
  uint32_t dimension_count = 0;
  uint32_t first_value = 0;  ///< Index into MetricBatch::values (raw values, if any).
  uint32_t value_count = 0;
  uint32_t first_quantile = 0;  ///< Index into MetricBatch::quantiles.
  uint32_t quantile_count = 0;
  EventTime time;
  StatisticSet stats;  ///< Always filled, also when raw values are present.
  Unit unit = Unit::kNone;
  bool high_resolution = false;  ///< StorageResolution 1. Metric streams deliver one-minute
                                 ///< aggregates, which are standard resolution.
};

/// One accepted datapoint as the runtime hands it to a shard: the datum's numbers with views of
/// its raw values and reported percentiles. The views are valid for the duration of the call.
struct MetricSample {
  EventTime time;
  Unit unit = Unit::kNone;
  bool high_resolution = false;
  StatisticSet stats;
  std::span<const WeightedValue> values;        ///< Raw values, if the record had any.
  std::span<const ReportedQuantile> quantiles;  ///< Reported percentiles, if any.
};

/// A (name, value) pair of views.
struct DimensionRef {
  std::string_view name;
  std::string_view value;
};

/// Reusable output buffer of the metric decoders.
class MetricBatch {
 public:
  void clear() {
    datums.clear();
    dimensions.clear();
    values.clear();
    quantiles.clear();
  }

  [[nodiscard]] std::span<const DimensionRef> dimensions_of(const MetricDatum& d) const {
    return std::span<const DimensionRef>(dimensions).subspan(d.first_dimension, d.dimension_count);
  }

  [[nodiscard]] std::span<const WeightedValue> values_of(const MetricDatum& d) const {
    return std::span<const WeightedValue>(values).subspan(d.first_value, d.value_count);
  }

  [[nodiscard]] std::span<const ReportedQuantile> quantiles_of(const MetricDatum& d) const {
    return std::span<const ReportedQuantile>(quantiles).subspan(d.first_quantile, d.quantile_count);
  }

  /// A position to roll back to when a record turns out to be bad halfway through.
  struct Mark {
    size_t datums;
    size_t dimensions;
    size_t values;
    size_t quantiles;
  };

  [[nodiscard]] Mark mark() const {
    return Mark{datums.size(), dimensions.size(), values.size(), quantiles.size()};
  }

  void rollback(const Mark& m) {
    datums.resize(m.datums);
    dimensions.resize(m.dimensions);
    values.resize(m.values);
    quantiles.resize(m.quantiles);
  }

  std::vector<MetricDatum> datums;
  std::vector<DimensionRef> dimensions;
  std::vector<WeightedValue> values;
  std::vector<ReportedQuantile> quantiles;
};

}  // namespace tw::pipeline
