// Checkpoint and restore at scale: N metric alarms over N series (one alarm per series), fed M
// minutes of metric-stream records through the runtime (decode, windows, alarms), then
// checkpointed (pipeline::Runtime::checkpoint), written to and read back from a state directory
// (connectors::DirectoryStateStore: fsync + rename), and restored into a fresh runtime of the same
// configuration. Reports state bytes per series and the time per million series of each step.
//
//     build/release/bench/checkpoint_bench [--series N] [--minutes M] [--shards S] [--dir PATH]
//
// The restored runtime then takes one more minute of records, as does the original; both must
// write the same emissions (checked, so a broken restore cannot report a fast time).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/alarm_shard.h"
#include "connectors/state_store.h"
#include "pipeline/config.h"
#include "pipeline/metric_decoder.h"
#include "pipeline/runtime.h"

namespace {

using tw::pipeline::Duration;

struct Options {
  int series = 200'000;
  int minutes = 8;
  int shards = 1;
  std::string dir = "/tmp/trailwatch_checkpoint_bench";
};

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--series") {
      o.series = std::atoi(value);
    } else if (flag == "--minutes") {
      o.minutes = std::atoi(value);
    } else if (flag == "--shards") {
      o.shards = std::atoi(value);
    } else if (flag == "--dir") {
      o.dir = value;
    } else {
      std::fprintf(stderr,
                   "usage: checkpoint_bench [--series N] [--minutes M] [--shards S] [--dir P]\n");
      return std::nullopt;
    }
  }
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string instance(int i) {
  return "i-" + std::to_string(1'000'000 + i);
}

std::shared_ptr<const tw::pipeline::Config> make_config(int series) {
  auto config = std::make_shared<tw::pipeline::Config>();
  config->settings.account_id = "123456789012";
  config->settings.region = "us-east-1";
  config->settings.max_series = series + 1000;
  config->metric_alarms.reserve(static_cast<size_t>(series));
  for (int i = 0; i < series; ++i) {
    tw::pipeline::MetricAlarmConfig a;
    a.alarm_name = instance(i) + " high CPU";
    a.namespace_name = "AWS/EC2";
    a.metric_name = "CPUUtilization";
    a.dimensions = {{"InstanceId", instance(i)}};
    a.statistic = tw::pipeline::parse_statistic("Average");
    a.period = 60;
    a.evaluation_periods = 3;
    a.datapoints_to_alarm = 2;
    a.threshold = 80;
    a.comparison_operator = tw::pipeline::ComparisonOperator::kGreaterThanThreshold;
    a.definition_hash = static_cast<uint64_t>(i) + 1;
    config->metric_alarms.push_back(std::move(a));
  }
  return config;
}

// Counts emissions (and remembers the last few) to compare two runtimes.
class CountingOutput final : public tw::pipeline::RuntimeOutput {
 public:
  void write_emissions(std::span<const tw::pipeline::Emission> emissions) override {
    for (const tw::pipeline::Emission& e : emissions) {
      ++count;
      digest = digest * 1'000'003U + std::hash<std::string>()(e.json);
    }
  }

  void write_dead_letter(const tw::pipeline::DeadLetter& /*letter*/) override { ++dead; }

  uint64_t count = 0;
  uint64_t dead = 0;
  uint64_t digest = 0;
};

struct Run {
  Run(const std::shared_ptr<const tw::pipeline::Config>& config, int shards)
      : runtime(
            config->settings, tw::pipeline::RuntimeOptions{shards, Duration::minutes(1), nullptr},
            [config](int index, int count, tw::pipeline::SeriesInterner& interner) {
              return std::make_unique<tw::app::AlarmShardProcessor>(
                  config, index, count, interner, tw::app::AlarmShardOptions{true});
            },
            output) {
    input = runtime.add_input("metrics/0", Duration::seconds(300), "", "");
  }

  // One record per series for minute `minute` (values well below the threshold).
  void feed_minute(int series, int minute) {
    const int64_t t = 1'767'225'600'000 + static_cast<int64_t>(minute) * 60'000;
    std::string record;
    for (int i = 0; i < series; ++i) {
      record = R"({"metric_stream_name":"bench","account_id":"123456789012",)"
               R"("region":"us-east-1","namespace":"AWS/EC2","metric_name":"CPUUtilization",)"
               R"("dimensions":{"InstanceId":")" +
               instance(i) + R"("},"timestamp":)" + std::to_string(t) +
               R"(,"value":{"max":40.0,"min":20.0,"sum":60.0,"count":2.0},"unit":"Percent"})";
      const size_t size = record.size();
      record.append(tw::pipeline::json_padding(), ' ');
      runtime.process(input, tw::pipeline::InputFormat::kMetricStream,
                      std::string_view(record).substr(0, size),
                      tw::pipeline::RecordOrigin{"bench", static_cast<uint64_t>(i)});
    }
  }

  CountingOutput output;
  tw::pipeline::Runtime runtime;
  tw::pipeline::InputId input;
};

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> parsed = parse(argc, argv);
  if (!parsed) {
    return 2;
  }
  const Options& o = *parsed;
  const auto config = make_config(o.series);
  const double per_million = 1e6 / o.series;

  Run original(config, o.shards);
  auto started = std::chrono::steady_clock::now();
  for (int m = 0; m < o.minutes; ++m) {
    original.feed_minute(o.series, m);
  }
  const double feed_seconds = seconds_since(started);

  started = std::chrono::steady_clock::now();
  const std::string bytes = original.runtime.checkpoint();
  const double checkpoint_seconds = seconds_since(started);

  std::filesystem::create_directories(o.dir);
  auto store = tw::connectors::DirectoryStateStore::open(o.dir, "bench");
  if (!store.is_ok()) {
    std::fprintf(stderr, "%s\n", store.status().to_string().c_str());
    return 1;
  }
  started = std::chrono::steady_clock::now();
  if (const tw::pipeline::Status s = (*store)->save(bytes); !s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  const double save_seconds = seconds_since(started);
  started = std::chrono::steady_clock::now();
  auto loaded = (*store)->load();
  const double load_seconds = seconds_since(started);
  if (!loaded.is_ok() || !loaded.value() || *loaded.value() != bytes) {
    std::fprintf(stderr, "the stored checkpoint did not read back\n");
    return 1;
  }

  started = std::chrono::steady_clock::now();
  Run restored(config, o.shards);
  const double construct_seconds = seconds_since(started);
  started = std::chrono::steady_clock::now();
  if (const tw::pipeline::Status s = restored.runtime.restore(*loaded.value()); !s.is_ok()) {
    std::fprintf(stderr, "restore: %s\n", s.to_string().c_str());
    return 1;
  }
  const double restore_seconds = seconds_since(started);

  // Both go on for one more minute and then finish: identical output required.
  original.output.count = 0;
  original.output.digest = 0;
  original.feed_minute(o.series, o.minutes);
  original.runtime.finish();
  restored.feed_minute(o.series, o.minutes);
  restored.runtime.finish();
  const bool same = original.output.count == restored.output.count &&
                    original.output.digest == restored.output.digest && original.output.count > 0;

  std::printf("series (one alarm each)     %d, %d minutes of data, %d shard(s)\n", o.series,
              o.minutes, o.shards);
  std::printf("feed                        %.2f s (%.0f records/s)\n", feed_seconds,
              o.series * o.minutes / feed_seconds);
  std::printf("checkpoint size             %zu bytes = %.0f bytes per series\n", bytes.size(),
              static_cast<double>(bytes.size()) / o.series);
  std::printf("checkpoint (serialise)      %.3f s = %.3f s per million series\n",
              checkpoint_seconds, checkpoint_seconds * per_million);
  std::printf("directory save (fsync)      %.3f s = %.3f s per million series\n", save_seconds,
              save_seconds * per_million);
  std::printf("directory load              %.3f s = %.3f s per million series\n", load_seconds,
              load_seconds * per_million);
  std::printf("runtime set-up (alarms)     %.3f s = %.3f s per million series\n", construct_seconds,
              construct_seconds * per_million);
  std::printf("restore (decode + load)     %.3f s = %.3f s per million series\n", restore_seconds,
              restore_seconds * per_million);
  std::printf("continued identically       %s (%llu emissions after the checkpoint)\n",
              same ? "yes" : "NO", static_cast<unsigned long long>(restored.output.count));
  std::filesystem::remove_all(o.dir);
  return same ? 0 : 1;
}
