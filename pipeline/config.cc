#include "pipeline/config.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "pipeline/config_internal.h"

namespace tw::pipeline {

using config_internal::Json;
using config_internal::ProblemList;

namespace {

constexpr std::array<std::string_view, 7> kComparisonOperatorNames = {
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
};

constexpr std::array<std::string_view, 4> kTreatMissingDataNames = {
    "missing",
    "ignore",
    "breaching",
    "notBreaching",
};

constexpr std::array<std::string_view, 2> kLowSampleCountNames = {"evaluate", "ignore"};

constexpr std::array<std::string_view, 5> kInputFormatNames = {
    "auto", "metric_stream", "put_metric_data", "emf", "cloudtrail",
};

template <typename Enum, size_t N>
std::optional<Enum> parse_enum(const std::array<std::string_view, N>& names,
                               std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) {
      return static_cast<Enum>(i);
    }
  }
  return std::nullopt;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Length of the decimal number (`digits[.digits]`, at most 10 decimals, as CloudWatch's
// statistic syntax allows) at the start of `text`; 0 if there is none.
size_t decimal_prefix_length(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) {
    ++i;
  }
  if (i == 0) {
    return 0;
  }
  if (i < text.size() && text[i] == '.') {
    size_t j = i + 1;
    while (j < text.size() && is_digit(text[j])) {
      ++j;
    }
    const size_t decimals = j - i - 1;
    if (decimals == 0 || decimals > 10) {
      return 0;
    }
    i = j;
  }
  return i;
}

// A whole-string number 0..100 in the statistic syntax ("99", "99.9", "0.0", "100").
std::optional<double> parse_percent_value(std::string_view text) {
  if (text.empty() || decimal_prefix_length(text) != text.size()) {
    return std::nullopt;
  }
  const size_t integer_digits =
      text.find('.') == std::string_view::npos ? text.size() : text.find('.');
  // CloudWatch's pattern is p(\d{1,2}(\.\d+)?|100): at most two integer digits, or 100.
  if (integer_digits > 3 || (integer_digits == 3 && !text.starts_with("100"))) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 100) {
    return std::nullopt;
  }
  return value;
}

// One bound of a range statistic: empty, or a number with an optional '%'.
bool is_range_bound(std::string_view text) {
  if (text.empty()) {
    return true;
  }
  if (text.back() == '%') {
    text.remove_suffix(1);
  }
  return !text.empty() && decimal_prefix_length(text) == text.size();
}

// The AWS partition of a Region, for ARNs: China and GovCloud Regions are not in "aws".
std::string_view partition_of(std::string_view region) {
  if (region.starts_with("cn-")) {
    return "aws-cn";
  }
  if (region.starts_with("us-gov-")) {
    return "aws-us-gov";
  }
  if (region.starts_with("us-isob-")) {
    return "aws-iso-b";
  }
  if (region.starts_with("us-iso-")) {
    return "aws-iso";
  }
  return "aws";
}

// ---------------------------------------------------------------------------------------------
// Bytes to JSON.

struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};

// Line and column (1-based) of byte `offset`. Columns count code points, as editors do, not
// bytes; an offset past the end points just after the last character.
TextPosition position_of(std::string_view text, size_t offset) {
  TextPosition pos;
  const size_t end = std::min(offset, text.size());
  for (size_t i = 0; i < end; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\n') {
      ++pos.line;
      pos.column = 1;
    } else if ((byte & 0xC0U) != 0x80U) {
      ++pos.column;
    }
  }
  return pos;
}

std::string at_position(std::string_view text, size_t offset) {
  const TextPosition pos = position_of(text, offset);
  return "invalid JSON at line " + std::to_string(pos.line) + ", column " +
         std::to_string(pos.column) + ": ";
}

// The offset of the first bracket that opens level kMaxConfigDepth + 1, if any. Runs before the
// parser so that hostile nesting is refused in one linear pass without building anything.
// Brackets inside strings do not count; a backslash escapes the next byte inside a string.
std::optional<size_t> find_excess_nesting(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > kMaxConfigDepth) {
          return i;
        }
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's to report.
        if (depth > 0) {
          --depth;
        }
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

bool is_json_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1, column 2:
// syntax error while parsing value - invalid literal; last read: 'no'". Keep the part after the
// position (which we compute ourselves, in code points) and bound it: the "last read" token of
// an unterminated 60 MB string is 60 MB.
std::string describe_json_error(std::string_view what) {
  if (what.starts_with("[json.exception.")) {
    if (const size_t p = what.find("] "); p != std::string_view::npos) {
      what.remove_prefix(p + 2);
    }
  }
  if (what.starts_with("parse error")) {
    if (const size_t p = what.find(": "); p != std::string_view::npos) {
      what.remove_prefix(p + 2);
    }
  }
  constexpr size_t kMaxShownChars = 200;
  return config_internal::printable(what, kMaxShownChars, false);
}

// Builds an ordered DOM from nlohmann's SAX events. Compared with nlohmann's own builder it
// (1) reports duplicate keys, which JSON allows and which would otherwise let the last of two
// `Period`s win silently, and (2) appends object members without ordered_map's linear key
// search, which would make a hostile object with millions of keys quadratic.
// The implicit noexcept default constructor is flagged because nlohmann's noexcept null
// constructor delegates to one that allocates for object and array types; null never does.
// NOLINTNEXTLINE(bugprone-exception-escape)
class DomBuilder {
 public:
  bool null() { return place(Json(nullptr)); }

  bool boolean(bool value) { return place(Json(value)); }

  bool number_integer(Json::number_integer_t value) { return place(Json(value)); }

  bool number_unsigned(Json::number_unsigned_t value) { return place(Json(value)); }

  bool number_float(Json::number_float_t value, const Json::string_t& /*text*/) {
    return place(Json(value));
  }

  bool string(Json::string_t& value) { return place(Json(std::move(value))); }

  static bool binary(Json::binary_t& /*value*/) { return false; }  // Never produced by JSON text.

  bool start_object(size_t /*elements*/) { return open(Json::value_t::object); }

  bool key(Json::string_t& name) {
    Frame& frame = frames_.back();
    frame.pending_duplicate = !frame.keys.insert(name).second;
    if (frame.pending_duplicate) {
      duplicates_.push_back(
          {json_pointer_child(frame.pointer, name),
           "duplicate key " + config_internal::quote_value(name) +
               ": a key may appear only once in an object (otherwise the last one would silently "
               "win)"});
    }
    frame.pending_key = std::move(name);
    return true;
  }

  bool end_object() {
    frames_.pop_back();
    return true;
  }

  bool start_array(size_t /*elements*/) { return open(Json::value_t::array); }

  bool end_array() {
    frames_.pop_back();
    return true;
  }

  bool parse_error(size_t position, const std::string& /*last_token*/,
                   const Json::exception& error) {
    error_position_ = position;
    error_message_ = error.what();
    return false;
  }

  [[nodiscard]] const Json& root() const { return root_; }

  [[nodiscard]] size_t error_position() const { return error_position_; }

  [[nodiscard]] const std::string& error_message() const { return error_message_; }

  struct Duplicate {
    std::string pointer;
    std::string message;
  };

  [[nodiscard]] const std::vector<Duplicate>& duplicates() const { return duplicates_; }

 private:
  struct Frame {
    Json* container = nullptr;
    std::string pointer;
    std::unordered_set<std::string> keys;
    std::string pending_key;
    bool pending_duplicate = false;
  };

  bool open(Json::value_t type) {
    std::string pointer;
    if (!frames_.empty()) {
      const Frame& parent = frames_.back();
      pointer = parent.container->is_array()
                    ? json_pointer_child(parent.pointer, parent.container->size())
                    : json_pointer_child(parent.pointer, parent.pending_key);
    }
    Json* container = insert(Json(type));
    frames_.push_back(Frame{container, std::move(pointer), {}, {}, false});
    return true;
  }

  bool place(Json&& value) {
    insert(std::move(value));
    return true;
  }

  // Pointers into the parent stay valid while a child is open: nothing else is appended to the
  // parent until the child's end event pops it.
  Json* insert(Json&& value) {
    if (frames_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Frame& frame = frames_.back();
    if (frame.container->is_array()) {
      auto& array = frame.container->get_ref<Json::array_t&>();
      array.push_back(std::move(value));
      return &array.back();
    }
    auto& object = frame.container->get_ref<Json::object_t&>();
    if (frame.pending_duplicate) {
      for (auto& member : object) {
        if (member.first == frame.pending_key) {
          member.second = std::move(value);
          return &member.second;
        }
      }
    }
    object.emplace_back(std::move(frame.pending_key), std::move(value));
    return &object.back().second;
  }

  Json root_;
  std::vector<Frame> frames_;
  std::vector<Duplicate> duplicates_;
  size_t error_position_ = 0;
  std::string error_message_;
};

std::string size_problem(std::optional<int64_t> size) {
  const std::string text = size.has_value() ? "the file is " + std::to_string(*size) + " bytes"
                                            : "the file is larger than the limit";
  return text + "; configuration files are limited to " + std::to_string(kMaxConfigBytes) +
         " bytes (64 MiB)";
}

ConfigLoadResult failure(ProblemList& problems) {
  ConfigLoadResult result;
  result.problems = problems.take();
  return result;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Enumerations and statistics.

std::string_view to_string(ComparisonOperator op) {
  return kComparisonOperatorNames.at(static_cast<size_t>(op));
}

std::optional<ComparisonOperator> parse_comparison_operator(std::string_view text) {
  return parse_enum<ComparisonOperator>(kComparisonOperatorNames, text);
}

bool is_band_operator(ComparisonOperator op) {
  return op == ComparisonOperator::kLessThanLowerOrGreaterThanUpperThreshold ||
         op == ComparisonOperator::kLessThanLowerThreshold ||
         op == ComparisonOperator::kGreaterThanUpperThreshold;
}

std::string_view to_string(TreatMissingData t) {
  return kTreatMissingDataNames.at(static_cast<size_t>(t));
}

std::optional<TreatMissingData> parse_treat_missing_data(std::string_view text) {
  return parse_enum<TreatMissingData>(kTreatMissingDataNames, text);
}

std::string_view to_string(LowSampleCountPercentile v) {
  return kLowSampleCountNames.at(static_cast<size_t>(v));
}

std::string_view to_string(InputFormat f) {
  return kInputFormatNames.at(static_cast<size_t>(f));
}

std::optional<InputFormat> parse_input_format(std::string_view text) {
  return parse_enum<InputFormat>(kInputFormatNames, text);
}

bool is_metric_format(InputFormat f) {
  return f == InputFormat::kMetricStream || f == InputFormat::kPutMetricData ||
         f == InputFormat::kEmf;
}

std::optional<Statistic> parse_statistic(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, Statistic::Kind>, 5> kSimple = {{
      {"SampleCount", Statistic::Kind::kSampleCount},
      {"Average", Statistic::Kind::kAverage},
      {"Sum", Statistic::Kind::kSum},
      {"Minimum", Statistic::Kind::kMinimum},
      {"Maximum", Statistic::Kind::kMaximum},
  }};
  for (const auto& [name, kind] : kSimple) {
    if (text == name) {
      return Statistic{kind, 0, std::string(text)};
    }
  }
  if (text.starts_with('p')) {
    if (const auto value = parse_percent_value(text.substr(1))) {
      return Statistic{Statistic::Kind::kPercentile, *value, std::string(text)};
    }
  }
  return std::nullopt;
}

bool is_unsupported_extended_statistic(std::string_view text) {
  if (text == "IQM") {
    return true;
  }
  // Single-number shorthand, lower case only: tm90 = TM(:90%).
  for (const std::string_view prefix : {"tm", "wm", "tc", "ts"}) {
    if (text.starts_with(prefix)) {
      return parse_percent_value(text.substr(prefix.size())).has_value();
    }
  }
  // Range form, upper case only: TM(10%:90%), PR(:300), TS(80%:), TC(0.005:0.030).
  for (const std::string_view prefix : {"TM(", "WM(", "TC(", "TS(", "PR("}) {
    if (text.starts_with(prefix) && text.ends_with(')')) {
      const std::string_view inside = text.substr(3, text.size() - 4);
      const size_t colon = inside.find(':');
      if (colon == std::string_view::npos || inside.size() == 1) {
        return false;
      }
      return is_range_bound(inside.substr(0, colon)) && is_range_bound(inside.substr(colon + 1));
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Small public helpers.

Duration Config::lateness_for(const InputConfig& input, InputFormat detected) const {
  if (input.allowed_lateness.has_value()) {
    return *input.allowed_lateness;
  }
  const InputFormat format = input.format == InputFormat::kAuto ? detected : input.format;
  // Anything not (yet) known to be CloudTrail gets the metrics default, kAuto included: it is
  // the tighter bound, so a mis-sniffed input holds windows open for less time, not more.
  return format == InputFormat::kCloudTrail ? settings.cloudtrail_lateness
                                            : settings.metric_lateness;
}

std::string ConfigProblem::to_string() const {
  // Every line has the same three parts, so that tools can split on ": " up to the message.
  return file + ": " + (pointer.empty() ? std::string("(root)") : pointer) + ": " + message;
}

std::string alarm_arn(const Settings& settings, std::string_view alarm_name) {
  std::string arn = "arn:";
  arn += partition_of(settings.region);
  arn += ":cloudwatch:";
  arn += settings.region;
  arn += ':';
  arn += settings.account_id;
  arn += ":alarm:";
  arn += alarm_name;
  return arn;
}

// ---------------------------------------------------------------------------------------------
// Loading.

ConfigLoadResult parse_config(std::string_view text, std::string_view file) {
  ProblemList problems{std::string(file)};
  if (std::cmp_greater(text.size(), kMaxConfigBytes)) {
    problems.add("", size_problem(static_cast<int64_t>(text.size())));
    return failure(problems);
  }
  size_t first = 0;
  while (first < text.size() && is_json_whitespace(text[first])) {
    ++first;
  }
  if (first == text.size()) {
    problems.add("", at_position(text, text.size()) +
                         "the file is empty; expected a JSON object such as "
                         "{\"MetricAlarms\": [...]}");
    return failure(problems);
  }
  if (const auto offset = find_excess_nesting(text)) {
    problems.add("", at_position(text, *offset) + "nested deeper than " +
                         std::to_string(kMaxConfigDepth) + " levels");
    return failure(problems);
  }

  DomBuilder builder;
  bool parsed = false;
  try {
    parsed = Json::sax_parse(text.begin(), text.end(), &builder);
  } catch (const std::exception& e) {
    // Only resource exhaustion gets here: syntax errors arrive through parse_error().
    problems.add("", std::string("cannot parse the file: ") + e.what());
    return failure(problems);
  }
  if (!parsed) {
    // nlohmann counts characters read, so the offending byte is the one before that count.
    const size_t offset = builder.error_position() == 0 ? 0 : builder.error_position() - 1;
    problems.add("", at_position(text, offset) + describe_json_error(builder.error_message()));
    return failure(problems);
  }
  for (const auto& duplicate : builder.duplicates()) {
    problems.add(duplicate.pointer, duplicate.message);
  }

  ConfigLoadResult result;
  Config config;
  config.source_file = std::string(file);
  try {
    config_internal::validate_document(builder.root(), problems, config);
  } catch (const std::exception& e) {
    // Validation reads the DOM only through checked accessors; this is the last line of
    // defence against an allocation failure, never a validation path.
    problems.add("", std::string("cannot validate the file: ") + e.what());
  }
  if (problems.empty()) {
    result.config = std::move(config);
  } else {
    result.problems = problems.take();
  }
  return result;
}

ConfigLoadResult load_config(const std::string& path) {
  ProblemList problems{path};
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    problems.add("", "is a directory, not a configuration file");
    return failure(problems);
  }
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    problems.add("",
                 std::string("cannot open the file: ") + std::generic_category().message(errno));
    return failure(problems);
  }

  // Refuse an oversized regular file before reading any of it.
  struct stat info {};

  if (::fstat(::fileno(file.get()), &info) == 0 && S_ISREG(info.st_mode) &&
      info.st_size > kMaxConfigBytes) {
    problems.add("", size_problem(static_cast<int64_t>(info.st_size)));
    return failure(problems);
  }
  // Pipes and devices have no size: read one byte past the limit to detect an overflow.
  std::string text;
  std::array<char, 1 << 16> buffer{};
  while (std::cmp_less_equal(text.size(), kMaxConfigBytes)) {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    text.append(buffer.data(), n);
    if (n < buffer.size()) {
      break;
    }
  }
  if (std::ferror(file.get()) != 0) {
    problems.add("",
                 std::string("cannot read the file: ") + std::generic_category().message(errno));
    return failure(problems);
  }
  if (std::cmp_greater(text.size(), kMaxConfigBytes)) {
    problems.add("", size_problem(std::nullopt));
    return failure(problems);
  }
  return parse_config(text, path);
}

}  // namespace tw::pipeline

namespace tw::pipeline {

std::string_view to_string(ActionTargetConfig::Type type) {
  switch (type) {
    case ActionTargetConfig::Type::kWebhook:
      return "webhook";
    case ActionTargetConfig::Type::kAlertmanager:
      return "alertmanager";
    case ActionTargetConfig::Type::kKubernetesScale:
      return "kubernetes_scale";
    case ActionTargetConfig::Type::kEc2:
      return "ec2";
    case ActionTargetConfig::Type::kAutoScaling:
      return "autoscaling";
  }
  return "webhook";
}

const ActionTargetConfig* ActionsConfig::find(std::string_view name) const {
  for (const ActionTargetConfig& target : targets) {
    if (target.name == name) {
      return &target;
    }
  }
  return nullptr;
}

}  // namespace tw::pipeline
