#include "pipeline/units.h"

#include <array>

namespace tw::pipeline {
namespace {

constexpr std::array<std::string_view, 27> kUnitNames = {
    "None",
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
};

}  // namespace

std::string_view to_string(Unit unit) {
  return kUnitNames.at(static_cast<size_t>(unit));
}

std::optional<Unit> parse_unit(std::string_view text) {
  for (size_t i = 0; i < kUnitNames.size(); ++i) {
    if (kUnitNames[i] == text) {
      return static_cast<Unit>(i);
    }
  }
  return std::nullopt;
}

std::span<const std::string_view> unit_names() {
  return kUnitNames;
}

}  // namespace tw::pipeline
