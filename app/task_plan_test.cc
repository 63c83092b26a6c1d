#include "app/task_plan.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace tw::app {
namespace {

pipeline::MetricAlarmConfig metric_alarm(const std::string& name) {
  pipeline::MetricAlarmConfig a;
  a.alarm_name = name;
  a.namespace_name = "AWS/EC2";
  a.metric_name = "CPUUtilization";
  return a;
}

pipeline::CompositeAlarmConfig composite(const std::string& name, const std::string& rule,
                                         const std::string& suppressor = "") {
  pipeline::CompositeAlarmConfig a;
  a.alarm_name = name;
  a.alarm_rule = rule;
  a.actions_suppressor = suppressor;
  return a;
}

// Metric alarms a..f and solo; composite "b and c" over b and c with suppressor d; composite
// "outer" over "b and c" and e (nested: joins e to that group); f and solo stand alone.
pipeline::Config sample() {
  pipeline::Config config;
  config.settings.account_id = "123456789012";
  config.settings.region = "us-east-1";
  for (const char* name : {"a", "b", "c", "d", "e", "f", "solo"}) {
    config.metric_alarms.push_back(metric_alarm(name));
  }
  config.composite_alarms.push_back(composite("b and c", R"(ALARM("b") AND ALARM("c"))", "d"));
  config.composite_alarms.push_back(composite(
      "outer",
      R"(ALARM("b and c") OR ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:e"))"));
  return config;
}

std::vector<std::string> names(const pipeline::Config& config) {
  std::vector<std::string> out;
  out.reserve(config.metric_alarms.size() + config.composite_alarms.size());
  for (const auto& a : config.metric_alarms) {
    out.push_back(a.alarm_name);
  }
  for (const auto& a : config.composite_alarms) {
    out.push_back(a.alarm_name);
  }
  return out;
}

TEST(TaskPlanTest, ACompositeItsChildrenItsSuppressorAndNestedCompositesFormOneGroup) {
  const TaskPlan plan(sample(), 7);
  for (const char* member : {"b", "c", "d", "e", "b and c", "outer"}) {
    EXPECT_EQ(plan.group_of(member), "b") << member;  // The group's smallest name.
    EXPECT_EQ(plan.task_of(member), plan.task_of("b")) << member;
  }
  EXPECT_EQ(plan.group_of("a"), "a");
  EXPECT_EQ(plan.group_of("f"), "f");
  EXPECT_EQ(plan.group_of("solo"), "solo");
  EXPECT_EQ(plan.group_of("nope"), "");
  EXPECT_EQ(plan.task_of("nope"), -1);
}

TEST(TaskPlanTest, TasksAreAStableHashOfTheGroupSoEveryWorkerComputesTheSamePlan) {
  // FNV-1a 64 of the group name, modulo the task count: pinned, because workers of different
  // builds must agree, and a changed function would move every alarm at an upgrade.
  EXPECT_EQ(TaskPlan(sample(), 3).task_of("solo"), 1);
  EXPECT_EQ(TaskPlan(sample(), 7).task_of("solo"), 3);
  EXPECT_EQ(TaskPlan(sample(), 64).task_of("a"), 12);
  EXPECT_EQ(TaskPlan(sample(), 1).task_of("outer"), 0);
  EXPECT_EQ(reporting_task("metric-stream/0", 3), 2);
  EXPECT_EQ(reporting_task("metric-stream/1", 3), 1);
  // Adding an alarm moves no other group.
  pipeline::Config more = sample();
  more.metric_alarms.push_back(metric_alarm("new one"));
  for (const std::string& name : names(sample())) {
    EXPECT_EQ(TaskPlan(more, 7).task_of(name), TaskPlan(sample(), 7).task_of(name)) << name;
  }
}

TEST(TaskPlanTest, TheTasksConfigurationsPartitionTheAlarmsInDocumentOrder) {
  const pipeline::Config config = sample();
  for (const int tasks : {1, 2, 3, 5, 16}) {
    const TaskPlan plan(config, tasks);
    std::multiset<std::string> seen;
    for (int t = 0; t < tasks; ++t) {
      const auto part = plan.config_for({t});
      EXPECT_EQ(part->settings, config.settings);
      const std::vector<std::string> in_task = names(*part);
      // Document order kept: a subsequence of the whole.
      std::vector<std::string> expected;
      for (const std::string& name : names(config)) {
        if (plan.task_of(name) == t) {
          expected.push_back(name);
        }
      }
      EXPECT_EQ(in_task, expected) << tasks << " tasks, task " << t;
      seen.insert(in_task.begin(), in_task.end());
    }
    const std::vector<std::string> all = names(config);
    EXPECT_EQ(seen, std::multiset<std::string>(all.begin(), all.end())) << tasks << " tasks";
    std::set<int> every;
    for (int t = 0; t < tasks; ++t) {
      every.insert(t);
    }
    EXPECT_EQ(names(*plan.config_for(every)), all);
  }
}

TEST(TaskPlanTest, AnUnparsableRuleLeavesTheCompositeAlone) {
  pipeline::Config config = sample();
  config.composite_alarms.push_back(composite("broken", "ALARM(\"a\" AND"));
  const TaskPlan plan(config, 5);
  EXPECT_EQ(plan.group_of("broken"), "broken");
  EXPECT_EQ(plan.group_of("a"), "a");
}

}  // namespace
}  // namespace tw::app
