// Micro-benchmarks of the percentile path: QuantileSketch add / merge / quantile / serialize, with
// StatisticSet::add (what every bucket does anyway) as the baseline.
//
// Values are lognormal latencies in milliseconds (median 20 ms, σ 0.7), generated up front so that
// the RNG is not measured. Run: build/bench/sketch_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "operators/quantile_sketch.h"
#include "pipeline/metric.h"

namespace {

using tw::operators::QuantileSketch;

constexpr size_t kValueCount = 1 << 16;  // A power of two: the index wraps with a mask.

const std::vector<double>& latencies() {
  static const std::vector<double> kValues = [] {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(std::log(20.0), 0.7);
    std::vector<double> v(kValueCount);
    for (double& x : v) {
      x = dist(rng);
    }
    return v;
  }();
  return kValues;
}

QuantileSketch minute_of(size_t n, size_t first) {
  QuantileSketch sketch;
  const auto& values = latencies();
  for (size_t i = 0; i < n; ++i) {
    sketch.add(values[(first + i) & (kValueCount - 1)]);
  }
  return sketch;
}

// Steady state: the sketch already covers the range, so this is log + increment.
void bm_sketch_add(benchmark::State& state) {
  const auto& values = latencies();
  QuantileSketch sketch = minute_of(kValueCount, 0);
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    sketch.add(values[i++ & (kValueCount - 1)]);
  }
  benchmark::DoNotOptimize(sketch.count());
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_sketch_add);

// PutMetricData Values/Counts: a weight of 1..8 per value.
void bm_sketch_add_weighted(benchmark::State& state) {
  const auto& values = latencies();
  QuantileSketch sketch = minute_of(kValueCount, 0);
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    sketch.add(values[i & (kValueCount - 1)], static_cast<double>(1 + (i & 7U)));
    ++i;
  }
  benchmark::DoNotOptimize(sketch.count());
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_sketch_add_weighted);

// A fresh sketch per minute: includes the allocations while the range grows.
void bm_sketch_build_minute(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  size_t first = 0;
  size_t bytes = 0;
  size_t serialized = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    const QuantileSketch sketch = minute_of(n, first);
    first += n;
    bytes = sketch.memory_bytes();
    benchmark::DoNotOptimize(bytes);
    state.PauseTiming();
    std::string out;
    sketch.serialize(out);
    serialized = out.size();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["memory_bytes"] = static_cast<double>(bytes);
  state.counters["serialized_bytes"] = static_cast<double>(serialized);
}

BENCHMARK(bm_sketch_build_minute)->Arg(60)->Arg(10000);

// Periods are merged minutes: merge two 1-minute sketches into a fresh period sketch.
void bm_sketch_merge_minutes(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const QuantileSketch a = minute_of(n, 0);
  const QuantileSketch b = minute_of(n, n);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    QuantileSketch period;
    period.merge(a);
    period.merge(b);
    benchmark::DoNotOptimize(period.count());
  }
}

BENCHMARK(bm_sketch_merge_minutes)->Arg(60)->Arg(10000);

// Merge one minute into an existing period sketch that already covers the range (no allocation).
void bm_sketch_merge_into(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const QuantileSketch minute = minute_of(n, 0);
  QuantileSketch period = minute_of(kValueCount, 0);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    period.merge(minute);
    benchmark::DoNotOptimize(period.count());
  }
}

BENCHMARK(bm_sketch_merge_into)->Arg(60)->Arg(10000);

void bm_sketch_quantile(benchmark::State& state) {
  const QuantileSketch sketch = minute_of(static_cast<size_t>(state.range(0)), 0);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    benchmark::DoNotOptimize(sketch.quantile(0.99));
  }
}

BENCHMARK(bm_sketch_quantile)->Arg(60)->Arg(10000);

void bm_sketch_serialize(benchmark::State& state) {
  const QuantileSketch sketch = minute_of(static_cast<size_t>(state.range(0)), 0);
  std::string out;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    out.clear();
    sketch.serialize(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}

BENCHMARK(bm_sketch_serialize)->Arg(60)->Arg(10000);

void bm_sketch_deserialize(benchmark::State& state) {
  std::string bytes;
  minute_of(static_cast<size_t>(state.range(0)), 0).serialize(bytes);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    auto restored = QuantileSketch::deserialize(bytes);
    benchmark::DoNotOptimize(restored.is_ok());
  }
}

BENCHMARK(bm_sketch_deserialize)->Arg(60)->Arg(10000);

void bm_statistic_set_add(benchmark::State& state) {
  const auto& values = latencies();
  tw::pipeline::StatisticSet set;
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    set.add(values[i++ & (kValueCount - 1)]);
  }
  benchmark::DoNotOptimize(set.sum);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_statistic_set_add);

}  // namespace

BENCHMARK_MAIN();
