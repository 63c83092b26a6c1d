#include "detectors/composite_alarm.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tw::detectors {
namespace {

using pipeline::CompositeAlarmConfig;
using pipeline::Config;
using pipeline::EventTime;
using pipeline::MetricAlarmConfig;
using pipeline::Settings;

constexpr AlarmState kOk = AlarmState::kOk;
constexpr AlarmState kAlarm = AlarmState::kAlarm;
constexpr AlarmState kInsufficient = AlarmState::kInsufficientData;

Settings test_settings() {
  Settings s;
  s.account_id = "123456789012";
  s.region = "us-east-1";
  return s;
}

std::string arn_of(std::string_view name) {
  return "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + std::string(name);
}

AlarmRule parse_ok(std::string_view text) {
  RuleParseResult parsed = parse_alarm_rule(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.error ? parsed.error->to_string() : "");
  return parsed.ok() ? *parsed.rule : AlarmRule{};
}

std::string canonical(std::string_view text) {
  return to_string(parse_ok(text).root);
}

RuleError parse_error(std::string_view text) {
  RuleParseResult parsed = parse_alarm_rule(text);
  EXPECT_FALSE(parsed.ok()) << text << " parsed as "
                            << (parsed.rule ? to_string(parsed.rule->root) : "");
  return parsed.error.value_or(RuleError{});
}

// Evaluates a rule with the given child states (unlisted children are INSUFFICIENT_DATA).
bool eval(std::string_view text, const std::map<std::string, AlarmState>& states) {
  const AlarmRule rule = parse_ok(text);
  return evaluate_rule(rule.root, [&](const AlarmRef& ref) {
    const auto it = states.find(ref.text);
    return it == states.end() ? kInsufficient : it->second;
  });
}

// ---------------------------------------------------------------------------------------------
// Parser.

TEST(CompositeRuleParse, ParsesTrueAndFalseConstants) {
  EXPECT_EQ(parse_ok("TRUE").root.kind, RuleNode::Kind::kTrue);
  EXPECT_EQ(parse_ok("FALSE").root.kind, RuleNode::Kind::kFalse);
  EXPECT_EQ(parse_ok("  TRUE  ").root.kind, RuleNode::Kind::kTrue);
}

TEST(CompositeRuleParse, ParsesEachStateFunction) {
  const AlarmRule alarm = parse_ok("ALARM(cpu)");
  EXPECT_EQ(alarm.root.kind, RuleNode::Kind::kState);
  EXPECT_EQ(alarm.root.state, kAlarm);
  ASSERT_EQ(alarm.root.refs.size(), 1U);
  EXPECT_EQ(alarm.root.refs[0], (AlarmRef{"cpu", 6, false}));
  EXPECT_EQ(parse_ok("OK(cpu)").root.state, kOk);
  EXPECT_EQ(parse_ok("INSUFFICIENT_DATA(cpu)").root.state, kInsufficient);
}

TEST(CompositeRuleParse, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(parse_ok("false").root.kind, RuleNode::Kind::kFalse);
  EXPECT_EQ(parse_ok("True").root.kind, RuleNode::Kind::kTrue);
  EXPECT_EQ(canonical("alarm(a) and not Ok(b) or insufficient_data(c)"),
            R"(((ALARM("a") AND NOT OK("b")) OR INSUFFICIENT_DATA("c")))");
  EXPECT_EQ(canonical("at_least(2, not alarm, (a, b))"), R"(AT_LEAST(2, NOT ALARM, ("a", "b")))");
}

TEST(CompositeRuleParse, NamesKeepTheirCase) {
  EXPECT_EQ(parse_ok("ALARM(MyAlarm)").root.refs[0].text, "MyAlarm");
  EXPECT_EQ(parse_ok("alarm(ALARM)").root.refs[0].text, "ALARM");
}

TEST(CompositeRuleParse, QuotedNamesMayContainSpacesParenthesesAndCommas) {
  const AlarmRule rule = parse_ok(R"(ALARM("web (prod), p99 latency") OR OK("a b"))");
  const auto refs = rule.references();
  ASSERT_EQ(refs.size(), 2U);
  EXPECT_EQ(refs[0], (AlarmRef{"web (prod), p99 latency", 6, true}));
  EXPECT_EQ(refs[1].text, "a b");
  EXPECT_TRUE(refs[1].quoted);
}

TEST(CompositeRuleParse, QuotedNameIsTakenVerbatimWithoutEscapes) {
  EXPECT_EQ(parse_ok(R"(ALARM(" padded\ "))").root.refs[0].text, " padded\\ ");
}

TEST(CompositeRuleParse, UnquotedArnWithColonsIsOneReference) {
  const AlarmRule rule =
      parse_ok("ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high)");
  EXPECT_EQ(rule.root.refs[0].text, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high");
}

TEST(CompositeRuleParse, UnquotedNameMayContainPunctuationOtherThanDelimiters) {
  EXPECT_EQ(parse_ok("ALARM(web-1.cpu_high/p99:é)").root.refs[0].text, "web-1.cpu_high/p99:é");
}

TEST(CompositeRuleParse, WhitespaceAroundTokensIsIgnored) {
  EXPECT_EQ(canonical("\tALARM ( a )\n AND\r\nOK(  \"b\"  )  "), R"((ALARM("a") AND OK("b")))");
}

TEST(CompositeRuleParse, NotBindsTighterThanAnd) {
  EXPECT_EQ(canonical("NOT ALARM(a) AND ALARM(b)"), R"((NOT ALARM("a") AND ALARM("b")))");
}

TEST(CompositeRuleParse, AndBindsTighterThanOr) {
  EXPECT_EQ(canonical("ALARM(a) OR ALARM(b) AND ALARM(c)"),
            R"((ALARM("a") OR (ALARM("b") AND ALARM("c"))))");
  EXPECT_EQ(canonical("ALARM(a) AND ALARM(b) OR ALARM(c)"),
            R"(((ALARM("a") AND ALARM("b")) OR ALARM("c")))");
}

TEST(CompositeRuleParse, ParenthesesOverridePrecedence) {
  EXPECT_EQ(canonical("(ALARM(a) OR ALARM(b)) AND OK(c)"),
            R"(((ALARM("a") OR ALARM("b")) AND OK("c")))");
  EXPECT_EQ(canonical("NOT (ALARM(a) OR ALARM(b))"), R"(NOT (ALARM("a") OR ALARM("b")))");
}

TEST(CompositeRuleParse, AndOrChainsAreOneNode) {
  const AlarmRule rule = parse_ok("ALARM(a) AND ALARM(b) AND ALARM(c)");
  EXPECT_EQ(rule.root.kind, RuleNode::Kind::kAnd);
  EXPECT_EQ(rule.root.operands.size(), 3U);
}

TEST(CompositeRuleParse, DoubleNegationNests) {
  EXPECT_EQ(canonical("NOT NOT TRUE"), "NOT NOT TRUE");
}

TEST(CompositeRuleParse, ParsesAtLeastWithCount) {
  const AlarmRule rule = parse_ok("AT_LEAST(2, ALARM, (a, \"b c\", arn:x))");
  EXPECT_EQ(rule.root.kind, RuleNode::Kind::kAtLeast);
  EXPECT_EQ(rule.root.threshold, 2);
  EXPECT_FALSE(rule.root.percent);
  EXPECT_FALSE(rule.root.negated);
  EXPECT_EQ(rule.root.state, kAlarm);
  ASSERT_EQ(rule.root.refs.size(), 3U);
  EXPECT_EQ(rule.root.refs[1].text, "b c");
  EXPECT_EQ(rule.root.refs[2].text, "arn:x");
}

TEST(CompositeRuleParse, ParsesAtLeastWithPercentageAndNot) {
  const AlarmRule rule = parse_ok("AT_LEAST(60%, NOT OK, (a, b, c))");
  EXPECT_EQ(rule.root.threshold, 60);
  EXPECT_TRUE(rule.root.percent);
  EXPECT_TRUE(rule.root.negated);
  EXPECT_EQ(rule.root.state, kOk);
  EXPECT_EQ(to_string(rule.root), R"(AT_LEAST(60%, NOT OK, ("a", "b", "c")))");
}

TEST(CompositeRuleParse, AtLeastCombinesWithOperators) {
  EXPECT_EQ(canonical("NOT AT_LEAST(1, INSUFFICIENT_DATA, (a)) AND ALARM(b)"),
            R"((NOT AT_LEAST(1, INSUFFICIENT_DATA, ("a")) AND ALARM("b")))");
}

TEST(CompositeRuleParse, ListsReferencesInWrittenOrder) {
  const auto refs = parse_ok("ALARM(a) OR (OK(b) AND AT_LEAST(1, OK, (c, a)))").references();
  std::vector<std::string> texts;
  texts.reserve(refs.size());
  for (const AlarmRef& ref : refs) {
    texts.push_back(ref.text);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"a", "b", "c", "a"}));
}

TEST(CompositeRuleParse, CountsReferencesConstantsAndGroupsAsElements) {
  EXPECT_EQ(parse_ok("TRUE").element_count, 1);
  EXPECT_EQ(parse_ok("ALARM(a)").element_count, 1);
  EXPECT_EQ(parse_ok("ALARM(a) AND NOT OK(b)").element_count, 2);
  EXPECT_EQ(parse_ok("(ALARM(a) OR FALSE) AND ((OK(a)))").element_count, 6);
  EXPECT_EQ(parse_ok("AT_LEAST(2, ALARM, (a, b, c))").element_count, 3);
}

TEST(CompositeRuleParse, CanonicalTextParsesToTheSameRule) {
  for (const char* text : {"ALARM(a) OR NOT (OK(b) AND INSUFFICIENT_DATA(\"c d\"))",
                           "AT_LEAST(50%, NOT OK, (a, b))", "TRUE AND FALSE OR NOT TRUE"}) {
    const std::string once = canonical(text);
    EXPECT_EQ(canonical(once), once) << text;
  }
}

TEST(CompositeRuleParse, AcceptsNestingUpToTheDepthLimit) {
  const std::string deep =
      std::string(kMaxRuleDepth, '(') + "TRUE" + std::string(kMaxRuleDepth, ')');
  EXPECT_EQ(parse_ok(deep).element_count, kMaxRuleDepth + 1);
}

TEST(CompositeRuleParse, RejectsNestingBeyondTheDepthLimit) {
  const std::string deep =
      std::string(kMaxRuleDepth + 1, '(') + "TRUE" + std::string(kMaxRuleDepth + 1, ')');
  EXPECT_NE(parse_error(deep).message.find("nested more than 500 levels"), std::string::npos);
  std::string nots;
  for (int i = 0; i <= kMaxRuleDepth; ++i) {
    nots += "NOT ";
  }
  EXPECT_NE(parse_error(nots + "TRUE").message.find("nested more than"), std::string::npos);
}

struct ErrorCase {
  const char* rule;
  size_t character;
  const char* message;  // A substring of the expected message.
};

TEST(CompositeRuleParse, ReportsErrorsWithPositionAndMessage) {
  const std::vector<ErrorCase> cases = {
      {"", 1, "the rule is empty"},
      {"   ", 4, "the rule is empty"},
      {"ALARM(a", 8, "expected ')' after the alarm name \"a\", found end of rule"},
      {"ALARM(my alarm)", 10,
       "expected ')' after the alarm name \"my\", found 'alarm'; names containing spaces, "
       "parentheses, commas or quotes must be in double quotes, e.g. ALARM(\"my alarm\")"},
      {"ALARM(f(x))", 8, "found '('; names containing spaces"},
      {"ALARM()", 7, "expected an alarm name or ARN, found ')'"},
      {"ALARM", 6, "expected '(' after ALARM, found end of rule"},
      {"ALARM(\"a)", 7, "unterminated quoted alarm name"},
      {"ALARM(\"\")", 7, "empty alarm name"},
      {"ALARM(a) AND", 13, "unexpected end of rule; expected ALARM(...)"},
      {"ALARM(a) ALARM(b)", 10,
       "unexpected 'ALARM' after a complete expression; expected AND, OR or the end of the rule"},
      {"ALARM(a)ANDOK(b)", 9, "unexpected 'ANDOK' after a complete expression"},
      {"FOO(a)", 1, "unknown keyword 'FOO'"},
      {"ALARM(a) AND OR ALARM(b)", 14, "expected an operand before or after 'OR'"},
      {"(ALARM(a) OR OK(b)", 19, "expected ')' to close the '(' at character 1"},
      {"ALARM(a))", 9, "unexpected ')' after a complete expression"},
      {"ALARM(a) & OK(b)", 10, "unexpected '&' after a complete expression"},
      {"#", 1, "unexpected '#'; expected ALARM(...)"},
      {"AT_LEAST(0, ALARM, (a, b))", 10,
       "the count of AT_LEAST must be from 1 to the number of listed alarms (2), got 0"},
      {"AT_LEAST(3, ALARM, (a, b))", 10, "(2), got 3"},
      {"AT_LEAST(0%, ALARM, (a, b))", 10,
       "the percentage of AT_LEAST must be an integer from 1 to 100, got 0%"},
      {"AT_LEAST(101%, ALARM, (a, b))", 10, "got 101%"},
      {"AT_LEAST(66.7%, ALARM, (a, b))", 12, "must be a whole number"},
      {"AT_LEAST(, ALARM, (a, b))", 10, "expected the count or percentage of AT_LEAST"},
      {"AT_LEAST(-1, ALARM, (a, b))", 10, "expected the count or percentage of AT_LEAST"},
      {"AT_LEAST(2 ALARM, (a, b))", 12, "expected ',' after the count of AT_LEAST"},
      {"AT_LEAST(2, BROKEN, (a, b))", 13, "expected the state of AT_LEAST"},
      {"AT_LEAST(2, NOTOK, (a, b))", 13, "found 'NOTOK'"},
      {"AT_LEAST(2, ALARM, a, b)", 20, "expected '(' starting the list of alarms of AT_LEAST"},
      {"AT_LEAST(1, ALARM, (a b))", 23,
       "expected ',' or ')' after the alarm name \"a\" in the list of AT_LEAST, found 'b'"},
      {"AT_LEAST(1, ALARM, ())", 21, "expected an alarm name or ARN"},
      {"AT_LEAST(1, ALARM, (a)", 23, "expected ')' to close AT_LEAST"},
      {"OK(\"é\") é", 9, "unexpected 'é' after a complete expression"},
  };
  for (const ErrorCase& c : cases) {
    const RuleError error = parse_error(c.rule);
    EXPECT_EQ(error.character, c.character) << c.rule << ": " << error.to_string();
    EXPECT_NE(error.message.find(c.message), std::string::npos) << c.rule << ": " << error.message;
  }
}

TEST(CompositeRuleParse, ErrorTextStartsWithTheCharacter) {
  EXPECT_EQ(parse_error("ALARM(a) AND").to_string(),
            "at character 13: unexpected end of rule; expected ALARM(...), OK(...), "
            "INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, NOT or '('");
}

// ---------------------------------------------------------------------------------------------
// Truth tables (reference §10.5).

struct TruthRow {
  std::map<std::string, AlarmState> states;
  bool expected;
};

TEST(CompositeRuleTruthTable, AlarmAndNotAlarm) {
  const std::vector<TruthRow> rows = {
      {{{"a", kAlarm}, {"b", kOk}}, true},           {{{"a", kAlarm}, {"b", kAlarm}}, false},
      {{{"a", kAlarm}, {"b", kInsufficient}}, true}, {{{"a", kOk}, {"b", kOk}}, false},
      {{{"a", kOk}, {"b", kAlarm}}, false},          {{{"a", kOk}, {"b", kInsufficient}}, false},
  };
  for (const TruthRow& row : rows) {
    EXPECT_EQ(eval("ALARM(a) AND NOT ALARM(b)", row.states), row.expected)
        << to_string(row.states.at("a")) << "," << to_string(row.states.at("b"));
  }
}

TEST(CompositeRuleTruthTable, AlarmOrAlarmAndOk) {
  const std::vector<TruthRow> rows = {
      {{{"a", kAlarm}, {"b", kOk}, {"c", kOk}}, true},
      {{{"a", kAlarm}, {"b", kOk}, {"c", kAlarm}}, false},
      {{{"a", kOk}, {"b", kOk}, {"c", kOk}}, false},
      {{{"a", kOk}, {"b", kAlarm}, {"c", kInsufficient}}, false},
      {{{"a", kOk}, {"b", kAlarm}, {"c", kOk}}, true},
  };
  for (const TruthRow& row : rows) {
    EXPECT_EQ(eval("(ALARM(a) OR ALARM(b)) AND OK(c)", row.states), row.expected);
  }
}

TEST(CompositeRuleTruthTable, EachStateFunctionMatchesOnlyItsState) {
  for (const AlarmState s : {kOk, kAlarm, kInsufficient}) {
    EXPECT_EQ(eval("ALARM(a)", {{"a", s}}), s == kAlarm);
    EXPECT_EQ(eval("OK(a)", {{"a", s}}), s == kOk);
    EXPECT_EQ(eval("INSUFFICIENT_DATA(a)", {{"a", s}}), s == kInsufficient);
  }
}

TEST(CompositeRuleTruthTable, UnseenChildrenAreInsufficientData) {
  EXPECT_TRUE(eval("INSUFFICIENT_DATA(never_seen)", {}));
  EXPECT_FALSE(eval("ALARM(never_seen) OR OK(never_seen)", {}));
}

TEST(CompositeRuleTruthTable, ConstantsIgnoreChildren) {
  EXPECT_TRUE(eval("TRUE", {}));
  EXPECT_FALSE(eval("FALSE", {}));
  EXPECT_TRUE(eval("FALSE OR TRUE AND NOT FALSE", {}));
}

// ---------------------------------------------------------------------------------------------
// AT_LEAST.

TEST(CompositeAtLeast, CountOfTwoNeedsTwoChildrenInTheState) {
  const char* rule = "AT_LEAST(2, ALARM, (a, b, c))";
  EXPECT_TRUE(eval(rule, {{"a", kAlarm}, {"b", kAlarm}, {"c", kOk}}));
  EXPECT_TRUE(eval(rule, {{"a", kAlarm}, {"b", kAlarm}, {"c", kAlarm}}));
  EXPECT_FALSE(eval(rule, {{"a", kAlarm}, {"b", kOk}, {"c", kInsufficient}}));
}

TEST(CompositeAtLeast, SixtyPercentNotOkOfThreeNeedsTwo) {
  const char* rule = "AT_LEAST(60%, NOT OK, (a, b, c))";
  EXPECT_TRUE(eval(rule, {{"a", kAlarm}, {"b", kInsufficient}, {"c", kOk}}));
  EXPECT_FALSE(eval(rule, {{"a", kAlarm}, {"b", kOk}, {"c", kOk}}));
}

TEST(CompositeAtLeast, PercentageRoundsUpToWholeChildren) {
  struct Row {
    const char* rule;
    int required;
  };

  const std::vector<Row> rows = {
      {"AT_LEAST(60%, ALARM, (a, b, c))", 2},    {"AT_LEAST(34%, ALARM, (a, b, c))", 2},
      {"AT_LEAST(33%, ALARM, (a, b, c))", 1},    {"AT_LEAST(1%, ALARM, (a, b, c))", 1},
      {"AT_LEAST(100%, ALARM, (a, b, c))", 3},   {"AT_LEAST(50%, ALARM, (a, b, c, d))", 2},
      {"AT_LEAST(51%, ALARM, (a, b, c, d))", 3}, {"AT_LEAST(3, ALARM, (a, b, c))", 3},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(at_least_required(parse_ok(row.rule).root), row.required) << row.rule;
  }
}

TEST(CompositeAtLeast, NotStateCountsBothOtherStates) {
  const char* rule = "AT_LEAST(3, NOT ALARM, (a, b, c))";
  EXPECT_TRUE(eval(rule, {{"a", kOk}, {"b", kInsufficient}, {"c", kOk}}));
  EXPECT_FALSE(eval(rule, {{"a", kOk}, {"b", kInsufficient}, {"c", kAlarm}}));
}

TEST(CompositeAtLeast, InsufficientDataStateCountsUnseenChildren) {
  EXPECT_TRUE(eval("AT_LEAST(2, INSUFFICIENT_DATA, (a, b, c))", {{"a", kOk}}));
}

TEST(CompositeAtLeast, ChildListedTwiceCountsTwice) {
  EXPECT_TRUE(eval("AT_LEAST(2, ALARM, (a, a, b))", {{"a", kAlarm}, {"b", kOk}}));
}

// ---------------------------------------------------------------------------------------------
// References.

TEST(CompositeRuleReference, NameResolvesToItself) {
  const auto name = resolve_alarm_reference("cpu high", test_settings());
  ASSERT_TRUE(name.is_ok());
  EXPECT_EQ(*name, "cpu high");
}

TEST(CompositeRuleReference, OwnAccountArnResolvesToTheName) {
  const auto name = resolve_alarm_reference(arn_of("svc:cpu high"), test_settings());
  ASSERT_TRUE(name.is_ok());
  EXPECT_EQ(*name, "svc:cpu high");
}

TEST(CompositeRuleReference, ArnInAnotherAccountIsRejected) {
  const auto name = resolve_alarm_reference("arn:aws:cloudwatch:us-east-1:999999999999:alarm:cpu",
                                            test_settings());
  ASSERT_FALSE(name.is_ok());
  EXPECT_EQ(name.status().message(),
            "\"arn:aws:cloudwatch:us-east-1:999999999999:alarm:cpu\" is in account "
            "\"999999999999\", Region \"us-east-1\"; child alarms and suppressors must be in the "
            "composite's account \"123456789012\" and Region \"us-east-1\" (trailwatch.account_id "
            "and trailwatch.region)");
}

TEST(CompositeRuleReference, ArnInAnotherRegionIsRejected) {
  const auto name = resolve_alarm_reference("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu",
                                            test_settings());
  ASSERT_FALSE(name.is_ok());
  EXPECT_NE(name.status().message().find("Region \"eu-west-1\""), std::string::npos);
}

TEST(CompositeRuleReference, ArnWithTheWrongPartitionIsRejected) {
  const auto name = resolve_alarm_reference(
      "arn:aws-cn:cloudwatch:us-east-1:123456789012:alarm:cpu", test_settings());
  ASSERT_FALSE(name.is_ok());
  EXPECT_NE(name.status().message().find("has the partition \"aws-cn\""), std::string::npos);
}

TEST(CompositeRuleReference, ArnOfSomethingElseIsRejected) {
  for (const char* arn : {"arn:aws:sns:us-east-1:123456789012:topic",
                          "arn:", "arn:aws:cloudwatch:us-east-1:123456789012:dashboard:x",
                          "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"}) {
    const auto name = resolve_alarm_reference(arn, test_settings());
    ASSERT_FALSE(name.is_ok()) << arn;
    EXPECT_NE(name.status().message().find("alarm"), std::string::npos) << arn;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation.

MetricAlarmConfig metric(std::string name) {
  MetricAlarmConfig m;
  m.alarm_name = std::move(name);
  return m;
}

CompositeAlarmConfig composite(std::string name, std::string rule) {
  CompositeAlarmConfig c;
  c.alarm_name = std::move(name);
  c.alarm_rule = std::move(rule);
  return c;
}

Config config_with(std::vector<std::string> metrics, std::vector<CompositeAlarmConfig> composites) {
  Config config;
  config.source_file = "alarms.json";
  config.settings = test_settings();
  for (auto& name : metrics) {
    config.metric_alarms.push_back(metric(std::move(name)));
  }
  for (size_t i = 0; i < composites.size(); ++i) {
    composites[i].source_pointer = "/CompositeAlarms/" + std::to_string(i);
  }
  config.composite_alarms = std::move(composites);
  return config;
}

std::vector<std::string> problem_lines(const Config& config) {
  std::vector<std::string> lines;
  for (const auto& p : check_composite_alarms(config)) {
    lines.push_back(p.to_string());
  }
  return lines;
}

TEST(CompositeValidation, AcceptsNamesQuotedNamesArnsAndNestedComposites) {
  const Config config = config_with(
      {"cpu", "disk full", "svc:latency"},
      {composite("host", "ALARM(cpu) OR ALARM(\"disk full\")"),
       composite("service", "ALARM(host) AND OK(" + arn_of("svc:latency") + ")"),
       composite("any", "AT_LEAST(1, ALARM, (host, service, \"" + arn_of("cpu") + "\"))")});
  EXPECT_TRUE(check_composite_alarms(config).empty());
}

TEST(CompositeValidation, ReportsParseErrorsAtTheRuleWithTheCharacter) {
  const Config config = config_with({"a"}, {composite("c", "ALARM(a) AND")});
  EXPECT_EQ(problem_lines(config),
            (std::vector<std::string>{
                "alarms.json: /CompositeAlarms/0/AlarmRule: invalid rule at character 13: "
                "unexpected end of rule; expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), "
                "AT_LEAST(...), TRUE, FALSE, NOT or '('"}));
}

TEST(CompositeValidation, ReportsUnknownChildrenOncePerName) {
  const Config config = config_with(
      {"a"},
      {composite("c", "ALARM(a) AND ALARM(nope) OR OK(nope) OR OK(" + arn_of("gone") + ")")});
  EXPECT_EQ(
      problem_lines(config),
      (std::vector<std::string>{
          "alarms.json: /CompositeAlarms/0/AlarmRule: at character 20: unknown alarm "
          "\"nope\": no metric or composite alarm in this file has that name",
          "alarms.json: /CompositeAlarms/0/AlarmRule: at character 44: unknown alarm "
          "\"gone\" (from the ARN \"" +
              arn_of("gone") + "\"): no metric or composite alarm in this file has that name"}));
}

TEST(CompositeValidation, ReportsChildArnFromAnotherAccount) {
  const Config config = config_with(
      {"a"}, {composite("c", "ALARM(arn:aws:cloudwatch:us-east-1:111111111111:alarm:a)")});
  const auto problems = check_composite_alarms(config);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].pointer, "/CompositeAlarms/0/AlarmRule");
  EXPECT_NE(problems[0].message.find("at character 7: "), std::string::npos);
  EXPECT_NE(problems[0].message.find("must be in the composite's account"), std::string::npos);
}

std::string or_of_children(int count) {
  std::string rule;
  for (int i = 0; i < count; ++i) {
    rule += (i == 0 ? "" : " OR ") + std::string("ALARM(m") + std::to_string(i) + ")";
  }
  return rule;
}

std::vector<std::string> metric_names(int count) {
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    names.push_back("m" + std::to_string(i));
  }
  return names;
}

TEST(CompositeValidation, AcceptsOneHundredDistinctChildren) {
  const Config config = config_with(metric_names(100), {composite("c", or_of_children(100))});
  EXPECT_TRUE(check_composite_alarms(config).empty());
}

TEST(CompositeValidation, ReportsMoreThanOneHundredDistinctChildren) {
  const Config config = config_with(metric_names(101), {composite("c", or_of_children(101))});
  EXPECT_EQ(problem_lines(config),
            (std::vector<std::string>{"alarms.json: /CompositeAlarms/0/AlarmRule: the rule "
                                      "references 101 distinct child alarms; at most 100 are "
                                      "allowed"}));
}

TEST(CompositeValidation, CountsAChildNamedTwiceOrByArnOnce) {
  const std::string rule = or_of_children(100) + " OR OK(m0) OR OK(\"" + arn_of("m1") + "\")";
  const Config config = config_with(metric_names(100), {composite("c", rule)});
  EXPECT_TRUE(check_composite_alarms(config).empty());
}

TEST(CompositeValidation, ReportsMoreThanFiveHundredElements) {
  std::string ok_rule = "ALARM(m0)";
  for (int i = 1; i < kMaxRuleElements; ++i) {
    ok_rule += " OR TRUE";
  }
  EXPECT_TRUE(check_composite_alarms(config_with({"m0"}, {composite("c", ok_rule)})).empty());
  const Config config = config_with({"m0"}, {composite("c", "(" + ok_rule + ")")});
  EXPECT_EQ(problem_lines(config),
            (std::vector<std::string>{
                "alarms.json: /CompositeAlarms/0/AlarmRule: the rule has 501 elements (alarm "
                "references, TRUE/FALSE and parenthesized groups); at most 500 are allowed"}));
}

TEST(CompositeValidation, ReportsAlarmThatIsAChildOfMoreThan150Composites) {
  std::vector<CompositeAlarmConfig> composites;
  composites.reserve(kMaxCompositeParentsPerAlarm + 2);
  for (int i = 0; i < kMaxCompositeParentsPerAlarm; ++i) {
    composites.push_back(composite("c" + std::to_string(i), "ALARM(shared) OR ALARM(shared)"));
  }
  EXPECT_TRUE(check_composite_alarms(config_with({"shared"}, composites)).empty());
  composites.push_back(composite("c150", "ALARM(shared)"));
  composites.push_back(composite("c151", "ALARM(shared)"));
  EXPECT_EQ(problem_lines(config_with({"shared"}, composites)),
            (std::vector<std::string>{"alarms.json: /CompositeAlarms/150/AlarmRule: alarm "
                                      "\"shared\" is a child of 152 composite alarms; an alarm may "
                                      "be a child of at most 150 (this is the first composite over "
                                      "the limit)"}));
}

TEST(CompositeValidation, ReportsTwoCompositeCycleWithItsPath) {
  const Config config = config_with(
      {"m"}, {composite("a", "ALARM(m) AND ALARM(b)"), composite("b", "OK(" + arn_of("a") + ")")});
  EXPECT_EQ(problem_lines(config),
            (std::vector<std::string>{"alarms.json: /CompositeAlarms/0/AlarmRule: cycle: a -> b -> "
                                      "a; a composite alarm cannot depend on itself through its "
                                      "rule"}));
}

TEST(CompositeValidation, ReportsSelfReferenceAsCycle) {
  const Config config = config_with({}, {composite("x", "TRUE"), composite("self", "ALARM(self)")});
  const auto problems = check_composite_alarms(config);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].pointer, "/CompositeAlarms/1/AlarmRule");
  EXPECT_EQ(problems[0].message.substr(0, 21), "cycle: self -> self; ");
}

TEST(CompositeValidation, ReportsEachCycleOnceFromItsFirstComposite) {
  const Config config = config_with(
      {}, {composite("ok", "TRUE"), composite("p", "ALARM(q)"), composite("q", "ALARM(r)"),
           composite("r", "ALARM(p) OR ALARM(ok)"), composite("x", "ALARM(y)"),
           composite("y", "ALARM(x)"), composite("top", "ALARM(p)")});
  const auto problems = check_composite_alarms(config);
  ASSERT_EQ(problems.size(), 2U);
  EXPECT_EQ(problems[0].pointer, "/CompositeAlarms/1/AlarmRule");
  EXPECT_EQ(problems[0].message.substr(0, 26), "cycle: p -> q -> r -> p; a");
  EXPECT_EQ(problems[1].pointer, "/CompositeAlarms/4/AlarmRule");
  EXPECT_EQ(problems[1].message.substr(0, 21), "cycle: x -> y -> x; a");
}

TEST(CompositeValidation, ReportsShortestCycleThroughTheFirstComposite) {
  const Config config = config_with({}, {composite("a", "ALARM(b) OR ALARM(c)"),
                                         composite("b", "ALARM(c)"), composite("c", "ALARM(a)")});
  const auto problems = check_composite_alarms(config);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].message.substr(0, 21), "cycle: a -> c -> a; a");
}

TEST(CompositeValidation, ReportsUnknownSuppressor) {
  CompositeAlarmConfig c = composite("c", "ALARM(m)");
  c.actions_suppressor = "maintenance";
  c.actions_suppressor_wait_period = 60;
  c.actions_suppressor_extension_period = 60;
  EXPECT_EQ(problem_lines(config_with({"m"}, {c})),
            (std::vector<std::string>{"alarms.json: /CompositeAlarms/0/ActionsSuppressor: unknown "
                                      "alarm \"maintenance\": no metric or composite alarm in "
                                      "this file has that name"}));
}

TEST(CompositeValidation, ReportsCompositeSuppressingItself) {
  CompositeAlarmConfig c = composite("c", "ALARM(m)");
  c.actions_suppressor = arn_of("c");
  EXPECT_EQ(problem_lines(config_with({"m"}, {c})),
            (std::vector<std::string>{"alarms.json: /CompositeAlarms/0/ActionsSuppressor: a "
                                      "composite alarm cannot be its own ActionsSuppressor"}));
}

TEST(CompositeValidation, ReportsSuppressorArnFromAnotherRegion) {
  CompositeAlarmConfig c = composite("c", "ALARM(m)");
  c.actions_suppressor = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:m";
  const auto problems = check_composite_alarms(config_with({"m"}, {c}));
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].pointer, "/CompositeAlarms/0/ActionsSuppressor");
  EXPECT_NE(problems[0].message.find("Region \"eu-west-1\""), std::string::npos);
}

TEST(CompositeValidation, AcceptsSuppressorByNameOrArnIncludingAComposite) {
  CompositeAlarmConfig by_name = composite("c1", "ALARM(m)");
  by_name.actions_suppressor = "maintenance";
  CompositeAlarmConfig by_arn = composite("c2", "ALARM(m)");
  by_arn.actions_suppressor = arn_of("c1");
  EXPECT_TRUE(check_composite_alarms(config_with({"m", "maintenance"}, {by_name, by_arn})).empty());
}

TEST(CompositeValidation, UsesTheIndexWhenTheSourcePointerIsEmpty) {
  Config config = config_with({}, {composite("ok", "TRUE"), composite("bad", "NOT")});
  config.composite_alarms[1].source_pointer.clear();
  const auto problems = check_composite_alarms(config);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].pointer, "/CompositeAlarms/1/AlarmRule");
}

TEST(CompositeValidation, ReportsProblemsInDocumentOrder) {
  CompositeAlarmConfig second = composite("b", "ALARM(zz)");
  second.actions_suppressor = "yy";
  const auto problems = check_composite_alarms(
      config_with({}, {composite("a", "ALARM("), second, composite("c", "ALARM(c)")}));
  std::vector<std::string> pointers;
  pointers.reserve(problems.size());
  for (const auto& p : problems) {
    pointers.push_back(p.pointer);
  }
  EXPECT_EQ(pointers, (std::vector<std::string>{
                          "/CompositeAlarms/0/AlarmRule", "/CompositeAlarms/1/AlarmRule",
                          "/CompositeAlarms/1/ActionsSuppressor", "/CompositeAlarms/2/AlarmRule"}));
}

// ---------------------------------------------------------------------------------------------
// Topological order.

TEST(CompositeTopologicalOrder, ChildrenComeBeforeParents) {
  const Config config =
      config_with({"m"}, {composite("top", "ALARM(mid) AND ALARM(" + arn_of("leaf") + ")"),
                          composite("mid", "ALARM(leaf)"), composite("leaf", "ALARM(m)")});
  EXPECT_EQ(topological_order(config), (std::vector<std::string>{"leaf", "mid", "top"}));
}

TEST(CompositeTopologicalOrder, IndependentCompositesKeepDocumentOrder) {
  const Config config = config_with({"m"}, {composite("b", "ALARM(m)"), composite("a", "ALARM(m)"),
                                            composite("p", "ALARM(a)"), composite("c", "TRUE")});
  EXPECT_EQ(topological_order(config), (std::vector<std::string>{"b", "a", "p", "c"}));
  const Config forward = config_with(
      {"m"}, {composite("p", "ALARM(a)"), composite("a", "ALARM(m)"), composite("c", "TRUE")});
  EXPECT_EQ(topological_order(forward), (std::vector<std::string>{"a", "p", "c"}));
}

TEST(CompositeTopologicalOrder, SuppressorComesFirstWhenThatAddsNoCycle) {
  CompositeAlarmConfig suppressed = composite("suppressed", "ALARM(m)");
  suppressed.actions_suppressor = "suppressor";
  const Config config = config_with({"m"}, {suppressed, composite("suppressor", "ALARM(m)")});
  EXPECT_EQ(topological_order(config), (std::vector<std::string>{"suppressor", "suppressed"}));
}

TEST(CompositeTopologicalOrder, SuppressorEdgeThatWouldCycleIsIgnored) {
  CompositeAlarmConfig child = composite("child", "ALARM(m)");
  child.actions_suppressor = "parent";
  const Config config = config_with({"m"}, {composite("parent", "ALARM(child)"), child});
  EXPECT_EQ(topological_order(config), (std::vector<std::string>{"child", "parent"}));
}

TEST(CompositeTopologicalOrder, CompositesInACycleComeLast) {
  const Config config = config_with(
      {}, {composite("x", "ALARM(y)"), composite("y", "ALARM(x)"), composite("z", "FALSE")});
  EXPECT_EQ(topological_order(config), (std::vector<std::string>{"z", "x", "y"}));
}

// ---------------------------------------------------------------------------------------------
// CompositeAlarm: states, reasons, nesting.

EventTime at(const char* iso) {
  return pipeline::parse_iso8601(iso).value();
}

CompositeAlarm make(const CompositeAlarmConfig& config) {
  auto alarm = CompositeAlarm::create(config, test_settings());
  EXPECT_TRUE(alarm.is_ok()) << alarm.status().to_string();
  return std::move(alarm).value();
}

TEST(CompositeAlarm, StartsInInsufficientDataWithTheInitialReason) {
  const CompositeAlarm alarm = make(composite("c", "ALARM(a)"));
  EXPECT_EQ(alarm.state().value, kInsufficient);
  EXPECT_EQ(alarm.state().reason, kInitialReason);
  EXPECT_EQ(alarm.arn(), arn_of("c"));
  EXPECT_EQ(alarm.children(), (std::vector<std::string>{"a"}));
}

TEST(CompositeAlarm, CreateRejectsUnparsableRulesAndForeignArns) {
  const auto bad_rule = CompositeAlarm::create(composite("c", "ALARM("), test_settings());
  ASSERT_FALSE(bad_rule.is_ok());
  EXPECT_EQ(bad_rule.status().message(),
            "composite alarm \"c\": invalid rule at character 7: expected an alarm name or ARN, "
            "found end of rule");
  CompositeAlarmConfig foreign = composite("c", "TRUE");
  foreign.actions_suppressor = "arn:aws:cloudwatch:us-east-1:1:alarm:x";
  EXPECT_FALSE(CompositeAlarm::create(foreign, test_settings()).is_ok());
}

TEST(CompositeAlarm, InitialEvaluationStatesThatTheAlarmWasCreated) {
  CompositeAlarm alarm = make(composite("web", "ALARM(a)"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2022-07-22T15:00:00Z"), out);
  ASSERT_EQ(out.transitions.size(), 1U);
  const StateTransition& t = out.transitions[0];
  EXPECT_EQ(t.alarm_name, "web");
  EXPECT_EQ(t.alarm_arn, arn_of("web"));
  EXPECT_TRUE(t.composite);
  EXPECT_EQ(t.previous.value, kInsufficient);
  EXPECT_EQ(t.previous.reason, kInitialReason);
  EXPECT_EQ(t.current.value, kOk);
  EXPECT_EQ(t.current.reason,
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web was created and its alarm rule "
            "evaluates to OK");
  EXPECT_EQ(t.current.reason_data, R"({"triggeringAlarms":[]})");
  EXPECT_EQ(t.current.timestamp, at("2022-07-22T15:00:00Z"));
  EXPECT_EQ(alarm.state(), t.current);
}

TEST(CompositeAlarm, TrueRuleIsAlarmRightAfterCreation) {
  CompositeAlarm alarm = make(composite("c", "TRUE"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  EXPECT_EQ(alarm.state().value, kAlarm);
  EXPECT_EQ(alarm.state().reason,
            arn_of("c") + " was created and its alarm rule evaluates to ALARM");
}

TEST(CompositeAlarm, FalseRuleIsOkRightAfterCreation) {
  CompositeAlarm alarm = make(composite("c", "false"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  EXPECT_EQ(alarm.state().value, kOk);
}

TEST(CompositeAlarm, InitialEvaluationHappensOnce) {
  CompositeAlarm alarm = make(composite("c", "TRUE"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  alarm.evaluate_initial(at("2024-01-01T00:01:00Z"), out);
  EXPECT_EQ(out.transitions.size(), 1U);
}

TEST(CompositeAlarm, ChildTransitionReasonAndReasonDataUseCloudWatchFormats) {
  CompositeAlarm alarm = make(composite("Parent", "ALARM(Child)"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2022-07-22T15:00:00Z"), out);
  out.clear();
  alarm.on_child_state("Child", kAlarm, at("2022-07-22T15:57:45.394Z"), out);
  ASSERT_EQ(out.transitions.size(), 1U);
  const StateRecord& current = out.transitions[0].current;
  EXPECT_EQ(current.value, kAlarm);
  EXPECT_EQ(current.reason,
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Child transitioned to ALARM at "
            "Friday 22 July, 2022 15:57:45 UTC");
  EXPECT_EQ(
      current.reason_data,
      R"({"triggeringAlarms":[{"arn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:Child",)"
      R"("state":{"value":"ALARM","timestamp":"2022-07-22T15:57:45.394+0000"}}]})");
  EXPECT_EQ(current.timestamp, at("2022-07-22T15:57:45.394Z"));
  EXPECT_EQ(out.transitions[0].previous.value, kOk);
}

TEST(CompositeAlarm, ReasonDateHasTwoDigitDayAndFullNames) {
  CompositeAlarm alarm = make(composite("p", "OK(c)"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2022-08-05T00:00:00Z"), out);
  alarm.on_child_state("c", kOk, at("2022-08-05T09:03:07Z"), out);
  EXPECT_EQ(alarm.state().reason, arn_of("c") +
                                      " transitioned to OK at Friday 05 August, 2022 "
                                      "09:03:07 UTC");
  alarm.on_child_state("c", kInsufficient, at("2024-02-29T23:59:59.999Z"), out);
  EXPECT_EQ(alarm.state().reason, arn_of("c") +
                                      " transitioned to INSUFFICIENT_DATA at Thursday "
                                      "29 February, 2024 23:59:59 UTC");
}

TEST(CompositeAlarm, ReasonDataEscapesTheChildArn) {
  CompositeAlarm alarm = make(composite("p", R"(ALARM("a\b"))"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2022-07-22T15:00:00Z"), out);
  alarm.on_child_state("a\\b", kAlarm, at("2022-07-22T15:01:00Z"), out);
  EXPECT_TRUE(alarm.state().reason_data.starts_with(
      R"({"triggeringAlarms":[{"arn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:a\\b",)"))
      << alarm.state().reason_data;
}

TEST(CompositeAlarm, ChildChangeThatKeepsTheRuleValueProducesNothing) {
  CompositeAlarm alarm = make(composite("p", "ALARM(a) OR ALARM(b)"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:01:00Z"), out);
  out.clear();
  alarm.on_child_state("b", kAlarm, at("2024-01-01T00:02:00Z"), out);
  alarm.on_child_state("b", kAlarm, at("2024-01-01T00:03:00Z"), out);
  alarm.on_child_state("a", kOk, at("2024-01-01T00:04:00Z"), out);
  EXPECT_TRUE(out.transitions.empty());
  alarm.on_child_state("b", kInsufficient, at("2024-01-01T00:05:00Z"), out);
  ASSERT_EQ(out.transitions.size(), 1U);
  EXPECT_EQ(out.transitions[0].current.value, kOk);
  EXPECT_EQ(out.transitions[0].previous.reason,
            arn_of("a") + " transitioned to ALARM at Monday 01 January, 2024 00:01:00 UTC");
}

TEST(CompositeAlarm, ChildStatesBeforeTheInitialEvaluationOnlySeedIt) {
  CompositeAlarm alarm = make(composite("p", "ALARM(a)"));
  CompositeOutput out;
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:00:00Z"), out);
  EXPECT_TRUE(out.transitions.empty());
  EXPECT_EQ(alarm.state().value, kInsufficient);
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  ASSERT_EQ(out.transitions.size(), 1U);
  EXPECT_EQ(out.transitions[0].current.value, kAlarm);
}

TEST(CompositeAlarm, IgnoresAlarmsItDoesNotDependOn) {
  CompositeAlarm alarm = make(composite("p", "INSUFFICIENT_DATA(a)"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  out.clear();
  EXPECT_FALSE(alarm.depends_on("other"));
  alarm.on_child_state("other", kAlarm, at("2024-01-01T00:01:00Z"), out);
  alarm.on_child_state(arn_of("a"), kAlarm, at("2024-01-01T00:01:00Z"), out);
  EXPECT_TRUE(out.transitions.empty());
}

TEST(CompositeAlarm, NameAndArnReferencesShareOneChild) {
  CompositeAlarm alarm = make(composite("p", "ALARM(a) AND ALARM(\"" + arn_of("a") + "\")"));
  EXPECT_EQ(alarm.children(), (std::vector<std::string>{"a"}));
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:01:00Z"), out);
  EXPECT_EQ(alarm.state().value, kAlarm);
}

TEST(CompositeAlarm, EarlierTimesAreTreatedAsTheLatestSeen) {
  CompositeAlarm alarm = make(composite("p", "ALARM(a)"));
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:10:00Z"), out);
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:05:00Z"), out);
  ASSERT_EQ(out.transitions.size(), 2U);
  EXPECT_EQ(out.transitions[1].current.timestamp, at("2024-01-01T00:10:00Z"));
}

// Routes every transition to every composite after its producer in topological order, as the
// runtime does.
struct Runtime {
  std::vector<CompositeAlarm> composites;  // In topological order.
  std::vector<StateTransition> transitions;

  void deliver(const StateTransition& t, size_t from) {
    transitions.push_back(t);
    for (size_t i = from; i < composites.size(); ++i) {
      CompositeOutput out;
      composites[i].on_child_transition(t, out);
      for (const StateTransition& next : out.transitions) {
        deliver(next, i + 1);
      }
    }
  }

  void start(EventTime t) {
    for (size_t i = 0; i < composites.size(); ++i) {
      CompositeOutput out;
      composites[i].evaluate_initial(t, out);
      for (const StateTransition& next : out.transitions) {
        deliver(next, i + 1);
      }
    }
  }

  void metric(const std::string& name, AlarmState state, EventTime t) {
    StateTransition transition;
    transition.alarm_name = name;
    transition.current.value = state;
    transition.current.timestamp = t;
    deliver(transition, 0);
  }
};

TEST(CompositeAlarm, NestedCompositesReactToTheirChildCompositesTransitions) {
  const Config config =
      config_with({"m1", "m2", "m3"}, {composite("service", "ALARM(host) AND ALARM(m3)"),
                                       composite("host", "ALARM(m1) OR ALARM(m2)")});
  ASSERT_TRUE(check_composite_alarms(config).empty());
  Runtime runtime;
  for (const std::string& name : topological_order(config)) {
    for (const auto& c : config.composite_alarms) {
      if (c.alarm_name == name) {
        runtime.composites.push_back(make(c));
      }
    }
  }
  runtime.start(at("2024-01-01T00:00:00Z"));
  ASSERT_EQ(runtime.transitions.size(), 2U);
  EXPECT_EQ(runtime.transitions[0].alarm_name, "host");
  EXPECT_EQ(runtime.transitions[1].alarm_name, "service");
  EXPECT_EQ(runtime.transitions[1].current.reason,
            arn_of("service") + " was created and its alarm rule evaluates to OK");
  runtime.transitions.clear();

  runtime.metric("m3", kAlarm, at("2024-01-01T00:01:00Z"));
  runtime.metric("m1", kAlarm, at("2024-01-01T00:02:00.250Z"));
  ASSERT_EQ(runtime.transitions.size(), 4U);
  const StateTransition& host = runtime.transitions[2];
  EXPECT_EQ(host.alarm_name, "host");
  EXPECT_EQ(host.current.value, kAlarm);
  const StateTransition& service = runtime.transitions[3];
  EXPECT_EQ(service.alarm_name, "service");
  EXPECT_EQ(service.current.value, kAlarm);
  EXPECT_EQ(service.current.reason,
            arn_of("host") + " transitioned to ALARM at Monday 01 January, 2024 00:02:00 UTC");
  EXPECT_EQ(service.current.reason_data,
            R"({"triggeringAlarms":[{"arn":")" + arn_of("host") +
                R"(","state":{"value":"ALARM","timestamp":"2024-01-01T00:02:00.250+0000"}}]})");
}

// ---------------------------------------------------------------------------------------------
// Actions and suppression.

TEST(CompositeAlarm, ActionsAreDueAtTheTransitionWithoutASuppressor) {
  CompositeAlarmConfig config = composite("p", "ALARM(a)");
  config.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:page"};
  CompositeAlarm alarm = make(config);
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  EXPECT_TRUE(out.actions_due.empty());  // No OK actions configured.
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:01:00Z"), out);
  ASSERT_EQ(out.actions_due.size(), 1U);
  const ActionsDue& due = out.actions_due[0];
  EXPECT_EQ(due.alarm_name, "p");
  EXPECT_EQ(due.alarm_arn, arn_of("p"));
  EXPECT_EQ(due.state, kAlarm);
  EXPECT_EQ(due.at, at("2024-01-01T00:01:00Z"));
  EXPECT_EQ(due.actions, config.alarm_actions);
  EXPECT_EQ(due.transition, out.transitions.back());
  EXPECT_EQ(alarm.state().actions_suppressed_by, SuppressedBy::kNone);
  EXPECT_EQ(alarm.state().actions_suppressed_reason, "");
}

TEST(CompositeAlarm, ActionsEnabledFalseProducesNoActionsDue) {
  CompositeAlarmConfig config = composite("p", "ALARM(a)");
  config.actions_enabled = false;
  config.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:page"};
  config.ok_actions = {"arn:aws:sns:us-east-1:123456789012:page"};
  CompositeAlarm alarm = make(config);
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:01:00Z"), out);
  alarm.on_child_state("a", kOk, at("2024-01-01T00:02:00Z"), out);
  EXPECT_EQ(out.transitions.size(), 3U);
  EXPECT_TRUE(out.actions_due.empty());
}

TEST(CompositeSuppression, ActionsEnabledFalseProducesNoActionsDueAfterSuppression) {
  CompositeAlarmConfig config = composite("p", "ALARM(a)");
  config.actions_enabled = false;
  config.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:page"};
  config.actions_suppressor = "s";
  config.actions_suppressor_wait_period = 60;
  config.actions_suppressor_extension_period = 60;
  CompositeAlarm alarm = make(config);
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:01:00Z"), out);
  alarm.on_time(at("2024-01-01T01:00:00Z"), out);
  EXPECT_TRUE(out.actions_due.empty());
}

// The six documented examples: WaitPeriod 2 units, ExtensionPeriod 3 units; a unit is a minute.
// The composite is `ALARM(child)` suppressed by `sup`; it has been OK (and its OK actions have
// run) since long before t0.
class CompositeSuppressionExample : public ::testing::Test {
 protected:
  static EventTime t(int unit) {
    return EventTime::from_seconds(1'700'000'000 + int64_t{unit} * 60);
  }

  CompositeSuppressionExample() {
    CompositeAlarmConfig config = composite("web", "ALARM(child)");
    config.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:alarm"};
    config.ok_actions = {"arn:aws:sns:us-east-1:123456789012:ok"};
    config.actions_suppressor = "sup";
    config.actions_suppressor_wait_period = 120;
    config.actions_suppressor_extension_period = 180;
    alarm_ = make(config);
    CompositeOutput warmup;
    alarm_->evaluate_initial(t(-10), warmup);
    alarm_->on_time(t(-1), warmup);
    EXPECT_EQ(warmup.actions_due.size(), 1U);
  }

  struct Step {
    int unit;
    const char* alarm;  // "child" or "sup".
    AlarmState state;
  };

  // Feeds the steps in order, calling on_time every unit up to t12, and returns the actions
  // that became due as (unit, state).
  std::vector<std::pair<int, AlarmState>> run(const std::vector<Step>& steps) {
    size_t next = 0;
    for (int unit = 0; unit <= 12; ++unit) {
      alarm_->on_time(t(unit), out_);
      while (next < steps.size() && steps[next].unit == unit) {
        alarm_->on_child_state(steps[next].alarm, steps[next].state, t(unit), out_);
        ++next;
      }
    }
    std::vector<std::pair<int, AlarmState>> due;
    due.reserve(out_.actions_due.size());
    for (const ActionsDue& a : out_.actions_due) {
      due.emplace_back(static_cast<int>((a.at - t(0)).seconds() / 60), a.state);
    }
    return due;
  }

  using Due = std::vector<std::pair<int, AlarmState>>;

  std::optional<CompositeAlarm> alarm_;
  CompositeOutput out_;
};

TEST_F(CompositeSuppressionExample, Example1ActionsRunWhenTheWaitPeriodExpires) {
  EXPECT_EQ(run({{2, "child", kAlarm}}), (Due{{4, kAlarm}}));
  ASSERT_EQ(out_.transitions.size(), 1U);
  EXPECT_EQ(out_.transitions[0].current.actions_suppressed_by, SuppressedBy::kWaitPeriod);
  EXPECT_EQ(out_.transitions[0].current.actions_suppressed_reason,
            "Actions suppressed by WaitPeriod");
  EXPECT_EQ(alarm_->state().actions_suppressed_by, SuppressedBy::kNone);
}

TEST_F(CompositeSuppressionExample, Example2SuppressorAlarmDuringTheWaitPeriodSuppressesActions) {
  EXPECT_EQ(run({{2, "child", kAlarm}, {3, "sup", kAlarm}}), Due{});
  EXPECT_EQ(alarm_->state().actions_suppressed_by, SuppressedBy::kAlarm);
  EXPECT_EQ(alarm_->state().actions_suppressed_reason, "Actions suppressed by Alarm");
  EXPECT_FALSE(alarm_->next_deadline().has_value());
}

TEST_F(CompositeSuppressionExample, Example3NewStateDuringTheWaitPeriodRestartsIt) {
  EXPECT_EQ(run({{2, "child", kAlarm}, {3, "child", kOk}}), (Due{{5, kOk}}));
}

TEST_F(CompositeSuppressionExample, Example4SuppressorAlreadyInAlarmSuppressesActions) {
  EXPECT_EQ(run({{1, "sup", kAlarm}, {2, "child", kAlarm}}), Due{});
  ASSERT_EQ(out_.transitions.size(), 1U);
  EXPECT_EQ(out_.transitions[0].current.actions_suppressed_by, SuppressedBy::kAlarm);
  EXPECT_EQ(out_.transitions[0].current.actions_suppressed_reason, "Actions suppressed by Alarm");
}

TEST_F(CompositeSuppressionExample, Example5ActionsRunWhenTheExtensionPeriodExpires) {
  EXPECT_EQ(run({{2, "child", kAlarm}, {3, "sup", kAlarm}, {6, "sup", kOk}}), (Due{{9, kAlarm}}));
}

TEST_F(CompositeSuppressionExample, Example6NewStateDuringTheExtensionPeriodStartsAWaitPeriod) {
  EXPECT_EQ(run({{2, "child", kAlarm}, {3, "sup", kAlarm}, {6, "sup", kOk}, {7, "child", kOk}}),
            (Due{{9, kOk}}));
  ASSERT_EQ(out_.transitions.size(), 2U);
  EXPECT_EQ(out_.transitions[1].previous.actions_suppressed_by, SuppressedBy::kExtensionPeriod);
  EXPECT_EQ(out_.transitions[1].previous.actions_suppressed_reason,
            "Actions suppressed by ExtensionPeriod");
  EXPECT_EQ(out_.transitions[1].current.actions_suppressed_by, SuppressedBy::kWaitPeriod);
}

TEST_F(CompositeSuppressionExample, StateEnteredAndLeftWhileSuppressedNeverRunsItsActions) {
  EXPECT_EQ(run({{2, "child", kAlarm},
                 {3, "sup", kAlarm},
                 {4, "child", kOk},
                 {5, "child", kAlarm},
                 {6, "sup", kOk}}),
            (Due{{9, kAlarm}}));
}

TEST_F(CompositeSuppressionExample, SuppressorReturningToAlarmEndsTheExtensionPeriod) {
  EXPECT_EQ(run({{2, "child", kAlarm}, {3, "sup", kAlarm}, {6, "sup", kOk}, {8, "sup", kAlarm}}),
            Due{});
  EXPECT_EQ(alarm_->state().actions_suppressed_by, SuppressedBy::kAlarm);
}

TEST_F(CompositeSuppressionExample, SuppressorLeavingAlarmWhileNotSuppressingDoesNothing) {
  EXPECT_EQ(run({{1, "sup", kAlarm}, {2, "sup", kOk}, {3, "child", kAlarm}}), (Due{{5, kAlarm}}));
}

TEST_F(CompositeSuppressionExample, SuppressorLeavingAlarmForInsufficientDataStartsTheExtension) {
  EXPECT_EQ(run({{2, "child", kAlarm}, {3, "sup", kAlarm}, {6, "sup", kInsufficient}}),
            (Due{{9, kAlarm}}));
}

TEST_F(CompositeSuppressionExample, PeriodEndingAtAnEventExpiresBeforeTheEvent) {
  // The wait ends at t4; the suppressor's ALARM at t4 comes too late to suppress.
  EXPECT_EQ(run({{2, "child", kAlarm}, {4, "sup", kAlarm}}), (Due{{4, kAlarm}}));
}

TEST_F(CompositeSuppressionExample, NextDeadlineIsTheEndOfTheRunningPeriod) {
  CompositeOutput out;
  alarm_->on_child_state("child", kAlarm, t(2), out);
  EXPECT_EQ(alarm_->next_deadline(), t(4));
  EXPECT_EQ(alarm_->state().actions_suppressed_by, SuppressedBy::kWaitPeriod);
  alarm_->on_child_state("sup", kAlarm, t(3), out);
  EXPECT_EQ(alarm_->next_deadline(), std::nullopt);
  alarm_->on_child_state("sup", kOk, t(6), out);
  EXPECT_EQ(alarm_->next_deadline(), t(9));
  EXPECT_EQ(alarm_->state().actions_suppressed_by, SuppressedBy::kExtensionPeriod);
  EXPECT_EQ(alarm_->state().actions_suppressed_reason, "Actions suppressed by ExtensionPeriod");
  alarm_->on_time(t(9), out);
  EXPECT_EQ(alarm_->next_deadline(), std::nullopt);
  EXPECT_EQ(alarm_->state().actions_suppressed_by, SuppressedBy::kNone);
}

TEST_F(CompositeSuppressionExample, LateTimerReportsTheExpiryTime) {
  CompositeOutput out;
  alarm_->on_child_state("child", kAlarm, t(2), out);
  alarm_->on_time(t(11), out);
  ASSERT_EQ(out.actions_due.size(), 1U);
  EXPECT_EQ(out.actions_due[0].at, t(4));
  EXPECT_EQ(out.actions_due[0].transition, out.transitions[0]);
}

TEST(CompositeSuppression, SuppressorThatIsAlsoAChildSuppressesTheChangeItCauses) {
  CompositeAlarmConfig config = composite("p", "ALARM(a) OR ALARM(s)");
  config.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:page"};
  config.actions_suppressor = "s";
  config.actions_suppressor_wait_period = 60;
  config.actions_suppressor_extension_period = 60;
  CompositeAlarm alarm = make(config);
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  alarm.on_child_state("s", kAlarm, at("2024-01-01T00:10:00Z"), out);
  ASSERT_EQ(out.transitions.size(), 2U);
  EXPECT_EQ(out.transitions[1].current.value, kAlarm);
  EXPECT_EQ(out.transitions[1].current.actions_suppressed_by, SuppressedBy::kAlarm);
  alarm.on_time(at("2024-01-01T01:00:00Z"), out);
  EXPECT_TRUE(out.actions_due.empty());
  // The suppressor recovers while `a` keeps the composite in ALARM: the extension runs out and
  // the ALARM actions run then.
  alarm.on_child_state("a", kAlarm, at("2024-01-01T01:01:00Z"), out);
  alarm.on_child_state("s", kOk, at("2024-01-01T01:02:00Z"), out);
  alarm.on_time(at("2024-01-01T01:05:00Z"), out);
  ASSERT_EQ(out.actions_due.size(), 1U);
  EXPECT_EQ(out.actions_due[0].at, at("2024-01-01T01:03:00Z"));
  EXPECT_EQ(out.actions_due[0].state, kAlarm);
}

TEST(CompositeSuppression, ZeroWaitPeriodRunsActionsAtTheTransition) {
  CompositeAlarmConfig config = composite("p", "ALARM(a)");
  config.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:page"};
  config.actions_suppressor = "s";
  config.actions_suppressor_wait_period = 0;
  config.actions_suppressor_extension_period = 0;
  CompositeAlarm alarm = make(config);
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:01:00Z"), out);
  ASSERT_EQ(out.actions_due.size(), 1U);
  EXPECT_EQ(out.actions_due[0].at, at("2024-01-01T00:01:00Z"));
  EXPECT_EQ(alarm.state().actions_suppressed_by, SuppressedBy::kNone);
}

TEST(CompositeSuppression, ZeroExtensionPeriodRunsActionsWhenTheSuppressorRecovers) {
  CompositeAlarmConfig config = composite("p", "ALARM(a)");
  config.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:page"};
  config.actions_suppressor = "s";
  config.actions_suppressor_wait_period = 60;
  config.actions_suppressor_extension_period = 0;
  CompositeAlarm alarm = make(config);
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  alarm.on_child_state("s", kAlarm, at("2024-01-01T00:00:30Z"), out);
  alarm.on_child_state("a", kAlarm, at("2024-01-01T00:01:00Z"), out);
  alarm.on_child_state("s", kOk, at("2024-01-01T00:05:00Z"), out);
  ASSERT_EQ(out.actions_due.size(), 1U);
  EXPECT_EQ(out.actions_due[0].at, at("2024-01-01T00:05:00Z"));
}

TEST(CompositeSuppression, InitialEvaluationStartsAWaitPeriod) {
  CompositeAlarmConfig config = composite("p", "TRUE");
  config.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:page"};
  config.actions_suppressor = "s";
  config.actions_suppressor_wait_period = 60;
  config.actions_suppressor_extension_period = 60;
  CompositeAlarm alarm = make(config);
  CompositeOutput out;
  alarm.evaluate_initial(at("2024-01-01T00:00:00Z"), out);
  EXPECT_EQ(out.transitions[0].current.actions_suppressed_by, SuppressedBy::kWaitPeriod);
  alarm.on_time(at("2024-01-01T00:00:59Z"), out);
  EXPECT_TRUE(out.actions_due.empty());
  alarm.on_time(at("2024-01-01T00:01:00Z"), out);
  ASSERT_EQ(out.actions_due.size(), 1U);
  EXPECT_EQ(out.actions_due[0].state, kAlarm);
}

}  // namespace
}  // namespace tw::detectors
