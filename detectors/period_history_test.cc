#include "detectors/period_history.h"

#include <gtest/gtest.h>

#include <vector>

namespace tw::detectors {
namespace {

using pipeline::Duration;
using pipeline::EventTime;

const EventTime kT0 = EventTime::from_seconds(1'676'737'800);  // 2023-02-18T16:30:00Z

TEST(PeriodHistory, AssemblesTheRangeFromEarlierTicks) {
  // Period 2 minutes, evaluated every minute; range = 5 periods.
  PeriodHistory history(Duration::minutes(2), Duration::minutes(1), 5);
  for (int m = 0; m < 12; ++m) {
    const EventTime tick = kT0 + Duration::minutes(m);
    history.remember(tick, PeriodDatapoint{tick - Duration::minutes(2), m * 1.0, 1});
  }
  std::vector<PeriodDatapoint> range;
  history.assemble(kT0 + Duration::minutes(11), range);
  ASSERT_EQ(range.size(), 5U);
  // Newest first, one period apart: the periods that ended at ticks 11, 9, 7, 5 and 3.
  for (size_t k = 0; k < range.size(); ++k) {
    ASSERT_TRUE(range[k].value.has_value());
    EXPECT_EQ(*range[k].value, 11.0 - 2.0 * static_cast<double>(k));
    EXPECT_EQ(range[k].start,
              kT0 + Duration::minutes(11) - Duration::minutes(2) * (static_cast<int64_t>(k) + 1));
  }
}

TEST(PeriodHistory, PeriodsNeverRememberedAreMissing) {
  PeriodHistory history(Duration::minutes(1), Duration::minutes(1), 5);
  history.remember(kT0, PeriodDatapoint{kT0 - Duration::minutes(1), 7.0, 1});
  std::vector<PeriodDatapoint> range;
  history.assemble(kT0, range);
  ASSERT_EQ(range.size(), 5U);
  EXPECT_EQ(range[0].value, 7.0);
  for (size_t k = 1; k < range.size(); ++k) {
    EXPECT_FALSE(range[k].value.has_value());
    EXPECT_EQ(range[k].start, kT0 - Duration::minutes(static_cast<int64_t>(k) + 1));
  }
}

TEST(PeriodHistory, SlotsFromAnEarlierLapReadAsMissing) {
  // A gap of more than the ring's length: the old slots must not be mistaken for new ones.
  PeriodHistory history(Duration::minutes(1), Duration::minutes(1), 3);
  history.remember(kT0, PeriodDatapoint{kT0 - Duration::minutes(1), 1.0, 1});
  const EventTime later = kT0 + Duration::minutes(3);  // Ring of 3 slots: same slot as kT0.
  history.remember(later, PeriodDatapoint{later - Duration::minutes(1), 2.0, 1});
  std::vector<PeriodDatapoint> range;
  history.assemble(later, range);
  EXPECT_EQ(range[0].value, 2.0);
  EXPECT_FALSE(range[1].value.has_value());
  EXPECT_FALSE(range[2].value.has_value());
}

TEST(PeriodHistory, KeepsBandsOnlyWhenAskedTo) {
  PeriodHistory plain(Duration::minutes(1), Duration::minutes(1), 1);
  PeriodHistory banded(Duration::minutes(1), Duration::minutes(1), 1, /*with_bands=*/true);
  PeriodDatapoint d{kT0 - Duration::minutes(1), 5.0, 3};
  d.lower = 1.0;
  d.upper = 9.0;
  d.low_sample_count = true;
  plain.remember(kT0, d);
  banded.remember(kT0, d);
  std::vector<PeriodDatapoint> range;
  banded.assemble(kT0, range);
  EXPECT_EQ(range[0], d);
  plain.assemble(kT0, range);
  EXPECT_FALSE(range[0].lower.has_value());
  EXPECT_EQ(range[0].value, 5.0);
  EXPECT_EQ(range[0].sample_count, 3.0);
  EXPECT_TRUE(range[0].low_sample_count);
}

}  // namespace
}  // namespace tw::detectors
