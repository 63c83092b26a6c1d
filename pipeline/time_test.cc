#include "pipeline/time.h"

#include <gtest/gtest.h>

namespace tw::pipeline {
namespace {

TEST(ParseIso8601, ParsesCloudTrailEventTime) {
  const auto t = parse_iso8601("2023-07-10T11:42:18Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->millis(), 1'688'989'338'000);
}

TEST(ParseIso8601, ParsesCloudWatchTimestampWithMillisAndOffset) {
  const auto t = parse_iso8601("2023-10-26T16:42:00.123+0000");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_cloudwatch_timestamp(*t), "2023-10-26T16:42:00.123+0000");
}

TEST(ParseIso8601, AppliesZoneOffset) {
  const auto t = parse_iso8601("2023-10-26T18:42:00+02:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_iso8601_seconds(*t), "2023-10-26T16:42:00Z");
}

TEST(ParseIso8601, TruncatesSubMillisecondFractions) {
  const auto t = parse_iso8601("2023-10-26T16:42:00.123456Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->millis() % 1000, 123);
}

TEST(ParseIso8601, MissingZoneMeansUtc) {
  EXPECT_EQ(parse_iso8601("2023-10-26T16:42:00"), parse_iso8601("2023-10-26T16:42:00Z"));
}

TEST(ParseIso8601, RejectsMalformedText) {
  for (const char* bad :
       {"", "2023", "2023-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2014-03-06T21: 22: 54Z",
        "2023-10-26T16:42:00Zjunk", "2023-10-26T24:00:00Z", "2023-10-26T16:42:00.Z", "yesterday"}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  }
}

TEST(ParseIso8601, AcceptsLeapDay) {
  EXPECT_TRUE(parse_iso8601("2024-02-29T00:00:00Z").has_value());
}

TEST(FormatTimestamps, ReasonFormatIsDayMonthTwoDigitYear) {
  const auto t = parse_iso8601("2023-02-18T16:42:00Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_reason_timestamp(*t), "18/02/23 16:42:00");
}

TEST(FormatTimestamps, RoundTripsBeforeEpoch) {
  const auto t = parse_iso8601("1969-12-31T23:59:59.500Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->millis(), -500);
  EXPECT_EQ(format_iso8601_millis(*t), "1969-12-31T23:59:59.500Z");
}

TEST(EventTimeFloor, FloorsNegativeTimesDownward) {
  EXPECT_EQ(EventTime::from_millis(-1).floor(Duration::minutes(1)).millis(), -60'000);
  EXPECT_EQ(EventTime::from_millis(119'999).floor(Duration::minutes(1)).millis(), 60'000);
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(EventTime::from_seconds(10));
  EXPECT_EQ(clock.now(), EventTime::from_seconds(10));
  clock.advance(Duration::seconds(5));
  EXPECT_EQ(clock.now(), EventTime::from_seconds(15));
}

}  // namespace

TEST(FormatTimestamps, PadEveryFieldAndKeepYearsOutsideFourDigits) {
  // 0001-02-03T04:05:06.007: every field needs padding.
  const EventTime early = EventTime::from_millis(-62'132'730'893'993);
  EXPECT_EQ(format_cloudwatch_timestamp(early), "0001-02-03T04:05:06.007+0000");
  EXPECT_EQ(format_iso8601_seconds(early), "0001-02-03T04:05:06Z");
  EXPECT_EQ(format_iso8601_millis(early), "0001-02-03T04:05:06.007Z");
  EXPECT_EQ(format_reason_timestamp(early), "03/02/01 04:05:06");
  // Year 10000 is written in full, not truncated to four digits.
  EXPECT_EQ(format_iso8601_seconds(EventTime::from_millis(253'402'300'800'000)),
            "10000-01-01T00:00:00Z");
}

}  // namespace tw::pipeline
