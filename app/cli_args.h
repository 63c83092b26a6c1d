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

/// Walks `--flag value` arguments.
class ArgReader {
 public:
  explicit ArgReader(const std::vector<std::string>& args) : args_(args) {}

  [[nodiscard]] bool done() const { return index_ >= args_.size(); }

  std::string next() { return args_.at(index_++); }

  /// The argument after `flag`; prints an error and returns nullopt when there is none.
  std::optional<std::string> value_for(const std::string& flag, std::ostream& err) {
    if (done()) {
      err << "trailwatch: " << flag << " needs a value\n";
      return std::nullopt;
    }
    return next();
  }

 private:
  const std::vector<std::string>& args_;
  size_t index_ = 0;
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
