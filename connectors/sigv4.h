#pragma once

/// AWS Signature Version 4 (SigV4): signs the HTTP requests that the action connectors send to
/// the AWS Query APIs (EC2, Auto Scaling, STS), with the signature in the `Authorization` header.
///
/// Contract:
/// - The caller builds the request (`SigV4Request`) exactly as it will be sent, with a `Host`
///   header, and passes the time as an `X-Amz-Date` string (`20150830T123600Z`). Nothing here
///   reads a clock: the time is an argument, so a test or a replay signs the same bytes every
///   time. A request whose time is more than about 5 minutes off the server's is rejected by AWS.
/// - Every header the caller passes is signed, except `authorization`, `user-agent`, `expect`
///   and `transfer-encoding` (which proxies and HTTP stacks may change or drop). The caller
///   decides what is signed by what it puts in the request: headers that libcurl adds on its
///   own (`Accept`, `Content-Length`) are not signed unless passed, and need not be.
/// - Paths are normalised (`.` and `..` segments removed, duplicate slashes collapsed), which is
///   right for every AWS service except S3. trailwatch never calls S3.
/// - `sign()` follows AWS's test suite (all 34 cases pass, see `sigv4_test.cc`), including its
///   header rules: names lower-cased, values trimmed with inner runs of whitespace collapsed to
///   one space (even inside quotes, and across obsolete folded lines), repeated headers joined
///   with `,` in request order.
/// - Pure functions, safe to call from any thread. Failures are Status values; no exception
///   leaves this file's functions.
///
/// Credentials are secrets: nothing here logs or formats them, and callers must not either (the
/// access key id is public and appears in the `Authorization` header; the secret never leaves
/// this process, only HMACs of it do).
///
/// Example (an EC2 StopInstances call):
///
///     SigV4Request request{.method = "POST", .path = "/",
///                          .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
///                                      {"Host", "ec2.us-east-1.amazonaws.com"}},
///                          .body = "Action=StopInstances&Version=2016-11-15&InstanceId.1=i-0"};
///     TW_RETURN_IF_ERROR(sign_in_place(request, credentials, "us-east-1", "ec2",
///                                      format_amz_date(clock.now())));
///     // request.headers now ends with X-Amz-Date, [X-Amz-Security-Token,] Authorization.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/status.h"

namespace tw::connectors {

/// The signing algorithm's name, the first word of the `Authorization` header.
inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";

/// An AWS access key pair, with the session token of temporary credentials.
struct AwsCredentials {
  std::string access_key_id;      ///< "AKIA…" (long-term) or "ASIA…" (temporary). Public.
  std::string secret_access_key;  ///< Secret; only HMACs of it leave the process.
  std::string session_token;      ///< Empty for long-term keys. Sent as X-Amz-Security-Token.
  /// When temporary credentials stop working (wall-clock time, from the credential source);
  /// nullopt for keys that do not expire. Signing does not look at it: refreshing is the
  /// credential source's job.
  std::optional<std::chrono::system_clock::time_point> expiration;

  bool operator==(const AwsCredentials&) const = default;
};

/// An HTTP request as it will be sent, the input to signing.
struct SigV4Request {
  std::string method;  ///< "GET", "POST", …; signed as given (AWS expects upper case).
  /// The path as it appears in the request line, without the query: already percent-encoded
  /// where the wire needs it, although raw spaces and UTF-8 bytes are accepted too. Empty means
  /// "/".
  std::string path;
  std::string query;  ///< The raw query string, without the '?'; empty when there is none.
  /// Headers in request order, names in any case. A name may repeat; its values are signed
  /// joined with ',' in this order. Must include `Host`.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< The exact body bytes; their SHA-256 is signed.

  bool operator==(const SigV4Request&) const = default;
};

/// The result of signing, with every intermediate value AWS's test suite checks.
struct SigV4Signature {
  std::string canonical_request;  ///< Step 1, no trailing newline.
  std::string string_to_sign;     ///< Step 2: algorithm, date, scope, hash of step 1.
  std::string signed_headers;     ///< "content-type;host;x-amz-date", as in `authorization`.
  std::string signature;          ///< 64 lower-case hex characters.
  std::string authorization;      ///< The `Authorization` header value.
  /// The headers to append to the request, in this order: `X-Amz-Date` when the request had
  /// none, `X-Amz-Security-Token` when the credentials carry a session token and the request
  /// had none (both were signed), then `Authorization`.
  std::vector<std::pair<std::string, std::string>> headers_to_add;
};

/// The canonical URI of a raw `path` (see `SigV4Request::path`): dot segments removed,
/// duplicate slashes collapsed, a trailing slash kept, empty -> "/"; then every byte but
/// `A-Za-z0-9-._~` and '/' written as %XX (upper-case hex). Nothing is decoded first, so an
/// escape already in the path is encoded again ("/a%20b" -> "/a%2520b"): AWS's "encode twice"
/// rule for every service but S3, since the server applies the same rule to the path it
/// receives.
std::string canonical_uri(std::string_view path);

/// The canonical query string of a raw `query`: split on '&' (empty pieces skipped), each piece
/// split at its first '=' (none -> empty value), key and value percent-decoded then encoded as
/// in `canonical_uri()` ('/' included), so that an escape already present stays one escape;
/// then sorted by key, then value, on the encoded bytes. '+' is a literal plus (-> %2B), not a
/// space: write spaces as %20. A malformed escape ("%zz") is kept as literal text.
std::string canonical_query(std::string_view query);

/// The `;`-joined, sorted, lower-case names of the headers of `request` that are signed.
std::string signed_headers(const SigV4Request& request);

/// The canonical request of `request` as it stands (nothing is added): method, canonical URI,
/// canonical query, one `name:value` line per signed header name, a blank line, the signed
/// header names, and the hex SHA-256 of the body, joined by '\n'.
std::string canonical_request(const SigV4Request& request);

/// "20150830/us-east-1/service/aws4_request" for `date` "20150830".
std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service);

/// The string to sign: kSigV4Algorithm, `amz_date`, `scope` and the hex SHA-256 of
/// `canonical_request`, joined by '\n'.
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

/// The derived signing key (32 raw bytes): HMAC-SHA256 chained from "AWS4" + `secret` over
/// `date` ("20150830"), `region`, `service` and "aws4_request". It depends only on the day, so a
/// caller may cache it per day, region and service.
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

/// `time` (UTC) as an `X-Amz-Date` value, "20150830T123600Z", to the second (truncated).
std::string format_amz_date(std::chrono::system_clock::time_point time);

/// Signs `request` as if the headers in `SigV4Signature::headers_to_add` (but `Authorization`)
/// were already appended; `request` itself is not changed.
///
/// Fails with invalid_argument, naming the problem, when: `amz_date` is not of the form
/// `YYYYMMDDTHHMMSSZ`; `region` or `service` is empty or holds '/' or whitespace; the access key
/// id is empty or holds '/', ',' or whitespace; the secret is empty; the request has no method
/// or no `Host` header; an `X-Amz-Date` header differs from `amz_date` (AWS checks the header,
/// so the signature would not match); or an `X-Amz-Security-Token` header differs from a
/// non-empty `credentials.session_token`. An `X-Amz-Security-Token` header with no token in
/// `credentials` is signed as any other header.
pipeline::Result<SigV4Signature> sign(const SigV4Request& request,
                                      const AwsCredentials& credentials, std::string_view region,
                                      std::string_view service, std::string_view amz_date);

/// `sign()`, then appends `headers_to_add` to `request.headers`. On failure `request` is
/// unchanged. Also fails with invalid_argument when `request` already has an `Authorization`
/// header: sign the unsigned request again instead (with a fresh `X-Amz-Date` for a retry).
pipeline::Status sign_in_place(SigV4Request& request, const AwsCredentials& credentials,
                               std::string_view region, std::string_view service,
                               std::string_view amz_date);

}  // namespace tw::connectors
