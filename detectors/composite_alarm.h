#pragma once

/// Composite alarms (PutCompositeAlarm): the AlarmRule language, validation of a configuration's
/// composites, and the state machine that evaluates one composite and decides when its actions
/// run, including action suppression (ActionsSuppressor).
///
/// Everything here is pure and deterministic: event time is passed in, no clock is read, nothing
/// is written anywhere but the output passed in, and nothing throws.
///
/// ## The rule language
///
///     rule     := or_expr
///     or_expr  := and_expr ("OR" and_expr)*
///     and_expr := not_expr ("AND" not_expr)*
///     not_expr := "NOT" not_expr | primary
///     primary  := "(" rule ")" | "TRUE" | "FALSE" | state "(" ref ")" | at_least
///     state    := "ALARM" | "OK" | "INSUFFICIENT_DATA"
///     at_least := "AT_LEAST" "(" (INT | INT "%") "," ["NOT"] state "," "(" ref ("," ref)* ")" ")"
///
/// Choices where CloudWatch documents nothing:
/// - Keywords are case-insensitive (`false`, `Alarm(x)`, `at_least`); a keyword is a run of
///   letters, digits and underscores, so `ALARM(a)ANDOK(b)` is an error, not two calls.
/// - Precedence is NOT > AND > OR; AND and OR are associative, so `a AND b AND c` is one node.
/// - A reference `ref` is an alarm name or an alarm ARN (it is an ARN when it starts with
///   `arn:`). Unquoted, it ends at whitespace, `(`, `)`, `,` or `"`; a name containing any of
///   these must be written in double quotes. A quoted reference is taken verbatim up to the next
///   double quote: there are no escapes, so a name containing `"` cannot be referenced.
/// - `AT_LEAST(n, ...)` requires 1 <= n <= the number of listed alarms. `AT_LEAST(p%, ...)`
///   requires an integer p in 1..100 and is true when at least ceil(p × count / 100) of the
///   listed alarms match: 60% of 3 alarms is 1.8, so 2 must match. Operands are counted as
///   listed (an alarm listed twice counts twice). `NOT OK` matches ALARM and INSUFFICIENT_DATA.
/// - Rule elements (limit 500) are counted as: one per alarm reference (`ALARM(x)` is one, each
///   AT_LEAST operand is one), one per TRUE or FALSE, and one per pair of grouping parentheses.
///   Operators and the parentheses that belong to ALARM(...)/AT_LEAST(...) are not elements.
/// - Nesting (parentheses and NOT) deeper than kMaxRuleDepth is rejected.
///
/// Example:
///
///     const RuleParseResult parsed =
///         parse_alarm_rule(R"(ALARM(cpu) AND NOT ALARM("deploy window"))");
///     if (!parsed.ok()) {
///       report(parsed.error->to_string());  // "at character 12: expected ..."
///     }
///     const bool fires = evaluate_rule(parsed.rule->root, [&](const AlarmRef& ref) {
///       return state_of_alarm(ref.text);
///     });

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detectors/alarm_state.h"
#include "pipeline/config.h"
#include "pipeline/status.h"
#include "pipeline/time.h"

namespace tw::detectors {

/// PutCompositeAlarm limits [DOC].
inline constexpr int kMaxCompositeChildren = 100;         ///< Distinct child alarms per rule.
inline constexpr int kMaxRuleElements = 500;              ///< See "Rule elements" above.
inline constexpr int kMaxCompositeParentsPerAlarm = 150;  ///< Composites one alarm is a child of.
/// Deepest nesting of parentheses and NOT the parser accepts (our limit; it keeps recursion
/// bounded, and a rule needing more grouping pairs than this exceeds kMaxRuleElements anyway).
inline constexpr int kMaxRuleDepth = 500;

/// A child alarm as written in a rule.
struct AlarmRef {
  std::string text;   ///< Name or ARN, without the quotes.
  size_t offset = 0;  ///< Byte offset in the rule text (of the opening quote if quoted).
  bool quoted = false;

  bool operator==(const AlarmRef&) const = default;
};

/// One node of a parsed rule.
struct RuleNode {
  enum class Kind : uint8_t {
    kTrue,
    kFalse,
    kState,    ///< ALARM(x) / OK(x) / INSUFFICIENT_DATA(x): refs has exactly one entry.
    kAtLeast,  ///< AT_LEAST(...): refs holds the listed alarms.
    kNot,      ///< operands has exactly one entry.
    kAnd,      ///< operands has two or more entries.
    kOr,       ///< operands has two or more entries.
  };

  Kind kind = Kind::kFalse;
  size_t offset = 0;                      ///< Byte offset where the construct starts.
  AlarmState state = AlarmState::kAlarm;  ///< kState, kAtLeast: the state tested.
  bool negated = false;                   ///< kAtLeast: `NOT state`.
  int threshold = 0;                      ///< kAtLeast: the count, or the percentage.
  bool percent = false;                   ///< kAtLeast: threshold is a percentage.
  std::vector<AlarmRef> refs;
  std::vector<RuleNode> operands;

  bool operator==(const RuleNode&) const = default;
};

/// A parsed AlarmRule.
struct AlarmRule {
  RuleNode root;
  int element_count = 0;  ///< As defined above; compared against kMaxRuleElements.

  /// Every alarm reference, in the order written (duplicates included).
  [[nodiscard]] std::vector<AlarmRef> references() const;

  bool operator==(const AlarmRule&) const = default;
};

/// Why a rule does not parse.
struct RuleError {
  size_t offset = 0;     ///< Byte offset of the problem in the rule text.
  size_t character = 1;  ///< The same position as a 1-based character (UTF-8 code point) count.
  std::string message;   ///< What was expected and what was found.

  /// "at character 12: expected ')' ...".
  [[nodiscard]] std::string to_string() const;

  bool operator==(const RuleError&) const = default;
};

/// Either a rule or the first error found (never both, never neither).
struct RuleParseResult {
  std::optional<AlarmRule> rule;
  std::optional<RuleError> error;

  [[nodiscard]] bool ok() const { return rule.has_value(); }
};

/// Parses an AlarmRule. Total: any text yields a rule or an error.
RuleParseResult parse_alarm_rule(std::string_view text);

/// The canonical text of a rule: every AND/OR group parenthesized, keywords upper-case, every
/// reference quoted, e.g. `(ALARM("a") OR (ALARM("b") AND NOT OK("c")))`. Parsing it again gives
/// the same tree (offsets aside). For messages and tests.
std::string to_string(const RuleNode& node);

/// Evaluates a rule given each referenced alarm's state. Precondition: `node` came from
/// parse_alarm_rule (operand counts as documented on RuleNode::Kind).
bool evaluate_rule(const RuleNode& node,
                   const std::function<AlarmState(const AlarmRef&)>& state_of);

/// The number of listed alarms that must match for AT_LEAST to be true: the count, or
/// ceil(percentage × listed / 100). Precondition: node.kind == kAtLeast.
int at_least_required(const RuleNode& node);

/// Resolves a rule reference or an ActionsSuppressor value to an alarm name. A name is returned
/// as is. An ARN must be `pipeline::alarm_arn(settings, name)` for some non-empty name:
/// children must be in the composite's account and Region, so an ARN of another account,
/// Region or partition, or anything that is not a CloudWatch alarm ARN, is an error
/// (kInvalidArgument, with a message saying what differs). Whether the alarm exists is not
/// checked here.
pipeline::Result<std::string> resolve_alarm_reference(std::string_view ref,
                                                      const pipeline::Settings& settings);

/// Checks the composite alarms of a loaded configuration against each other and against the
/// metric alarms: rule syntax, the PutCompositeAlarm limits (kMaxCompositeChildren distinct
/// children, kMaxRuleElements elements, kMaxCompositeParentsPerAlarm parents per alarm),
/// that every reference names an alarm of the file (by name, or by the ARN trailwatch gives it),
/// that no composite depends on itself through its rule (each cycle reported once, as
/// `cycle: a -> b -> a`), and that ActionsSuppressor names another existing alarm.
///
/// Problems carry `config.source_file` and the pointer of the offending field
/// (`/CompositeAlarms/3/AlarmRule`, `.../ActionsSuppressor`; from each alarm's source_pointer, or
/// its index when that is empty). Order: per composite in document order (rule, then
/// suppressor), then the parents-per-alarm limit, then cycles. Empty when all is well.
/// The `validate` command appends these to load_config's (empty) problem list.
std::vector<pipeline::ConfigProblem> check_composite_alarms(const pipeline::Config& config);

/// The composite alarm names in an order where every composite comes after the composites its
/// rule references (children first) and, where that adds no cycle, after the composite that is
/// its ActionsSuppressor. Ties keep document order. Composites caught in a rule cycle (an
/// invalid configuration) come last, in document order; unparsable rules have no edges.
/// The runtime evaluates composites that react to the same event time in this order, feeding
/// each one's transitions to the composites after it.
std::vector<std::string> topological_order(const pipeline::Config& config);

/// "Run the actions of `state` now": emitted when a composite's actions are due, either at a
/// state change (no suppressor) or when suppression ends. Only emitted when ActionsEnabled is
/// true and the composite has actions for `state`.
struct ActionsDue {
  std::string alarm_name;
  std::string alarm_arn;
  AlarmState state = AlarmState::kOk;  ///< The composite's current state, whose actions run.
  pipeline::EventTime at;              ///< When they are due (a transition or an expiry time).
  std::vector<std::string> actions;    ///< The configured action ARNs for `state`.
  StateTransition transition;          ///< The transition that entered `state` (for payloads).

  bool operator==(const ActionsDue&) const = default;
};

/// What a composite produces; calls append, the caller drains.
struct CompositeOutput {
  std::vector<StateTransition> transitions;  ///< In time order; `composite` is true.
  std::vector<ActionsDue> actions_due;       ///< In time order.

  void clear() {
    transitions.clear();
    actions_due.clear();
  }
};

/// One composite alarm at run time.
///
/// Lifecycle: created by `create` from a CompositeAlarmConfig that check_composite_alarms
/// accepted, in INSUFFICIENT_DATA with reason kInitialReason. Before `evaluate_initial`,
/// `on_child_state` only records child states (so the runtime can seed them); `evaluate_initial`
/// is the first evaluation: the composite becomes ALARM when the rule is true, else OK, with the
/// reason `<composite ARN> was created and its alarm rule evaluates to OK` and reason data
/// `{"triggeringAlarms":[]}`. From then on every change of a child's state re-evaluates the
/// rule; a change of the composite's state produces a StateTransition with the reason
/// `<child ARN> transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC` and the reason data
/// `{"triggeringAlarms":[{"arn":"<child ARN>","state":{"value":"ALARM","timestamp":
/// "2022-07-22T15:57:45.394+0000"}}]}`. The triggering alarm is the child whose change caused
/// the evaluation (CloudWatch's documented examples show exactly one). The day of the month is
/// written with two digits ("Friday 05 August, 2022"). Children never seen are
/// INSUFFICIENT_DATA. The composite never returns to INSUFFICIENT_DATA.
///
/// Action suppression (when ActionsSuppressor is set; periods in seconds of event time; a
/// missing period counts as 0):
/// - On every state change, a running WaitPeriod or ExtensionPeriod is discarded; if the
///   suppressor is in ALARM actions are suppressed by Alarm, otherwise a WaitPeriod
///   [t, t + wait] starts.
/// - The suppressor entering ALARM during a WaitPeriod or ExtensionPeriod ends it: suppressed
///   by Alarm. (During an ExtensionPeriod this is our inference.)
/// - The suppressor leaving ALARM (to OK or INSUFFICIENT_DATA) while actions are suppressed by
///   Alarm starts an ExtensionPeriod [t, t + extension]. When actions are not suppressed, the
///   suppressor's changes do nothing.
/// - When a WaitPeriod or ExtensionPeriod expires, the actions of the CURRENT state are due at
///   the expiry time; a state entered and left while suppressed never has its actions run.
/// - A period ending at t expires before any event at t is applied.
/// The composite's state record carries `actions_suppressed_by` (WaitPeriod, ExtensionPeriod,
/// Alarm) and `actions_suppressed_reason` (`Actions suppressed by WaitPeriod`, ...) while
/// suppressed; transitions carry the values set at the transition. Without a suppressor, a
/// state change's actions are due at once. ActionsEnabled=false suppresses all ActionsDue
/// (transitions are still produced). Changing the suppressor at run time is not supported: a
/// configuration change creates new instances.
///
/// Time: callers pass event times in non-decreasing order across all calls; an earlier time is
/// treated as the latest one seen. Call `on_time` when the event time passes `next_deadline()`.
///
/// Nested composites: a composite may be a child (or the suppressor) of another. The runtime
/// feeds every StateTransition of every alarm, metric or composite, to the composites that
/// `depends_on` it (`on_child_transition` takes the transition as produced), in timestamp
/// order; among composites reacting to the same event time it follows topological_order().
///
/// Thread-safety: none; owned by one thread. Copyable and movable.
class CompositeAlarm {
 public:
  /// Builds the alarm, or an error when the rule does not parse or a reference (rule or
  /// suppressor) cannot be resolved (see resolve_alarm_reference). Whether the children exist is
  /// check_composite_alarms' job.
  static pipeline::Result<CompositeAlarm> create(const pipeline::CompositeAlarmConfig& config,
                                                 const pipeline::Settings& settings);

  [[nodiscard]] const pipeline::CompositeAlarmConfig& config() const { return config_; }

  [[nodiscard]] const std::string& name() const { return config_.alarm_name; }

  [[nodiscard]] const std::string& arn() const { return arn_; }

  [[nodiscard]] const AlarmRule& rule() const { return rule_; }

  /// The current state, reason and suppression status.
  [[nodiscard]] const StateRecord& state() const { return current_; }

  /// The distinct child alarm names, in order of first reference.
  [[nodiscard]] std::vector<std::string> children() const;

  /// The suppressor's alarm name; empty when there is none.
  [[nodiscard]] const std::string& suppressor() const { return suppressor_; }

  /// Whether `alarm_name` is a child or the suppressor: whether its transitions matter here.
  [[nodiscard]] bool depends_on(std::string_view alarm_name) const;

  /// When a running WaitPeriod or ExtensionPeriod expires; nullopt when none runs.
  [[nodiscard]] std::optional<pipeline::EventTime> next_deadline() const;

  /// The first evaluation, at the run's start. Does nothing when already evaluated.
  void evaluate_initial(pipeline::EventTime at, CompositeOutput& out);

  /// Alarm `alarm_name` (a name, not an ARN) is in `state` since `at`. Expires periods ending at
  /// or before `at`, then updates the suppressor (if it is the suppressor) and re-evaluates (if it
  /// is a child whose state changed and the composite has been evaluated). Names that are
  /// neither are ignored, as are repeats of a known state.
  void on_child_state(std::string_view alarm_name, AlarmState state, pipeline::EventTime at,
                      CompositeOutput& out);

  /// on_child_state(t.alarm_name, t.current.value, t.current.timestamp, out).
  void on_child_transition(const StateTransition& transition, CompositeOutput& out);

  /// Event time has reached `now`: expires a WaitPeriod or ExtensionPeriod ending at or before
  /// `now`, making the current state's actions due at the expiry time.
  void on_time(pipeline::EventTime now, CompositeOutput& out);

  /// Checkpoint: appends the state, the children's and suppressor's states and the running
  /// suppression period.
  void save(pipeline::StateWriter& out) const;

  /// Restore: the state `save` wrote for this same definition (the caller checks). Returns
  /// false, with nothing changed, when the bytes are malformed or name other children.
  bool load(pipeline::StateReader& in);

 private:
  struct Child {
    std::string name;
    AlarmState state = AlarmState::kInsufficientData;
    pipeline::EventTime timestamp;
  };

  CompositeAlarm() = default;

  pipeline::EventTime advance(pipeline::EventTime at);
  void update_suppressor(AlarmState state, pipeline::EventTime at);
  void update_child(size_t slot, AlarmState state, pipeline::EventTime child_time,
                    pipeline::EventTime at, CompositeOutput& out);
  void change_state(StateRecord next, pipeline::EventTime at, CompositeOutput& out);
  void set_suppression(SuppressedBy by);
  void actions_due(pipeline::EventTime at, CompositeOutput& out) const;
  [[nodiscard]] AlarmState rule_state() const;

  pipeline::CompositeAlarmConfig config_;
  std::string arn_;
  std::string arn_prefix_;  ///< alarm_arn(settings, ""): a child's ARN is this plus its name.
  AlarmRule rule_;
  std::vector<Child> children_;
  std::map<std::string, size_t, std::less<>> child_index_;  ///< Name -> children_ slot.
  std::map<std::string, size_t, std::less<>> ref_index_;    ///< Reference text -> slot.
  std::string suppressor_;
  AlarmState suppressor_state_ = AlarmState::kInsufficientData;
  pipeline::Duration wait_period_;
  pipeline::Duration extension_period_;

  bool evaluated_ = false;
  pipeline::EventTime now_ = pipeline::EventTime::min();
  StateRecord current_;
  StateTransition last_transition_;
  SuppressedBy suppressed_by_ = SuppressedBy::kNone;
  pipeline::EventTime deadline_;  ///< End of the running Wait/Extension period.
};

}  // namespace tw::detectors
