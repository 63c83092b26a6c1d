#include "connectors/sigv4.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <ctime>

#include "connectors/crypto.h"
#include "connectors/percent_encoding.h"

namespace tw::connectors {

using pipeline::Result;
using pipeline::Status;

namespace {

using HeaderView = std::pair<std::string_view, std::string_view>;

constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr std::size_t kAmzDateLength = 16;  // 20150830T123600Z
constexpr std::size_t kDateLength = 8;      // 20150830

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), ascii_lower);
  return lower;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// CR and LF count as whitespace so that an obsolete folded header ("a\r\n  b") reads as "a b",
// which is what AWS's get-header-value-multiline case expects.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool has_space_or_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7F;
  });
}

// Trimmed, with every inner run of whitespace replaced by one space. AWS collapses runs even
// inside quoted strings (get-header-value-trim), unlike HTTP's own rules.
std::string canonical_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (const char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
  }
  return out;
}

// Headers that proxies and HTTP stacks add, change or drop in transit (and the signature
// itself); signing them would make a correct signature fail at the server. botocore and the
// AWS SDKs leave out the same ones.
bool is_unsigned_header(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "transfer-encoding";
}

struct CanonicalHeaders {
  std::string block;  // "name:value\n" per signed name, sorted.
  std::string names;  // "name;name".
};

CanonicalHeaders canonicalize_headers(const std::vector<HeaderView>& headers) {
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    std::string lower = to_lower(name);
    if (!is_unsigned_header(lower)) {
      entries.emplace_back(std::move(lower), canonical_value(value));
    }
  }
  // Stable: repeated names keep request order, and AWS joins their values in that order.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders canonical;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const bool same_as_previous = i > 0 && entries[i].first == entries[i - 1].first;
    if (same_as_previous) {
      canonical.block.push_back(',');
    } else {
      if (i > 0) {
        canonical.block.push_back('\n');
        canonical.names.push_back(';');
      }
      canonical.block += entries[i].first;
      canonical.block.push_back(':');
      canonical.names += entries[i].first;
    }
    canonical.block += entries[i].second;
  }
  if (!entries.empty()) {
    canonical.block.push_back('\n');
  }
  return canonical;
}

std::vector<HeaderView> header_views(const SigV4Request& request) {
  std::vector<HeaderView> views;
  views.reserve(request.headers.size() + 2);
  for (const auto& [name, value] : request.headers) {
    views.emplace_back(name, value);
  }
  return views;
}

std::string build_canonical_request(const SigV4Request& request, const CanonicalHeaders& headers) {
  std::string text;
  text += request.method;
  text.push_back('\n');
  text += canonical_uri(request.path);
  text.push_back('\n');
  text += canonical_query(request.query);
  text.push_back('\n');
  text += headers.block;
  text.push_back('\n');
  text += headers.names;
  text.push_back('\n');
  text += sha256_hex(request.body);
  return text;
}

bool is_amz_date(std::string_view text) {
  if (text.size() != kAmzDateLength || text[kDateLength] != 'T' || text.back() != 'Z') {
    return false;
  }
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (i != kDateLength && (text[i] < '0' || text[i] > '9')) {
      return false;
    }
  }
  return true;
}

bool is_header_name(std::string_view name) {
  return !name.empty() && !has_space_or_control(name) && name.find(':') == std::string_view::npos;
}

Status validate(const SigV4Request& request, const AwsCredentials& credentials,
                std::string_view region, std::string_view service, std::string_view amz_date) {
  if (!is_amz_date(amz_date)) {
    return pipeline::invalid_argument("SigV4: the request time '" + std::string(amz_date) +
                                      "' is not of the form YYYYMMDDTHHMMSSZ");
  }
  if (region.empty() || has_space_or_control(region) || region.find('/') != std::string::npos) {
    return pipeline::invalid_argument("SigV4: the region '" + std::string(region) +
                                      "' is empty or holds '/' or whitespace");
  }
  if (service.empty() || has_space_or_control(service) || service.find('/') != std::string::npos) {
    return pipeline::invalid_argument("SigV4: the service name '" + std::string(service) +
                                      "' is empty or holds '/' or whitespace");
  }
  // The key id goes into "Credential=<id>/<scope>, ..."; these characters would break that list.
  const std::string_view key_id = credentials.access_key_id;
  if (key_id.empty() || has_space_or_control(key_id) ||
      key_id.find_first_of("/,") != std::string_view::npos) {
    return pipeline::invalid_argument(
        "SigV4: the access key id is empty or holds '/', ',' or whitespace");
  }
  if (credentials.secret_access_key.empty()) {
    return pipeline::invalid_argument("SigV4: the secret access key is empty");
  }
  // A token is sent as a header value; a line break in it would inject headers.
  if (has_space_or_control(credentials.session_token)) {
    return pipeline::invalid_argument("SigV4: the session token holds whitespace or controls");
  }
  if (request.method.empty() || has_space_or_control(request.method)) {
    return pipeline::invalid_argument("SigV4: the request method is empty or holds whitespace");
  }
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    if (!is_header_name(name)) {
      return pipeline::invalid_argument("SigV4: the header name '" + name +
                                        "' is empty or holds ':', whitespace or controls");
    }
    if (iequals(name, "host")) {
      has_host = has_host || !canonical_value(value).empty();
    } else if (iequals(name, "x-amz-date") && canonical_value(value) != amz_date) {
      return pipeline::invalid_argument("SigV4: the request's X-Amz-Date header '" + value +
                                        "' differs from the signing time '" +
                                        std::string(amz_date) + "'");
    } else if (iequals(name, "x-amz-security-token") && !credentials.session_token.empty() &&
               canonical_value(value) != credentials.session_token) {
      return pipeline::invalid_argument(
          "SigV4: the request's X-Amz-Security-Token header differs from the credentials' "
          "session token");
    }
  }
  if (!has_host) {
    return pipeline::invalid_argument("SigV4: the request has no Host header (it must be signed)");
  }
  return Status::ok();
}

bool has_header(const SigV4Request& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(),
                     [&](const auto& header) { return iequals(header.first, name); });
}

}  // namespace

std::string canonical_uri(std::string_view path) {
  // RFC 3986 remove_dot_segments, with empty segments dropped as well ("//" -> "/"). A path
  // ending in a slash, "." or ".." names a folder and keeps its trailing slash.
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    if (segment == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (last) {
      trailing_slash = segment.empty() || segment == "." || segment == "..";
      break;
    }
    start = end + 1;
  }
  std::string uri = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) {
      uri.push_back('/');
    }
    append_percent_encoded(uri, segments[i]);
  }
  if (trailing_slash && !segments.empty()) {
    uri.push_back('/');
  }
  return uri;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      const std::size_t equals = piece.find('=');
      const std::string_view key = piece.substr(0, equals);
      const std::string_view value =
          equals == std::string_view::npos ? std::string_view{} : piece.substr(equals + 1);
      std::string encoded_key;
      std::string encoded_value;
      append_percent_encoded(encoded_key, percent_decode(key, /*plus_is_space=*/false));
      append_percent_encoded(encoded_value, percent_decode(value, /*plus_is_space=*/false));
      params.emplace_back(std::move(encoded_key), std::move(encoded_value));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string canonical;
  for (const auto& [key, value] : params) {
    if (!canonical.empty()) {
      canonical.push_back('&');
    }
    canonical += key;
    canonical.push_back('=');
    canonical += value;
  }
  return canonical;
}

std::string signed_headers(const SigV4Request& request) {
  return canonicalize_headers(header_views(request)).names;
}

std::string canonical_request(const SigV4Request& request) {
  return build_canonical_request(request, canonicalize_headers(header_views(request)));
}

std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service) {
  std::string scope;
  scope.reserve(date.size() + region.size() + service.size() + kScopeTerminator.size() + 3);
  scope += date;
  scope.push_back('/');
  scope += region;
  scope.push_back('/');
  scope += service;
  scope.push_back('/');
  scope += kScopeTerminator;
  return scope;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string text;
  text += kSigV4Algorithm;
  text.push_back('\n');
  text += amz_date;
  text.push_back('\n');
  text += scope;
  text.push_back('\n');
  text += sha256_hex(canonical_request);
  return text;
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  std::string key = "AWS4";
  key += secret;
  key = hmac_sha256(key, date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  return hmac_sha256(key, kScopeTerminator);
}

std::string format_amz_date(std::chrono::system_clock::time_point time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time).time_since_epoch().count();
  const auto unix_time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  if (gmtime_r(&unix_time, &utc) == nullptr) {
    return {};
  }
  std::array<char, 32> text{};
  const std::size_t length = std::strftime(text.data(), text.size(), "%Y%m%dT%H%M%SZ", &utc);
  return {text.data(), length};
}

Result<SigV4Signature> sign(const SigV4Request& request, const AwsCredentials& credentials,
                            std::string_view region, std::string_view service,
                            std::string_view amz_date) {
  TW_RETURN_IF_ERROR(validate(request, credentials, region, service, amz_date));

  SigV4Signature result;
  if (!has_header(request, "x-amz-date")) {
    result.headers_to_add.emplace_back("X-Amz-Date", amz_date);
  }
  if (!credentials.session_token.empty() && !has_header(request, "x-amz-security-token")) {
    result.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  std::vector<HeaderView> headers = header_views(request);
  for (const auto& [name, value] : result.headers_to_add) {
    headers.emplace_back(name, value);
  }
  const CanonicalHeaders canonical_headers = canonicalize_headers(headers);

  const std::string_view date = amz_date.substr(0, kDateLength);
  const std::string scope = credential_scope(date, region, service);
  result.canonical_request = build_canonical_request(request, canonical_headers);
  result.string_to_sign = string_to_sign(amz_date, scope, result.canonical_request);
  result.signed_headers = canonical_headers.names;
  result.signature = hex_lower(hmac_sha256(
      signing_key(credentials.secret_access_key, date, region, service), result.string_to_sign));

  result.authorization = std::string(kSigV4Algorithm) + " Credential=" + credentials.access_key_id +
                         "/" + scope + ", SignedHeaders=" + result.signed_headers +
                         ", Signature=" + result.signature;
  result.headers_to_add.emplace_back("Authorization", result.authorization);
  return result;
}

Status sign_in_place(SigV4Request& request, const AwsCredentials& credentials,
                     std::string_view region, std::string_view service, std::string_view amz_date) {
  if (has_header(request, "authorization")) {
    return pipeline::invalid_argument(
        "SigV4: the request already has an Authorization header; sign the unsigned request");
  }
  TW_ASSIGN_OR_RETURN(SigV4Signature signature,
                      sign(request, credentials, region, service, amz_date));
  for (auto& header : signature.headers_to_add) {
    request.headers.push_back(std::move(header));
  }
  return Status::ok();
}

}  // namespace tw::connectors
