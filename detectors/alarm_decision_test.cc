// Conformance tests of the decision procedure: both missing-data tables of the CloudWatch user
// guide (reference cloudwatch-alarms.md §2.5 / §10.1), row by row and treatment by treatment,
// the premature-alarm examples, and the M-of-N examples (§10.2).

#include "detectors/alarm_decision.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tw::detectors {
namespace {

using pipeline::TreatMissingData;

// "0 - X - X" (oldest first, as the tables print them) → verdicts newest first.
std::vector<Verdict> parse_points(const std::string& text) {
  std::vector<Verdict> oldest_first;
  for (const char c : text) {
    if (c == '0') {
      oldest_first.push_back(Verdict::kNotBreaching);
    } else if (c == 'X') {
      oldest_first.push_back(Verdict::kBreaching);
    } else if (c == '-') {
      oldest_first.push_back(Verdict::kMissing);
    }
  }
  return {oldest_first.rbegin(), oldest_first.rend()};
}

// "OK", "ALARM", "INSUFFICIENT_DATA" or "R" (retain the current state).
std::string outcome(const std::string& points, int n, int m, TreatMissingData treat) {
  const std::vector<Verdict> range = parse_points(points);
  const Decision d = decide(range, n, m, treat);
  return d.kind == Decision::Kind::kRetain ? "R" : std::string(to_string(d.state));
}

struct TableRow {
  int n;
  int m;
  std::string points;
  std::string missing;
  std::string ignore;
  std::string breaching;
  std::string not_breaching;
};

// §10.1, reproduced exactly (Table A: 3 of 3; Table B: 2 of 3; range 5).
const std::vector<TableRow> kTables = {
    {3, 3, "0 - X - X", "OK", "OK", "OK", "OK"},
    {3, 3, "0 - - - -", "OK", "OK", "OK", "OK"},
    {3, 3, "- - - - -", "INSUFFICIENT_DATA", "R", "ALARM", "OK"},
    {3, 3, "0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"},
    {3, 3, "- - X - -", "ALARM", "R", "ALARM", "OK"},
    {3, 2, "0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"},
    {3, 2, "0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"},
    {3, 2, "0 - X - -", "OK", "OK", "ALARM", "OK"},
    {3, 2, "- - - - 0", "OK", "OK", "ALARM", "OK"},
    {3, 2, "- - - X -", "ALARM", "R", "ALARM", "OK"},
};

class MissingDataTables : public ::testing::TestWithParam<TableRow> {};

TEST_P(MissingDataTables, EveryTreatmentMatchesTheUserGuide) {
  const TableRow& row = GetParam();
  EXPECT_EQ(outcome(row.points, row.n, row.m, TreatMissingData::kMissing), row.missing);
  EXPECT_EQ(outcome(row.points, row.n, row.m, TreatMissingData::kIgnore), row.ignore);
  EXPECT_EQ(outcome(row.points, row.n, row.m, TreatMissingData::kBreaching), row.breaching);
  EXPECT_EQ(outcome(row.points, row.n, row.m, TreatMissingData::kNotBreaching), row.not_breaching);
}

INSTANTIATE_TEST_SUITE_P(TablesAAndB, MissingDataTables, ::testing::ValuesIn(kTables));

TEST(PrematureAlarmGuard, NewestBreachingPointAloneDoesNotAlarmUnderMissing) {
  EXPECT_EQ(outcome("- - - - X", 3, 3, TreatMissingData::kMissing), "R");
}

TEST(PrematureAlarmGuard, SecondNewestBreachingPointAloneDoesNotAlarmUnderMissing) {
  EXPECT_EQ(outcome("- - - X -", 3, 3, TreatMissingData::kMissing), "R");
}

TEST(PrematureAlarmGuard, BreachingPointAtLeastMPeriodsOldAlarmsUnderMissing) {
  EXPECT_EQ(outcome("- - X - -", 3, 3, TreatMissingData::kMissing), "ALARM");
}

TEST(PrematureAlarmGuard, AppliesToMOutOfN) {
  EXPECT_EQ(outcome("- - - X -", 3, 2, TreatMissingData::kMissing), "ALARM");
  EXPECT_EQ(outcome("- - - - X", 3, 2, TreatMissingData::kMissing), "R");
}

TEST(BreachingTreatment, GoodPointThenMissingStaysOkUntilTheGoodPointLeavesTheRange) {
  // §10.1 sequence (a): 3 of 3, breaching: `0 - - - -` → OK, then `- - - - -` → ALARM.
  EXPECT_EQ(outcome("0 - - - -", 3, 3, TreatMissingData::kBreaching), "OK");
  EXPECT_EQ(outcome("- - - - -", 3, 3, TreatMissingData::kBreaching), "ALARM");
}

TEST(RealPoints, NewestNRealPointsDecideAndMissingDataIsNotUsed) {
  const std::vector<Verdict> range = parse_points("X 0 - X X");
  const Decision d = decide(range, 3, 3, TreatMissingData::kBreaching);
  EXPECT_EQ(d.state, AlarmState::kOk);
  EXPECT_EQ(d.evaluated, (std::vector<size_t>{0, 1, 3}));
  EXPECT_EQ(d.filled, 0U);
}

TEST(FilledPoints, AsFewAsPossibleAreFilled) {
  const std::vector<Verdict> range = parse_points("- - X - -");
  const Decision d = decide(range, 3, 3, TreatMissingData::kBreaching);
  EXPECT_EQ(d.state, AlarmState::kAlarm);
  EXPECT_EQ(d.evaluated, (std::vector<size_t>{2}));
  EXPECT_EQ(d.filled, 2U);
  EXPECT_EQ(d.filled_as, Verdict::kBreaching);
}

TEST(AllMissing, IsReportedAsSuch) {
  const std::vector<Verdict> range = parse_points("- - - - -");
  const Decision d = decide(range, 2, 2, TreatMissingData::kNotBreaching);
  EXPECT_TRUE(d.all_missing);
  EXPECT_EQ(d.filled, 2U);
  EXPECT_EQ(d.state, AlarmState::kOk);
}

// §10.2: a 2-of-5 alarm (range 7; the two oldest periods empty).
TEST(MOutOfN, BreachesNeedNotBeConsecutive) {
  EXPECT_EQ(outcome("- - 0 X 0 0 X", 5, 2, TreatMissingData::kMissing), "ALARM");
  EXPECT_EQ(outcome("- - X X 0 0 0", 5, 2, TreatMissingData::kMissing), "ALARM");
}

TEST(MOutOfN, OneBreachInFiveIsNotEnough) {
  EXPECT_EQ(outcome("- - 0 0 X 0 0", 5, 2, TreatMissingData::kMissing), "OK");
  EXPECT_EQ(outcome("- - 0 0 0 0 0", 5, 2, TreatMissingData::kMissing), "OK");
}

}  // namespace
}  // namespace tw::detectors
