#include "detectors/number_format.h"

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

namespace tw::detectors {

// Java 19+ prints the shortest repeating digits (JDK-4511638), which is what std::to_chars in
// scientific form gives; only the layout differs.
std::string java_double(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "Infinity" : "-Infinity";
  }
  if (value == 0) {
    return std::signbit(value) ? "-0.0" : "0.0";
  }
  std::array<char, 40> buf{};
  const auto result =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::scientific);
  const std::string_view text(buf.data(), static_cast<size_t>(result.ptr - buf.data()));
  // text is "[-]d[.ddd]e[+-]XX".
  const size_t e = text.find('e');
  const bool negative = text.front() == '-';
  std::string digits;
  for (const char c : text.substr(negative ? 1 : 0, e - (negative ? 1 : 0))) {
    if (c != '.') {
      digits += c;
    }
  }
  int exponent = 0;
  const std::string_view exp_text = text.substr(e + 1);
  std::from_chars(exp_text.data() + (exp_text.front() == '+' ? 1 : 0),
                  exp_text.data() + exp_text.size(), exponent);
  std::string out = negative ? "-" : "";
  if (exponent >= -3 && exponent < 7) {
    // Plain notation: the decimal point goes after digit (exponent + 1).
    if (exponent < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exponent - 1), '0');
      out += digits;
    } else {
      const auto point = static_cast<size_t>(exponent + 1);
      if (digits.size() <= point) {
        out += digits;
        out.append(point - digits.size(), '0');
        out += ".0";
      } else {
        out += digits.substr(0, point);
        out += '.';
        out += digits.substr(point);
      }
    }
    return out;
  }
  out += digits.front();
  out += '.';
  out += digits.size() > 1 ? digits.substr(1) : "0";
  out += 'E';
  out += std::to_string(exponent);
  return out;
}

}  // namespace tw::detectors
