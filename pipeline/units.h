#pragma once

/// CloudWatch's StandardUnit enumeration. Units are labels only: CloudWatch never converts
/// between them, and an alarm with a Unit sees only datapoints published with that unit.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tw::pipeline {

enum class Unit : uint8_t {
  kNone,
  kSeconds,
  kMicroseconds,
  kMilliseconds,
  kBytes,
  kKilobytes,
  kMegabytes,
  kGigabytes,
  kTerabytes,
  kBits,
  kKilobits,
  kMegabits,
  kGigabits,
  kTerabits,
  kPercent,
  kCount,
  kBytesPerSecond,
  kKilobytesPerSecond,
  kMegabytesPerSecond,
  kGigabytesPerSecond,
  kTerabytesPerSecond,
  kBitsPerSecond,
  kKilobitsPerSecond,
  kMegabitsPerSecond,
  kGigabitsPerSecond,
  kTerabitsPerSecond,
  kCountPerSecond,
};

/// The last enumerator (for range checks of stored values).
inline constexpr Unit kLastUnit = Unit::kCountPerSecond;

/// The CloudWatch spelling, e.g. "Bytes/Second".
std::string_view to_string(Unit unit);

/// Parses the CloudWatch spelling (case-sensitive, as the API is). nullopt if unknown.
std::optional<Unit> parse_unit(std::string_view text);

/// Every valid spelling, in enumeration order (for error messages and docs).
std::span<const std::string_view> unit_names();

}  // namespace tw::pipeline
