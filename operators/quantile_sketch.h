#pragma once

/// QuantileSketch: a mergeable, relative-error quantile sketch (DDSketch-style log-bucketed
/// histogram) for percentile statistics.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeline/status.h"

namespace tw::operators {

namespace internal {

/// Counts per bucket key over one contiguous key range. An implementation detail of
/// QuantileSketch, public only so that the sketch can hold it by value.
///
/// The counters start one byte wide and are widened (8 → 16 → 32 bits, then double) only when a
/// bucket's count no longer fits or a weight is not a whole number. A minute of latencies thus
/// costs one byte per bucket of its range instead of eight. Integer counts are exact in every
/// width (doubles hold them exactly below 2^53), which is what makes merges bit-exact.
class BinStore {
 public:
  /// Adds `weight` to bucket `key`. Precondition: weight > 0 and finite.
  void add(int32_t key, double weight) {
    auto index = static_cast<int64_t>(key) - offset_;
    if (index < 0 || index >= size_) [[unlikely]] {
      extend_to(key, key);
      index = static_cast<int64_t>(key) - offset_;
    }
    add_at(static_cast<size_t>(index), weight);
  }

  /// Adds every bucket of `other` to this store.
  void merge(const BinStore& other);

  /// The count of bucket `key` (0 outside the covered range).
  [[nodiscard]] double count_at(int32_t key) const;

  /// True when no bucket has a count.
  [[nodiscard]] bool empty() const;

  /// The smallest and largest key with a count. Precondition: !empty().
  [[nodiscard]] int32_t min_key() const;

  [[nodiscard]] int32_t max_key() const;

  /// True when every count is a whole number (counts are stored in an integer width).
  [[nodiscard]] bool integer_counts() const { return counts_.index() != 3; }

  /// Releases the buffer.
  void clear();

  /// Bytes allocated on the heap.
  [[nodiscard]] size_t heap_bytes() const;

  /// Width in bytes of one counter: 1, 2, 4 or 8.
  [[nodiscard]] size_t counter_bytes() const;

  /// Same keys with the same counts (counter width and covered range do not matter).
  [[nodiscard]] bool operator==(const BinStore& other) const;

 private:
  using Counts = std::variant<std::vector<uint8_t>, std::vector<uint16_t>, std::vector<uint32_t>,
                              std::vector<double>>;

  void add_at(size_t i, double weight) {
    switch (counts_.index()) {
      case 0:
        add_integer(std::get<0>(counts_), i, weight);
        break;
      case 1:
        add_integer(std::get<1>(counts_), i, weight);
        break;
      case 2:
        add_integer(std::get<2>(counts_), i, weight);
        break;
      default:
        std::get<3>(counts_)[i] += weight;
        break;
    }
  }

  template <typename T>
  void add_integer(std::vector<T>& counts, size_t i, double weight) {
    // A weight of 1 is by far the most common; one compare settles it.
    if (weight == 1.0 && counts[i] != std::numeric_limits<T>::max()) {
      ++counts[i];
      return;
    }
    if (weight <= static_cast<double>(std::numeric_limits<T>::max())) {
      const auto whole = static_cast<T>(weight);
      if (static_cast<double>(whole) == weight &&
          counts[i] <= std::numeric_limits<T>::max() - whole) {
        counts[i] = static_cast<T>(counts[i] + whole);
        return;
      }
    }
    add_widening(i, weight);
  }

  void add_widening(size_t i, double weight);

  /// Grows the covered range to include [lo, hi], with slack so that growth is amortised.
  void extend_to(int32_t lo, int32_t hi);

  /// Switches to the counter width at position `width_index` of Counts (never narrows).
  void widen(size_t width_index);

  Counts counts_;
  int32_t offset_ = 0;  ///< Key of counts_[0].
  int32_t size_ = 0;    ///< Number of counters (the covered key range), cached off the variant.
};

}  // namespace internal

/// A mergeable quantile sketch with a relative-error guarantee, after DDSketch (Masson, Rim and
/// Lee, VLDB 2019).
///
/// **Error bound.** For relative accuracy α (default 0.01), every value `quantile(q)` returns is
/// within ±α relative error of the exact nearest-rank quantile (defined below) of the values
/// added: |returned − exact| ≤ α·|exact|. This holds for every |value| ≥ kMinIndexableValue
/// (1e-9), across the whole double range, for positive and negative values alike. Values with
/// |value| < kMinIndexableValue are counted as zero, so for them the error is absolute, below
/// 1e-9. `quantile(0)` and `quantile(1)` are the exact minimum and maximum.
///
/// **Quantile definition.** With n the total weight and the values sorted ascending (a value of
/// weight w counted w times), `quantile(q)` is the value of rank k = ⌈q·n⌉, with k = 1 for q = 0
/// (nearest rank: p50 of {1, 2, 3, 4} is 2, p90 of 1..10 is 9). q·n is taken as an integer when
/// it lies within 1e-12·n of one, so that q = 0.29 selects rank 29 of 100 although the double
/// 0.29 is not exactly 29/100. The value returned is the representative of the rank's bucket,
/// 2γ^i/(γ+1) for bucket (γ^(i−1), γ^i] with γ = (1+α)/(1−α), clamped to [minimum, maximum]
/// (which can only bring it closer).
///
/// **Mergeability.** `merge` adds bucket counts. For whole-number weights (below 2^53 in total)
/// the sketch of any split of the data, merged in any order, is equal — bit for bit, and in
/// serialized form — to the sketch of all the data in one pass. With fractional weights the
/// counts are sums of doubles and agree only up to rounding.
///
/// **Memory.** Positive and negative values go to two stores that cover only the key range
/// actually used, with counters as narrow as the counts allow (1 byte per bucket for counts up
/// to 255). With α = 0.01 a bucket spans 2% of value, so a range of values that differ by a
/// factor of 10 takes 116 buckets. `memory_bytes()` reports the total.
///
/// **Speed.** `add` computes one `std::log` and increments a counter; it allocates only when a
/// value falls outside the key range covered so far.
///
/// **Threading.** Not thread-safe; a sketch belongs to one shard (one thread) at a time, like the
/// bucket that holds it. Copying and moving are cheap value operations.
///
/// Example:
///
///     QuantileSketch latencies;                 // α = 1%
///     for (double ms : batch) latencies.add(ms);
///     other_minute.merge(latencies);            // periods are merged minutes
///     std::optional<double> p99 = other_minute.quantile(0.99);
class QuantileSketch {
 public:
  /// Values with a magnitude below this are counted in the zero bucket.
  static constexpr double kMinIndexableValue = 1e-9;
  /// The accepted range of relative accuracies: tighter would overflow 32-bit keys, looser is
  /// useless.
  static constexpr double kMinRelativeAccuracy = 1e-5;
  static constexpr double kMaxRelativeAccuracy = 0.5;

  /// An empty sketch. Precondition: relative_accuracy in
  /// [kMinRelativeAccuracy, kMaxRelativeAccuracy].
  explicit QuantileSketch(double relative_accuracy = 0.01);

  /// Adds `weight` copies of `value`. Precondition: value finite, weight > 0 and finite.
  void add(double value, double weight = 1.0);

  /// Adds all of `other`'s values. Precondition: same relative accuracy.
  void merge(const QuantileSketch& other);

  /// Total weight added.
  [[nodiscard]] double count() const { return count_; }

  [[nodiscard]] bool empty() const { return count_ <= 0; }

  /// The nearest-rank quantile `q` (see the class comment), within the error bound. nullopt when
  /// empty. Precondition: 0 ≤ q ≤ 1.
  [[nodiscard]] std::optional<double> quantile(double q) const;

  /// Exact smallest and largest value added. nullopt when empty.
  [[nodiscard]] std::optional<double> min() const;

  [[nodiscard]] std::optional<double> max() const;

  [[nodiscard]] double relative_accuracy() const { return relative_accuracy_; }

  /// Removes every value and releases the buckets' memory.
  void clear();

  /// Bytes this sketch occupies, itself and its heap buffers.
  [[nodiscard]] size_t memory_bytes() const;

  /// Appends a compact binary encoding to `out` (for checkpoints). Equal sketches encode to equal
  /// bytes. Format version 1, little-endian: "TQ", version byte, α, count, zero count, min and
  /// max as doubles, then the positive and the negative store, each as varint bucket count,
  /// zigzag-varint first key, encoding byte (0: varint counts, 1: double counts) and the counts.
  void serialize(std::string& out) const;

  /// Decodes what `serialize` wrote. Any other input — truncated, corrupted, hostile — yields a
  /// kDataLoss status; it never crashes and never allocates more than the input's size justifies.
  static pipeline::Result<QuantileSketch> deserialize(std::string_view bytes);

  /// Same accuracy and the same values (bit-exact counts, minimum and maximum).
  [[nodiscard]] bool operator==(const QuantileSketch& other) const;

 private:
  [[nodiscard]] int32_t key_of(double magnitude) const;
  [[nodiscard]] double representative(int32_t key) const;

  double relative_accuracy_;
  double gamma_;
  double inv_log_gamma_;
  double count_ = 0;
  double zero_count_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  internal::BinStore positive_;
  internal::BinStore negative_;  ///< Keyed by |value|.
};

}  // namespace tw::operators
