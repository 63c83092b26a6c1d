#include "detectors/metric_alarm.h"

#include <gtest/gtest.h>

#include <vector>

#include "detectors/alarm_reason.h"

namespace tw::detectors {
namespace {

using pipeline::ComparisonOperator;
using pipeline::Duration;
using pipeline::EventTime;
using pipeline::TreatMissingData;

pipeline::MetricAlarmConfig alarm_config(int period, int n, std::optional<int> m,
                                         ComparisonOperator op, double threshold) {
  pipeline::MetricAlarmConfig c;
  c.alarm_name = "cpu \"high\"";
  c.namespace_name = "AWS/EC2";
  c.metric_name = "CPUUtilization";
  c.statistic = pipeline::parse_statistic("Average");
  c.period = period;
  c.evaluation_periods = n;
  c.datapoints_to_alarm = m;
  c.comparison_operator = op;
  c.threshold = threshold;
  return c;
}

pipeline::MetricAlarmConfig cpu_alarm(int period) {
  return alarm_config(period, 3, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 70);
}

// Drives an alarm tick by tick (one minute or 10 s apart) with a value per tick (nullopt:
// missing) and collects its transitions.
class Driver {
 public:
  Driver(const pipeline::MetricAlarmConfig& config, EventTime first_tick,
         pipeline::Settings settings = {})
      : alarm_(config, settings), tick_(first_tick) {}

  std::optional<StateTransition> step(std::optional<double> value, double samples = 1) {
    const PeriodDatapoint d{tick_ - alarm_.period(), value, value ? samples : 0};
    auto t = alarm_.evaluate(tick_, d, out_);
    tick_ = tick_ + alarm_.cadence();
    return t;
  }

  // Steps and returns the state after each step, as a string of O, A, I.
  std::string states(const std::vector<std::optional<double>>& values) {
    std::string out;
    for (const auto& v : values) {
      step(v);
      out += alarm_.state() == AlarmState::kOk      ? 'O'
             : alarm_.state() == AlarmState::kAlarm ? 'A'
                                                    : 'I';
    }
    return out;
  }

  MetricAlarm& alarm() { return alarm_; }

  EventTime tick() const { return tick_; }

 private:
  MetricAlarm alarm_;
  EventTime tick_;
  pipeline::EmissionBuffer out_;
};

const EventTime kT0 = *pipeline::parse_iso8601("2023-02-18T16:30:00Z");

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
  (void)alarm.evaluate(t, PeriodDatapoint{t - Duration::minutes(1), 21.5, 2}, out);
  ASSERT_EQ(out.items().size(), 1U);
  EXPECT_EQ(out.items()[0].stream, pipeline::EmissionStream::kDatapoints);
  EXPECT_EQ(out.items()[0].json,
            R"({"alarm":"cpu \"high\"","evaluation_time":"2023-11-14T22:14:00Z",)"
            R"("period_start":"2023-11-14T22:13:00Z","value":21.5,"sample_count":2})");
}

TEST(MetricAlarm, FigureExampleAlarmsAfterThreeBreachesAndRecoversOnOneGoodPoint) {
  Driver d(alarm_config(60, 3, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 3), kT0);
  EXPECT_EQ(d.states({4, 5, 4, 4, 5, 2, 1, 2, 5, 2}), "IIAAAOOOOO");
}

TEST(MetricAlarm, EqualityBreachesOnlyTheOrEqualOperators) {
  Driver strict(alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 70),
                kT0);
  Driver inclusive(
      alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanOrEqualToThreshold, 70),
      kT0);
  EXPECT_EQ(strict.states({70.0}), "O");
  EXPECT_EQ(inclusive.states({70.0}), "A");
}

TEST(MetricAlarm, LessThanOperatorsCompareTheOtherWay) {
  Driver lt(alarm_config(60, 1, std::nullopt, ComparisonOperator::kLessThanThreshold, 1), kT0);
  Driver le(alarm_config(60, 1, std::nullopt, ComparisonOperator::kLessThanOrEqualToThreshold, 1),
            kT0);
  EXPECT_EQ(lt.states({1.0, 0.5}), "OA");
  EXPECT_EQ(le.states({1.0, 2.0}), "AO");
}

TEST(MetricAlarm, BandOperatorsCompareWithTheBandAtTheSamePeriod) {
  pipeline::MetricAlarmConfig c = alarm_config(
      60, 1, std::nullopt, ComparisonOperator::kLessThanLowerOrGreaterThanUpperThreshold, 0);
  c.threshold.reset();
  MetricAlarm alarm(c, pipeline::Settings{});
  pipeline::EmissionBuffer out;
  auto band = [&](EventTime tick, double v) {
    PeriodDatapoint d{tick - Duration::minutes(1), v, 1};
    d.lower = 10;
    d.upper = 20;
    return alarm.evaluate(tick, d, out);
  };
  EXPECT_TRUE(band(kT0, 15).has_value());
  EXPECT_EQ(alarm.state(), AlarmState::kOk);
  const auto t = band(kT0 + Duration::minutes(1), 25);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(alarm.state(), AlarmState::kAlarm);
  EXPECT_EQ(t->current.reason,
            "Thresholds Crossed: 1 out of the last 1 datapoints [25.0 (18/02/23 16:30:00)] was "
            "less than the lower thresholds [10.0] or greater than the upper thresholds [20.0] "
            "(minimum 1 datapoint for OK -> ALARM transition).");
}

TEST(MetricAlarm, MissingBandMakesThePeriodMissing) {
  pipeline::MetricAlarmConfig c =
      alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanUpperThreshold, 0);
  c.threshold.reset();
  Driver d(c, kT0);
  EXPECT_EQ(d.states({100.0}), "I");
}

// §10.4: 2 of 2, LessThanThreshold 1.0, values 3.0 at 16:42 and 16:41, ALARM → OK. The text
// is checked on the reason builder: in trailwatch no datapoint can arrive after its period was
// evaluated, so an ALARM alarm always sees the first good point on its own.
TEST(MetricAlarmReason, MOfNFormToOkListsTheGoodDatapointsNewestFirst) {
  const pipeline::MetricAlarmConfig c =
      alarm_config(60, 2, 2, ComparisonOperator::kLessThanThreshold, 1.0);
  const EventTime at = *pipeline::parse_iso8601("2023-02-18T16:43:21Z");
  const std::vector<PeriodDatapoint> range = {
      {*pipeline::parse_iso8601("2023-02-18T16:42:00Z"), 3.0, 1},
      {*pipeline::parse_iso8601("2023-02-18T16:41:00Z"), 3.0, 1},
      {*pipeline::parse_iso8601("2023-02-18T16:40:00Z"), std::nullopt, 0}};
  const std::vector<Verdict> verdicts = {Verdict::kNotBreaching, Verdict::kNotBreaching,
                                         Verdict::kMissing};
  const Decision decision = decide(verdicts, 2, 2, TreatMissingData::kBreaching);
  ASSERT_EQ(decision.state, AlarmState::kOk);
  const Reason r = build_reason(
      ReasonInput{&c, at, range, verdicts, &decision, AlarmState::kAlarm, AlarmState::kOk});
  EXPECT_EQ(r.text,
            "Threshold Crossed: 2 out of the last 2 datapoints [3.0 (18/02/23 16:42:00), 3.0 "
            "(18/02/23 16:41:00)] were not less than the threshold (1.0) (minimum 1 datapoint "
            "for ALARM -> OK transition).");
}

TEST(MetricAlarmReason, MOfNFormIntoAlarmNamesTheMinimumForTheAlarmDirection) {
  const pipeline::MetricAlarmConfig c =
      alarm_config(60, 1, 1, ComparisonOperator::kGreaterThanThreshold, 50.0);
  const EventTime at = *pipeline::parse_iso8601("2019-10-02T17:00:00Z");
  const std::vector<PeriodDatapoint> range = {
      {*pipeline::parse_iso8601("2019-10-02T16:59:00Z"), 99.50160229693434, 1}};
  const std::vector<Verdict> verdicts = {Verdict::kBreaching};
  const Decision decision = decide(verdicts, 1, 1, TreatMissingData::kMissing);
  const Reason r = build_reason(
      ReasonInput{&c, at, range, verdicts, &decision, AlarmState::kOk, AlarmState::kAlarm});
  EXPECT_EQ(r.text,
            "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 "
            "16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> "
            "ALARM transition).");
}

// §10.4: N = 1, GreaterThanThreshold 2.0, an average of 21.5 from 2 samples in bucket 16:42:00.
TEST(MetricAlarmReason, ShortFormWhenDatapointsToAlarmIsUnset) {
  pipeline::MetricAlarmConfig c =
      alarm_config(30, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 2.0);
  c.unit = pipeline::Unit::kSeconds;
  MetricAlarm alarm(c, pipeline::Settings{});
  pipeline::EmissionBuffer out;
  const EventTime tick = *pipeline::parse_iso8601("2023-10-26T16:42:30Z");
  const auto t = alarm.evaluate(tick, PeriodDatapoint{tick - Duration::seconds(30), 21.5, 2}, out);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->current.reason,
            "Threshold Crossed: 1 datapoint [21.5 (26/10/23 16:42:00)] was greater than the "
            "threshold (2.0).");
  EXPECT_EQ(t->current.reason_data,
            R"({"version":"1.0","queryDate":"2023-10-26T16:42:30.000+0000",)"
            R"("startDate":"2023-10-26T16:42:00.000+0000","unit":"Seconds",)"
            R"("statistic":"Average","period":30,"recentDatapoints":[21.5],"threshold":2.0,)"
            R"("evaluatedDatapoints":[{"timestamp":"2023-10-26T16:42:00.000+0000",)"
            R"("sampleCount":2.0,"value":21.5}]})");
  EXPECT_EQ(t->previous.value, AlarmState::kInsufficientData);
  EXPECT_EQ(t->previous.reason, "Unchecked: Initial alarm creation");
  EXPECT_EQ(t->current.timestamp, tick);
}

// §10.4: N = 2, breaching, no data.
TEST(MetricAlarmReason, AllMissingTreatedAsBreachingSaysSoInPlural) {
  pipeline::MetricAlarmConfig c =
      alarm_config(60, 2, std::nullopt, ComparisonOperator::kLessThanThreshold, 1.0);
  c.treat_missing_data = TreatMissingData::kBreaching;
  MetricAlarm alarm(c, pipeline::Settings{});
  pipeline::EmissionBuffer out;
  const auto t =
      alarm.evaluate(kT0, PeriodDatapoint{kT0 - Duration::minutes(1), std::nullopt, 0}, out);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->current.value, AlarmState::kAlarm);
  EXPECT_EQ(t->current.reason,
            "Threshold Crossed: no datapoints were received for 2 periods and 2 missing "
            "datapoints were treated as [Breaching].");
  EXPECT_EQ(t->current.reason_data,
            R"({"version":"1.0","queryDate":"2023-02-18T16:30:00.000+0000",)"
            R"("statistic":"Average","period":60,"recentDatapoints":[],"threshold":1.0,)"
            R"("evaluatedDatapoints":[{"timestamp":"2023-02-18T16:29:00.000+0000"},)"
            R"({"timestamp":"2023-02-18T16:28:00.000+0000"}]})");
}

// §10.4: N = 1, notBreaching, no data.
TEST(MetricAlarmReason, AllMissingTreatedAsNotBreachingSaysSoInSingular) {
  pipeline::MetricAlarmConfig c =
      alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 1.0);
  c.treat_missing_data = TreatMissingData::kNotBreaching;
  MetricAlarm alarm(c, pipeline::Settings{});
  pipeline::EmissionBuffer out;
  const auto t =
      alarm.evaluate(kT0, PeriodDatapoint{kT0 - Duration::minutes(1), std::nullopt, 0}, out);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->current.reason,
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing "
            "datapoint was treated as [NonBreaching].");
}

TEST(MetricAlarmReason, InsufficientDataCountsTheUnknownDatapoints) {
  Driver d(alarm_config(60, 3, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 1.0), kT0);
  d.step(5.0);
  d.step(5.0);
  d.step(5.0);
  ASSERT_EQ(d.alarm().state(), AlarmState::kAlarm);
  std::optional<StateTransition> t;
  for (int i = 0; i < 5 && !t; ++i) {
    t = d.step(std::nullopt);
  }
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->current.value, AlarmState::kInsufficientData);
  EXPECT_EQ(t->current.reason, "Insufficient Data: 3 datapoints were unknown.");
}

TEST(MetricAlarmReason, MixedRealAndFilledPointsNameBoth) {
  pipeline::MetricAlarmConfig c =
      alarm_config(60, 3, 3, ComparisonOperator::kGreaterThanThreshold, 3.0);
  c.treat_missing_data = TreatMissingData::kBreaching;
  Driver d(c, kT0);
  const auto t = d.step(5.0);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->current.reason,
            "Threshold Crossed: 3 out of the last 3 datapoints [5.0 (18/02/23 16:29:00)] were "
            "greater than the threshold (3.0) and 2 missing datapoints were treated as "
            "[Breaching] (minimum 3 datapoints for INSUFFICIENT_DATA -> ALARM transition).");
}

TEST(MetricAlarmRules, DynamoDbAlarmsIgnoreMissingDataWhateverTheTreatment) {
  pipeline::MetricAlarmConfig c =
      alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 1.0);
  c.namespace_name = "AWS/DynamoDB";
  c.treat_missing_data = TreatMissingData::kBreaching;
  Driver d(c, kT0);
  EXPECT_EQ(d.states({std::nullopt, std::nullopt, 0.5, std::nullopt}), "IIOO");
}

TEST(MetricAlarmRules, LowSampleCountPercentileIgnoredKeepsTheState) {
  pipeline::MetricAlarmConfig c =
      alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 1.0);
  c.statistic = pipeline::parse_statistic("p99");
  c.evaluate_low_sample_count_percentile = pipeline::LowSampleCountPercentile::kIgnore;
  MetricAlarm alarm(c, pipeline::Settings{});
  pipeline::EmissionBuffer out;
  PeriodDatapoint low{kT0 - Duration::minutes(1), 5.0, 3};
  low.low_sample_count = true;
  EXPECT_FALSE(alarm.evaluate(kT0, low, out).has_value());
  EXPECT_EQ(alarm.state(), AlarmState::kInsufficientData);
}

TEST(MetricAlarmRules, LowSampleCountPercentileEvaluatedByDefault) {
  pipeline::MetricAlarmConfig c =
      alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 1.0);
  c.statistic = pipeline::parse_statistic("p99");
  MetricAlarm alarm(c, pipeline::Settings{});
  pipeline::EmissionBuffer out;
  PeriodDatapoint low{kT0 - Duration::minutes(1), 5.0, 3};
  low.low_sample_count = true;
  EXPECT_TRUE(alarm.evaluate(kT0, low, out).has_value());
  EXPECT_EQ(alarm.state(), AlarmState::kAlarm);
}

TEST(MetricAlarmRules, DailyBreachingAlarmFiresOnceTheGoodPointLeavesTheRange) {
  // §10.1 (d): Period 1 day, 1 of 1, breaching; one good daily datapoint at 00:00, then none.
  // Evaluated every minute, the daily period [T − 1 day, T) contains that point for the day
  // after it; the range (N + 2 = 3 periods) holds it until three days after it.
  pipeline::MetricAlarmConfig c =
      alarm_config(86'400, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 10);
  c.treat_missing_data = TreatMissingData::kBreaching;
  MetricAlarm alarm(c, pipeline::Settings{});
  pipeline::EmissionBuffer out;
  const EventTime point = kT0.floor(Duration::minutes(1440));
  std::optional<EventTime> alarmed_at;
  for (int minute = 1; minute <= 5 * 1440 && !alarmed_at; ++minute) {
    const EventTime tick = point + Duration::minutes(minute);
    const bool contains_point = minute <= 1440;
    const PeriodDatapoint d{tick - Duration::minutes(1440),
                            contains_point ? std::optional<double>(1.0) : std::nullopt,
                            contains_point ? 1.0 : 0.0};
    if (alarm.evaluate(tick, d, out) && alarm.state() == AlarmState::kAlarm) {
      alarmed_at = tick;
    }
  }
  ASSERT_TRUE(alarmed_at.has_value());
  EXPECT_EQ(*alarmed_at, point + Duration::minutes(3 * 1440 + 1));
}

TEST(MetricAlarm, AdoptsTheStateOfItsPreviousIncarnation) {
  Driver d(cpu_alarm(60), kT0);
  d.states({80, 80, 80});
  ASSERT_EQ(d.alarm().state(), AlarmState::kAlarm);
  MetricAlarm reloaded(cpu_alarm(60), pipeline::Settings{});
  reloaded.adopt_state(d.alarm());
  EXPECT_EQ(reloaded.state(), AlarmState::kAlarm);
  EXPECT_EQ(reloaded.state_record(), d.alarm().state_record());
}

TEST(FormatDatapointLine, WritesNullForMissingPeriods) {
  const PeriodDatapoint missing{EventTime::from_seconds(0), std::nullopt, 0};
  EXPECT_EQ(format_datapoint_line("a", EventTime::from_seconds(60), missing),
            R"({"alarm":"a","evaluation_time":"1970-01-01T00:01:00Z",)"
            R"("period_start":"1970-01-01T00:00:00Z","value":null,"sample_count":0})");
}

TEST(FormatDatapointLine, AddsTheBandForBandAlarms) {
  PeriodDatapoint d{EventTime::from_seconds(0), 5.0, 1};
  d.lower = 1;
  d.upper = 9.5;
  EXPECT_EQ(format_datapoint_line("a", EventTime::from_seconds(60), d),
            R"({"alarm":"a","evaluation_time":"1970-01-01T00:01:00Z",)"
            R"("period_start":"1970-01-01T00:00:00Z","value":5,"sample_count":1,)"
            R"("lower":1,"upper":9.5})");
}

TEST(FormatDatapointLine, BandAlarmsShowAMissingBandAsNull) {
  const PeriodDatapoint d{EventTime::from_seconds(0), 5.0, 1};
  EXPECT_EQ(format_datapoint_line("a", EventTime::from_seconds(60), d, /*band=*/true),
            R"({"alarm":"a","evaluation_time":"1970-01-01T00:01:00Z",)"
            R"("period_start":"1970-01-01T00:00:00Z","value":5,"sample_count":1,)"
            R"("lower":null,"upper":null})");
}

TEST(FormatNumber, IsShortestRoundTrip) {
  EXPECT_EQ(format_number(21.5), "21.5");
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(3), "3");
  EXPECT_EQ(format_number(99.50160229693434), "99.50160229693434");
}

// --- Extensions (the alarm's Trailwatch object) -----------------------------------------------

TEST(MetricAlarmExtensions, WithoutRecoveryThresholdAValueJustBelowTheThresholdRecovers) {
  const auto c = alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 80);
  Driver d(c, kT0);
  EXPECT_EQ(d.states({90.0, 75.0, 90.0, 75.0}), "AOAO");
}

TEST(MetricAlarmExtensions, RecoveryThresholdKeepsAlarmWhileBetweenTheThresholds) {
  auto c = alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 80);
  c.extensions.recovery_threshold = 70;
  Driver d(c, kT0);
  EXPECT_EQ(d.states({90.0, 75.0, 79.0, 90.0, 70.5}), "AAAAA");
  const auto t = d.step(65.0);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->current.value, AlarmState::kOk);
  EXPECT_EQ(t->current.reason,
            "Threshold Crossed: 1 datapoint [65.0 (18/02/23 16:34:00)] was not greater than the "
            "threshold (70.0).");
  EXPECT_NE(t->current.reason_data.find(R"("threshold":70.0)"), std::string::npos);
}

TEST(MetricAlarmExtensions, RecoveryThresholdDoesNotChangeHowTheAlarmFires) {
  auto c = alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 80);
  c.extensions.recovery_threshold = 70;
  Driver d(c, kT0);
  // From OK, 75 is below the alarm threshold: no alarm (the recovery threshold applies only in
  // ALARM).
  EXPECT_EQ(d.states({50.0, 75.0, 80.0, 80.5}), "OOOA");
}

TEST(MetricAlarmExtensions, RecoveryThresholdWorksForAlarmsOnLowValues) {
  auto c = alarm_config(60, 1, std::nullopt, ComparisonOperator::kLessThanThreshold, 10);
  c.extensions.recovery_threshold = 20;
  Driver d(c, kT0);
  EXPECT_EQ(d.states({5.0, 15.0, 19.9, 20.0}), "AAAO");
}

TEST(MetricAlarmExtensions, DatapointsToRecoverNeedsThatManyGoodDatapoints) {
  auto c = alarm_config(60, 3, 3, ComparisonOperator::kGreaterThanThreshold, 80);
  Driver plain(c, kT0);
  // CloudWatch: 3 of 3 to alarm, so one good datapoint (N − M + 1 = 1) recovers.
  EXPECT_EQ(plain.states({90.0, 90.0, 90.0, 50.0}), "IIAO");

  c.extensions.datapoints_to_recover = 3;
  Driver d(c, kT0);
  EXPECT_EQ(d.states({90.0, 90.0, 90.0, 50.0, 90.0, 50.0, 50.0}), "IIAAAAA");
  const auto t = d.step(50.0);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->current.value, AlarmState::kOk);
  EXPECT_EQ(t->current.reason,
            "Threshold Crossed: 3 out of the last 3 datapoints [50.0 (18/02/23 16:36:00), 50.0 "
            "(18/02/23 16:35:00), 50.0 (18/02/23 16:34:00)] were not greater than the threshold "
            "(80.0) (minimum 3 datapoints for ALARM -> OK transition).");
}

TEST(MetricAlarmExtensions, DatapointsToRecoverBelowTheImplicitValueChangesNothing) {
  auto c = alarm_config(60, 3, 1, ComparisonOperator::kGreaterThanThreshold, 80);
  const std::vector<std::optional<double>> values = {90.0, 50.0, 50.0, 50.0, 90.0, 50.0};
  Driver plain(c, kT0);
  c.extensions.datapoints_to_recover = 2;  // CloudWatch already needs 3 of 3 good.
  Driver d(c, kT0);
  EXPECT_EQ(d.states(values), plain.states(values));
}

TEST(MetricAlarmExtensions, MissingSeriesIsReportedAfterTheConfiguredPeriods) {
  auto c = alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 80);
  c.extensions.report_missing_after_periods = 2;
  Driver d(c, kT0);
  EXPECT_EQ(d.states({10.0, std::nullopt}), "OO");
  const auto t = d.step(std::nullopt);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->current.value, AlarmState::kAlarm);
  EXPECT_EQ(t->current.reason,
            "Missing Data: no datapoints were received for 2 periods since 18/02/23 16:30:00.");
  EXPECT_EQ(t->current.reason_data,
            R"({"version":"1.0","queryDate":"2023-02-18T16:32:00.000+0000","missingPeriods":2,)"
            R"("lastDatapointTimestamp":"2023-02-18T16:29:00.000+0000"})");
  // Stays there while missing (CloudWatch alone would go to INSUFFICIENT_DATA), and recovers
  // with the first datapoint back.
  EXPECT_EQ(d.states({std::nullopt, std::nullopt, std::nullopt, 10.0}), "AAAO");
}

TEST(MetricAlarmExtensions, MissingSeriesCanBeReportedAsInsufficientData) {
  auto c = alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 80);
  c.treat_missing_data = TreatMissingData::kNotBreaching;
  c.extensions.report_missing_after_periods = 3;
  c.extensions.report_missing_as = "INSUFFICIENT_DATA";
  Driver d(c, kT0);
  EXPECT_EQ(d.states({10.0, std::nullopt, std::nullopt, std::nullopt, std::nullopt}), "OOOII");
}

TEST(MetricAlarmExtensions, SeriesThatNeverReportedIsNotMissing) {
  auto c = alarm_config(60, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 80);
  c.treat_missing_data = TreatMissingData::kNotBreaching;
  c.extensions.report_missing_after_periods = 1;
  Driver d(c, kT0);
  EXPECT_EQ(d.states({std::nullopt, std::nullopt, std::nullopt}), "OOO");
}

TEST(MetricAlarmExtensions, MissingSeriesCountsPeriodsNotTicks) {
  // Five-minute periods evaluated every minute: one sample is in five sliding periods, and two
  // empty periods after the last of them take ten more minutes.
  auto c = alarm_config(300, 1, std::nullopt, ComparisonOperator::kGreaterThanThreshold, 80);
  c.extensions.report_missing_after_periods = 2;
  Driver d(c, kT0);
  std::vector<std::optional<double>> values(5, 10.0);
  values.resize(15, std::nullopt);
  EXPECT_EQ(d.states(values), "OOOOOOOOOOOOOOA");
}

}  // namespace
}  // namespace tw::detectors
