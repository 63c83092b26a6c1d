#include "detectors/alarm_reason.h"

#include <algorithm>
#include <ranges>
#include <vector>

#include "detectors/json_text.h"
#include "detectors/number_format.h"

namespace tw::detectors {

using pipeline::ComparisonOperator;

namespace {

std::string plural(size_t n, std::string_view singular, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : many);
}

std::string_view was_were(size_t n) {
  return n == 1 ? "was" : "were";
}

std::string datapoint_item(const PeriodDatapoint& d) {
  return java_double(d.value.value_or(0)) + " (" + pipeline::format_reason_timestamp(d.start) + ")";
}

std::string number_list(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i > 0 ? ", " : "");
    out += java_double(values[i]);
  }
  out += "]";
  return out;
}

// The same list, as JSON numbers (no spaces).
std::string json_number_list(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i > 0 ? "," : "");
    out += java_double(values[i]);
  }
  out += "]";
  return out;
}

std::string transition_name(AlarmState from, AlarmState to) {
  return std::string(to_string(from)) + " -> " + std::string(to_string(to));
}

// The relation of a band operator: "less than the lower thresholds [..] or greater than the
// upper thresholds [..]", negated for the OK direction.
std::string band_relation(ComparisonOperator op, bool negated, const std::vector<double>& lows,
                          const std::vector<double>& highs) {
  const std::string no = negated ? "not " : "";
  std::string lower = no + "less than the lower thresholds " + number_list(lows);
  std::string upper = no + "greater than the upper thresholds " + number_list(highs);
  switch (op) {
    case ComparisonOperator::kLessThanLowerThreshold:
      return lower;
    case ComparisonOperator::kGreaterThanUpperThreshold:
      return upper;
    default:
      return lower + " or " + upper;
  }
}

}  // namespace

std::string relation_phrase(ComparisonOperator op, bool negated) {
  std::string phrase = negated ? "not " : "";
  switch (op) {
    case ComparisonOperator::kGreaterThanOrEqualToThreshold:
      return phrase + "greater than or equal to";
    case ComparisonOperator::kGreaterThanThreshold:
    case ComparisonOperator::kGreaterThanUpperThreshold:
      return phrase + "greater than";
    case ComparisonOperator::kLessThanThreshold:
    case ComparisonOperator::kLessThanLowerThreshold:
      return phrase + "less than";
    case ComparisonOperator::kLessThanOrEqualToThreshold:
      return phrase + "less than or equal to";
    case ComparisonOperator::kLessThanLowerOrGreaterThanUpperThreshold:
      return phrase + "outside";
  }
  return phrase;
}

Reason build_reason(const ReasonInput& input) {
  const pipeline::MetricAlarmConfig& alarm = *input.alarm;
  const Decision& decision = *input.decision;
  const bool band = pipeline::is_band_operator(alarm.comparison_operator);
  const auto n = static_cast<size_t>(alarm.evaluation_periods);
  const auto m = static_cast<size_t>(alarm.effective_datapoints_to_alarm());
  const bool to_alarm = input.to == AlarmState::kAlarm;
  const double threshold = input.threshold_used.value_or(alarm.threshold.value_or(0));

  // The datapoints of the bracket: evaluated real points on the stated side, newest first.
  const Verdict stated = to_alarm ? Verdict::kBreaching : Verdict::kNotBreaching;
  std::vector<const PeriodDatapoint*> listed;
  std::vector<double> recent;  // All evaluated real values, oldest first.
  for (const size_t slot : decision.evaluated) {
    if (input.verdicts[slot] == stated) {
      listed.push_back(&input.range[slot]);
    }
  }
  for (const size_t slot : std::views::reverse(decision.evaluated)) {
    recent.push_back(input.range[slot].value.value_or(0));
  }
  // The filled slots: the newest missing slots of the range.
  std::vector<const PeriodDatapoint*> filled;
  for (size_t slot = 0; slot < input.range.size() && filled.size() < decision.filled; ++slot) {
    if (input.verdicts[slot] == Verdict::kMissing) {
      filled.push_back(&input.range[slot]);
    }
  }
  const bool filled_counts = decision.filled > 0 && decision.filled_as == stated;

  Reason reason;
  if (input.to == AlarmState::kInsufficientData) {
    reason.text = "Insufficient Data: " + plural(n, "datapoint", "datapoints") + " " +
                  std::string(was_were(n)) + " unknown.";
  } else if (decision.all_missing) {
    const std::string_view as =
        decision.filled_as == Verdict::kBreaching ? "Breaching" : "NonBreaching";
    reason.text = "Threshold Crossed: no datapoints were received for " +
                  plural(n, "period", "periods") + " and " +
                  plural(n, "missing datapoint", "missing datapoints") + " " +
                  std::string(was_were(n)) + " treated as [" + std::string(as) + "].";
  } else {
    const size_t k = listed.size() + (filled_counts ? decision.filled : 0);
    std::string items = "[";
    std::vector<double> lows;
    std::vector<double> highs;
    for (size_t i = 0; i < listed.size(); ++i) {
      items += (i > 0 ? ", " : "") + datapoint_item(*listed[i]);
      lows.push_back(listed[i]->lower.value_or(0));
      highs.push_back(listed[i]->upper.value_or(0));
    }
    items += "]";
    std::string relation = band ? band_relation(alarm.comparison_operator, !to_alarm, lows, highs)
                                : relation_phrase(alarm.comparison_operator, !to_alarm) +
                                      " the threshold (" + java_double(threshold) + ")";
    if (filled_counts) {
      relation += " and " + plural(decision.filled, "missing datapoint", "missing datapoints") +
                  " " + std::string(was_were(decision.filled)) + " treated as [" +
                  (decision.filled_as == Verdict::kBreaching ? "Breaching" : "NonBreaching") + "]";
    }
    const std::string head = band ? "Thresholds Crossed: " : "Threshold Crossed: ";
    if (alarm.datapoints_to_alarm.has_value() || band) {
      const size_t minimum = to_alarm ? m : std::max(n - m + 1, input.recover_minimum);
      reason.text = head + std::to_string(k) + " out of the last " +
                    plural(n, "datapoints", "datapoints") + " " + items + " " +
                    std::string(was_were(k)) + " " + relation + " (minimum " +
                    plural(minimum, "datapoint", "datapoints") + " for " +
                    transition_name(input.from, input.to) + " transition).";
    } else {
      reason.text = head + plural(k, "datapoint", "datapoints") + " " + items + " " +
                    std::string(was_were(k)) + " " + relation + ".";
    }
  }

  // StateReasonData, key order as CloudWatch writes it.
  std::string data = R"({"version":"1.0","queryDate":")" +
                     pipeline::format_cloudwatch_timestamp(input.evaluation_time) + "\"";
  if (!decision.evaluated.empty()) {
    data += R"(,"startDate":")" +
            pipeline::format_cloudwatch_timestamp(input.range[decision.evaluated.back()].start) +
            "\"";
  }
  if (alarm.unit) {
    data += R"(,"unit":)" + json_string(pipeline::to_string(*alarm.unit));
  }
  if (alarm.metrics.empty() && alarm.statistic) {
    data += R"(,"statistic":)" + json_string(alarm.statistic->text);
  }
  data += R"(,"period":)" + std::to_string(alarm.period);
  data += R"(,"recentDatapoints":)" + json_number_list(recent);
  if (band) {
    std::vector<double> lows;
    std::vector<double> highs;
    for (const size_t slot : std::views::reverse(decision.evaluated)) {
      lows.push_back(input.range[slot].lower.value_or(0));
      highs.push_back(input.range[slot].upper.value_or(0));
    }
    data += R"(,"recentLowerThresholds":)" + json_number_list(lows);
    data += R"(,"recentUpperThresholds":)" + json_number_list(highs);
  } else {
    data += R"(,"threshold":)" + java_double(threshold);
  }
  data += R"(,"evaluatedDatapoints":[)";
  bool first = true;
  auto add_entry = [&](const PeriodDatapoint& d, bool with_value) {
    data += first ? "" : ",";
    first = false;
    data += R"({"timestamp":")" + pipeline::format_cloudwatch_timestamp(d.start) + "\"";
    if (with_value) {
      if (alarm.metrics.empty()) {
        data += R"(,"sampleCount":)" + java_double(d.sample_count);
      }
      data += R"(,"value":)" + java_double(d.value.value_or(0));
    }
    data += "}";
  };
  if (input.to == AlarmState::kInsufficientData || decision.all_missing) {
    for (size_t slot = 0; slot < n && slot < input.range.size(); ++slot) {
      add_entry(input.range[slot], false);
    }
  } else {
    for (const PeriodDatapoint* d : listed) {
      add_entry(*d, true);
    }
    if (filled_counts) {
      for (const PeriodDatapoint* d : filled) {
        add_entry(*d, false);
      }
    }
  }
  data += "]}";
  reason.data = std::move(data);
  return reason;
}

}  // namespace tw::detectors
