#include "app/live_checkpoint.h"

#include <gtest/gtest.h>

namespace tw::app {
namespace {

LiveCheckpoint sample() {
  LiveCheckpoint c;
  c.kafka_offsets[{"metrics", 0}] = 17;
  c.kafka_offsets[{"metrics", 3}] = 0;
  c.kafka_offsets[{"cloudtrail", 1}] = 123456789012;
  c.file_records["backfill"] = 42;
  c.runtime = std::string("TWCKPT01\0binary", 15);
  c.board = "board bytes";
  return c;
}

TEST(LiveCheckpoint, RoundTrips) {
  const pipeline::Result<LiveCheckpoint> decoded = decode_live_checkpoint(encode(sample()));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded.value(), sample());
  const pipeline::Result<LiveCheckpoint> empty = decode_live_checkpoint(encode(LiveCheckpoint{}));
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(empty.value(), LiveCheckpoint{});
}

TEST(LiveCheckpoint, DamageIsDataLossNeverACrash) {
  const std::string bytes = encode(sample());
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_EQ(decode_live_checkpoint(bytes.substr(0, size)).status().code(),
              pipeline::StatusCode::kDataLoss)
        << size;
  }
  for (size_t at = 0; at < bytes.size(); ++at) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    EXPECT_EQ(decode_live_checkpoint(flipped).status().code(), pipeline::StatusCode::kDataLoss)
        << at;
  }
}

}  // namespace
}  // namespace tw::app
