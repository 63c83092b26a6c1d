#include "pipeline/series.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tw::pipeline {
namespace {

std::string key_of(std::vector<DimensionView> dims, std::string_view account = "111122223333") {
  SeriesKeyBuilder builder;
  return std::string(builder.build("AWS/EC2", "CPUUtilization", account, "us-east-1", dims));
}

TEST(SeriesKey, DimensionOrderDoesNotChangeIdentity) {
  EXPECT_EQ(key_of({{"InstanceId", "i-1"}, {"AutoScalingGroupName", "web"}}),
            key_of({{"AutoScalingGroupName", "web"}, {"InstanceId", "i-1"}}));
}

TEST(SeriesKey, AccountIsPartOfIdentity) {
  EXPECT_NE(key_of({{"InstanceId", "i-1"}}, "111122223333"),
            key_of({{"InstanceId", "i-1"}}, "444455556666"));
}

TEST(SeriesKey, LengthPrefixesPreventConcatenationCollisions) {
  SeriesKeyBuilder builder;
  std::vector<DimensionView> none;
  const std::string a(builder.build("AB", "C", "", "", none));
  const std::string b(builder.build("A", "BC", "", "", none));
  EXPECT_NE(a, b);
}

TEST(SeriesKey, ParsesBackIntoSortedParts) {
  const std::string key = key_of({{"b", "2"}, {"a", "1"}});
  const auto parts = parse_series_key(key);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->namespace_name, "AWS/EC2");
  EXPECT_EQ(parts->metric_name, "CPUUtilization");
  EXPECT_EQ(parts->account_id, "111122223333");
  EXPECT_EQ(parts->region, "us-east-1");
  ASSERT_EQ(parts->dimensions.size(), 2U);
  EXPECT_EQ(parts->dimensions[0].name, "a");
  EXPECT_EQ(parts->dimensions[1].value, "2");
}

TEST(SeriesKey, RejectsGarbageWhenParsing) {
  EXPECT_FALSE(parse_series_key("\xff\xff\xff").has_value());
  EXPECT_FALSE(parse_series_key("").has_value());
}

TEST(SeriesInterner, AssignsDenseIdsInFirstSeenOrder) {
  SeriesInterner interner;
  const std::string a = key_of({{"InstanceId", "i-1"}});
  const std::string b = key_of({{"InstanceId", "i-2"}});
  EXPECT_EQ(interner.intern(a, hash_series_key(a))->value, 0U);
  EXPECT_EQ(interner.intern(b, hash_series_key(b))->value, 1U);
  EXPECT_EQ(interner.intern(a, hash_series_key(a))->value, 0U);
  EXPECT_EQ(interner.size(), 2U);
  EXPECT_EQ(interner.key(SeriesId{1}), b);
}

TEST(SeriesInterner, SurvivesGrowthWithEveryKeyFindable) {
  SeriesInterner interner;
  std::vector<std::string> keys;
  for (int i = 0; i < 20'000; ++i) {
    keys.push_back(key_of({{"InstanceId", "i-" + std::to_string(i)}}));
    ASSERT_TRUE(interner.intern(keys.back(), hash_series_key(keys.back())).has_value());
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto id = interner.find(keys[i], hash_series_key(keys[i]));
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id->value, i);
  }
}

TEST(SeriesInterner, RefusesNewSeriesAtTheCapButKeepsKnownOnes) {
  SeriesInterner interner(2);
  const std::string a = key_of({{"InstanceId", "i-1"}});
  const std::string b = key_of({{"InstanceId", "i-2"}});
  const std::string c = key_of({{"InstanceId", "i-3"}});
  ASSERT_TRUE(interner.intern(a, hash_series_key(a)).has_value());
  ASSERT_TRUE(interner.intern(b, hash_series_key(b)).has_value());
  EXPECT_FALSE(interner.intern(c, hash_series_key(c)).has_value());
  EXPECT_TRUE(interner.intern(a, hash_series_key(a)).has_value());
}

TEST(SeriesInterner, KeepsConfiguredSeriesBeyondTheCap) {
  SeriesInterner interner(1);
  const std::string a = key_of({{"InstanceId", "i-1"}});
  const std::string b = key_of({{"InstanceId", "i-2"}});
  ASSERT_TRUE(interner.intern(a, hash_series_key(a)).has_value());
  EXPECT_FALSE(interner.intern(b, hash_series_key(b)).has_value());
  EXPECT_TRUE(interner.intern(b, hash_series_key(b), /*beyond_limit=*/true).has_value());
  EXPECT_EQ(interner.size(), 2U);
}

TEST(SeriesHash, DiffersForNearbyKeys) {
  EXPECT_NE(hash_series_key("series-1"), hash_series_key("series-2"));
  EXPECT_NE(hash_series_key(""), hash_series_key(std::string(1, '\0')));
  EXPECT_EQ(hash_series_key("same"), hash_series_key("same"));
}

}  // namespace
}  // namespace tw::pipeline
