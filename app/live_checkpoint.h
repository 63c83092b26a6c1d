#pragma once

/// What live mode checkpoints: the runtime's state (pipeline::Runtime::checkpoint) together with
/// the input positions it reflects — the next offset of every Kafka partition and the number of
/// records read from every file or stdin input. Restoring it and reading on from those positions
/// reproduces what the uninterrupted worker would have emitted (at least once: what followed the
/// checkpoint is emitted again, with the same deterministic event ids).
///
/// Format: "TWLIVE01", format version, offsets, file positions, the runtime checkpoint, the alarm
/// board, the pending actions (version 2), CRC-32 of all of it. Version 1 checkpoints (no
/// actions) still load. Decoding never trusts the bytes (see pipeline/state_codec.h).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "pipeline/status.h"

namespace tw::app {

struct LiveCheckpoint {
  /// (topic, partition) → the next offset to read.
  std::map<std::pair<std::string, int32_t>, int64_t> kafka_offsets;
  /// Input name → records (lines or documents) read from it, rejected ones included.
  std::map<std::string, uint64_t> file_records;
  /// pipeline::Runtime::checkpoint().
  std::string runtime;
  /// The alarm states /api/v1/alarms serves, as of the same moment (opaque here).
  std::string board;
  /// Actions handed to delivery and not finished, with the connectors' own state (opaque here;
  /// app/live_task.cc).
  std::string actions;

  bool operator==(const LiveCheckpoint&) const = default;
};

std::string encode(const LiveCheckpoint& checkpoint);

/// kDataLoss for anything `encode` did not write (truncated, corrupted, another format).
pipeline::Result<LiveCheckpoint> decode_live_checkpoint(std::string_view bytes);

}  // namespace tw::app
