#pragma once

/// Status and Result<T>: how every component boundary reports failure.
///
/// Library code never throws across a component boundary and never exits the process. Functions
/// that can fail for reasons outside the program's control (bad configuration, bad input bytes,
/// unreachable peers) return `Status` or `Result<T>`; both are `[[nodiscard]]`. Broken internal
/// invariants are programmer errors and stop the process through `TW_CHECK` instead.
///
/// Example:
///
///     Result<int> parse_port(std::string_view text);
///     Status open_listener(std::string_view text) {
///       TW_ASSIGN_OR_RETURN(int port, parse_port(text));
///       TW_RETURN_IF_ERROR(bind_to(port));
///       return Status::ok();
///     }

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tw::pipeline {

/// Broad classes of failure. Callers branch on the code; the message is for humans.
enum class StatusCode {
  kOk,
  kInvalidArgument,     ///< The caller's input is wrong (bad config, malformed record).
  kNotFound,            ///< A named thing (file, alarm, key) does not exist.
  kOutOfRange,          ///< A value lies outside what is accepted (too large, too old).
  kFailedPrecondition,  ///< The system is not in a state where the call can run.
  kResourceExhausted,   ///< A configured limit was reached.
  kUnavailable,         ///< A peer or resource is temporarily unreachable; retrying may help.
  kDataLoss,            ///< Stored or received data is corrupt or truncated.
  kInternal,            ///< An unexpected failure in a dependency.
};

/// Returns the stable lower-case name of `code`, e.g. "invalid_argument".
std::string_view to_string(StatusCode code);

/// The outcome of an operation that returns no value. Cheap to copy when ok.
class [[nodiscard]] Status {
 public:
  Status() = default;

  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  [[nodiscard]] bool is_ok() const { return code_ == StatusCode::kOk; }

  [[nodiscard]] StatusCode code() const { return code_; }

  [[nodiscard]] const std::string& message() const { return message_; }

  /// "invalid_argument: message", or "ok".
  [[nodiscard]] std::string to_string() const;

  bool operator==(const Status&) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string message) {
  return {StatusCode::kInvalidArgument, std::move(message)};
}

inline Status not_found(std::string message) {
  return {StatusCode::kNotFound, std::move(message)};
}

inline Status out_of_range(std::string message) {
  return {StatusCode::kOutOfRange, std::move(message)};
}

inline Status failed_precondition(std::string message) {
  return {StatusCode::kFailedPrecondition, std::move(message)};
}

inline Status resource_exhausted(std::string message) {
  return {StatusCode::kResourceExhausted, std::move(message)};
}

inline Status unavailable(std::string message) {
  return {StatusCode::kUnavailable, std::move(message)};
}

inline Status data_loss(std::string message) {
  return {StatusCode::kDataLoss, std::move(message)};
}

inline Status internal_error(std::string message) {
  return {StatusCode::kInternal, std::move(message)};
}

/// A value of type T or the Status that explains why there is none.
/// Precondition for value(): is_ok(). Constructing a Result from an ok Status is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(data_).is_ok()) {
      std::fprintf(stderr, "Result constructed from an ok Status\n");
      std::abort();
    }
  }

  [[nodiscard]] bool is_ok() const { return std::holds_alternative<T>(data_); }

  [[nodiscard]] const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(data_);
  }

  [[nodiscard]] T& value() & { return std::get<T>(data_); }

  [[nodiscard]] const T& value() const& { return std::get<T>(data_); }

  [[nodiscard]] T&& value() && { return std::get<T>(std::move(data_)); }

  T* operator->() { return &value(); }

  const T* operator->() const { return &value(); }

  T& operator*() & { return value(); }

  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

namespace internal {

[[noreturn]] void check_failed(const char* file, int line, const char* condition,
                               std::string_view message);

}  // namespace internal

}  // namespace tw::pipeline

// Macros are the only way to return from the caller (TW_RETURN_IF_ERROR, TW_ASSIGN_OR_RETURN), to
// paste a unique name, or to capture __FILE__/__LINE__ and the condition text (TW_CHECK).
// NOLINTBEGIN(cppcoreguidelines-macro-usage)
#define TW_STATUS_CONCAT_INNER(a, b) a##b
#define TW_STATUS_CONCAT(a, b) TW_STATUS_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function if `expr` is not ok.
#define TW_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::tw::pipeline::Status tw_status_ = (expr); \
    if (!tw_status_.is_ok()) {                  \
      return tw_status_;                        \
    }                                           \
  } while (false)

// `tmp` and `lhs` are a declaration and an assignment target: they cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define TW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) {                            \
    return tmp.status();                         \
  }                                              \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

/// Declares or assigns `lhs` from a Result, returning its Status from the enclosing function on
/// failure: `TW_ASSIGN_OR_RETURN(auto config, load_config(path));`
#define TW_ASSIGN_OR_RETURN(lhs, expr) \
  TW_ASSIGN_OR_RETURN_IMPL(TW_STATUS_CONCAT(tw_result_, __LINE__), lhs, expr)

/// Stops the process with file and line when an internal invariant is broken. Never use it for
/// anything that input or configuration can cause.
#define TW_CHECK(condition, message)                                                     \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      ::tw::pipeline::internal::check_failed(__FILE__, __LINE__, #condition, (message)); \
    }                                                                                    \
  } while (false)
// NOLINTEND(cppcoreguidelines-macro-usage)
