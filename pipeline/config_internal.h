#pragma once

/// Private to the configuration loader (config.cc, config_validate.cc): the problem collector,
/// JSON-pointer and message helpers, and the document validator. Not part of tw::pipeline's
/// interface; nothing outside those files includes it.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/json_pointer.h"

namespace tw::pipeline::config_internal {

/// The DOM type: ordered, so that problems come out in document order.
using Json = nlohmann::ordered_json;

/// Collects problems for one file, up to kMaxConfigProblems; past that it records a single note
/// and drops the rest, so a hostile file cannot make the report itself unbounded.
class ProblemList {
 public:
  explicit ProblemList(std::string file) : file_(std::move(file)) {}

  void add(std::string pointer, std::string message);

  /// True once the cap is reached: callers skip work that only improves messages.
  [[nodiscard]] bool full() const { return truncated_; }

  [[nodiscard]] bool empty() const { return problems_.empty(); }

  [[nodiscard]] const std::string& file() const { return file_; }

  std::vector<ConfigProblem> take() { return std::move(problems_); }

 private:
  std::string file_;
  std::vector<ConfigProblem> problems_;
  bool truncated_ = false;
};

/// A value quoted for a message: JSON-style escapes, invalid UTF-8 bytes as `\xNN`, and cut to
/// a few dozen characters so that a 60 MB string never ends up in an error line.
std::string quote_value(std::string_view text);

/// `text` with control characters and invalid UTF-8 escaped (and, if `escape_quotes`, `"` and
/// `\`), cut after `max_chars` characters with "...".
std::string printable(std::string_view text, size_t max_chars, bool escape_quotes);

/// Number of Unicode code points in valid UTF-8 `text` (what AWS length limits count).
size_t utf8_length(std::string_view text);

/// Validates a parsed document and fills `config` (whose source_file is already set). Every
/// problem goes to `problems`; `config` is meaningful only if none were added.
void validate_document(const Json& document, ProblemList& problems, Config& config);

}  // namespace tw::pipeline::config_internal
