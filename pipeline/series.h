#pragma once

/// Series identity and interning.
///
/// A metric series is identified by namespace, metric name, the *set* of dimensions (order does
/// not matter), account and region. `SeriesKeyBuilder` turns those parts into one canonical byte
/// string — length-prefixed, dimensions sorted by name — so equal identities give equal bytes and
/// different identities never collide. `SeriesInterner` maps canonical keys to dense ids
/// (0, 1, 2, …) so per-series state can live in flat arrays.
///
/// Thread-safety: none. One interner per runtime, used by the coordinator thread (and by shard
/// processors while they are created, before records flow).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"

namespace tw::pipeline {

/// A dense series number, unique within one runtime.
struct SeriesId {
  uint32_t value = 0;

  auto operator<=>(const SeriesId&) const = default;
};

/// 64-bit hash of a canonical key. Also decides the owning shard, so it must be the same in
/// every process of a deployment.
uint64_t hash_series_key(std::string_view canonical_key);

/// A (name, value) view used while building keys.
struct DimensionView {
  std::string_view name;
  std::string_view value;
};

/// The parts of a series identity, decoded from a canonical key.
struct SeriesParts {
  std::string namespace_name;
  std::string metric_name;
  std::string account_id;
  std::string region;
  std::vector<Dimension> dimensions;  ///< Sorted by name.
};

/// Builds canonical keys into a reusable buffer (no allocation in steady state).
class SeriesKeyBuilder {
 public:
  /// Builds the key; the returned view is valid until the next call (the buffer only grows).
  /// `dimensions` is reordered in place (sorted by name). Duplicate dimension names keep their
  /// given order.
  std::string_view build(std::string_view namespace_name, std::string_view metric_name,
                         std::string_view account_id, std::string_view region,
                         std::span<DimensionView> dimensions);

  /// Convenience for configuration: the key of an alarm's metric.
  std::string build_owned(std::string_view namespace_name, std::string_view metric_name,
                          std::string_view account_id, std::string_view region,
                          const std::vector<Dimension>& dimensions);

 private:
  std::string buffer_;
};

/// Decodes a canonical key back into its parts (for messages, metrics and the API).
std::optional<SeriesParts> parse_series_key(std::string_view canonical_key);

/// Open-addressing map from canonical key to dense id, with a hard cap on the number of series.
class SeriesInterner {
 public:
  explicit SeriesInterner(size_t max_series = 5'000'000);

  /// The id of `key`, inserting it if new. nullopt when new and the cap is reached, unless
  /// `beyond_limit` (series that configuration names, such as an alarm's, are always kept: their
  /// number is bounded by the configuration, and refusing them would break the alarm).
  /// Precondition: hash == hash_series_key(key).
  std::optional<SeriesId> intern(std::string_view key, uint64_t hash, bool beyond_limit = false);

  /// The id of `key` if it was interned.
  [[nodiscard]] std::optional<SeriesId> find(std::string_view key, uint64_t hash) const;

  /// The canonical key of an interned id.
  [[nodiscard]] std::string_view key(SeriesId id) const;

  [[nodiscard]] size_t size() const { return offsets_.size(); }

  /// Registers shard `shard` as a reader of `id` besides the shard that owns it by hash: a
  /// metric-math alarm reads several series, which may hash to different shards, and its shard
  /// must see them all. Call during set-up only (before records flow). Idempotent.
  void add_reader(SeriesId id, int shard);

  /// The shards registered by add_reader for `id` (empty for almost every series).
  [[nodiscard]] std::span<const int> extra_readers(SeriesId id) const {
    if (id.value >= reader_lists_.size()) {
      return {};
    }
    return reader_lists_[id.value];
  }

  /// Bytes held by the table and the key arena.
  [[nodiscard]] size_t memory_bytes() const;

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t id_plus_one = 0;  // 0 marks an empty slot.
  };

  void grow();
  [[nodiscard]] size_t probe(std::string_view key, uint64_t hash) const;

  size_t max_series_;
  std::vector<Slot> slots_;
  std::string arena_;
  std::vector<uint64_t> offsets_;
  std::vector<uint32_t> lengths_;
  // Indexed by id; only as long as the highest id with readers (configured series are interned
  // first, so this stays short).
  std::vector<std::vector<int>> reader_lists_;
};

}  // namespace tw::pipeline
