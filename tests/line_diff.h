#pragma once

// Comparing long lists of output lines in tests: the first difference, not the whole lists (too
// long to print usefully).

#include <algorithm>
#include <string>
#include <vector>

namespace tw::testing {

/// "" when `actual` equals `expected`, else where and how they first differ (lines cut at 400
/// characters, a missing line shown as "(end)").
inline std::string first_difference(const std::vector<std::string>& actual,
                                    const std::vector<std::string>& expected) {
  for (size_t i = 0; i < std::max(actual.size(), expected.size()); ++i) {
    const std::string a = i < actual.size() ? actual[i] : "(end)";
    const std::string e = i < expected.size() ? expected[i] : "(end)";
    if (a != e) {
      return "line " + std::to_string(i) + " of " + std::to_string(expected.size()) +
             " differs\n  actual:   " + a.substr(0, 400) + "\n  expected: " + e.substr(0, 400);
    }
  }
  return "";
}

}  // namespace tw::testing
