// Micro-benchmarks of the metric hot path: decoding each record shape, building and interning
// series keys, and updating buckets — plus simdjson parsing the same record alone, the floor.

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <array>
#include <charconv>
#include <random>
#include <string>
#include <vector>

#include "operators/metric_window.h"
#include "pipeline/metric_decoder.h"
#include "pipeline/series.h"

namespace {

using tw::pipeline::InputFormat;

// Typical records, padded for simdjson.
std::vector<std::string> stream_records(size_t n) {
  std::vector<std::string> records;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> value(0, 100);
  for (size_t i = 0; i < n; ++i) {
    std::array<char, 32> id{};
    std::snprintf(id.data(), id.size(), "%017zu", i);
    const double v = value(rng);
    // Shortest round-trip text, as producers of computed values write it (up to 17 digits).
    auto num = [](double d) {
      std::array<char, 32> text{};
      char* const end = std::to_chars(text.data(), text.data() + text.size(), d).ptr;
      return std::string(text.data(), end);
    };
    records.push_back(
        std::string(R"({"metric_stream_name":"bench","account_id":"123456789012","region":)") +
        R"("us-east-1","namespace":"AWS/EC2","metric_name":"CPUUtilization","dimensions":)" +
        R"({"InstanceId":"i-)" + id.data() + R"("},"timestamp":1767225600000,"value":{"max":)" +
        num(v + 2.123456789) + R"(,"min":)" + num(v - 1.987654321) + R"(,"sum":)" +
        num(v * 5.000000001) + R"(,"count":5},"unit":"Percent"})");
    records.back().reserve(records.back().size() + simdjson::SIMDJSON_PADDING);
  }
  return records;
}

void bm_decode_metric_stream(benchmark::State& state) {
  const auto records = stream_records(1024);
  tw::pipeline::MetricDecoder decoder;
  tw::pipeline::MetricBatch batch;
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    batch.clear();
    const std::string& r = records[i++ % records.size()];
    benchmark::DoNotOptimize(decoder.decode_padded(InputFormat::kMetricStream, r, batch));
    bytes += r.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK(bm_decode_metric_stream);

// The floor: simdjson On-Demand visiting every field of the same records.
void bm_simdjson_visit_metric_stream(benchmark::State& state) {
  const auto records = stream_records(1024);
  simdjson::ondemand::parser parser;
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    const std::string& r = records[i++ % records.size()];
    auto doc = parser.iterate(r.data(), r.size(), r.capacity());
    uint64_t n = 0;
    for (auto field : doc.get_object()) {
      auto v = field.value();
      if (v.type() == simdjson::ondemand::json_type::object) {
        for (auto inner : v.get_object()) {
          auto iv = inner.value();
          if (iv.type() == simdjson::ondemand::json_type::number) {
            n += static_cast<uint64_t>(double(iv.get_double()) > 0);
          } else {
            n += std::string_view(iv.get_string()).size();
          }
        }
      } else if (v.type() == simdjson::ondemand::json_type::number) {
        n += static_cast<uint64_t>(double(v.get_double()) > 0);
      } else {
        n += std::string_view(v.get_string()).size();
      }
    }
    benchmark::DoNotOptimize(n);
    bytes += r.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK(bm_simdjson_visit_metric_stream);

void bm_decode_put_metric_data(benchmark::State& state) {
  const std::string record =
      R"({"Namespace":"App","MetricData":[{"MetricName":"Latency","Dimensions":[{"Name":"Api",)"
      R"("Value":"GetItem"},{"Name":"Stage","Value":"prod"}],"Timestamp":"2026-01-01T00:00:30Z",)"
      R"("Values":[12.5,13.25,80.0],"Counts":[10,5,1],"Unit":"Milliseconds"}]})";
  tw::pipeline::MetricDecoder decoder;
  tw::pipeline::MetricBatch batch;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    batch.clear();
    benchmark::DoNotOptimize(decoder.decode(InputFormat::kPutMetricData, record, batch));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * record.size()));
}

BENCHMARK(bm_decode_put_metric_data);

void bm_decode_emf(benchmark::State& state) {
  const std::string record =
      R"({"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"Shop",)"
      R"("Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}]},)"
      R"("Service":"checkout","Latency":[120.5,98.1,143.0,101.9],"requestId":"abc-123"})";
  tw::pipeline::MetricDecoder decoder;
  tw::pipeline::MetricBatch batch;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    batch.clear();
    benchmark::DoNotOptimize(decoder.decode(InputFormat::kEmf, record, batch));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * record.size()));
}

BENCHMARK(bm_decode_emf);

// Canonical key + hash + lookup of an existing series (the steady state).
void bm_series_key_and_intern(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  if (n == 0) {
    state.SkipWithError("needs at least one series");
    return;
  }
  tw::pipeline::SeriesInterner interner;
  tw::pipeline::SeriesKeyBuilder builder;
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) {
    std::array<char, 32> id{};
    std::snprintf(id.data(), id.size(), "i-%017zu", i);
    ids.emplace_back(id.data());
    std::vector<tw::pipeline::DimensionView> dims = {{"InstanceId", ids.back()}};
    const auto key = builder.build("AWS/EC2", "CPUUtilization", "123456789012", "us-east-1", dims);
    (void)interner.intern(key, tw::pipeline::hash_series_key(key));
  }
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    std::vector<tw::pipeline::DimensionView> dims = {{"InstanceId", ids[i++ % n]}};
    const auto key = builder.build("AWS/EC2", "CPUUtilization", "123456789012", "us-east-1", dims);
    benchmark::DoNotOptimize(interner.intern(key, tw::pipeline::hash_series_key(key)));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_series_key_and_intern)->Arg(1000)->Arg(100'000)->Arg(1'000'000);

void bm_bucket_add(benchmark::State& state) {
  tw::operators::WindowRequirements requirements;
  requirements.retention = tw::pipeline::Duration::minutes(60);
  requirements.percentiles = state.range(0) != 0;
  tw::operators::SeriesWindow window(requirements);
  tw::pipeline::MetricSample sample;
  sample.time = tw::pipeline::EventTime::from_seconds(1'767'225'600);
  std::vector<tw::pipeline::WeightedValue> values = {{12.5, 1}};
  sample.values = values;
  sample.stats.add(12.5);
  int64_t n = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    sample.time = tw::pipeline::EventTime::from_seconds(1'767'225'600 + (n++ / 4));
    values[0].value = 10.0 + static_cast<double>(n % 17);
    window.add(sample);
    if (n % 3600 == 0) {
      window.evict_before(sample.time - tw::pipeline::Duration::minutes(60));
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_bucket_add)->Arg(0)->Arg(1);

}  // namespace

namespace {
// Experiment: the same extraction through simdjson's DOM API.
void bm_dom_extract_metric_stream(benchmark::State& state) {
  const auto records = stream_records(1024);
  simdjson::dom::parser parser;
  size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    const std::string& r = records[i++ % records.size()];
    simdjson::dom::element root;
    if (parser.parse(r.data(), r.size(), false).get(root) != simdjson::SUCCESS) {
      continue;
    }
    simdjson::dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) {
      continue;
    }
    double sum = 0;
    size_t len = 0;
    for (const auto field : obj) {
      const std::string_view key = field.key;
      if (key == "namespace" || key == "metric_name" || key == "account_id" || key == "region" ||
          key == "unit") {
        std::string_view s;
        if (field.value.get_string().get(s) == simdjson::SUCCESS) {
          len += s.size();
        }
      } else if (key == "timestamp") {
        int64_t t = 0;
        if (field.value.get_int64().get(t) == simdjson::SUCCESS) {
          len += static_cast<size_t>(t & 1);
        }
      } else if (key == "dimensions") {
        simdjson::dom::object dims;
        if (field.value.get_object().get(dims) == simdjson::SUCCESS) {
          for (const auto d : dims) {
            std::string_view s;
            if (d.value.get_string().get(s) == simdjson::SUCCESS) {
              len += s.size() + d.key.size();
            }
          }
        }
      } else if (key == "value") {
        simdjson::dom::object stats;
        if (field.value.get_object().get(stats) == simdjson::SUCCESS) {
          for (const auto st : stats) {
            double d = 0;
            if (st.value.get_double().get(d) == simdjson::SUCCESS) {
              sum += d;
            }
          }
        }
      }
    }
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(len);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_dom_extract_metric_stream);
}  // namespace

BENCHMARK_MAIN();
