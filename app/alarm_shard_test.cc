#include "app/alarm_shard.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace tw::app {
namespace {

using pipeline::Duration;
using pipeline::EventTime;

const EventTime kOrigin = EventTime::from_seconds(1'772'442'000);  // 2026-03-02T09:00:00Z

pipeline::MetricAlarmConfig cpu_alarm(const std::string& name, const std::string& instance,
                                      double threshold) {
  pipeline::MetricAlarmConfig a;
  a.alarm_name = name;
  a.namespace_name = "AWS/EC2";
  a.metric_name = "CPUUtilization";
  a.dimensions = {{"InstanceId", instance}};
  a.statistic = pipeline::parse_statistic("Average");
  a.period = 60;
  a.evaluation_periods = 1;
  a.threshold = threshold;
  a.comparison_operator = pipeline::ComparisonOperator::kGreaterThanThreshold;
  return a;
}

std::shared_ptr<const pipeline::Config> config_of(std::vector<pipeline::MetricAlarmConfig> alarms) {
  auto config = std::make_shared<pipeline::Config>();
  config->settings.account_id = "123456789012";
  config->settings.region = "us-east-1";
  for (size_t i = 0; i < alarms.size(); ++i) {
    alarms[i].source_pointer = "/MetricAlarms/" + std::to_string(i);
  }
  config->metric_alarms = std::move(alarms);
  return config;
}

class Feeder {
 public:
  explicit Feeder(pipeline::SeriesInterner& interner) : interner_(interner) {}

  void sample(pipeline::ShardProcessor& p, const std::string& instance, EventTime t, double v) {
    pipeline::SeriesKeyBuilder builder;
    const std::string key = builder.build_owned("AWS/EC2", "CPUUtilization", "123456789012",
                                                "us-east-1", {{"InstanceId", instance}});
    const pipeline::SeriesId id = *interner_.find(key, pipeline::hash_series_key(key));
    values_ = {pipeline::WeightedValue{v, 1}};
    pipeline::MetricSample s;
    s.time = t;
    s.values = values_;
    s.stats.add(v);
    p.on_metric(id, s);
  }

  // Alarm state changes of one watermark step, as "name:STATE".
  static std::vector<std::string> step(pipeline::ShardProcessor& p, EventTime watermark) {
    pipeline::EmissionBuffer out;
    p.on_watermark(pipeline::WatermarkStep{watermark, kOrigin, false}, out);
    std::vector<std::string> changes;
    for (const pipeline::Emission& e : out.items()) {
      if (e.state_change) {
        changes.push_back(e.state_change->alarm_name + ":" + e.state_change->state);
      }
    }
    return changes;
  }

 private:
  pipeline::SeriesInterner& interner_;
  std::vector<pipeline::WeightedValue> values_;
};

TEST(AlarmShardReload, UnchangedAlarmsKeepTheirStateAndChangedOnesStartOver) {
  pipeline::SeriesInterner interner;
  Feeder feed(interner);
  AlarmShardProcessor before(
      config_of({cpu_alarm("steady", "i-1", 50), cpu_alarm("changed", "i-2", 50)}), 0, 1, interner,
      AlarmShardOptions{false});
  for (int m = 0; m < 2; ++m) {
    feed.sample(before, "i-1", kOrigin + Duration::seconds(60 * m + 30), 90);
    feed.sample(before, "i-2", kOrigin + Duration::seconds(60 * m + 30), 90);
  }
  EXPECT_EQ(Feeder::step(before, kOrigin + Duration::minutes(2)),
            (std::vector<std::string>{"steady:ALARM", "changed:ALARM"}));
  // A sample of the current minute arrives before the reload; the new configuration lists the
  // alarms in another order and raises one threshold.
  feed.sample(before, "i-1", kOrigin + Duration::seconds(150), 90);
  AlarmShardProcessor after(
      config_of({cpu_alarm("changed", "i-2", 95), cpu_alarm("steady", "i-1", 50)}), 0, 1, interner,
      AlarmShardOptions{false});
  after.adopt_state(before);
  feed.sample(after, "i-2", kOrigin + Duration::seconds(150), 90);
  // "steady" keeps ALARM (no transition), and sees the sample that arrived before the reload;
  // "changed" is a new alarm: INSUFFICIENT_DATA -> OK.
  EXPECT_EQ(Feeder::step(after, kOrigin + Duration::minutes(3)),
            std::vector<std::string>{"changed:OK"});
  for (const AlarmRunSummary& s : after.summaries()) {
    if (s.alarm_name == "steady") {
      EXPECT_EQ(s.state, "ALARM");
      EXPECT_EQ(s.periods_with_data, 3U);
      EXPECT_EQ(s.transitions, 1U);
    } else {
      EXPECT_EQ(s.state, "OK");
      EXPECT_EQ(s.transitions, 1U);
    }
  }
}

TEST(AlarmShard, MathAlarmReadsSeriesOfOtherShardsThroughExtraReaders) {
  // Two shards: the math alarm lives on the shard of its name and registers as a reader of
  // every input series; the plain alarm lives on the shard of its series.
  pipeline::MetricAlarmConfig math;
  math.alarm_name = "sum";
  math.evaluation_periods = 1;
  math.period = 60;
  math.threshold = 10;
  math.comparison_operator = pipeline::ComparisonOperator::kGreaterThanThreshold;
  for (const char* instance : {"i-1", "i-2", "i-3", "i-4"}) {
    pipeline::MetricDataQuery q;
    q.id = std::string("m") + instance[2];
    q.metric_stat = pipeline::MetricStat{"AWS/EC2",
                                         "CPUUtilization",
                                         {{"InstanceId", instance}},
                                         60,
                                         *pipeline::parse_statistic("Average"),
                                         std::nullopt};
    q.return_data = false;
    math.metrics.push_back(q);
  }
  pipeline::MetricDataQuery e;
  e.id = "e";
  e.expression = "SUM(METRICS())";
  math.metrics.push_back(e);
  const auto config = config_of({math});
  pipeline::SeriesInterner interner;
  AlarmShardProcessor shard0(config, 0, 2, interner, AlarmShardOptions{false});
  AlarmShardProcessor shard1(config, 1, 2, interner, AlarmShardOptions{false});
  AlarmShardProcessor& owner = shard0.alarm_count() == 1 ? shard0 : shard1;
  EXPECT_EQ(shard0.alarm_count() + shard1.alarm_count(), 1U);
  const int owner_index = &owner == &shard0 ? 0 : 1;
  pipeline::SeriesKeyBuilder builder;
  for (const char* instance : {"i-1", "i-2", "i-3", "i-4"}) {
    const std::string key = builder.build_owned("AWS/EC2", "CPUUtilization", "123456789012",
                                                "us-east-1", {{"InstanceId", instance}});
    const pipeline::SeriesId id = *interner.find(key, pipeline::hash_series_key(key));
    const auto readers = interner.extra_readers(id);
    ASSERT_EQ(readers.size(), 1U) << instance;
    EXPECT_EQ(readers[0], owner_index);
  }
}

}  // namespace
}  // namespace tw::app
