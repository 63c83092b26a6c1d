// Alarm evaluation at scale: N metric alarms over N series (one alarm per series), fed one
// datapoint per series per minute, evaluated once a minute by the shard processor that replay and
// live mode use (app/alarm_shard.h). Reports the evaluation cost per alarm per minute and the
// memory per alarm.
//
//     build/release/bench/alarm_eval_bench [--alarms N] [--minutes M] [--flap-percent P]
//
// Phases, each timed separately (wall clock, one thread):
//   ingest        on_metric for every series (one sample each) — the data path, for reference;
//   first minute  the first evaluation: every alarm leaves INSUFFICIENT_DATA, so every alarm
//                 builds a reason and an EventBridge event (the worst minute);
//   steady        later minutes where no alarm changes state (the common minute);
//   flapping      later minutes where P% of the alarms change state (reason + event each).
// Memory: heap bytes in use (mallinfo2) after set-up and after the run, minus before set-up,
// divided by N. It covers everything the shard holds for the alarms: alarm state machines and
// their remembered periods, windows and buckets, the series keys in the interner, reason texts.
// The configuration itself (parsed before the baseline) is shared, not copied, and not counted.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/alarm_shard.h"
#include "pipeline/config.h"
#include "pipeline/emission.h"
#include "pipeline/runtime.h"
#include "pipeline/series.h"

namespace {

using tw::pipeline::Duration;
using tw::pipeline::EventTime;

struct Options {
  int alarms = 100'000;
  int minutes = 10;
  double flap_percent = 1.0;
};

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--alarms") {
      o.alarms = std::atoi(value);
    } else if (flag == "--minutes") {
      o.minutes = std::atoi(value);
    } else if (flag == "--flap-percent") {
      o.flap_percent = std::atof(value);
    } else {
      std::fprintf(stderr,
                   "usage: alarm_eval_bench [--alarms N] [--minutes M] [--flap-percent P]\n");
      return std::nullopt;
    }
  }
  return o;
}

size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::shared_ptr<const tw::pipeline::Config> make_config(int alarms) {
  auto config = std::make_shared<tw::pipeline::Config>();
  config->settings.account_id = "123456789012";
  config->settings.region = "us-east-1";
  config->metric_alarms.reserve(static_cast<size_t>(alarms));
  for (int i = 0; i < alarms; ++i) {
    tw::pipeline::MetricAlarmConfig a;
    a.alarm_name = "host-" + std::to_string(i) + " high CPU";
    a.namespace_name = "AWS/EC2";
    a.metric_name = "CPUUtilization";
    a.dimensions = {{"InstanceId", "i-" + std::to_string(1'000'000 + i)}};
    a.statistic = tw::pipeline::parse_statistic("Average");
    a.period = 60;
    a.evaluation_periods = 3;
    a.datapoints_to_alarm = 2;
    a.threshold = 80;
    a.comparison_operator = tw::pipeline::ComparisonOperator::kGreaterThanThreshold;
    config->metric_alarms.push_back(std::move(a));
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> parsed = parse(argc, argv);
  if (!parsed) {
    return 2;
  }
  const Options& options = *parsed;
  const auto n = static_cast<size_t>(options.alarms);
  const std::shared_ptr<const tw::pipeline::Config> config = make_config(options.alarms);

  std::vector<tw::pipeline::SeriesId> ids;
  ids.reserve(n);
  tw::pipeline::EmissionBuffer out;
  const size_t heap_before = heap_in_use();
  tw::pipeline::SeriesInterner interner;
  tw::app::AlarmShardProcessor processor(config, 0, 1, interner,
                                         tw::app::AlarmShardOptions{/*datapoints=*/false});
  // The series ids, in alarm order (interned by the processor).
  tw::pipeline::SeriesKeyBuilder builder;
  for (const tw::pipeline::MetricAlarmConfig& a : config->metric_alarms) {
    const std::string key =
        builder.build_owned(a.namespace_name, a.metric_name, config->settings.account_id,
                            config->settings.region, a.dimensions);
    ids.push_back(*interner.find(key, tw::pipeline::hash_series_key(key)));
  }
  const size_t heap_after_setup = heap_in_use();

  // Values: alarms stay well below the threshold, except the flapping share, which alternates
  // between far above and far below every two minutes (2 of 3 to alarm, so each flip transitions).
  const auto flapping = static_cast<size_t>(static_cast<double>(n) * options.flap_percent / 100.0);
  const EventTime start = EventTime::from_seconds(1'767'225'600);  // 2026-01-01T00:00:00Z
  std::vector<tw::pipeline::WeightedValue> values(1);
  tw::pipeline::MetricSample sample;
  sample.unit = tw::pipeline::Unit::kPercent;

  double ingest_seconds = 0;
  double first_seconds = 0;
  double steady_seconds = 0;
  int steady_minutes = 0;
  double flap_seconds = 0;
  int flap_minutes = 0;
  size_t first_transitions = 0;
  size_t flap_transitions = 0;
  for (int minute = 0; minute < options.minutes; ++minute) {
    const bool flap_phase = minute >= options.minutes / 2 && flapping > 0;
    const bool high = ((minute / 2) % 2) == 1;
    sample.time = start + Duration::minutes(minute) + Duration::seconds(30);
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) {
      double v = 20.0 + static_cast<double>((i * 7 + static_cast<size_t>(minute)) % 40);
      if (flap_phase && i < flapping) {
        v = high ? 95.0 : 10.0;
      }
      values[0] = tw::pipeline::WeightedValue{v, 1};
      sample.values = values;
      sample.stats = tw::pipeline::StatisticSet{};
      sample.stats.add(v);
      processor.on_metric(ids[i], sample);
    }
    ingest_seconds += seconds_since(t0);

    out.clear();
    const tw::pipeline::WatermarkStep step{start + Duration::minutes(minute + 1), start, false};
    t0 = std::chrono::steady_clock::now();
    processor.on_watermark(step, out);
    const double took = seconds_since(t0);
    const size_t transitions = out.items().size();
    if (minute == 0) {
      first_seconds = took;
      first_transitions = transitions;
    } else if (!flap_phase) {
      steady_seconds += took;
      ++steady_minutes;
      if (transitions != 0) {
        std::fprintf(stderr, "unexpected: %zu transitions in a steady minute\n", transitions);
      }
    } else {
      flap_seconds += took;
      ++flap_minutes;
      flap_transitions += transitions;
    }
  }
  // The emissions of the last minute belong to the harness, not to the alarms.
  out.clear();
  out.items().shrink_to_fit();
  const size_t heap_after_run = heap_in_use();

  const double per = 1e9 / static_cast<double>(n);
  std::printf("alarms %zu, series %zu, minutes %d, flapping share %.1f%%\n", n, interner.size(),
              options.minutes, options.flap_percent);
  std::printf("ingest        %8.1f ns per datapoint\n", ingest_seconds * per / options.minutes);
  std::printf(
      "first minute  %8.1f ns per alarm (%zu transitions: every alarm leaves "
      "INSUFFICIENT_DATA)\n",
      first_seconds * per, first_transitions);
  if (steady_minutes > 0) {
    std::printf("steady        %8.1f ns per alarm per minute (%d minutes, no transitions)\n",
                steady_seconds * per / steady_minutes, steady_minutes);
  }
  if (flap_minutes > 0) {
    std::printf(
        "flapping      %8.1f ns per alarm per minute (%d minutes, %zu transitions = "
        "%.2f%% of evaluations)\n",
        flap_seconds * per / flap_minutes, flap_minutes, flap_transitions,
        100.0 * static_cast<double>(flap_transitions) / (static_cast<double>(n) * flap_minutes));
  }
  const auto per_alarm = [&](size_t bytes) {
    return static_cast<double>(bytes) / static_cast<double>(n);
  };
  std::printf("memory        %8.0f bytes per alarm after set-up, %.0f after the run\n",
              per_alarm(heap_after_setup - heap_before), per_alarm(heap_after_run - heap_before));
  std::printf(
      "  of which    %8.0f series keys and index (interner), %.0f metric windows, %.0f "
      "alarms and the rest\n",
      per_alarm(interner.memory_bytes()), per_alarm(processor.window_memory_bytes()),
      per_alarm(heap_after_run - heap_before - interner.memory_bytes() -
                processor.window_memory_bytes()));
  return 0;
}
