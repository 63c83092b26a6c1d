#include "detectors/metric_math.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "pipeline/json_pointer.h"

namespace tw::detectors {

using pipeline::EventTime;
using pipeline::MetricDataQuery;

namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// Names.

struct FunctionSpec {
  std::string_view name;
  MathFunction function;
  uint32_t min_args;
  uint32_t max_args;
};

constexpr uint32_t kAnyArgs = std::numeric_limits<uint32_t>::max();

// In MathFunction order, so that the enum value indexes the table.
constexpr std::array<FunctionSpec, 29> kFunctions = {{
    {"IF", MathFunction::kIf, 2, 3},
    {"FILL", MathFunction::kFill, 2, 2},
    {"RATE", MathFunction::kRate, 1, 1},
    {"DIFF", MathFunction::kDiff, 1, 1},
    {"DIFF_TIME", MathFunction::kDiffTime, 1, 1},
    {"ABS", MathFunction::kAbs, 1, 1},
    {"CEIL", MathFunction::kCeil, 1, 1},
    {"FLOOR", MathFunction::kFloor, 1, 1},
    {"LOG", MathFunction::kLog, 1, 1},
    {"LOG10", MathFunction::kLog10, 1, 1},
    {"METRICS", MathFunction::kMetrics, 0, 1},
    {"SUM", MathFunction::kSum, 1, 1},
    {"AVG", MathFunction::kAvg, 1, 1},
    {"MIN", MathFunction::kMin, 1, 1},
    {"MAX", MathFunction::kMax, 1, 1},
    {"STDDEV", MathFunction::kStddev, 1, 1},
    {"PERIOD", MathFunction::kPeriod, 1, 1},
    {"TIME_SERIES", MathFunction::kTimeSeries, 1, 1},
    {"MINUTE", MathFunction::kMinute, 1, 1},
    {"HOUR", MathFunction::kHour, 1, 1},
    {"DAY", MathFunction::kDay, 1, 1},
    {"DATE", MathFunction::kDate, 1, 1},
    {"MONTH", MathFunction::kMonth, 1, 1},
    {"YEAR", MathFunction::kYear, 1, 1},
    {"EPOCH", MathFunction::kEpoch, 1, 1},
    {"FIRST", MathFunction::kFirst, 1, 1},
    {"LAST", MathFunction::kLast, 1, 1},
    {"ANOMALY_DETECTION_BAND", MathFunction::kAnomalyDetectionBand, 1, 2},
    {"SEARCH", MathFunction::kSearch, 0, kAnyArgs},
}};

constexpr bool functions_in_enum_order() {
  for (size_t i = 0; i < kFunctions.size(); ++i) {
    if (static_cast<size_t>(kFunctions[i].function) != i) {
      return false;
    }
  }
  return true;
}

static_assert(functions_in_enum_order());

// CloudWatch metric-math functions that trailwatch recognises but does not evaluate, so that
// the message says "not supported" rather than "unknown".
constexpr std::array<std::string_view, 10> kUnsupportedFunctions = {
    "CONCAT",
    "DATAPOINT_COUNT",
    "DB_PERF_INSIGHTS",
    "INSIGHT_RULE_METRIC",
    "LAMBDA",
    "REMOVE_EMPTY",
    "RUNNING_SUM",
    "SERVICE_QUOTA",
    "SLICE",
    "SORT",
};

const FunctionSpec& spec(MathFunction function) {
  return kFunctions[static_cast<size_t>(function)];
}

std::string column_prefix(uint32_t offset) {
  return "column " + std::to_string(static_cast<uint64_t>(offset) + 1) + ": ";
}

std::string format_number(double value) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc()) {
    return "?";
  }
  return {buffer.data(), end};
}

// ---------------------------------------------------------------------------------------------
// Lexer.

enum class Tok : uint8_t {
  kEnd,
  kNumber,
  kString,
  kId,    // Starts with a lower-case letter.
  kWord,  // Starts with an upper-case letter: function names and keywords.
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kCaret,
  kEqual,
  kNotEqual,
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual,
  kAndAnd,
  kOrOr,
};

struct Token {
  Tok type = Tok::kEnd;
  uint32_t offset = 0;
  uint32_t length = 0;
  double number = 0;
  std::string text;  // kId, kWord: the name; kString: the decoded contents.
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

bool is_word_char(char c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '_';
}

char ascii_upper(char c) {
  return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string describe_char(char c) {
  if (c >= 0x20 && c < 0x7f) {
    return std::string("'") + c + "'";
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  const auto byte = static_cast<size_t>(static_cast<unsigned char>(c));
  return std::string("byte 0x") + kHex[byte >> 4U] + kHex[byte & 0xfU];
}

uint32_t offset_of(size_t i) {
  return static_cast<uint32_t>(i);
}

// Splits `text` into tokens, ending with one kEnd token. Returns the first lexical error.
std::optional<MathError> tokenize(std::string_view text, std::vector<Token>& tokens) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    Token token;
    token.offset = offset_of(i);
    size_t end = i + 1;
    if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(text[i + 1]))) {
      end = i;
      while (end < n && is_digit(text[end])) {
        ++end;
      }
      if (end < n && text[end] == '.') {
        ++end;
        while (end < n && is_digit(text[end])) {
          ++end;
        }
      }
      if (end < n && (text[end] == 'e' || text[end] == 'E')) {
        size_t k = end + 1;
        if (k < n && (text[k] == '+' || text[k] == '-')) {
          ++k;
        }
        if (k >= n || !is_digit(text[k])) {
          return MathError{token.offset, "malformed number \"" +
                                             std::string(text.substr(i, k - i)) +
                                             "\": the exponent needs digits"};
        }
        while (k < n && is_digit(text[k])) {
          ++k;
        }
        end = k;
      }
      if (end < n && (is_word_char(text[end]) || text[end] == '.')) {
        return MathError{offset_of(end), "unexpected " + describe_char(text[end]) +
                                             " after the number " +
                                             std::string(text.substr(i, end - i))};
      }
      double value = 0;
      const auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + end, value);
      if (ec == std::errc::result_out_of_range) {
        return MathError{token.offset,
                         "number " + std::string(text.substr(i, end - i)) + " is out of range"};
      }
      if (ec != std::errc() || ptr != text.data() + end) {
        return MathError{token.offset,
                         "malformed number \"" + std::string(text.substr(i, end - i)) + "\""};
      }
      token.type = Tok::kNumber;
      token.number = value;
    } else if (is_lower(c) || is_upper(c)) {
      end = i;
      while (end < n && is_word_char(text[end])) {
        ++end;
      }
      token.type = is_lower(c) ? Tok::kId : Tok::kWord;
      token.text = std::string(text.substr(i, end - i));
    } else if (c == '"' || c == '\'') {
      std::string contents;
      end = i + 1;
      bool closed = false;
      while (end < n) {
        if (text[end] == '\\' && end + 1 < n) {
          contents += text[end + 1];
          end += 2;
        } else if (text[end] == c) {
          closed = true;
          ++end;
          break;
        } else {
          contents += text[end];
          ++end;
        }
      }
      if (!closed) {
        return MathError{token.offset, "unterminated string: no closing " + describe_char(c)};
      }
      token.type = Tok::kString;
      token.text = std::move(contents);
    } else {
      const char next = i + 1 < n ? text[i + 1] : '\0';
      switch (c) {
        case '(':
          token.type = Tok::kLParen;
          break;
        case ')':
          token.type = Tok::kRParen;
          break;
        case '[':
          token.type = Tok::kLBracket;
          break;
        case ']':
          token.type = Tok::kRBracket;
          break;
        case ',':
          token.type = Tok::kComma;
          break;
        case '+':
          token.type = Tok::kPlus;
          break;
        case '-':
          token.type = Tok::kMinus;
          break;
        case '*':
          token.type = Tok::kStar;
          break;
        case '/':
          token.type = Tok::kSlash;
          break;
        case '^':
          token.type = Tok::kCaret;
          break;
        case '=':
          if (next != '=') {
            return MathError{token.offset, "'=' is not an operator; compare with '=='"};
          }
          token.type = Tok::kEqual;
          end = i + 2;
          break;
        case '!':
          if (next != '=') {
            return MathError{token.offset, "'!' is not an operator; use '!=' or '== 0'"};
          }
          token.type = Tok::kNotEqual;
          end = i + 2;
          break;
        case '<':
          token.type = next == '=' ? Tok::kLessOrEqual : Tok::kLess;
          end = next == '=' ? i + 2 : i + 1;
          break;
        case '>':
          token.type = next == '=' ? Tok::kGreaterOrEqual : Tok::kGreater;
          end = next == '=' ? i + 2 : i + 1;
          break;
        case '&':
          if (next != '&') {
            return MathError{token.offset, "'&' is not an operator; use '&&' or AND"};
          }
          token.type = Tok::kAndAnd;
          end = i + 2;
          break;
        case '|':
          if (next != '|') {
            return MathError{token.offset, "'|' is not an operator; use '||' or OR"};
          }
          token.type = Tok::kOrOr;
          end = i + 2;
          break;
        default:
          return MathError{token.offset, "unexpected character " + describe_char(c)};
      }
    }
    token.length = static_cast<uint32_t>(end - i);
    tokens.push_back(std::move(token));
    i = end;
  }
  Token last;
  last.type = Tok::kEnd;
  last.offset = offset_of(n);
  tokens.push_back(std::move(last));
  return std::nullopt;
}

// Whether the text is a Metrics Insights query rather than metric math.
bool is_insights_query(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) {
    ++i;
  }
  constexpr std::string_view kSelect = "SELECT";
  if (text.size() - i < kSelect.size()) {
    return false;
  }
  for (size_t k = 0; k < kSelect.size(); ++k) {
    if (ascii_upper(text[i + k]) != kSelect[k]) {
      return false;
    }
  }
  const size_t after = i + kSelect.size();
  return after == text.size() || text[after] == ' ' || text[after] == '\t' || text[after] == '\n';
}

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent over the tokens; each function returns the index of the node it
// built, or nullopt once an error is recorded.

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  MathParseResult run() {
    MathParseResult result;
    const std::optional<uint32_t> root = parse_or(0);
    if (root.has_value() && peek().type != Tok::kEnd) {
      fail(peek().offset, "unexpected " + describe(peek()) + " after the end of the expression");
    }
    if (error_.has_value()) {
      result.error = std::move(error_);
      return result;
    }
    result.expression = MathExpression{std::move(nodes_)};
    return result;
  }

 private:
  using Index = std::optional<uint32_t>;

  [[nodiscard]] const Token& peek() const { return tokens_[pos_]; }

  [[nodiscard]] const Token& peek_next() const {
    return tokens_[std::min(pos_ + 1, tokens_.size() - 1)];
  }

  static bool is_word(const Token& token, std::string_view word) {
    return token.type == Tok::kWord && token.text == word;
  }

  [[nodiscard]] std::string describe(const Token& token) const {
    switch (token.type) {
      case Tok::kEnd:
        return "end of the expression";
      case Tok::kString:
        return "string";
      default:
        return "'" + std::string(text_.substr(token.offset, token.length)) + "'";
    }
  }

  Index fail(uint32_t offset, std::string message) {
    if (!error_.has_value()) {
      error_ = MathError{offset, std::move(message)};
    }
    return std::nullopt;
  }

  uint32_t add(MathNode node) {
    nodes_.push_back(std::move(node));
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  uint32_t add_binary(uint32_t left, uint32_t right, MathOperator op, uint32_t op_offset) {
    MathNode node;
    node.type = MathNode::Type::kBinary;
    node.offset = nodes_[left].offset;
    node.operator_offset = op_offset;
    node.op = op;
    node.args = {left, right};
    return add(std::move(node));
  }

  // One left-associative precedence level: operand (op operand)*.
  template <typename Next, typename Match>
  Index parse_level(int depth, Next next, Match match) {
    Index left = (this->*next)(depth);
    while (left.has_value()) {
      const std::optional<MathOperator> op = match(peek());
      if (!op.has_value()) {
        break;
      }
      const uint32_t op_offset = peek().offset;
      ++pos_;
      const Index right = (this->*next)(depth);
      if (!right.has_value()) {
        return std::nullopt;
      }
      left = add_binary(*left, *right, *op, op_offset);
    }
    return left;
  }

  Index parse_or(int depth) {
    return parse_level(depth, &Parser::parse_and,
                       [](const Token& t) -> std::optional<MathOperator> {
                         if (t.type == Tok::kOrOr || is_word(t, "OR")) {
                           return MathOperator::kOr;
                         }
                         return std::nullopt;
                       });
  }

  Index parse_and(int depth) {
    return parse_level(depth, &Parser::parse_compare,
                       [](const Token& t) -> std::optional<MathOperator> {
                         if (t.type == Tok::kAndAnd || is_word(t, "AND")) {
                           return MathOperator::kAnd;
                         }
                         return std::nullopt;
                       });
  }

  Index parse_compare(int depth) {
    return parse_level(depth, &Parser::parse_add,
                       [](const Token& t) -> std::optional<MathOperator> {
                         switch (t.type) {
                           case Tok::kEqual:
                             return MathOperator::kEqual;
                           case Tok::kNotEqual:
                             return MathOperator::kNotEqual;
                           case Tok::kLess:
                             return MathOperator::kLess;
                           case Tok::kLessOrEqual:
                             return MathOperator::kLessOrEqual;
                           case Tok::kGreater:
                             return MathOperator::kGreater;
                           case Tok::kGreaterOrEqual:
                             return MathOperator::kGreaterOrEqual;
                           default:
                             return std::nullopt;
                         }
                       });
  }

  Index parse_add(int depth) {
    return parse_level(depth, &Parser::parse_multiply,
                       [](const Token& t) -> std::optional<MathOperator> {
                         if (t.type == Tok::kPlus) {
                           return MathOperator::kAdd;
                         }
                         if (t.type == Tok::kMinus) {
                           return MathOperator::kSubtract;
                         }
                         return std::nullopt;
                       });
  }

  Index parse_multiply(int depth) {
    return parse_level(depth, &Parser::parse_unary,
                       [](const Token& t) -> std::optional<MathOperator> {
                         if (t.type == Tok::kStar) {
                           return MathOperator::kMultiply;
                         }
                         if (t.type == Tok::kSlash) {
                           return MathOperator::kDivide;
                         }
                         return std::nullopt;
                       });
  }

  Index parse_unary(int depth) {
    if (depth > kMaxMathNesting) {
      return fail(peek().offset, "the expression is nested too deeply (more than " +
                                     std::to_string(kMaxMathNesting) + " levels)");
    }
    if (peek().type != Tok::kMinus) {
      return parse_power(depth);
    }
    const uint32_t offset = peek().offset;
    ++pos_;
    const Index operand = parse_unary(depth + 1);
    if (!operand.has_value()) {
      return std::nullopt;
    }
    MathNode node;
    node.type = MathNode::Type::kNegate;
    node.offset = offset;
    node.args = {*operand};
    return add(std::move(node));
  }

  Index parse_power(int depth) {
    const Index base = parse_primary(depth);
    if (!base.has_value() || peek().type != Tok::kCaret) {
      return base;
    }
    const uint32_t op_offset = peek().offset;
    ++pos_;
    // The exponent may itself be negated or a power: 2^-1, 2^3^2 = 2^(3^2).
    const Index exponent = parse_unary(depth + 1);
    if (!exponent.has_value()) {
      return std::nullopt;
    }
    return add_binary(*base, *exponent, MathOperator::kPower, op_offset);
  }

  Index parse_primary(int depth) {
    if (depth > kMaxMathNesting) {
      return fail(peek().offset, "the expression is nested too deeply (more than " +
                                     std::to_string(kMaxMathNesting) + " levels)");
    }
    const Token& token = peek();
    MathNode node;
    node.offset = token.offset;
    switch (token.type) {
      case Tok::kNumber:
        node.type = MathNode::Type::kNumber;
        node.number = token.number;
        ++pos_;
        return add(std::move(node));
      case Tok::kString:
        node.type = MathNode::Type::kString;
        node.text = token.text;
        ++pos_;
        return add(std::move(node));
      case Tok::kId: {
        if (peek_next().type == Tok::kLParen) {
          std::string upper = token.text;
          std::transform(upper.begin(), upper.end(), upper.begin(), ascii_upper);
          if (parse_math_function(upper).has_value()) {
            return fail(token.offset,
                        "function names are upper case: " + upper + ", not " + token.text);
          }
          return fail(token.offset, "\"" + token.text +
                                        "\" is not a function: function names are upper case, "
                                        "and an Id cannot be followed by '('");
        }
        node.type = MathNode::Type::kId;
        node.text = token.text;
        ++pos_;
        return add(std::move(node));
      }
      case Tok::kWord:
        if (peek_next().type == Tok::kLParen) {
          return parse_call(depth);
        }
        if (token.text == "REPEAT" || token.text == "LINEAR") {
          node.type = MathNode::Type::kKeyword;
          node.text = token.text;
          ++pos_;
          return add(std::move(node));
        }
        if (token.text == "AND" || token.text == "OR") {
          return fail(token.offset, "expected a value before " + token.text);
        }
        return fail(token.offset, "\"" + token.text +
                                      "\" is neither an Id (Ids start with a lower-case letter) "
                                      "nor a function call (a function name is followed by '(')");
      case Tok::kLParen: {
        const uint32_t open = token.offset;
        ++pos_;
        const Index inner = parse_or(depth + 1);
        if (!inner.has_value()) {
          return std::nullopt;
        }
        if (peek().type != Tok::kRParen) {
          return fail(peek().offset, "expected ')' to close the '(' at column " +
                                         std::to_string(open + 1) + ", found " + describe(peek()));
        }
        ++pos_;
        return inner;
      }
      case Tok::kLBracket:
        return parse_array(depth);
      case Tok::kEnd:
        return fail(token.offset, "unexpected end of the expression: expected a value");
      default:
        return fail(token.offset, "expected a value, found " + describe(token));
    }
  }

  Index parse_call(int depth) {
    const Token& name = peek();
    const uint32_t offset = name.offset;
    const std::string function_name = name.text;
    const std::optional<MathFunction> function = parse_math_function(function_name);
    if (!function.has_value()) {
      if (std::find(kUnsupportedFunctions.begin(), kUnsupportedFunctions.end(), function_name) !=
          kUnsupportedFunctions.end()) {
        return fail(offset, function_name +
                                " is a CloudWatch metric-math function that trailwatch does not "
                                "evaluate");
      }
      return fail(offset, "unknown function " + function_name);
    }
    pos_ += 2;  // The name and '('.
    MathNode node;
    node.type = MathNode::Type::kCall;
    node.offset = offset;
    node.function = *function;
    if (peek().type == Tok::kRParen) {
      ++pos_;
    } else {
      while (true) {
        const Index arg = parse_or(depth + 1);
        if (!arg.has_value()) {
          return std::nullopt;
        }
        node.args.push_back(*arg);
        if (peek().type == Tok::kComma) {
          ++pos_;
          continue;
        }
        if (peek().type == Tok::kRParen) {
          ++pos_;
          break;
        }
        return fail(peek().offset, "expected ',' or ')' in the arguments of " + function_name +
                                       " (column " + std::to_string(offset + 1) + "), found " +
                                       describe(peek()));
      }
    }
    const FunctionSpec& s = spec(*function);
    const size_t count = node.args.size();
    if (count < s.min_args || count > s.max_args) {
      std::string expected = std::to_string(s.min_args);
      if (s.max_args != s.min_args) {
        expected += " or " + std::to_string(s.max_args);
      }
      const bool plural = s.min_args != 1 || s.max_args != 1;
      return fail(offset, function_name + " takes " + expected +
                              (plural ? " arguments" : " argument") + ", got " +
                              std::to_string(count));
    }
    return add(std::move(node));
  }

  Index parse_array(int depth) {
    const uint32_t open = peek().offset;
    ++pos_;
    if (peek().type == Tok::kRBracket) {
      return fail(open, "an array needs at least one element");
    }
    MathNode node;
    node.type = MathNode::Type::kArray;
    node.offset = open;
    while (true) {
      const Index element = parse_or(depth + 1);
      if (!element.has_value()) {
        return std::nullopt;
      }
      node.args.push_back(*element);
      if (peek().type == Tok::kComma) {
        ++pos_;
        continue;
      }
      if (peek().type == Tok::kRBracket) {
        ++pos_;
        break;
      }
      return fail(peek().offset, "expected ',' or ']' in the array opened at column " +
                                     std::to_string(open + 1) + ", found " + describe(peek()));
    }
    return add(std::move(node));
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<MathNode> nodes_;
  std::optional<MathError> error_;
};

void append_prefix_form(const MathExpression& expression, uint32_t index, std::string& out) {
  const MathNode& node = expression.nodes[index];
  const auto append_list = [&](std::string_view open, std::string_view close) {
    out += open;
    for (size_t k = 0; k < node.args.size(); ++k) {
      if (k > 0) {
        out += ", ";
      }
      append_prefix_form(expression, node.args[k], out);
    }
    out += close;
  };
  switch (node.type) {
    case MathNode::Type::kNumber:
      out += format_number(node.number);
      break;
    case MathNode::Type::kString:
      out += '"';
      out += node.text;
      out += '"';
      break;
    case MathNode::Type::kId:
    case MathNode::Type::kKeyword:
      out += node.text;
      break;
    case MathNode::Type::kNegate:
      out += "(- ";
      append_prefix_form(expression, node.args[0], out);
      out += ')';
      break;
    case MathNode::Type::kBinary:
      out += '(';
      out += to_string(node.op);
      out += ' ';
      append_prefix_form(expression, node.args[0], out);
      out += ' ';
      append_prefix_form(expression, node.args[1], out);
      out += ')';
      break;
    case MathNode::Type::kCall:
      out += to_string(node.function);
      append_list("(", ")");
      break;
    case MathNode::Type::kArray:
      append_list("[", "]");
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Analysis.

enum class Kind : uint8_t { kScalar, kSeries, kArray, kString, kKeyword, kInvalid };

struct Type {
  Kind kind = Kind::kInvalid;
  uint32_t count = 0;  // Series in the value: 0 for a scalar, 1 for a series.
};

constexpr Type kScalarType{Kind::kScalar, 0};
constexpr Type kSeriesType{Kind::kSeries, 1};
constexpr Type kInvalidType{Kind::kInvalid, 0};

Type array_type(uint32_t count) {
  return {Kind::kArray, count};
}

bool is_value(Type t) {
  return t.kind == Kind::kScalar || t.kind == Kind::kSeries || t.kind == Kind::kArray;
}

bool is_single_series(Type t) {
  return t.kind == Kind::kSeries || (t.kind == Kind::kArray && t.count == 1);
}

bool is_series_or_array(Type t) {
  return t.kind == Kind::kSeries || t.kind == Kind::kArray;
}

std::string describe(Type t) {
  switch (t.kind) {
    case Kind::kScalar:
      return "a scalar";
    case Kind::kSeries:
      return "a time series";
    case Kind::kArray:
      return "an array of " + std::to_string(t.count) + " time series";
    case Kind::kString:
      return "a string";
    case Kind::kKeyword:
    case Kind::kInvalid:
      break;
  }
  return "an invalid value";
}

MathKind to_math_kind(Kind kind) {
  switch (kind) {
    case Kind::kScalar:
      return MathKind::kScalar;
    case Kind::kArray:
      return MathKind::kArray;
    default:
      return MathKind::kSeries;
  }
}

std::string expression_pointer(size_t index) {
  return pipeline::json_pointer_child(pipeline::json_pointer_child("/Metrics", index),
                                      "Expression");
}

struct EntryState {
  const MetricDataQuery* query = nullptr;
  bool usable = false;  // Has an Id, and a MetricStat or a non-empty expression.
  bool is_expression = false;
  std::optional<MathExpression> expression;
  std::vector<Type> types;  // Per node of `expression`.
  enum class Visit : uint8_t { kNew, kActive, kDone };
  Visit visit = Visit::kNew;
  bool had_problem = false;
  bool valid = false;
  Type result;
  std::vector<std::string> references;
  std::vector<size_t> dependencies;  // Entry indices, first reference first.
};

class Analyzer {
 public:
  Analyzer(const std::vector<MetricDataQuery>& metrics, std::string_view threshold_metric_id)
      : metrics_(metrics), threshold_id_(threshold_metric_id) {
    entries_.resize(metrics.size());
    for (size_t i = 0; i < metrics.size(); ++i) {
      EntryState& e = entries_[i];
      const MetricDataQuery& q = metrics[i];
      e.query = &q;
      e.is_expression = !q.metric_stat.has_value();
      e.usable = !q.id.empty() && (q.metric_stat.has_value() || !q.expression.empty());
      if (e.usable) {
        by_id_.try_emplace(q.id, i);
      }
    }
    if (!threshold_id_.empty()) {
      const auto it = by_id_.find(threshold_id_);
      if (it != by_id_.end()) {
        threshold_entry_ = it->second;
      }
    }
  }

  void run() {
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].usable) {
        analyze(i);
      }
    }
    check_threshold();
    check_returned();
    std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
      return std::tie(a.order, a.offset) < std::tie(b.order, b.offset);
    });
  }

  [[nodiscard]] MathAnalysis result() const {
    MathAnalysis analysis;
    analysis.entries.reserve(entries_.size());
    for (const EntryState& e : entries_) {
      MathEntryInfo info;
      info.id = e.query->id;
      info.expression = e.is_expression;
      info.valid = e.valid;
      if (e.valid) {
        info.kind = to_math_kind(e.result.kind);
        info.series_count = e.result.count;
      }
      info.references = e.references;
      analysis.entries.push_back(std::move(info));
    }
    analysis.problems.reserve(pending_.size());
    for (const Pending& p : pending_) {
      analysis.problems.push_back(p.problem);
    }
    return analysis;
  }

  [[nodiscard]] const std::vector<EntryState>& entries() const { return entries_; }

  [[nodiscard]] std::optional<size_t> threshold_entry() const { return threshold_entry_; }

  [[nodiscard]] size_t entry_of(std::string_view id) const { return by_id_.at(id); }

  [[nodiscard]] bool has_problems() const { return !pending_.empty(); }

 private:
  static constexpr size_t kThresholdOrder = std::numeric_limits<size_t>::max();
  static constexpr uint32_t kWholeExpression = std::numeric_limits<uint32_t>::max();

  struct Pending {
    size_t order;     // Entry index; kThresholdOrder for /ThresholdMetricId.
    uint32_t offset;  // In the expression; kWholeExpression after all positioned problems.
    MathProblem problem;
  };

  void report(size_t entry, uint32_t offset, const std::string& message) {
    entries_[entry].had_problem = true;
    pending_.push_back(
        {entry, offset, {expression_pointer(entry), column_prefix(offset) + message}});
  }

  void report_whole(size_t entry, std::string message) {
    entries_[entry].had_problem = true;
    pending_.push_back({entry, kWholeExpression, {expression_pointer(entry), std::move(message)}});
  }

  void report_threshold(std::string message) {
    pending_.push_back({kThresholdOrder, 0, {"/ThresholdMetricId", std::move(message)}});
  }

  void analyze(size_t i) {
    EntryState& e = entries_[i];
    if (e.visit != EntryState::Visit::kNew) {
      return;
    }
    e.visit = EntryState::Visit::kActive;
    stack_.push_back(i);
    if (!e.is_expression) {
      e.result = kSeriesType;
    } else {
      MathParseResult parsed = parse_math_expression(e.query->expression);
      if (!parsed.ok()) {
        report(i, parsed.error->offset, parsed.error->message);
      } else {
        e.expression = std::move(parsed.expression);
        const size_t count = e.expression->nodes.size();
        e.types.assign(count, kInvalidType);
        for (uint32_t n = 0; n < count; ++n) {
          e.types[n] = type_node(i, n);
        }
        e.result = e.types.back();
        if (e.result.kind == Kind::kString || e.result.kind == Kind::kKeyword) {
          report(i, e.expression->root().offset,
                 "an expression must yield a number, a time series or an array of time series, "
                 "not " +
                     describe_node(i, e.expression->root_index()));
        }
      }
    }
    e.valid = !e.had_problem && is_value(e.result);
    stack_.pop_back();
    e.visit = EntryState::Visit::kDone;
  }

  [[nodiscard]] std::string describe_node(size_t entry, uint32_t node) const {
    const EntryState& e = entries_[entry];
    if (e.types[node].kind == Kind::kKeyword) {
      return e.expression->nodes[node].text;
    }
    return describe(e.types[node]);
  }

  [[nodiscard]] std::string known_ids() const {
    std::string ids;
    for (const EntryState& e : entries_) {
      if (e.usable) {
        ids += ids.empty() ? "" : ", ";
        ids += e.query->id;
      }
    }
    return ids;
  }

  Type type_id(size_t i, const MathNode& node) {
    const auto it = by_id_.find(node.text);
    if (it == by_id_.end()) {
      const bool exists = std::any_of(metrics_.begin(), metrics_.end(),
                                      [&](const MetricDataQuery& q) { return q.id == node.text; });
      if (exists) {
        // An entry that validation already rejected: nothing more to say here.
        entries_[i].had_problem = true;
        return kInvalidType;
      }
      report(i, node.offset,
             "unknown Id \"" + node.text + "\"; the Ids in Metrics are " + known_ids());
      return kInvalidType;
    }
    const size_t target = it->second;
    EntryState& e = entries_[i];
    if (std::find(e.dependencies.begin(), e.dependencies.end(), target) == e.dependencies.end()) {
      e.dependencies.push_back(target);
      e.references.push_back(node.text);
    }
    if (threshold_entry_.has_value() && target == *threshold_entry_ && i != target) {
      report(i, node.offset,
             "\"" + node.text +
                 "\" is the anomaly-detection band that ThresholdMetricId names; other "
                 "expressions cannot use it");
      return kInvalidType;
    }
    EntryState& t = entries_[target];
    if (t.visit == EntryState::Visit::kActive) {
      if (target == i) {
        report(i, node.offset, "the expression refers to its own Id \"" + node.text + "\"");
        return kInvalidType;
      }
      std::string path;
      const auto start = std::find(stack_.begin(), stack_.end(), target);
      for (auto s = start; s != stack_.end(); ++s) {
        path += entries_[*s].query->id + " -> ";
      }
      path += node.text;
      report(i, node.offset, "reference cycle " + path + ": an expression cannot depend on itself");
      return kInvalidType;
    }
    analyze(target);
    return t.valid ? t.result : kInvalidType;
  }

  Type bad_argument(size_t i, const MathNode& call, size_t k, std::string_view expected) {
    const uint32_t arg = call.args[k];
    report(i, entries_[i].expression->nodes[arg].offset,
           std::string(to_string(call.function)) + " needs " + std::string(expected) +
               " as argument " + std::to_string(k + 1) + ", not " + describe_node(i, arg));
    return kInvalidType;
  }

  Type type_node(size_t i, uint32_t n) {
    const EntryState& e = entries_[i];
    const MathNode& node = e.expression->nodes[n];
    switch (node.type) {
      case MathNode::Type::kNumber:
        return kScalarType;
      case MathNode::Type::kString:
        return {Kind::kString, 0};
      case MathNode::Type::kKeyword:
        return {Kind::kKeyword, 0};
      case MathNode::Type::kId:
        return type_id(i, node);
      default:
        break;
    }
    if (node.type == MathNode::Type::kCall && node.function == MathFunction::kSearch) {
      report(i, node.offset, "SEARCH expressions cannot be used in alarms");
      return kInvalidType;
    }
    for (const uint32_t arg : node.args) {
      if (e.types[arg].kind == Kind::kInvalid) {
        return kInvalidType;  // Already reported where it went wrong.
      }
    }
    switch (node.type) {
      case MathNode::Type::kNegate: {
        const Type a = e.types[node.args[0]];
        if (!is_value(a)) {
          report(i, node.offset,
                 "'-' needs a number, a time series or an array, not " +
                     describe_node(i, node.args[0]));
          return kInvalidType;
        }
        return a;
      }
      case MathNode::Type::kBinary:
        return type_binary(i, node);
      case MathNode::Type::kArray: {
        uint32_t count = 0;
        for (size_t k = 0; k < node.args.size(); ++k) {
          const Type member = e.types[node.args[k]];
          if (!is_series_or_array(member)) {
            report(i, e.expression->nodes[node.args[k]].offset,
                   "array elements must be time series; element " + std::to_string(k + 1) + " is " +
                       describe_node(i, node.args[k]));
            return kInvalidType;
          }
          count += member.count;
        }
        return array_type(count);
      }
      case MathNode::Type::kCall:
        return type_call(i, n);
      default:
        return kInvalidType;
    }
  }

  Type type_binary(size_t i, const MathNode& node) {
    const EntryState& e = entries_[i];
    const Type a = e.types[node.args[0]];
    const Type b = e.types[node.args[1]];
    const std::string op = "'" + std::string(to_string(node.op)) + "'";
    if (!is_value(a) || !is_value(b)) {
      const uint32_t wrong = is_value(a) ? node.args[1] : node.args[0];
      report(i, node.operator_offset,
             op + " needs numbers or time series on both sides, not " + describe_node(i, wrong));
      return kInvalidType;
    }
    if (a.kind == Kind::kArray && b.kind == Kind::kArray) {
      report(i, node.operator_offset,
             op + " cannot combine two arrays of time series (" + describe(a) + " and " +
                 describe(b) + ")");
      return kInvalidType;
    }
    if (a.kind == Kind::kArray) {
      return a;
    }
    if (b.kind == Kind::kArray) {
      return b;
    }
    if (a.kind == Kind::kSeries || b.kind == Kind::kSeries) {
      return kSeriesType;
    }
    return kScalarType;
  }

  Type type_call(size_t i, uint32_t n) {
    const EntryState& e = entries_[i];
    const MathNode& node = e.expression->nodes[n];
    const auto arg = [&](size_t k) {
      return e.types[node.args[k]];
    };
    switch (node.function) {
      case MathFunction::kIf: {
        bool series = false;
        for (size_t k = 0; k < node.args.size(); ++k) {
          if (arg(k).kind != Kind::kScalar && !is_single_series(arg(k))) {
            return bad_argument(i, node, k, "a number or a time series");
          }
          series = series || arg(k).kind != Kind::kScalar;
        }
        return series ? kSeriesType : kScalarType;
      }
      case MathFunction::kFill:
        if (!is_series_or_array(arg(0))) {
          return bad_argument(i, node, 0, "a time series or an array of time series");
        }
        if (arg(1).kind != Kind::kScalar && arg(1).kind != Kind::kKeyword &&
            !is_single_series(arg(1))) {
          return bad_argument(i, node, 1, "a number, a time series, REPEAT or LINEAR");
        }
        return arg(0);
      case MathFunction::kRate:
      case MathFunction::kDiff:
      case MathFunction::kDiffTime:
      case MathFunction::kPeriod:
      case MathFunction::kMinute:
      case MathFunction::kHour:
      case MathFunction::kDay:
      case MathFunction::kDate:
      case MathFunction::kMonth:
      case MathFunction::kYear:
      case MathFunction::kEpoch:
        if (!is_series_or_array(arg(0))) {
          return bad_argument(i, node, 0, "a time series or an array of time series");
        }
        return arg(0);
      case MathFunction::kAbs:
      case MathFunction::kCeil:
      case MathFunction::kFloor:
      case MathFunction::kLog:
      case MathFunction::kLog10:
        if (!is_value(arg(0))) {
          return bad_argument(i, node, 0, "a number, a time series or an array of time series");
        }
        return arg(0);
      case MathFunction::kMetrics: {
        std::string_view filter;
        if (!node.args.empty()) {
          if (e.expression->nodes[node.args[0]].type != MathNode::Type::kString) {
            return bad_argument(i, node, 0, "a string literal");
          }
          filter = e.expression->nodes[node.args[0]].text;
        }
        uint32_t count = 0;
        for (const EntryState& other : entries_) {
          if (other.usable && !other.is_expression &&
              other.query->id.find(filter) != std::string::npos) {
            ++count;
          }
        }
        return array_type(count);
      }
      case MathFunction::kSum:
      case MathFunction::kAvg:
      case MathFunction::kMin:
      case MathFunction::kMax:
      case MathFunction::kStddev:
        if (arg(0).kind == Kind::kSeries) {
          return kScalarType;
        }
        if (arg(0).kind == Kind::kArray) {
          return kSeriesType;
        }
        return bad_argument(i, node, 0, "a time series or an array of time series");
      case MathFunction::kTimeSeries:
        if (arg(0).kind != Kind::kScalar) {
          return bad_argument(i, node, 0, "a number");
        }
        return kSeriesType;
      case MathFunction::kFirst:
      case MathFunction::kLast:
        if (arg(0).kind != Kind::kArray) {
          return bad_argument(i, node, 0, "an array of time series");
        }
        if (arg(0).count == 0) {
          report(i, node.offset,
                 std::string(to_string(node.function)) + " of an empty array (no time series)");
          return kInvalidType;
        }
        return kSeriesType;
      case MathFunction::kAnomalyDetectionBand:
        return type_band(i, n);
      case MathFunction::kSearch:
        break;
    }
    return kInvalidType;
  }

  Type type_band(size_t i, uint32_t n) {
    const EntryState& e = entries_[i];
    const MathNode& node = e.expression->nodes[n];
    if (!threshold_entry_.has_value()) {
      report(i, node.offset,
             "ANOMALY_DETECTION_BAND can only be used in an anomaly-detection alarm, as the "
             "expression of the entry that ThresholdMetricId names");
    } else if (i != *threshold_entry_) {
      report(i, node.offset,
             "ANOMALY_DETECTION_BAND can only be used as the expression of the entry that "
             "ThresholdMetricId names (\"" +
                 threshold_id_ + "\")");
    } else if (n != e.expression->root_index()) {
      report(i, node.offset,
             "the ThresholdMetricId entry must be one ANOMALY_DETECTION_BAND(...) call, not "
             "part of a larger expression");
    }
    const MathNode& metric = e.expression->nodes[node.args[0]];
    if (metric.type != MathNode::Type::kId || !is_single_series(e.types[node.args[0]])) {
      return bad_argument(i, node, 0,
                          "the Id of a metric or of an expression that returns one time series");
    }
    if (node.args.size() == 2) {
      const MathNode& k = e.expression->nodes[node.args[1]];
      if (k.type != MathNode::Type::kNumber || !(k.number > 0)) {
        report(i, k.offset,
               "ANOMALY_DETECTION_BAND needs a positive number of standard deviations as "
               "argument 2, such as 2 or 2.5");
        return kInvalidType;
      }
    }
    return array_type(2);
  }

  void check_threshold() {
    if (threshold_id_.empty()) {
      return;
    }
    const auto found =
        std::find_if(metrics_.begin(), metrics_.end(),
                     [&](const MetricDataQuery& q) { return q.id == threshold_id_; });
    if (found == metrics_.end()) {
      report_threshold("\"" + threshold_id_ +
                       "\" is not the Id of an entry of Metrics (Ids: " + known_ids() + ")");
      return;
    }
    if (!threshold_entry_.has_value()) {
      return;  // The entry is malformed; validation reported it.
    }
    const EntryState& e = entries_[*threshold_entry_];
    if (!e.is_expression) {
      report_threshold("Threshold metric expression must use ANOMALY_DETECTION_BAND function");
      return;
    }
    if (!e.expression.has_value()) {
      return;  // Syntax error, already reported.
    }
    const bool has_band = std::any_of(e.expression->nodes.begin(), e.expression->nodes.end(),
                                      [](const MathNode& node) {
                                        return node.type == MathNode::Type::kCall &&
                                               node.function == MathFunction::kAnomalyDetectionBand;
                                      });
    if (!has_band) {
      report_threshold("Threshold metric expression must use ANOMALY_DETECTION_BAND function");
    }
  }

  void check_returned() {
    for (size_t i = 0; i < entries_.size(); ++i) {
      const EntryState& e = entries_[i];
      if (!e.usable || !e.is_expression || !e.valid || !e.query->return_data ||
          (threshold_entry_.has_value() && i == *threshold_entry_)) {
        continue;
      }
      if (e.result.kind == Kind::kScalar) {
        report_whole(i, "the expression must return a single time series; it returns a scalar");
      } else if (e.result.kind == Kind::kArray && e.result.count != 1) {
        report_whole(
            i, "the expression must return a single time series; it returns " + describe(e.result));
      }
    }
  }

  const std::vector<MetricDataQuery>& metrics_;
  std::string threshold_id_;
  std::vector<EntryState> entries_;
  std::unordered_map<std::string_view, size_t> by_id_;
  std::optional<size_t> threshold_entry_;
  std::vector<size_t> stack_;  // Entries being analysed, outermost first.
  std::vector<Pending> pending_;
};

// ---------------------------------------------------------------------------------------------
// Calendar fields of a UTC time.

struct Civil {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Howard Hinnant's civil_from_days.
Civil civil_from_days(int64_t days) {
  days += 719'468;
  const int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const auto doe = static_cast<unsigned>(days - era * 146'097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

double time_field(MathFunction function, EventTime t) {
  const int64_t seconds = floor_div(t.millis(), 1000);
  const int64_t days = floor_div(seconds, 86'400);
  const int64_t second_of_day = seconds - days * 86'400;
  switch (function) {
    case MathFunction::kMinute:
      return static_cast<double>((second_of_day / 60) % 60);
    case MathFunction::kHour:
      return static_cast<double>(second_of_day / 3600);
    case MathFunction::kDay: {
      // 1970-01-01 was a Thursday: day 4 when Monday is 1.
      const int64_t since_monday = (days + 3) - floor_div(days + 3, 7) * 7;
      return static_cast<double>(since_monday + 1);
    }
    case MathFunction::kDate:
      return static_cast<double>(civil_from_days(days).day);
    case MathFunction::kMonth:
      return static_cast<double>(civil_from_days(days).month);
    case MathFunction::kYear:
      return static_cast<double>(civil_from_days(days).year);
    case MathFunction::kEpoch:
      return static_cast<double>(seconds);
    default:
      return kMissing;
  }
}

// ---------------------------------------------------------------------------------------------
// Pointwise arithmetic.

double finite_or_missing(double v) {
  return std::isfinite(v) ? v : kMissing;
}

double apply(MathOperator op, double x, double y) {
  switch (op) {
    case MathOperator::kAdd:
      return x + y;
    case MathOperator::kSubtract:
      return x - y;
    case MathOperator::kMultiply:
      return x * y;
    case MathOperator::kDivide:
      return x / y;  // x/0 is ±inf or NaN, which the caller drops.
    case MathOperator::kPower:
      return std::pow(x, y);
    case MathOperator::kEqual:
      return x == y ? 1.0 : 0.0;
    case MathOperator::kNotEqual:
      return x != y ? 1.0 : 0.0;
    case MathOperator::kLess:
      return x < y ? 1.0 : 0.0;
    case MathOperator::kLessOrEqual:
      return x <= y ? 1.0 : 0.0;
    case MathOperator::kGreater:
      return x > y ? 1.0 : 0.0;
    case MathOperator::kGreaterOrEqual:
      return x >= y ? 1.0 : 0.0;
    case MathOperator::kAnd:
      return (x != 0 && y != 0) ? 1.0 : 0.0;
    case MathOperator::kOr:
      return (x != 0 || y != 0) ? 1.0 : 0.0;
  }
  return kMissing;
}

double apply(MathFunction function, double v) {
  switch (function) {
    case MathFunction::kAbs:
      return std::fabs(v);
    case MathFunction::kCeil:
      return std::ceil(v);
    case MathFunction::kFloor:
      return std::floor(v);
    case MathFunction::kLog:
      return v > 0 ? std::log(v) : kMissing;
    case MathFunction::kLog10:
      return v > 0 ? std::log10(v) : kMissing;
    default:
      return kMissing;
  }
}

// SUM/AVG/MIN/MAX/STDDEV of the values v[0], v[stride], ... (n of them), ignoring missing ones.
double reduce(MathFunction function, const double* v, size_t n, size_t stride) {
  double sum = 0;
  size_t count = 0;
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < n; ++k) {
    const double x = v[k * stride];
    if (std::isnan(x)) {
      continue;
    }
    sum += x;
    ++count;
    low = std::min(low, x);
    high = std::max(high, x);
  }
  if (count == 0) {
    return kMissing;
  }
  const auto count_d = static_cast<double>(count);
  switch (function) {
    case MathFunction::kSum:
      return finite_or_missing(sum);
    case MathFunction::kAvg:
      return finite_or_missing(sum / count_d);
    case MathFunction::kMin:
      return low;
    case MathFunction::kMax:
      return high;
    case MathFunction::kStddev: {
      // Two passes: the mean first, then squared deviations (stable for large offsets).
      const double mean = sum / count_d;
      double squares = 0;
      for (size_t k = 0; k < n; ++k) {
        const double x = v[k * stride];
        if (!std::isnan(x)) {
          squares += (x - mean) * (x - mean);
        }
      }
      return finite_or_missing(std::sqrt(squares / count_d));
    }
    default:
      return kMissing;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public names.

std::string_view to_string(MathKind kind) {
  switch (kind) {
    case MathKind::kScalar:
      return "S";
    case MathKind::kSeries:
      return "TS";
    case MathKind::kArray:
      return "TS[]";
  }
  return "?";
}

std::string_view to_string(MathOperator op) {
  switch (op) {
    case MathOperator::kAdd:
      return "+";
    case MathOperator::kSubtract:
      return "-";
    case MathOperator::kMultiply:
      return "*";
    case MathOperator::kDivide:
      return "/";
    case MathOperator::kPower:
      return "^";
    case MathOperator::kEqual:
      return "==";
    case MathOperator::kNotEqual:
      return "!=";
    case MathOperator::kLess:
      return "<";
    case MathOperator::kLessOrEqual:
      return "<=";
    case MathOperator::kGreater:
      return ">";
    case MathOperator::kGreaterOrEqual:
      return ">=";
    case MathOperator::kAnd:
      return "AND";
    case MathOperator::kOr:
      return "OR";
  }
  return "?";
}

std::string_view to_string(MathFunction function) {
  return spec(function).name;
}

std::optional<MathFunction> parse_math_function(std::string_view name) {
  for (const FunctionSpec& s : kFunctions) {
    if (s.name == name) {
      return s.function;
    }
  }
  return std::nullopt;
}

std::string MathExpression::to_string() const {
  std::string out;
  if (!nodes.empty()) {
    append_prefix_form(*this, root_index(), out);
  }
  return out;
}

std::string MathError::to_string() const {
  return column_prefix(offset) + message;
}

MathParseResult parse_math_expression(std::string_view text) {
  MathParseResult result;
  if (is_insights_query(text)) {
    result.error = MathError{0, "Metrics Insights queries (SELECT ...) are not supported"};
    return result;
  }
  if (text.size() > std::numeric_limits<uint32_t>::max() / 2) {
    result.error = MathError{0, "the expression is too long"};
    return result;
  }
  std::vector<Token> tokens;
  if (std::optional<MathError> error = tokenize(text, tokens)) {
    result.error = std::move(error);
    return result;
  }
  if (tokens.size() == 1) {
    result.error = MathError{0, "the expression is empty"};
    return result;
  }
  return Parser(text, std::move(tokens)).run();
}

MathAnalysis analyze_alarm_metrics(const std::vector<MetricDataQuery>& metrics,
                                   std::string_view threshold_metric_id) {
  Analyzer analyzer(metrics, threshold_metric_id);
  analyzer.run();
  return analyzer.result();
}

std::vector<MathProblem> check_alarm_metrics(const std::vector<MetricDataQuery>& metrics,
                                             std::string_view threshold_metric_id) {
  return analyze_alarm_metrics(metrics, threshold_metric_id).problems;
}

void NullBandProvider::band(std::string_view /*metric_id*/, double /*k*/,
                            std::span<const EventTime> /*times*/,
                            std::span<std::optional<double>> /*upper*/,
                            std::span<std::optional<double>> /*lower*/) const {
}

// ---------------------------------------------------------------------------------------------
// The compiled program.
//
// Every value lives in a slot: scalars in a vector of doubles, series in rows of R doubles
// (NaN = missing) in one row-major buffer. An array occupies consecutive rows. Each operation
// writes every cell of its own fresh slot, so there is no aliasing between what an operation
// reads and writes; Ids, FIRST, LAST and contiguous gathers alias existing slots instead of
// copying them.

struct MetricMath::Program {
  struct Operand {
    MathKind kind = MathKind::kScalar;
    uint32_t slot = 0;   // Scalar index, or first row.
    uint32_t count = 0;  // Rows: 1 for a series, the length for an array, 0 for a scalar.
  };

  enum class OpCode : uint8_t {
    kNegate,
    kBinary,
    kIf,
    kFill,
    kRate,
    kDiff,
    kDiffTime,
    kMath,  // ABS, CEIL, FLOOR, LOG, LOG10.
    kGather,
    kReduceArray,
    kReduceSeries,
    kPeriod,
    kTimeSeries,
    kTimeField,
    kBand,
  };

  enum class FillMode : uint8_t { kValue, kRepeat, kLinear };

  struct Op {
    OpCode code = OpCode::kNegate;
    MathOperator op = MathOperator::kAdd;
    MathFunction function = MathFunction::kIf;
    FillMode fill = FillMode::kValue;
    Operand out;
    Operand a;
    Operand b;
    Operand c;
    bool has_c = false;
    double constant = 0;
    std::vector<uint32_t> rows;  // kGather: source rows in order.
    std::string metric_id;       // kBand.
  };

  std::vector<std::string> input_ids;  // Rows 0..n-1.
  std::string returned_id;
  std::string band_id;
  Operand returned;
  std::optional<Operand> band;
  std::vector<Op> ops;
  uint32_t row_count = 0;
  std::vector<double> initial_scalars;  // Literals; NaN for computed scalars.
};

namespace {

using Program = MetricMath::Program;
using Operand = Program::Operand;
using Op = Program::Op;
using OpCode = Program::OpCode;

uint32_t members(const Operand& o) {
  return o.kind == MathKind::kArray ? o.count : 1;
}

class Compiler {
 public:
  Compiler(const Analyzer& analyzer, Program& program)
      : analyzer_(analyzer), program_(program), operands_(analyzer.entries().size()) {
    const std::vector<EntryState>& entries = analyzer_.entries();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].usable && !entries[i].is_expression) {
        operands_[i] = Operand{MathKind::kSeries, program_.row_count++, 1};
        program_.input_ids.push_back(entries[i].query->id);
      }
    }
  }

  void compile(size_t returned) {
    program_.returned_id = analyzer_.entries()[returned].query->id;
    visit(returned);
    program_.returned = *operands_[returned];
    if (const std::optional<size_t> threshold = analyzer_.threshold_entry()) {
      program_.band_id = analyzer_.entries()[*threshold].query->id;
      visit(*threshold);
      program_.band = *operands_[*threshold];
    }
  }

 private:
  // Compiles entry i after everything it depends on (post-order; the analysis ruled out cycles).
  void visit(size_t i) {
    if (operands_[i].has_value()) {
      return;
    }
    for (const size_t dependency : analyzer_.entries()[i].dependencies) {
      visit(dependency);
    }
    compile_entry(i);
  }

  Operand new_scalar(double initial) {
    program_.initial_scalars.push_back(initial);
    return {MathKind::kScalar, static_cast<uint32_t>(program_.initial_scalars.size() - 1), 0};
  }

  Operand new_value(Type t) {
    if (t.kind == Kind::kScalar) {
      return new_scalar(kMissing);
    }
    const Operand o{t.kind == Kind::kArray ? MathKind::kArray : MathKind::kSeries,
                    program_.row_count, t.count};
    program_.row_count += t.count;
    return o;
  }

  Op& emit(OpCode code, Operand out) {
    Op op;
    op.code = code;
    op.out = out;
    program_.ops.push_back(std::move(op));
    return program_.ops.back();
  }

  // An array made of the given rows: aliased when they are already consecutive.
  Operand gather(const std::vector<uint32_t>& rows) {
    const auto count = static_cast<uint32_t>(rows.size());
    bool consecutive = true;
    for (uint32_t k = 1; k < count; ++k) {
      consecutive = consecutive && rows[k] == rows[0] + k;
    }
    if (count == 0 || consecutive) {
      return {MathKind::kArray, count == 0 ? 0 : rows[0], count};
    }
    const Operand out = new_value(array_type(count));
    emit(OpCode::kGather, out).rows = rows;
    return out;
  }

  void compile_entry(size_t i) {
    const EntryState& e = analyzer_.entries()[i];
    const MathExpression& expression = *e.expression;
    std::vector<Operand> node_operands(expression.nodes.size());
    for (uint32_t n = 0; n < expression.nodes.size(); ++n) {
      const MathNode& node = expression.nodes[n];
      const Type type = e.types[n];
      const auto arg = [&](size_t k) {
        return node_operands[node.args[k]];
      };
      Operand& result = node_operands[n];
      switch (node.type) {
        case MathNode::Type::kNumber:
          result = new_scalar(node.number);
          break;
        case MathNode::Type::kString:
        case MathNode::Type::kKeyword:
          break;  // Read by the call that takes it.
        case MathNode::Type::kId:
          result = *operands_[analyzer_.entry_of(node.text)];
          break;
        case MathNode::Type::kNegate: {
          result = new_value(type);
          emit(OpCode::kNegate, result).a = arg(0);
          break;
        }
        case MathNode::Type::kBinary: {
          result = new_value(type);
          Op& op = emit(OpCode::kBinary, result);
          op.op = node.op;
          op.a = arg(0);
          op.b = arg(1);
          break;
        }
        case MathNode::Type::kArray: {
          std::vector<uint32_t> rows;
          for (size_t k = 0; k < node.args.size(); ++k) {
            for (uint32_t m = 0; m < members(arg(k)); ++m) {
              rows.push_back(arg(k).slot + m);
            }
          }
          result = gather(rows);
          break;
        }
        case MathNode::Type::kCall:
          result = compile_call(e, node, type, node_operands);
          break;
      }
    }
    operands_[i] = node_operands.back();
  }

  Operand compile_call(const EntryState& e, const MathNode& node, Type type,
                       const std::vector<Operand>& node_operands) {
    const auto arg = [&](size_t k) {
      return node_operands[node.args[k]];
    };
    const MathExpression& expression = *e.expression;
    switch (node.function) {
      case MathFunction::kIf: {
        const Operand out = new_value(type);
        Op& op = emit(OpCode::kIf, out);
        op.a = arg(0);
        op.b = arg(1);
        op.has_c = node.args.size() == 3;
        if (op.has_c) {
          op.c = arg(2);
        }
        return out;
      }
      case MathFunction::kFill: {
        const Operand out = new_value(type);
        Op& op = emit(OpCode::kFill, out);
        op.a = arg(0);
        const MathNode& how = expression.nodes[node.args[1]];
        if (how.type == MathNode::Type::kKeyword) {
          op.fill = how.text == "REPEAT" ? Program::FillMode::kRepeat : Program::FillMode::kLinear;
        } else {
          op.fill = Program::FillMode::kValue;
          op.b = arg(1);
        }
        return out;
      }
      case MathFunction::kRate:
      case MathFunction::kDiff:
      case MathFunction::kDiffTime: {
        const OpCode code = node.function == MathFunction::kRate   ? OpCode::kRate
                            : node.function == MathFunction::kDiff ? OpCode::kDiff
                                                                   : OpCode::kDiffTime;
        const Operand out = new_value(type);
        emit(code, out).a = arg(0);
        return out;
      }
      case MathFunction::kAbs:
      case MathFunction::kCeil:
      case MathFunction::kFloor:
      case MathFunction::kLog:
      case MathFunction::kLog10:
      case MathFunction::kMinute:
      case MathFunction::kHour:
      case MathFunction::kDay:
      case MathFunction::kDate:
      case MathFunction::kMonth:
      case MathFunction::kYear:
      case MathFunction::kEpoch: {
        const bool math = node.function <= MathFunction::kLog10;
        const Operand out = new_value(type);
        Op& op = emit(math ? OpCode::kMath : OpCode::kTimeField, out);
        op.function = node.function;
        op.a = arg(0);
        return out;
      }
      case MathFunction::kMetrics: {
        const std::string_view filter =
            node.args.empty() ? std::string_view() : expression.nodes[node.args[0]].text;
        std::vector<uint32_t> rows;
        for (uint32_t r = 0; r < program_.input_ids.size(); ++r) {
          if (program_.input_ids[r].find(filter) != std::string::npos) {
            rows.push_back(r);
          }
        }
        return gather(rows);
      }
      case MathFunction::kSum:
      case MathFunction::kAvg:
      case MathFunction::kMin:
      case MathFunction::kMax:
      case MathFunction::kStddev: {
        const Operand out = new_value(type);
        Op& op = emit(
            arg(0).kind == MathKind::kArray ? OpCode::kReduceArray : OpCode::kReduceSeries, out);
        op.function = node.function;
        op.a = arg(0);
        return out;
      }
      case MathFunction::kPeriod: {
        const Operand out = new_value(type);
        emit(OpCode::kPeriod, out);
        return out;
      }
      case MathFunction::kTimeSeries: {
        const Operand out = new_value(type);
        emit(OpCode::kTimeSeries, out).a = arg(0);
        return out;
      }
      case MathFunction::kFirst:
        return {MathKind::kSeries, arg(0).slot, 1};
      case MathFunction::kLast:
        return {MathKind::kSeries, arg(0).slot + arg(0).count - 1, 1};
      case MathFunction::kAnomalyDetectionBand: {
        const Operand out = new_value(type);
        Op& op = emit(OpCode::kBand, out);
        op.metric_id = expression.nodes[node.args[0]].text;
        op.constant = node.args.size() == 2 ? expression.nodes[node.args[1]].number : 2.0;
        return out;
      }
      case MathFunction::kSearch:
        break;
    }
    return {};
  }

  const Analyzer& analyzer_;
  Program& program_;
  std::vector<std::optional<Operand>> operands_;  // Per entry, once compiled.
};

// Runs a program's operations over one range.
class Machine {
 public:
  Machine(std::vector<double>& rows, std::vector<double>& scalars, const MathInput& input,
          const BandProvider& bands, std::vector<std::optional<double>>& band_upper,
          std::vector<std::optional<double>>& band_lower)
      : rows_(rows),
        scalars_(scalars),
        times_(input.times),
        period_(static_cast<double>(input.period_seconds)),
        r_(input.times.size()),
        bands_(bands),
        band_upper_(band_upper),
        band_lower_(band_lower) {}

  double* row(const Operand& o, uint32_t member) {
    const size_t index = size_t{o.slot} + (o.kind == MathKind::kArray ? member : 0);
    return rows_.data() + index * r_;
  }

  double& scalar(const Operand& o) { return scalars_[o.slot]; }

  void run(const Op& op) {
    switch (op.code) {
      case OpCode::kNegate:
      case OpCode::kMath:
        pointwise(op);
        break;
      case OpCode::kBinary:
        binary(op);
        break;
      case OpCode::kIf:
        if_else(op);
        break;
      case OpCode::kFill:
        fill(op);
        break;
      case OpCode::kRate:
      case OpCode::kDiff:
      case OpCode::kDiffTime:
        difference(op);
        break;
      case OpCode::kGather:
        for (uint32_t m = 0; m < op.rows.size(); ++m) {
          const double* src = rows_.data() + size_t{op.rows[m]} * r_;
          std::copy(src, src + r_, row(op.out, m));
        }
        break;
      case OpCode::kReduceArray: {
        double* dst = row(op.out, 0);
        const double* first = row(op.a, 0);
        for (size_t i = 0; i < r_; ++i) {
          dst[i] = reduce(op.function, first + i, op.a.count, r_);
        }
        break;
      }
      case OpCode::kReduceSeries:
        scalar(op.out) = reduce(op.function, row(op.a, 0), r_, 1);
        break;
      case OpCode::kPeriod:
        for (uint32_t m = 0; m < members(op.out); ++m) {
          std::fill_n(row(op.out, m), r_, period_);
        }
        break;
      case OpCode::kTimeSeries:
        std::fill_n(row(op.out, 0), r_, scalar(op.a));
        break;
      case OpCode::kTimeField:
        for (uint32_t m = 0; m < members(op.out); ++m) {
          const double* src = row(op.a, m);
          double* dst = row(op.out, m);
          for (size_t i = 0; i < r_; ++i) {
            dst[i] = std::isnan(src[i]) ? kMissing : time_field(op.function, times_[i]);
          }
        }
        break;
      case OpCode::kBand:
        band(op);
        break;
    }
  }

 private:
  void pointwise(const Op& op) {
    const auto f = [&](double v) {
      return finite_or_missing(op.code == OpCode::kNegate ? -v : apply(op.function, v));
    };
    if (op.out.kind == MathKind::kScalar) {
      scalar(op.out) = f(scalar(op.a));
      return;
    }
    for (uint32_t m = 0; m < members(op.out); ++m) {
      const double* src = row(op.a, m);
      double* dst = row(op.out, m);
      for (size_t i = 0; i < r_; ++i) {
        dst[i] = f(src[i]);
      }
    }
  }

  void binary(const Op& op) {
    const bool a_series = op.a.kind != MathKind::kScalar;
    const bool b_series = op.b.kind != MathKind::kScalar;
    if (op.out.kind == MathKind::kScalar) {
      const double x = scalar(op.a);
      const double y = scalar(op.b);
      scalar(op.out) =
          std::isnan(x) || std::isnan(y) ? kMissing : finite_or_missing(apply(op.op, x, y));
      return;
    }
    for (uint32_t m = 0; m < members(op.out); ++m) {
      const double* pa = a_series ? row(op.a, m) : nullptr;
      const double* pb = b_series ? row(op.b, m) : nullptr;
      const double sa = a_series ? 0 : scalar(op.a);
      const double sb = b_series ? 0 : scalar(op.b);
      double* dst = row(op.out, m);
      for (size_t i = 0; i < r_; ++i) {
        double x = a_series ? pa[i] : sa;
        double y = b_series ? pb[i] : sb;
        if (a_series && b_series) {
          // Two series: a point missing from one counts as 0, from both stays missing.
          if (std::isnan(x) && std::isnan(y)) {
            dst[i] = kMissing;
            continue;
          }
          x = std::isnan(x) ? 0 : x;
          y = std::isnan(y) ? 0 : y;
        } else if (std::isnan(x) || std::isnan(y)) {
          dst[i] = kMissing;
          continue;
        }
        dst[i] = finite_or_missing(apply(op.op, x, y));
      }
    }
  }

  void if_else(const Op& op) {
    if (op.a.kind == MathKind::kScalar) {
      // A scalar condition chooses a whole operand.
      const double c = scalar(op.a);
      const Operand* chosen = nullptr;
      if (!std::isnan(c)) {
        chosen = c != 0 ? &op.b : (op.has_c ? &op.c : nullptr);
      }
      if (op.out.kind == MathKind::kScalar) {
        scalar(op.out) = chosen != nullptr ? scalar(*chosen) : kMissing;
        return;
      }
      double* dst = row(op.out, 0);
      if (chosen == nullptr) {
        std::fill_n(dst, r_, kMissing);
      } else if (chosen->kind == MathKind::kScalar) {
        std::fill_n(dst, r_, scalar(*chosen));
      } else {
        const double* src = row(*chosen, 0);
        std::copy(src, src + r_, dst);
      }
      return;
    }
    const double* cond = row(op.a, 0);
    const bool then_series = op.b.kind != MathKind::kScalar;
    const bool else_series = op.has_c && op.c.kind != MathKind::kScalar;
    const double* then_row = then_series ? row(op.b, 0) : nullptr;
    const double* else_row = else_series ? row(op.c, 0) : nullptr;
    const double then_scalar = then_series ? 0 : scalar(op.b);
    const double else_scalar = (op.has_c && !else_series) ? scalar(op.c) : kMissing;
    double* dst = row(op.out, 0);
    for (size_t i = 0; i < r_; ++i) {
      if (std::isnan(cond[i])) {
        dst[i] = kMissing;
      } else if (cond[i] != 0) {
        // True: the "then" value; a series lacking the point gives 0.
        dst[i] = then_series ? (std::isnan(then_row[i]) ? 0 : then_row[i]) : then_scalar;
      } else {
        // False: the "else" value; dropped where it is missing or omitted.
        dst[i] = else_series ? else_row[i] : else_scalar;
      }
    }
  }

  void fill(const Op& op) {
    for (uint32_t m = 0; m < members(op.out); ++m) {
      const double* src = row(op.a, m);
      double* dst = row(op.out, m);
      std::copy(src, src + r_, dst);
      switch (op.fill) {
        case Program::FillMode::kValue: {
          const bool series = op.b.kind != MathKind::kScalar;
          const double* with = series ? row(op.b, 0) : nullptr;
          const double constant = series ? 0 : scalar(op.b);
          for (size_t i = 0; i < r_; ++i) {
            if (std::isnan(dst[i])) {
              dst[i] = series ? with[i] : constant;
            }
          }
          break;
        }
        case Program::FillMode::kRepeat: {
          double last = kMissing;  // Leading gaps stay missing.
          for (size_t i = 0; i < r_; ++i) {
            if (std::isnan(src[i])) {
              dst[i] = last;
            } else {
              last = src[i];
            }
          }
          break;
        }
        case Program::FillMode::kLinear: {
          std::optional<size_t> previous;
          for (size_t i = 0; i < r_; ++i) {
            if (std::isnan(src[i])) {
              continue;
            }
            if (previous.has_value() && i - *previous > 1) {
              const size_t p = *previous;
              const double t0 = static_cast<double>(times_[p].millis());
              const double span = static_cast<double>(times_[i].millis()) - t0;
              for (size_t k = p + 1; k < i; ++k) {
                const double fraction = (static_cast<double>(times_[k].millis()) - t0) / span;
                dst[k] = finite_or_missing(src[p] + (src[i] - src[p]) * fraction);
              }
            }
            previous = i;
          }
          break;
        }
      }
    }
  }

  void difference(const Op& op) {
    for (uint32_t m = 0; m < members(op.out); ++m) {
      const double* src = row(op.a, m);
      double* dst = row(op.out, m);
      std::optional<size_t> previous;
      for (size_t i = 0; i < r_; ++i) {
        dst[i] = kMissing;
        if (std::isnan(src[i])) {
          continue;
        }
        if (previous.has_value()) {
          const size_t p = *previous;
          const double seconds = static_cast<double>((times_[i] - times_[p]).millis()) / 1000.0;
          const double delta = src[i] - src[p];
          const double v = op.code == OpCode::kRate   ? delta / seconds
                           : op.code == OpCode::kDiff ? delta
                                                      : seconds;
          dst[i] = finite_or_missing(v);
        }
        previous = i;
      }
    }
  }

  void band(const Op& op) {
    band_upper_.assign(r_, std::nullopt);
    band_lower_.assign(r_, std::nullopt);
    bands_.band(op.metric_id, op.constant, times_, band_upper_, band_lower_);
    double* upper = row(op.out, 0);
    double* lower = row(op.out, 1);
    for (size_t i = 0; i < r_; ++i) {
      upper[i] = band_upper_[i].has_value() ? finite_or_missing(*band_upper_[i]) : kMissing;
      lower[i] = band_lower_[i].has_value() ? finite_or_missing(*band_lower_[i]) : kMissing;
    }
  }

  std::vector<double>& rows_;
  std::vector<double>& scalars_;
  std::span<const EventTime> times_;
  double period_;
  size_t r_;
  const BandProvider& bands_;
  std::vector<std::optional<double>>& band_upper_;
  std::vector<std::optional<double>>& band_lower_;
};

void copy_out(const double* row, size_t r, std::vector<std::optional<double>>& out) {
  out.resize(r);
  for (size_t i = 0; i < r; ++i) {
    out[i] = std::isnan(row[i]) ? std::nullopt : std::optional<double>(row[i]);
  }
}

}  // namespace

MetricMath::MetricMath(std::shared_ptr<const Program> program) : program_(std::move(program)) {
}

const std::vector<std::string>& MetricMath::input_ids() const {
  return program_->input_ids;
}

const std::string& MetricMath::returned_id() const {
  return program_->returned_id;
}

const std::string& MetricMath::band_id() const {
  return program_->band_id;
}

pipeline::Status MetricMath::evaluate(const MathInput& input, const BandProvider& bands,
                                      MathOutput& out) {
  out.values.clear();
  out.band_upper.clear();
  out.band_lower.clear();
  const Program& program = *program_;
  if (input.period_seconds <= 0) {
    return pipeline::invalid_argument("metric math: the period must be positive, got " +
                                      std::to_string(input.period_seconds));
  }
  if (input.values.size() != program.input_ids.size()) {
    return pipeline::invalid_argument(
        "metric math: expected values for " + std::to_string(program.input_ids.size()) +
        " MetricStat entries, got " + std::to_string(input.values.size()));
  }
  const size_t r = input.times.size();
  for (size_t i = 1; i < r; ++i) {
    if (input.times[i] <= input.times[i - 1]) {
      return pipeline::invalid_argument(
          "metric math: period start times must be strictly increasing (index " +
          std::to_string(i) + ")");
    }
  }
  for (size_t j = 0; j < input.values.size(); ++j) {
    if (input.values[j].size() != r) {
      return pipeline::invalid_argument("metric math: \"" + program.input_ids[j] + "\" has " +
                                        std::to_string(input.values[j].size()) +
                                        " values for a range of " + std::to_string(r) + " periods");
    }
  }

  rows_.assign(size_t{program.row_count} * r, kMissing);
  scalars_.assign(program.initial_scalars.begin(), program.initial_scalars.end());
  for (size_t j = 0; j < input.values.size(); ++j) {
    double* dst = rows_.data() + j * r;
    for (size_t i = 0; i < r; ++i) {
      const std::optional<double>& v = input.values[j][i];
      dst[i] = v.has_value() ? finite_or_missing(*v) : kMissing;
    }
  }
  Machine machine(rows_, scalars_, input, bands, band_upper_, band_lower_);
  for (const Program::Op& op : program.ops) {
    machine.run(op);
  }
  copy_out(machine.row(program.returned, 0), r, out.values);
  if (program.band.has_value()) {
    copy_out(machine.row(*program.band, 0), r, out.band_upper);
    copy_out(machine.row(*program.band, 1), r, out.band_lower);
  }
  return pipeline::Status::ok();
}

MetricMathCompileResult compile_metric_math(const std::vector<MetricDataQuery>& metrics,
                                            std::string_view threshold_metric_id) {
  MetricMathCompileResult result;
  Analyzer analyzer(metrics, threshold_metric_id);
  analyzer.run();
  result.problems = analyzer.result().problems;
  for (size_t i = 0; i < metrics.size(); ++i) {
    if (!analyzer.entries()[i].usable) {
      result.problems.push_back({pipeline::json_pointer_child("/Metrics", i),
                                 "needs an Id and exactly one of MetricStat or Expression"});
    }
  }
  std::vector<size_t> returned;
  for (size_t i = 0; i < metrics.size(); ++i) {
    if (metrics[i].return_data && analyzer.entries()[i].usable &&
        analyzer.threshold_entry() != std::optional<size_t>(i)) {
      returned.push_back(i);
    }
  }
  if (returned.size() != 1) {
    result.problems.push_back(
        {"/Metrics", "exactly one entry" +
                         std::string(analyzer.threshold_entry().has_value()
                                         ? " besides the ThresholdMetricId entry"
                                         : "") +
                         " must have ReturnData true; " + std::to_string(returned.size()) + " do"});
  }
  if (!result.problems.empty()) {
    return result;
  }
  auto program = std::make_shared<Program>();
  Compiler compiler(analyzer, *program);
  compiler.compile(returned.front());
  result.math = MetricMath(std::move(program));
  return result;
}

}  // namespace tw::detectors
