#include "pipeline/time.h"

#include <array>
#include <chrono>
#include <cstdio>

namespace tw::pipeline {
namespace {

struct CivilTime {
  int64_t year;
  unsigned month;
  unsigned day;
  unsigned hour;
  unsigned minute;
  unsigned second;
  unsigned millis;
};

// Howard Hinnant's civil_from_days: exact for the proleptic Gregorian calendar.
CivilTime civil_from_millis(int64_t ms) {
  int64_t days = ms / 86'400'000;
  int64_t rem = ms % 86'400'000;
  if (rem < 0) {
    rem += 86'400'000;
    --days;
  }
  const int64_t z = days + 719'468;
  const int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const auto doe = static_cast<unsigned>(z - era * 146'097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146'096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const auto r = static_cast<unsigned>(rem);
  return CivilTime{m <= 2 ? y + 1 : y, m,       d, r / 3'600'000, (r / 60'000) % 60,
                   (r / 1000) % 60,    r % 1000};
}

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  [[nodiscard]] bool done() const { return pos_ >= text_.size(); }

  [[nodiscard]] char peek() const { return done() ? '\0' : text_[pos_]; }

  bool accept(char c) {
    if (peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // Reads exactly `width` decimal digits.
  bool digits(int width, unsigned& out) {
    unsigned value = 0;
    for (int i = 0; i < width; ++i) {
      const char c = peek();
      if (c < '0' || c > '9') {
        return false;
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
      ++pos_;
    }
    out = value;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool is_leap(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned days_in_month(int64_t year, unsigned month) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays.at(month - 1);
}

}  // namespace

int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  const int64_t y = month <= 2 ? year - 1 : year;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = month > 2 ? month - 3 : month + 9;
  const unsigned doy = (153 * mp + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146'097 + static_cast<int64_t>(doe) - 719'468;
}

std::optional<EventTime> parse_iso8601(std::string_view text) {
  Cursor c(text);
  unsigned year = 0;
  unsigned month = 0;
  unsigned day = 0;
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  if (!c.digits(4, year) || !c.accept('-') || !c.digits(2, month) || !c.accept('-') ||
      !c.digits(2, day)) {
    return std::nullopt;
  }
  if (!c.accept('T') && !c.accept('t') && !c.accept(' ')) {
    return std::nullopt;
  }
  if (!c.digits(2, hour) || !c.accept(':') || !c.digits(2, minute) || !c.accept(':') ||
      !c.digits(2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  int64_t millis = 0;
  if (c.accept('.') || c.accept(',')) {
    int digits = 0;
    while (c.peek() >= '0' && c.peek() <= '9') {
      if (digits < 3) {
        millis = millis * 10 + (c.peek() - '0');
      }
      ++digits;
      c.accept(c.peek());
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (int i = digits; i < 3; ++i) {
      millis *= 10;
    }
  }
  int64_t offset_minutes = 0;
  if (c.accept('Z') || c.accept('z')) {
    // UTC.
  } else if (c.peek() == '+' || c.peek() == '-') {
    const bool negative = c.peek() == '-';
    c.accept(c.peek());
    unsigned oh = 0;
    unsigned om = 0;
    if (!c.digits(2, oh)) {
      return std::nullopt;
    }
    c.accept(':');
    if (!c.digits(2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = static_cast<int64_t>(oh * 60 + om) * (negative ? -1 : 1);
  }
  if (!c.done()) {
    return std::nullopt;
  }
  // A leap second (":60") is folded onto the next second, as POSIX time does.
  const int64_t days = days_from_civil(year, month, day);
  const int64_t seconds =
      days * 86'400 + int64_t{hour} * 3600 + int64_t{minute} * 60 + second - offset_minutes * 60;
  return EventTime::from_millis(seconds * 1000 + millis);
}

namespace {

// Fixed-width decimal fields written by hand: these run several times per alarm transition, and
// snprintf (locale lookups, format parsing) cost more than the rest of the formatting.
void put(std::string& out, unsigned value, int width) {
  std::array<char, 4> digits{};
  for (int i = width - 1; i >= 0; --i) {
    digits.at(static_cast<size_t>(i)) = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits.data(), static_cast<size_t>(width));
}

// "YYYY-MM-DDTHH:MM:SS"; years outside 0..9999 (never produced by accepted records) fall back to
// snprintf, which writes them with as many digits as they need.
void put_date_time(std::string& out, const CivilTime& c) {
  if (c.year < 0 || c.year > 9999) {
    std::array<char, 48> buf{};
    std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02u:%02u:%02u",
                  static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second);
    out += buf.data();
    return;
  }
  put(out, static_cast<unsigned>(c.year), 4);
  out += '-';
  put(out, c.month, 2);
  out += '-';
  put(out, c.day, 2);
  out += 'T';
  put(out, c.hour, 2);
  out += ':';
  put(out, c.minute, 2);
  out += ':';
  put(out, c.second, 2);
}

}  // namespace

std::string format_cloudwatch_timestamp(EventTime t) {
  const CivilTime c = civil_from_millis(t.millis());
  std::string out;
  out.reserve(28);
  put_date_time(out, c);
  out += '.';
  put(out, c.millis, 3);
  out += "+0000";
  return out;
}

std::string format_iso8601_seconds(EventTime t) {
  const CivilTime c = civil_from_millis(t.millis());
  std::string out;
  out.reserve(24);
  put_date_time(out, c);
  out += 'Z';
  return out;
}

std::string format_iso8601_millis(EventTime t) {
  const CivilTime c = civil_from_millis(t.millis());
  std::string out;
  out.reserve(28);
  put_date_time(out, c);
  out += '.';
  put(out, c.millis, 3);
  out += 'Z';
  return out;
}

std::string format_reason_timestamp(EventTime t) {
  const CivilTime c = civil_from_millis(t.millis());
  std::string out;
  out.reserve(17);
  put(out, c.day, 2);
  out += '/';
  put(out, c.month, 2);
  out += '/';
  put(out, static_cast<unsigned>(((c.year % 100) + 100) % 100), 2);
  out += ' ';
  put(out, c.hour, 2);
  out += ':';
  put(out, c.minute, 2);
  out += ':';
  put(out, c.second, 2);
  return out;
}

EventTime SystemClock::now() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return EventTime::from_millis(
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

}  // namespace tw::pipeline
