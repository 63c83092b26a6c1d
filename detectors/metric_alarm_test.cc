#include "detectors/metric_alarm.h"

#include <gtest/gtest.h>

#include <array>

namespace tw::detectors {
namespace {

using pipeline::Duration;
using pipeline::EventTime;

pipeline::MetricAlarmConfig cpu_alarm(int period) {
  pipeline::MetricAlarmConfig c;
  c.alarm_name = "cpu \"high\"";
  c.namespace_name = "AWS/EC2";
  c.metric_name = "CPUUtilization";
  c.period = period;
  c.evaluation_periods = 3;
  c.threshold = 70;
  return c;
}

TEST(MetricAlarm, StartsInInsufficientDataWithCreationReason) {
  const MetricAlarm alarm(cpu_alarm(60), pipeline::Settings{});
  EXPECT_EQ(alarm.state(), AlarmState::kInsufficientData);
  EXPECT_EQ(alarm.state_reason(), "Unchecked: Initial alarm creation");
  EXPECT_EQ(to_string(alarm.state()), "INSUFFICIENT_DATA");
}

TEST(MetricAlarm, ArnKeepsTheNameVerbatim) {
  pipeline::Settings settings;
  settings.account_id = "123456789012";
  settings.region = "eu-west-1";
  const MetricAlarm alarm(cpu_alarm(60), settings);
  EXPECT_EQ(alarm.arn(), "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu \"high\"");
}

TEST(MetricAlarm, EvaluationRangeIsEvaluationPeriodsPlusExtra) {
  pipeline::Settings settings;
  EXPECT_EQ(MetricAlarm(cpu_alarm(60), settings).range_periods(), 5);
  settings.extra_evaluation_periods = 0;
  EXPECT_EQ(MetricAlarm(cpu_alarm(60), settings).range_periods(), 3);
}

TEST(MetricAlarm, StandardPeriodsAreEvaluatedEveryMinute) {
  const MetricAlarm alarm(cpu_alarm(300), pipeline::Settings{});
  EXPECT_EQ(alarm.cadence(), Duration::minutes(1));
  EXPECT_EQ(alarm.first_tick_after(EventTime::from_seconds(90)), EventTime::from_seconds(120));
  EXPECT_EQ(alarm.first_tick_after(EventTime::from_seconds(120)), EventTime::from_seconds(180));
}

TEST(MetricAlarm, HighResolutionPeriodsAreEvaluatedEveryTenSeconds) {
  const MetricAlarm alarm(cpu_alarm(30), pipeline::Settings{});
  EXPECT_EQ(alarm.cadence(), Duration::seconds(10));
  EXPECT_EQ(alarm.first_tick_after(EventTime::from_seconds(95)), EventTime::from_seconds(100));
}

TEST(MetricAlarm, EmitsTheNewestPeriodAsItsDatapoint) {
  MetricAlarm alarm(cpu_alarm(60), pipeline::Settings{});
  const EventTime t = EventTime::from_seconds(1'700'000'040);
  pipeline::EmissionBuffer out;
  alarm.evaluate(t, PeriodDatapoint{t - Duration::minutes(1), 21.5, 2}, out);
  ASSERT_EQ(out.items().size(), 1U);
  EXPECT_EQ(out.items()[0].stream, pipeline::EmissionStream::kDatapoints);
  EXPECT_EQ(out.items()[0].json,
            R"({"alarm":"cpu \"high\"","evaluation_time":"2023-11-14T22:14:00Z",)"
            R"("period_start":"2023-11-14T22:13:00Z","value":21.5,"sample_count":2})");
}

TEST(MetricAlarm, AssemblesTheEvaluationRangeFromEarlierTicks) {
  // Period 2 minutes, evaluated every minute; range = 3 + 2 = 5 periods.
  MetricAlarm alarm(cpu_alarm(120), pipeline::Settings{});
  const EventTime t0 = EventTime::from_seconds(1'700'000'040);
  pipeline::EmissionBuffer out;
  for (int m = 0; m < 12; ++m) {
    const EventTime tick = t0 + Duration::minutes(m);
    alarm.evaluate(tick, PeriodDatapoint{tick - Duration::minutes(2), m * 1.0, 1}, out);
  }
  const auto range = alarm.range();
  ASSERT_EQ(range.size(), 5U);
  // Newest first, one period apart: the periods that ended at ticks 11, 9, 7, 5 and 3.
  for (size_t k = 0; k < range.size(); ++k) {
    ASSERT_TRUE(range[k].value.has_value());
    EXPECT_EQ(*range[k].value, 11.0 - 2.0 * static_cast<double>(k));
    EXPECT_EQ(range[k].start,
              t0 + Duration::minutes(11) - Duration::minutes(2) * (static_cast<int64_t>(k) + 1));
  }
}

TEST(MetricAlarm, PeriodsBeforeTheFirstTickAreMissing) {
  MetricAlarm alarm(cpu_alarm(60), pipeline::Settings{});
  const EventTime t = EventTime::from_seconds(1'700'000'040);
  pipeline::EmissionBuffer out;
  alarm.evaluate(t, PeriodDatapoint{t - Duration::minutes(1), 7.0, 1}, out);
  const auto range = alarm.range();
  ASSERT_EQ(range.size(), 5U);
  EXPECT_EQ(range[0].value, 7.0);
  for (size_t k = 1; k < range.size(); ++k) {
    EXPECT_FALSE(range[k].value.has_value());
    EXPECT_EQ(range[k].start, t - Duration::minutes(static_cast<int64_t>(k) + 1));
  }
}

TEST(FormatDatapointLine, WritesNullForMissingPeriods) {
  const PeriodDatapoint missing{EventTime::from_seconds(0), std::nullopt, 0};
  EXPECT_EQ(format_datapoint_line("a", EventTime::from_seconds(60), missing),
            R"({"alarm":"a","evaluation_time":"1970-01-01T00:01:00Z",)"
            R"("period_start":"1970-01-01T00:00:00Z","value":null,"sample_count":0})");
}

TEST(FormatNumber, IsShortestRoundTrip) {
  EXPECT_EQ(format_number(21.5), "21.5");
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(3), "3");
  EXPECT_EQ(format_number(99.50160229693434), "99.50160229693434");
}

}  // namespace
}  // namespace tw::detectors
