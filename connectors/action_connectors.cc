#include "connectors/action_connectors.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "connectors/action_payloads.h"
#include "connectors/crypto.h"
#include "connectors/kafka_properties.h"
#include "connectors/process_environment.h"
#include "pipeline/state_codec.h"

namespace tw::connectors {
namespace {

using pipeline::ActionRequest;
using pipeline::ActionTargetConfig;
using pipeline::EventTime;
using Outcome = AttemptResult::Outcome;

constexpr std::string_view kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount/";

EventTime to_event_time(std::chrono::system_clock::time_point t) {
  return EventTime::from_millis(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

std::string excerpt(std::string_view body, size_t n) {
  std::string out(body.substr(0, n));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) {
      c = ' ';
    }
  }
  return out;
}

std::string upper_service(std::string_view service) {
  if (service == "autoscaling") {
    return "AUTO_SCALING";
  }
  std::string out(service);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

HttpClientOptions client_options(const ActionTargetConfig& target) {
  HttpClientOptions options;
  options.verify_tls = target.tls_verify;
  options.ca_file = target.ca_file;
  return options;
}

std::chrono::milliseconds timeout_of(const ActionTargetConfig& target) {
  return std::chrono::milliseconds(target.delivery.timeout.millis());
}

// ---------------------------------------------------------------------------------------------
// webhook

class WebhookConnector final : public ActionConnector {
 public:
  WebhookConnector(const ActionTargetConfig& target, std::string url, WebhookFormat format,
                   HttpHeaders headers, std::string secret, std::string routing_key,
                   ConnectorEnvironment env)
      : target_(target),
        url_(std::move(url)),
        format_(format),
        headers_(std::move(headers)),
        secret_(std::move(secret)),
        routing_key_(std::move(routing_key)),
        env_(std::move(env)),
        client_(client_options(target)) {}

  AttemptResult attempt(const ActionRequest& request, int /*attempt*/) override {
    std::optional<HttpClientRequest> call = build(request);
    if (!call) {
      return AttemptResult::skipped("the " + std::string(to_string(format_)) +
                                    " format sends nothing for " + request.notice.new_state);
    }
    return classify_response(client_.send(*call));
  }

  std::string describe(const ActionRequest& request) override {
    std::optional<HttpClientRequest> call = build(request);
    if (!call) {
      return "send nothing";
    }
    // The body of a pagerduty event holds the routing key.
    // A URL given as a reference is a secret (a Slack webhook's is): never printed.
    const std::string shown =
        target_.url.starts_with("${") ? "(URL from " + target_.url + ")" : target_.url;
    return call->method + " " + shown + " " +
           (format_ == WebhookFormat::kPagerDuty ? std::string("(pagerduty event)") : call->body);
  }

 private:
  std::optional<HttpClientRequest> build(const ActionRequest& request) {
    WebhookContext ctx;
    const auto now = env_.now();
    ctx.now = to_event_time(now);
    if (target_.name.starts_with("arn:") && target_.name.find(":sns:") != std::string::npos) {
      ctx.topic_arn = target_.name;
    }
    ctx.generator_url = target_.generator_url;
    ctx.pagerduty_routing_key = routing_key_;
    ctx.pagerduty_severity = target_.severity;
    std::optional<WebhookBody> body = webhook_body(format_, request, ctx);
    if (!body) {
      return std::nullopt;
    }
    HttpClientRequest call;
    call.method = target_.method;
    call.url = url_;
    call.timeout = timeout_of(target_);
    call.headers.emplace_back("Content-Type", body->content_type);
    for (const HttpHeader& h : body->headers) {
      call.headers.emplace_back(h.name, h.value);
    }
    call.headers.emplace_back("Idempotency-Key", request.key);
    if (!secret_.empty()) {
      const std::string timestamp = std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
      call.headers.emplace_back("X-Trailwatch-Timestamp", timestamp);
      call.headers.emplace_back(
          "X-Trailwatch-Signature",
          "v1=" + hex_lower(hmac_sha256(secret_, timestamp + "." + body->body)));
    }
    for (const auto& header : headers_) {
      call.headers.push_back(header);
    }
    call.body = std::move(body->body);
    return call;
  }

  ActionTargetConfig target_;
  std::string url_;  ///< Resolved.
  WebhookFormat format_;
  HttpHeaders headers_;
  std::string secret_;
  std::string routing_key_;
  ConnectorEnvironment env_;
  HttpClient client_;
};

// ---------------------------------------------------------------------------------------------
// alertmanager

class AlertmanagerConnector final : public ActionConnector {
 public:
  AlertmanagerConnector(const ActionTargetConfig& target, ConnectorEnvironment env)
      : target_(target), env_(std::move(env)), client_(client_options(target)) {
    std::string base = target.url;
    while (base.ends_with('/')) {
      base.pop_back();
    }
    url_ = base + "/api/v2/alerts";
  }

  AttemptResult attempt(const ActionRequest& request, int /*attempt*/) override {
    const EventTime now = to_event_time(env_.now());
    const pipeline::ActionNotice& notice = request.notice;
    std::string body;
    {
      const std::lock_guard lock(mutex_);
      if (notice.new_state == "ALARM") {
        body = fire_body(notice, notice.state_change_time, now);
      } else if (notice.old_state != "ALARM" && !firing_.contains(notice.alarm_arn)) {
        // OK <-> INSUFFICIENT_DATA: there is no alert to resolve.
        return AttemptResult::skipped("no alert firing for " + notice.alarm_name);
      } else {
        body = resolve_body(notice, now);
      }
    }
    AttemptResult result = post(body, request.key);
    if (result.outcome == Outcome::kDelivered) {
      const std::lock_guard lock(mutex_);
      if (notice.new_state == "ALARM") {
        firing_[notice.alarm_arn] = Firing{notice, notice.state_change_time};
      } else {
        firing_.erase(notice.alarm_arn);
      }
    }
    return result;
  }

  std::string describe(const ActionRequest& request) override {
    const EventTime now = to_event_time(env_.now());
    const std::lock_guard lock(mutex_);
    return "POST " + url_ + " " +
           (request.notice.new_state == "ALARM"
                ? fire_body(request.notice, request.notice.state_change_time, now)
                : resolve_body(request.notice, now));
  }

  void maintain(std::chrono::system_clock::time_point now) override {
    std::string body;
    {
      const std::lock_guard lock(mutex_);
      if (firing_.empty()) {
        return;
      }
      // One POST re-sends every firing alert with a fresh endsAt.
      body = "[";
      for (const auto& [arn, firing] : firing_) {
        std::string one = fire_body(firing.notice, firing.since, to_event_time(now));
        body += (body.size() > 1 ? "," : "") + one.substr(1, one.size() - 2);
      }
      body += "]";
    }
    (void)post(body, {});  // Best effort: the next resend comes soon, and endsAt covers four.
  }

  [[nodiscard]] std::optional<std::chrono::milliseconds> maintenance_interval() const override {
    return std::chrono::milliseconds(target_.resend_interval.millis());
  }

  [[nodiscard]] std::string save_state() const override {
    const std::lock_guard lock(mutex_);
    if (firing_.empty()) {
      return {};
    }
    std::vector<PendingAction> firing;
    for (const auto& [arn, f] : firing_) {
      ActionRequest r;
      r.notice = f.notice;
      r.due = f.since;
      firing.push_back(PendingAction{target_.name, 0, std::move(r)});
    }
    pipeline::StateWriter out;
    save_pending(out, firing);
    return out.take();
  }

  void load_state(std::string_view bytes) override {
    const auto firing = load_pending(bytes);
    if (!firing) {
      return;
    }
    const std::lock_guard lock(mutex_);
    for (const PendingAction& f : *firing) {
      firing_[f.request.notice.alarm_arn] = Firing{f.request.notice, f.request.due};
    }
  }

 private:
  struct Firing {
    pipeline::ActionNotice notice;
    EventTime since;
  };

  std::string fire_body(const pipeline::ActionNotice& notice, EventTime since,
                        EventTime now) const {
    // Prometheus's rule: the alert survives missed re-sends for four intervals. The window runs
    // from the later of now and the start: Alertmanager rejects an alert that ends before it
    // starts (a transition stamped ahead of the wall clock).
    return alertmanager_body(notice, since, std::max(now, since) + target_.resend_interval * 4,
                             target_.generator_url);
  }

  std::string resolve_body(const pipeline::ActionNotice& notice, EventTime now) const {
    const auto it = firing_.find(notice.alarm_arn);
    const EventTime since = it != firing_.end() ? it->second.since : notice.state_change_time;
    // Resolved once endsAt is past: the transition time, or now if that lies ahead.
    const EventTime ends = std::max(since, std::min(notice.state_change_time, now));
    return alertmanager_body(notice, since, ends, target_.generator_url);
  }

  /// `key`: the action's idempotency key; empty for a re-send, which carries several alerts.
  AttemptResult post(const std::string& body, const std::string& key) {
    HttpClientRequest call;
    call.url = url_;
    call.timeout = timeout_of(target_);
    call.headers.emplace_back("Content-Type", std::string(kJsonContentType));
    if (!key.empty()) {
      call.headers.emplace_back("Idempotency-Key", key);
    }
    call.body = body;
    return classify_response(client_.send(call));
  }

  ActionTargetConfig target_;
  ConnectorEnvironment env_;
  HttpClient client_;
  std::string url_;
  mutable std::mutex mutex_;
  std::map<std::string, Firing> firing_;  ///< By alarm ARN.
};

// ---------------------------------------------------------------------------------------------
// kubernetes_scale

class KubernetesScaleConnector final : public ActionConnector {
 public:
  KubernetesScaleConnector(const ActionTargetConfig& target, std::string api_server, std::string ns,
                           HttpClientOptions options, ConnectorEnvironment env)
      : target_(target),
        api_server_(std::move(api_server)),
        namespace_(std::move(ns)),
        env_(std::move(env)),
        client_(std::move(options)) {
    const auto kind = parse_kubernetes_workload_kind(target.kind);
    url_ = api_server_ + kubernetes_scale_path(kind.value_or(KubernetesWorkloadKind::kDeployment),
                                               namespace_, target.workload);
  }

  AttemptResult attempt(const ActionRequest& request, int /*attempt*/) override {
    const auto now = env_.now();
    const int64_t last = last_scaled_ms_.load();
    if (last != kNever && to_event_time(now).millis() - last < target_.cooldown.millis()) {
      return AttemptResult::skipped("in cooldown since the last scaling");
    }
    std::optional<std::string> token = read_small_file(target_.token_file);
    if (!token) {
      return {Outcome::kRetry, 0, "cannot read the service-account token " + target_.token_file,
              std::nullopt};
    }
    HttpClientRequest get;
    get.method = "GET";
    get.url = url_;
    get.timeout = timeout_of(target_);
    get.headers = {{"Authorization", "Bearer " + *token},
                   {"Accept", "application/json"},
                   {"Idempotency-Key", request.key}};
    const HttpClientResponse read = client_.send(get);
    AttemptResult read_result = classify_response(read);
    // 401: the token expired or rotated; the next attempt reads the file again.
    if (read_result.outcome == Outcome::kFailed && read.status == 401) {
      read_result.outcome = Outcome::kRetry;
    }
    if (read_result.outcome != Outcome::kDelivered) {
      read_result.detail = "GET scale: " + read_result.detail;
      return read_result;
    }
    const auto scale = parse_kubernetes_scale(read.body);
    if (!scale.is_ok() || !scale.value().spec_replicas) {
      return {Outcome::kFailed, read.status, "the scale subresource has no spec.replicas",
              std::nullopt};
    }
    const int current = *scale.value().spec_replicas;
    const int wanted =
        scale_target(current, mode(), target_.replicas, target_.min_replicas, target_.max_replicas);
    if (wanted == current) {
      return AttemptResult::skipped("already at " + std::to_string(current) + " replicas (bounds " +
                                    std::to_string(target_.min_replicas) + "–" +
                                    std::to_string(target_.max_replicas) + ")");
    }
    HttpClientRequest patch;
    patch.method = "PATCH";
    patch.url = url_ + "?fieldManager=trailwatch";
    patch.timeout = timeout_of(target_);
    patch.headers = {{"Authorization", "Bearer " + *token},
                     {"Accept", "application/json"},
                     {"Content-Type", std::string(kJsonPatchContentType)},
                     {"Idempotency-Key", request.key}};
    patch.body = scale_json_patch(current, wanted);
    const HttpClientResponse written = client_.send(patch);
    AttemptResult result = classify_response(written);
    // 409 Conflict and 422 (the test op failed: someone else changed the count) and 401 (the
    // token rotated; re-read next time) are worth another try.
    if (result.outcome == Outcome::kFailed &&
        (written.status == 409 || written.status == 422 || written.status == 401)) {
      result.outcome = Outcome::kRetry;
    }
    if (result.outcome == Outcome::kDelivered) {
      last_scaled_ms_.store(to_event_time(now).millis());
      result.detail = std::to_string(current) + " -> " + std::to_string(wanted) + " replicas";
    }
    return result;
  }

  /// The time of the last scaling, so that a restarted worker keeps the cooldown.
  [[nodiscard]] std::string save_state() const override {
    const int64_t last = last_scaled_ms_.load();
    if (last == kNever) {
      return {};
    }
    pipeline::StateWriter out;
    out.i64(last);
    return out.take();
  }

  void load_state(std::string_view bytes) override {
    pipeline::StateReader in(bytes);
    const int64_t last = in.i64();
    if (in.ok() && in.at_end() && last > last_scaled_ms_.load()) {
      last_scaled_ms_.store(last);
    }
  }

  std::string describe(const ActionRequest& /*request*/) override {
    const char* verb = target_.mode == ActionTargetConfig::ScaleMode::kSet   ? "set"
                       : target_.mode == ActionTargetConfig::ScaleMode::kAdd ? "add"
                                                                             : "subtract";
    return std::string("PATCH ") + url_ + " (" + verb + " " + std::to_string(target_.replicas) +
           " replicas within [" + std::to_string(target_.min_replicas) + ", " +
           std::to_string(target_.max_replicas) + "])";
  }

 private:
  [[nodiscard]] ScaleMode mode() const {
    switch (target_.mode) {
      case ActionTargetConfig::ScaleMode::kSet:
        return ScaleMode::kSet;
      case ActionTargetConfig::ScaleMode::kAdd:
        return ScaleMode::kAdd;
      case ActionTargetConfig::ScaleMode::kSubtract:
        return ScaleMode::kSubtract;
    }
    return ScaleMode::kAdd;
  }

  ActionTargetConfig target_;
  std::string api_server_;
  std::string namespace_;
  ConnectorEnvironment env_;
  HttpClient client_;
  std::string url_;
  static constexpr int64_t kNever = INT64_MIN;
  /// Wall time of the last scaling in Unix milliseconds; read by checkpoints on another thread.
  std::atomic<int64_t> last_scaled_ms_{kNever};
};

// ---------------------------------------------------------------------------------------------
// ec2 and autoscaling: signed Query API calls

class AwsQueryConnector final : public ActionConnector {
 public:
  AwsQueryConnector(const ActionTargetConfig& target, std::string service, std::string region,
                    ConnectorEnvironment env)
      : target_(target),
        service_(std::move(service)),
        region_(std::move(region)),
        env_(std::move(env)),
        client_(client_options(target)) {
    endpoint_ = aws_endpoint(service_, region_, env_);
  }

  AttemptResult attempt(const ActionRequest& request, int /*attempt*/) override {
    pipeline::Result<std::string> body = build_body(request);
    if (!body.is_ok()) {
      return {Outcome::kFailed, 0, body.status().message(), std::nullopt};
    }
    if (!env_.aws_credentials) {
      return {Outcome::kFailed, 0, "no AWS credentials source", std::nullopt};
    }
    pipeline::Result<AwsCredentials> credentials = env_.aws_credentials();
    if (!credentials.is_ok()) {
      return {Outcome::kRetry, 0, "AWS credentials: " + credentials.status().message(),
              std::nullopt};
    }
    const std::string host = host_of(endpoint_);
    SigV4Request signed_request;
    signed_request.method = "POST";
    signed_request.path = path_of(endpoint_);
    signed_request.headers = {{"Content-Type", std::string(kAwsQueryContentType)}, {"Host", host}};
    signed_request.body = body.value();
    const pipeline::Status signed_ok = sign_in_place(signed_request, credentials.value(), region_,
                                                     service_, format_amz_date(env_.now()));
    if (!signed_ok.is_ok()) {
      return {Outcome::kFailed, 0, "signing: " + signed_ok.message(), std::nullopt};
    }
    HttpClientRequest call;
    call.url = endpoint_;
    call.timeout = timeout_of(target_);
    for (const auto& [name, value] : signed_request.headers) {
      if (name != "Host") {  // libcurl sends the URL's, which is what was signed.
        call.headers.emplace_back(name, value);
      }
    }
    call.headers.emplace_back("Idempotency-Key", request.key);
    call.body = std::move(signed_request.body);
    const HttpClientResponse response = client_.send(call);
    AttemptResult result = classify_response(response, 0);
    if (response.transport_ok() && response.status >= 300) {
      const AwsError error = parse_aws_error(response.body);
      result.detail = "HTTP " + std::to_string(response.status) + " " + error.code + ": " +
                      error.message +
                      (error.request_id.empty() ? "" : " (request " + error.request_id + ")");
      result.outcome =
          aws_error_is_retryable(response.status, error.code) ? Outcome::kRetry : Outcome::kFailed;
    }
    return result;
  }

  std::string describe(const ActionRequest& request) override {
    pipeline::Result<std::string> body = build_body(request);
    return "POST " + endpoint_ + " " +
           (body.is_ok() ? body.value() : "(cannot build: " + body.status().message() + ")");
  }

 private:
  static std::string host_of(const std::string& url) {
    const auto start = url.find("://") + 3;
    const auto end = url.find_first_of("/?#", start);
    return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }

  static std::string path_of(const std::string& url) {
    const auto start = url.find("://") + 3;
    const auto slash = url.find('/', start);
    return slash == std::string::npos ? "/" : url.substr(slash);
  }

  pipeline::Result<std::string> build_body(const ActionRequest& request) const {
    if (service_ == "ec2") {
      std::vector<std::string> ids = target_.instance_ids;
      if (ids.empty()) {
        for (const auto& [name, value] : request.notice.dimensions) {
          if (name == "InstanceId") {
            ids.push_back(value);
          }
        }
      }
      if (ids.empty()) {
        return pipeline::invalid_argument(
            "no instance to act on: the target names none and the alarm has no InstanceId "
            "dimension");
      }
      const Ec2Operation op = target_.operation == "terminate" ? Ec2Operation::kTerminate
                              : target_.operation == "reboot"  ? Ec2Operation::kReboot
                                                               : Ec2Operation::kStop;
      return ec2_instances_body(op, ids);
    }
    if (target_.operation == "set_desired_capacity") {
      return autoscaling_set_desired_capacity_body(target_.group, target_.replicas,
                                                   target_.honor_cooldown);
    }
    std::optional<double> value;
    std::optional<double> threshold;
    if (request.notice.metric_value && request.notice.threshold) {
      value = request.notice.metric_value;
      threshold = request.notice.threshold;
    }
    return autoscaling_execute_policy_body(target_.group, target_.policy, target_.honor_cooldown,
                                           value, threshold);
  }

  ActionTargetConfig target_;
  std::string service_;
  std::string region_;
  ConnectorEnvironment env_;
  HttpClient client_;
  std::string endpoint_;
};

ConnectorEnvironment with_defaults(ConnectorEnvironment env) {
  if (!env.getenv) {
    env.getenv = &process_environment;
  }
  if (!env.now) {
    env.now = [] {
      return std::chrono::system_clock::now();
    };
  }
  return env;
}

}  // namespace

std::string aws_endpoint(std::string_view service, std::string_view region,
                         const ConnectorEnvironment& env) {
  for (const auto& [name, url] : env.aws_endpoints) {
    if (name == service) {
      return url;
    }
  }
  const bool ignore_env =
      env.getenv && env.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("") == "true";
  if (env.getenv && !ignore_env) {
    for (const std::string& name :
         {"AWS_ENDPOINT_URL_" + upper_service(service), std::string("AWS_ENDPOINT_URL")}) {
      if (auto value = env.getenv(name); value && !value->empty()) {
        return *value;
      }
    }
  }
  const std::string suffix = region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://" + std::string(service) + "." + std::string(region) + suffix;
}

AttemptResult classify_response(const HttpClientResponse& response, size_t body_excerpt) {
  AttemptResult result;
  if (!response.transport_ok()) {
    result.detail = std::string(to_string(response.transport)) + ": " + response.error;
    // A refused certificate or an unusable request will not get better by itself.
    result.outcome = response.transport == HttpTransport::kTlsFailed ||
                             response.transport == HttpTransport::kInvalidRequest
                         ? Outcome::kFailed
                         : Outcome::kRetry;
    return result;
  }
  result.http_status = response.status;
  if (response.status >= 200 && response.status < 300) {
    result.outcome = Outcome::kDelivered;
    return result;
  }
  result.detail =
      "HTTP " + std::to_string(response.status) +
      (body_excerpt > 0 && !response.body.empty() ? ": " + excerpt(response.body, body_excerpt)
                                                  : std::string());
  if (response.status == 429 || response.status >= 500) {
    result.outcome = Outcome::kRetry;
    if (auto retry_after = find_header(response.headers, "Retry-After")) {
      if (auto seconds = parse_retry_after(*retry_after)) {
        result.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*seconds);
      }
    }
  } else {
    result.outcome = Outcome::kFailed;
  }
  return result;
}

pipeline::Result<std::unique_ptr<ActionConnector>> make_action_connector(
    const ActionTargetConfig& target, const ConnectorEnvironment& given) {
  const ConnectorEnvironment env = with_defaults(given);
  switch (target.type) {
    case ActionTargetConfig::Type::kWebhook: {
      const auto format = parse_webhook_format(target.format);
      if (!format) {
        return pipeline::invalid_argument("unknown webhook format '" + target.format + "'");
      }
      HttpHeaders headers;
      for (const auto& [name, value] : target.headers) {
        TW_ASSIGN_OR_RETURN(std::string resolved, resolve_references("headers/" + name, value));
        headers.emplace_back(name, std::move(resolved));
      }
      std::string secret;
      if (!target.secret.empty()) {
        TW_ASSIGN_OR_RETURN(secret, resolve_references("secret", target.secret));
        if (secret.empty()) {
          return pipeline::invalid_argument("the signing secret is empty");
        }
      }
      std::string routing_key;
      if (!target.routing_key.empty()) {
        TW_ASSIGN_OR_RETURN(routing_key, resolve_references("routing_key", target.routing_key));
      }
      TW_ASSIGN_OR_RETURN(std::string url, resolve_references("url", target.url));
      if (!url.starts_with("http://") && !url.starts_with("https://")) {
        return pipeline::invalid_argument("the URL (from " + target.url +
                                          ") is not an http:// or https:// URL");
      }
      return std::unique_ptr<ActionConnector>(
          std::make_unique<WebhookConnector>(target, std::move(url), *format, std::move(headers),
                                             std::move(secret), std::move(routing_key), env));
    }
    case ActionTargetConfig::Type::kAlertmanager:
      return std::unique_ptr<ActionConnector>(std::make_unique<AlertmanagerConnector>(target, env));
    case ActionTargetConfig::Type::kKubernetesScale: {
      std::string api_server = target.api_server;
      HttpClientOptions options = client_options(target);
      if (api_server.empty()) {
        const auto host = env.getenv("KUBERNETES_SERVICE_HOST");
        const auto port = env.getenv("KUBERNETES_SERVICE_PORT");
        if (!host || !port) {
          return pipeline::failed_precondition(
              "no api_server configured and not in a Kubernetes pod (KUBERNETES_SERVICE_HOST "
              "and KUBERNETES_SERVICE_PORT are not set)");
        }
        const bool ipv6 = host->find(':') != std::string::npos;
        api_server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
        if (options.ca_file.empty()) {
          options.ca_file = std::string(kServiceAccountDir) + "ca.crt";
        }
      }
      while (api_server.ends_with('/')) {
        api_server.pop_back();
      }
      std::string ns = target.kubernetes_namespace;
      if (ns.empty()) {
        ns = read_small_file(std::string(kServiceAccountDir) + "namespace").value_or("default");
      }
      return std::unique_ptr<ActionConnector>(std::make_unique<KubernetesScaleConnector>(
          target, std::move(api_server), std::move(ns), std::move(options), env));
    }
    case ActionTargetConfig::Type::kEc2:
    case ActionTargetConfig::Type::kAutoScaling: {
      std::string region = target.region.empty() ? env.default_region : target.region;
      std::string service = target.type == ActionTargetConfig::Type::kEc2 ? "ec2" : "autoscaling";
      return std::unique_ptr<ActionConnector>(
          std::make_unique<AwsQueryConnector>(target, std::move(service), std::move(region), env));
    }
  }
  return pipeline::invalid_argument("unknown target type");
}

ConnectorFactory connector_factory(ConnectorEnvironment env) {
  return [env = std::move(env)](const ActionTargetConfig& target) {
    return make_action_connector(target, env);
  };
}

}  // namespace tw::connectors
