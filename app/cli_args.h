#pragma once

/// Small command-line helpers shared by the subcommands, and the process exit codes.

#include <charconv>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace tw::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalidConfig = 1;  ///< The configuration has problems (listed).
inline constexpr int kExitUsage = 2;          ///< The command line is wrong.
inline constexpr int kExitIoError = 3;        ///< An input or output could not be opened/written.

/// Walks `--flag value` and `--flag=value` arguments.
class ArgReader {
 public:
  explicit ArgReader(const std::vector<std::string>& args) : args_(args) {}

  [[nodiscard]] bool done() const { return index_ >= args_.size() && !inline_value_; }

  /// The next flag. For `--flag=value` the value is kept for `value_for`.
  std::string next() {
    std::string arg = args_.at(index_++);
    inline_value_.reset();
    if (arg.starts_with("--")) {
      if (const size_t eq = arg.find('='); eq != std::string::npos) {
        inline_value_ = arg.substr(eq + 1);
        arg.resize(eq);
      }
    }
    return arg;
  }

  /// The value of `flag` (its `=value` or the next argument); prints an error and returns nullopt
  /// when there is none.
  std::optional<std::string> value_for(const std::string& flag, std::ostream& err) {
    if (inline_value_) {
      std::optional<std::string> value = std::move(inline_value_);
      inline_value_.reset();
      return value;
    }
    if (index_ >= args_.size()) {
      err << "trailwatch: " << flag << " needs a value\n";
      return std::nullopt;
    }
    return args_.at(index_++);
  }

  /// True when the flag just read carried an `=value` (an error for flags without values).
  [[nodiscard]] bool has_inline_value() const { return inline_value_.has_value(); }

 private:
  const std::vector<std::string>& args_;
  size_t index_ = 0;
  std::optional<std::string> inline_value_;
};

inline std::optional<int> parse_int(const std::string& text) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace tw::app
