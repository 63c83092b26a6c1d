#pragma once

/// Metric math for alarms: the expressions of an alarm's `Metrics` entries (MetricDataQuery with
/// `Expression`), parsed, checked and evaluated over the alarm's evaluation range.
///
/// Three layers, each usable alone:
///
/// 1. `parse_math_expression` turns one expression into an AST, or reports the first syntax
///    error with its position.
/// 2. `analyze_alarm_metrics` / `check_alarm_metrics` check all entries of one alarm together:
///    Ids, functions and argument kinds, reference cycles, where ANOMALY_DETECTION_BAND may
///    appear, and that the returned entry yields exactly one time series.
/// 3. `compile_metric_math` builds a `MetricMath` once per alarm; `MetricMath::evaluate` then
///    runs every evaluation (once a minute) on the MetricStat values of the range, into buffers
///    that are reused from one evaluation to the next.
///
/// Everything here is pure computation: no I/O, no clock, no threads, no exceptions. The same
/// inputs always give bit-identical outputs.
///
/// ## Grammar
///
///     expr     := or
///     or       := and (("OR" | "||") and)*
///     and      := compare (("AND" | "&&") compare)*
///     compare  := add (("==" | "!=" | "<=" | ">=" | "<" | ">") add)*
///     add      := multiply (("+" | "-") multiply)*
///     multiply := unary (("*" | "/") unary)*
///     unary    := "-" unary | power
///     power    := primary ("^" unary)?               (right-associative: 2^3^2 = 2^9)
///     primary  := NUMBER | STRING | ID | NAME "(" [expr ("," expr)*] ")" | "REPEAT" | "LINEAR"
///               | "(" expr ")" | "[" expr ("," expr)* "]"
///
/// NUMBER is decimal with optional fraction and exponent (`5`, `0.5`, `.5`, `1e-3`). ID starts
/// with a lower-case letter and continues with letters, digits and `_`. NAME (functions,
/// keywords) starts with an upper-case letter; AND, OR, REPEAT and LINEAR are upper case only.
/// STRING is in double quotes (or single quotes, which SEARCH uses); a backslash escapes the
/// next character. Whitespace is free. Unary minus binds looser than `^`, so `-2^2` is -4.
/// Nesting deeper than kMaxMathNesting is an error (a bound on recursion, not a CloudWatch limit).
///
/// ## Kinds
///
/// Every expression has a kind: a scalar (S), one time series (TS) or an array of time series
/// (TS[]). Arrays come from METRICS(), array literals `[a, b]` and ANOMALY_DETECTION_BAND (two
/// series: upper, then lower). The length of every array is known before evaluation, because
/// the alarm's queries are. An array of exactly one series is accepted wherever one series is.
///
///     operator or function                        arguments                     result
///     + - * / ^, comparisons, AND, OR             S, TS, TS[]; not two arrays   S if both are S,
///                                                                               else TS[] if one
///                                                                               is, else TS
///     unary -, ABS, CEIL, FLOOR, LOG, LOG10       S, TS or TS[]                 same kind
///     IF(c, a[, b])                               each S or TS                  TS if any is TS
///     FILL(m, x)                                  m: TS or TS[]; x: S, TS,      kind of m
///                                                 REPEAT or LINEAR
///     RATE DIFF DIFF_TIME PERIOD MINUTE HOUR DAY  TS or TS[]                    same kind
///     DATE MONTH YEAR EPOCH
///     METRICS(), METRICS("str")                   a string literal, if any      TS[]
///     SUM AVG MIN MAX STDDEV                      TS or TS[]                    S from TS,
///                                                                               TS from TS[]
///     TIME_SERIES(S)                              S                             TS
///     FIRST, LAST                                 a non-empty TS[]              TS
///     ANOMALY_DETECTION_BAND(id[, k])             the Id of one series; k a     TS[] of 2
///                                                 positive number literal
///                                                 (default 2)
///     SEARCH(...)                                 anything                      rejected in alarms
///
/// ## Semantics
///
/// A series holds one value or nothing per period of the range. "Missing" below means nothing.
///
/// - **Arithmetic, comparisons, AND, OR** are pointwise. Between two series, a point missing
///   from one of them counts as 0; a point missing from both stays missing. Between a series and
///   a scalar, the series' missing points stay missing. Comparisons and logic give 1 or 0; a
///   non-zero value is true.
/// - **A point whose result is not a finite number is dropped**: division by zero, LOG of zero or
///   of a negative number, `(-8)^0.5`, overflow. The reference states this for division by zero;
///   extending it to every non-finite result keeps NaN and infinities out of alarm decisions
///   and out of JSON output. Non-finite input values are treated as missing for the same reason.
///   A scalar can be "no value" too (AVG of an empty series, `1/0`); combining a series with it
///   drops every point.
/// - **IF(c, a, b)** with a series condition: where c is missing the point is dropped; where c is
///   true the result is a (0 where a is a series lacking the point); where c is false it is b
///   (dropped where b is a series lacking the point, or where b is omitted). With a scalar
///   condition the whole of a or b is chosen as it is (nothing chosen when b is omitted or the
///   condition has no value); a chosen scalar fills every period when the result is a series.
/// - **FILL(m, x)** fills m's missing points with a constant, with x's value at that period
///   (still missing where x lacks it too), with the last real value before (REPEAT; leading
///   gaps stay missing), or by linear interpolation in time between the real neighbours (LINEAR;
///   gaps at either edge stay missing).
/// - **RATE, DIFF, DIFF_TIME** compare each point with the previous point that has a value:
///   value change per second, value change, and seconds between the two. The first point with a
///   value has no predecessor in the range and is missing (with the default range of N + 2
///   periods, the N periods that decide the alarm still have one).
/// - **METRICS()** is every MetricStat entry (not expressions) in query order; METRICS("x") those
///   whose Id contains "x" (case-sensitive). It may be empty.
/// - **SUM, AVG, MIN, MAX, STDDEV** of an array work pointwise across its series, ignoring the
///   series that lack the point (missing when all lack it). Of one series they reduce its
///   points with a value to a scalar (no value when there are none). STDDEV is the population
///   standard deviation (divides by the count, so one value gives 0). CloudWatch documents only
///   "standard deviation"; the values at hand are all there are, not a sample of them, and a
///   single value should not make the result vanish.
/// - **PERIOD(m)** is the alarm's period in seconds at every period of the range (not sparse);
///   TIME_SERIES(S) is S at every period.
/// - **MINUTE, HOUR, DAY, DATE, MONTH, YEAR, EPOCH** give, at each point of m that has a value
///   (sparse, so `IF(DAY(m) < 6, m)` adds no zeros), a field of that period's start time in UTC:
///   minute 0–59, hour 0–23, day of week 1 = Monday … 7 = Sunday, day of month 1–31, month
///   1–12, year, and seconds since the Unix epoch.
/// - **ANOMALY_DETECTION_BAND(m, k)** asks a `BandProvider` for the band of entry m at k standard
///   deviations. Until a model supplies one, `NullBandProvider` leaves both series missing.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/status.h"
#include "pipeline/time.h"

namespace tw::detectors {

/// Deepest nesting of parentheses, brackets, calls and unary minus the parser accepts.
inline constexpr int kMaxMathNesting = 100;

/// The kind of value an expression yields.
enum class MathKind : uint8_t {
  kScalar,  ///< S: one number.
  kSeries,  ///< TS: one value (or none) per period.
  kArray,   ///< TS[]: several series.
};

/// "S", "TS", "TS[]" as the CloudWatch documentation writes them.
std::string_view to_string(MathKind kind);

enum class MathOperator : uint8_t {
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kPower,
  kEqual,
  kNotEqual,
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual,
  kAnd,
  kOr,
};

/// "+", "-", "*", "/", "^", "==", "!=", "<", "<=", ">", ">=", "AND", "OR".
std::string_view to_string(MathOperator op);

/// The functions trailwatch evaluates (and SEARCH, which it only recognises to reject).
enum class MathFunction : uint8_t {
  kIf,
  kFill,
  kRate,
  kDiff,
  kDiffTime,
  kAbs,
  kCeil,
  kFloor,
  kLog,
  kLog10,
  kMetrics,
  kSum,
  kAvg,
  kMin,
  kMax,
  kStddev,
  kPeriod,
  kTimeSeries,
  kMinute,
  kHour,
  kDay,
  kDate,
  kMonth,
  kYear,
  kEpoch,
  kFirst,
  kLast,
  kAnomalyDetectionBand,
  kSearch,
};

/// The upper-case name, e.g. "DIFF_TIME".
std::string_view to_string(MathFunction function);

/// The function with that exact (upper-case) name; nullopt for anything else.
std::optional<MathFunction> parse_math_function(std::string_view name);

/// One node of a parsed expression. Which fields are meaningful depends on `type`.
struct MathNode {
  enum class Type : uint8_t {
    kNumber,   ///< `number`.
    kString,   ///< `text`: the contents, quotes removed and escapes resolved.
    kId,       ///< `text`: the Id.
    kKeyword,  ///< `text`: "REPEAT" or "LINEAR".
    kNegate,   ///< Unary minus of args[0].
    kBinary,   ///< `op` applied to args[0], args[1].
    kCall,     ///< `function` applied to args.
    kArray,    ///< Array literal of args.
  };

  Type type = Type::kNumber;
  uint32_t offset = 0;           ///< Byte offset in the text where the node starts.
  uint32_t operator_offset = 0;  ///< kBinary: byte offset of the operator.
  double number = 0;
  std::string text;
  MathOperator op = MathOperator::kAdd;
  MathFunction function = MathFunction::kIf;
  std::vector<uint32_t> args;  ///< Indices into MathExpression::nodes, each lower than this one.

  bool operator==(const MathNode&) const = default;
};

/// A parsed expression: nodes in post-order (operands before the node using them), so the root
/// is the last node and evaluating in index order is always valid.
struct MathExpression {
  std::vector<MathNode> nodes;  ///< Never empty.

  [[nodiscard]] const MathNode& root() const { return nodes.back(); }

  [[nodiscard]] uint32_t root_index() const { return static_cast<uint32_t>(nodes.size() - 1); }

  /// Fully parenthesised prefix form, for tests and debugging: `2 + 3 * m1` is
  /// `(+ 2 (* 3 m1))`, `-x` is `(- x)`, calls are `FILL(m1, REPEAT)`, arrays `[a, b]`.
  [[nodiscard]] std::string to_string() const;

  bool operator==(const MathExpression&) const = default;
};

/// A syntax or type error in one expression.
struct MathError {
  uint32_t offset = 0;  ///< Byte offset in the expression (0-based).
  std::string message;

  /// "column N: message", with N = offset + 1.
  [[nodiscard]] std::string to_string() const;

  bool operator==(const MathError&) const = default;
};

/// Exactly one of `expression` and `error` is set.
struct MathParseResult {
  std::optional<MathExpression> expression;
  std::optional<MathError> error;

  [[nodiscard]] bool ok() const { return expression.has_value(); }
};

/// Parses one expression. Checks syntax, function names and argument counts; everything that
/// depends on the other entries of the alarm (Ids, kinds) is left to the analysis. Unknown
/// function names are errors, with a specific message for CloudWatch functions trailwatch does
/// not evaluate (SORT, RUNNING_SUM, SERVICE_QUOTA, ...) and for Metrics Insights queries
/// (`SELECT ...`).
MathParseResult parse_math_expression(std::string_view text);

/// One problem in an alarm's metric math.
struct MathProblem {
  /// JSON pointer relative to the alarm: "/Metrics/2/Expression" or "/ThresholdMetricId".
  std::string pointer;
  /// What is wrong; problems inside an expression start with "column N: ".
  std::string message;

  bool operator==(const MathProblem&) const = default;
};

/// What the analysis learned about one entry of `Metrics`.
struct MathEntryInfo {
  std::string id;
  bool expression = false;  ///< False for MetricStat entries.
  /// True when the entry parsed and type-checked without problems, and so did every entry it
  /// references. `kind` and `series_count` are meaningful only then.
  bool valid = false;
  MathKind kind = MathKind::kSeries;
  size_t series_count = 1;  ///< 0 for a scalar, 1 for a series, the length for an array.
  std::vector<std::string> references;  ///< Ids the expression names, first appearance first.

  bool operator==(const MathEntryInfo&) const = default;
};

struct MathAnalysis {
  std::vector<MathEntryInfo> entries;  ///< One per entry of `Metrics`, same order.
  /// Entries in query order, each entry's problems by position; /ThresholdMetricId last.
  std::vector<MathProblem> problems;
};

/// Checks the metric math of one alarm (`metrics` = its `Metrics`, `threshold_metric_id` = its
/// ThresholdMetricId or empty). Reports, with the pointer of the entry's Expression: syntax
/// errors, unknown Ids and functions, arguments of the wrong kind, reference cycles, SEARCH,
/// ANOMALY_DETECTION_BAND anywhere but as the whole expression of the ThresholdMetricId entry
/// (or used from another expression), and a returned entry (ReturnData true, other than the
/// ThresholdMetricId entry) that does not yield exactly one time series. With the pointer
/// /ThresholdMetricId: an Id that names no entry, or an entry that is not an
/// ANOMALY_DETECTION_BAND expression.
///
/// Not checked here, because pipeline/config_validate.cc already does: Id syntax, duplicate Ids,
/// MetricStat contents, entries with both or neither of MetricStat and Expression (skipped
/// here), the number of ReturnData entries. Entries without a usable Id are skipped.
MathAnalysis analyze_alarm_metrics(const std::vector<pipeline::MetricDataQuery>& metrics,
                                   std::string_view threshold_metric_id);

/// `analyze_alarm_metrics(...).problems`.
std::vector<MathProblem> check_alarm_metrics(const std::vector<pipeline::MetricDataQuery>& metrics,
                                             std::string_view threshold_metric_id);

/// Supplies anomaly-detection bands. The seasonal-baseline model will implement it; the alarm
/// that owns the MetricMath passes it to every evaluation.
class BandProvider {
 public:
  BandProvider() = default;
  virtual ~BandProvider() = default;
  BandProvider(const BandProvider&) = delete;
  BandProvider& operator=(const BandProvider&) = delete;
  BandProvider(BandProvider&&) = delete;
  BandProvider& operator=(BandProvider&&) = delete;

  /// Writes the band of the model for alarm entry `metric_id` (the first argument of
  /// ANOMALY_DETECTION_BAND: a MetricStat or expression Id of the same alarm) at `k` standard
  /// deviations, for the periods starting at `times`. `upper` and `lower` have times.size()
  /// elements, all nullopt on entry; leave an element nullopt where the model has no band.
  /// Non-finite values are treated as missing.
  virtual void band(std::string_view metric_id, double k,
                    std::span<const pipeline::EventTime> times,
                    std::span<std::optional<double>> upper,
                    std::span<std::optional<double>> lower) const = 0;
};

/// No model: every band is missing, so an anomaly alarm sees no threshold.
class NullBandProvider final : public BandProvider {
 public:
  void band(std::string_view metric_id, double k, std::span<const pipeline::EventTime> times,
            std::span<std::optional<double>> upper,
            std::span<std::optional<double>> lower) const override;
};

/// One evaluation's inputs.
struct MathInput {
  int period_seconds = 0;  ///< The alarm's period; > 0.
  /// Start of each of the R periods of the range, oldest first, strictly increasing.
  std::span<const pipeline::EventTime> times;
  /// One vector of R values per MetricStat entry, in `MetricMath::input_ids()` order (query
  /// order); nullopt where the period has no datapoint.
  std::span<const std::vector<std::optional<double>>> values;
};

/// One evaluation's outputs. Reuse one object across evaluations: the vectors keep their
/// capacity.
struct MathOutput {
  std::vector<std::optional<double>> values;  ///< The returned entry, R values, oldest first.
  /// The ThresholdMetricId band, R values each; empty when the alarm has none.
  std::vector<std::optional<double>> band_upper;
  std::vector<std::optional<double>> band_lower;
};

struct MetricMathCompileResult;

/// The compiled metric math of one alarm. Build it with `compile_metric_math`; evaluate it once
/// per evaluation. Copies share the compiled program and have their own buffers. Only the
/// entries the returned entry and the band need are evaluated.
class MetricMath {
 public:
  /// Ids of the MetricStat entries, in query order: the order of MathInput::values.
  [[nodiscard]] const std::vector<std::string>& input_ids() const;

  /// Id of the entry the alarm evaluates (ReturnData true, not the ThresholdMetricId entry).
  [[nodiscard]] const std::string& returned_id() const;

  /// The ThresholdMetricId; empty when the alarm has no band.
  [[nodiscard]] const std::string& band_id() const;

  /// Evaluates the range. On success `out.values` (and, with a band, `out.band_upper` and
  /// `out.band_lower`) hold R values. Fails with invalid_argument, and empty outputs, when the
  /// inputs do not fit: a period ≤ 0, times not strictly increasing, a values count other than
  /// input_ids().size(), or a values vector whose size is not R. No allocation once the buffers
  /// have grown to the range's size.
  pipeline::Status evaluate(const MathInput& input, const BandProvider& bands, MathOutput& out);

  struct Program;  ///< The compiled, immutable part (defined in metric_math.cc).

 private:
  friend MetricMathCompileResult compile_metric_math(
      const std::vector<pipeline::MetricDataQuery>& metrics, std::string_view threshold_metric_id);

  explicit MetricMath(std::shared_ptr<const Program> program);

  std::shared_ptr<const Program> program_;
  // Scratch, reused across evaluations.
  std::vector<double> rows_;     // Row-major: one row of R values per series slot.
  std::vector<double> scalars_;  // One value per scalar slot; NaN = no value.
  std::vector<std::optional<double>> band_upper_;
  std::vector<std::optional<double>> band_lower_;
};

/// Exactly one of `math` and `problems` is set (problems non-empty).
struct MetricMathCompileResult {
  std::optional<MetricMath> math;
  std::vector<MathProblem> problems;

  [[nodiscard]] bool ok() const { return math.has_value(); }
};

/// Checks (as analyze_alarm_metrics) and compiles the metric math of one alarm. Also requires
/// exactly one returned entry: ReturnData true and not the ThresholdMetricId entry (problem
/// pointer "/Metrics").
MetricMathCompileResult compile_metric_math(const std::vector<pipeline::MetricDataQuery>& metrics,
                                            std::string_view threshold_metric_id);

}  // namespace tw::detectors
