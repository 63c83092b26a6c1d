#pragma once

/// Event time and durations as strong types, and the timestamp formats trailwatch reads and
/// writes.
///
/// Event time is the time a datapoint or API call happened, as stated by the record. It is never
/// mixed with processing (wall-clock) time: operators and detectors only ever see EventTime, and
/// the wall clock reaches the runtime through an injected `Clock`. Both are milliseconds since the
/// Unix epoch in UTC, which covers every timestamp CloudWatch and CloudTrail emit.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tw::pipeline {

/// A span of time in milliseconds. Value type; arithmetic saturates nowhere, so callers keep
/// values within a few centuries (validated at the edges).
class Duration {
 public:
  constexpr Duration() = default;

  static constexpr Duration millis(int64_t ms) { return Duration(ms); }

  static constexpr Duration seconds(int64_t s) { return Duration(s * 1000); }

  static constexpr Duration minutes(int64_t m) { return Duration(m * 60'000); }

  [[nodiscard]] constexpr int64_t millis() const { return ms_; }

  [[nodiscard]] constexpr int64_t seconds() const { return ms_ / 1000; }

  constexpr auto operator<=>(const Duration&) const = default;

  constexpr Duration operator+(Duration other) const { return Duration(ms_ + other.ms_); }

  constexpr Duration operator-(Duration other) const { return Duration(ms_ - other.ms_); }

  constexpr Duration operator*(int64_t factor) const { return Duration(ms_ * factor); }

 private:
  constexpr explicit Duration(int64_t ms) : ms_(ms) {}

  int64_t ms_ = 0;
};

/// A point in event time: milliseconds since 1970-01-01T00:00:00Z.
class EventTime {
 public:
  constexpr EventTime() = default;

  static constexpr EventTime from_millis(int64_t ms) { return EventTime(ms); }

  static constexpr EventTime from_seconds(int64_t s) { return EventTime(s * 1000); }

  /// A time earlier than any real record; the initial watermark.
  static constexpr EventTime min() { return EventTime(INT64_MIN / 4); }

  /// A time later than any real record; the watermark of a finished input.
  static constexpr EventTime max() { return EventTime(INT64_MAX / 4); }

  [[nodiscard]] constexpr int64_t millis() const { return ms_; }

  constexpr auto operator<=>(const EventTime&) const = default;

  constexpr EventTime operator+(Duration d) const { return EventTime(ms_ + d.millis()); }

  constexpr EventTime operator-(Duration d) const { return EventTime(ms_ - d.millis()); }

  constexpr Duration operator-(EventTime other) const { return Duration::millis(ms_ - other.ms_); }

  /// The latest multiple of `step` at or before this time (floor, also for negative times).
  /// Precondition: step > 0.
  [[nodiscard]] constexpr EventTime floor(Duration step) const {
    const int64_t s = step.millis();
    int64_t q = ms_ / s;
    if (ms_ % s != 0 && ms_ < 0) {
      --q;
    }
    return EventTime(q * s);
  }

 private:
  constexpr explicit EventTime(int64_t ms) : ms_(ms) {}

  int64_t ms_ = 0;
};

/// Earliest and latest event times trailwatch accepts from any record (1990-01-01 and
/// 2200-01-01). Anything outside is a corrupt timestamp, not data.
inline constexpr EventTime kEarliestAcceptedTime = EventTime::from_seconds(631'152'000);
inline constexpr EventTime kLatestAcceptedTime = EventTime::from_seconds(7'258'118'400);

/// Parses an ISO 8601 / RFC 3339 timestamp as written by AWS:
/// `2023-07-10T11:42:18Z`, `2023-10-26T16:42:00.000+0000`, `2023-10-26T16:42:00.5+01:00`,
/// `2023-10-26 16:42:00Z`. A date and time are required; fractions beyond milliseconds are
/// truncated; a missing zone means UTC. Returns nullopt for anything else.
std::optional<EventTime> parse_iso8601(std::string_view text);

/// Days since the epoch for a proleptic Gregorian date (no validation).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

/// `2023-10-26T16:42:00.000+0000` — CloudWatch's reason-data and state timestamps.
std::string format_cloudwatch_timestamp(EventTime t);

/// `2019-10-02T17:04:40Z` — EventBridge `time`, CloudTrail `eventTime`.
std::string format_iso8601_seconds(EventTime t);

/// `2019-10-02T17:04:40.123Z` — trailwatch's own output when sub-second precision matters.
std::string format_iso8601_millis(EventTime t);

/// `26/10/23 16:42:00` — the datapoint time inside CloudWatch StateReason texts.
std::string format_reason_timestamp(EventTime t);

/// A source of processing time, injected wherever wall time is needed (idle-partition watermark
/// advance, live-mode skew checks) so that tests and replay can control it.
class Clock {
 public:
  Clock() = default;
  virtual ~Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  Clock(Clock&&) = delete;
  Clock& operator=(Clock&&) = delete;

  /// Current processing time in milliseconds since the epoch.
  [[nodiscard]] virtual EventTime now() const = 0;
};

/// The real wall clock. Only `app/` creates one.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] EventTime now() const override;
};

/// A clock that moves only when told to; for tests and deterministic runs.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(EventTime start) : now_(start) {}

  [[nodiscard]] EventTime now() const override { return now_; }

  void set(EventTime t) { now_ = t; }

  void advance(Duration d) { now_ = now_ + d; }

 private:
  EventTime now_;
};

}  // namespace tw::pipeline
