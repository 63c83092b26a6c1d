#pragma once

/// What shards produce: JSON lines destined for an output stream, with the keys that put them in
/// one deterministic order whatever the number of shards.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "pipeline/action.h"
#include "pipeline/time.h"

namespace tw::pipeline {

/// The output stream an emission belongs to.
enum class EmissionStream : uint8_t {
  kEvents,      ///< State transitions and other events (the main output).
  kDatapoints,  ///< One line per alarm per evaluated period: the alarm's view of its metric.
  kActions,     ///< One line per action that became due (pipeline/action.h).
};

/// Set on emissions that are alarm state changes, so that what runs after the shards (composite
/// alarms, action routing) can follow states without parsing the JSON.
struct StateChangeNote {
  std::string alarm_name;
  std::string state;  ///< "OK", "ALARM" or "INSUFFICIENT_DATA".

  bool operator==(const StateChangeNote&) const = default;
};

/// One output line. Emissions are ordered by (time, stream, stage, key, sequence): event time
/// first, then the stream, then the stage (shards before what runs after them), then the
/// emitting component's stable key (an alarm's name), then the order in which that component
/// emitted them. Every key belongs to exactly one shard or stage, so the order does not depend
/// on how keys are spread over shards.
struct Emission {
  EventTime time;
  EmissionStream stream = EmissionStream::kEvents;
  /// 0 for what the shards emit; higher for what runs after them (composite alarms use 1 plus
  /// their position in topological order), so that at one event time an effect is written after
  /// its cause.
  uint32_t stage = 0;
  std::string key;
  uint32_t sequence = 0;
  std::string json;  ///< One JSON object, no trailing newline.
  std::optional<StateChangeNote> state_change;
  /// Set on kActions emissions: the request itself, for delivery (shared: emissions are copied
  /// while being merged, requests are not small).
  std::shared_ptr<const ActionRequest> action;

  [[nodiscard]] bool operator<(const Emission& other) const {
    return std::tie(time, stream, stage, key, sequence) <
           std::tie(other.time, other.stream, other.stage, other.key, other.sequence);
  }
};

/// Where a shard appends its emissions during one watermark step.
class EmissionBuffer {
 public:
  void add(EventTime time, EmissionStream stream, std::string key, std::string json) {
    const uint32_t sequence = next_sequence_++;
    items_.push_back(Emission{time, stream, 0, std::move(key), sequence, std::move(json),
                              std::nullopt, nullptr});
  }

  /// An alarm state change: an event line with its note.
  void add_state_change(EventTime time, std::string key, std::string json, StateChangeNote note) {
    const uint32_t sequence = next_sequence_++;
    items_.push_back(Emission{time, EmissionStream::kEvents, 0, std::move(key), sequence,
                              std::move(json), std::move(note), nullptr});
  }

  /// An action that became due: an actions-stream line with its request.
  void add_action(EventTime time, std::string key, std::string json,
                  std::shared_ptr<const ActionRequest> request) {
    const uint32_t sequence = next_sequence_++;
    items_.push_back(Emission{time, EmissionStream::kActions, 0, std::move(key), sequence,
                              std::move(json), std::nullopt, std::move(request)});
  }

  [[nodiscard]] std::vector<Emission>& items() { return items_; }

  void clear() {
    items_.clear();
    next_sequence_ = 0;
  }

 private:
  std::vector<Emission> items_;
  uint32_t next_sequence_ = 0;
};

}  // namespace tw::pipeline
