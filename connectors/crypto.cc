#include "connectors/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>

#include "pipeline/status.h"

namespace tw::connectors {

namespace {

constexpr std::size_t kSha256Bytes = 32;
constexpr std::size_t kSha256BlockBytes = 64;

// OpenSSL's HMAC path treats a null key pointer as "keep the previous key" rather than "empty
// key", and a string_view of "" may carry a null pointer; every pointer handed to OpenSSL points
// at real memory, even for zero bytes.
const unsigned char* bytes_of(std::string_view s) {
  static constexpr unsigned char kNoBytes = 0;
  // OpenSSL's API takes unsigned char; the bytes are the same.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  return s.data() == nullptr ? &kNoBytes : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string sha256(std::string_view data) {
  std::array<unsigned char, kSha256Bytes> digest{};
  unsigned int length = 0;
  const int ok =
      EVP_Digest(bytes_of(data), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  TW_CHECK(ok == 1, "OpenSSL could not compute a SHA-256 digest");
  TW_CHECK(length == kSha256Bytes, "OpenSSL returned a SHA-256 digest of the wrong size");
  return {digest.begin(), digest.end()};
}

std::string sha256_hex(std::string_view data) {
  return hex_lower(sha256(data));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  // HMAC() takes the key length as an int. RFC 2104 replaces a key longer than the block by its
  // hash, so doing that here gives the same MAC and keeps every length small.
  std::string hashed_key;
  if (key.size() > kSha256BlockBytes) {
    hashed_key = sha256(key);
    key = hashed_key;
  }
  std::array<unsigned char, kSha256Bytes> mac{};
  unsigned int length = 0;
  const unsigned char* result = HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()),
                                     bytes_of(data), data.size(), mac.data(), &length);
  TW_CHECK(result != nullptr, "OpenSSL could not compute an HMAC-SHA256");
  TW_CHECK(length == kSha256Bytes, "OpenSSL returned an HMAC-SHA256 of the wrong size");
  return {mac.begin(), mac.end()};
}

std::string hex_lower(std::string_view bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex.push_back(kDigits[byte >> 4U]);
    hex.push_back(kDigits[byte & 0x0FU]);
  }
  return hex;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(bytes_of(a), bytes_of(b), a.size()) == 0;
}

}  // namespace tw::connectors
