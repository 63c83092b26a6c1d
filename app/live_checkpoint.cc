#include "app/live_checkpoint.h"

#include "pipeline/state_codec.h"

namespace tw::app {
namespace {

constexpr std::string_view kMagic = "TWLIVE01";
constexpr uint32_t kVersion = 2;
constexpr uint32_t kOldestVersion = 1;  // Without pending actions.

}  // namespace

std::string encode(const LiveCheckpoint& checkpoint) {
  pipeline::StateWriter out;
  for (const char c : kMagic) {
    out.u8(static_cast<uint8_t>(c));
  }
  out.u32(kVersion);
  out.u32(static_cast<uint32_t>(checkpoint.kafka_offsets.size()));
  for (const auto& [partition, offset] : checkpoint.kafka_offsets) {
    out.text(partition.first);
    out.u32(static_cast<uint32_t>(partition.second));
    out.i64(offset);
  }
  out.u32(static_cast<uint32_t>(checkpoint.file_records.size()));
  for (const auto& [name, records] : checkpoint.file_records) {
    out.text(name);
    out.u64(records);
  }
  out.text(checkpoint.runtime);
  out.text(checkpoint.board);
  out.text(checkpoint.actions);
  out.u32(pipeline::checksum(out.bytes()));
  return out.take();
}

pipeline::Result<LiveCheckpoint> decode_live_checkpoint(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 8 || bytes.substr(0, kMagic.size()) != kMagic) {
    return pipeline::data_loss("not a trailwatch live checkpoint (" + std::to_string(bytes.size()) +
                               " bytes)");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  pipeline::StateReader crc(bytes.substr(bytes.size() - 4));
  if (crc.u32() != pipeline::checksum(body)) {
    return pipeline::data_loss("live checkpoint checksum mismatch: truncated or corrupted");
  }
  pipeline::StateReader in(body.substr(kMagic.size()));
  const uint32_t version = in.u32();
  if (version < kOldestVersion || version > kVersion) {
    return pipeline::data_loss("live checkpoint format version " + std::to_string(version) +
                               " is not supported (this build reads version " +
                               std::to_string(kVersion) + ")");
  }
  LiveCheckpoint checkpoint;
  const uint32_t offsets = in.count(4 + 4 + 8);
  for (uint32_t i = 0; i < offsets && in.ok(); ++i) {
    std::string topic(in.text());
    const auto partition = static_cast<int32_t>(in.u32());
    const int64_t offset = in.i64();
    checkpoint.kafka_offsets[{std::move(topic), partition}] = offset;
  }
  const uint32_t files = in.count(4 + 8);
  for (uint32_t i = 0; i < files && in.ok(); ++i) {
    std::string name(in.text());
    checkpoint.file_records[std::move(name)] = in.u64();
  }
  checkpoint.runtime = in.text();
  checkpoint.board = in.text();
  if (version >= 2) {
    checkpoint.actions = in.text();
  }
  if (in.ok() && !in.at_end()) {
    in.fail("bytes after the last section");
  }
  if (!in.ok()) {
    return pipeline::data_loss("live checkpoint: " + in.error());
  }
  return checkpoint;
}

}  // namespace tw::app
