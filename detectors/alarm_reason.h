#pragma once

/// StateReason texts and StateReasonData JSON for metric alarm transitions, in CloudWatch's
/// formats (reference cloudwatch-alarms.md §2.8), so tooling that parses them keeps working:
///
///   Threshold Crossed: 2 out of the last 2 datapoints [3.0 (18/02/23 16:42:00), 3.0 (18/02/23
///   16:41:00)] were not less than the threshold (1.0) (minimum 1 datapoint for ALARM -> OK
///   transition).
///   Threshold Crossed: 1 datapoint [21.5 (26/10/23 16:42:00)] was greater than the threshold
///   (2.0).
///   Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were
///   treated as [Breaching].
///   Insufficient Data: 3 datapoints were unknown.
///   Thresholds Crossed: 1 out of the last 1 datapoints [0.0 (03/10/19 15:58:00)] was less than
///   the lower thresholds [0.0205] or greater than the upper thresholds [0.3006] (minimum 1
///   datapoint for OK -> ALARM transition).
///
/// Choices where CloudWatch's output is not documented:
/// - The "k out of the last N" form is used whenever DatapointsToAlarm is set, the short
///   "k datapoint(s) [...]" form otherwise.
/// - The bracket lists the evaluated real datapoints that satisfy the stated relation, newest
///   first; filled points are added as " and f missing datapoint(s) was/were treated as
///   [Breaching]" after the threshold clause, and counted in k.
/// - "Insufficient Data" counts the EvaluationPeriods slots (all missing).
/// - "minimum k datapoints": M for a transition to ALARM, N − M + 1 to OK.
/// - StateReasonData lists in `evaluatedDatapoints` the datapoints of the bracket (newest first)
///   and, as timestamp-only entries, the filled slots; `recentDatapoints` holds the values of
///   all evaluated real datapoints, oldest first; `startDate` is the start of the oldest of them.
///
/// Pure functions; thread-safe.

#include <optional>
#include <span>
#include <string>

#include "detectors/alarm_decision.h"
#include "detectors/alarm_state.h"
#include "detectors/period_datapoint.h"
#include "pipeline/config.h"
#include "pipeline/time.h"

namespace tw::detectors {

/// What a transition's reason is built from.
struct ReasonInput {
  const pipeline::MetricAlarmConfig* alarm = nullptr;
  pipeline::EventTime evaluation_time;
  std::span<const PeriodDatapoint> range;  ///< Newest first.
  std::span<const Verdict> verdicts;       ///< Parallel to `range`.
  const Decision* decision = nullptr;
  AlarmState from = AlarmState::kInsufficientData;
  AlarmState to = AlarmState::kInsufficientData;
  /// Anti-flapping extension: the threshold the OK direction was judged against (the alarm's
  /// RecoveryThreshold while in ALARM); nullopt = the alarm's Threshold.
  std::optional<double> threshold_used;
  /// Anti-flapping extension: DatapointsToRecover when it raised "minimum k datapoints for
  /// ALARM -> OK" above N − M + 1; 0 = not raised.
  size_t recover_minimum = 0;
};

struct Reason {
  std::string text;  ///< StateReason.
  std::string data;  ///< StateReasonData: one JSON object.
};

/// Builds the reason of a transition. Preconditions: all pointers set; to != from.
Reason build_reason(const ReasonInput& input);

/// "greater than", "less than or equal to", ... for a static comparison operator; with
/// `negated`, prefixed "not ".
std::string relation_phrase(pipeline::ComparisonOperator op, bool negated);

}  // namespace tw::detectors
