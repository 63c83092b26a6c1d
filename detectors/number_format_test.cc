#include "detectors/number_format.h"

#include <gtest/gtest.h>

#include <limits>

namespace tw::detectors {
namespace {

TEST(JavaDouble, WholeNumbersKeepOneFractionDigit) {
  EXPECT_EQ(java_double(70.0), "70.0");
  EXPECT_EQ(java_double(1.0), "1.0");
  EXPECT_EQ(java_double(2.0), "2.0");
  EXPECT_EQ(java_double(0.0), "0.0");
  EXPECT_EQ(java_double(-3.0), "-3.0");
}

TEST(JavaDouble, FractionsAreShortestRoundTrip) {
  EXPECT_EQ(java_double(21.5), "21.5");
  EXPECT_EQ(java_double(38.958), "38.958");
  EXPECT_EQ(java_double(99.50160229693434), "99.50160229693434");
  EXPECT_EQ(java_double(0.1), "0.1");
  EXPECT_EQ(java_double(0.001), "0.001");
}

TEST(JavaDouble, SmallAndLargeMagnitudesUseScientificNotation) {
  EXPECT_EQ(java_double(1.25e-4), "1.25E-4");
  EXPECT_EQ(java_double(0.0009), "9.0E-4");
  EXPECT_EQ(java_double(1.0e7), "1.0E7");
  EXPECT_EQ(java_double(12345678.9), "1.23456789E7");
  EXPECT_EQ(java_double(9999999.0), "9999999.0");
  EXPECT_EQ(java_double(-2.5e10), "-2.5E10");
}

TEST(JavaDouble, SpecialValuesAreSpelledOut) {
  EXPECT_EQ(java_double(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(java_double(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(java_double(-std::numeric_limits<double>::infinity()), "-Infinity");
}

}  // namespace
}  // namespace tw::detectors
