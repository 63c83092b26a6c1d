#pragma once

/// Why a record was not processed. Every dropped record is counted under exactly one reason and
/// written, with that reason and a human-readable detail, to the dead-letter output. The names
/// are stable: they appear in dead-letter lines and as Prometheus label values.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tw::pipeline {

enum class DropReason : uint8_t {
  kNotJson,              ///< The bytes are not a JSON document (syntax error, bad UTF-8).
  kUnknownFormat,        ///< Valid JSON, but no decoder recognises its shape.
  kWrongType,            ///< A field has the wrong JSON type (string where a number belongs).
  kMissingField,         ///< A required field is absent.
  kInvalidValue,         ///< A field has a value outside what is allowed (unknown unit, count 0).
  kNonFinite,            ///< A metric value is NaN or infinite (or overflows a double).
  kBadTimestamp,         ///< The timestamp cannot be parsed.
  kTimestampOutOfRange,  ///< Parsed, but before 1990, after 2200, or absurdly far ahead of the
                         ///< input's watermark.
  kOversized,            ///< The record exceeds the configured size limit.
  kLate,                 ///< Older than the input's watermark: its window may be evaluated.
  kSeriesLimit,          ///< The configured maximum number of distinct series was reached.
  kUnsupportedEvent,     ///< A recognised envelope carrying an event trailwatch does not consume.
  kUnreadable,           ///< The source could not be read: corrupt gzip stream, I/O error.
};

inline constexpr size_t kDropReasonCount = 13;

/// The stable snake_case name, e.g. "not_json".
std::string_view to_string(DropReason reason);

/// A decoder's verdict on a record it rejected.
struct DecodeError {
  DropReason reason = DropReason::kNotJson;
  std::string detail;  ///< What was wrong, naming the field: "/value/sum: expected a number".
};

/// Per-reason counters for one input. Single-threaded: one owner updates it.
struct DropCounters {
  std::array<uint64_t, kDropReasonCount> by_reason{};

  void add(DropReason reason) { ++by_reason.at(static_cast<size_t>(reason)); }

  [[nodiscard]] uint64_t get(DropReason reason) const {
    return by_reason.at(static_cast<size_t>(reason));
  }

  [[nodiscard]] uint64_t total() const {
    uint64_t sum = 0;
    for (const uint64_t n : by_reason) {
      sum += n;
    }
    return sum;
  }
};

}  // namespace tw::pipeline
