#include "operators/quantile_sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <type_traits>
#include <utility>

namespace tw::operators {

namespace {

// The bound is proved for real arithmetic; in doubles, a value within about 1e-13 (relative) of a
// bucket boundary can land in the neighbouring bucket, and exp/log round. Building the buckets for
// a slightly tighter accuracy absorbs both, so the documented α holds strictly, not "up to
// rounding", at a cost of 1e-7 relative more buckets.
constexpr double kAccuracyMargin = 1.0 - 1e-7;

// A fresh store covers a few buckets around its first key, and every growth adds a quarter of the
// current size: amortised O(1) copying, at most ~25% unused counters.
constexpr int64_t kMinSlack = 8;

constexpr uint8_t kMagic0 = 'T';
constexpr uint8_t kMagic1 = 'Q';
constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kVarintCounts = 0;
constexpr uint8_t kDoubleCounts = 1;
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

// Integer-valued counts up to 2^53 fit a double exactly, and sums of them are exact; a
// reconstructed total may still differ from the stored one by rounding when weights were
// fractional.
constexpr double kTotalTolerance = 1e-9;

// Snapping q·n to a whole rank (see the class comment).
constexpr double kRankTolerance = 1e-12;

// x in [lo, hi]; false for NaN (which is why the callers negate this rather than test x < lo).
bool within(double x, double lo, double hi) {
  return x >= lo && x <= hi;
}

// What add() accepts: a finite value with a finite weight > 0.
bool valid_sample(double value, double weight) {
  return std::isfinite(value) && weight > 0 && std::isfinite(weight);
}

template <typename Fn>
void for_each_count(const auto& counts, Fn&& fn) {
  std::visit(
      [&](const auto& v) {
        for (size_t i = 0; i < v.size(); ++i) {
          fn(i, static_cast<double>(v[i]));
        }
      },
      counts);
}

// Little-endian encoding helpers. The format is explicit about byte order so that a checkpoint
// written on one machine restores on another.
void put_u8(std::string& out, uint8_t byte) {
  out.push_back(static_cast<char>(byte));
}

void put_f64(std::string& out, double value) {
  auto bits = std::bit_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) {
    put_u8(out, static_cast<uint8_t>(bits & 0xFFU));
    bits >>= 8U;
  }
}

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80U) {
    put_u8(out, static_cast<uint8_t>((value & 0x7FU) | 0x80U));
    value >>= 7U;
  }
  put_u8(out, static_cast<uint8_t>(value));
}

uint64_t zigzag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1U) ^ static_cast<uint64_t>(value >> 63);
}

int64_t unzigzag(uint64_t value) {
  return static_cast<int64_t>(value >> 1U) ^ -static_cast<int64_t>(value & 1U);
}

// Bounds-checked reader: every getter returns false instead of reading past the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  [[nodiscard]] size_t remaining() const { return bytes_.size() - pos_; }

  bool u8(uint8_t& out) {
    if (remaining() < 1) {
      return false;
    }
    out = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }

  bool f64(double& out) {
    if (remaining() < 8) {
      return false;
    }
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) {
      bits |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[pos_++]))
              << (8U * static_cast<unsigned>(i));
    }
    out = std::bit_cast<double>(bits);
    return true;
  }

  bool varint(uint64_t& out) {
    out = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      uint8_t byte = 0;
      if (!u8(byte)) {
        return false;
      }
      const uint64_t payload = byte & 0x7FU;
      if (shift == 63 && payload > 1) {
        return false;  // More than 64 bits.
      }
      out |= payload << shift;
      if ((byte & 0x80U) == 0) {
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

pipeline::Status corrupt(std::string_view what) {
  return pipeline::data_loss("quantile sketch: " + std::string(what));
}

}  // namespace

namespace internal {

void BinStore::add_widening(size_t i, double weight) {
  const double current =
      std::visit([i](const auto& v) { return static_cast<double>(v[i]); }, counts_);
  const double total = current + weight;
  size_t width = 3;
  if (std::floor(weight) == weight) {
    if (total <= static_cast<double>(std::numeric_limits<uint8_t>::max())) {
      width = 0;
    } else if (total <= static_cast<double>(std::numeric_limits<uint16_t>::max())) {
      width = 1;
    } else if (total <= static_cast<double>(std::numeric_limits<uint32_t>::max())) {
      width = 2;
    }
  }
  widen(std::max(width, counts_.index()));
  // The counter now fits the total, so this add takes the direct path.
  add_at(i, weight);
}

void BinStore::widen(size_t width_index) {
  if (width_index <= counts_.index()) {
    return;
  }
  auto convert = [this](auto tag) {
    using To = typename decltype(tag)::type;
    std::vector<To> wider(static_cast<size_t>(size_));
    std::visit(
        [&wider](const auto& v) {
          for (size_t i = 0; i < v.size(); ++i) {
            wider[i] = static_cast<To>(v[i]);
          }
        },
        counts_);
    counts_ = std::move(wider);
  };
  switch (width_index) {
    case 1:
      convert(std::type_identity<uint16_t>{});
      break;
    case 2:
      convert(std::type_identity<uint32_t>{});
      break;
    default:
      convert(std::type_identity<double>{});
      break;
  }
}

void BinStore::extend_to(int32_t lo, int32_t hi) {
  int64_t new_lo = lo;
  int64_t new_hi = hi;
  if (size_ == 0) {
    new_lo -= kMinSlack;
    new_hi += kMinSlack;
  } else {
    const int64_t old_lo = offset_;
    const int64_t old_hi = static_cast<int64_t>(offset_) + size_ - 1;
    if (new_lo >= old_lo && new_hi <= old_hi) {
      return;
    }
    const int64_t slack = std::max<int64_t>(kMinSlack, size_ / 4);
    new_lo = new_lo < old_lo ? new_lo - slack : old_lo;
    new_hi = new_hi > old_hi ? new_hi + slack : old_hi;
  }
  const auto new_size = static_cast<size_t>(new_hi - new_lo + 1);
  const auto shift = static_cast<size_t>(size_ == 0 ? 0 : offset_ - new_lo);
  std::visit(
      [&](auto& v) {
        std::remove_reference_t<decltype(v)> grown(new_size);
        std::copy(v.begin(), v.end(), grown.begin() + static_cast<std::ptrdiff_t>(shift));
        v = std::move(grown);
      },
      counts_);
  offset_ = static_cast<int32_t>(new_lo);
  size_ = static_cast<int32_t>(new_size);
}

void BinStore::merge(const BinStore& other) {
  if (other.empty()) {
    return;
  }
  extend_to(other.min_key(), other.max_key());
  for_each_count(other.counts_, [&](size_t i, double count) {
    if (count > 0) {
      add(static_cast<int32_t>(other.offset_ + static_cast<int64_t>(i)), count);
    }
  });
}

double BinStore::count_at(int32_t key) const {
  const int64_t index = static_cast<int64_t>(key) - offset_;
  if (index < 0 || index >= size_) {
    return 0;
  }
  return std::visit(
      [index](const auto& v) { return static_cast<double>(v[static_cast<size_t>(index)]); },
      counts_);
}

bool BinStore::empty() const {
  return std::visit(
      [](const auto& v) { return std::all_of(v.begin(), v.end(), [](auto c) { return c == 0; }); },
      counts_);
}

int32_t BinStore::min_key() const {
  return std::visit(
      [this](const auto& v) {
        const auto it = std::find_if(v.begin(), v.end(), [](auto c) { return c != 0; });
        return static_cast<int32_t>(offset_ + (it - v.begin()));
      },
      counts_);
}

int32_t BinStore::max_key() const {
  return std::visit(
      [this](const auto& v) {
        const auto it = std::find_if(v.rbegin(), v.rend(), [](auto c) { return c != 0; });
        return static_cast<int32_t>(offset_ + (v.rend() - it) - 1);
      },
      counts_);
}

void BinStore::clear() {
  counts_ = Counts{};
  offset_ = 0;
  size_ = 0;
}

size_t BinStore::heap_bytes() const {
  return std::visit([](const auto& v) { return v.capacity() * sizeof(v[0]); }, counts_);
}

size_t BinStore::counter_bytes() const {
  return std::visit([](const auto& v) { return sizeof(v[0]); }, counts_);
}

bool BinStore::operator==(const BinStore& other) const {
  const bool this_empty = empty();
  if (this_empty || other.empty()) {
    return this_empty && other.empty();
  }
  const int32_t lo = min_key();
  const int32_t hi = max_key();
  if (lo != other.min_key() || hi != other.max_key()) {
    return false;
  }
  for (int64_t key = lo; key <= hi; ++key) {
    const auto k = static_cast<int32_t>(key);
    if (count_at(k) != other.count_at(k)) {
      return false;
    }
  }
  return true;
}

}  // namespace internal

QuantileSketch::QuantileSketch(double relative_accuracy) : relative_accuracy_(relative_accuracy) {
  TW_CHECK(within(relative_accuracy, kMinRelativeAccuracy, kMaxRelativeAccuracy),
           "QuantileSketch relative accuracy out of range");
  const double alpha = relative_accuracy * kAccuracyMargin;
  gamma_ = (1 + alpha) / (1 - alpha);
  inv_log_gamma_ = 1 / std::log(gamma_);
}

int32_t QuantileSketch::key_of(double magnitude) const {
  // Bucket i holds (γ^(i−1), γ^i]. |x| < 4e7 for every accepted accuracy and double, so the cast
  // is exact; a hand-written ceil avoids a libm call where the target lacks a rounding instruction.
  const double x = std::log(magnitude) * inv_log_gamma_;
  const auto truncated = static_cast<int32_t>(x);
  return truncated + (static_cast<double>(truncated) < x ? 1 : 0);
}

double QuantileSketch::representative(int32_t key) const {
  // 2γ^i/(γ+1) lies at relative distance exactly α from both ends of (γ^(i−1), γ^i]. Computed in
  // log space so that the top bucket (γ^i just above DBL_MAX) does not overflow before clamping.
  const double log_gamma = std::log(gamma_);
  return std::exp(static_cast<double>(key) * log_gamma + std::log(2 / (1 + gamma_)));
}

void QuantileSketch::add(double value, double weight) {
  TW_CHECK(valid_sample(value, weight),
           "QuantileSketch::add needs a finite value and a finite weight > 0");
  count_ += weight;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  if (value >= kMinIndexableValue) {
    positive_.add(key_of(value), weight);
  } else if (value <= -kMinIndexableValue) {
    negative_.add(key_of(-value), weight);
  } else {
    zero_count_ += weight;
  }
}

void QuantileSketch::merge(const QuantileSketch& other) {
  TW_CHECK(other.relative_accuracy_ == relative_accuracy_,
           "QuantileSketch::merge needs sketches of the same accuracy");
  if (other.empty()) {
    return;
  }
  count_ += other.count_;
  zero_count_ += other.zero_count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  positive_.merge(other.positive_);
  negative_.merge(other.negative_);
}

std::optional<double> QuantileSketch::quantile(double q) const {
  TW_CHECK(within(q, 0, 1), "QuantileSketch::quantile needs 0 <= q <= 1");
  if (empty()) {
    return std::nullopt;
  }
  if (q == 0) {
    return min_;
  }
  if (q == 1) {
    return max_;
  }
  double rank = q * count_;
  const double whole = std::round(rank);
  if (std::abs(rank - whole) <= kRankTolerance * count_) {
    rank = whole;
  }
  auto clamp = [this](double v) {
    return std::clamp(v, min_, max_);
  };
  // Ascending order: negatives from the largest magnitude down, then zero, then positives up.
  double cumulative = 0;
  if (!negative_.empty()) {
    const int32_t lowest = negative_.min_key();
    for (int64_t key = negative_.max_key(); key >= lowest; --key) {
      const double c = negative_.count_at(static_cast<int32_t>(key));
      cumulative += c;
      if (c > 0 && cumulative >= rank) {
        return clamp(-representative(static_cast<int32_t>(key)));
      }
    }
  }
  cumulative += zero_count_;
  if (zero_count_ > 0 && cumulative >= rank) {
    return clamp(0.0);
  }
  if (!positive_.empty()) {
    const int32_t highest = positive_.max_key();
    for (int64_t key = positive_.min_key(); key <= highest; ++key) {
      const double c = positive_.count_at(static_cast<int32_t>(key));
      cumulative += c;
      if (c > 0 && cumulative >= rank) {
        return clamp(representative(static_cast<int32_t>(key)));
      }
    }
  }
  // Only reachable when fractional weights make the bucket sum round below count_.
  return max_;
}

std::optional<double> QuantileSketch::min() const {
  return empty() ? std::nullopt : std::optional<double>(min_);
}

std::optional<double> QuantileSketch::max() const {
  return empty() ? std::nullopt : std::optional<double>(max_);
}

void QuantileSketch::clear() {
  count_ = 0;
  zero_count_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
  positive_.clear();
  negative_.clear();
}

size_t QuantileSketch::memory_bytes() const {
  return sizeof(*this) + positive_.heap_bytes() + negative_.heap_bytes();
}

bool QuantileSketch::operator==(const QuantileSketch& other) const {
  return relative_accuracy_ == other.relative_accuracy_ && count_ == other.count_ &&
         zero_count_ == other.zero_count_ && min_ == other.min_ && max_ == other.max_ &&
         positive_ == other.positive_ && negative_ == other.negative_;
}

namespace {

void serialize_store(const internal::BinStore& store, std::string& out) {
  if (store.empty()) {
    put_varint(out, 0);
    return;
  }
  const int32_t lo = store.min_key();
  const int32_t hi = store.max_key();
  put_varint(out, static_cast<uint64_t>(static_cast<int64_t>(hi) - lo + 1));
  put_varint(out, zigzag(lo));
  // The encoding follows the counts, not the in-memory width, so equal sketches encode equally.
  bool whole = true;
  for (int64_t key = lo; key <= hi && whole; ++key) {
    const double c = store.count_at(static_cast<int32_t>(key));
    whole = std::floor(c) == c && c <= kMaxExactInteger;
  }
  put_u8(out, whole ? kVarintCounts : kDoubleCounts);
  for (int64_t key = lo; key <= hi; ++key) {
    const double c = store.count_at(static_cast<int32_t>(key));
    if (whole) {
      put_varint(out, static_cast<uint64_t>(c));
    } else {
      put_f64(out, c);
    }
  }
}

// Reads one count in `encoding`; false when truncated or not a finite count ≥ 0.
bool read_count(Reader& in, uint8_t encoding, double& count) {
  if (encoding == kVarintCounts) {
    uint64_t whole = 0;
    if (!in.varint(whole)) {
      return false;
    }
    count = static_cast<double>(whole);
    return count <= kMaxExactInteger;
  }
  return in.f64(count) && within(count, 0, std::numeric_limits<double>::max());
}

// Reads one store into `store`, adding its total to `total`. Keys must lie in [min_key, max_key],
// the keys any finite value can have.
pipeline::Status deserialize_store(Reader& in, int32_t min_key, int32_t max_key,
                                   internal::BinStore& store, double& total) {
  uint64_t bins = 0;
  if (!in.varint(bins)) {
    return corrupt("truncated bucket count");
  }
  if (bins == 0) {
    return pipeline::Status::ok();
  }
  uint64_t first_raw = 0;
  uint8_t encoding = 0;
  if (!in.varint(first_raw) || !in.u8(encoding)) {
    return corrupt("truncated store header");
  }
  if (encoding != kVarintCounts && encoding != kDoubleCounts) {
    return corrupt("unknown count encoding");
  }
  // Each count takes at least one byte (eight as doubles): this bounds the allocation by the
  // input's size before anything is allocated.
  const uint64_t min_bytes = encoding == kVarintCounts ? 1 : 8;
  if (bins > in.remaining() / min_bytes) {
    return corrupt("bucket count exceeds the input");
  }
  const int64_t first = unzigzag(first_raw);
  const int64_t last = first + static_cast<int64_t>(bins) - 1;
  if (first < min_key || last > max_key) {
    return corrupt("bucket key out of range");
  }
  for (int64_t key = first; key <= last; ++key) {
    double count = 0;
    if (!read_count(in, encoding, count)) {
      return corrupt("truncated or invalid count");
    }
    if (count > 0) {
      store.add(static_cast<int32_t>(key), count);
      total += count;
    }
  }
  return pipeline::Status::ok();
}

// The fixed-size part of the encoding, after magic and version.
struct Header {
  double accuracy = 0;
  double count = 0;
  double zero_count = 0;
  double min = 0;
  double max = 0;
};

pipeline::Status read_header(Reader& in, Header& header) {
  uint8_t magic0 = 0;
  uint8_t magic1 = 0;
  uint8_t version = 0;
  if (!in.u8(magic0) || !in.u8(magic1) || !in.u8(version)) {
    return corrupt("truncated header");
  }
  if (magic0 != kMagic0 || magic1 != kMagic1) {
    return corrupt("bad magic");
  }
  if (version != kFormatVersion) {
    return corrupt("unsupported format version " + std::to_string(version));
  }
  if (!in.f64(header.accuracy) || !in.f64(header.count) || !in.f64(header.zero_count) ||
      !in.f64(header.min) || !in.f64(header.max)) {
    return corrupt("truncated header");
  }
  if (!within(header.accuracy, QuantileSketch::kMinRelativeAccuracy,
              QuantileSketch::kMaxRelativeAccuracy)) {
    return corrupt("relative accuracy out of range");
  }
  constexpr double kLargest = std::numeric_limits<double>::max();
  if (!within(header.count, 0, kLargest) || !within(header.zero_count, 0, kLargest)) {
    return corrupt("invalid counts");
  }
  return pipeline::Status::ok();
}

// Checks the header against what the stores hold, so that a restored sketch keeps every
// invariant quantile() relies on.
pipeline::Status check_consistency(const Header& header, double total, bool has_negative,
                                   bool has_positive) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr double kLargest = std::numeric_limits<double>::max();
  if (header.count == 0) {
    if (total != 0 || header.min != kInf || header.max != -kInf) {
      return corrupt("inconsistent empty sketch");
    }
    return pipeline::Status::ok();
  }
  if (std::abs(total - header.count) > kTotalTolerance * header.count) {
    return corrupt("bucket counts do not add up to the total");
  }
  if (!within(header.min, -kLargest, header.max) || !within(header.max, header.min, kLargest)) {
    return corrupt("invalid minimum or maximum");
  }
  const double tiny = QuantileSketch::kMinIndexableValue;
  if ((has_negative && header.min > -tiny) || (has_positive && header.max < tiny) ||
      (header.zero_count > 0 && (header.min >= tiny || header.max <= -tiny))) {
    return corrupt("minimum or maximum inconsistent with the buckets");
  }
  return pipeline::Status::ok();
}

}  // namespace

void QuantileSketch::serialize(std::string& out) const {
  put_u8(out, kMagic0);
  put_u8(out, kMagic1);
  put_u8(out, kFormatVersion);
  put_f64(out, relative_accuracy_);
  put_f64(out, count_);
  put_f64(out, zero_count_);
  put_f64(out, min_);
  put_f64(out, max_);
  serialize_store(positive_, out);
  serialize_store(negative_, out);
}

pipeline::Result<QuantileSketch> QuantileSketch::deserialize(std::string_view bytes) {
  Reader in(bytes);
  Header header;
  TW_RETURN_IF_ERROR(read_header(in, header));
  QuantileSketch sketch(header.accuracy);
  const int32_t min_key = sketch.key_of(kMinIndexableValue);
  const int32_t max_key = sketch.key_of(std::numeric_limits<double>::max());
  double total = header.zero_count;
  TW_RETURN_IF_ERROR(deserialize_store(in, min_key, max_key, sketch.positive_, total));
  TW_RETURN_IF_ERROR(deserialize_store(in, min_key, max_key, sketch.negative_, total));
  if (in.remaining() != 0) {
    return corrupt("trailing bytes");
  }
  TW_RETURN_IF_ERROR(
      check_consistency(header, total, !sketch.negative_.empty(), !sketch.positive_.empty()));
  if (header.count > 0) {
    sketch.count_ = header.count;
    sketch.zero_count_ = header.zero_count;
    sketch.min_ = header.min;
    sketch.max_ = header.max;
  }
  return sketch;
}

}  // namespace tw::operators
