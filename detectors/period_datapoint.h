#pragma once

/// One period of an alarm's metric as the alarm sees it: the datapoint CloudWatch would compare.

#include <optional>

#include "pipeline/time.h"

namespace tw::detectors {

struct PeriodDatapoint {
  pipeline::EventTime start;    ///< The period's start: the datapoint's timestamp.
  std::optional<double> value;  ///< The statistic (or expression value); nullopt when missing.
  double sample_count = 0;      ///< Samples in the period (0 when missing or for math results).
  std::optional<double> lower;  ///< Band alarms: the lower band at this period.
  std::optional<double> upper;  ///< Band alarms: the upper band at this period.
  /// A percentile computed from fewer samples than EvaluateLowSampleCountPercentile requires
  /// (set by whoever computed the statistic; see operators/statistics.h).
  bool low_sample_count = false;

  bool operator==(const PeriodDatapoint&) const = default;
};

}  // namespace tw::detectors
