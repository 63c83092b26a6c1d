#include "detectors/json_text.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tw::detectors {
namespace {

enum ByteClass : uint8_t {
  kCopy,    // Printable ASCII other than `"` and `\`, and DEL: copied as it is.
  kEscape,  // Below 0x20, `"` and `\`.
  kUtf8,    // 0x80 and up: a UTF-8 sequence to check.
};

constexpr std::array<ByteClass, 256> kByteClass = [] {
  std::array<ByteClass, 256> classes{};
  for (size_t b = 0; b < classes.size(); ++b) {
    if (b < 0x20 || b == '"' || b == '\\') {
      classes[b] = kEscape;
    } else if (b >= 0x80) {
      classes[b] = kUtf8;
    } else {
      classes[b] = kCopy;
    }
  }
  return classes;
}();

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8.

unsigned char byte_at(std::string_view text, size_t i) {
  return static_cast<unsigned char>(text[i]);
}

// Whether any of the eight bytes of `word` is not kCopy: plain runs are scanned eight bytes at
// a time, most text being long runs of plain ASCII. has_zero(v) sets the high bit of each byte
// of v that is zero, and below_space that of each byte under 0x20 (it wraps when 0x20 is taken
// away); a borrow can also set the bit of a byte above one of those, which changes nothing for
// "any".
constexpr uint64_t kOnes = 0x0101'0101'0101'0101;
constexpr uint64_t kHighBits = 0x8080'8080'8080'8080;

constexpr uint64_t has_zero(uint64_t v) {
  return (v - kOnes) & ~v & kHighBits;
}

constexpr bool any_not_copied(uint64_t word) {
  const uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighBits;
  const uint64_t quote = has_zero(word ^ (kOnes * '"'));
  const uint64_t backslash = has_zero(word ^ (kOnes * '\\'));
  return ((word & kHighBits) | below_space | quote | backslash) != 0;
}

// Eight plain bytes with `b` in place of byte `position`.
constexpr uint64_t plain_with(uint64_t b, int position) {
  return ((kOnes * 'a') & ~(uint64_t{0xff} << (8 * position))) | (b << (8 * position));
}

static_assert(!any_not_copied(kOnes * 'a') && !any_not_copied(kOnes * ' ') &&
              !any_not_copied(kOnes * 0x7f));
static_assert(any_not_copied(plain_with('"', 0)) && any_not_copied(plain_with('\\', 7)) &&
              any_not_copied(plain_with(0x00, 5)) && any_not_copied(plain_with(0x1f, 3)) &&
              any_not_copied(plain_with(0x80, 4)) && any_not_copied(plain_with(0xff, 1)));

// The end of the run of kCopy bytes that starts at text[from].
size_t copy_run_end(std::string_view text, size_t from) {
  size_t end = from;
  while (end + 8 <= text.size()) {
    uint64_t word = 0;
    std::memcpy(&word, text.data() + end, sizeof(word));
    if (any_not_copied(word)) {
      break;
    }
    end += 8;
  }
  while (end < text.size() && kByteClass[byte_at(text, end)] == kCopy) {
    ++end;
  }
  return end;
}

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\r':
      out += "\\r";
      return;
    default:
      break;
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  const std::array<char, 6> escaped = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0x0fU]};
  out.append(escaped.data(), escaped.size());
}

struct Utf8Sequence {
  size_t length;  // Well-formed: the whole sequence; ill-formed: its maximal subpart (>= 1).
  bool valid;
};

// The UTF-8 sequence at text[at] (a byte >= 0x80), checked against Unicode's table of
// well-formed byte sequences (Table 3-7), the same one nlohmann's DFA encodes.
Utf8Sequence utf8_sequence(std::string_view text, size_t at) {
  const unsigned char lead = byte_at(text, at);
  size_t continuations = 0;
  // The range of the first continuation byte; the others are always 80..BF.
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead < 0xC2 || lead > 0xF4) {
    return {1, false};  // A continuation byte, an overlong two-byte lead, or beyond U+10FFFF.
  }
  if (lead <= 0xDF) {
    continuations = 1;
  } else if (lead <= 0xEF) {
    continuations = 2;
    if (lead == 0xE0) {
      low = 0xA0;  // Overlong below.
    } else if (lead == 0xED) {
      high = 0x9F;  // UTF-16 surrogates above.
    }
  } else {
    continuations = 3;
    if (lead == 0xF0) {
      low = 0x90;  // Overlong below.
    } else if (lead == 0xF4) {
      high = 0x8F;  // Beyond U+10FFFF above.
    }
  }
  size_t length = 1;
  while (length <= continuations && at + length < text.size()) {
    const unsigned char c = byte_at(text, at + length);
    if (c < low || c > high) {
      break;
    }
    low = 0x80;
    high = 0xBF;
    ++length;
  }
  return {length, length == continuations + 1};
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    // Runs of bytes that need nothing are appended in one piece.
    const size_t end = copy_run_end(text, i);
    out.append(text.data() + i, end - i);
    i = end;
    if (i == text.size()) {
      break;
    }
    if (kByteClass[byte_at(text, i)] == kEscape) {
      append_escape(out, byte_at(text, i));
      ++i;
      continue;
    }
    const Utf8Sequence sequence = utf8_sequence(text, i);
    if (sequence.valid) {
      out.append(text.data() + i, sequence.length);
    } else {
      out += kReplacementCharacter;
    }
    i += sequence.length;
  }
  out.push_back('"');
}

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
  return out;
}

}  // namespace tw::detectors
