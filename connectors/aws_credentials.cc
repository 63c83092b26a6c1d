#include "connectors/aws_credentials.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "connectors/action_payloads.h"
#include "connectors/process_environment.h"
#include "pipeline/time.h"

namespace tw::connectors {

using pipeline::Result;
using pipeline::Status;
using Clock = std::chrono::system_clock;

namespace {

// Token files hold a JWT (STS accepts up to 20000 bytes); shared files are hand-written. Anything
// larger is not what we are looking for, and reading it whole would let a bad mount cost memory.
constexpr size_t kMaxFileBytes = size_t{1} << 20;

// AWS error messages are for humans; a proxy's HTML page is not, and would flood the log.
constexpr size_t kMaxPeerMessage = 300;

constexpr std::string_view kEcsHost = "http://169.254.170.2";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n\f\v");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(first, last - first + 1);
}

// Token files are often written with `echo`; the trailing line break is not part of the token.
std::string drop_trailing_line_breaks(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

std::string cap(std::string_view s) {
  if (s.size() <= kMaxPeerMessage) {
    return std::string(s);
  }
  return std::string(s.substr(0, kMaxPeerMessage)) + "…";
}

// Replaces every occurrence of `secret` in `text`: a peer's error message may quote what it was
// sent, and the message ends up in logs. Applied to what the peer wrote (before cutting it to
// length, so no prefix of a secret survives), not to our own text around it.
std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) {
    return text;
  }
  for (size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + 10)) {
    text.replace(pos, secret.size(), "[redacted]");
  }
  return text;
}

// The URL without its query and fragment, for error messages.
std::string url_for_message(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

Clock::time_point to_time_point(pipeline::EventTime t) {
  return Clock::time_point(std::chrono::milliseconds(t.millis()));
}

/// A small file's content; nullopt when it does not exist. Other failures are errors naming
/// `what` and the path, never the content.
Result<std::optional<std::string>> read_small_file(const std::string& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // NOLINT(*-vararg)
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) {
      return std::optional<std::string>();
    }
    return pipeline::unavailable("cannot read the " + std::string(what) + " '" + path +
                                 "': " + std::generic_category().message(error));
  }
  std::string content;
  std::array<char, 8192> buf{};
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) {
        continue;
      }
      ::close(fd);
      return pipeline::unavailable("cannot read the " + std::string(what) + " '" + path +
                                   "': " + std::generic_category().message(error));
    }
    if (n == 0) {
      break;
    }
    content.append(buf.data(), static_cast<size_t>(n));
    if (content.size() > kMaxFileBytes) {
      ::close(fd);
      return pipeline::out_of_range("the " + std::string(what) + " '" + path + "' is larger than " +
                                    std::to_string(kMaxFileBytes) + " bytes");
    }
  }
  ::close(fd);
  return std::optional<std::string>(std::move(content));
}

/// Like read_small_file() for a file that must exist: a missing one is unavailable too (a token
/// file is mounted by the kubelet and may be late at pod start, so retrying can help).
Result<std::string> read_required_file(const std::string& path, std::string_view what) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string> content, read_small_file(path, what));
  if (!content) {
    return pipeline::unavailable("the " + std::string(what) + " '" + path + "' does not exist");
  }
  return std::move(*content);
}

/// Profiles of an AWS shared file: profile name -> (lower-case key -> value).
using IniProfiles = std::map<std::string, std::map<std::string, std::string>>;

/// The profile a section header names, or nullopt for sections that are not profiles. In the
/// config file profiles are `[profile name]` (and `[default]`, or `[profile default]`); other
/// sections there (`[sso-session x]`, `[services x]`) are not profiles.
std::optional<std::string> section_profile(std::string_view section, bool config_file) {
  section = trim(section);
  if (!config_file) {
    return std::string(section);
  }
  if (section == "default") {
    return std::string(section);
  }
  constexpr std::string_view kProfile = "profile";
  if (section.substr(0, kProfile.size()) == kProfile && section.size() > kProfile.size() &&
      (section[kProfile.size()] == ' ' || section[kProfile.size()] == '\t')) {
    return std::string(trim(section.substr(kProfile.size())));
  }
  return std::nullopt;
}

IniProfiles parse_ini(std::string_view text, bool config_file) {
  IniProfiles profiles;
  std::map<std::string, std::string>* current = nullptr;
  bool in_nested = false;  // Inside the indented sub-properties of a key with an empty value.
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const std::string_view raw = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    const bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (indented && in_nested) {
      continue;
    }
    in_nested = false;
    if (line.front() == '[') {
      const auto close = line.find(']');
      current = nullptr;
      if (close == std::string_view::npos) {
        continue;  // A broken header: skip its section rather than merge it into the last one.
      }
      if (auto name = section_profile(line.substr(1, close - 1), config_file)) {
        current = &profiles[*name];
      }
      continue;
    }
    const auto eq = line.find('=');
    if (current == nullptr || eq == std::string_view::npos) {
      continue;
    }
    std::string_view value = trim(line.substr(eq + 1));
    // A comment after a value must follow whitespace: `#` and `;` may occur inside values.
    for (size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
        value = trim(value.substr(0, i));
        break;
      }
    }
    if (value.empty()) {
      in_nested = true;
    }
    (*current)[lower(trim(line.substr(0, eq)))] = std::string(value);
  }
  return profiles;
}

/// A value of `profile`, empty when absent.
std::string ini_value(const IniProfiles& profiles, const std::string& profile,
                      const std::string& key) {
  const auto p = profiles.find(profile);
  if (p == profiles.end()) {
    return {};
  }
  const auto v = p->second.find(key);
  return v == p->second.end() ? std::string() : v->second;
}

bool is_loopback_or_agent(std::string_view host) {
  if (host == "localhost") {
    return true;
  }
  const std::string text(host);
  std::array<unsigned char, 16> addr{};
  if (::inet_pton(AF_INET, text.c_str(), addr.data()) == 1) {
    const bool loopback = addr[0] == 127;
    const bool ecs = addr[0] == 169 && addr[1] == 254 && addr[2] == 170 && addr[3] == 2;
    const bool pod_identity = addr[0] == 169 && addr[1] == 254 && addr[2] == 170 && addr[3] == 23;
    return loopback || ecs || pod_identity;
  }
  if (::inet_pton(AF_INET6, text.c_str(), addr.data()) == 1) {
    constexpr std::array<unsigned char, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                      0, 0, 0, 0, 0, 0, 0, 1};
    constexpr std::array<unsigned char, 16> kPodIdentity{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
                                                         0,    0,    0,    0,    0, 0, 0, 0x23};
    return addr == kLoopback || addr == kPodIdentity;
  }
  return false;
}

/// The message of a JSON error reply `{"code": …, "message": …}` (the container endpoint's), or
/// the start of the body when it is not one.
std::string json_error_text(std::string_view body) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string out;
  if (doc.is_object()) {
    for (const char* key : {"code", "message"}) {
      const auto it = doc.find(key);
      if (it != doc.end() && it->is_string()) {
        out += (out.empty() ? "" : ": ") + it->get<std::string>();
      }
    }
  }
  return cap(out);
}

/// A string member of the container endpoint's reply; data_loss naming the member (never its
/// value) when it is missing, not a string or empty.
Result<std::string> json_member(const nlohmann::json& doc, const char* name,
                                std::string_view what) {
  const auto it = doc.find(name);
  if (it == doc.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return pipeline::data_loss(std::string(what) + ": the reply has no " + name);
  }
  return it->get<std::string>();
}

bool is_retryable_http(int status) {
  return status == 429 || status >= 500;
}

CredentialEnvironment with_defaults(CredentialEnvironment env) {
  if (!env.getenv) {
    env.getenv = &process_environment;
  }
  if (!env.now) {
    env.now = [] {
      return Clock::now();
    };
  }
  return env;
}

/// Reads variables and shared files of one CredentialEnvironment.
class Lookup {
 public:
  explicit Lookup(const CredentialEnvironment& env) : env_(env) {}

  /// The variable's value; empty when unset.
  [[nodiscard]] std::string var(std::string_view name) const {
    std::optional<std::string> v = env_.getenv(name);
    return v ? *v : std::string();
  }

  [[nodiscard]] std::string home() const { return env_.home.empty() ? var("HOME") : env_.home; }

  /// The path in `variable`, with a leading `~/` expanded, else `~/.aws/<file>`; empty when
  /// neither can be known (no home).
  [[nodiscard]] std::string path(std::string_view variable, std::string_view file) const {
    std::string p = var(variable);
    const std::string h = home();
    if (p.empty()) {
      return h.empty() ? std::string() : h + "/.aws/" + std::string(file);
    }
    if (p == "~" || (p.size() >= 2 && p[0] == '~' && p[1] == '/')) {
      return h.empty() ? p : h + p.substr(1);
    }
    return p;
  }

  [[nodiscard]] std::string credentials_path() const {
    return path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  }

  [[nodiscard]] std::string config_path() const { return path("AWS_CONFIG_FILE", "config"); }

  [[nodiscard]] std::string profile() const {
    const std::string p = var("AWS_PROFILE");
    return p.empty() ? std::string("default") : p;
  }

  /// The profiles of a shared file; nullopt when the file does not exist.
  [[nodiscard]] static Result<std::optional<IniProfiles>> load(const std::string& path,
                                                               bool config_file) {
    if (path.empty()) {
      return std::optional<IniProfiles>();
    }
    TW_ASSIGN_OR_RETURN(
        std::optional<std::string> text,
        read_small_file(path, config_file ? "AWS config file" : "AWS shared credentials file"));
    if (!text) {
      return std::optional<IniProfiles>();
    }
    return std::optional<IniProfiles>(parse_ini(*text, config_file));
  }

 private:
  const CredentialEnvironment& env_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

Result<std::string> sts_endpoint(const CredentialEnvironment& env, std::string_view region) {
  if (!env.sts_endpoint.empty()) {
    return env.sts_endpoint;
  }
  const CredentialEnvironment full = with_defaults(env);
  const Lookup look(full);
  if (lower(look.var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) != "true") {
    for (const char* name : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}) {
      if (std::string v = look.var(name); !v.empty()) {
        return v;
      }
    }
  }
  if (region.empty()) {
    return std::string("https://sts.amazonaws.com");
  }
  const bool valid = std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!valid) {
    return pipeline::invalid_argument("region '" + std::string(region) +
                                      "' is not a valid AWS region name");
  }
  const std::string suffix = region.substr(0, 3) == "cn-" ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://sts." + std::string(region) + suffix;
}

std::string sts_region(const CredentialEnvironment& env) {
  const CredentialEnvironment full = with_defaults(env);
  const Lookup look(full);
  for (const std::string& region :
       {look.var("AWS_REGION"), look.var("AWS_DEFAULT_REGION"), env.region}) {
    if (!region.empty()) {
      return region;
    }
  }
  if (Result<std::optional<IniProfiles>> config = Lookup::load(look.config_path(), true);
      config.is_ok() && config->has_value()) {
    return ini_value(**config, look.profile(), "region");
  }
  return {};
}

Result<std::string> container_credentials_url(std::string_view relative_uri,
                                              std::string_view full_uri) {
  if (!relative_uri.empty()) {
    return std::string(kEcsHost) + (relative_uri.front() == '/' ? "" : "/") +
           std::string(relative_uri);
  }
  if (full_uri.empty()) {
    return pipeline::not_found(
        "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI "
        "is set");
  }
  const std::string shown = url_for_message(full_uri);
  const auto refuse = [&](std::string_view why) {
    return pipeline::invalid_argument("AWS_CONTAINER_CREDENTIALS_FULL_URI '" + shown +
                                      "' refused: " + std::string(why));
  };
  const auto scheme_end = full_uri.find("://");
  if (scheme_end == std::string_view::npos) {
    return refuse("not an absolute http:// or https:// URL");
  }
  const std::string scheme = lower(full_uri.substr(0, scheme_end));
  const std::string_view rest = full_uri.substr(scheme_end + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // `http://127.0.0.1@evil.example/` goes to evil.example: user information has no use here.
  if (authority.find('@') != std::string_view::npos) {
    return refuse("user information in the URL is not allowed");
  }
  std::string_view host;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return refuse("malformed IPv6 host");
    }
    host = authority.substr(1, close - 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  if (host.empty()) {
    return refuse("no host");
  }
  if (scheme == "https") {
    return std::string(full_uri);
  }
  if (scheme != "http") {
    return refuse("only http and https are allowed");
  }
  if (!is_loopback_or_agent(lower(host))) {
    return refuse(
        "over plain http the host must be a loopback address, localhost, 169.254.170.2, "
        "169.254.170.23 or fd00:ec2::23");
  }
  return std::string(full_uri);
}

// ---------------------------------------------------------------------------------------------
// AwsCredentialProvider
// ---------------------------------------------------------------------------------------------

struct AwsCredentialProvider::Resolved {
  AwsCredentials credentials;
  Source source = Source::kNone;
};

AwsCredentialProvider::AwsCredentialProvider(CredentialEnvironment env)
    : env_(with_defaults(std::move(env))) {
}

AwsCredentialProvider::~AwsCredentialProvider() = default;

std::string AwsCredentialProvider::source() const {
  const std::lock_guard lock(state_mutex_);
  return std::string(name_of(source_));
}

Status AwsCredentialProvider::last_refresh_error() const {
  const std::lock_guard lock(state_mutex_);
  return last_error_;
}

Result<AwsCredentials> AwsCredentialProvider::get() {
  enum class Need { kNothing, kAdvisory, kMandatory };
  // What the cache needs now, with a copy of it taken under the lock.
  const auto check = [this](std::optional<AwsCredentials>& copy) {
    const auto now = env_.now();
    const std::lock_guard lock(state_mutex_);
    copy = cached_;
    if (!cached_) {
      return Need::kMandatory;
    }
    if (!cached_->expiration) {
      return Need::kNothing;
    }
    const auto left = *cached_->expiration - now;
    if (left > kAdvisoryRefreshWindow) {
      return Need::kNothing;
    }
    return left > kMandatoryRefreshWindow ? Need::kAdvisory : Need::kMandatory;
  };

  std::optional<AwsCredentials> cached;
  Need need = check(cached);
  if (need == Need::kNothing) {
    return std::move(*cached);
  }
  if (need == Need::kAdvisory) {
    const std::unique_lock refreshing(refresh_mutex_, std::try_to_lock);
    if (!refreshing.owns_lock()) {
      return std::move(*cached);  // Another caller is refreshing; these are still good.
    }
    need = check(cached);  // Someone may have refreshed between the check and the lock.
    if (need == Need::kNothing) {
      return std::move(*cached);
    }
    Result<AwsCredentials> fresh = refresh();
    if (fresh.is_ok() || need == Need::kMandatory) {
      return fresh;
    }
    return std::move(*cached);
  }
  const std::lock_guard refreshing(refresh_mutex_);
  // While this caller waited, another may have refreshed: then its result serves.
  if (check(cached) == Need::kNothing) {
    return std::move(*cached);
  }
  return refresh();
}

Result<AwsCredentials> AwsCredentialProvider::refresh() {
  Source current = Source::kNone;
  {
    const std::lock_guard lock(state_mutex_);
    current = source_;
  }
  Result<Resolved> resolved = resolve(current);
  if (resolved.is_ok() && resolved->credentials.expiration &&
      *resolved->credentials.expiration <= env_.now()) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
        resolved->credentials.expiration->time_since_epoch());
    resolved = pipeline::failed_precondition(
        "AWS credentials from the " + std::string(name_of(resolved->source)) +
        " source are already expired (expiration " +
        pipeline::format_iso8601_seconds(pipeline::EventTime::from_seconds(seconds.count())) + ")");
  }
  const std::lock_guard lock(state_mutex_);
  if (!resolved.is_ok()) {
    last_error_ = resolved.status();
    return resolved.status();
  }
  last_error_ = Status::ok();
  cached_ = resolved->credentials;
  source_ = resolved->source;
  return std::move(resolved->credentials);
}

std::string_view AwsCredentialProvider::name_of(Source source) {
  switch (source) {
    case Source::kEnvironment:
      return kEnvironmentSource;
    case Source::kWebIdentity:
      return kWebIdentitySource;
    case Source::kSharedFile:
      return kSharedFileSource;
    case Source::kContainer:
      return kContainerSource;
    case Source::kNone:
      break;
  }
  return {};
}

Result<std::optional<AwsCredentials>> AwsCredentialProvider::read_source(Source source) {
  switch (source) {
    case Source::kEnvironment:
      return from_environment();
    case Source::kWebIdentity:
      return from_web_identity();
    case Source::kSharedFile:
      return from_shared_files();
    case Source::kContainer:
      return from_container();
    case Source::kNone:
      break;
  }
  return std::optional<AwsCredentials>();
}

Result<AwsCredentialProvider::Resolved> AwsCredentialProvider::resolve(Source source) {
  if (source != Source::kNone) {
    TW_ASSIGN_OR_RETURN(std::optional<AwsCredentials> found, read_source(source));
    if (!found) {
      return pipeline::failed_precondition("the AWS credential source '" +
                                           std::string(name_of(source)) +
                                           "' that supplied the credentials is no longer set up");
    }
    return Resolved{std::move(*found), source};
  }
  for (const Source step :
       {Source::kEnvironment, Source::kWebIdentity, Source::kSharedFile, Source::kContainer}) {
    TW_ASSIGN_OR_RETURN(std::optional<AwsCredentials> found, read_source(step));
    if (found) {
      return Resolved{std::move(*found), step};
    }
  }
  const Lookup look(env_);
  const std::string credentials_path = look.credentials_path();
  const std::string config_path = look.config_path();
  return pipeline::not_found(
      "no AWS credentials found; tried: environment (AWS_ACCESS_KEY_ID), web identity "
      "(AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or the profile's web_identity_token_file), "
      "shared files (profile '" +
      look.profile() + "' in '" + (credentials_path.empty() ? "(no home)" : credentials_path) +
      "' and '" + (config_path.empty() ? "(no home)" : config_path) +
      "'), container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or "
      "AWS_CONTAINER_CREDENTIALS_FULL_URI); EC2 instance metadata is not supported");
}

Result<std::optional<AwsCredentials>> AwsCredentialProvider::from_environment() const {
  const Lookup look(env_);
  AwsCredentials c;
  c.access_key_id = look.var("AWS_ACCESS_KEY_ID");
  if (c.access_key_id.empty()) {
    return std::optional<AwsCredentials>();
  }
  c.secret_access_key = look.var("AWS_SECRET_ACCESS_KEY");
  if (c.secret_access_key.empty()) {
    return pipeline::invalid_argument(
        "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither");
  }
  c.session_token = look.var("AWS_SESSION_TOKEN");
  if (c.session_token.empty()) {
    c.session_token = look.var("AWS_SECURITY_TOKEN");
  }
  if (const std::string expiration = look.var("AWS_CREDENTIAL_EXPIRATION"); !expiration.empty()) {
    const std::optional<pipeline::EventTime> t = pipeline::parse_iso8601(expiration);
    if (!t) {
      return pipeline::invalid_argument("AWS_CREDENTIAL_EXPIRATION '" + cap(expiration) +
                                        "' is not an ISO 8601 time");
    }
    c.expiration = to_time_point(*t);
  }
  return std::optional<AwsCredentials>(std::move(c));
}

Result<std::optional<AwsCredentials>> AwsCredentialProvider::from_web_identity() {
  const Lookup look(env_);
  std::string token_file = look.var("AWS_WEB_IDENTITY_TOKEN_FILE");
  std::string role_arn = look.var("AWS_ROLE_ARN");
  std::string session_name = look.var("AWS_ROLE_SESSION_NAME");
  // The profile fills what the environment leaves out (botocore reads each setting separately).
  // An unreadable config file is ignored here: it is the shared-file source's error to report if
  // the chain gets there, and the environment alone may set this source up.
  if (Result<std::optional<IniProfiles>> config = Lookup::load(look.config_path(), true);
      config.is_ok() && config->has_value()) {
    const IniProfiles& profiles = **config;
    const std::string profile = look.profile();
    const auto fill = [&](std::string& field, const char* key) {
      if (field.empty()) {
        field = ini_value(profiles, profile, key);
      }
    };
    fill(token_file, "web_identity_token_file");
    fill(role_arn, "role_arn");
    fill(session_name, "role_session_name");
  }
  if (token_file.empty()) {
    return std::optional<AwsCredentials>();
  }
  if (role_arn.empty()) {
    return pipeline::invalid_argument("a web identity token file is configured ('" + token_file +
                                      "') but no role: set AWS_ROLE_ARN or the profile's role_arn");
  }
  if (token_file.size() >= 2 && token_file[0] == '~' && token_file[1] == '/') {
    token_file = look.home() + token_file.substr(1);
  }
  const auto now = env_.now();
  if (session_name.empty()) {
    session_name =
        "trailwatch-" +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  }
  TW_ASSIGN_OR_RETURN(std::string endpoint, sts_endpoint(env_, sts_region(env_)));
  if (endpoint.empty() || endpoint.back() != '/') {
    endpoint += '/';  // The operation's path, "/", under the endpoint's.
  }

  // Read for every call: the kubelet replaces the token long before it expires.
  TW_ASSIGN_OR_RETURN(std::string token, read_required_file(token_file, "web identity token file"));
  token = drop_trailing_line_breaks(std::move(token));
  if (token.empty()) {
    return pipeline::invalid_argument("the web identity token file '" + token_file + "' is empty");
  }

  const std::string what =
      "STS AssumeRoleWithWebIdentity for role " + role_arn + " at " + url_for_message(endpoint);
  HttpClientRequest request;
  request.method = "POST";
  request.url = endpoint;
  request.headers = {{"Content-Type", std::string(kAwsQueryContentType)}};
  request.body =
      sts_assume_role_with_web_identity_body(role_arn, session_name, token, std::nullopt);
  request.timeout = env_.sts_timeout;
  const HttpClientResponse response = http_.send(request);
  if (!response.transport_ok()) {
    return pipeline::unavailable(what + " failed: " + std::string(to_string(response.transport)) +
                                 ": " + redact(response.error, token));
  }
  if (response.status != 200) {
    const AwsError error = parse_aws_error(response.body);
    std::string message = what + " failed: HTTP " + std::to_string(response.status);
    if (!error.code.empty()) {
      message += " " + cap(redact(error.code, token));
    }
    if (!error.message.empty()) {
      message += ": " + cap(redact(error.message, token));
    }
    return aws_error_is_retryable(response.status, error.code)
               ? pipeline::unavailable(std::move(message))
               : pipeline::failed_precondition(std::move(message));
  }
  Result<StsCredentials> parsed = parse_sts_credentials(response.body);
  if (!parsed.is_ok()) {
    return pipeline::data_loss(what + ": " + parsed.status().message());
  }
  if (!parsed->expires) {
    return pipeline::data_loss(what + ": the reply's Expiration is not an ISO 8601 time");
  }
  return std::optional<AwsCredentials>(AwsCredentials{
      .access_key_id = std::move(parsed->access_key_id),
      .secret_access_key = std::move(parsed->secret_access_key),
      .session_token = std::move(parsed->session_token),
      .expiration = to_time_point(*parsed->expires),
  });
}

Result<std::optional<AwsCredentials>> AwsCredentialProvider::from_shared_files() const {
  const Lookup look(env_);
  const std::string profile = look.profile();
  bool profile_seen = false;
  for (const bool config_file : {false, true}) {
    const std::string path = config_file ? look.config_path() : look.credentials_path();
    TW_ASSIGN_OR_RETURN(std::optional<IniProfiles> profiles, Lookup::load(path, config_file));
    if (!profiles || !profiles->contains(profile)) {
      continue;
    }
    profile_seen = true;
    AwsCredentials c;
    c.access_key_id = ini_value(*profiles, profile, "aws_access_key_id");
    if (c.access_key_id.empty()) {
      continue;
    }
    c.secret_access_key = ini_value(*profiles, profile, "aws_secret_access_key");
    if (c.secret_access_key.empty()) {
      std::string message = "profile '" + profile;
      message += "' in '" + path + "' has aws_access_key_id but no aws_secret_access_key";
      return pipeline::invalid_argument(std::move(message));
    }
    c.session_token = ini_value(*profiles, profile, "aws_session_token");
    return std::optional<AwsCredentials>(std::move(c));
  }
  if (!profile_seen && !look.var("AWS_PROFILE").empty()) {
    return pipeline::not_found("the AWS profile '" + profile + "' (AWS_PROFILE) is in neither '" +
                               look.credentials_path() + "' nor '" + look.config_path() + "'");
  }
  return std::optional<AwsCredentials>();
}

Result<std::optional<AwsCredentials>> AwsCredentialProvider::from_container() {
  const Lookup look(env_);
  const std::string relative = look.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string full = look.var("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (relative.empty() && full.empty()) {
    return std::optional<AwsCredentials>();
  }
  TW_ASSIGN_OR_RETURN(const std::string url, container_credentials_url(relative, full));

  std::string token;
  if (const std::string token_file = look.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
      !token_file.empty()) {
    // Read for every fetch: EKS Pod Identity rotates the token.
    TW_ASSIGN_OR_RETURN(token,
                        read_required_file(token_file, "container authorization token file"));
    token = drop_trailing_line_breaks(std::move(token));
  } else {
    token = look.var("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return pipeline::invalid_argument(
        "the container authorization token contains a line break, which cannot be sent in a "
        "header");
  }

  const std::string what = "container credentials endpoint " + url_for_message(url);
  HttpClientRequest request;
  request.method = "GET";
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  if (!token.empty()) {
    request.headers.emplace_back("Authorization", token);
  }
  request.timeout = env_.container_timeout;
  const HttpClientResponse response = http_.send(request);
  if (!response.transport_ok()) {
    return pipeline::unavailable(what + " failed: " + std::string(to_string(response.transport)) +
                                 ": " + redact(response.error, token));
  }
  if (response.status != 200) {
    std::string message = what + " answered HTTP " + std::to_string(response.status);
    if (const std::string detail = json_error_text(redact(response.body, token)); !detail.empty()) {
      message += ": " + detail;
    }
    return is_retryable_http(response.status) ? pipeline::unavailable(std::move(message))
                                              : pipeline::failed_precondition(std::move(message));
  }
  const nlohmann::json doc = nlohmann::json::parse(response.body, nullptr, false);
  if (!doc.is_object()) {
    return pipeline::data_loss(what + ": the reply is not a JSON object");
  }
  AwsCredentials c;
  TW_ASSIGN_OR_RETURN(c.access_key_id, json_member(doc, "AccessKeyId", what));
  TW_ASSIGN_OR_RETURN(c.secret_access_key, json_member(doc, "SecretAccessKey", what));
  TW_ASSIGN_OR_RETURN(c.session_token, json_member(doc, "Token", what));
  TW_ASSIGN_OR_RETURN(const std::string expiration, json_member(doc, "Expiration", what));
  const std::optional<pipeline::EventTime> expires = pipeline::parse_iso8601(expiration);
  if (!expires) {
    return pipeline::data_loss(what + ": the reply's Expiration is not an ISO 8601 time");
  }
  c.expiration = to_time_point(*expires);
  return std::optional<AwsCredentials>(std::move(c));
}

std::function<Result<AwsCredentials>()> credentials_source(
    std::shared_ptr<AwsCredentialProvider> provider) {
  return [provider = std::move(provider)] {
    return provider->get();
  };
}

}  // namespace tw::connectors
