#pragma once

/// CloudWatch's decision for one evaluation of a metric alarm: given the verdicts of the periods
/// in the evaluation range (breaching, not breaching, missing), EvaluationPeriods N,
/// DatapointsToAlarm M and TreatMissingData, the state the alarm should be in.
///
/// The procedure reproduces every documented row of the two missing-data tables and the
/// "premature alarm" examples of the CloudWatch user guide (reference cloudwatch-alarms.md §2.5,
/// "reconstructed procedure"):
///
///  1. With at least N real datapoints in the range, the N newest real ones are evaluated
///     (missing slots are skipped, reaching back in the range); TreatMissingData is not used.
///  2. With none, the state follows the treatment: missing → INSUFFICIENT_DATA, ignore → keep
///     the current state, breaching → ALARM, notBreaching → OK.
///  3. With fewer than N, breaching/notBreaching fill the shortfall with as few filled points as
///     possible; missing/ignore fill nothing and decide on the real points alone: ALARM with at
///     least M breaching, OK with any good point, and otherwise (only breaching points, fewer
///     than M) keep the state — except that under `missing` the alarm does go to ALARM when its
///     oldest breaching point is at least M periods old, since no newer good point arrived
///     ("premature alarm" guard: `- - X - -` alarms, `- - - X -` and `- - - - X` do not).
///
/// Pure function; thread-safe.

#include <cstddef>
#include <span>
#include <vector>

#include "detectors/alarm_state.h"
#include "pipeline/config.h"

namespace tw::detectors {

/// How one period of the range compares with the threshold.
enum class Verdict : uint8_t { kMissing, kBreaching, kNotBreaching };

/// What the evaluation decided.
struct Decision {
  enum class Kind : uint8_t {
    kState,   ///< Go to (or stay in) `state`.
    kRetain,  ///< Keep the current state, whatever it is.
  };

  Kind kind = Kind::kRetain;
  AlarmState state = AlarmState::kInsufficientData;

  /// The slots (indexes into the range, 0 = newest) whose real datapoints were evaluated, newest
  /// first, and how many filled points joined them (with the treatment's verdict).
  std::vector<size_t> evaluated;
  size_t filled = 0;
  Verdict filled_as = Verdict::kMissing;
  /// True when no slot of the range had data.
  bool all_missing = false;

  bool operator==(const Decision&) const = default;
};

/// Decides. `range` holds the verdicts newest first (range.size() = N + extra).
/// Preconditions: 1 <= m <= n <= range.size().
Decision decide(std::span<const Verdict> range, int n, int m, pipeline::TreatMissingData treat);

}  // namespace tw::detectors
