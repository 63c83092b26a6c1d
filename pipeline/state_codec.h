#pragma once

/// The byte format of checkpoints (live mode's durable state, see pipeline/runtime.h).
///
/// A checkpoint is written by one StateWriter and read back by one StateReader: fixed-width
/// little-endian integers and doubles, length-prefixed strings and sections. Nothing in it is
/// trusted on the way back: a StateReader never reads past its bytes, refuses counts that the
/// remaining bytes cannot hold (so a hostile length cannot make it allocate gigabytes), and
/// after the first failure returns zeros and keeps the first error message. Callers read
/// everything, then check `ok()` once.
///
/// The state itself is a sequence of *entries* — (kind, key, blob) — so that whoever restores
/// can hand each component the entries of what it owns (an alarm by name, a series by its
/// canonical key) whatever the shard count or the configuration was when it was written.
///
/// Thread-safety: none; each writer or reader belongs to one thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pipeline/time.h"

namespace tw::pipeline {

class StateWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(static_cast<char>(v)); }

  void u32(uint32_t v);
  void u64(uint64_t v);

  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }

  void f64(double v);

  void boolean(bool v) { u8(v ? 1 : 0); }

  void time(EventTime t) { i64(t.millis()); }

  void duration(Duration d) { i64(d.millis()); }

  void text(std::string_view s);
  void optional_f64(const std::optional<double>& v);

  /// Starts a length-prefixed section; pass the result to end_section once it is written.
  [[nodiscard]] size_t begin_section();
  void end_section(size_t begin);

  /// Appends one entry: its kind (never 0, which ends a sequence of entries), key and blob.
  void entry(char kind, std::string_view key, std::string_view blob);

  [[nodiscard]] const std::string& bytes() const { return bytes_; }

  [[nodiscard]] std::string take() { return std::move(bytes_); }

  void clear() { bytes_.clear(); }

 private:
  std::string bytes_;
};

class StateReader {
 public:
  explicit StateReader(std::string_view bytes) : bytes_(bytes) {}

  uint8_t u8();
  uint32_t u32();
  uint64_t u64();

  int64_t i64() { return static_cast<int64_t>(u64()); }

  double f64();
  bool boolean();

  EventTime time() { return EventTime::from_millis(i64()); }

  Duration duration() { return Duration::millis(i64()); }

  /// A view into the reader's bytes.
  std::string_view text();
  std::optional<double> optional_f64();

  /// A section written by begin_section/end_section, as a view.
  std::string_view section() { return text(); }

  /// A count of elements that take at least `min_element_bytes` each: fails when the remaining
  /// bytes cannot hold that many.
  uint32_t count(size_t min_element_bytes);

  /// Records a failure (the first one is kept) and makes every later read return zero.
  void fail(std::string_view why);

  [[nodiscard]] bool ok() const { return error_.empty(); }

  [[nodiscard]] const std::string& error() const { return error_; }

  [[nodiscard]] size_t position() const { return position_; }

  [[nodiscard]] size_t remaining() const { return bytes_.size() - position_; }

  [[nodiscard]] bool at_end() const { return position_ == bytes_.size(); }

 private:
  /// The next `n` bytes, or null (and a failure) when fewer remain.
  const char* take(size_t n);

  std::string_view bytes_;
  size_t position_ = 0;
  std::string error_;
};

/// The entries of a checkpoint, indexed by (kind, key). Views point into the checkpoint's bytes,
/// which must outlive the index.
class StateEntries {
 public:
  /// Reads entries up to the terminating kind 0. Returns false (with `reader` failed) when they
  /// are malformed.
  bool read(StateReader& reader);

  /// The last entry of (kind, key).
  [[nodiscard]] std::optional<std::string_view> find(char kind, std::string_view key) const;

  /// Every entry of (kind, key) in order: several components may checkpoint their own copy of
  /// one thing (two shards each keep a window of a series that alarms on both read).
  [[nodiscard]] std::span<const std::string_view> find_all(char kind, std::string_view key) const;

  /// Number of distinct (kind, key).
  [[nodiscard]] size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, std::vector<std::string_view>> entries_;  // kind + key -> blobs
};

/// CRC-32 (zlib's) of `bytes`: the checksum that closes a checkpoint.
uint32_t checksum(std::string_view bytes);

}  // namespace tw::pipeline
