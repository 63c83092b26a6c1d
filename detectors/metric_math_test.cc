#include "detectors/metric_math.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tw::detectors {
namespace {

using pipeline::EventTime;
using pipeline::MetricDataQuery;
using Values = std::vector<std::optional<double>>;

constexpr std::nullopt_t kNo = std::nullopt;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// 2023-11-14T22:13:00Z, a Tuesday.
constexpr EventTime kStart = EventTime::from_seconds(1'700'000'000 - 1'700'000'000 % 60);

MetricDataQuery metric(std::string id, bool return_data = false) {
  MetricDataQuery q;
  q.id = std::move(id);
  pipeline::MetricStat stat;
  stat.namespace_name = "App";
  stat.metric_name = q.id;
  stat.period = 60;
  stat.stat = *pipeline::parse_statistic("Sum");
  q.metric_stat = std::move(stat);
  q.return_data = return_data;
  return q;
}

MetricDataQuery expr(std::string id, std::string expression, bool return_data = false) {
  MetricDataQuery q;
  q.id = std::move(id);
  q.expression = std::move(expression);
  q.return_data = return_data;
  return q;
}

std::vector<EventTime> times_from(EventTime start, size_t count, int period) {
  std::vector<EventTime> times;
  for (size_t i = 0; i < count; ++i) {
    times.push_back(start + pipeline::Duration::seconds(period * static_cast<int64_t>(i)));
  }
  return times;
}

std::string problems_text(const std::vector<MathProblem>& problems) {
  std::string text;
  for (const MathProblem& p : problems) {
    text += p.pointer + ": " + p.message + "\n";
  }
  return text;
}

// Evaluates `expression` (returned, id "e") over MetricStat entries `inputs` (not returned).
struct AlarmRun {
  Values values;
  Values upper;
  Values lower;
};

AlarmRun run_alarm(const std::vector<MetricDataQuery>& queries,
                   const std::vector<std::pair<std::string, Values>>& inputs, int period = 60,
                   const BandProvider& bands = NullBandProvider(),
                   std::string_view threshold_metric_id = "", EventTime start = kStart) {
  MetricMathCompileResult compiled = compile_metric_math(queries, threshold_metric_id);
  if (!compiled.ok()) {
    ADD_FAILURE() << problems_text(compiled.problems);
    return {};
  }
  MetricMath& math = *compiled.math;
  std::vector<Values> values;
  size_t r = 0;
  for (const std::string& id : math.input_ids()) {
    bool found = false;
    for (const auto& [name, series] : inputs) {
      if (name == id) {
        values.push_back(series);
        r = series.size();
        found = true;
      }
    }
    if (!found) {
      ADD_FAILURE() << "no input for " << id;
      return {};
    }
  }
  const std::vector<EventTime> times = times_from(start, r, period);
  MathInput input{period, times, values};
  MathOutput out;
  const pipeline::Status status = math.evaluate(input, bands, out);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  return {out.values, out.band_upper, out.band_lower};
}

Values eval(const std::string& expression,
            const std::vector<std::pair<std::string, Values>>& inputs, int period = 60,
            EventTime start = kStart) {
  std::vector<MetricDataQuery> queries;
  for (const auto& [id, series] : inputs) {
    queries.push_back(metric(id));
  }
  queries.push_back(expr("e", expression, true));
  return run_alarm(queries, inputs, period, NullBandProvider(), "", start).values;
}

void expect_near(const Values& actual, const Values& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].has_value(), expected[i].has_value()) << "index " << i;
    if (expected[i].has_value()) {
      EXPECT_NEAR(*actual[i], *expected[i], 1e-12) << "index " << i;
    }
  }
}

// A band model stand-in: upper = centre + k, lower = centre - k per period, with the centre given
// per period (nullopt: no band there). Records what it was asked.
class FixedBandProvider final : public BandProvider {
 public:
  explicit FixedBandProvider(Values centre) : centre_(std::move(centre)) {}

  void band(std::string_view metric_id, double k, std::span<const EventTime> times,
            std::span<std::optional<double>> upper,
            std::span<std::optional<double>> lower) const override {
    asked_id_ = std::string(metric_id);
    asked_k_ = k;
    asked_times_ = times.size();
    for (size_t i = 0; i < times.size() && i < centre_.size(); ++i) {
      if (centre_[i].has_value()) {
        upper[i] = *centre_[i] + k;
        lower[i] = *centre_[i] - k;
      }
    }
  }

  mutable std::string asked_id_;
  mutable double asked_k_ = 0;
  mutable size_t asked_times_ = 0;

 private:
  Values centre_;
};

// ---------------------------------------------------------------------------------------------
// Parser.

std::string parsed(std::string_view text) {
  const MathParseResult result = parse_math_expression(text);
  if (!result.ok()) {
    return "error: " + result.error->to_string();
  }
  return result.expression->to_string();
}

TEST(MathExpressionParse, MultiplicationBindsTighterThanAddition) {
  EXPECT_EQ(parsed("1 + 2 * m1"), "(+ 1 (* 2 m1))");
  EXPECT_EQ(parsed("m1 / 2 - 3"), "(- (/ m1 2) 3)");
}

TEST(MathExpressionParse, PowerBindsTighterThanUnaryMinus) {
  EXPECT_EQ(parsed("-2^2"), "(- (^ 2 2))");
  EXPECT_EQ(parsed("-m1 * 2"), "(* (- m1) 2)");
}

TEST(MathExpressionParse, PowerIsRightAssociativeAndTakesANegativeExponent) {
  EXPECT_EQ(parsed("2^3^2"), "(^ 2 (^ 3 2))");
  EXPECT_EQ(parsed("2^-1"), "(^ 2 (- 1))");
}

TEST(MathExpressionParse, BinaryOperatorsAreLeftAssociative) {
  EXPECT_EQ(parsed("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(parsed("a / b / c"), "(/ (/ a b) c)");
}

TEST(MathExpressionParse, ComparisonsBindLooserThanArithmetic) {
  EXPECT_EQ(parsed("a + 1 > b * 2"), "(> (+ a 1) (* b 2))");
  EXPECT_EQ(parsed("a == b != c"), "(!= (== a b) c)");
  EXPECT_EQ(parsed("a<=1"), "(<= a 1)");
  EXPECT_EQ(parsed("a>=1"), "(>= a 1)");
}

TEST(MathExpressionParse, AndBindsTighterThanOrAndLooserThanComparisons) {
  EXPECT_EQ(parsed("a OR b AND c"), "(OR a (AND b c))");
  EXPECT_EQ(parsed("a || b && c"), "(OR a (AND b c))");
  EXPECT_EQ(parsed("a > 1 AND b < 2"), "(AND (> a 1) (< b 2))");
}

TEST(MathExpressionParse, ParenthesesOverridePrecedence) {
  EXPECT_EQ(parsed("(1 + 2) * 3"), "(* (+ 1 2) 3)");
  EXPECT_EQ(parsed("((m1))"), "m1");
}

TEST(MathExpressionParse, NumbersAcceptFractionsAndExponents) {
  EXPECT_EQ(parsed("1e-3 + .5 + 2.5E2 + 7."), "(+ (+ (+ 0.001 0.5) 250) 7)");
}

TEST(MathExpressionParse, CallsArraysStringsAndKeywords) {
  EXPECT_EQ(parsed("SUM([m1, m2 * 2])"), "SUM([m1, (* m2 2)])");
  EXPECT_EQ(parsed("FILL(m1, REPEAT)"), "FILL(m1, REPEAT)");
  EXPECT_EQ(parsed("METRICS()"), "METRICS()");
  EXPECT_EQ(parsed("METRICS(\"err\")"), "METRICS(\"err\")");
  EXPECT_EQ(parsed("IF(m1 > 1, m2, 0)"), "IF((> m1 1), m2, 0)");
  EXPECT_EQ(parsed("ANOMALY_DETECTION_BAND(m1, 2.5)"), "ANOMALY_DETECTION_BAND(m1, 2.5)");
  EXPECT_EQ(parsed("METRICS(\"a\\\"b\")"), "METRICS(\"a\"b\")");
}

TEST(MathExpressionParse, SearchParsesToACallNode) {
  const MathParseResult result = parse_math_expression(
      "SEARCH('{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\"', 'Average', 300)");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  EXPECT_EQ(result.expression->root().type, MathNode::Type::kCall);
  EXPECT_EQ(result.expression->root().function, MathFunction::kSearch);
  EXPECT_EQ(result.expression->root().args.size(), 3U);
}

TEST(MathExpressionParse, NodesArePostOrderWithTheRootLast) {
  const MathParseResult result = parse_math_expression("IF(m1 > 2 * m2, -m3, [m1, m2])");
  ASSERT_TRUE(result.ok());
  const std::vector<MathNode>& nodes = result.expression->nodes;
  for (uint32_t n = 0; n < nodes.size(); ++n) {
    for (const uint32_t arg : nodes[n].args) {
      EXPECT_LT(arg, n);
    }
  }
  EXPECT_EQ(result.expression->root().function, MathFunction::kIf);
}

TEST(MathExpressionParse, NodesRecordTheirOffsets) {
  const MathParseResult result = parse_math_expression("m1 +  m2");
  ASSERT_TRUE(result.ok());
  const MathExpression& e = *result.expression;
  EXPECT_EQ(e.root().type, MathNode::Type::kBinary);
  EXPECT_EQ(e.root().offset, 0U);
  EXPECT_EQ(e.root().operator_offset, 3U);
  EXPECT_EQ(e.nodes[e.root().args[1]].offset, 6U);
}

struct ParseErrorCase {
  std::string text;
  uint32_t offset;
  std::string message;
};

TEST(MathExpressionParse, ErrorsGiveThePositionAndWhatIsWrong) {
  const std::vector<ParseErrorCase> cases = {
      {"", 0, "the expression is empty"},
      {"   ", 0, "the expression is empty"},
      {"m1 +", 4, "unexpected end of the expression: expected a value"},
      {"(m1 + 1", 7, "expected ')' to close the '(' at column 1, found end of the expression"},
      {"m1 + )", 5, "expected a value, found ')'"},
      {"FOO(m1)", 0, "unknown function FOO"},
      {"SORT(m1)", 0,
       "SORT is a CloudWatch metric-math function that trailwatch does not evaluate"},
      {"IF(m1)", 0, "IF takes 2 or 3 arguments, got 1"},
      {"RATE(m1, m2)", 0, "RATE takes 1 argument, got 2"},
      {"FILL(m1)", 0, "FILL takes 2 arguments, got 1"},
      {"METRICS(\"a\", \"b\")", 0, "METRICS takes 0 or 1 arguments, got 2"},
      {"ANOMALY_DETECTION_BAND()", 0, "ANOMALY_DETECTION_BAND takes 1 or 2 arguments, got 0"},
      {"2 * fill(m1, 0)", 4, "function names are upper case: FILL, not fill"},
      {"foo(m1)", 0,
       "\"foo\" is not a function: function names are upper case, and an Id cannot "
       "be followed by '('"},
      {"Errors + 1", 0,
       "\"Errors\" is neither an Id (Ids start with a lower-case letter) nor a "
       "function call (a function name is followed by '(')"},
      {"m1 = 1", 3, "'=' is not an operator; compare with '=='"},
      {"!m1", 0, "'!' is not an operator; use '!=' or '== 0'"},
      {"m1 & m2", 3, "'&' is not an operator; use '&&' or AND"},
      {"m1 | m2", 3, "'|' is not an operator; use '||' or OR"},
      {"m1 # 2", 3, "unexpected character '#'"},
      {"m1 + \x01", 5, "unexpected character byte 0x01"},
      {"_m1", 0, "unexpected character '_'"},
      {"METRICS(\"abc)", 8, "unterminated string: no closing '\"'"},
      {"1e+", 0, "malformed number \"1e+\": the exponent needs digits"},
      {"5m", 1, "unexpected 'm' after the number 5"},
      {"1.2.3", 3, "unexpected '.' after the number 1.2"},
      {"1e999", 0, "number 1e999 is out of range"},
      {"m1 m2", 3, "unexpected 'm2' after the end of the expression"},
      {"m1)", 2, "unexpected ')' after the end of the expression"},
      {"[]", 0, "an array needs at least one element"},
      {"[m1, m2", 7,
       "expected ',' or ']' in the array opened at column 1, found end of the "
       "expression"},
      {"SUM(m1 m2)", 7, "expected ',' or ')' in the arguments of SUM (column 1), found 'm2'"},
      {"m1 AND", 6, "unexpected end of the expression: expected a value"},
      {"AND m1", 0, "expected a value before AND"},
      {"+m1", 0, "expected a value, found '+'"},
      {"SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")", 0,
       "Metrics Insights queries (SELECT ...) are not supported"},
  };
  for (const ParseErrorCase& c : cases) {
    const MathParseResult result = parse_math_expression(c.text);
    ASSERT_FALSE(result.ok()) << c.text << " parsed as " << result.expression->to_string();
    EXPECT_EQ(result.error->offset, c.offset) << c.text;
    EXPECT_EQ(result.error->message, c.message) << c.text;
  }
}

TEST(MathExpressionParse, NestingDeeperThanTheLimitIsAnError) {
  const std::string ok = std::string(50, '(') + "m1" + std::string(50, ')');
  EXPECT_TRUE(parse_math_expression(ok).ok());
  const std::string deep = std::string(200, '(') + "m1" + std::string(200, ')');
  const MathParseResult result = parse_math_expression(deep);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->message, "the expression is nested too deeply (more than 100 levels)");
  EXPECT_FALSE(parse_math_expression(std::string(500, '-') + "1").ok());
}

TEST(MathExpressionParse, ErrorTextGivesAOneBasedColumn) {
  EXPECT_EQ((MathError{4, "unexpected end"}).to_string(), "column 5: unexpected end");
}

TEST(MathExpressionParse, FunctionAndOperatorNamesRoundTrip) {
  for (int f = 0; f <= static_cast<int>(MathFunction::kSearch); ++f) {
    const auto function = static_cast<MathFunction>(f);
    EXPECT_EQ(parse_math_function(to_string(function)), function) << to_string(function);
  }
  EXPECT_EQ(parse_math_function("fill"), std::nullopt);
  EXPECT_EQ(to_string(MathOperator::kGreaterOrEqual), ">=");
  EXPECT_EQ(to_string(MathOperator::kAnd), "AND");
  EXPECT_EQ(to_string(MathKind::kScalar), "S");
  EXPECT_EQ(to_string(MathKind::kSeries), "TS");
  EXPECT_EQ(to_string(MathKind::kArray), "TS[]");
}

// ---------------------------------------------------------------------------------------------
// Analysis.

struct KindCase {
  std::string expression;
  MathKind kind;
  size_t series_count;
};

TEST(MetricMathAnalysis, EveryExpressionHasAKind) {
  const std::vector<KindCase> cases = {
      {"m1", MathKind::kSeries, 1},
      {"5", MathKind::kScalar, 0},
      {"-5 * 2", MathKind::kScalar, 0},
      {"m1 * 2", MathKind::kSeries, 1},
      {"m1 + m2", MathKind::kSeries, 1},
      {"m1 > 2 AND m2 < 1", MathKind::kSeries, 1},
      {"METRICS()", MathKind::kArray, 3},
      {"METRICS(\"1\")", MathKind::kArray, 1},
      {"METRICS(\"zz\")", MathKind::kArray, 0},
      {"METRICS() * 2", MathKind::kArray, 3},
      {"m1 - METRICS()", MathKind::kArray, 3},
      {"-METRICS()", MathKind::kArray, 3},
      {"SUM(METRICS())", MathKind::kSeries, 1},
      {"SUM(m1)", MathKind::kScalar, 0},
      {"m1 - AVG(m1)", MathKind::kSeries, 1},
      {"STDDEV([m1, m2])", MathKind::kSeries, 1},
      {"[m1, m2]", MathKind::kArray, 2},
      {"[m1, METRICS()]", MathKind::kArray, 4},
      {"FIRST(METRICS())", MathKind::kSeries, 1},
      {"LAST([m1, m2])", MathKind::kSeries, 1},
      {"IF(m1 > 1, m2)", MathKind::kSeries, 1},
      {"IF(1, 2, 3)", MathKind::kScalar, 0},
      {"IF(1, m1, 3)", MathKind::kSeries, 1},
      {"FILL(m1, 0)", MathKind::kSeries, 1},
      {"FILL(METRICS(), LINEAR)", MathKind::kArray, 3},
      {"FILL(m1, m2)", MathKind::kSeries, 1},
      {"RATE(m1)", MathKind::kSeries, 1},
      {"DIFF(METRICS())", MathKind::kArray, 3},
      {"DIFF_TIME(m1)", MathKind::kSeries, 1},
      {"ABS(-3)", MathKind::kScalar, 0},
      {"LOG10(METRICS())", MathKind::kArray, 3},
      {"TIME_SERIES(5)", MathKind::kSeries, 1},
      {"PERIOD(m1)", MathKind::kSeries, 1},
      {"DAY(m1)", MathKind::kSeries, 1},
      {"EPOCH(METRICS())", MathKind::kArray, 3},
  };
  for (const KindCase& c : cases) {
    const std::vector<MetricDataQuery> queries = {metric("m1"), metric("m2"), metric("m3"),
                                                  expr("e", c.expression)};
    const MathAnalysis analysis = analyze_alarm_metrics(queries, "");
    EXPECT_TRUE(analysis.problems.empty()) << c.expression << "\n"
                                           << problems_text(analysis.problems);
    const MathEntryInfo& e = analysis.entries[3];
    EXPECT_TRUE(e.valid) << c.expression;
    EXPECT_TRUE(e.expression);
    EXPECT_EQ(e.kind, c.kind) << c.expression;
    EXPECT_EQ(e.series_count, c.series_count) << c.expression;
  }
}

TEST(MetricMathAnalysis, ExpressionsReferenceOtherExpressions) {
  const std::vector<MetricDataQuery> queries = {
      metric("m1"), metric("m2"), expr("e", "m1 + f * 2 + m1", true), expr("f", "METRICS()")};
  const MathAnalysis analysis = analyze_alarm_metrics(queries, "");
  // e combines a series with f's array: an array of 2, which the returned entry may not be.
  ASSERT_EQ(analysis.problems.size(), 1U) << problems_text(analysis.problems);
  EXPECT_EQ(analysis.problems[0].message,
            "the expression must return a single time series; it returns an array of 2 time "
            "series");
  EXPECT_EQ(analysis.entries[2].references, (std::vector<std::string>{"m1", "f"}));
  EXPECT_EQ(analysis.entries[2].kind, MathKind::kArray);
  EXPECT_EQ(analysis.entries[2].series_count, 2U);
  EXPECT_FALSE(analysis.entries[0].expression);
  EXPECT_TRUE(analysis.entries[0].valid);
  EXPECT_EQ(analysis.entries[0].kind, MathKind::kSeries);
}

struct TypeErrorCase {
  std::string expression;
  std::string message;  // Including the column.
};

TEST(MetricMathAnalysis, ArgumentsOfTheWrongKindAreProblems) {
  const std::vector<TypeErrorCase> cases = {
      {"METRICS() + METRICS()",
       "column 11: '+' cannot combine two arrays of time series (an array of 3 time series and "
       "an array of 3 time series)"},
      {"FILL(m1, \"x\")",
       "column 10: FILL needs a number, a time series, REPEAT or LINEAR as argument 2, not a "
       "string"},
      {"FILL(5, 0)",
       "column 6: FILL needs a time series or an array of time series as argument 1, not a "
       "scalar"},
      {"m1 + REPEAT", "column 4: '+' needs numbers or time series on both sides, not REPEAT"},
      {"-\"x\"", "column 1: '-' needs a number, a time series or an array, not a string"},
      {"TIME_SERIES(m1)", "column 13: TIME_SERIES needs a number as argument 1, not a time series"},
      {"FIRST(m1)",
       "column 7: FIRST needs an array of time series as argument 1, not a time series"},
      {"LAST(METRICS(\"zz\"))", "column 1: LAST of an empty array (no time series)"},
      {"IF(METRICS(), 1)",
       "column 4: IF needs a number or a time series as argument 1, not an array of 3 time "
       "series"},
      {"SUM(5)",
       "column 5: SUM needs a time series or an array of time series as argument 1, not a "
       "scalar"},
      {"RATE(2)",
       "column 6: RATE needs a time series or an array of time series as argument 1, not a "
       "scalar"},
      {"ABS(LINEAR)",
       "column 5: ABS needs a number, a time series or an array of time series as argument 1, "
       "not LINEAR"},
      {"METRICS(m1)", "column 9: METRICS needs a string literal as argument 1, not a time series"},
      {"\"abc\"",
       "column 1: an expression must yield a number, a time series or an array of time series, "
       "not a string"},
      {"[m1, 5]", "column 6: array elements must be time series; element 2 is a scalar"},
      {"m1 + zz", "column 6: unknown Id \"zz\"; the Ids in Metrics are m1, m2, m3, e"},
  };
  for (const TypeErrorCase& c : cases) {
    const std::vector<MetricDataQuery> queries = {metric("m1"), metric("m2"), metric("m3"),
                                                  expr("e", c.expression)};
    const std::vector<MathProblem> problems = check_alarm_metrics(queries, "");
    ASSERT_EQ(problems.size(), 1U) << c.expression << "\n" << problems_text(problems);
    EXPECT_EQ(problems[0].pointer, "/Metrics/3/Expression") << c.expression;
    EXPECT_EQ(problems[0].message, c.message) << c.expression;
  }
}

TEST(MetricMathCheck, ErrorRateExampleHasNoProblems) {
  const std::vector<MetricDataQuery> queries = {metric("errors"), metric("requests"),
                                                expr("rate", "100 * errors / requests", true)};
  EXPECT_EQ(problems_text(check_alarm_metrics(queries, "")), "");
}

TEST(MetricMathCheck, UnknownIdsAreReportedInOrderWithTheirColumns) {
  const std::vector<MetricDataQuery> queries = {metric("errors"),
                                                expr("rate", "100 * erors / requests", true)};
  const std::vector<MathProblem> expected = {
      {"/Metrics/1/Expression",
       "column 7: unknown Id \"erors\"; the Ids in Metrics are errors, rate"},
      {"/Metrics/1/Expression",
       "column 15: unknown Id \"requests\"; the Ids in Metrics are errors, rate"},
  };
  EXPECT_EQ(check_alarm_metrics(queries, ""), expected);
}

TEST(MetricMathCheck, SyntaxErrorsPointAtTheExpression) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), expr("e", "m1 +", true)};
  const std::vector<MathProblem> expected = {
      {"/Metrics/1/Expression", "column 5: unexpected end of the expression: expected a value"}};
  EXPECT_EQ(check_alarm_metrics(queries, ""), expected);
}

TEST(MetricMathCheck, UnknownFunctionIsAProblem) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), expr("e", "m1 + MEDIAN(m1)", true)};
  const std::vector<MathProblem> expected = {
      {"/Metrics/1/Expression", "column 6: unknown function MEDIAN"}};
  EXPECT_EQ(check_alarm_metrics(queries, ""), expected);
}

TEST(MetricMathCheck, ReferenceCyclesAreProblems) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true), expr("a", "b + 1"),
                                                expr("b", "m1 * a")};
  const std::vector<MathProblem> expected = {
      {"/Metrics/2/Expression",
       "column 6: reference cycle a -> b -> a: an expression cannot depend on itself"}};
  EXPECT_EQ(check_alarm_metrics(queries, ""), expected);
}

TEST(MetricMathCheck, SelfReferenceIsAProblem) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), expr("a", "m1 + a", true)};
  const std::vector<MathProblem> expected = {
      {"/Metrics/1/Expression", "column 6: the expression refers to its own Id \"a\""}};
  EXPECT_EQ(check_alarm_metrics(queries, ""), expected);
}

TEST(MetricMathCheck, SearchCannotBeUsedInAlarms) {
  const std::vector<MetricDataQuery> queries = {
      metric("m1"),
      expr("e", "SUM(SEARCH('{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\"', 'Average'))",
           true)};
  const std::vector<MathProblem> expected = {
      {"/Metrics/1/Expression", "column 5: SEARCH expressions cannot be used in alarms"}};
  EXPECT_EQ(check_alarm_metrics(queries, ""), expected);
}

TEST(MetricMathCheck, ReturnedExpressionMustBeOneTimeSeries) {
  const std::vector<MetricDataQuery> scalar = {metric("m1"), expr("e", "AVG(m1)", true)};
  EXPECT_EQ(check_alarm_metrics(scalar, ""),
            (std::vector<MathProblem>{
                {"/Metrics/1/Expression",
                 "the expression must return a single time series; it returns a scalar"}}));
  const std::vector<MetricDataQuery> array = {metric("m1"), metric("m2"),
                                              expr("e", "METRICS()", true)};
  EXPECT_EQ(check_alarm_metrics(array, ""),
            (std::vector<MathProblem>{{"/Metrics/2/Expression",
                                       "the expression must return a single time series; it "
                                       "returns an array of 2 time series"}}));
  // Not returned: any kind is fine.
  const std::vector<MetricDataQuery> helper = {metric("m1", true), expr("e", "AVG(m1)")};
  EXPECT_TRUE(check_alarm_metrics(helper, "").empty());
}

TEST(MetricMathCheck, ReturnedArrayOfOneSeriesIsAccepted) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), metric("m2"),
                                                expr("e", "METRICS(\"1\")", true)};
  EXPECT_TRUE(check_alarm_metrics(queries, "").empty());
}

TEST(MetricMathCheck, ProblemsOfReferencedEntriesAreReportedOnce) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), expr("e1", "m1 +"),
                                                expr("e2", "e1 * 2 + FIRST(e1)", true)};
  const std::vector<MathProblem> expected = {
      {"/Metrics/1/Expression", "column 5: unexpected end of the expression: expected a value"}};
  EXPECT_EQ(check_alarm_metrics(queries, ""), expected);
}

TEST(MetricMathCheck, ProblemsFollowQueryOrder) {
  // e0 is analysed first and visits e1 before reporting its own unknown Id.
  const std::vector<MetricDataQuery> queries = {expr("e0", "e1 + x", true), expr("e1", "zz")};
  const std::vector<MathProblem> problems = check_alarm_metrics(queries, "");
  ASSERT_EQ(problems.size(), 2U);
  EXPECT_EQ(problems[0].pointer, "/Metrics/0/Expression");
  EXPECT_EQ(problems[0].message, "column 6: unknown Id \"x\"; the Ids in Metrics are e0, e1");
  EXPECT_EQ(problems[1].pointer, "/Metrics/1/Expression");
}

TEST(MetricMathCheck, EntriesThatValidationRejectedAreSkipped) {
  MetricDataQuery no_id = expr("", "m1 * 2");
  MetricDataQuery rejected = expr("s", "");  // An Expression validation refused (e.g. SEARCH).
  const std::vector<MetricDataQuery> queries = {metric("m1", true), no_id, rejected,
                                                expr("e", "s + 1")};
  EXPECT_TRUE(check_alarm_metrics(queries, "").empty());
  const MathAnalysis analysis = analyze_alarm_metrics(queries, "");
  EXPECT_FALSE(analysis.entries[3].valid);
}

TEST(MetricMathCheck, ValidAnomalyDetectionAlarmHasNoProblems) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(m1, 2)", true)};
  EXPECT_EQ(problems_text(check_alarm_metrics(queries, "ad1")), "");
  const MathAnalysis analysis = analyze_alarm_metrics(queries, "ad1");
  EXPECT_EQ(analysis.entries[1].kind, MathKind::kArray);
  EXPECT_EQ(analysis.entries[1].series_count, 2U);
}

TEST(MetricMathCheck, BandOutsideAnAnomalyAlarmIsAProblem) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(m1)")};
  const std::vector<MathProblem> expected = {
      {"/Metrics/1/Expression",
       "column 1: ANOMALY_DETECTION_BAND can only be used in an anomaly-detection alarm, as the "
       "expression of the entry that ThresholdMetricId names"}};
  EXPECT_EQ(check_alarm_metrics(queries, ""), expected);
}

TEST(MetricMathCheck, BandInAnotherEntryIsAProblem) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(m1)"),
                                                expr("x", "FIRST(ANOMALY_DETECTION_BAND(m1, 3))")};
  const std::vector<MathProblem> expected = {
      {"/Metrics/2/Expression",
       "column 7: ANOMALY_DETECTION_BAND can only be used as the expression of the entry that "
       "ThresholdMetricId names (\"ad1\")"}};
  EXPECT_EQ(check_alarm_metrics(queries, "ad1"), expected);
}

TEST(MetricMathCheck, BandMustBeTheWholeThresholdExpression) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(m1) * 2")};
  const std::vector<MathProblem> expected = {
      {"/Metrics/1/Expression",
       "column 1: the ThresholdMetricId entry must be one ANOMALY_DETECTION_BAND(...) call, not "
       "part of a larger expression"}};
  EXPECT_EQ(check_alarm_metrics(queries, "ad1"), expected);
}

TEST(MetricMathCheck, ThresholdEntryWithoutBandIsAProblem) {
  const std::vector<MathProblem> expected = {
      {"/ThresholdMetricId",
       "Threshold metric expression must use ANOMALY_DETECTION_BAND function"}};
  const std::vector<MetricDataQuery> expression = {metric("m1", true), expr("ad1", "m1 * 2")};
  EXPECT_EQ(check_alarm_metrics(expression, "ad1"), expected);
  const std::vector<MetricDataQuery> metric_stat = {metric("m1", true), metric("ad1")};
  EXPECT_EQ(check_alarm_metrics(metric_stat, "ad1"), expected);
}

TEST(MetricMathCheck, ThresholdMetricIdMustNameAnEntry) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(m1)")};
  const std::vector<MathProblem> problems = check_alarm_metrics(queries, "ad9");
  ASSERT_EQ(problems.size(), 2U) << problems_text(problems);
  EXPECT_EQ(problems[1],
            (MathProblem{"/ThresholdMetricId",
                         "\"ad9\" is not the Id of an entry of Metrics (Ids: m1, ad1)"}));
}

TEST(MetricMathCheck, OtherExpressionsCannotUseTheBandEntry) {
  const std::vector<MetricDataQuery> queries = {
      metric("m1", true), expr("ad1", "ANOMALY_DETECTION_BAND(m1)"), expr("up", "FIRST(ad1)")};
  const std::vector<MathProblem> expected = {
      {"/Metrics/2/Expression",
       "column 7: \"ad1\" is the anomaly-detection band that ThresholdMetricId names; other "
       "expressions cannot use it"}};
  EXPECT_EQ(check_alarm_metrics(queries, "ad1"), expected);
}

TEST(MetricMathCheck, BandArgumentsAreChecked) {
  const std::vector<MetricDataQuery> not_an_id = {metric("m1", true),
                                                  expr("ad1", "ANOMALY_DETECTION_BAND(m1 * 2)")};
  EXPECT_EQ(check_alarm_metrics(not_an_id, "ad1"),
            (std::vector<MathProblem>{
                {"/Metrics/1/Expression",
                 "column 24: ANOMALY_DETECTION_BAND needs the Id of a metric or of an expression "
                 "that returns one time series as argument 1, not a time series"}}));
  const std::vector<MetricDataQuery> zero_k = {metric("m1", true),
                                               expr("ad1", "ANOMALY_DETECTION_BAND(m1, 0)")};
  EXPECT_EQ(check_alarm_metrics(zero_k, "ad1"),
            (std::vector<MathProblem>{
                {"/Metrics/1/Expression",
                 "column 28: ANOMALY_DETECTION_BAND needs a positive number of standard "
                 "deviations as argument 2, such as 2 or 2.5"}}));
  const std::vector<MetricDataQuery> on_expression = {
      metric("m1"), expr("e1", "m1 * 2", true), expr("ad1", "ANOMALY_DETECTION_BAND(e1, 1.5)")};
  EXPECT_TRUE(check_alarm_metrics(on_expression, "ad1").empty());
}

TEST(MetricMathCompile, RequiresExactlyOneReturnedEntry) {
  const std::vector<MetricDataQuery> two = {metric("m1", true), metric("m2", true)};
  const MetricMathCompileResult compiled = compile_metric_math(two, "");
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.problems,
            (std::vector<MathProblem>{
                {"/Metrics", "exactly one entry must have ReturnData true; 2 do"}}));
  const std::vector<MetricDataQuery> band_only = {metric("m1", false),
                                                  expr("ad1", "ANOMALY_DETECTION_BAND(m1)", true)};
  EXPECT_EQ(compile_metric_math(band_only, "ad1").problems,
            (std::vector<MathProblem>{
                {"/Metrics",
                 "exactly one entry besides the ThresholdMetricId entry must have ReturnData "
                 "true; 0 do"}}));
}

TEST(MetricMathCompile, FailsWithTheCheckProblems) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), expr("e", "m1 + zz", true)};
  const MetricMathCompileResult compiled = compile_metric_math(queries, "");
  EXPECT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.problems, check_alarm_metrics(queries, ""));
}

TEST(MetricMathCompile, ExposesInputReturnedAndBandIds) {
  const std::vector<MetricDataQuery> queries = {metric("a"), expr("e", "a + b", true), metric("b"),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(e)")};
  const MetricMathCompileResult compiled = compile_metric_math(queries, "ad1");
  ASSERT_TRUE(compiled.ok()) << problems_text(compiled.problems);
  EXPECT_EQ(compiled.math->input_ids(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(compiled.math->returned_id(), "e");
  EXPECT_EQ(compiled.math->band_id(), "ad1");
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the reference oracles (§10.6).

struct OracleCase {
  std::string expression;
  Values expected;
};

TEST(MetricMathOracle, ComparisonsCountAMissingPointAsZero) {
  const std::vector<std::pair<std::string, Values>> inputs = {
      {"metric1", {30, 20, 0, 0}},
      {"metric2", {20, kNo, 20, kNo}},
  };
  const std::vector<OracleCase> cases = {
      {"metric1 < metric2", {0, 0, 1, 0}},
      {"metric1 >= 30", {1, 0, 0, 0}},
      {"metric1 > 15 AND metric2 > 15", {1, 0, 0, 0}},
  };
  for (const OracleCase& c : cases) {
    EXPECT_EQ(eval(c.expression, inputs), c.expected) << c.expression;
  }
}

TEST(MetricMathOracle, IfTables) {
  const std::vector<std::pair<std::string, Values>> inputs = {
      {"m1", {1, 1, 0, 0, kNo}},
      {"m2", {30, kNo, 0, 0, 30}},
      {"m3", {0, 0, 20, kNo, 20}},
  };
  const std::vector<OracleCase> cases = {
      {"IF(m1, m2, m3)", {30, 0, 20, kNo, kNo}},
      {"IF(m1, 5, m3)", {5, 5, 20, kNo, kNo}},
      {"IF(m1, m2, 5)", {30, 0, 5, 5, kNo}},
  };
  for (const OracleCase& c : cases) {
    EXPECT_EQ(eval(c.expression, inputs), c.expected) << c.expression;
  }
}

TEST(MetricMathEval, ErrorRateExample) {
  const std::vector<MetricDataQuery> queries = {metric("errors", false), metric("requests", false),
                                                expr("rate", "100 * errors / requests", true)};
  const AlarmRun run = run_alarm(
      queries, {{"errors", {1, 0, kNo, 5, 3, kNo}}, {"requests", {100, 0, 50, 200, kNo, kNo}}});
  // 0/0 and 300/(missing = 0) divide by zero; a missing error count against requests is 0.
  EXPECT_EQ(run.values, (Values{1, kNo, 0, 2.5, kNo, kNo}));
  EXPECT_TRUE(run.upper.empty());
  EXPECT_TRUE(run.lower.empty());
}

// ---------------------------------------------------------------------------------------------
// Evaluation: operators.

const std::vector<std::pair<std::string, Values>> kGappy = {
    {"m1", {1, kNo, 3, kNo}},
    {"m2", {10, 20, kNo, kNo}},
};

TEST(MetricMathEval, ArithmeticBetweenSeriesCountsAMissingPointAsZero) {
  const std::vector<OracleCase> cases = {
      {"m1 + m2", {11, 20, 3, kNo}},  {"m1 - m2", {-9, -20, 3, kNo}}, {"m1 * m2", {10, 0, 0, kNo}},
      {"m2 / m1", {10, kNo, 0, kNo}}, {"m1 ^ m2", {1, 0, 1, kNo}},
  };
  for (const OracleCase& c : cases) {
    EXPECT_EQ(eval(c.expression, kGappy), c.expected) << c.expression;
  }
}

TEST(MetricMathEval, ArithmeticWithAScalarKeepsTheSeriesGaps) {
  const std::vector<OracleCase> cases = {
      {"m1 + 1", {2, kNo, 4, kNo}},         {"10 - m1", {9, kNo, 7, kNo}},
      {"m1 * 2 / 4", {0.5, kNo, 1.5, kNo}}, {"2 ^ m1", {2, kNo, 8, kNo}},
      {"m1 > 2", {0, kNo, 1, kNo}},
  };
  for (const OracleCase& c : cases) {
    EXPECT_EQ(eval(c.expression, kGappy), c.expected) << c.expression;
  }
}

TEST(MetricMathEval, DivisionByZeroDropsThePoint) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"a", {1, 0, -1, 4}},
                                                              {"b", {0, 0, 0, 2}}};
  EXPECT_EQ(eval("a / b", inputs), (Values{kNo, kNo, kNo, 2}));
  EXPECT_EQ(eval("a / 0", inputs), (Values{kNo, kNo, kNo, kNo}));
  EXPECT_EQ(eval("a + 1 / 0", inputs), (Values{kNo, kNo, kNo, kNo}));
  EXPECT_EQ(eval("b ^ -1", inputs), (Values{kNo, kNo, kNo, 0.5}));
}

TEST(MetricMathEval, NonFiniteResultsAreDropped) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"a", {-8, 16, 1e300}}};
  EXPECT_EQ(eval("a ^ 0.5", inputs).at(0), kNo);  // NaN.
  EXPECT_EQ(eval("a ^ 0.5", inputs).at(1), 4);
  EXPECT_EQ(eval("a * 1e300", inputs), (Values{-8e300, 16e300, kNo}));  // Overflow to inf.
}

TEST(MetricMathEval, UnaryMinusAndPowerPrecedence) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {2, kNo, -3}}};
  EXPECT_EQ(eval("-m1^2", inputs), (Values{-4, kNo, -9}));
  EXPECT_EQ(eval("(-m1)^2", inputs), (Values{4, kNo, 9}));
  EXPECT_EQ(eval("-m1 + 2^3^2", inputs), (Values{510, kNo, 515}));
}

TEST(MetricMathEval, ComparisonOperators) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"a", {1, 2, 3, kNo}},
                                                              {"b", {2, 2, 2, kNo}}};
  const std::vector<OracleCase> cases = {
      {"a == b", {0, 1, 0, kNo}}, {"a != b", {1, 0, 1, kNo}}, {"a < b", {1, 0, 0, kNo}},
      {"a <= b", {1, 1, 0, kNo}}, {"a > b", {0, 0, 1, kNo}},  {"a >= b", {0, 1, 1, kNo}},
  };
  for (const OracleCase& c : cases) {
    EXPECT_EQ(eval(c.expression, inputs), c.expected) << c.expression;
  }
}

TEST(MetricMathEval, LogicalOperatorsTreatNonZeroAsTrue) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"a", {0, 0, 5, -1, kNo, kNo}},
                                                              {"b", {0, 2, 0, 3, 1, kNo}}};
  EXPECT_EQ(eval("a AND b", inputs), (Values{0, 0, 0, 1, 0, kNo}));
  EXPECT_EQ(eval("a && b", inputs), (Values{0, 0, 0, 1, 0, kNo}));
  EXPECT_EQ(eval("a OR b", inputs), (Values{0, 1, 1, 1, 1, kNo}));
  EXPECT_EQ(eval("a || b", inputs), (Values{0, 1, 1, 1, 1, kNo}));
}

TEST(MetricMathEval, ScalarExpressionsCombineWithSeries) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {1, 2, 3, kNo}}};
  EXPECT_EQ(eval("m1 - AVG(m1)", inputs), (Values{-1, 0, 1, kNo}));
  EXPECT_EQ(eval("m1 + (2 * 3 - 1)", inputs), (Values{6, 7, 8, kNo}));
  // A scalar with no value (the average of nothing) drops every point.
  const std::vector<std::pair<std::string, Values>> empty = {{"m1", {kNo, kNo}}, {"m2", {1, 2}}};
  EXPECT_EQ(eval("m2 + AVG(m1)", empty), (Values{kNo, kNo}));
}

TEST(MetricMathEval, ArraysCombineMemberByMember) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {1, 2}}, {"m2", {10, kNo}}};
  EXPECT_EQ(eval("FIRST(METRICS() * 2)", inputs), (Values{2, 4}));
  EXPECT_EQ(eval("LAST(METRICS() * 2)", inputs), (Values{20, kNo}));
  EXPECT_EQ(eval("LAST(m1 + METRICS())", inputs), (Values{11, 2}));
  EXPECT_EQ(eval("LAST([m2, m1, m2])", inputs), (Values{10, kNo}));
  EXPECT_EQ(eval("FIRST(-[m2, m1])", inputs), (Values{-10, kNo}));
}

// ---------------------------------------------------------------------------------------------
// Evaluation: functions.

TEST(MetricMathEval, IfWithAScalarConditionChoosesAWholeSeries) {
  EXPECT_EQ(eval("IF(1, m1, m2)", kGappy), (Values{1, kNo, 3, kNo}));
  EXPECT_EQ(eval("IF(0, m1, m2)", kGappy), (Values{10, 20, kNo, kNo}));
  EXPECT_EQ(eval("IF(0, m1)", kGappy), (Values{kNo, kNo, kNo, kNo}));
  EXPECT_EQ(eval("IF(2 > 1, 5, m1)", kGappy), (Values{5, 5, 5, 5}));
  EXPECT_EQ(eval("IF(AVG(m1) > 100, m2, 7)", kGappy), (Values{7, 7, 7, 7}));
}

TEST(MetricMathEval, IfOfScalarsIsAScalar) {
  EXPECT_EQ(eval("TIME_SERIES(IF(0, 1, 2))", kGappy), (Values{2, 2, 2, 2}));
  EXPECT_EQ(eval("TIME_SERIES(IF(0, 1))", kGappy), (Values{kNo, kNo, kNo, kNo}));
}

TEST(MetricMathEval, IfWithASeriesConditionAndNoElseDropsFalsePoints) {
  EXPECT_EQ(eval("IF(m1 > 2, m1)", kGappy), (Values{kNo, kNo, 3, kNo}));
  EXPECT_EQ(eval("IF(m2, 1, 0)", kGappy), (Values{1, 1, kNo, kNo}));
}

TEST(MetricMathEval, FillWithAConstant) {
  EXPECT_EQ(eval("FILL(m1, 0)", kGappy), (Values{1, 0, 3, 0}));
  EXPECT_EQ(eval("FILL(m1, -2.5)", kGappy), (Values{1, -2.5, 3, -2.5}));
}

TEST(MetricMathEval, FillWithAnotherSeries) {
  EXPECT_EQ(eval("FILL(m1, m2)", kGappy), (Values{1, 20, 3, kNo}));
}

TEST(MetricMathEval, FillRepeatUsesTheLastRealValueAndLeavesLeadingGaps) {
  const std::vector<std::pair<std::string, Values>> inputs = {
      {"m1", {kNo, kNo, 4, kNo, kNo, 7, kNo}}};
  EXPECT_EQ(eval("FILL(m1, REPEAT)", inputs), (Values{kNo, kNo, 4, 4, 4, 7, 7}));
}

TEST(MetricMathEval, FillLinearInterpolatesBetweenRealNeighbours) {
  const std::vector<std::pair<std::string, Values>> inputs = {
      {"m1", {kNo, 0, kNo, kNo, 6, 2, kNo, 4, kNo}}};
  expect_near(eval("FILL(m1, LINEAR)", inputs), Values{kNo, 0, 2, 4, 6, 2, 3, 4, kNo});
}

TEST(MetricMathEval, FillAppliesToEveryMemberOfAnArray) {
  EXPECT_EQ(eval("SUM(FILL(METRICS(), 100))", kGappy), (Values{11, 120, 103, 200}));
  EXPECT_EQ(eval("LAST(FILL(METRICS(), REPEAT))", kGappy), (Values{10, 20, 20, 20}));
}

TEST(MetricMathEval, RateIsChangePerSecondSinceThePreviousValue) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {10, 20, kNo, 50, 20}}};
  expect_near(eval("RATE(m1)", inputs), Values{kNo, 10.0 / 60, kNo, 30.0 / 120, -30.0 / 60});
}

TEST(MetricMathEval, DiffIsChangeSinceThePreviousValue) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {kNo, 10, 20, kNo, 50}}};
  EXPECT_EQ(eval("DIFF(m1)", inputs), (Values{kNo, kNo, 10, kNo, 30}));
}

TEST(MetricMathEval, DiffTimeIsSecondsSinceThePreviousValue) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {10, 20, kNo, 50}}};
  EXPECT_EQ(eval("DIFF_TIME(m1)", inputs, 300), (Values{kNo, 300, kNo, 600}));
}

TEST(MetricMathEval, AbsCeilFloor) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {-1.5, 2.25, kNo}}};
  EXPECT_EQ(eval("ABS(m1)", inputs), (Values{1.5, 2.25, kNo}));
  EXPECT_EQ(eval("CEIL(m1)", inputs), (Values{-1, 3, kNo}));
  EXPECT_EQ(eval("FLOOR(m1)", inputs), (Values{-2, 2, kNo}));
  EXPECT_EQ(eval("m1 + ABS(-2)", inputs), (Values{0.5, 4.25, kNo}));
}

TEST(MetricMathEval, LogDropsZeroAndNegativeValues) {
  const std::vector<std::pair<std::string, Values>> inputs = {
      {"m1", {std::exp(1.0), 1, 0, -1, kNo, 1000}}};
  expect_near(eval("LOG(m1)", inputs), Values{1, 0, kNo, kNo, kNo, std::log(1000.0)});
  expect_near(eval("LOG10(m1)", inputs), Values{std::log10(std::exp(1.0)), 0, kNo, kNo, kNo, 3});
}

TEST(MetricMathEval, MetricsListsMetricStatEntriesInQueryOrder) {
  const std::vector<MetricDataQuery> queries = {
      metric("errors_a"), expr("ratio", "errors_a / requests"), metric("requests"),
      metric("errors_b"), expr("e", "SUM(METRICS(\"errors\")) * 10 + LAST(METRICS())", true)};
  const AlarmRun run = run_alarm(
      queries,
      {{"errors_a", {1, kNo, 3}}, {"requests", {100, 100, 100}}, {"errors_b", {2, 5, kNo}}});
  // SUM of errors_a and errors_b, plus errors_b (the last MetricStat; `ratio` is not a metric).
  EXPECT_EQ(run.values, (Values{32, 55, 30}));
}

TEST(MetricMathEval, ReductionsOfAnArrayIgnoreMissingMembers) {
  const std::vector<std::pair<std::string, Values>> inputs = {
      {"m1", {1, kNo, 3, kNo}}, {"m2", {3, 5, kNo, kNo}}, {"m3", {5, kNo, kNo, kNo}}};
  EXPECT_EQ(eval("SUM(METRICS())", inputs), (Values{9, 5, 3, kNo}));
  EXPECT_EQ(eval("AVG(METRICS())", inputs), (Values{3, 5, 3, kNo}));
  EXPECT_EQ(eval("MIN(METRICS())", inputs), (Values{1, 5, 3, kNo}));
  EXPECT_EQ(eval("MAX(METRICS())", inputs), (Values{5, 5, 3, kNo}));
  expect_near(eval("STDDEV(METRICS())", inputs), Values{std::sqrt(8.0 / 3.0), 0, 0, kNo});
  EXPECT_EQ(eval("SUM([m1, m2])", inputs), (Values{4, 5, 3, kNo}));
}

TEST(MetricMathEval, ReductionsOfOneSeriesAreScalars) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {1, kNo, 2, 3}}};
  EXPECT_EQ(eval("TIME_SERIES(SUM(m1))", inputs), (Values{6, 6, 6, 6}));
  EXPECT_EQ(eval("TIME_SERIES(AVG(m1))", inputs), (Values{2, 2, 2, 2}));
  EXPECT_EQ(eval("TIME_SERIES(MIN(m1))", inputs), (Values{1, 1, 1, 1}));
  EXPECT_EQ(eval("TIME_SERIES(MAX(m1))", inputs), (Values{3, 3, 3, 3}));
  const double stddev = std::sqrt(2.0 / 3.0);  // Population: divides by 3, not 2.
  expect_near(eval("TIME_SERIES(STDDEV(m1))", inputs), Values{stddev, stddev, stddev, stddev});
}

TEST(MetricMathEval, PeriodIsTheAlarmPeriodAtEveryPeriod) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {kNo, 1, kNo}}};
  EXPECT_EQ(eval("PERIOD(m1)", inputs, 300), (Values{300, 300, 300}));
  EXPECT_EQ(eval("m1 / PERIOD(m1)", inputs, 300), (Values{0, 1.0 / 300, 0}));
}

TEST(MetricMathEval, TimeSeriesIsAConstantSeries) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {kNo, 1, kNo}}};
  EXPECT_EQ(eval("TIME_SERIES(7)", inputs), (Values{7, 7, 7}));
  EXPECT_EQ(eval("TIME_SERIES(1 / 0)", inputs), (Values{kNo, kNo, kNo}));
}

TEST(MetricMathEval, TimeFieldsComeFromEachPeriodStartInUtc) {
  // 2024-02-29T23:55:00Z (Thursday) and 2024-03-01T00:00:00Z (Friday), period 300.
  const EventTime start = *pipeline::parse_iso8601("2024-02-29T23:55:00Z");
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {1, 1, kNo}}};
  const std::vector<OracleCase> cases = {
      {"MINUTE(m1)", {55, 0, kNo}},
      {"HOUR(m1)", {23, 0, kNo}},
      {"DAY(m1)", {4, 5, kNo}},
      {"DATE(m1)", {29, 1, kNo}},
      {"MONTH(m1)", {2, 3, kNo}},
      {"YEAR(m1)", {2024, 2024, kNo}},
      {"EPOCH(m1)", {1'709'250'900, 1'709'251'200, kNo}},
  };
  for (const OracleCase& c : cases) {
    EXPECT_EQ(eval(c.expression, inputs, 300, start), c.expected) << c.expression;
  }
}

TEST(MetricMathEval, DayNumbersMondayOneToSundaySeven) {
  // One period a day from Saturday 2023-12-30 to Tuesday 2024-01-02.
  const EventTime start = *pipeline::parse_iso8601("2023-12-30T12:00:00Z");
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {1, 1, 1, 1}}};
  EXPECT_EQ(eval("DAY(m1)", inputs, 86'400, start), (Values{6, 7, 1, 2}));
  EXPECT_EQ(eval("YEAR(m1)", inputs, 86'400, start), (Values{2023, 2023, 2024, 2024}));
  // Weekdays only, as in the CloudWatch documentation.
  const std::vector<std::pair<std::string, Values>> values = {{"m1", {10, 20, 30, kNo}}};
  EXPECT_EQ(eval("IF(DAY(m1) < 6, m1)", values, 86'400, start), (Values{kNo, kNo, 30, kNo}));
}

TEST(MetricMathEval, TimeFieldsBeforeTheEpoch) {
  const EventTime start = *pipeline::parse_iso8601("1969-12-31T23:59:00Z");  // A Wednesday.
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {1, 1}}};
  EXPECT_EQ(eval("DAY(m1)", inputs, 60, start), (Values{3, 4}));
  EXPECT_EQ(eval("MINUTE(m1)", inputs, 60, start), (Values{59, 0}));
  EXPECT_EQ(eval("YEAR(m1)", inputs, 60, start), (Values{1969, 1970}));
  EXPECT_EQ(eval("EPOCH(m1)", inputs, 60, start), (Values{-60, 0}));
}

TEST(MetricMathEval, ExpressionsUseOtherExpressions) {
  const std::vector<MetricDataQuery> queries = {expr("e2", "e1 + m1", true), expr("e1", "m1 * 2"),
                                                metric("m1"),
                                                expr("unused", "FIRST(METRICS()) / 0")};
  EXPECT_EQ(run_alarm(queries, {{"m1", {1, kNo, 3}}}).values, (Values{3, kNo, 9}));
}

TEST(MetricMathEval, ReturnedMetricStatEntryIsItsInput) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true), expr("e", "m1 * 2")};
  EXPECT_EQ(run_alarm(queries, {{"m1", {1, kNo, 3}}}).values, (Values{1, kNo, 3}));
}

TEST(MetricMathEval, NonFiniteInputsAreMissing) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {kNaN, kInf, -kInf, 2}}};
  EXPECT_EQ(eval("m1", inputs), (Values{kNo, kNo, kNo, 2}));
  EXPECT_EQ(eval("FILL(m1, 0)", inputs), (Values{0, 0, 0, 2}));
}

TEST(MetricMathEval, ReturnedArrayOfOneSeriesIsThatSeries) {
  const std::vector<std::pair<std::string, Values>> inputs = {{"m1", {1, kNo}}, {"m2", {5, 6}}};
  EXPECT_EQ(eval("METRICS(\"2\")", inputs), (Values{5, 6}));
  EXPECT_EQ(eval("METRICS(\"2\") + m1", inputs), (Values{6, 6}));
}

TEST(MetricMathEval, EmptyRangeGivesEmptyOutput) {
  EXPECT_EQ(eval("m1 * 2 + SUM(METRICS())", {{"m1", {}}}), Values{});
}

TEST(MetricMathEval, InputsThatDoNotFitAreRejected) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), metric("m2"),
                                                expr("e", "m1 + m2", true)};
  MetricMathCompileResult compiled = compile_metric_math(queries, "");
  ASSERT_TRUE(compiled.ok());
  MetricMath& math = *compiled.math;
  const std::vector<EventTime> times = times_from(kStart, 2, 60);
  const std::vector<Values> good = {{1, 2}, {3, 4}};
  MathOutput out;
  ASSERT_TRUE(math.evaluate({60, times, good}, NullBandProvider(), out).is_ok());
  EXPECT_EQ(out.values, (Values{4, 6}));

  const std::vector<Values> one = {{1, 2}};
  const pipeline::Status wrong_count = math.evaluate({60, times, one}, NullBandProvider(), out);
  EXPECT_EQ(wrong_count.code(), pipeline::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong_count.message(), "metric math: expected values for 2 MetricStat entries, got 1");
  EXPECT_TRUE(out.values.empty());

  const std::vector<Values> short_values = {{1, 2}, {3}};
  EXPECT_EQ(math.evaluate({60, times, short_values}, NullBandProvider(), out).message(),
            "metric math: \"m2\" has 1 values for a range of 2 periods");

  const std::vector<EventTime> backwards = {times[1], times[0]};
  EXPECT_EQ(math.evaluate({60, backwards, good}, NullBandProvider(), out).message(),
            "metric math: period start times must be strictly increasing (index 1)");

  EXPECT_EQ(math.evaluate({0, times, good}, NullBandProvider(), out).message(),
            "metric math: the period must be positive, got 0");
}

// ---------------------------------------------------------------------------------------------
// Anomaly-detection band.

TEST(MetricMathBand, NullProviderGivesAMissingBand) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(m1, 2)", true)};
  const AlarmRun run = run_alarm(queries, {{"m1", {5, kNo, 7}}}, 300, NullBandProvider(), "ad1");
  EXPECT_EQ(run.values, (Values{5, kNo, 7}));
  EXPECT_EQ(run.upper, (Values{kNo, kNo, kNo}));
  EXPECT_EQ(run.lower, (Values{kNo, kNo, kNo}));
}

TEST(MetricMathBand, ProviderSuppliesTheBandForTheMetricAndK) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(m1, 3)", true)};
  const FixedBandProvider bands(Values{10, kNo, kNaN, 20});
  const AlarmRun run = run_alarm(queries, {{"m1", {1, 2, 3, 4}}}, 300, bands, "ad1");
  EXPECT_EQ(bands.asked_id_, "m1");
  EXPECT_EQ(bands.asked_k_, 3);
  EXPECT_EQ(bands.asked_times_, 4U);
  EXPECT_EQ(run.values, (Values{1, 2, 3, 4}));
  EXPECT_EQ(run.upper, (Values{13, kNo, kNo, 23}));  // NaN from the model counts as missing.
  EXPECT_EQ(run.lower, (Values{7, kNo, kNo, 17}));
}

TEST(MetricMathBand, DefaultsToTwoStandardDeviations) {
  const std::vector<MetricDataQuery> queries = {metric("m1", true),
                                                expr("ad1", "(ANOMALY_DETECTION_BAND(m1))")};
  const FixedBandProvider bands(Values{10, 10});
  const AlarmRun run = run_alarm(queries, {{"m1", {1, 2}}}, 300, bands, "ad1");
  EXPECT_EQ(bands.asked_k_, 2);
  EXPECT_EQ(run.upper, (Values{12, 12}));
  EXPECT_EQ(run.lower, (Values{8, 8}));
}

TEST(MetricMathBand, BandOfAnExpressionIsAskedByItsId) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), expr("e1", "m1 * 2", true),
                                                expr("ad1", "ANOMALY_DETECTION_BAND(e1, 0.5)")};
  const FixedBandProvider bands(Values{4, 4});
  const AlarmRun run = run_alarm(queries, {{"m1", {1, 2}}}, 300, bands, "ad1");
  EXPECT_EQ(bands.asked_id_, "e1");
  EXPECT_EQ(bands.asked_k_, 0.5);
  EXPECT_EQ(run.values, (Values{2, 4}));
  EXPECT_EQ(run.upper, (Values{4.5, 4.5}));
  EXPECT_EQ(run.lower, (Values{3.5, 3.5}));
}

// ---------------------------------------------------------------------------------------------
// Determinism and buffer reuse.

std::vector<uint64_t> bits(const Values& values) {
  std::vector<uint64_t> out;
  for (const std::optional<double>& v : values) {
    out.push_back(v.has_value() ? std::bit_cast<uint64_t>(*v) : 0xdeadbeefU);
  }
  return out;
}

TEST(MetricMathEval, SameInputGivesBitIdenticalOutput) {
  const std::vector<MetricDataQuery> queries = {
      metric("m1"), metric("m2"), metric("m3"),
      expr("e",
           "STDDEV(METRICS()) * 1.1 + RATE(FILL(m1, LINEAR)) / 3 + AVG([m2, m3]) ^ 0.7 - "
           "LOG10(ABS(m1 - m2) + 1) + IF(m3 > m1, DIFF(m2), 0.1)",
           true)};
  MetricMathCompileResult compiled = compile_metric_math(queries, "");
  ASSERT_TRUE(compiled.ok()) << problems_text(compiled.problems);
  MetricMath first = *compiled.math;
  MetricMath copy = first;
  const std::vector<EventTime> times = times_from(kStart, 6, 60);
  const std::vector<Values> a = {{0.1, kNo, 0.3, 1e-7, kNo, 5.5},
                                 {2.2, 3.3, kNo, 4.4, 5.5, 6.6},
                                 {1.0 / 3, 2.0 / 3, 1, kNo, 7, 8}};
  const std::vector<Values> b = {
      {9, 9, 9, 9, 9, 9}, {1, 1, 1, 1, 1, 1}, {kNo, kNo, kNo, kNo, kNo, kNo}};
  MathOutput out1;
  MathOutput out2;
  MathOutput out3;
  ASSERT_TRUE(first.evaluate({60, times, a}, NullBandProvider(), out1).is_ok());
  // Different data in between must not leak through the reused buffers.
  ASSERT_TRUE(first.evaluate({60, times, b}, NullBandProvider(), out2).is_ok());
  ASSERT_TRUE(first.evaluate({60, times, a}, NullBandProvider(), out2).is_ok());
  ASSERT_TRUE(copy.evaluate({60, times, a}, NullBandProvider(), out3).is_ok());
  EXPECT_EQ(bits(out1.values), bits(out2.values));
  EXPECT_EQ(bits(out1.values), bits(out3.values));
  EXPECT_TRUE(out1.values[0].has_value());
}

TEST(MetricMathEval, RangesOfDifferentLengthsReuseOneProgram) {
  const std::vector<MetricDataQuery> queries = {metric("m1"), expr("e", "FILL(m1, REPEAT)", true)};
  MetricMathCompileResult compiled = compile_metric_math(queries, "");
  ASSERT_TRUE(compiled.ok());
  MetricMath& math = *compiled.math;
  MathOutput out;
  const std::vector<EventTime> long_times = times_from(kStart, 5, 60);
  const std::vector<Values> long_values = {{1, kNo, 2, kNo, kNo}};
  ASSERT_TRUE(math.evaluate({60, long_times, long_values}, NullBandProvider(), out).is_ok());
  EXPECT_EQ(out.values, (Values{1, 1, 2, 2, 2}));
  const std::vector<EventTime> short_times = times_from(kStart, 3, 60);
  const std::vector<Values> short_values = {{kNo, kNo, 4}};
  ASSERT_TRUE(math.evaluate({60, short_times, short_values}, NullBandProvider(), out).is_ok());
  EXPECT_EQ(out.values, (Values{kNo, kNo, 4}));
  ASSERT_TRUE(math.evaluate({60, long_times, long_values}, NullBandProvider(), out).is_ok());
  EXPECT_EQ(out.values, (Values{1, 1, 2, 2, 2}));
}

}  // namespace
}  // namespace tw::detectors
