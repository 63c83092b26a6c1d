#include "pipeline/cloudtrail.h"

#include "pipeline/simdjson_util.h"

// Design notes.
//
// One forward pass. The top-level object is walked once with simdjson On-Demand; its fields are
// dispatched as they come (record fields, `Records`, `detail`, `logEvents`), so a single record
// costs one stage-1 scan plus one walk over its top-level keys, and records inside `Records` or
// `detail` are decoded in place without re-parsing. Only CloudWatch Logs messages, which are
// documents inside strings, go through a second parser.
//
// What is validated. Stage 1 checks UTF-8 and string/structure boundaries of the whole
// document, and every value the decoder reads is fully checked. Subtrees the walk skips
// (requestParameters, responseElements, ...) are only bracket-counted by On-Demand, so every
// record that is otherwise accepted is validated once more in full with the DOM parser before
// its raw bytes are kept: rules later read arbitrary paths of `raw`, and a record with a
// misspelt literal deep inside requestParameters is malformed input, dead-lettered as not_json
// like any other. (Cost, measured: about 0.7 µs per 4 KB record; CloudTrail volumes are far
// below the decoder's throughput.) A broken structure that the walk does meet rejects the whole
// document as not_json, discarding records already decoded from it, so a truncated file never
// yields a partial set of events. A bad literal or escape in a field the decoder reads is
// confined to its record.
//
// Errors. An oversized record is reported as such whatever else is wrong with it. Otherwise a
// record reports its first problem in document order (wrong type, bad literal, unparseable or
// out-of-range time), and a missing required field only when nothing else was wrong. Details
// name the field as a JSON pointer from the document root (`/Records/3/eventTime: ...`); for a
// CloudWatch Logs message the pointer continues into the embedded record
// (`/logEvents/0/message/eventTime: ...`).

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace tw::pipeline {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

constexpr std::array<std::string_view, 5> kCloudTrailDetailTypes = {
    "AWS API Call via CloudTrail",       "AWS Console Sign In via CloudTrail",
    "AWS Console Action via CloudTrail", "AWS Service Event via CloudTrail",
    "AWS Insight via CloudTrail",
};

// Documents of an unrecognised shape are validated with simdjson's DOM parser, whose tape needs
// about nine bytes per input byte. Its buffers are kept for small documents and released after
// large ones so that one odd multi-megabyte message does not pin memory for the decoder's life.
constexpr size_t kValidatorKeepBytes = size_t{4} << 20;

// Timestamps and other values quoted in error details are cut to this many bytes.
constexpr size_t kQuotedValueBytes = 64;

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_json_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_json_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// `text` in double quotes for an error detail, cut to kQuotedValueBytes without splitting a UTF-8
// sequence, so that details stay valid UTF-8 when they are written out as JSON.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  if (text.size() <= kQuotedValueBytes) {
    out.append(text);
  } else {
    size_t cut = kQuotedValueBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) {
      --cut;
    }
    out.append(text.substr(0, cut));
    out.append("...");
  }
  out.push_back('"');
  return out;
}

std::string not_json_detail(error_code error) {
  std::string detail = "invalid JSON: ";
  detail.append(simdjson::error_message(error));
  return detail;
}

// The input copied into memory that simdjson may read past the end of (SIMDJSON_PADDING bytes).
// Reused across documents: it only grows.
class PaddedBuffer {
 public:
  void assign(std::string_view text) {
    const size_t needed = text.size() + simdjson::SIMDJSON_PADDING;
    if (needed > capacity_) {
      const size_t grown = std::max(needed, capacity_ + capacity_ / 2);
      // NOLINTNEXTLINE(cppcoreguidelines-avoid-c-arrays,modernize-avoid-c-arrays)
      data_ = std::make_unique_for_overwrite<char[]>(grown);
      capacity_ = grown;
    }
    std::memcpy(data_.get(), text.data(), text.size());
    std::memset(data_.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    size_ = text.size();
  }

  [[nodiscard]] const char* data() const { return data_.get(); }

  [[nodiscard]] size_t size() const { return size_; }

  [[nodiscard]] size_t capacity() const { return capacity_; }

 private:
  // Not a vector: make_unique_for_overwrite leaves the bytes uninitialised (they are copied over).
  // NOLINTNEXTLINE(cppcoreguidelines-avoid-c-arrays,modernize-avoid-c-arrays)
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

// Where a record sits in its document. Rendered into error details only when a record fails, so
// the hot path never formats it.
struct RecordPath {
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);

  std::string_view container;  // "", "/Records", "/detail" or "/logEvents".
  size_t index = kNoIndex;     // Element index inside `container`, if it is an array.
  std::string_view suffix;     // "/message" for CloudWatch Logs events.

  [[nodiscard]] std::string render(std::string_view field) const {
    std::string out(container);
    if (index != kNoIndex) {
      out.push_back('/');
      out.append(std::to_string(index));
    }
    out.append(suffix);
    out.append(field);
    return out;
  }
};

DecodeError make_error(DropReason reason, const RecordPath& path, std::string_view field,
                       std::string_view what) {
  std::string detail = path.render(field);
  if (!detail.empty()) {
    detail.append(": ");
  }
  detail.append(what);
  return DecodeError{reason, std::move(detail)};
}

// An error while reading a value. Only a few are local to the value (a bad escape inside a
// string, a misspelt literal): stage 1 has delimited the token, so the iterator can move on and
// only this record is lost. Anything else means the document's structure cannot be trusted.
bool is_local_value_error(od::document& doc, error_code error) {
  if (!doc.is_alive()) {
    return false;
  }
  switch (error) {
    case simdjson::STRING_ERROR:
    case simdjson::INCORRECT_TYPE:
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
    case simdjson::NUMBER_ERROR:
      return true;
    default:
      return false;
  }
}

// The raw text of a value of any type, without the whitespace that follows it.
error_code raw_value(od::value& value, od::json_type type, std::string_view& out) {
  if (type == od::json_type::object) {
    od::object object;
    if (auto error = value.get_object().get(object)) {
      return error;
    }
    if (auto error = object.raw_json().get(out)) {
      return error;
    }
  } else if (type == od::json_type::array) {
    od::array array;
    if (auto error = value.get_array().get(array)) {
      return error;
    }
    if (auto error = array.raw_json().get(out)) {
      return error;
    }
  } else {
    out = value.raw_json_token();
  }
  out = trim(out);
  return simdjson::SUCCESS;
}

// String members of CloudTrailEvent, by the JSON key they come from.
struct StringField {
  std::string_view key;
  std::string_view pointer;
  std::string CloudTrailEvent::*member;
};

constexpr std::array<StringField, 10> kTopLevelStrings = {{
    {"eventVersion", "/eventVersion", &CloudTrailEvent::event_version},
    {"eventType", "/eventType", &CloudTrailEvent::event_type},
    {"eventCategory", "/eventCategory", &CloudTrailEvent::event_category},
    {"eventID", "/eventID", &CloudTrailEvent::event_id},
    {"awsRegion", "/awsRegion", &CloudTrailEvent::aws_region},
    {"recipientAccountId", "/recipientAccountId", &CloudTrailEvent::recipient_account_id},
    {"sourceIPAddress", "/sourceIPAddress", &CloudTrailEvent::source_ip_address},
    {"userAgent", "/userAgent", &CloudTrailEvent::user_agent},
    {"errorCode", "/errorCode", &CloudTrailEvent::error_code},
    {"errorMessage", "/errorMessage", &CloudTrailEvent::error_message},
}};

constexpr std::array<StringField, 7> kUserIdentityStrings = {{
    {"type", "/userIdentity/type", &CloudTrailEvent::principal_type},
    {"arn", "/userIdentity/arn", &CloudTrailEvent::principal_arn},
    {"accountId", "/userIdentity/accountId", &CloudTrailEvent::principal_account_id},
    {"principalId", "/userIdentity/principalId", &CloudTrailEvent::principal_id},
    {"userName", "/userIdentity/userName", &CloudTrailEvent::user_name},
    {"accessKeyId", "/userIdentity/accessKeyId", &CloudTrailEvent::access_key_id},
    {"invokedBy", "/userIdentity/invokedBy", &CloudTrailEvent::invoked_by},
}};

template <size_t N>
const StringField* find_field(const std::array<StringField, N>& table, std::string_view key) {
  for (const StringField& field : table) {
    if (field.key == key) {
      return &field;
    }
  }
  return nullptr;
}

// Extracts one record's fields, one JSON field at a time, in a single forward pass. Every method
// returns a simdjson error only when the document's structure is broken (the caller then rejects
// the whole document); problems confined to this record are kept in error() and the remaining
// fields are skipped.
class RecordDecoder {
 public:
  RecordDecoder(CloudTrailEvent& event, od::document& doc, const RecordPath& path)
      : event_(event), doc_(doc), path_(path) {}

  // Handles one top-level field. Unknown fields are left for the iterator to skip.
  error_code field(std::string_view key, od::value& value) {
    if (key == "eventTime") {
      seen_record_key_ = true;
      return read_time(value);
    }
    if (key == "eventSource") {
      seen_record_key_ = true;
      return read_required_string(value, "/eventSource", event_.event_source, has_source_);
    }
    if (key == "eventName") {
      seen_record_key_ = true;
      return read_required_string(value, "/eventName", event_.event_name, has_name_);
    }
    if (const StringField* f = find_field(kTopLevelStrings, key)) {
      seen_record_key_ =
          seen_record_key_ || key == "eventVersion" || key == "eventID" || key == "eventType";
      return read_optional_string(value, f->pointer, event_.*(f->member));
    }
    if (key == "readOnly") {
      return read_bool(value, "/readOnly", event_.read_only);
    }
    if (key == "managementEvent") {
      return read_bool(value, "/managementEvent", event_.management_event);
    }
    if (key == "userIdentity") {
      seen_record_key_ = true;
      return read_user_identity(value);
    }
    if (key == "insightDetails") {
      seen_record_key_ = true;
      return read_insight_details(value);
    }
    return simdjson::SUCCESS;
  }

  // True once a field that only CloudTrail records carry has been seen; decides whether a
  // top-level object is a record at all.
  [[nodiscard]] bool looks_like_record() const { return seen_record_key_; }

  // Applies the cross-field rules once every field has been read: size limit, required fields,
  // Insights subject, account. `raw_size` is the record's size in bytes. The EventBridge
  // envelope's account, the last account fallback, is applied by the caller.
  void finish(size_t raw_size, size_t max_record_bytes) {
    if (raw_size > max_record_bytes) {
      error_ = make_error(DropReason::kOversized, path_, "",
                          "record is " + std::to_string(raw_size) + " bytes, the limit is " +
                              std::to_string(max_record_bytes));
      return;
    }
    if (error_) {
      return;
    }
    // Insights records name the API they are about inside insightDetails; it wins over any
    // top-level field because that is the subject operators key on.
    if (has_insight_source_) {
      event_.event_source.assign(insight_source_);
      has_source_ = true;
    }
    if (has_insight_name_) {
      event_.event_name.assign(insight_name_);
      has_name_ = true;
    }
    if (!has_time_) {
      set_error(DropReason::kMissingField, "/eventTime", "required field is missing");
    } else if (!has_source_) {
      set_error(DropReason::kMissingField, "/eventSource", "required field is missing");
    } else if (!has_name_) {
      set_error(DropReason::kMissingField, "/eventName", "required field is missing");
    }
    if (!error_) {
      if (!event_.recipient_account_id.empty()) {
        event_.account_id = event_.recipient_account_id;
      } else {
        event_.account_id = event_.principal_account_id;
      }
    }
  }

  std::optional<DecodeError>& error() { return error_; }

 private:
  void set_error(DropReason reason, std::string_view pointer, std::string_view what) {
    if (!error_) {
      error_ = make_error(reason, path_, pointer, what);
    }
  }

  // Returns the value's type, or a structural error. A token stage 1 could not classify is a
  // syntax error that desynchronises on-demand iteration, so it is fatal.
  static error_code type_of(od::value& value, od::json_type& type) {
    return value.type().get(type);
  }

  // Converts a failed read into either a record error (local) or a fatal one.
  error_code value_failure(error_code error, std::string_view pointer) {
    if (is_local_value_error(doc_, error)) {
      set_error(DropReason::kNotJson, pointer,
                error == simdjson::STRING_ERROR ? "invalid JSON: bad escape sequence in string"
                                                : "invalid JSON: malformed literal");
      return simdjson::SUCCESS;
    }
    return error;
  }

  void wrong_type(std::string_view pointer, std::string_view expected, od::json_type got) {
    std::string what = "expected ";
    what.append(expected);
    what.append(", got ");
    what.append(describe_json_type(got));
    set_error(DropReason::kWrongType, pointer, what);
  }

  // Null as an optional value means absent; a literal that starts like null but is not one is a
  // syntax error local to the record.
  error_code check_null(od::value& value, std::string_view pointer, bool& is_null) {
    is_null = false;
    if (auto error = value.is_null().get(is_null)) {
      return value_failure(error, pointer);
    }
    if (!is_null) {
      return value_failure(simdjson::N_ATOM_ERROR, pointer);
    }
    return simdjson::SUCCESS;
  }

  // Reads a string value. `present` is false when the value was null (and `nullable`), or when a
  // record error was recorded instead.
  error_code read_string(od::value& value, std::string_view pointer, bool nullable,
                         std::string_view& out, bool& present) {
    present = false;
    if (error_) {
      return simdjson::SUCCESS;
    }
    od::json_type type{};
    if (auto error = type_of(value, type)) {
      return error;
    }
    if (type == od::json_type::string) {
      if (auto error = value.get_string().get(out)) {
        return value_failure(error, pointer);
      }
      present = true;
      return simdjson::SUCCESS;
    }
    if (type == od::json_type::null && nullable) {
      bool is_null = false;
      return check_null(value, pointer, is_null);
    }
    wrong_type(pointer, "a string", type);
    return simdjson::SUCCESS;
  }

  error_code read_optional_string(od::value& value, std::string_view pointer, std::string& dst) {
    std::string_view text;
    bool present = false;
    if (auto error = read_string(value, pointer, /*nullable=*/true, text, present)) {
      return error;
    }
    if (present) {
      dst.assign(text);
    }
    return simdjson::SUCCESS;
  }

  error_code read_required_string(od::value& value, std::string_view pointer, std::string& dst,
                                  bool& has) {
    std::string_view text;
    if (auto error = read_string(value, pointer, /*nullable=*/false, text, has)) {
      return error;
    }
    if (has) {
      dst.assign(text);
    }
    return simdjson::SUCCESS;
  }

  error_code read_time(od::value& value) {
    std::string_view text;
    if (auto error = read_string(value, "/eventTime", /*nullable=*/false, text, has_time_)) {
      return error;
    }
    if (!has_time_) {
      return simdjson::SUCCESS;
    }
    const std::optional<EventTime> time = parse_iso8601(text);
    if (!time) {
      set_error(DropReason::kBadTimestamp, "/eventTime",
                "cannot parse " + quoted(text) + " as an ISO 8601 time");
    } else if (*time < kEarliestAcceptedTime || *time > kLatestAcceptedTime) {
      set_error(DropReason::kTimestampOutOfRange, "/eventTime",
                quoted(text) + " is outside 1990-01-01T00:00:00Z..2200-01-01T00:00:00Z");
    } else {
      event_.time = *time;
    }
    return simdjson::SUCCESS;
  }

  // readOnly and managementEvent are JSON booleans in real logs; hand-edited samples and some
  // re-exports write them as the strings "true"/"false", which are accepted too.
  error_code read_bool(od::value& value, std::string_view pointer, std::optional<bool>& dst) {
    if (error_) {
      return simdjson::SUCCESS;
    }
    od::json_type type{};
    if (auto error = type_of(value, type)) {
      return error;
    }
    switch (type) {
      case od::json_type::boolean: {
        bool flag = false;
        if (auto error = value.get_bool().get(flag)) {
          return value_failure(error, pointer);
        }
        dst = flag;
        return simdjson::SUCCESS;
      }
      case od::json_type::string: {
        std::string_view text;
        if (auto error = value.get_string().get(text)) {
          return value_failure(error, pointer);
        }
        if (text == "true") {
          dst = true;
        } else if (text == "false") {
          dst = false;
        } else {
          set_error(DropReason::kInvalidValue, pointer,
                    "expected true or false, got " + quoted(text));
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::null: {
        bool is_null = false;
        return check_null(value, pointer, is_null);
      }
      default:
        wrong_type(pointer, "a boolean", type);
        return simdjson::SUCCESS;
    }
  }

  // Starts reading an optional object-valued field. `object_out` is usable only when `is_object`.
  error_code open_object(od::value& value, std::string_view pointer, od::object& object_out,
                         bool& is_object) {
    is_object = false;
    if (error_) {
      return simdjson::SUCCESS;
    }
    od::json_type type{};
    if (auto error = type_of(value, type)) {
      return error;
    }
    if (type == od::json_type::null) {
      bool is_null = false;
      return check_null(value, pointer, is_null);
    }
    if (type != od::json_type::object) {
      wrong_type(pointer, "an object", type);
      return simdjson::SUCCESS;
    }
    if (auto error = value.get_object().get(object_out)) {
      return error;
    }
    is_object = true;
    return simdjson::SUCCESS;
  }

  error_code read_user_identity(od::value& value) {
    od::object object;
    bool is_object = false;
    if (auto error = open_object(value, "/userIdentity", object, is_object)) {
      return error;
    }
    if (!is_object) {
      return simdjson::SUCCESS;
    }
    for (auto result : object) {
      od::field member;
      std::string_view key;
      if (auto error = std::move(result).get(member)) {
        return error;
      }
      if (auto error = member.unescaped_key().get(key)) {
        return error;
      }
      if (const StringField* f = find_field(kUserIdentityStrings, key)) {
        od::value& child = member.value();
        if (auto error = read_optional_string(child, f->pointer, event_.*(f->member))) {
          return error;
        }
      }
    }
    return simdjson::SUCCESS;
  }

  error_code read_insight_details(od::value& value) {
    od::object object;
    bool is_object = false;
    if (auto error = open_object(value, "/insightDetails", object, is_object)) {
      return error;
    }
    if (!is_object) {
      return simdjson::SUCCESS;
    }
    for (auto result : object) {
      od::field member;
      std::string_view key;
      if (auto error = std::move(result).get(member)) {
        return error;
      }
      if (auto error = member.unescaped_key().get(key)) {
        return error;
      }
      od::value& child = member.value();
      error_code error = simdjson::SUCCESS;
      if (key == "eventSource") {
        error = read_string(child, "/insightDetails/eventSource", /*nullable=*/true,
                            insight_source_, has_insight_source_);
      } else if (key == "eventName") {
        error = read_string(child, "/insightDetails/eventName", /*nullable=*/true, insight_name_,
                            has_insight_name_);
      } else if (key == "insightType") {
        error = read_optional_string(child, "/insightDetails/insightType", event_.insight_type);
      } else if (key == "state") {
        error = read_optional_string(child, "/insightDetails/state", event_.insight_state);
      }
      if (error) {
        return error;
      }
    }
    return simdjson::SUCCESS;
  }

  CloudTrailEvent& event_;
  od::document& doc_;
  const RecordPath& path_;
  std::optional<DecodeError> error_;
  // Views into the parser's string buffer, valid until the document is done.
  std::string_view insight_source_;
  std::string_view insight_name_;
  bool has_time_ = false;
  bool has_source_ = false;
  bool has_name_ = false;
  bool has_insight_source_ = false;
  bool has_insight_name_ = false;
  bool seen_record_key_ = false;
};

// What the single pass over a top-level object found besides record fields.
struct RootScan {
  bool has_records = false;
  bool has_detail_type = false;
  bool detail_type_is_string = false;
  bool detail_type_is_cloudtrail = false;
  std::string_view detail_type;
  od::json_type detail_type_type{};
  bool has_detail = false;
  od::json_type detail_type_of_value{};  // The JSON type of `detail`.
  bool detail_decoded = false;
  size_t detail_event_index = 0;  // Index in out.events when `detail` decoded cleanly.
  bool detail_is_event = false;
  std::string_view account;
  bool has_log_events = false;
  od::json_type log_events_type{};
  bool has_message_type = false;
  std::string_view message_type;
  // A document-level error found in the envelope itself (e.g. `Records` not an array).
  std::optional<DecodeError> envelope_error;
};

}  // namespace

std::optional<std::pair<int, int>> parse_event_version(std::string_view text) {
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size()) {
    return std::nullopt;
  }
  const auto parse_part = [](std::string_view part, int& value) {
    // from_chars accepts a leading '-'; versions are unsigned digit runs only.
    if (part.empty() || part.front() < '0' || part.front() > '9') {
      return false;
    }
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    return ec == std::errc() && ptr == part.data() + part.size();
  };
  int major = 0;
  int minor = 0;
  if (!parse_part(text.substr(0, dot), major) || !parse_part(text.substr(dot + 1), minor)) {
    return std::nullopt;
  }
  return std::make_pair(major, minor);
}

bool is_cloudtrail_detail_type(std::string_view detail_type) {
  return std::find(kCloudTrailDetailTypes.begin(), kCloudTrailDetailTypes.end(), detail_type) !=
         kCloudTrailDetailTypes.end();
}

struct CloudTrailDecoder::Impl {
  od::parser parser;
  od::parser message_parser;  // CloudWatch Logs messages: documents nested inside strings.
  PaddedBuffer buffer;
  PaddedBuffer message_buffer;
  std::unique_ptr<simdjson::dom::parser> validator;
  CloudTrailEvent root_event;  // The top-level object's fields, until its shape is known.

  void decode(std::string_view document, CloudTrailDecodeOutput& out, size_t max_record_bytes);

 private:
  // State of the document being decoded.
  CloudTrailDecodeOutput* out_ = nullptr;
  size_t max_record_bytes_ = 0;
  std::string_view document_;

  void reject_document(DropReason reason, std::string detail, size_t events_mark,
                       size_t errors_mark) {
    out_->events.resize(events_mark);
    out_->errors.resize(errors_mark);
    out_->errors.push_back(
        CloudTrailRecordError{DecodeError{reason, std::move(detail)}, std::string(document_)});
  }

  // Decides between kNotJson and kUnknownFormat for JSON text of no recognised shape. On-demand
  // parsing only validates what it touches, so a full parse settles whether it is JSON at all.
  DecodeError classify_unrecognised(const char* data, size_t size);

  // Fully validates `raw` (which must be followed by readable padding); nullopt when valid.
  std::optional<DecodeError> validate(std::string_view raw);

  // Moves a finished record into the output: the event, or the error with the record's bytes.
  // Precondition: the record's event is the last of out_->events.
  void emit_record(RecordDecoder& decoder, std::string_view raw) {
    std::optional<DecodeError> error;
    if (decoder.error()) {
      error = std::move(*decoder.error());
    } else {
      error = validate(raw);
    }
    if (error) {
      out_->errors.push_back(CloudTrailRecordError{std::move(*error), std::string(raw)});
      out_->events.pop_back();
    } else {
      out_->events.back().raw.assign(raw);
    }
  }

  error_code scan_root(od::document& doc, od::object& root, RecordDecoder& root_record,
                       RootScan& scan);
  error_code decode_records(od::document& doc, od::value& value, RootScan& scan);
  error_code decode_detail(od::document& doc, od::value& value, RootScan& scan);
  error_code decode_log_events(od::document& doc, od::value& value, RootScan& scan);
  error_code decode_record_object(od::document& doc, od::object& object, const RecordPath& path);
  void decode_message(std::string_view message, const RecordPath& path);
};

std::optional<DecodeError> CloudTrailDecoder::Impl::validate(std::string_view raw) {
  if (!validator) {
    validator = std::make_unique<simdjson::dom::parser>();
  }
  simdjson::dom::element root;
  const error_code error = validator->parse(raw.data(), raw.size(), false).get(root);
  if (validator->capacity() > kValidatorKeepBytes) {
    validator.reset();
  }
  if (!error) {
    return std::nullopt;
  }
  return DecodeError{DropReason::kNotJson, "(record): " + not_json_detail(error)};
}

DecodeError CloudTrailDecoder::Impl::classify_unrecognised(const char* data, size_t size) {
  if (!validator) {
    validator = std::make_unique<simdjson::dom::parser>();
  }
  // The buffer is padded, so the parser may read it in place (realloc_if_needed = false).
  simdjson::dom::element root;
  const error_code error = validator->parse(data, size, false).get(root);
  if (validator->capacity() > kValidatorKeepBytes) {
    validator.reset();
  }
  if (error == simdjson::DEPTH_ERROR) {
    return DecodeError{DropReason::kNotJson, "invalid JSON: nested deeper than " +
                                                 std::to_string(simdjson::DEFAULT_MAX_DEPTH) +
                                                 " levels"};
  }
  if (error) {
    return DecodeError{DropReason::kNotJson, not_json_detail(error)};
  }
  return DecodeError{DropReason::kUnknownFormat,
                     "not a CloudTrail record, Records file, EventBridge event or CloudWatch "
                     "Logs message"};
}

void CloudTrailDecoder::Impl::decode(std::string_view document, CloudTrailDecodeOutput& out,
                                     size_t max_record_bytes) {
  out_ = &out;
  max_record_bytes_ = max_record_bytes;
  document_ = document;
  const size_t events_mark = out.events.size();
  const size_t errors_mark = out.errors.size();

  buffer.assign(document);
  od::document doc;
  if (auto error = parser.iterate(buffer.data(), buffer.size(), buffer.capacity()).get(doc)) {
    if (error == simdjson::CAPACITY) {
      reject_document(DropReason::kOversized,
                      "document is " + std::to_string(document.size()) +
                          " bytes, more than the JSON parser supports",
                      events_mark, errors_mark);
    } else if (error == simdjson::EMPTY) {
      reject_document(DropReason::kNotJson, "invalid JSON: empty document", events_mark,
                      errors_mark);
    } else {
      reject_document(DropReason::kNotJson, not_json_detail(error), events_mark, errors_mark);
    }
    return;
  }
  od::json_type root_type{};
  if (auto error = doc.type().get(root_type)) {
    reject_document(DropReason::kNotJson, not_json_detail(error), events_mark, errors_mark);
    return;
  }
  if (root_type != od::json_type::object) {
    DecodeError verdict = classify_unrecognised(buffer.data(), buffer.size());
    reject_document(verdict.reason, std::move(verdict.detail), events_mark, errors_mark);
    return;
  }

  root_event = CloudTrailEvent{};
  const RecordPath root_path{};
  RecordDecoder root_record(root_event, doc, root_path);
  RootScan scan;
  od::object root;
  error_code error = doc.get_object().get(root);
  if (!error) {
    error = scan_root(doc, root, root_record, scan);
  }
  if (!error) {
    // Anything after the top-level value (`{...}{...}`) makes the document invalid JSON.
    const char* rest = nullptr;
    const error_code at_end = doc.current_location().get(rest);
    if (at_end != simdjson::OUT_OF_BOUNDS) {
      error = simdjson::TRAILING_CONTENT;
    }
  }
  if (error) {
    reject_document(DropReason::kNotJson, not_json_detail(error), events_mark, errors_mark);
    return;
  }

  if (scan.envelope_error) {
    reject_document(scan.envelope_error->reason, std::move(scan.envelope_error->detail),
                    events_mark, errors_mark);
    return;
  }
  if (scan.has_records) {
    return;  // Every element was emitted during the scan.
  }
  if (scan.has_detail_type) {
    if (!scan.detail_type_is_string) {
      reject_document(DropReason::kWrongType,
                      "/detail-type: expected a string, got " +
                          std::string(describe_json_type(scan.detail_type_type)),
                      events_mark, errors_mark);
    } else if (!scan.detail_type_is_cloudtrail) {
      reject_document(
          DropReason::kUnsupportedEvent,
          "/detail-type: " + quoted(scan.detail_type) + " is not an event CloudTrail delivers",
          events_mark, errors_mark);
    } else if (!scan.has_detail) {
      reject_document(DropReason::kMissingField, "/detail: required field is missing", events_mark,
                      errors_mark);
    } else if (scan.detail_type_of_value != od::json_type::object) {
      reject_document(DropReason::kWrongType,
                      "/detail: expected an object, got " +
                          std::string(describe_json_type(scan.detail_type_of_value)),
                      events_mark, errors_mark);
    } else if (scan.detail_is_event) {
      CloudTrailEvent& event = out.events[scan.detail_event_index];
      if (event.account_id.empty()) {
        event.account_id.assign(scan.account);
      }
    }
    return;
  }
  if (scan.has_log_events || scan.has_message_type) {
    if (scan.has_message_type && scan.message_type != "DATA_MESSAGE") {
      reject_document(DropReason::kUnsupportedEvent,
                      "/messageType: " + quoted(scan.message_type) +
                          " carries no log events (only DATA_MESSAGE does)",
                      events_mark, errors_mark);
    } else if (!scan.has_log_events) {
      reject_document(DropReason::kMissingField, "/logEvents: required field is missing",
                      events_mark, errors_mark);
    } else if (scan.log_events_type != od::json_type::array) {
      reject_document(DropReason::kWrongType,
                      "/logEvents: expected an array, got " +
                          std::string(describe_json_type(scan.log_events_type)),
                      events_mark, errors_mark);
    }
    return;
  }
  // A `detail` without `detail-type` may have been decoded optimistically: drop its output.
  out.events.resize(events_mark);
  out.errors.resize(errors_mark);
  if (root_record.looks_like_record()) {
    const std::string_view raw = trim(document);
    root_record.finish(raw.size(), max_record_bytes);
    out.events.push_back(std::move(root_event));
    emit_record(root_record, raw);
    return;
  }
  DecodeError verdict = classify_unrecognised(buffer.data(), buffer.size());
  reject_document(verdict.reason, std::move(verdict.detail), events_mark, errors_mark);
}

// One pass over the top-level object. Fields of every candidate shape are handled as they come:
// record fields go to `root_record`, `Records`/`logEvents` elements are decoded on the spot, and
// `detail` is decoded unless its `detail-type` already ruled it out. decode() then settles the
// shape from what was present.
error_code CloudTrailDecoder::Impl::scan_root(od::document& doc, od::object& root,
                                              RecordDecoder& root_record, RootScan& scan) {
  for (auto result : root) {
    od::field member;
    std::string_view key;
    if (auto error = std::move(result).get(member)) {
      return error;
    }
    if (auto error = member.unescaped_key().get(key)) {
      return error;
    }
    od::value& value = member.value();
    error_code error = simdjson::SUCCESS;
    if (key == "Records") {
      // A repeated key is skipped: its records must not be counted twice.
      if (!scan.has_records) {
        scan.has_records = true;
        error = decode_records(doc, value, scan);
      }
    } else if (key == "detail-type") {
      scan.has_detail_type = true;
      if (auto type_error = value.type().get(scan.detail_type_type)) {
        return type_error;
      }
      if (scan.detail_type_type == od::json_type::string) {
        if (auto string_error = value.get_string().get(scan.detail_type)) {
          return string_error;
        }
        scan.detail_type_is_string = true;
        scan.detail_type_is_cloudtrail = is_cloudtrail_detail_type(scan.detail_type);
      }
    } else if (key == "detail") {
      scan.has_detail = true;
      error = decode_detail(doc, value, scan);
    } else if (key == "account") {
      od::json_type type{};
      if (auto type_error = value.type().get(type)) {
        return type_error;
      }
      if (type == od::json_type::string) {
        error = value.get_string().get(scan.account);
      }
    } else if (key == "logEvents") {
      if (!scan.has_log_events) {
        scan.has_log_events = true;
        error = decode_log_events(doc, value, scan);
      }
    } else if (key == "messageType") {
      od::json_type type{};
      if (auto type_error = value.type().get(type)) {
        return type_error;
      }
      if (type == od::json_type::string) {
        scan.has_message_type = true;
        error = value.get_string().get(scan.message_type);
      }
    } else {
      error = root_record.field(key, value);
    }
    if (error) {
      return error;
    }
  }
  return simdjson::SUCCESS;
}

error_code CloudTrailDecoder::Impl::decode_records(od::document& doc, od::value& value,
                                                   RootScan& scan) {
  od::json_type type{};
  if (auto error = value.type().get(type)) {
    return error;
  }
  if (type != od::json_type::array) {
    scan.envelope_error =
        DecodeError{DropReason::kWrongType,
                    "/Records: expected an array, got " + std::string(describe_json_type(type))};
    return simdjson::SUCCESS;
  }
  od::array records;
  if (auto error = value.get_array().get(records)) {
    return error;
  }
  size_t index = 0;
  for (auto element : records) {
    od::value record;
    // simdjson's get() is &&-qualified: the move selects that overload.
    // NOLINTNEXTLINE(performance-move-const-arg)
    if (auto error = std::move(element).get(record)) {
      return error;
    }
    const RecordPath path{"/Records", index, ""};
    od::json_type element_type{};
    if (auto error = record.type().get(element_type)) {
      return error;
    }
    if (element_type == od::json_type::object) {
      od::object object;
      if (auto error = record.get_object().get(object)) {
        return error;
      }
      if (auto error = decode_record_object(doc, object, path)) {
        return error;
      }
    } else {
      std::string_view raw;
      if (auto error = raw_value(record, element_type, raw)) {
        return error;
      }
      out_->errors.push_back(CloudTrailRecordError{
          make_error(DropReason::kWrongType, path, "",
                     "expected an object, got " + std::string(describe_json_type(element_type))),
          std::string(raw)});
    }
    ++index;
  }
  return simdjson::SUCCESS;
}

error_code CloudTrailDecoder::Impl::decode_detail(od::document& doc, od::value& value,
                                                  RootScan& scan) {
  if (auto error = value.type().get(scan.detail_type_of_value)) {
    return error;
  }
  // A detail-type seen earlier that is not CloudTrail's: leave `detail` to the iterator.
  if (scan.has_detail_type && !scan.detail_type_is_cloudtrail) {
    return simdjson::SUCCESS;
  }
  if (scan.detail_type_of_value != od::json_type::object || scan.detail_decoded) {
    return simdjson::SUCCESS;
  }
  od::object object;
  if (auto error = value.get_object().get(object)) {
    return error;
  }
  const size_t events_before = out_->events.size();
  if (auto error =
          decode_record_object(doc, object, RecordPath{"/detail", RecordPath::kNoIndex, ""})) {
    return error;
  }
  scan.detail_decoded = true;
  scan.detail_is_event = out_->events.size() > events_before;
  scan.detail_event_index = events_before;
  return simdjson::SUCCESS;
}

error_code CloudTrailDecoder::Impl::decode_record_object(od::document& doc, od::object& object,
                                                         const RecordPath& path) {
  CloudTrailEvent& event = out_->events.emplace_back();
  RecordDecoder decoder(event, doc, path);
  for (auto result : object) {
    od::field member;
    std::string_view key;
    if (auto error = std::move(result).get(member)) {
      return error;
    }
    if (auto error = member.unescaped_key().get(key)) {
      return error;
    }
    if (auto error = decoder.field(key, member.value())) {
      return error;
    }
  }
  // After the loop the object is consumed; raw_json() returns its bytes without moving on.
  std::string_view raw;
  if (auto error = object.raw_json().get(raw)) {
    return error;
  }
  raw = trim(raw);
  decoder.finish(raw.size(), max_record_bytes_);
  emit_record(decoder, raw);
  return simdjson::SUCCESS;
}

error_code CloudTrailDecoder::Impl::decode_log_events(od::document& doc, od::value& value,
                                                      RootScan& scan) {
  if (auto error = value.type().get(scan.log_events_type)) {
    return error;
  }
  if (scan.log_events_type != od::json_type::array) {
    return simdjson::SUCCESS;
  }
  od::array events;
  if (auto error = value.get_array().get(events)) {
    return error;
  }
  size_t index = 0;
  for (auto element : events) {
    od::value log_event;
    // simdjson's get() is &&-qualified: the move selects that overload.
    // NOLINTNEXTLINE(performance-move-const-arg)
    if (auto error = std::move(element).get(log_event)) {
      return error;
    }
    const RecordPath element_path{"/logEvents", index, ""};
    ++index;
    od::json_type type{};
    if (auto error = log_event.type().get(type)) {
      return error;
    }
    if (type != od::json_type::object) {
      std::string_view raw;
      if (auto error = raw_value(log_event, type, raw)) {
        return error;
      }
      out_->errors.push_back(CloudTrailRecordError{
          make_error(DropReason::kWrongType, element_path, "",
                     "expected an object, got " + std::string(describe_json_type(type))),
          std::string(raw)});
      continue;
    }
    od::object object;
    if (auto error = log_event.get_object().get(object)) {
      return error;
    }
    std::string_view message;
    bool has_message = false;
    bool message_unreadable = false;  // A bad escape inside the message string.
    od::json_type message_type{};
    for (auto result : object) {
      od::field member;
      std::string_view key;
      if (auto error = std::move(result).get(member)) {
        return error;
      }
      if (auto error = member.unescaped_key().get(key)) {
        return error;
      }
      if (key != "message" || has_message) {
        continue;
      }
      has_message = true;
      od::value& message_value = member.value();
      if (auto error = message_value.type().get(message_type)) {
        return error;
      }
      if (message_type == od::json_type::string) {
        if (auto error = message_value.get_string().get(message)) {
          if (!is_local_value_error(doc, error)) {
            return error;
          }
          message_unreadable = true;
        }
      }
    }
    if (has_message && message_type == od::json_type::string && !message_unreadable) {
      decode_message(message, RecordPath{"/logEvents", index - 1, "/message"});
      continue;
    }
    std::string_view raw;
    if (auto error = object.raw_json().get(raw)) {
      return error;
    }
    DecodeError problem =
        !has_message ? make_error(DropReason::kMissingField, element_path, "/message",
                                  "required field is missing")
        : message_unreadable
            ? make_error(DropReason::kNotJson, element_path, "/message",
                         "invalid JSON: bad escape sequence in string")
            : make_error(DropReason::kWrongType, element_path, "/message",
                         "expected a string, got " + std::string(describe_json_type(message_type)));
    out_->errors.push_back(CloudTrailRecordError{std::move(problem), std::string(trim(raw))});
  }
  return simdjson::SUCCESS;
}

// A CloudWatch Logs message is a JSON document of its own inside a string. It is parsed with the
// second parser (the first is still iterating the envelope) and only ever holds one record.
void CloudTrailDecoder::Impl::decode_message(std::string_view message, const RecordPath& path) {
  const std::string_view raw = trim(message);
  const auto reject = [&](DropReason reason, std::string_view what) {
    out_->errors.push_back(
        CloudTrailRecordError{make_error(reason, path, "", what), std::string(raw)});
  };
  if (raw.size() > max_record_bytes_) {
    reject(DropReason::kOversized, "record is " + std::to_string(raw.size()) +
                                       " bytes, the limit is " + std::to_string(max_record_bytes_));
    return;
  }
  message_buffer.assign(raw);
  od::document doc;
  if (auto error =
          message_parser
              .iterate(message_buffer.data(), message_buffer.size(), message_buffer.capacity())
              .get(doc)) {
    reject(DropReason::kNotJson, not_json_detail(error));
    return;
  }
  od::json_type type{};
  if (auto error = doc.type().get(type)) {
    reject(DropReason::kNotJson, not_json_detail(error));
    return;
  }
  if (type != od::json_type::object) {
    const DecodeError verdict = classify_unrecognised(message_buffer.data(), message_buffer.size());
    reject(verdict.reason, verdict.detail);
    return;
  }
  const size_t events_mark = out_->events.size();
  const size_t errors_mark = out_->errors.size();
  od::object object;
  error_code error = doc.get_object().get(object);
  if (!error) {
    error = decode_record_object(doc, object, path);
  }
  if (!error) {
    const char* rest = nullptr;
    if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
      error = simdjson::TRAILING_CONTENT;
    }
  }
  if (error) {
    out_->events.resize(events_mark);
    out_->errors.resize(errors_mark);
    reject(DropReason::kNotJson, not_json_detail(error));
  }
}

CloudTrailDecoder::CloudTrailDecoder() : impl_(std::make_unique<Impl>()) {
}

CloudTrailDecoder::~CloudTrailDecoder() = default;

CloudTrailDecoder::CloudTrailDecoder(CloudTrailDecoder&&) noexcept = default;

CloudTrailDecoder& CloudTrailDecoder::operator=(CloudTrailDecoder&&) noexcept = default;

void CloudTrailDecoder::decode(std::string_view document, CloudTrailDecodeOutput& out,
                               size_t max_record_bytes) {
  impl_->decode(document, out, max_record_bytes);
}

}  // namespace tw::pipeline
