#include "pipeline/state_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace tw::pipeline {
namespace {

TEST(StateCodec, RoundTripsEveryKind) {
  StateWriter out;
  out.u8(7);
  out.u32(0xDEADBEEF);
  out.u64(0x0123456789ABCDEFULL);
  out.i64(-42);
  out.f64(-0.1);
  out.f64(std::numeric_limits<double>::infinity());
  out.boolean(true);
  out.time(EventTime::from_millis(1'700'000'000'123));
  out.duration(Duration::seconds(90));
  out.text("héllo\0x");
  out.optional_f64(std::nullopt);
  out.optional_f64(2.5);
  const size_t section = out.begin_section();
  out.text("inside");
  out.end_section(section);

  StateReader in(out.bytes());
  EXPECT_EQ(in.u8(), 7);
  EXPECT_EQ(in.u32(), 0xDEADBEEF);
  EXPECT_EQ(in.u64(), 0x0123456789ABCDEFULL);
  EXPECT_EQ(in.i64(), -42);
  EXPECT_EQ(in.f64(), -0.1);
  EXPECT_TRUE(std::isinf(in.f64()));
  EXPECT_TRUE(in.boolean());
  EXPECT_EQ(in.time(), EventTime::from_millis(1'700'000'000'123));
  EXPECT_EQ(in.duration(), Duration::seconds(90));
  EXPECT_EQ(in.text(), "héllo");
  EXPECT_EQ(in.optional_f64(), std::nullopt);
  EXPECT_EQ(in.optional_f64(), 2.5);
  StateReader inner(in.section());
  EXPECT_EQ(inner.text(), "inside");
  EXPECT_TRUE(inner.at_end());
  EXPECT_TRUE(in.ok()) << in.error();
  EXPECT_TRUE(in.at_end());
}

TEST(StateCodec, TruncationFailsOnceAndReadsZeros) {
  StateWriter out;
  out.u64(99);
  out.text("abc");
  const std::string bytes = out.bytes().substr(0, out.bytes().size() - 1);
  StateReader in(bytes);
  EXPECT_EQ(in.u64(), 99U);
  EXPECT_EQ(in.text(), "");
  EXPECT_FALSE(in.ok());
  EXPECT_NE(in.error().find("truncated"), std::string::npos) << in.error();
  EXPECT_EQ(in.u32(), 0U);  // Every later read is zero; the first error is kept.
  EXPECT_NE(in.error().find("truncated"), std::string::npos);
}

TEST(StateCodec, HostileCountsAndBooleansAreRefused) {
  StateWriter out;
  out.u32(4'000'000'000U);  // Claims four billion elements in no bytes.
  StateReader in(out.bytes());
  EXPECT_EQ(in.count(8), 0U);
  EXPECT_FALSE(in.ok());

  StateWriter flag;
  flag.u8(2);
  StateReader bad(flag.bytes());
  EXPECT_FALSE(bad.boolean());
  EXPECT_FALSE(bad.ok());
}

TEST(StateEntries, IndexesByKindAndKeyAndKeepsEveryCopy) {
  StateWriter out;
  out.entry('A', "cpu-high", "one");
  out.entry('W', "cpu-high", "window");
  out.entry('A', "cpu-high", "two");
  out.u8(0);
  StateReader in(out.bytes());
  StateEntries entries;
  ASSERT_TRUE(entries.read(in)) << in.error();
  EXPECT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries.find('A', "cpu-high"), "two");
  ASSERT_EQ(entries.find_all('A', "cpu-high").size(), 2U);
  EXPECT_EQ(entries.find_all('A', "cpu-high")[0], "one");
  EXPECT_EQ(entries.find('W', "cpu-high"), "window");
  EXPECT_EQ(entries.find('A', "other"), std::nullopt);
  EXPECT_TRUE(entries.find_all('C', "x").empty());
}

TEST(StateEntries, MissingTerminatorIsMalformed) {
  StateWriter out;
  out.entry('A', "a", "b");
  StateReader in(out.bytes());
  StateEntries entries;
  EXPECT_FALSE(entries.read(in));
  EXPECT_FALSE(in.ok());
}

TEST(StateCodec, ChecksumIsZlibsCrc32) {
  EXPECT_EQ(checksum("123456789"), 0xCBF43926U);  // The CRC-32 check value.
  EXPECT_EQ(checksum(""), 0U);
}

}  // namespace
}  // namespace tw::pipeline
