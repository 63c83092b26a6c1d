#pragma once

/// Live mode's outputs: the line sinks (a JSON-lines file or standard output, a Kafka topic), the
/// board of current alarm states that /api/v1/alarms serves, and the runtime output that feeds
/// both. Used from the worker's main thread only, except the board, which HTTP threads read.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/output_lines.h"
#include "connectors/action_dispatcher.h"
#include "connectors/jsonl_writer.h"
#include "connectors/kafka.h"
#include "pipeline/config.h"
#include "pipeline/emission.h"
#include "pipeline/runtime.h"
#include "pipeline/state_codec.h"

namespace tw::app {

/// How long a flush waits for the broker to acknowledge what was produced.
inline constexpr auto kFlushTimeout = std::chrono::seconds(30);

/// One output stream: a JSON-lines file (or standard output) or a Kafka topic.
class LineSink {
 public:
  LineSink() = default;
  virtual ~LineSink() = default;
  LineSink(const LineSink&) = delete;
  LineSink& operator=(const LineSink&) = delete;
  LineSink(LineSink&&) = delete;
  LineSink& operator=(LineSink&&) = delete;

  virtual void write(std::string_view key, std::string_view line) = 0;
  /// Everything written so far is durable (on the broker, or handed to the file).
  virtual pipeline::Status flush() = 0;
};

class FileSink final : public LineSink {
 public:
  pipeline::Status open(const std::string& path) { return writer_.open(path); }

  void write(std::string_view /*key*/, std::string_view line) override { writer_.write_line(line); }

  pipeline::Status flush() override { return writer_.flush(); }

 private:
  connectors::JsonLinesWriter writer_;
};

class KafkaSink final : public LineSink {
 public:
  KafkaSink(connectors::KafkaProducer& producer, std::string topic)
      : producer_(producer), topic_(std::move(topic)) {}

  void write(std::string_view key, std::string_view line) override {
    pipeline::Status s = producer_.produce(topic_, key, line);
    if (!s.is_ok() && first_error_.is_ok()) {
      first_error_ = std::move(s);
    }
  }

  pipeline::Status flush() override {
    if (!first_error_.is_ok()) {
      return std::exchange(first_error_, pipeline::Status());
    }
    return producer_.flush(kFlushTimeout);
  }

 private:
  connectors::KafkaProducer& producer_;
  std::string topic_;
  pipeline::Status first_error_;
};

/// The current state of every alarm, as the events stream told it; read by /api/v1/alarms.
class AlarmBoard {
 public:
  struct Entry {
    std::string name;
    std::string arn;
    bool composite = false;
    std::string state = "INSUFFICIENT_DATA";
    std::string reason = "Unchecked: Initial alarm creation";
    std::string reason_data;
    std::string timestamp;
  };

  explicit AlarmBoard(const pipeline::Config& config) { reconfigure(config); }

  /// The alarms of `config`; those already known keep their state.
  void reconfigure(const pipeline::Config& config) {
    const std::lock_guard lock(mutex_);
    std::map<std::string, Entry, std::less<>> before = std::move(entries_);
    entries_.clear();
    for (const pipeline::MetricAlarmConfig& a : config.metric_alarms) {
      entries_.emplace(a.alarm_name,
                       Entry{a.alarm_name, pipeline::alarm_arn(config.settings, a.alarm_name)});
    }
    for (const pipeline::CompositeAlarmConfig& a : config.composite_alarms) {
      entries_.emplace(
          a.alarm_name,
          Entry{a.alarm_name, pipeline::alarm_arn(config.settings, a.alarm_name), true});
    }
    for (auto& [name, entry] : entries_) {
      if (auto it = before.find(name);
          it != before.end() && it->second.composite == entry.composite) {
        entry = std::move(it->second);
      }
    }
  }

  /// Takes a state-change event line (only transitions reach here, so parsing is rare).
  void apply(const pipeline::Emission& e) {
    const nlohmann::json event = nlohmann::json::parse(e.json, nullptr, /*allow_exceptions=*/false);
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(e.state_change->alarm_name);
    if (it == entries_.end() || event.is_discarded()) {
      return;
    }
    Entry& entry = it->second;
    entry.state = e.state_change->state;
    const nlohmann::json& state = event["detail"]["state"];
    entry.reason = state.value("reason", "");
    entry.reason_data = state.value("reasonData", "");
    entry.timestamp = state.value("timestamp", "");
  }

  /// {"MetricAlarms":[...],"CompositeAlarms":[...]} with describe-alarms field names.
  std::string describe(std::string_view prefix, std::string_view state) const {
    nlohmann::ordered_json out;
    out["MetricAlarms"] = nlohmann::ordered_json::array();
    out["CompositeAlarms"] = nlohmann::ordered_json::array();
    const std::lock_guard lock(mutex_);
    for (const auto& [name, entry] : entries_) {
      if (!name.starts_with(prefix) || (!state.empty() && entry.state != state)) {
        continue;
      }
      nlohmann::ordered_json a;
      a["AlarmName"] = entry.name;
      a["AlarmArn"] = entry.arn;
      a["StateValue"] = entry.state;
      a["StateReason"] = entry.reason;
      if (!entry.reason_data.empty()) {
        a["StateReasonData"] = entry.reason_data;
      }
      if (!entry.timestamp.empty()) {
        a["StateUpdatedTimestamp"] = entry.timestamp;
      }
      out[entry.composite ? "CompositeAlarms" : "MetricAlarms"].push_back(std::move(a));
    }
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  /// Checkpoint: the state of every alarm as last reported (restored with the runtime, so that
  /// /api/v1/alarms and the alarms gauge are right from the first moment after a restart).
  /// `include`, when set, picks the alarms saved (a scale-out task saves its own).
  [[nodiscard]] std::string save(
      const std::function<bool(std::string_view)>& include = nullptr) const {
    pipeline::StateWriter out;
    const std::lock_guard lock(mutex_);
    std::vector<const Entry*> saved;
    for (const auto& [name, e] : entries_) {
      if (!include || include(name)) {
        saved.push_back(&e);
      }
    }
    out.u32(static_cast<uint32_t>(saved.size()));
    for (const Entry* entry : saved) {
      const Entry& e = *entry;
      const std::string& name = e.name;
      out.text(name);
      out.boolean(e.composite);
      out.text(e.state);
      out.text(e.reason);
      out.text(e.reason_data);
      out.text(e.timestamp);
    }
    return out.take();
  }

  /// Restore: the saved states of alarms that still exist (of the same kind). Malformed bytes
  /// change nothing.
  void load(std::string_view bytes) {
    pipeline::StateReader in(bytes);
    std::map<std::string, Entry, std::less<>> saved;
    const uint32_t n = in.count(4 * 5 + 1);
    for (uint32_t i = 0; i < n && in.ok(); ++i) {
      Entry e;
      e.name = in.text();
      e.composite = in.boolean();
      e.state = in.text();
      e.reason = in.text();
      e.reason_data = in.text();
      e.timestamp = in.text();
      std::string name = e.name;
      saved.emplace(std::move(name), std::move(e));
    }
    if (!in.ok()) {
      return;
    }
    const std::lock_guard lock(mutex_);
    for (auto& [name, entry] : entries_) {
      if (auto it = saved.find(name);
          it != saved.end() && it->second.composite == entry.composite) {
        const std::string arn = entry.arn;
        entry = std::move(it->second);
        entry.arn = arn;
      }
    }
  }

  [[nodiscard]] std::map<std::string, size_t> count_by_state() const {
    std::map<std::string, size_t> counts{{"OK", 0}, {"ALARM", 0}, {"INSUFFICIENT_DATA", 0}};
    const std::lock_guard lock(mutex_);
    for (const auto& [name, entry] : entries_) {
      ++counts[entry.state];
    }
    return counts;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

class LiveOutput final : public pipeline::RuntimeOutput {
 public:
  /// `reports_dead_letter`, when set, says which dead letters this output writes: in scale-out
  /// every task reads every record, and one of them reports each (app/task_plan.h).
  /// `transitions` counts transitions by new state; it may be shared by the outputs of several
  /// tasks, and outlives this.
  LiveOutput(const pipeline::Settings& settings, LineSink* events, LineSink* datapoints,
             LineSink* dead_letters, AlarmBoard& board,
             std::map<std::string, uint64_t>& transitions,
             std::function<bool(const pipeline::DeadLetter&)> reports_dead_letter = nullptr)
      : settings_(settings),
        events_(events),
        datapoints_(datapoints),
        dead_letters_(dead_letters),
        board_(board),
        transitions_(transitions),
        reports_dead_letter_(std::move(reports_dead_letter)) {}

  void write_emissions(std::span<const pipeline::Emission> emissions) override {
    for (const pipeline::Emission& e : emissions) {
      if (e.stream == pipeline::EmissionStream::kEvents) {
        if (e.state_change) {
          board_.apply(e);
          ++transitions_[e.state_change->state];
        }
        if (events_ != nullptr) {
          // Keyed by alarm ARN: one alarm's events stay in order on one partition.
          events_->write(pipeline::alarm_arn(settings_, e.key), e.json);
          ++undelivered_events;
        }
      } else if (e.stream == pipeline::EmissionStream::kActions) {
        if (action_lines_ != nullptr) {
          action_lines_->write(e.key, e.json);
        }
        if (dispatcher_ != nullptr && e.action) {
          dispatcher_->submit(e.action);
        }
      } else if (e.stream == pipeline::EmissionStream::kDatapoints && datapoints_ != nullptr) {
        datapoints_->write(e.key, e.json);
      }
    }
  }

  void write_dead_letter(const pipeline::DeadLetter& letter) override {
    if (dead_letters_ != nullptr && (!reports_dead_letter_ || reports_dead_letter_(letter))) {
      dead_letters_->write(letter.input, format_dead_letter_line(letter));
    }
  }

  /// Where actions go: their lines (the actions output) and delivery. Either may be null.
  void set_actions(LineSink* lines, connectors::ActionDispatcher* dispatcher) {
    action_lines_ = lines;
    dispatcher_ = dispatcher;
  }

  /// Events written since the outputs were last flushed (their latency is observed then).
  uint64_t undelivered_events = 0;

 private:
  const pipeline::Settings& settings_;
  LineSink* events_;
  LineSink* datapoints_;
  LineSink* dead_letters_;
  AlarmBoard& board_;
  std::map<std::string, uint64_t>& transitions_;
  std::function<bool(const pipeline::DeadLetter&)> reports_dead_letter_;
  LineSink* action_lines_ = nullptr;
  connectors::ActionDispatcher* dispatcher_ = nullptr;
};

}  // namespace tw::app
