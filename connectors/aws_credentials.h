#pragma once

/// AwsCredentialProvider: where the AWS action connectors (EC2, Auto Scaling) get the key pair
/// they sign with — the default credential chain of the AWS SDKs, in botocore's order, with
/// cached temporary credentials refreshed before they expire.
///
/// The chain. Sources are tried in this order; the first that is configured decides. A source
/// that is configured but fails (a key id without a secret, an unreadable token file, STS
/// refusing the token) is an error, not a reason to try the next one: silently falling through
/// would sign with some other identity than the one the operator set up.
///
/// 1. "environment": `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, with `AWS_SESSION_TOKEN`
///    (or the legacy `AWS_SECURITY_TOKEN`) and an optional ISO 8601 `AWS_CREDENTIAL_EXPIRATION`.
///    A key id without a secret is invalid_argument. (A secret or token without a key id is not
///    this source: botocore ignores them too.)
/// 2. "web_identity" (EKS IRSA): a token file from `AWS_WEB_IDENTITY_TOKEN_FILE` and a role from
///    `AWS_ROLE_ARN`, each falling back to the profile's `web_identity_token_file` and `role_arn`
///    in the config file. Configured when there is a token file; a token file without a role is
///    invalid_argument. The token file is read again for every call (the kubelet rotates it; a
///    trailing line break is dropped) and exchanged, unsigned, through STS
///    AssumeRoleWithWebIdentity. The session name is `AWS_ROLE_SESSION_NAME`, else the profile's
///    `role_session_name`, else `trailwatch-<unix seconds>`. No `DurationSeconds` is sent (STS's
///    default, one hour, capped by the role).
/// 3. "shared_file": the profile `AWS_PROFILE` (default `default`) of the credentials file
///    (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`; sections `[name]`), then of the
///    config file (`AWS_CONFIG_FILE`, else `~/.aws/config`; sections `[profile name]`, and
///    `[default]`). Keys `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`. As in
///    botocore, the first file whose profile has a key id supplies the whole triple (so the
///    credentials file wins); the files are not merged key by key. A missing file is skipped; an
///    unreadable one is an error. A profile named by `AWS_PROFILE` that neither file has is
///    not_found (botocore refuses it too). INI is read tolerantly: blank lines, `#` and `;`
///    comment lines, a `#`/`;` comment after whitespace at the end of a value, whitespace around
///    names, keys in any case, indented sub-properties (skipped); a repeated key or section: the
///    last value wins. Profiles that assume a role from another profile (`source_profile`,
///    `credential_source`), SSO and `credential_process` are not supported: such a profile yields
///    nothing here and the chain goes on.
/// 4. "container" (ECS task roles, EKS Pod Identity): `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
///    (`http://169.254.170.2` + path) or else `AWS_CONTAINER_CREDENTIALS_FULL_URI`, see
///    container_credentials_url(). `GET` with `Accept: application/json` and, when there is one,
///    `Authorization:` the content of `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read again for
///    every fetch; a trailing line break is dropped) or else the value of
///    `AWS_CONTAINER_AUTHORIZATION_TOKEN`, verbatim (no `Bearer`); a token with CR or LF inside
///    is invalid_argument. The reply is JSON `{AccessKeyId, SecretAccessKey, Token,
///    Expiration}`; all four are required.
///
/// EC2 instance metadata (IMDS) is deliberately not a source: trailwatch runs in containers and
/// Kubernetes, where IMDS is usually blocked or needs a hop limit of 2. On EC2, use the
/// container endpoint or environment variables. When no source is configured, get() is
/// not_found and the message names every source and file it looked at.
///
/// Caching and refresh (botocore's rules). Credentials without an expiration are kept for the
/// life of the provider (edit a credentials file: restart). Temporary credentials are refreshed
/// from the source that produced them:
/// - more than 15 minutes left: the cached ones are returned, nothing is read;
/// - 15 minutes or less (advisory): one caller refreshes; callers that find a refresh already
///   running get the cached credentials without waiting, and if the refresh fails the cached
///   ones are returned (they still have over 10 minutes) and the failure is kept in
///   last_refresh_error();
/// - 10 minutes or less, or expired (mandatory): callers wait for the refresh, and its failure is
///   get()'s error even when the old credentials have a few minutes left, as in botocore —
///   signing with credentials about to expire only moves the failure to the AWS call.
/// Fresh credentials that are already expired are an error (failed_precondition).
///
/// No retries inside: one failed STS or container call is one failed get(). The action
/// dispatcher retries deliveries with backoff, and the next get() tries the source again. The
/// source sticks once it has produced credentials; until then every get() walks the chain.
///
/// Failure codes: not_found (no source, or a missing profile); invalid_argument (bad
/// configuration: partial keys, a token file without a role, an empty token file, a refused
/// container URL, a token with a line break, an unreadable AWS_CREDENTIAL_EXPIRATION);
/// unavailable (transport failures, HTTP 5xx and 429, retryable STS errors, a token or shared
/// file that exists but cannot be read, a token file that does not exist); out_of_range (a file
/// over 1 MiB); failed_precondition (other STS or container refusals, such as an invalid token
/// or a forbidden role; fresh credentials already expired); data_loss (a 200 reply without
/// usable credentials).
///
/// Secrets: no secret access key, session token, web identity token or authorization token ever
/// appears in a Status message (an STS error message that echoes the token is redacted). Key
/// ids, role ARNs, file paths and endpoint URLs (without their query) may.
///
/// Threading: AwsCredentialProvider is thread-safe; share one per process (credentials_source()).
/// get() returns a copy, so every signer gets a consistent (key, secret, token) triple. One
/// refresh runs at a time. The injected `getenv` and `now` must be safe to call from any thread.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/http_client.h"
#include "connectors/sigv4.h"
#include "pipeline/status.h"

namespace tw::connectors {

/// Everything the provider reads from outside, injectable for tests.
struct CredentialEnvironment {
  /// An environment variable's value, nullopt when unset. Empty values count as unset, as in
  /// botocore. Unset here: the process environment.
  std::function<std::optional<std::string>(std::string_view)> getenv;
  /// Wall-clock time, for expirations and the default session name. Unset: the system clock.
  std::function<std::chrono::system_clock::time_point()> now;
  /// The home folder of `~/.aws/*` and of a leading `~/` in file variables. Empty: `$HOME`
  /// (through `getenv`).
  std::string home;
  /// The region of the STS endpoint when neither `AWS_REGION` nor `AWS_DEFAULT_REGION` is set
  /// (the cluster's region, which EKS injects, is the best STS endpoint); after it the profile's
  /// `region`; with none at all, the global endpoint `https://sts.amazonaws.com`.
  std::string region;
  /// The STS endpoint (scheme, host, optional port and path); empty: see sts_endpoint().
  std::string sts_endpoint;
  std::chrono::milliseconds sts_timeout{5'000};
  /// botocore's timeout for the container endpoint, which is local.
  std::chrono::milliseconds container_timeout{2'000};
};

/// The names source() reports.
inline constexpr std::string_view kEnvironmentSource = "environment";
inline constexpr std::string_view kWebIdentitySource = "web_identity";
inline constexpr std::string_view kSharedFileSource = "shared_file";
inline constexpr std::string_view kContainerSource = "container";

/// Temporary credentials with this much time left or less are refreshed, failures tolerated.
inline constexpr std::chrono::minutes kAdvisoryRefreshWindow{15};
/// Temporary credentials with this much time left or less are refreshed, failures returned.
inline constexpr std::chrono::minutes kMandatoryRefreshWindow{10};

class AwsCredentialProvider {
 public:
  /// Reads nothing yet: the chain is walked by the first get().
  explicit AwsCredentialProvider(CredentialEnvironment env = {});
  ~AwsCredentialProvider();
  AwsCredentialProvider(const AwsCredentialProvider&) = delete;
  AwsCredentialProvider& operator=(const AwsCredentialProvider&) = delete;
  AwsCredentialProvider(AwsCredentialProvider&&) = delete;
  AwsCredentialProvider& operator=(AwsCredentialProvider&&) = delete;

  /// The current credentials, cached and refreshed as the file comment describes. Blocks for
  /// file reads and, when a refresh is due, for one HTTP call (at most the source's timeout).
  [[nodiscard]] pipeline::Result<AwsCredentials> get();

  /// The source of the cached credentials (kEnvironmentSource, …); empty before the first
  /// success. For logs and tests.
  [[nodiscard]] std::string source() const;

  /// The failure of the latest refresh, ok when it succeeded (or none ran). The only place an
  /// advisory refresh's failure shows. Never holds a secret.
  [[nodiscard]] pipeline::Status last_refresh_error() const;

 private:
  enum class Source { kNone, kEnvironment, kWebIdentity, kSharedFile, kContainer };
  struct Resolved;

  static std::string_view name_of(Source source);

  /// Reads `source` (kNone: walks the chain). Called with refresh_mutex_ held.
  pipeline::Result<Resolved> resolve(Source source);
  /// One source: nullopt when it is not set up (the chain goes on).
  pipeline::Result<std::optional<AwsCredentials>> read_source(Source source);
  /// Resolves, checks, caches; records the outcome. Called with refresh_mutex_ held.
  pipeline::Result<AwsCredentials> refresh();

  pipeline::Result<std::optional<AwsCredentials>> from_environment() const;
  pipeline::Result<std::optional<AwsCredentials>> from_web_identity();
  pipeline::Result<std::optional<AwsCredentials>> from_shared_files() const;
  pipeline::Result<std::optional<AwsCredentials>> from_container();

  const CredentialEnvironment env_;

  /// Held for a whole refresh, so only one runs; guards http_.
  std::mutex refresh_mutex_;
  HttpClient http_;

  /// Held briefly; guards the three fields below.
  mutable std::mutex state_mutex_;
  std::optional<AwsCredentials> cached_;
  Source source_ = Source::kNone;
  pipeline::Status last_error_;
};

/// An AwsCredentialsSource (connectors/action_connectors.h) over a shared provider: each call is
/// `provider->get()`.
std::function<pipeline::Result<AwsCredentials>()> credentials_source(
    std::shared_ptr<AwsCredentialProvider> provider);

/// The STS endpoint, highest first: `env.sts_endpoint`; `AWS_ENDPOINT_URL_STS`;
/// `AWS_ENDPOINT_URL` (these two are ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is
/// `true`); `https://sts.REGION.amazonaws.com` (`.amazonaws.com.cn` for `cn-*` regions; always
/// the regional endpoint, the SDKs' default); `https://sts.amazonaws.com` when `region` is
/// empty. invalid_argument when `region` holds anything but `a-z`, `0-9` and `-` (it becomes a
/// host name).
pipeline::Result<std::string> sts_endpoint(const CredentialEnvironment& env,
                                           std::string_view region);

/// The region of the STS endpoint: `AWS_REGION`, `AWS_DEFAULT_REGION`, `env.region`, the
/// profile's `region` in the config file (an unreadable file is skipped); empty when none is set.
std::string sts_region(const CredentialEnvironment& env);

/// The URL of the container credentials endpoint: `http://169.254.170.2` + `relative_uri` when
/// that is not empty, else `full_uri`, which must be `https://…` (any host), or `http://` to a
/// host that is a loopback address (`127.0.0.0/8`, `::1`, `localhost`), `169.254.170.2` (ECS),
/// `169.254.170.23` or `fd00:ec2::23` (EKS Pod Identity). Host names other than `localhost` are
/// not resolved, so they are refused over http; so are URLs with user information, other
/// schemes, and malformed hosts (invalid_argument, naming the URL, before any request).
/// not_found when both are empty.
pipeline::Result<std::string> container_credentials_url(std::string_view relative_uri,
                                                        std::string_view full_uri);

}  // namespace tw::connectors
