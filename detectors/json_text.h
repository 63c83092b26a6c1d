#pragma once

/// JSON string literals written straight into text, for the payloads, reason data and datapoint
/// lines that detectors/ builds piece by piece instead of through a JSON DOM (a DOM and its dump
/// cost several allocations per value, and payloads are built on every state transition).
///
/// The output is byte for byte what nlohmann::json's `dump(-1, ' ', false,
/// error_handler_t::replace)` writes for the same string, which is what these texts were
/// written with before and what their golden files hold:
///  - `"` and `\` are escaped as `\"` and `\\`;
///  - 0x08, 0x09, 0x0a, 0x0c and 0x0d as `\b`, `\t`, `\n`, `\f` and `\r`, the other bytes below
///    0x20 as `\u00XX` with lowercase hex digits; 0x7f (DEL) and everything else stay as they
///    are: `/` is not escaped and valid UTF-8 is copied unchanged, not `\u`-escaped;
///  - text that is not valid UTF-8 never throws: each maximal ill-formed subsequence (Unicode's
///    "maximal subpart" practice, §3.9 U+FFFD substitution) becomes one U+FFFD (EF BF BD). A
///    byte that cannot start a sequence (80–C1, F5–FF) is one; a valid lead byte followed by
///    fewer continuation bytes than it needs, up to the first byte that cannot continue it or
///    the end of the text, is one, and that byte is then read afresh. Overlong forms, UTF-16
///    surrogates (ED A0–BF ..) and code points above U+10FFFF are ill-formed.
///
/// Example: `append_json_string(out, "a\"b\n\xff")` appends `"a\"b\n` then EF BF BD then `"`.

#include <string>
#include <string_view>

namespace tw::detectors {

/// Appends `text` to `out` as a JSON string literal, quotes included (see above).
void append_json_string(std::string& out, std::string_view text);

/// `text` as a JSON string literal, quotes included: append_json_string on an empty string.
std::string json_string(std::string_view text);

}  // namespace tw::detectors
