// gen_metrics: writes synthetic CloudWatch metric-stream JSON lines, deterministically.
//
//   gen_metrics --series N --minutes M [--start 2026-01-01T00:00:00Z] [--seed S]
//               [--percentiles] [--shuffle-seconds K] [--namespace NS] > metrics.jsonl
//
// Each series is an EC2-like metric with a daily shape, noise and occasional spikes, one record
// per series per minute, in time order. --shuffle-seconds K reorders records randomly within
// windows of K seconds of event time (to exercise lateness handling). Used by the end-to-end
// replay benchmark (bench/replay_bench.sh) and to build test inputs; the output depends only on
// the arguments.

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "pipeline/time.h"

namespace {

struct Options {
  int series = 100;
  int minutes = 60;
  std::string start = "2026-01-01T00:00:00Z";
  uint64_t seed = 42;
  bool percentiles = false;
  int shuffle_seconds = 0;
  std::string namespace_name = "AWS/EC2";
};

[[noreturn]] void usage() {
  std::cerr << "usage: gen_metrics --series N --minutes M [--start ISO8601] [--seed S] "
               "[--percentiles] [--shuffle-seconds K] [--namespace NS]\n";
  std::exit(2);  // NOLINT(concurrency-mt-unsafe): a single-threaded command-line tool.
}

long parse_long(const char* text) {
  long value = 0;
  const std::string_view s(text);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    usage();
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage();
      }
      return argv[++i];
    };
    if (flag == "--series") {
      o.series = static_cast<int>(parse_long(value()));
    } else if (flag == "--minutes") {
      o.minutes = static_cast<int>(parse_long(value()));
    } else if (flag == "--start") {
      o.start = value();
    } else if (flag == "--seed") {
      o.seed = static_cast<uint64_t>(parse_long(value()));
    } else if (flag == "--percentiles") {
      o.percentiles = true;
    } else if (flag == "--shuffle-seconds") {
      o.shuffle_seconds = static_cast<int>(parse_long(value()));
    } else if (flag == "--namespace") {
      o.namespace_name = value();
    } else {
      usage();
    }
  }
  if (o.series < 1 || o.minutes < 1) {
    usage();
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const auto start = tw::pipeline::parse_iso8601(o.start);
  if (!start) {
    usage();
  }
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> base(static_cast<size_t>(o.series));
  for (double& b : base) {
    b = 10 + 60 * uniform(rng);
  }
  std::vector<std::pair<int64_t, std::string>> window;
  std::string line;
  std::array<char, 64> number{};
  auto num = [&](double v) {
    const auto r = std::to_chars(number.data(), number.data() + number.size(), v);
    return std::string_view(number.data(), static_cast<size_t>(r.ptr - number.data()));
  };
  auto flush_window = [&](bool all, int64_t before) {
    std::shuffle(window.begin(), window.end(), rng);
    auto keep = std::stable_partition(window.begin(), window.end(), [&](const auto& item) {
      return !all && item.first >= before;
    });
    for (auto it = keep; it != window.end(); ++it) {
      std::fwrite(it->second.data(), 1, it->second.size(), stdout);
    }
    window.erase(keep, window.end());
  };
  for (int m = 0; m < o.minutes; ++m) {
    const int64_t t = start->millis() + static_cast<int64_t>(m) * 60'000;
    const double day_phase =
        std::sin(2 * M_PI * static_cast<double>(t % 86'400'000) / 86'400'000.0);
    for (int s = 0; s < o.series; ++s) {
      const auto si = static_cast<size_t>(s);
      const double spike = uniform(rng) < 0.002 ? 40 : 0;
      const double mean = std::max(0.0, base[si] * (1 + 0.3 * day_phase) + 3 * noise(rng) + spike);
      const double count = 5;
      const double spread = 1 + std::fabs(noise(rng));
      const double min = std::max(0.0, mean - spread * 2);
      const double max = mean + spread * 2;
      line.clear();
      line += R"({"metric_stream_name":"bench","account_id":"123456789012","region":"us-east-1",)";
      line += R"("namespace":")";
      line += o.namespace_name;
      line += R"(","metric_name":"CPUUtilization","dimensions":{"InstanceId":"i-)";
      std::array<char, 32> id{};
      std::snprintf(id.data(), id.size(), "%017d", s);
      line += id.data();
      line += R"("},"timestamp":)";
      line += std::to_string(t);
      line += R"(,"value":{"max":)";
      line += num(max);
      line += R"(,"min":)";
      line += num(min);
      line += R"(,"sum":)";
      line += num(mean * count);
      line += R"(,"count":)";
      line += num(count);
      if (o.percentiles) {
        line += R"(,"p99":)";
        line += num(mean + spread * 1.9);
        line += R"(,"p50":)";
        line += num(mean);
      }
      line += R"(},"unit":"Percent"})";
      line += '\n';
      if (o.shuffle_seconds > 0) {
        window.emplace_back(t, line);
      } else {
        std::fwrite(line.data(), 1, line.size(), stdout);
      }
    }
    if (o.shuffle_seconds > 0) {
      flush_window(false, t - static_cast<int64_t>(o.shuffle_seconds) * 1000 + 60'000);
    }
  }
  if (o.shuffle_seconds > 0) {
    flush_window(true, 0);
  }
  return 0;
}
