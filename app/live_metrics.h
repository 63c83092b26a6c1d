#pragma once

/// trailwatch's Prometheus metrics in live mode (served on /metrics).

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "pipeline/drop_reason.h"
#include "pipeline/runtime.h"
#include "pipeline/time.h"

namespace tw::app {

/// trailwatch's Prometheus metrics. Label values are input names, drop reasons and alarm states:
/// bounded by the configuration, never by the data.
class LiveMetrics {
 public:
  LiveMetrics()
      : registry_(std::make_shared<prometheus::Registry>()),
        records_(prometheus::BuildCounter()
                     .Name("trailwatch_records_total")
                     .Help("Records read, by input")
                     .Register(*registry_)),
        datapoints_(prometheus::BuildCounter()
                        .Name("trailwatch_datapoints_total")
                        .Help("Metric datapoints accepted, by input")
                        .Register(*registry_)),
        dropped_(prometheus::BuildCounter()
                     .Name("trailwatch_dropped_total")
                     .Help("Records or datapoints dropped, by input and reason (late included)")
                     .Register(*registry_)),
        transitions_(prometheus::BuildCounter()
                         .Name("trailwatch_transitions_total")
                         .Help("Alarm state transitions, by new state")
                         .Register(*registry_)),
        alarms_(prometheus::BuildGauge()
                    .Name("trailwatch_alarms")
                    .Help("Alarms currently in each state")
                    .Register(*registry_)),
        watermark_(prometheus::BuildGauge()
                       .Name("trailwatch_watermark_seconds")
                       .Help("The global event-time watermark (Unix seconds)")
                       .Register(*registry_)),
        watermark_lag_(prometheus::BuildGauge()
                           .Name("trailwatch_watermark_lag_seconds")
                           .Help("Wall time minus the global watermark")
                           .Register(*registry_)),
        consumer_lag_(prometheus::BuildGauge()
                          .Name("trailwatch_consumer_lag_records")
                          .Help("Kafka consumer lag summed over assigned partitions, by input")
                          .Register(*registry_)),
        evaluations_(prometheus::BuildCounter()
                         .Name("trailwatch_evaluations_total")
                         .Help("Alarm evaluations (one per alarm per evaluation tick)")
                         .Register(*registry_)
                         .Add({})),
        checkpoints_(prometheus::BuildCounter()
                         .Name("trailwatch_checkpoints_total")
                         .Help("Checkpoints of the state, by result (ok, failed)")
                         .Register(*registry_)),
        checkpoint_age_(prometheus::BuildGauge()
                            .Name("trailwatch_checkpoint_age_seconds")
                            .Help("Seconds since the last durable checkpoint (since start "
                                  "before the first)")
                            .Register(*registry_)
                            .Add({})),
        checkpoint_bytes_(prometheus::BuildGauge()
                              .Name("trailwatch_checkpoint_bytes")
                              .Help("Size of the last durable checkpoint")
                              .Register(*registry_)
                              .Add({})),
        checkpoint_seconds_(prometheus::BuildGauge()
                                .Name("trailwatch_checkpoint_duration_seconds")
                                .Help("How long the last checkpoint took, durable write included")
                                .Register(*registry_)
                                .Add({})),
        restore_seconds_(prometheus::BuildGauge()
                             .Name("trailwatch_restore_duration_seconds")
                             .Help("How long restoring the state took at start")
                             .Register(*registry_)
                             .Add({})),
        latency_(prometheus::BuildHistogram()
                     .Name("trailwatch_evaluation_latency_seconds")
                     .Help("From reading the record (or the wall-clock tick) that moved the "
                           "watermark past a period's end to the event's delivery")
                     .Register(*registry_)
                     .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01,
                                                                      0.025, 0.05, 0.1, 0.25, 0.5,
                                                                      1, 2.5, 5, 10})) {}

  /// One delivered event, `seconds` after its cause was read.
  void observe_latency(double seconds) { latency_.Observe(seconds); }

  [[nodiscard]] std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  /// Brings the counters up to `stats`: the cumulative counts of the runtime inputs reported
  /// here, by runtime input name ("NAME/PARTITION" for Kafka; the metrics stay per input). Each
  /// runtime input counts from where it was last seen; one whose counts went down (a scale-out
  /// task dropped and taken on again, restored from a checkpoint) counts afresh from zero, so
  /// the counters never miss records read after a rebalance.
  void update(const pipeline::RuntimeStats& stats, const std::map<std::string, uint64_t>& trans,
              const std::map<std::string, size_t>& by_state) {
    for (const pipeline::InputStats& input : stats.inputs) {
      InputTotals now;
      now.records = input.records;
      now.datapoints = input.datapoints;
      for (size_t i = 0; i < pipeline::kDropReasonCount; ++i) {
        now.dropped.at(i) = input.dropped_by_reason.by_reason.at(i);
      }
      InputTotals& seen = seen_[input.name];
      if (now.records < seen.records) {
        seen = InputTotals{};
      }
      const std::string name = input.name.substr(0, input.name.find('/'));
      increment(records_, {{"input", name}}, now.records - seen.records);
      increment(datapoints_, {{"input", name}},
                now.datapoints - std::min(now.datapoints, seen.datapoints));
      for (size_t i = 0; i < pipeline::kDropReasonCount; ++i) {
        if (now.dropped.at(i) > seen.dropped.at(i)) {
          increment(
              dropped_,
              {{"input", name},
               {"reason", std::string(pipeline::to_string(static_cast<pipeline::DropReason>(i)))}},
              now.dropped.at(i) - seen.dropped.at(i));
        }
      }
      seen = now;
    }
    for (const auto& [state, n] : trans) {
      advance(transitions_, {{"state", state}}, n);
    }
    for (const auto& [state, n] : by_state) {
      alarms_.Add({{"state", state}}).Set(static_cast<double>(n));
    }
    if (stats.watermark != pipeline::EventTime::min()) {
      const double w = static_cast<double>(stats.watermark.millis()) / 1000.0;
      watermark_.Add({}).Set(w);
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      watermark_lag_.Add({}).Set(now - w);
    }
  }

  void set_consumer_lag(const std::string& input, int64_t lag) {
    consumer_lag_.Add({{"input", input}}).Set(static_cast<double>(lag));
  }

  void set_evaluations(uint64_t total) {
    const double delta = static_cast<double>(total) - evaluations_.Value();
    if (delta > 0) {
      evaluations_.Increment(delta);
    }
  }

  void checkpoint_done(bool ok, size_t bytes, double seconds) {
    checkpoints_.Add({{"result", ok ? "ok" : "failed"}}).Increment();
    if (ok) {
      checkpoint_bytes_.Set(static_cast<double>(bytes));
      checkpoint_seconds_.Set(seconds);
    }
  }

  void set_checkpoint_age(double seconds) { checkpoint_age_.Set(seconds); }

  void set_restore_seconds(double seconds) { restore_seconds_.Set(seconds); }

 private:
  struct InputTotals {
    uint64_t records = 0;
    uint64_t datapoints = 0;
    std::array<uint64_t, pipeline::kDropReasonCount> dropped{};
  };

  /// Registers the series (so it shows as 0 before anything happened) and adds `delta`.
  static void increment(prometheus::Family<prometheus::Counter>& family,
                        const std::map<std::string, std::string>& labels, uint64_t delta) {
    prometheus::Counter& c = family.Add(labels);
    if (delta > 0) {
      c.Increment(static_cast<double>(delta));
    }
  }

  static void advance(prometheus::Family<prometheus::Counter>& family,
                      const std::map<std::string, std::string>& labels, uint64_t total) {
    prometheus::Counter& c = family.Add(labels);
    const double delta = static_cast<double>(total) - c.Value();
    if (delta > 0) {
      c.Increment(delta);
    }
  }

  std::map<std::string, InputTotals> seen_;  ///< Runtime input name -> counts last seen.
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& records_;
  prometheus::Family<prometheus::Counter>& datapoints_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Gauge>& alarms_;
  prometheus::Family<prometheus::Gauge>& watermark_;
  prometheus::Family<prometheus::Gauge>& watermark_lag_;
  prometheus::Family<prometheus::Gauge>& consumer_lag_;
  prometheus::Counter& evaluations_;
  prometheus::Family<prometheus::Counter>& checkpoints_;
  prometheus::Gauge& checkpoint_age_;
  prometheus::Gauge& checkpoint_bytes_;
  prometheus::Gauge& checkpoint_seconds_;
  prometheus::Gauge& restore_seconds_;
  prometheus::Histogram& latency_;
};

}  // namespace tw::app
