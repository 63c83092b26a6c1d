#include "app/composite_stage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace tw::app {
namespace {

using pipeline::Duration;
using pipeline::Emission;
using pipeline::EventTime;

const EventTime kOrigin = EventTime::from_seconds(1'772'442'000);  // 2026-03-02T09:00:00Z
const EventTime kFirstTick = kOrigin + Duration::minutes(1);

std::shared_ptr<const pipeline::Config> config_with(
    const std::vector<std::pair<std::string, std::string>>& composites) {
  auto config = std::make_shared<pipeline::Config>();
  config->settings.account_id = "123456789012";
  config->settings.region = "us-east-1";
  for (const auto& [name, rule] : composites) {
    pipeline::CompositeAlarmConfig c;
    c.alarm_name = name;
    c.alarm_rule = rule;
    config->composite_alarms.push_back(c);
  }
  return config;
}

// A metric alarm's state change as the shards emit it.
Emission change(EventTime at, const std::string& alarm, const std::string& state) {
  return Emission{at,   pipeline::EmissionStream::kEvents,      0, alarm, 0,
                  "{}", pipeline::StateChangeNote{alarm, state}};
}

// The composite emissions of a step, as "time name state" lines.
std::vector<std::string> step(CompositeStage& stage, EventTime watermark,
                              std::vector<Emission> emissions) {
  stage.on_step(pipeline::WatermarkStep{watermark, kOrigin, false}, emissions);
  std::sort(emissions.begin(), emissions.end());
  std::vector<std::string> out;
  for (const Emission& e : emissions) {
    if (e.stage >= 1) {
      EXPECT_TRUE(e.state_change.has_value());
      out.push_back(pipeline::format_iso8601_seconds(e.time) + " " + e.key + " " +
                    e.state_change->state);
    }
  }
  return out;
}

TEST(CompositeStage, FirstEvaluationSeesTheChildStatesOfTheFirstTick) {
  CompositeStage stage(config_with({{"c", "ALARM(a)"}}));
  // The child goes straight to ALARM at the first tick: the composite starts in ALARM, without
  // passing through OK.
  EXPECT_EQ(step(stage, kFirstTick, {change(kFirstTick, "a", "ALARM")}),
            std::vector<std::string>{"2026-03-02T09:01:00Z c ALARM"});
}

TEST(CompositeStage, FirstEvaluationHappensEvenWithoutChildChanges) {
  CompositeStage stage(config_with({{"always", "TRUE"}, {"never", "FALSE"}}));
  EXPECT_TRUE(step(stage, kOrigin + Duration::seconds(30), {}).empty());
  EXPECT_EQ(step(stage, kFirstTick + Duration::seconds(5), {}),
            (std::vector<std::string>{"2026-03-02T09:01:00Z always ALARM",
                                      "2026-03-02T09:01:00Z never OK"}));
}

TEST(CompositeStage, ReEvaluatesWhenAChildChanges) {
  CompositeStage stage(config_with({{"c", "ALARM(a) AND NOT ALARM(b)"}}));
  const EventTime t5 = kOrigin + Duration::minutes(5);
  const EventTime t6 = kOrigin + Duration::minutes(6);
  EXPECT_EQ(step(stage, kFirstTick, {change(kFirstTick, "a", "OK"), change(kFirstTick, "b", "OK")}),
            std::vector<std::string>{"2026-03-02T09:01:00Z c OK"});
  EXPECT_EQ(step(stage, t5, {change(t5, "a", "ALARM")}),
            std::vector<std::string>{"2026-03-02T09:05:00Z c ALARM"});
  // b entering ALARM makes the rule false again; the same event time as its cause.
  EXPECT_EQ(step(stage, t6, {change(t6, "b", "ALARM")}),
            std::vector<std::string>{"2026-03-02T09:06:00Z c OK"});
}

TEST(CompositeStage, NestedCompositesReactAtTheSameEventTime) {
  CompositeStage stage(config_with({{"outer", "ALARM(inner) OR ALARM(x)"}, {"inner", "ALARM(a)"}}));
  const EventTime t3 = kOrigin + Duration::minutes(3);
  (void)step(stage, kFirstTick, {change(kFirstTick, "a", "OK"), change(kFirstTick, "x", "OK")});
  EXPECT_EQ(step(stage, t3, {change(t3, "a", "ALARM")}),
            (std::vector<std::string>{"2026-03-02T09:03:00Z inner ALARM",
                                      "2026-03-02T09:03:00Z outer ALARM"}));
}

TEST(CompositeStage, CompositeEventsComeAfterTheirCauseAtOneEventTime) {
  CompositeStage stage(config_with({{"a composite", R"(ALARM("z child"))"}}));
  std::vector<Emission> emissions = {change(kFirstTick, "z child", "ALARM")};
  stage.on_step(pipeline::WatermarkStep{kFirstTick, kOrigin, false}, emissions);
  std::sort(emissions.begin(), emissions.end());
  ASSERT_EQ(emissions.size(), 2U);
  EXPECT_EQ(emissions[0].key, "z child");
  EXPECT_EQ(emissions[1].key, "a composite");
  EXPECT_NE(emissions[1].json.find(R"("detail-type":"CloudWatch Alarm State Change")"),
            std::string::npos);
  EXPECT_NE(emissions[1].json.find(R"json("alarmRule":"ALARM(\"z child\")")json"),
            std::string::npos);
}

TEST(CompositeStage, RepeatedStatesOfAChildChangeNothing) {
  CompositeStage stage(config_with({{"c", "ALARM(a)"}}));
  const EventTime t4 = kOrigin + Duration::minutes(4);
  (void)step(stage, kFirstTick, {change(kFirstTick, "a", "ALARM")});
  EXPECT_TRUE(step(stage, t4, {change(t4, "a", "ALARM")}).empty());
  EXPECT_TRUE(step(stage, t4, {change(t4, "unrelated", "OK")}).empty());
}

TEST(CompositeStage, SummariesCountTransitions) {
  CompositeStage stage(config_with({{"c", "ALARM(a)"}}));
  const EventTime t4 = kOrigin + Duration::minutes(4);
  (void)step(stage, kFirstTick, {change(kFirstTick, "a", "OK")});
  (void)step(stage, t4, {change(t4, "a", "ALARM")});
  const std::vector<AlarmRunSummary> summaries = stage.summaries();
  ASSERT_EQ(summaries.size(), 1U);
  EXPECT_EQ(summaries[0].alarm_name, "c");
  EXPECT_EQ(summaries[0].transitions, 2U);
  EXPECT_EQ(summaries[0].state, "ALARM");
}

TEST(CompositeStage, ReloadKeepsUnchangedCompositesAndStartsChangedOnes) {
  CompositeStage before(config_with({{"same", "ALARM(a)"}, {"changed", "ALARM(a)"}}));
  const EventTime t3 = kOrigin + Duration::minutes(3);
  (void)step(before, kFirstTick, {change(kFirstTick, "a", "ALARM")});
  CompositeStage after(config_with({{"same", "ALARM(a)"}, {"changed", "ALARM(a) OR ALARM(b)"}}));
  after.adopt_state(before);
  // "same" continues in ALARM without a transition; "changed" is new: evaluated at once, from
  // INSUFFICIENT_DATA, with the child states it has seen since (none yet: a counts as
  // INSUFFICIENT_DATA for it, so OK).
  EXPECT_EQ(step(after, t3, {}), std::vector<std::string>{"2026-03-02T09:03:00Z changed OK"});
  const EventTime t4 = kOrigin + Duration::minutes(4);
  EXPECT_EQ(step(after, t4, {change(t4, "a", "OK")}),
            std::vector<std::string>{"2026-03-02T09:04:00Z same OK"});
}

}  // namespace
}  // namespace tw::app
