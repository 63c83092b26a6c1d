#include "pipeline/series.h"

#include <algorithm>
#include <cstring>

namespace tw::pipeline {
namespace {

// 64-bit multiply-mix hash (the wyhash construction): keys are short (tens to a few hundred
// bytes) and hashed once per record, so a fast word-at-a-time hash pays off over std::hash.
inline uint64_t read64(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline uint64_t read32(const char* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline uint64_t mix(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64U);
}

constexpr uint64_t kSecret0 = 0xa0761d6478bd642fULL;
constexpr uint64_t kSecret1 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kSecret2 = 0x8ebc6af09c88c6e3ULL;
constexpr uint64_t kSecret3 = 0x589965cc75374cc3ULL;

bool read_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 35; shift += 7) {
    if (in.empty()) {
      return false;
    }
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7FU) << shift;
    if ((byte & 0x80U) == 0) {
      return true;
    }
  }
  return false;
}

bool read_part(std::string_view& in, std::string& out) {
  uint64_t len = 0;
  if (!read_varint(in, len) || len > in.size()) {
    return false;
  }
  out.assign(in.substr(0, len));
  in.remove_prefix(len);
  return true;
}

}  // namespace

uint64_t hash_series_key(std::string_view key) {
  const char* p = key.data();
  const size_t len = key.size();
  uint64_t seed = kSecret0 ^ mix(len ^ kSecret0, kSecret1);
  uint64_t a = 0;
  uint64_t b = 0;
  if (len <= 16) {
    if (len >= 4) {
      a = (read32(p) << 32U) | read32(p + ((len >> 3U) << 2U));
      b = (read32(p + len - 4) << 32U) | read32(p + len - 4 - ((len >> 3U) << 2U));
    } else if (len > 0) {
      a = (static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16U) |
          (static_cast<uint64_t>(static_cast<unsigned char>(p[len >> 1U])) << 8U) |
          static_cast<unsigned char>(p[len - 1]);
    }
  } else {
    size_t i = len;
    if (i > 48) {
      uint64_t see1 = seed;
      uint64_t see2 = seed;
      do {
        seed = mix(read64(p) ^ kSecret1, read64(p + 8) ^ seed);
        see1 = mix(read64(p + 16) ^ kSecret2, read64(p + 24) ^ see1);
        see2 = mix(read64(p + 32) ^ kSecret3, read64(p + 40) ^ see2);
        p += 48;
        i -= 48;
      } while (i > 48);
      seed ^= see1 ^ see2;
    }
    while (i > 16) {
      seed = mix(read64(p) ^ kSecret1, read64(p + 8) ^ seed);
      i -= 16;
      p += 16;
    }
    a = read64(p + i - 16);
    b = read64(p + i - 8);
  }
  return mix(kSecret1 ^ len, mix(a ^ kSecret1, b ^ seed));
}

namespace {

// Writes a varint at `out`; returns the position after it.
char* put_varint(char* out, uint64_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<char>((v & 0x7FU) | 0x80U);
    v >>= 7U;
  }
  *out++ = static_cast<char>(v);
  return out;
}

char* put_part(char* out, std::string_view part) {
  out = put_varint(out, part.size());
  std::memcpy(out, part.data(), part.size());
  return out + part.size();
}

}  // namespace

std::string_view SeriesKeyBuilder::build(std::string_view namespace_name,
                                         std::string_view metric_name, std::string_view account_id,
                                         std::string_view region,
                                         std::span<DimensionView> dimensions) {
  // Insertion sort: at most 30 dimensions, usually 0–3, often already sorted.
  for (size_t i = 1; i < dimensions.size(); ++i) {
    const DimensionView current = dimensions[i];
    size_t j = i;
    while (j > 0 && dimensions[j - 1].name > current.name) {
      dimensions[j] = dimensions[j - 1];
      --j;
    }
    dimensions[j] = current;
  }
  // One allocation-free pass: size the buffer for the worst case (10 varint bytes per part),
  // write the parts with memcpy, then trim. Keys are built once per record on the hot path.
  size_t bound = 4 * size_t{10} + namespace_name.size() + metric_name.size() + account_id.size() +
                 region.size() + 10;
  for (const DimensionView& d : dimensions) {
    bound += 20 + d.name.size() + d.value.size();
  }
  if (buffer_.size() < bound) {
    buffer_.resize(bound);
  }
  char* const start = buffer_.data();
  char* out = start;
  out = put_part(out, namespace_name);
  out = put_part(out, metric_name);
  out = put_part(out, account_id);
  out = put_part(out, region);
  out = put_varint(out, dimensions.size());
  for (const DimensionView& d : dimensions) {
    out = put_part(out, d.name);
    out = put_part(out, d.value);
  }
  return {start, static_cast<size_t>(out - start)};
}

std::string SeriesKeyBuilder::build_owned(std::string_view namespace_name,
                                          std::string_view metric_name, std::string_view account_id,
                                          std::string_view region,
                                          const std::vector<Dimension>& dimensions) {
  std::vector<DimensionView> views;
  views.reserve(dimensions.size());
  for (const Dimension& d : dimensions) {
    views.push_back(DimensionView{d.name, d.value});
  }
  return std::string(build(namespace_name, metric_name, account_id, region, views));
}

std::optional<SeriesParts> parse_series_key(std::string_view key) {
  SeriesParts parts;
  if (!read_part(key, parts.namespace_name) || !read_part(key, parts.metric_name) ||
      !read_part(key, parts.account_id) || !read_part(key, parts.region)) {
    return std::nullopt;
  }
  uint64_t count = 0;
  if (!read_varint(key, count) || count > 1000) {
    return std::nullopt;
  }
  for (uint64_t i = 0; i < count; ++i) {
    Dimension d;
    if (!read_part(key, d.name) || !read_part(key, d.value)) {
      return std::nullopt;
    }
    parts.dimensions.push_back(std::move(d));
  }
  if (!key.empty()) {
    return std::nullopt;
  }
  return parts;
}

SeriesInterner::SeriesInterner(size_t max_series) : max_series_(max_series), slots_(1024) {
}

size_t SeriesInterner::probe(std::string_view key, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  size_t i = static_cast<size_t>(hash) & mask;
  while (true) {
    const Slot& slot = slots_[i];
    if (slot.id_plus_one == 0) {
      return i;
    }
    if (slot.hash == hash) {
      const uint32_t id = slot.id_plus_one - 1;
      if (lengths_[id] == key.size() &&
          std::memcmp(arena_.data() + offsets_[id], key.data(), key.size()) == 0) {
        return i;
      }
    }
    i = (i + 1) & mask;
  }
}

std::optional<SeriesId> SeriesInterner::find(std::string_view key, uint64_t hash) const {
  const Slot& slot = slots_[probe(key, hash)];
  if (slot.id_plus_one == 0) {
    return std::nullopt;
  }
  return SeriesId{slot.id_plus_one - 1};
}

std::optional<SeriesId> SeriesInterner::intern(std::string_view key, uint64_t hash,
                                               bool beyond_limit) {
  size_t i = probe(key, hash);
  if (slots_[i].id_plus_one != 0) {
    return SeriesId{slots_[i].id_plus_one - 1};
  }
  if (offsets_.size() >= max_series_ && !beyond_limit) {
    return std::nullopt;
  }
  // Keep the load factor at or below one half so probe sequences stay short.
  if ((offsets_.size() + 1) * 2 > slots_.size()) {
    grow();
    i = probe(key, hash);
  }
  const auto id = static_cast<uint32_t>(offsets_.size());
  offsets_.push_back(arena_.size());
  lengths_.push_back(static_cast<uint32_t>(key.size()));
  arena_.append(key);
  slots_[i] = Slot{hash, id + 1};
  return SeriesId{id};
}

void SeriesInterner::grow() {
  const std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.id_plus_one == 0) {
      continue;
    }
    size_t i = static_cast<size_t>(slot.hash) & mask;
    while (slots_[i].id_plus_one != 0) {
      i = (i + 1) & mask;
    }
    slots_[i] = slot;
  }
}

std::string_view SeriesInterner::key(SeriesId id) const {
  return std::string_view(arena_).substr(offsets_.at(id.value), lengths_.at(id.value));
}

void SeriesInterner::add_reader(SeriesId id, int shard) {
  if (id.value >= reader_lists_.size()) {
    reader_lists_.resize(static_cast<size_t>(id.value) + 1);
  }
  std::vector<int>& readers = reader_lists_[id.value];
  if (std::find(readers.begin(), readers.end(), shard) == readers.end()) {
    readers.push_back(shard);
  }
}

size_t SeriesInterner::memory_bytes() const {
  return slots_.capacity() * sizeof(Slot) + arena_.capacity() +
         offsets_.capacity() * sizeof(uint64_t) + lengths_.capacity() * sizeof(uint32_t);
}

}  // namespace tw::pipeline
