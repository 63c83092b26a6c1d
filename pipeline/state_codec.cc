#include "pipeline/state_codec.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace tw::pipeline {
namespace {

static_assert(std::endian::native == std::endian::little,
              "checkpoints are little-endian; a big-endian port needs byte swaps here");

}  // namespace

void StateWriter::u32(uint32_t v) {
  std::array<char, sizeof v> buf{};
  std::memcpy(buf.data(), &v, sizeof v);
  bytes_.append(buf.data(), buf.size());
}

void StateWriter::u64(uint64_t v) {
  std::array<char, sizeof v> buf{};
  std::memcpy(buf.data(), &v, sizeof v);
  bytes_.append(buf.data(), buf.size());
}

void StateWriter::f64(double v) {
  u64(std::bit_cast<uint64_t>(v));
}

void StateWriter::text(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  bytes_.append(s);
}

void StateWriter::optional_f64(const std::optional<double>& v) {
  boolean(v.has_value());
  if (v) {
    f64(*v);
  }
}

size_t StateWriter::begin_section() {
  const size_t at = bytes_.size();
  u32(0);
  return at;
}

void StateWriter::end_section(size_t begin) {
  const auto length = static_cast<uint32_t>(bytes_.size() - begin - sizeof(uint32_t));
  std::memcpy(bytes_.data() + begin, &length, sizeof length);
}

void StateWriter::entry(char kind, std::string_view key, std::string_view blob) {
  u8(static_cast<uint8_t>(kind));
  text(key);
  text(blob);
}

const char* StateReader::take(size_t n) {
  if (!ok()) {
    return nullptr;
  }
  if (n > remaining()) {
    fail("truncated: " + std::to_string(n) + " bytes needed at offset " +
         std::to_string(position_) + ", " + std::to_string(remaining()) + " left");
    return nullptr;
  }
  const char* p = bytes_.data() + position_;
  position_ += n;
  return p;
}

uint8_t StateReader::u8() {
  const char* p = take(1);
  return p == nullptr ? 0 : static_cast<uint8_t>(*p);
}

uint32_t StateReader::u32() {
  uint32_t v = 0;
  if (const char* p = take(sizeof v)) {
    std::memcpy(&v, p, sizeof v);
  }
  return v;
}

uint64_t StateReader::u64() {
  uint64_t v = 0;
  if (const char* p = take(sizeof v)) {
    std::memcpy(&v, p, sizeof v);
  }
  return v;
}

double StateReader::f64() {
  return std::bit_cast<double>(u64());
}

bool StateReader::boolean() {
  const uint8_t v = u8();
  if (v > 1) {
    fail("a boolean byte is " + std::to_string(v));
    return false;
  }
  return v == 1;
}

std::string_view StateReader::text() {
  const uint32_t n = u32();
  const char* p = take(n);
  return p == nullptr ? std::string_view() : std::string_view(p, n);
}

std::optional<double> StateReader::optional_f64() {
  if (!boolean()) {
    return std::nullopt;
  }
  return f64();
}

uint32_t StateReader::count(size_t min_element_bytes) {
  const uint32_t n = u32();
  if (ok() && min_element_bytes > 0 && n > remaining() / min_element_bytes) {
    fail("a count of " + std::to_string(n) + " at offset " + std::to_string(position_) +
         " does not fit in the " + std::to_string(remaining()) + " bytes left");
    return 0;
  }
  return ok() ? n : 0;
}

void StateReader::fail(std::string_view why) {
  if (error_.empty()) {
    error_ = why.empty() ? std::string("malformed") : std::string(why);
  }
  position_ = bytes_.size();
}

bool StateEntries::read(StateReader& reader) {
  while (reader.ok()) {
    const char kind = static_cast<char>(reader.u8());
    if (!reader.ok()) {
      break;
    }
    if (kind == 0) {
      return true;
    }
    const std::string_view key = reader.text();
    const std::string_view blob = reader.text();
    if (!reader.ok()) {
      break;
    }
    std::string index;
    index.reserve(key.size() + 1);
    index.push_back(kind);
    index.append(key);
    entries_[std::move(index)].push_back(blob);
  }
  return false;
}

std::span<const std::string_view> StateEntries::find_all(char kind, std::string_view key) const {
  std::string index;
  index.reserve(key.size() + 1);
  index.push_back(kind);
  index.append(key);
  const auto it = entries_.find(index);
  if (it == entries_.end()) {
    return {};
  }
  return it->second;
}

std::optional<std::string_view> StateEntries::find(char kind, std::string_view key) const {
  const std::span<const std::string_view> all = find_all(kind, key);
  if (all.empty()) {
    return std::nullopt;
  }
  return all.back();
}

uint32_t checksum(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large inputs in pieces.
  constexpr size_t kPiece = std::numeric_limits<uInt>::max() / 2;
  for (size_t at = 0; at < bytes.size(); at += kPiece) {
    const size_t n = std::min(kPiece, bytes.size() - at);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): zlib takes bytes as Bytef.
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(n));
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace tw::pipeline
