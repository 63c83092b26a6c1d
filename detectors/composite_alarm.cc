#include "detectors/composite_alarm.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <queue>
#include <set>
#include <unordered_map>
#include <utility>

#include "pipeline/json_pointer.h"

namespace tw::detectors {
namespace {

using pipeline::EventTime;

// ---------------------------------------------------------------------------------------------
// Text helpers.

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_word_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Unquoted references end where the grammar can continue: a name with any of these characters
// has to be quoted, which keeps `ALARM(a)` and `AT_LEAST(1, OK, (a, b))` unambiguous.
bool ends_unquoted_ref(char c) {
  return is_space(c) || c == '(' || c == ')' || c == ',' || c == '"';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'a' && x <= 'z') {
      x = static_cast<char>(x - 'a' + 'A');
    }
    if (x != b[i]) {
      return false;
    }
  }
  return true;
}

// Positions are reported in characters, as the configuration loader does, so that an editor's
// column and the message agree for names outside ASCII.
size_t character_at(std::string_view text, size_t offset) {
  size_t chars = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U) {
      ++chars;
    }
  }
  return chars;
}

// A JSON string literal. Names come from a JSON file, so they are valid UTF-8; the replace
// handler keeps a programmatic name with bad bytes from throwing.
std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// ---------------------------------------------------------------------------------------------
// The reason's date: `Friday 22 July, 2022 15:57:45 UTC`.

struct Civil {
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  unsigned weekday = 0;  // 0 = Sunday.
};

Civil civil_from_days(int64_t days) {
  // Inverse of pipeline::days_from_civil (H. Hinnant's algorithm).
  const int64_t z = days + 719'468;
  const int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const auto doe = static_cast<unsigned>(z - era * 146'097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<int64_t>(yoe) + era * 400 + (c.month <= 2 ? 1 : 0);
  // 1970-01-01 was a Thursday.
  c.weekday = static_cast<unsigned>(((days % 7) + 7 + 4) % 7);
  return c;
}

std::string format_reason_date(EventTime t) {
  static constexpr std::array<const char*, 7> kWeekdays = {
      "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  static constexpr std::array<const char*, 12> kMonths = {
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  constexpr int64_t kMillisPerDay = 86'400'000;
  int64_t days = t.millis() / kMillisPerDay;
  int64_t rest = t.millis() % kMillisPerDay;
  if (rest < 0) {
    rest += kMillisPerDay;
    --days;
  }
  const Civil c = civil_from_days(days);
  const int64_t seconds = rest / 1000;
  std::array<char, 96> buf{};
  std::snprintf(buf.data(), buf.size(), "%s %02u %s, %04lld %02lld:%02lld:%02lld UTC",
                kWeekdays.at(c.weekday), c.day, kMonths.at(c.month - 1),
                static_cast<long long>(c.year), static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  return buf.data();
}

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent over the grammar in the header, stopping at the first error (a
// precise first error is more useful than a cascade of guesses).

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  RuleParseResult parse() {
    RuleParseResult result;
    skip_space();
    if (at_end()) {
      fail(pos_, "the rule is empty; write a rule such as ALARM(name), TRUE or FALSE");
    } else {
      RuleNode root = parse_or();
      if (!error_) {
        skip_space();
        if (!at_end()) {
          fail(pos_, "unexpected " + describe_here() +
                         " after a complete expression; expected AND, OR or the end of the rule");
        }
      }
      if (!error_) {
        result.rule = AlarmRule{std::move(root), elements_};
      }
    }
    if (error_) {
      error_->character = character_at(text_, error_->offset);
      result.error = std::move(error_);
    }
    return result;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }

  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && is_space(text_[pos_])) {
      ++pos_;
    }
  }

  // The word at the current position (after spaces), without consuming it.
  std::string_view peek_word() {
    skip_space();
    size_t end = pos_;
    while (end < text_.size() && is_word_char(text_[end])) {
      ++end;
    }
    return text_.substr(pos_, end - pos_);
  }

  bool accept_keyword(std::string_view keyword) {
    const std::string_view word = peek_word();
    if (!word.empty() && iequals(word, keyword)) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  bool accept(char c) {
    skip_space();
    if (peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // What stands at the next token, for messages: a word, a character or the end. Const, so that
  // it can be evaluated in any order with the position passed beside it.
  std::string describe_here() const {
    size_t at = pos_;
    while (at < text_.size() && is_space(text_[at])) {
      ++at;
    }
    if (at >= text_.size()) {
      return "end of rule";
    }
    size_t end = at;
    while (end < text_.size() && is_word_char(text_[end])) {
      ++end;
    }
    if (end == at) {
      // The whole character, not its first byte, so that messages stay valid UTF-8.
      ++end;
      while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0U) == 0x80U) {
        ++end;
      }
    }
    return "'" + std::string(text_.substr(at, end - at)) + "'";
  }

  void fail(size_t offset, std::string message) {
    if (!error_) {
      error_ = RuleError{offset, 1, std::move(message)};
    }
  }

  bool expect(char c, std::string_view what) {
    if (accept(c)) {
      return true;
    }
    fail(pos_, "expected '" + std::string(1, c) + "' " + std::string(what) + ", found " +
                   describe_here());
    return false;
  }

  bool enter(size_t offset) {
    if (++depth_ > kMaxRuleDepth) {
      fail(offset, "the rule is nested more than " + std::to_string(kMaxRuleDepth) +
                       " levels deep (parentheses and NOT)");
      return false;
    }
    return true;
  }

  RuleNode parse_or() { return parse_chain(RuleNode::Kind::kOr, "OR"); }

  RuleNode parse_and() { return parse_chain(RuleNode::Kind::kAnd, "AND"); }

  // or_expr and and_expr: one operand, or an n-ary node of two or more.
  RuleNode parse_chain(RuleNode::Kind kind, std::string_view keyword) {
    skip_space();
    const size_t start = pos_;
    RuleNode first = kind == RuleNode::Kind::kOr ? parse_and() : parse_not();
    if (error_) {
      return first;
    }
    RuleNode chain;
    chain.kind = kind;
    chain.offset = start;
    chain.operands.push_back(std::move(first));
    while (!error_ && accept_keyword(keyword)) {
      chain.operands.push_back(kind == RuleNode::Kind::kOr ? parse_and() : parse_not());
    }
    if (chain.operands.size() == 1) {
      return std::move(chain.operands.front());
    }
    return chain;
  }

  RuleNode parse_not() {
    skip_space();
    const size_t start = pos_;
    if (accept_keyword("NOT")) {
      RuleNode node;
      node.kind = RuleNode::Kind::kNot;
      node.offset = start;
      if (enter(start)) {
        node.operands.push_back(parse_not());
        --depth_;
      }
      return node;
    }
    return parse_primary();
  }

  RuleNode parse_primary() {
    skip_space();
    RuleNode node;
    node.offset = pos_;
    if (at_end()) {
      fail(pos_,
           "unexpected end of rule; expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), "
           "AT_LEAST(...), TRUE, FALSE, NOT or '('");
      return node;
    }
    if (accept('(')) {
      const size_t open = node.offset;
      if (!enter(open)) {
        return node;
      }
      ++elements_;
      node = parse_or();
      --depth_;
      if (!error_) {
        expect(')', "to close the '(' at character " + std::to_string(character_at(text_, open)));
      }
      return node;
    }
    const std::string_view word = peek_word();
    if (word.empty()) {
      fail(pos_, "unexpected " + describe_here() +
                     "; expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), "
                     "TRUE, FALSE, NOT or '('");
      return node;
    }
    if (iequals(word, "TRUE") || iequals(word, "FALSE")) {
      pos_ += word.size();
      node.kind = iequals(word, "TRUE") ? RuleNode::Kind::kTrue : RuleNode::Kind::kFalse;
      ++elements_;
      return node;
    }
    if (const auto state = state_keyword(word)) {
      pos_ += word.size();
      node.kind = RuleNode::Kind::kState;
      node.state = *state;
      if (expect('(', "after " + std::string(word))) {
        if (auto ref = parse_ref()) {
          node.refs.push_back(std::move(*ref));
          ++elements_;
          close_call(node.refs.back());
        }
      }
      return node;
    }
    if (iequals(word, "AT_LEAST")) {
      pos_ += word.size();
      parse_at_least(node);
      return node;
    }
    if (iequals(word, "AND") || iequals(word, "OR") || iequals(word, "NOT")) {
      fail(pos_, "expected an operand before or after '" + std::string(word) +
                     "': ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, "
                     "FALSE or '('");
      return node;
    }
    fail(pos_, "unknown keyword '" + std::string(word) +
                   "'; expected ALARM, OK, INSUFFICIENT_DATA, AT_LEAST, TRUE, FALSE, NOT or '('");
    return node;
  }

  static std::optional<AlarmState> state_keyword(std::string_view word) {
    if (iequals(word, "ALARM")) {
      return AlarmState::kAlarm;
    }
    if (iequals(word, "OK")) {
      return AlarmState::kOk;
    }
    if (iequals(word, "INSUFFICIENT_DATA")) {
      return AlarmState::kInsufficientData;
    }
    return std::nullopt;
  }

  std::optional<AlarmRef> parse_ref() {
    skip_space();
    AlarmRef ref;
    ref.offset = pos_;
    if (peek() == '"') {
      const size_t close = text_.find('"', pos_ + 1);
      if (close == std::string_view::npos) {
        fail(pos_, "unterminated quoted alarm name: no closing '\"'");
        return std::nullopt;
      }
      ref.text = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      ref.quoted = true;
      if (ref.text.empty()) {
        fail(pos_, "empty alarm name \"\"");
        return std::nullopt;
      }
      pos_ = close + 1;
      return ref;
    }
    while (!at_end() && !ends_unquoted_ref(text_[pos_])) {
      ++pos_;
    }
    if (pos_ == ref.offset) {
      fail(pos_, "expected an alarm name or ARN, found " + describe_here());
      return std::nullopt;
    }
    ref.text = std::string(text_.substr(ref.offset, pos_ - ref.offset));
    return ref;
  }

  // The ')' of ALARM(x); the usual mistake here is an unquoted name with a space or
  // parenthesis, so the message says how to write one.
  void close_call(const AlarmRef& ref) {
    if (accept(')')) {
      return;
    }
    std::string message =
        "expected ')' after the alarm name " + in_quotes(ref.text) + ", found " + describe_here();
    if (!ref.quoted && !at_end()) {
      message +=
          "; names containing spaces, parentheses, commas or quotes must be in double "
          "quotes, e.g. ALARM(\"my alarm\")";
    }
    fail(pos_, std::move(message));
  }

  void parse_at_least(RuleNode& node) {
    node.kind = RuleNode::Kind::kAtLeast;
    if (!expect('(', "after AT_LEAST")) {
      return;
    }
    skip_space();
    const size_t number_offset = pos_;
    int64_t value = 0;
    size_t digits = 0;
    while (!at_end() && is_digit(text_[pos_])) {
      if (digits < 10) {
        value = value * 10 + (text_[pos_] - '0');
      }
      ++digits;
      ++pos_;
    }
    if (digits == 0) {
      fail(pos_, "expected the count or percentage of AT_LEAST (e.g. 2 or 60%), found " +
                     describe_here());
      return;
    }
    if (peek() == '.') {
      fail(pos_, "the count or percentage of AT_LEAST must be a whole number");
      return;
    }
    node.percent = accept('%');
    if (node.percent && (digits > 3 || value < 1 || value > 100)) {
      fail(number_offset, "the percentage of AT_LEAST must be an integer from 1 to 100, got " +
                              std::string(text_.substr(number_offset, digits)) + "%");
      return;
    }
    if (!expect(',', "after the count of AT_LEAST")) {
      return;
    }
    node.negated = accept_keyword("NOT");
    const std::string_view word = peek_word();
    const auto state = state_keyword(word);
    if (!state) {
      fail(pos_,
           "expected the state of AT_LEAST: ALARM, OK or INSUFFICIENT_DATA, optionally "
           "preceded by NOT; found " +
               describe_here());
      return;
    }
    pos_ += word.size();
    node.state = *state;
    if (!expect(',', "after the state of AT_LEAST") ||
        !expect('(', "starting the list of alarms of AT_LEAST, e.g. (a, b, c)")) {
      return;
    }
    do {
      auto ref = parse_ref();
      if (!ref) {
        return;
      }
      node.refs.push_back(std::move(*ref));
      ++elements_;
    } while (accept(','));
    if (!accept(')')) {
      std::string message = "expected ',' or ')' after the alarm name " +
                            in_quotes(node.refs.back().text) + " in the list of AT_LEAST, found " +
                            describe_here();
      if (!node.refs.back().quoted && !at_end()) {
        message +=
            "; names containing spaces, parentheses, commas or quotes must be in double "
            "quotes";
      }
      fail(pos_, std::move(message));
      return;
    }
    if (!expect(')', "to close AT_LEAST")) {
      return;
    }
    const auto listed = static_cast<int64_t>(node.refs.size());
    if (!node.percent && (digits > 9 || value < 1 || value > listed)) {
      fail(number_offset, "the count of AT_LEAST must be from 1 to the number of listed alarms (" +
                              std::to_string(listed) + "), got " +
                              std::string(text_.substr(number_offset, digits)));
      return;
    }
    node.threshold = static_cast<int>(value);
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
  int elements_ = 0;
  std::optional<RuleError> error_;
};

void collect_refs(const RuleNode& node, std::vector<AlarmRef>& out) {
  out.insert(out.end(), node.refs.begin(), node.refs.end());
  for (const RuleNode& operand : node.operands) {
    collect_refs(operand, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Validation helpers.

// What check_composite_alarms and topological_order learn about one composite.
struct Resolved {
  std::optional<AlarmRule> rule;
  std::vector<std::string> children;  // Distinct, resolved names, in order of first reference.
  std::string suppressor;             // Resolved name; empty when absent or unresolvable.
};

Resolved resolve_composite(const pipeline::CompositeAlarmConfig& alarm,
                           const pipeline::Settings& settings) {
  Resolved r;
  RuleParseResult parsed = parse_alarm_rule(alarm.alarm_rule);
  if (parsed.ok()) {
    std::set<std::string, std::less<>> seen;
    for (const AlarmRef& ref : parsed.rule->references()) {
      auto name = resolve_alarm_reference(ref.text, settings);
      if (name.is_ok() && seen.insert(*name).second) {
        r.children.push_back(*name);
      }
    }
    r.rule = std::move(parsed.rule);
  }
  if (!alarm.actions_suppressor.empty()) {
    auto name = resolve_alarm_reference(alarm.actions_suppressor, settings);
    if (name.is_ok()) {
      r.suppressor = std::move(name).value();
    }
  }
  return r;
}

std::string composite_pointer(const pipeline::Config& config, size_t index) {
  const std::string& own = config.composite_alarms[index].source_pointer;
  return own.empty() ? pipeline::json_pointer_child("/CompositeAlarms", index) : own;
}

// Kahn's algorithm over composite indices; the smallest ready index goes first so that ties keep
// document order. Returns the indices it could order (fewer than n when there is a cycle).
std::vector<size_t> kahn(size_t n, const std::vector<std::vector<size_t>>& successors) {
  std::vector<size_t> in_degree(n, 0);
  for (const auto& next : successors) {
    for (const size_t s : next) {
      ++in_degree[s];
    }
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i) {
    if (in_degree[i] == 0) {
      ready.push(i);
    }
  }
  std::vector<size_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    const size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (const size_t s : successors[i]) {
      if (--in_degree[s] == 0) {
        ready.push(s);
      }
    }
  }
  return order;
}

// Strongly connected components (Tarjan), iterative so that a long chain of composites cannot
// overflow the stack. `children[i]` lists the composites composite i depends on.
std::vector<std::vector<size_t>> strongly_connected(
    const std::vector<std::vector<size_t>>& children) {
  const size_t n = children.size();
  constexpr size_t kUnvisited = SIZE_MAX;
  std::vector<size_t> index(n, kUnvisited);
  std::vector<size_t> low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::vector<size_t>> components;
  size_t next_index = 0;

  struct Frame {
    size_t node;
    size_t edge;
  };

  std::vector<Frame> frames;
  for (size_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited) {
      continue;
    }
    frames.push_back({root, 0});
    index[root] = low[root] = next_index++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      Frame& f = frames.back();
      if (f.edge < children[f.node].size()) {
        const size_t w = children[f.node][f.edge++];
        if (index[w] == kUnvisited) {
          index[w] = low[w] = next_index++;
          stack.push_back(w);
          on_stack[w] = true;
          frames.push_back({w, 0});
        } else if (on_stack[w]) {
          low[f.node] = std::min(low[f.node], index[w]);
        }
        continue;
      }
      const size_t v = f.node;
      frames.pop_back();
      if (!frames.empty()) {
        low[frames.back().node] = std::min(low[frames.back().node], low[v]);
      }
      if (low[v] == index[v]) {
        std::vector<size_t> component;
        size_t w = 0;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != v);
        std::sort(component.begin(), component.end());
        components.push_back(std::move(component));
      }
    }
  }
  return components;
}

// The shortest cycle from `start` back to itself within one component (breadth-first).
std::vector<size_t> cycle_through(size_t start, const std::vector<std::vector<size_t>>& children,
                                  const std::vector<bool>& in_component) {
  std::unordered_map<size_t, size_t> parent;
  std::queue<size_t> queue;
  queue.push(start);
  while (!queue.empty()) {
    const size_t v = queue.front();
    queue.pop();
    for (const size_t w : children[v]) {
      if (!in_component[w]) {
        continue;
      }
      if (w == start) {
        std::vector<size_t> path{start};
        for (size_t u = v; u != start; u = parent.at(u)) {
          path.push_back(u);
        }
        std::reverse(path.begin() + 1, path.end());
        path.push_back(start);
        return path;
      }
      if (parent.try_emplace(w, v).second) {
        queue.push(w);
      }
    }
  }
  return {start, start};  // Unreachable for a real cycle.
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Rules.

std::vector<AlarmRef> AlarmRule::references() const {
  std::vector<AlarmRef> out;
  collect_refs(root, out);
  return out;
}

std::string RuleError::to_string() const {
  return "at character " + std::to_string(character) + ": " + message;
}

RuleParseResult parse_alarm_rule(std::string_view text) {
  return Parser(text).parse();
}

std::string to_string(const RuleNode& node) {
  switch (node.kind) {
    case RuleNode::Kind::kTrue:
      return "TRUE";
    case RuleNode::Kind::kFalse:
      return "FALSE";
    case RuleNode::Kind::kState:
      return std::string(to_string(node.state)) + "(" +
             in_quotes(node.refs.empty() ? "" : node.refs.front().text) + ")";
    case RuleNode::Kind::kAtLeast: {
      std::string s = "AT_LEAST(" + std::to_string(node.threshold) + (node.percent ? "%" : "") +
                      ", " + (node.negated ? "NOT " : "") + std::string(to_string(node.state)) +
                      ", (";
      for (size_t i = 0; i < node.refs.size(); ++i) {
        s += (i == 0 ? "" : ", ") + in_quotes(node.refs[i].text);
      }
      return s + "))";
    }
    case RuleNode::Kind::kNot:
      return "NOT " + (node.operands.empty() ? std::string("FALSE") : to_string(node.operands[0]));
    case RuleNode::Kind::kAnd:
    case RuleNode::Kind::kOr: {
      std::string s = "(";
      for (size_t i = 0; i < node.operands.size(); ++i) {
        if (i > 0) {
          s += node.kind == RuleNode::Kind::kAnd ? " AND " : " OR ";
        }
        s += to_string(node.operands[i]);
      }
      return s + ")";
    }
  }
  return "FALSE";
}

int at_least_required(const RuleNode& node) {
  if (!node.percent) {
    return node.threshold;
  }
  // ceil(p × n / 100) in integers: CloudWatch documents no rounding; rounding up is the only
  // choice that never fires below the stated percentage (60% of 3 needs 2, i.e. 66.7%).
  const int listed = static_cast<int>(node.refs.size());
  return (node.threshold * listed + 99) / 100;
}

bool evaluate_rule(const RuleNode& node,
                   const std::function<AlarmState(const AlarmRef&)>& state_of) {
  switch (node.kind) {
    case RuleNode::Kind::kTrue:
      return true;
    case RuleNode::Kind::kFalse:
      return false;
    case RuleNode::Kind::kState:
      return !node.refs.empty() && state_of(node.refs.front()) == node.state;
    case RuleNode::Kind::kAtLeast: {
      int matching = 0;
      for (const AlarmRef& ref : node.refs) {
        if ((state_of(ref) == node.state) != node.negated) {
          ++matching;
        }
      }
      return matching >= at_least_required(node);
    }
    case RuleNode::Kind::kNot:
      return !node.operands.empty() && !evaluate_rule(node.operands.front(), state_of);
    case RuleNode::Kind::kAnd:
      return std::all_of(node.operands.begin(), node.operands.end(),
                         [&](const RuleNode& n) { return evaluate_rule(n, state_of); });
    case RuleNode::Kind::kOr:
      return std::any_of(node.operands.begin(), node.operands.end(),
                         [&](const RuleNode& n) { return evaluate_rule(n, state_of); });
  }
  return false;
}

pipeline::Result<std::string> resolve_alarm_reference(std::string_view ref,
                                                      const pipeline::Settings& settings) {
  if (!ref.starts_with("arn:")) {
    return std::string(ref);
  }
  const std::string prefix = pipeline::alarm_arn(settings, "");
  if (ref.starts_with(prefix)) {
    if (ref.size() == prefix.size()) {
      return pipeline::invalid_argument("the alarm ARN " + in_quotes(ref) + " has no alarm name");
    }
    return std::string(ref.substr(prefix.size()));
  }
  // Split arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME to say what differs; the name may
  // itself contain colons, so only the first six separate fields.
  std::array<std::string_view, 7> fields{};
  std::string_view rest = ref;
  for (size_t i = 0; i < 6; ++i) {
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos) {
      return pipeline::invalid_argument(
          in_quotes(ref) +
          " is not a CloudWatch alarm ARN (arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME)");
    }
    fields.at(i) = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  fields[6] = rest;
  if (fields[2] != "cloudwatch" || fields[5] != "alarm" || fields[6].empty()) {
    return pipeline::invalid_argument(
        in_quotes(ref) +
        " is not a CloudWatch alarm ARN (arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME)");
  }
  if (fields[3] != settings.region || fields[4] != settings.account_id) {
    return pipeline::invalid_argument(
        in_quotes(ref) + " is in account " + in_quotes(fields[4]) + ", Region " +
        in_quotes(fields[3]) +
        "; child alarms and suppressors must be in the composite's account " +
        in_quotes(settings.account_id) + " and Region " + in_quotes(settings.region) +
        " (trailwatch.account_id and trailwatch.region)");
  }
  return pipeline::invalid_argument(in_quotes(ref) + " has the partition " + in_quotes(fields[1]) +
                                    "; alarms in Region " + in_quotes(settings.region) + " are " +
                                    in_quotes(prefix + std::string(fields[6])));
}

// ---------------------------------------------------------------------------------------------
// Validation.

std::vector<pipeline::ConfigProblem> check_composite_alarms(const pipeline::Config& config) {
  std::vector<pipeline::ConfigProblem> problems;
  auto problem = [&](std::string pointer, std::string message) {
    problems.push_back({config.source_file, std::move(pointer), std::move(message)});
  };

  std::set<std::string, std::less<>> alarm_names;
  for (const auto& alarm : config.metric_alarms) {
    alarm_names.insert(alarm.alarm_name);
  }
  std::unordered_map<std::string, size_t> composite_index;
  for (size_t i = 0; i < config.composite_alarms.size(); ++i) {
    alarm_names.insert(config.composite_alarms[i].alarm_name);
    composite_index.try_emplace(config.composite_alarms[i].alarm_name, i);
  }

  const size_t n = config.composite_alarms.size();
  std::vector<std::vector<size_t>> composite_children(n);
  // Child name -> the composites (indices, ascending) whose rule references it.
  std::map<std::string, std::vector<size_t>, std::less<>> parents;

  for (size_t i = 0; i < n; ++i) {
    const pipeline::CompositeAlarmConfig& alarm = config.composite_alarms[i];
    const std::string pointer = composite_pointer(config, i);
    const std::string rule_pointer = pipeline::json_pointer_child(pointer, "AlarmRule");
    const RuleParseResult parsed = parse_alarm_rule(alarm.alarm_rule);
    if (!parsed.ok()) {
      problem(rule_pointer, "invalid rule " + parsed.error->to_string());
    } else {
      const AlarmRule& rule = *parsed.rule;
      if (rule.element_count > kMaxRuleElements) {
        problem(rule_pointer,
                "the rule has " + std::to_string(rule.element_count) +
                    " elements (alarm references, TRUE/FALSE and parenthesized groups); at most " +
                    std::to_string(kMaxRuleElements) + " are allowed");
      }
      std::set<std::string, std::less<>> children;
      std::set<std::string, std::less<>> reported;
      for (const AlarmRef& ref : rule.references()) {
        const std::string at =
            "at character " + std::to_string(character_at(alarm.alarm_rule, ref.offset)) + ": ";
        auto name = resolve_alarm_reference(ref.text, config.settings);
        if (!name.is_ok()) {
          if (reported.insert(ref.text).second) {
            problem(rule_pointer, at + name.status().message());
          }
          continue;
        }
        if (!alarm_names.contains(*name)) {
          if (reported.insert(ref.text).second) {
            problem(rule_pointer,
                    at + "unknown alarm " + in_quotes(*name) +
                        (*name == ref.text ? "" : " (from the ARN " + in_quotes(ref.text) + ")") +
                        ": no metric or composite alarm in this file has that name");
          }
          continue;
        }
        if (children.insert(*name).second) {
          auto& list = parents[*name];
          list.push_back(i);
          if (const auto it = composite_index.find(*name); it != composite_index.end()) {
            composite_children[i].push_back(it->second);
          }
        }
      }
      if (std::ssize(children) > kMaxCompositeChildren) {
        problem(rule_pointer, "the rule references " + std::to_string(children.size()) +
                                  " distinct child alarms; at most " +
                                  std::to_string(kMaxCompositeChildren) + " are allowed");
      }
    }

    if (!alarm.actions_suppressor.empty()) {
      const std::string suppressor_pointer =
          pipeline::json_pointer_child(pointer, "ActionsSuppressor");
      auto name = resolve_alarm_reference(alarm.actions_suppressor, config.settings);
      if (!name.is_ok()) {
        problem(suppressor_pointer, name.status().message());
      } else if (*name == alarm.alarm_name) {
        problem(suppressor_pointer, "a composite alarm cannot be its own ActionsSuppressor");
      } else if (!alarm_names.contains(*name)) {
        problem(suppressor_pointer, "unknown alarm " + in_quotes(*name) +
                                        ": no metric or composite alarm in this file has that "
                                        "name");
      }
    }
  }

  for (const auto& [child, composites] : parents) {
    if (std::ssize(composites) > kMaxCompositeParentsPerAlarm) {
      const size_t first_over = composites[static_cast<size_t>(kMaxCompositeParentsPerAlarm)];
      problem(pipeline::json_pointer_child(composite_pointer(config, first_over), "AlarmRule"),
              "alarm " + in_quotes(child) + " is a child of " + std::to_string(composites.size()) +
                  " composite alarms; an alarm may be a child of at most " +
                  std::to_string(kMaxCompositeParentsPerAlarm) +
                  " (this is the first composite over the limit)");
    }
  }

  // Cycles: one report per strongly connected component, starting at its first composite in
  // document order, so each cycle is reported once and where the reader meets it first.
  std::vector<std::pair<size_t, std::vector<size_t>>> cycles;
  for (const auto& component : strongly_connected(composite_children)) {
    const size_t start = component.front();
    const bool self_loop =
        std::find(composite_children[start].begin(), composite_children[start].end(), start) !=
        composite_children[start].end();
    if (component.size() == 1 && !self_loop) {
      continue;
    }
    std::vector<bool> in_component(n, false);
    for (const size_t v : component) {
      in_component[v] = true;
    }
    cycles.emplace_back(start, cycle_through(start, composite_children, in_component));
  }
  std::sort(cycles.begin(), cycles.end());
  for (const auto& [start, path] : cycles) {
    std::string text = "cycle: ";
    for (size_t k = 0; k < path.size(); ++k) {
      text += (k == 0 ? "" : " -> ") + config.composite_alarms[path[k]].alarm_name;
    }
    problem(pipeline::json_pointer_child(composite_pointer(config, start), "AlarmRule"),
            text + "; a composite alarm cannot depend on itself through its rule");
  }
  return problems;
}

std::vector<std::string> topological_order(const pipeline::Config& config) {
  const size_t n = config.composite_alarms.size();
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) {
    index.try_emplace(config.composite_alarms[i].alarm_name, i);
  }
  // successors[c] = composites that must come after c.
  std::vector<std::vector<size_t>> by_rule(n);
  std::vector<std::vector<size_t>> with_suppressors(n);
  for (size_t i = 0; i < n; ++i) {
    const Resolved r = resolve_composite(config.composite_alarms[i], config.settings);
    for (const std::string& child : r.children) {
      if (const auto it = index.find(child); it != index.end()) {
        by_rule[it->second].push_back(i);
        with_suppressors[it->second].push_back(i);
      }
    }
    if (const auto it = index.find(r.suppressor); !r.suppressor.empty() && it != index.end()) {
      with_suppressors[it->second].push_back(i);
    }
  }
  std::vector<size_t> order = kahn(n, with_suppressors);
  if (order.size() < n) {
    order = kahn(n, by_rule);
  }
  std::vector<bool> placed(n, false);
  for (const size_t i : order) {
    placed[i] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!placed[i]) {
      order.push_back(i);
    }
  }
  std::vector<std::string> names;
  names.reserve(n);
  for (const size_t i : order) {
    names.push_back(config.composite_alarms[i].alarm_name);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// CompositeAlarm.

pipeline::Result<CompositeAlarm> CompositeAlarm::create(
    const pipeline::CompositeAlarmConfig& config, const pipeline::Settings& settings) {
  RuleParseResult parsed = parse_alarm_rule(config.alarm_rule);
  if (!parsed.ok()) {
    return pipeline::invalid_argument("composite alarm " + in_quotes(config.alarm_name) +
                                      ": invalid rule " + parsed.error->to_string());
  }
  CompositeAlarm alarm;
  alarm.config_ = config;
  alarm.arn_ = pipeline::alarm_arn(settings, config.alarm_name);
  alarm.arn_prefix_ = pipeline::alarm_arn(settings, "");
  alarm.rule_ = std::move(*parsed.rule);
  for (const AlarmRef& ref : alarm.rule_.references()) {
    auto name = resolve_alarm_reference(ref.text, settings);
    if (!name.is_ok()) {
      return pipeline::invalid_argument("composite alarm " + in_quotes(config.alarm_name) + ": " +
                                        name.status().message());
    }
    auto [it, inserted] = alarm.child_index_.try_emplace(*name, alarm.children_.size());
    if (inserted) {
      alarm.children_.push_back(Child{*name, AlarmState::kInsufficientData, EventTime()});
    }
    alarm.ref_index_.try_emplace(ref.text, it->second);
  }
  if (!config.actions_suppressor.empty()) {
    auto name = resolve_alarm_reference(config.actions_suppressor, settings);
    if (!name.is_ok()) {
      return pipeline::invalid_argument("composite alarm " + in_quotes(config.alarm_name) +
                                        ": ActionsSuppressor: " + name.status().message());
    }
    alarm.suppressor_ = std::move(name).value();
  }
  alarm.wait_period_ =
      pipeline::Duration::seconds(config.actions_suppressor_wait_period.value_or(0));
  alarm.extension_period_ =
      pipeline::Duration::seconds(config.actions_suppressor_extension_period.value_or(0));
  alarm.current_.value = AlarmState::kInsufficientData;
  alarm.current_.reason = std::string(kInitialReason);
  return alarm;
}

std::vector<std::string> CompositeAlarm::children() const {
  std::vector<std::string> names;
  names.reserve(children_.size());
  for (const Child& child : children_) {
    names.push_back(child.name);
  }
  return names;
}

bool CompositeAlarm::depends_on(std::string_view alarm_name) const {
  return child_index_.contains(alarm_name) || (!suppressor_.empty() && suppressor_ == alarm_name);
}

std::optional<EventTime> CompositeAlarm::next_deadline() const {
  if (suppressed_by_ == SuppressedBy::kWaitPeriod ||
      suppressed_by_ == SuppressedBy::kExtensionPeriod) {
    return deadline_;
  }
  return std::nullopt;
}

EventTime CompositeAlarm::advance(EventTime at) {
  now_ = std::max(now_, at);
  return now_;
}

AlarmState CompositeAlarm::rule_state() const {
  const bool fires = evaluate_rule(rule_.root, [this](const AlarmRef& ref) {
    const auto it = ref_index_.find(ref.text);
    return it == ref_index_.end() ? AlarmState::kInsufficientData : children_[it->second].state;
  });
  return fires ? AlarmState::kAlarm : AlarmState::kOk;
}

void CompositeAlarm::evaluate_initial(EventTime at, CompositeOutput& out) {
  if (evaluated_) {
    return;
  }
  at = advance(at);
  evaluated_ = true;
  // The composite exists from its first evaluation on: its initial INSUFFICIENT_DATA state
  // (the previousState of the first transition) dates from then.
  current_.timestamp = at;
  StateRecord next;
  next.value = rule_state();
  next.reason =
      arn_ + " was created and its alarm rule evaluates to " + std::string(to_string(next.value));
  next.reason_data = R"({"triggeringAlarms":[]})";
  change_state(std::move(next), at, out);
  // A WaitPeriod of zero seconds ends as soon as it starts.
  on_time(at, out);
}

void CompositeAlarm::on_child_transition(const StateTransition& transition, CompositeOutput& out) {
  on_child_state(transition.alarm_name, transition.current.value, transition.current.timestamp,
                 out);
}

void CompositeAlarm::on_child_state(std::string_view alarm_name, AlarmState state, EventTime at,
                                    CompositeOutput& out) {
  if (!depends_on(alarm_name)) {
    return;
  }
  const EventTime child_time = at;
  at = advance(at);
  on_time(at, out);
  // The suppressor first: if it enters ALARM at the same instant as it (as a child) makes the
  // composite change state, the change sees it in ALARM, as it is at that time.
  if (!suppressor_.empty() && alarm_name == suppressor_) {
    update_suppressor(state, at);
  }
  if (const auto it = child_index_.find(alarm_name); it != child_index_.end()) {
    update_child(it->second, state, child_time, at, out);
  }
  // A period of zero seconds ends as soon as it starts.
  on_time(at, out);
}

void CompositeAlarm::update_child(size_t slot, AlarmState state, EventTime child_time, EventTime at,
                                  CompositeOutput& out) {
  Child& child = children_[slot];
  if (child.state == state) {
    return;
  }
  child.state = state;
  child.timestamp = child_time;
  if (!evaluated_) {
    return;
  }
  StateRecord next;
  next.value = rule_state();
  if (next.value == current_.value) {
    return;
  }
  const std::string child_arn = arn_prefix_ + child.name;
  next.reason = child_arn + " transitioned to " + std::string(to_string(state)) + " at " +
                format_reason_date(child_time);
  next.reason_data = R"({"triggeringAlarms":[{"arn":)" + json_string(child_arn) +
                     R"(,"state":{"value":")" + std::string(to_string(state)) +
                     R"(","timestamp":")" + pipeline::format_cloudwatch_timestamp(child_time) +
                     R"("}}]})";
  change_state(std::move(next), at, out);
}

void CompositeAlarm::update_suppressor(AlarmState state, EventTime at) {
  const AlarmState previous = suppressor_state_;
  suppressor_state_ = state;
  if (previous == state) {
    return;
  }
  if (state == AlarmState::kAlarm) {
    if (suppressed_by_ == SuppressedBy::kWaitPeriod ||
        suppressed_by_ == SuppressedBy::kExtensionPeriod) {
      set_suppression(SuppressedBy::kAlarm);
    }
  } else if (previous == AlarmState::kAlarm && suppressed_by_ == SuppressedBy::kAlarm) {
    deadline_ = at + extension_period_;
    set_suppression(SuppressedBy::kExtensionPeriod);
  }
}

void CompositeAlarm::save(pipeline::StateWriter& out) const {
  out.u32(static_cast<uint32_t>(children_.size()));
  for (const Child& child : children_) {
    out.text(child.name);
    out.u8(static_cast<uint8_t>(child.state));
    out.time(child.timestamp);
  }
  out.u8(static_cast<uint8_t>(suppressor_state_));
  out.boolean(evaluated_);
  out.time(now_);
  detectors::save(out, current_);
  detectors::save(out, last_transition_);
  out.u8(static_cast<uint8_t>(suppressed_by_));
  out.time(deadline_);
}

bool CompositeAlarm::load(pipeline::StateReader& in) {
  const auto read_state = [&in]() {
    const uint8_t v = in.u8();
    if (v > static_cast<uint8_t>(AlarmState::kInsufficientData)) {
      in.fail("an alarm state is " + std::to_string(v));
    }
    return static_cast<AlarmState>(v);
  };
  std::vector<Child> children = children_;
  const uint32_t n = in.count(4 + 1 + 8);
  if (in.ok() && n != children.size()) {
    in.fail("a composite's children changed");
  }
  for (uint32_t i = 0; i < n && in.ok(); ++i) {
    if (in.text() != children[i].name) {
      in.fail("a composite's children changed");
    }
    children[i].state = read_state();
    children[i].timestamp = in.time();
  }
  const AlarmState suppressor_state = read_state();
  const bool evaluated = in.boolean();
  const EventTime now = in.time();
  StateRecord current = load_state_record(in);
  StateTransition last = load_state_transition(in);
  const uint8_t by = in.u8();
  if (by > static_cast<uint8_t>(SuppressedBy::kAlarm)) {
    in.fail("a suppression cause is " + std::to_string(by));
  }
  const EventTime deadline = in.time();
  if (!in.ok()) {
    return false;
  }
  children_ = std::move(children);
  suppressor_state_ = suppressor_state;
  evaluated_ = evaluated;
  now_ = now;
  current_ = std::move(current);
  last_transition_ = std::move(last);
  suppressed_by_ = static_cast<SuppressedBy>(by);
  deadline_ = deadline;
  return true;
}

void CompositeAlarm::on_time(EventTime now, CompositeOutput& out) {
  now = advance(now);
  if (const auto deadline = next_deadline(); deadline && *deadline <= now) {
    set_suppression(SuppressedBy::kNone);
    actions_due(*deadline, out);
  }
}

void CompositeAlarm::change_state(StateRecord next, EventTime at, CompositeOutput& out) {
  next.timestamp = at;
  StateTransition transition;
  transition.alarm_name = config_.alarm_name;
  transition.alarm_arn = arn_;
  transition.composite = true;
  transition.previous = current_;
  current_ = std::move(next);
  if (suppressor_.empty()) {
    set_suppression(SuppressedBy::kNone);
  } else if (suppressor_state_ == AlarmState::kAlarm) {
    set_suppression(SuppressedBy::kAlarm);
  } else {
    deadline_ = at + wait_period_;
    set_suppression(SuppressedBy::kWaitPeriod);
  }
  transition.current = current_;
  out.transitions.push_back(transition);
  last_transition_ = std::move(transition);
  if (suppressor_.empty()) {
    actions_due(at, out);
  }
}

void CompositeAlarm::set_suppression(SuppressedBy by) {
  suppressed_by_ = by;
  current_.actions_suppressed_by = by;
  current_.actions_suppressed_reason = by == SuppressedBy::kNone
                                           ? std::string()
                                           : "Actions suppressed by " + std::string(to_string(by));
}

void CompositeAlarm::actions_due(EventTime at, CompositeOutput& out) const {
  if (!config_.actions_enabled) {
    return;
  }
  const std::vector<std::string>* actions = nullptr;
  switch (current_.value) {
    case AlarmState::kOk:
      actions = &config_.ok_actions;
      break;
    case AlarmState::kAlarm:
      actions = &config_.alarm_actions;
      break;
    case AlarmState::kInsufficientData:
      actions = &config_.insufficient_data_actions;
      break;
  }
  if (actions == nullptr || actions->empty()) {
    return;
  }
  out.actions_due.push_back(
      ActionsDue{config_.alarm_name, arn_, current_.value, at, *actions, last_transition_});
}

}  // namespace tw::detectors
