#include "pipeline/drop_reason.h"

namespace tw::pipeline {

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::kNotJson:
      return "not_json";
    case DropReason::kUnknownFormat:
      return "unknown_format";
    case DropReason::kWrongType:
      return "wrong_type";
    case DropReason::kMissingField:
      return "missing_field";
    case DropReason::kInvalidValue:
      return "invalid_value";
    case DropReason::kNonFinite:
      return "non_finite";
    case DropReason::kBadTimestamp:
      return "bad_timestamp";
    case DropReason::kTimestampOutOfRange:
      return "timestamp_out_of_range";
    case DropReason::kOversized:
      return "oversized";
    case DropReason::kLate:
      return "late";
    case DropReason::kSeriesLimit:
      return "series_limit";
    case DropReason::kUnsupportedEvent:
      return "unsupported_event";
    case DropReason::kUnreadable:
      return "unreadable";
  }
  return "unknown";
}

}  // namespace tw::pipeline
