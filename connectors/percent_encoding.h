#pragma once

/// Percent-encoding (RFC 3986) as the connectors need it: URI components for SigV4 and
/// Kubernetes paths, form bodies for the AWS Query APIs, query strings of incoming requests. One
/// implementation, so the bytes that are signed and the bytes that are sent never differ.

#include <string>
#include <string_view>

namespace tw::connectors {

/// RFC 3986 unreserved characters: A–Z, a–z, 0–9, `-`, `.`, `_`, `~`.
bool is_unreserved(char c);

/// Appends `text` with every byte but the unreserved ones as `%XX` (upper-case hex). With
/// `keep_slash`, `/` stays as it is (a path); with `space_as_plus`, a space becomes `+` (an
/// `application/x-www-form-urlencoded` body).
void append_percent_encoded(std::string& out, std::string_view text, bool keep_slash = false,
                            bool space_as_plus = false);

/// `text` with its `%XX` escapes decoded; a malformed escape stays literal. With
/// `plus_is_space`, `+` decodes to a space (form and query-string encoding).
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace tw::connectors
