#pragma once

/// Hashing and message authentication for request signing (AWS Signature Version 4, webhook
/// signatures), on OpenSSL's libcrypto.
///
/// Contract:
/// - Byte strings in and out: `std::string`/`std::string_view` hold arbitrary bytes, NULs
///   included. The "raw" functions return the digest bytes; `hex_lower()` turns them into text.
/// - Pure functions of their arguments, safe to call from any thread at once (OpenSSL 3 needs no
///   locking setup).
/// - No exception leaves these functions. OpenSSL failing to hash (out of memory, a library
///   built without SHA-256) is not something input can cause; it stops the process through
///   `TW_CHECK` rather than yielding a wrong digest that would surface later as a rejected
///   signature.
///
/// Example:
///
///     std::string mac = hmac_sha256(secret, body);
///     bool valid = constant_time_equal(hex_lower(mac), received_signature_hex);

#include <string>
#include <string_view>

namespace tw::connectors {

/// The SHA-256 digest of `data`: 32 raw bytes.
std::string sha256(std::string_view data);

/// The SHA-256 digest of `data` as 64 lower-case hex characters.
std::string sha256_hex(std::string_view data);

/// HMAC-SHA256 (RFC 2104) of `data` under `key`: 32 raw bytes. Any key length is accepted; a
/// key longer than SHA-256's 64-byte block is hashed first, as the RFC says.
std::string hmac_sha256(std::string_view key, std::string_view data);

/// `bytes` as lower-case hex, two characters per byte ("\x00\xff" -> "00ff").
std::string hex_lower(std::string_view bytes);

/// Whether `a` and `b` hold the same bytes, in time that depends only on their lengths, never on
/// where they first differ. Use it to check a received MAC or signature. Strings of different
/// lengths compare unequal at once: the length of a MAC is public.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace tw::connectors
