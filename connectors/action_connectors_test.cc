// The action connectors against real peers on loopback: every request is received by a
// TestHttpReceiver and checked byte for byte (method, path, headers, body, signatures), and every
// failure a real peer can produce (error statuses, a hung or closed connection, a refused port,
// an untrusted certificate) is produced for real. Time and environment are injected through
// ConnectorEnvironment; nothing sleeps: the tests wait on the receiver or the dispatcher.

#include "connectors/action_connectors.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/action_dispatcher.h"
#include "connectors/action_payloads.h"
#include "connectors/sigv4.h"
#include "connectors/test_http_receiver.h"
#include "connectors/test_temp_dir.h"
#include "pipeline/action.h"
#include "pipeline/config.h"

namespace tw::connectors {
namespace {

using pipeline::ActionRequest;
using pipeline::ActionTargetConfig;
using pipeline::Duration;
using pipeline::EventTime;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;
using testing::ReceivedRequest;
using testing::ScriptedReply;
using testing::TempDir;
using testing::TestHttpReceiver;
using Outcome = AttemptResult::Outcome;

const std::string kTlsDir = TW_SOURCE_DIR "/tests/data/tls/";

constexpr std::string_view kArn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU";
constexpr std::string_view kTopic = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
constexpr std::string_view kKey = "6f1c2d3e-4a5b-8c6d-9e7f-0a1b2c3d4e5f/0";
constexpr std::string_view kOkKey = "0b9a8c7d-6e5f-8a4b-9c3d-2e1f0a9b8c7d/0";
constexpr std::string_view kReason =
    "Threshold Crossed: 1 out of the last 1 datapoints [91.5 (26/10/23 16:41:00)] was greater "
    "than or equal to the threshold (80.0) (minimum 1 datapoint for OK -> ALARM transition).";
constexpr std::string_view kReasonData =
    R"({"version":"1.0","queryDate":"2023-10-26T16:42:00.123+0000","statistic":"Average",)"
    R"("period":300,"recentDatapoints":[91.5],"threshold":80.0})";
constexpr std::string_view kEventJson =
    R"({"version":"0","id":"c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",)"
    R"("detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",)"
    R"("account":"123456789012","time":"2023-10-26T16:42:00Z","region":"us-east-1",)"
    R"("resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU"],)"
    R"("detail":{"alarmName":"HighCPU","state":{"value":"ALARM","reason":"Threshold Crossed",)"
    R"("timestamp":"2023-10-26T16:42:00.123+0000"},"previousState":{"value":"OK",)"
    R"("reason":"Threshold Crossed","timestamp":"2023-10-26T16:30:00.000+0000"}}})";
constexpr std::string_view kSnsSubject = R"(ALARM: "HighCPU" in US East (N. Virginia))";
constexpr std::string_view kSnsMessage =
    R"({"AlarmName":"HighCPU","AlarmDescription":"CPU > 80% on web servers",)"
    R"("AWSAccountId":"123456789012","NewStateValue":"ALARM","OldStateValue":"OK",)"
    R"json("StateChangeTime":"2023-10-26T16:42:00.123+0000","Region":"US East (N. Virginia)",)json"
    R"("AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU"})";
constexpr std::string_view kRoutingKey = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kDedupKey =
    "trailwatch/arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU";

// 2023-10-26T16:42:00.123Z, the transition into ALARM.
constexpr EventTime kTransition = EventTime::from_millis(1'698'338'520'123);
// 2023-10-26T16:45:00Z, "now" of the webhook and Alertmanager tests.
constexpr int64_t kNowSeconds = 1'698'338'700;
// 2015-08-30T12:36:00Z, the instant of AWS's SigV4 examples.
constexpr int64_t kAwsNowSeconds = 1'440'938'160;

ActionRequest high_cpu(std::string new_state = "ALARM", std::string old_state = "OK",
                       std::string_view key = kKey) {
  pipeline::ActionNotice n;
  n.alarm_name = "HighCPU";
  n.alarm_arn = std::string(kArn);
  n.alarm_description = "CPU > 80% on web servers";
  n.account_id = "123456789012";
  n.region = "us-east-1";
  n.new_state = std::move(new_state);
  n.old_state = std::move(old_state);
  n.reason = std::string(kReason);
  n.reason_data = std::string(kReasonData);
  n.state_change_time = kTransition;
  n.namespace_name = "AWS/EC2";
  n.metric_name = "CPUUtilization";
  n.dimensions = {{"InstanceId", "i-1234567890abcdef0"}};
  n.tags = {{"cost-center", "web"}};
  n.threshold = 80.0;
  n.metric_value = 91.5;
  n.event_json = std::string(kEventJson);
  n.sns_subject = std::string(kSnsSubject);
  n.sns_message = std::string(kSnsMessage);
  ActionRequest r;
  r.key = std::string(key);
  r.action = "ops-hook";
  r.due = kTransition;
  r.notice = std::move(n);
  return r;
}

/// The OK that ends the ALARM of high_cpu(), at 17:05:00Z.
ActionRequest high_cpu_ok() {
  ActionRequest r = high_cpu("OK", "ALARM", kOkKey);
  r.notice.reason =
      "Threshold Crossed: 1 out of the last 1 datapoints [42.0 (26/10/23 17:04:00)] was not "
      "greater than or equal to the threshold (80.0).";
  r.notice.state_change_time = EventTime::from_seconds(1'698'339'900);
  r.notice.metric_value = 42.0;
  r.due = r.notice.state_change_time;
  return r;
}

/// A wall clock the test sets; read by connectors on any thread.
class ManualClock {
 public:
  explicit ManualClock(int64_t unix_seconds) : millis_(unix_seconds * 1000) {}

  [[nodiscard]] system_clock::time_point now() const {
    return system_clock::time_point(milliseconds(millis_.load()));
  }

  void advance(milliseconds d) { millis_ += d.count(); }

 private:
  std::atomic<int64_t> millis_;
};

/// An environment with the clock injected and no environment variables at all.
ConnectorEnvironment environment(const ManualClock& clock) {
  ConnectorEnvironment env;
  env.now = [&clock] {
    return clock.now();
  };
  env.getenv = [](std::string_view) -> std::optional<std::string> {
    return std::nullopt;
  };
  return env;
}

ActionTargetConfig webhook_target(std::string format, std::string url) {
  ActionTargetConfig t;
  t.name = "ops-hook";
  t.type = ActionTargetConfig::Type::kWebhook;
  t.format = std::move(format);
  t.url = std::move(url);
  t.generator_url = "https://trailwatch.example/alarms/HighCPU";
  t.delivery.timeout = Duration::seconds(5);
  return t;
}

std::unique_ptr<ActionConnector> connector_of(const ActionTargetConfig& target,
                                              const ConnectorEnvironment& env) {
  auto made = make_action_connector(target, env);
  EXPECT_TRUE(made.is_ok()) << made.status().message();
  return made.is_ok() ? std::move(made).value() : nullptr;
}

/// Whether `r` carries a header named `name` (case-insensitive), even with an empty value.
bool has_header(const ReceivedRequest& r, std::string_view name) {
  return std::any_of(r.headers.begin(), r.headers.end(), [&](const auto& header) {
    const std::string& k = header.first;
    return k.size() == name.size() &&
           std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  });
}

/// HMAC-SHA256 straight from OpenSSL, as a receiver would compute it, in lower-case hex.
std::string openssl_hmac_hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()),  // NOLINT: OpenSSL takes bytes.
       data.size(), mac.data(), &length);
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[mac[i] >> 4U];
    out += kHex[mac[i] & 0xFU];
  }
  return out;
}

// =============================================================================================
// 1. Webhooks: each format, headers, signatures
// =============================================================================================

class WebhookConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // make_action_connector resolves ${env:…} references in the process environment.
    // NOLINTNEXTLINE(concurrency-mt-unsafe): set before any connector thread exists.
    ASSERT_EQ(::setenv("TW_CONNTEST_HOOK_TOKEN", "hook-token-7f3a", 1), 0);
    ASSERT_TRUE(receiver_.start());
  }

  /// What the payload builder makes of `request` for `target`, as the connector must send it.
  [[nodiscard]] static WebhookBody expected_body(const ActionTargetConfig& target,
                                                 const ActionRequest& request) {
    WebhookContext ctx;
    ctx.now = EventTime::from_seconds(kNowSeconds);
    ctx.generator_url = target.generator_url;
    ctx.pagerduty_routing_key = std::string(kRoutingKey);
    ctx.pagerduty_severity = target.severity;
    if (target.name.starts_with("arn:aws:sns:")) {
      ctx.topic_arn = target.name;
    }
    const auto format = parse_webhook_format(target.format);
    const auto body = webhook_body(format.value_or(WebhookFormat::kEventBridge), request, ctx);
    EXPECT_TRUE(body.has_value());
    return body.value_or(WebhookBody{});
  }

  ManualClock clock_{kNowSeconds};
  TempDir dir_;
  TestHttpReceiver receiver_;
};

TEST_F(WebhookConnectorTest, EveryFormatSendsTheBuildersBytesWithTheConfiguredHeaders) {
  const std::string routing_key_file = dir_.write("routing-key", std::string(kRoutingKey) + "\n");
  const std::vector<std::string> formats = {"eventbridge", "sns", "alertmanager", "slack",
                                            "pagerduty"};
  for (const std::string& format : formats) {
    SCOPED_TRACE(format);
    ActionTargetConfig target = webhook_target(format, receiver_.url("/hooks/ops?team=web"));
    if (format == "sns") {
      target.name = std::string(kTopic);
    }
    target.headers = {{"Authorization", "Bearer ${env:TW_CONNTEST_HOOK_TOKEN}"},
                      {"X-Team", "web-platform"}};
    target.routing_key = "${file:" + routing_key_file + "}";
    const auto connector = connector_of(target, environment(clock_));
    ASSERT_NE(connector, nullptr);
    const size_t before = receiver_.request_count();
    const ActionRequest request = high_cpu();

    const AttemptResult result = connector->attempt(request, 1);
    EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
    EXPECT_EQ(result.http_status, 200);
    ASSERT_EQ(receiver_.request_count(), before + 1);
    const ReceivedRequest got = receiver_.requests().back();
    const WebhookBody want = expected_body(target, request);
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.target, "/hooks/ops?team=web");
    EXPECT_EQ(got.header("Content-Type"), want.content_type);
    EXPECT_EQ(got.body, want.body);
    EXPECT_EQ(got.header("Content-Length"), std::to_string(want.body.size()));
    EXPECT_EQ(got.header("Idempotency-Key"), kKey);
    EXPECT_EQ(got.header("Authorization"), "Bearer hook-token-7f3a");
    EXPECT_EQ(got.header("X-Team"), "web-platform");
    // No secret configured: nothing is signed.
    EXPECT_FALSE(has_header(got, "X-Trailwatch-Timestamp"));
    EXPECT_FALSE(has_header(got, "X-Trailwatch-Signature"));
    for (const HttpHeader& h : want.headers) {
      EXPECT_EQ(got.header(h.name), h.value) << h.name;
    }
    if (format == "sns") {
      const std::string message_id = action_message_id(kKey);
      EXPECT_EQ(got.header("Content-Type"), "text/plain; charset=UTF-8");
      EXPECT_EQ(got.header("x-amz-sns-message-type"), "Notification");
      EXPECT_EQ(got.header("x-amz-sns-message-id"), message_id);
      EXPECT_EQ(got.header("x-amz-sns-topic-arn"), kTopic);
      EXPECT_EQ(
          got.body,
          R"({"Type":"Notification","MessageId":")" + message_id +
              R"(","TopicArn":"arn:aws:sns:us-east-1:123456789012:ops-alerts",)"
              R"json("Subject":"ALARM: \"HighCPU\" in US East (N. Virginia)","Message":")json" +
              // The SNS Message is the JSON text, as a JSON string.
              std::string(R"({\"AlarmName\":\"HighCPU\",)") +
              R"(\"AlarmDescription\":\"CPU > 80% on web servers\",)"
              R"(\"AWSAccountId\":\"123456789012\",\"NewStateValue\":\"ALARM\",)"
              R"(\"OldStateValue\":\"OK\",)"
              R"(\"StateChangeTime\":\"2023-10-26T16:42:00.123+0000\",)"
              R"(\"Region\":\"US East (N. Virginia)\",)"
              R"(\"AlarmArn\":\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU\"})"
              R"(","Timestamp":"2023-10-26T16:45:00.000Z"})");
    } else {
      EXPECT_FALSE(has_header(got, "x-amz-sns-message-type"));
      EXPECT_EQ(got.header("Content-Type"), "application/json");
    }
  }
}

TEST_F(WebhookConnectorTest, EventBridgeBodyIsTheEventVerbatimAndTheMethodIsTheConfiguredOne) {
  ActionTargetConfig target = webhook_target("eventbridge", receiver_.url("/events"));
  target.method = "PUT";
  const auto connector = connector_of(target, environment(clock_));
  ASSERT_NE(connector, nullptr);
  const AttemptResult result = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
  ASSERT_EQ(receiver_.request_count(), 1U);
  const ReceivedRequest got = receiver_.requests()[0];
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.target, "/events");
  EXPECT_EQ(got.body,
            R"({"version":"0","id":"c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",)"
            R"("detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",)"
            R"("account":"123456789012","time":"2023-10-26T16:42:00Z","region":"us-east-1",)"
            R"("resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU"],)"
            R"("detail":{"alarmName":"HighCPU","state":{"value":"ALARM",)"
            R"("reason":"Threshold Crossed","timestamp":"2023-10-26T16:42:00.123+0000"},)"
            R"("previousState":{"value":"OK","reason":"Threshold Crossed",)"
            R"("timestamp":"2023-10-26T16:30:00.000+0000"}}})");
  EXPECT_EQ(got.header("Content-Type"), "application/json");
}

TEST_F(WebhookConnectorTest, SignatureIsAnHmacOfTimestampAndBodyUnderTheSecretFromAFile) {
  const std::string secret = "whsec_3b1f9e07c2d84a5f";
  ActionTargetConfig target = webhook_target("eventbridge", receiver_.url("/signed"));
  target.secret = "${file:" + dir_.write("hook-secret", secret + "\n") + "}";
  const auto connector = connector_of(target, environment(clock_));
  ASSERT_NE(connector, nullptr);

  EXPECT_EQ(connector->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
  clock_.advance(seconds(90));
  EXPECT_EQ(connector->attempt(high_cpu(), 2).outcome, Outcome::kDelivered);
  ASSERT_EQ(receiver_.request_count(), 2U);
  const auto requests = receiver_.requests();
  const std::vector<std::string> timestamps = {"1698338700", "1698338790"};
  for (size_t i = 0; i < 2; ++i) {
    const ReceivedRequest& got = requests[i];
    EXPECT_EQ(got.header("X-Trailwatch-Timestamp"), timestamps[i]);
    EXPECT_EQ(got.header("X-Trailwatch-Signature"),
              "v1=" + openssl_hmac_hex(secret, timestamps[i] + "." + got.body));
    EXPECT_EQ(got.body, kEventJson);
    EXPECT_EQ(got.header("Idempotency-Key"), kKey);
  }
  // A signature made with another secret, or over another timestamp, does not match.
  EXPECT_NE(requests[0].header("X-Trailwatch-Signature"),
            "v1=" + openssl_hmac_hex("whsec_other", timestamps[0] + "." + requests[0].body));
  EXPECT_NE(requests[1].header("X-Trailwatch-Signature"),
            requests[0].header("X-Trailwatch-Signature"));
}

TEST_F(WebhookConnectorTest, UnresolvableSecretReferencesFailAtConstruction) {
  ActionTargetConfig target = webhook_target("eventbridge", receiver_.url());
  target.secret =
      "${file:" + (std::filesystem::temp_directory_path() / "tw-no-such-secret-file").string() +
      "}";
  const auto made = make_action_connector(target, environment(clock_));
  EXPECT_FALSE(made.is_ok());
  target.secret = "${env:TW_CONNTEST_DEFINITELY_UNSET}";
  EXPECT_FALSE(make_action_connector(target, environment(clock_)).is_ok());
  EXPECT_EQ(receiver_.request_count(), 0U);
}

TEST_F(WebhookConnectorTest, SlackOkIsDeliveredWithTheEscapedText) {
  receiver_.set_script([](const ReceivedRequest&, size_t) { return ScriptedReply::ok("ok"); });
  const auto connector =
      connector_of(webhook_target("slack", receiver_.url("/services/T00000000/B00000000/XXXXXXXX")),
                   environment(clock_));
  ASSERT_NE(connector, nullptr);
  const AttemptResult result = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
  EXPECT_EQ(result.http_status, 200);
  ASSERT_EQ(receiver_.request_count(), 1U);
  const ReceivedRequest got = receiver_.requests()[0];
  EXPECT_EQ(got.path(), "/services/T00000000/B00000000/XXXXXXXX");
  EXPECT_EQ(got.header("Content-Type"), "application/json");
  EXPECT_EQ(got.body,
            R"({"text":"ALARM: \"HighCPU\" in us-east-1 — Threshold Crossed: 1 out of the last )"
            R"(1 datapoints [91.5 (26/10/23 16:41:00)] was greater than or equal to the )"
            R"(threshold (80.0) (minimum 1 datapoint for OK -&gt; ALARM transition)."})");
}

TEST_F(WebhookConnectorTest, PagerDutyTriggerAndResolveShareTheDedupKey) {
  receiver_.set_script([](const ReceivedRequest& r, size_t) {
    ScriptedReply reply =
        ScriptedReply::ok(R"({"status":"success","message":"Event processed","dedup_key":")" +
                              std::string(kDedupKey) + R"("})",
                          "application/json");
    reply.status = r.path() == "/v2/enqueue" ? 202 : 404;
    return reply;
  });
  ActionTargetConfig target = webhook_target("pagerduty", receiver_.url("/v2/enqueue"));
  target.routing_key = "${file:" + dir_.write("pd-key", kRoutingKey) + "}";
  target.severity = "error";
  const auto connector = connector_of(target, environment(clock_));
  ASSERT_NE(connector, nullptr);

  const AttemptResult trigger = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(trigger.outcome, Outcome::kDelivered) << trigger.detail;
  EXPECT_EQ(trigger.http_status, 202);
  const AttemptResult resolve = connector->attempt(high_cpu_ok(), 1);
  EXPECT_EQ(resolve.outcome, Outcome::kDelivered) << resolve.detail;
  ASSERT_EQ(receiver_.request_count(), 2U);
  const auto requests = receiver_.requests();
  EXPECT_EQ(requests[0].header("Idempotency-Key"), kKey);
  EXPECT_EQ(requests[1].header("Idempotency-Key"), kOkKey);
  EXPECT_EQ(requests[0].header("Content-Type"), "application/json");
  EXPECT_EQ(
      requests[0].body,
      R"({"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger",)"
      R"("dedup_key":"trailwatch/arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU",)"
      R"("payload":{"summary":"ALARM: \"HighCPU\" in us-east-1 — Threshold Crossed: 1 out of )"
      R"(the last 1 datapoints [91.5 (26/10/23 16:41:00)] was greater than or equal to the )"
      R"(threshold (80.0) (minimum 1 datapoint for OK -> ALARM transition).",)"
      R"("source":"i-1234567890abcdef0","severity":"error",)"
      R"("timestamp":"2023-10-26T16:42:00.123Z","component":"AWS/EC2","group":"us-east-1",)"
      R"("class":"metric-alarm","custom_details":{"alarmName":"HighCPU",)"
      R"("alarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU",)"
      R"("alarmDescription":"CPU > 80% on web servers","awsAccountId":"123456789012",)"
      R"("region":"us-east-1","newStateValue":"ALARM","oldStateValue":"OK",)"
      R"("newStateReason":"Threshold Crossed: 1 out of the last 1 datapoints [91.5 (26/10/23 )"
      R"(16:41:00)] was greater than or equal to the threshold (80.0) (minimum 1 datapoint for )"
      R"(OK -> ALARM transition).",)"
      R"("newStateReasonData":"{\"version\":\"1.0\",)"
      R"(\"queryDate\":\"2023-10-26T16:42:00.123+0000\",\"statistic\":\"Average\",)"
      R"(\"period\":300,\"recentDatapoints\":[91.5],\"threshold\":80.0}",)"
      R"("stateChangeTime":"2023-10-26T16:42:00.123Z","namespace":"AWS/EC2",)"
      R"("metricName":"CPUUtilization","dimensions":{"InstanceId":"i-1234567890abcdef0"},)"
      R"("threshold":80.0,"tags":{"cost-center":"web"}}},"client":"trailwatch"})");
  EXPECT_EQ(requests[1].body,
            R"({"routing_key":"0123456789abcdef0123456789abcdef","event_action":"resolve",)"
            R"("dedup_key":"trailwatch/arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU"})");
  const std::string dedup = R"("dedup_key":")" + std::string(kDedupKey) + R"(")";
  EXPECT_NE(requests[0].body.find(dedup), std::string::npos);
  EXPECT_NE(requests[1].body.find(dedup), std::string::npos);
  EXPECT_EQ(requests[0].body, expected_body(target, high_cpu()).body);
  EXPECT_EQ(requests[1].body, expected_body(target, high_cpu_ok()).body);
}

// =============================================================================================
// 2. Response classification through real exchanges
// =============================================================================================

TEST(ClassifyExchangeTest, StatusesOfARealPeer) {
  TestHttpReceiver receiver;
  receiver.set_script([](const ReceivedRequest&, size_t i) {
    switch (i) {
      case 0:
        return ScriptedReply::status_only(500, "Internal Server Error");
      case 1:
        return ScriptedReply::status_only(503, "Service Unavailable");
      case 2: {
        ScriptedReply r = ScriptedReply::status_only(429, "rate_limited");
        r.headers.emplace_back("Retry-After", "7");
        return r;
      }
      case 3:
        return ScriptedReply::status_only(404, "no_service\nat all");
      case 4:
        return ScriptedReply::status_only(400, "invalid_payload");
      default:
        return ScriptedReply::status_only(204);
    }
  });
  ASSERT_TRUE(receiver.start());
  const ManualClock clock(kNowSeconds);
  const auto connector =
      connector_of(webhook_target("slack", receiver.url("/hook")), environment(clock));
  ASSERT_NE(connector, nullptr);

  struct Want {
    Outcome outcome;
    int status;
    std::optional<milliseconds> retry_after;
    std::string detail;
  };

  const std::vector<Want> wants = {
      {Outcome::kRetry, 500, std::nullopt, "HTTP 500: Internal Server Error"},
      {Outcome::kRetry, 503, std::nullopt, "HTTP 503: Service Unavailable"},
      {Outcome::kRetry, 429, milliseconds(7000), "HTTP 429: rate_limited"},
      {Outcome::kFailed, 404, std::nullopt, "HTTP 404: no_service at all"},
      {Outcome::kFailed, 400, std::nullopt, "HTTP 400: invalid_payload"},
      {Outcome::kDelivered, 204, std::nullopt, ""},
  };
  for (size_t i = 0; i < wants.size(); ++i) {
    SCOPED_TRACE(i);
    const AttemptResult r = connector->attempt(high_cpu(), 1);
    EXPECT_EQ(r.outcome, wants[i].outcome);
    EXPECT_EQ(r.http_status, wants[i].status);
    EXPECT_EQ(r.retry_after, wants[i].retry_after);
    EXPECT_EQ(r.detail, wants[i].detail);
  }
  EXPECT_EQ(receiver.request_count(), wants.size());
}

TEST(ClassifyExchangeTest, TransportFailuresAreRetriedButAnUntrustedCertificateIsNot) {
  const ManualClock clock(kNowSeconds);
  TestHttpReceiver receiver;
  receiver.set_script([](const ReceivedRequest&, size_t i) {
    return i == 0 ? ScriptedReply::hang() : ScriptedReply::close();
  });
  ASSERT_TRUE(receiver.start());
  ActionTargetConfig target = webhook_target("eventbridge", receiver.url("/hook"));
  target.delivery.timeout = Duration::millis(200);
  const auto connector = connector_of(target, environment(clock));
  ASSERT_NE(connector, nullptr);

  const auto started = std::chrono::steady_clock::now();
  const AttemptResult hung = connector->attempt(high_cpu(), 1);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(hung.outcome, Outcome::kRetry);
  EXPECT_EQ(hung.http_status, 0);
  EXPECT_TRUE(hung.detail.starts_with("timeout: ")) << hung.detail;
  EXPECT_GE(took, milliseconds(190));
  EXPECT_LT(took, milliseconds(3000));

  const AttemptResult closed = connector->attempt(high_cpu(), 2);
  EXPECT_EQ(closed.outcome, Outcome::kRetry);
  EXPECT_EQ(closed.http_status, 0);
  EXPECT_TRUE(closed.detail.starts_with("connection_failed: ")) << closed.detail;
  EXPECT_EQ(receiver.request_count(), 2U);

  receiver.stop();
  const AttemptResult refused = connector->attempt(high_cpu(), 3);
  EXPECT_EQ(refused.outcome, Outcome::kRetry);
  EXPECT_EQ(refused.http_status, 0);
  EXPECT_TRUE(refused.detail.starts_with("connection_failed: ")) << refused.detail;

  TestHttpReceiver tls;
  ASSERT_TRUE(tls.use_tls(kTlsDir + "server.crt", kTlsDir + "server.key"));
  ASSERT_TRUE(tls.start());
  ActionTargetConfig trusted = webhook_target("eventbridge", tls.url("/hook"));
  trusted.ca_file = kTlsDir + "server.crt";
  const auto good = connector_of(trusted, environment(clock));
  ASSERT_NE(good, nullptr);
  EXPECT_EQ(good->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
  ASSERT_EQ(tls.request_count(), 1U);
  EXPECT_EQ(tls.requests()[0].body, kEventJson);

  ActionTargetConfig untrusted = trusted;
  untrusted.ca_file = kTlsDir + "other-ca.crt";
  const auto bad = connector_of(untrusted, environment(clock));
  ASSERT_NE(bad, nullptr);
  const AttemptResult rejected = bad->attempt(high_cpu(), 1);
  EXPECT_EQ(rejected.outcome, Outcome::kFailed);
  EXPECT_EQ(rejected.http_status, 0);
  EXPECT_TRUE(rejected.detail.starts_with("tls_failed: ")) << rejected.detail;
  EXPECT_EQ(tls.request_count(), 1U);  // Nothing reached the server.
}

// =============================================================================================
// 3. Failure injection through the dispatcher, with real webhook connectors
// =============================================================================================

/// Every attempt's result, observed around a real connector, so a test can wait for attempts
/// that never reach a receiver (a refused connection).
class AttemptLog {
 public:
  void record(AttemptResult result) {
    {
      const std::lock_guard lock(mutex_);
      results_.push_back(std::move(result));
    }
    cv_.notify_all();
  }

  bool wait_for(size_t n, milliseconds timeout = seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return results_.size() >= n; });
  }

  std::vector<AttemptResult> results() const {
    const std::lock_guard lock(mutex_);
    return results_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<AttemptResult> results_;
};

class ObservedConnector final : public ActionConnector {
 public:
  ObservedConnector(std::unique_ptr<ActionConnector> inner, AttemptLog& log)
      : inner_(std::move(inner)), log_(log) {}

  AttemptResult attempt(const ActionRequest& request, int attempt) override {
    AttemptResult result = inner_->attempt(request, attempt);
    log_.record(result);
    return result;
  }

  std::string describe(const ActionRequest& request) override { return inner_->describe(request); }

 private:
  std::unique_ptr<ActionConnector> inner_;
  AttemptLog& log_;
};

class DispatcherDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.start()); }

  [[nodiscard]] ActionTargetConfig target(int max_attempts = 5) const {
    ActionTargetConfig t = webhook_target("eventbridge", receiver_.url("/hook"));
    t.delivery.max_attempts = max_attempts;
    t.delivery.initial_backoff = Duration::millis(10);
    t.delivery.max_backoff = Duration::millis(50);
    t.delivery.timeout = Duration::seconds(2);
    return t;
  }

  /// A dispatcher over the real connector factory, every attempt observed in `attempts_`.
  std::unique_ptr<ActionDispatcher> dispatcher(const ActionTargetConfig& t) {
    ActionDispatcherOptions options;
    options.actions.targets = {t};
    options.factory =
        [this, real = connector_factory(environment(clock_))](const ActionTargetConfig& config)
        -> pipeline::Result<std::unique_ptr<ActionConnector>> {
      auto made = real(config);
      if (!made.is_ok()) {
        return made.status();
      }
      return std::unique_ptr<ActionConnector>(
          std::make_unique<ObservedConnector>(std::move(made).value(), attempts_));
    };
    options.log = [](std::string_view) {
    };
    auto created = ActionDispatcher::create(std::move(options));
    EXPECT_TRUE(created.is_ok()) << created.status().message();
    return created.is_ok() ? std::move(created).value() : nullptr;
  }

  static std::shared_ptr<const ActionRequest> action(const ActionRequest& r) {
    return std::make_shared<const ActionRequest>(r);
  }

  ManualClock clock_{kNowSeconds};
  TestHttpReceiver receiver_;
  AttemptLog attempts_;
};

TEST_F(DispatcherDeliveryTest, TwoServerErrorsThenDeliveredWithOneIdempotencyKey) {
  receiver_.set_script([](const ReceivedRequest&, size_t i) {
    return i < 2 ? ScriptedReply::status_only(500, "boom") : ScriptedReply::ok("ok");
  });
  const auto d = dispatcher(target());
  ASSERT_NE(d, nullptr);
  d->submit(action(high_cpu()));
  ASSERT_TRUE(d->wait_idle(seconds(10)));
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 3U);
  for (const ReceivedRequest& r : requests) {
    EXPECT_EQ(r.header("Idempotency-Key"), kKey);
    EXPECT_EQ(r.body, kEventJson);  // A retry sends the same bytes.
  }
  EXPECT_TRUE(d->take_failures().empty());
  EXPECT_TRUE(d->pending().empty());
  const auto results = attempts_.results();
  ASSERT_EQ(results.size(), 3U);
  EXPECT_EQ(results[2].outcome, Outcome::kDelivered);
}

TEST_F(DispatcherDeliveryTest, AlwaysFailingIsDeadLetteredAfterMaxAttempts) {
  receiver_.set_script(
      [](const ReceivedRequest&, size_t) { return ScriptedReply::status_only(500, "down"); });
  const auto d = dispatcher(target(3));
  ASSERT_NE(d, nullptr);
  d->submit(action(high_cpu()));
  ASSERT_TRUE(d->wait_idle(seconds(10)));
  EXPECT_EQ(receiver_.request_count(), 3U);
  const auto failures = d->take_failures();
  ASSERT_EQ(failures.size(), 1U);
  EXPECT_EQ(failures[0].reason, "attempts_exhausted");
  EXPECT_EQ(failures[0].http_status, 500);
  EXPECT_EQ(failures[0].attempts, 3);
  EXPECT_EQ(failures[0].target, "ops-hook");
  EXPECT_EQ(failures[0].request.key, kKey);
  EXPECT_EQ(failures[0].detail, "HTTP 500: down");
  EXPECT_TRUE(d->take_failures().empty());
}

TEST_F(DispatcherDeliveryTest, NotFoundIsRejectedAfterOneRequest) {
  receiver_.set_script(
      [](const ReceivedRequest&, size_t) { return ScriptedReply::status_only(404, "no_team"); });
  const auto d = dispatcher(target());
  ASSERT_NE(d, nullptr);
  d->submit(action(high_cpu()));
  ASSERT_TRUE(d->wait_idle(seconds(10)));
  EXPECT_EQ(receiver_.request_count(), 1U);
  const auto failures = d->take_failures();
  ASSERT_EQ(failures.size(), 1U);
  EXPECT_EQ(failures[0].reason, "rejected");
  EXPECT_EQ(failures[0].http_status, 404);
  EXPECT_EQ(failures[0].attempts, 1);
}

TEST_F(DispatcherDeliveryTest, AHungReceiverTimesOutAndALaterAttemptDelivers) {
  receiver_.set_script([](const ReceivedRequest&, size_t i) {
    return i == 0 ? ScriptedReply::hang() : ScriptedReply::ok("ok");
  });
  ActionTargetConfig t = target();
  t.delivery.timeout = Duration::millis(200);
  const auto d = dispatcher(t);
  ASSERT_NE(d, nullptr);
  d->submit(action(high_cpu()));
  ASSERT_TRUE(d->wait_idle(seconds(10)));
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].header("Idempotency-Key"), kKey);
  EXPECT_EQ(requests[1].header("Idempotency-Key"), kKey);
  const auto results = attempts_.results();
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[0].outcome, Outcome::kRetry);
  EXPECT_TRUE(results[0].detail.starts_with("timeout")) << results[0].detail;
  EXPECT_EQ(results[1].outcome, Outcome::kDelivered);
  EXPECT_TRUE(d->take_failures().empty());
}

TEST_F(DispatcherDeliveryTest, ARefusingReceiverRestartedOnTheSamePortGetsTheAction) {
  const int port = receiver_.port();
  receiver_.stop();
  const ActionTargetConfig t = target(20);  // 20 attempts of at most 50 ms backoff: ample time.
  const auto d = dispatcher(t);
  ASSERT_NE(d, nullptr);
  d->submit(action(high_cpu()));
  ASSERT_TRUE(attempts_.wait_for(2));  // Two refused attempts, then the receiver comes back.
  ASSERT_TRUE(receiver_.start(port));
  ASSERT_EQ(receiver_.port(), port);
  ASSERT_TRUE(d->wait_idle(seconds(10)));
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].header("Idempotency-Key"), kKey);
  EXPECT_EQ(requests[0].body, kEventJson);
  const auto results = attempts_.results();
  ASSERT_GE(results.size(), 3U);
  for (size_t i = 0; i + 1 < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome, Outcome::kRetry) << i;
    EXPECT_EQ(results[i].http_status, 0) << i;
    EXPECT_TRUE(results[i].detail.starts_with("connection_failed")) << results[i].detail;
  }
  EXPECT_EQ(results.back().outcome, Outcome::kDelivered);
  EXPECT_TRUE(d->take_failures().empty());
}

TEST_F(DispatcherDeliveryTest, AReceiverDownForAMinuteGetsTheActionWhenItReturns) {
  // A real outage length: the backoff grows to its cap and the action outlives the outage
  // (20 attempts with waits of up to 20 s cannot all be spent within a minute, whatever the
  // jitter draws: the first five waits are capped at 1, 2, 4, 8 and 16 s).
  const int port = receiver_.port();
  receiver_.stop();
  ActionTargetConfig t = target(20);
  t.delivery.initial_backoff = Duration::seconds(1);
  t.delivery.max_backoff = Duration::seconds(20);
  const auto d = dispatcher(t);
  ASSERT_NE(d, nullptr);
  const auto down_since = std::chrono::steady_clock::now();
  d->submit(action(high_cpu()));
  ASSERT_TRUE(attempts_.wait_for(1));
  // The outage: a minute of wall time in which the dispatcher keeps failing to connect.
  std::this_thread::sleep_until(down_since + seconds(60));
  EXPECT_EQ(d->pending().size(), 1U);
  EXPECT_TRUE(d->take_failures().empty());
  ASSERT_TRUE(receiver_.start(port));
  ASSERT_TRUE(d->wait_idle(seconds(30)));
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].header("Idempotency-Key"), kKey);
  const auto results = attempts_.results();
  EXPECT_GE(results.size(), 5U);   // Retried through the outage...
  EXPECT_LE(results.size(), 20U);  // ...within the attempts allowed.
  EXPECT_EQ(results.back().outcome, Outcome::kDelivered);
  EXPECT_TRUE(d->take_failures().empty());
}

TEST_F(DispatcherDeliveryTest, RetryAfterOfARealResponseIsHonoured) {
  receiver_.set_script([](const ReceivedRequest&, size_t i) {
    if (i == 0) {
      ScriptedReply r = ScriptedReply::status_only(429, "slow down");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return ScriptedReply::ok("ok");
  });
  const auto d = dispatcher(target());
  ASSERT_NE(d, nullptr);
  const auto submitted = std::chrono::steady_clock::now();
  d->submit(action(high_cpu()));
  ASSERT_TRUE(receiver_.wait_for(1));
  const auto first = std::chrono::steady_clock::now();
  ASSERT_TRUE(d->wait_idle(seconds(10)));
  const auto done = std::chrono::steady_clock::now();
  EXPECT_EQ(receiver_.request_count(), 2U);
  // The backoff alone is at most 50 ms; Retry-After asks for a second.
  EXPECT_GE(done - first, milliseconds(950));
  EXPECT_LT(done - submitted, seconds(5));
  EXPECT_TRUE(d->take_failures().empty());
}

TEST_F(DispatcherDeliveryTest, AnActionWaitingForRetriesHoldsBackTheNextOne) {
  receiver_.set_script([](const ReceivedRequest&, size_t i) {
    return i < 2 ? ScriptedReply::status_only(503, "busy") : ScriptedReply::ok("ok");
  });
  const auto d = dispatcher(target());
  ASSERT_NE(d, nullptr);
  ActionRequest ok = high_cpu_ok();
  ok.notice.event_json = R"({"version":"0","detail-type":"CloudWatch Alarm State Change",)"
                         R"("detail":{"alarmName":"HighCPU","state":{"value":"OK"}}})";
  d->submit(action(high_cpu()));
  d->submit(action(ok));
  ASSERT_TRUE(d->wait_idle(seconds(10)));
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 4U);
  const std::vector<std::string_view> keys = {kKey, kKey, kKey, kOkKey};
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(requests[i].header("Idempotency-Key"), keys[i]) << i;
  }
  EXPECT_EQ(requests[3].body, ok.notice.event_json);
  EXPECT_TRUE(d->take_failures().empty());
}

// =============================================================================================
// 4. EC2 and Auto Scaling: signed Query API calls to a fake AWS endpoint
// =============================================================================================

constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kPolicyArn =
    "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:"
    "c2d1e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f:autoScalingGroupName/web-asg:policyName/scale-out";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

std::string form_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
               hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

using Params = std::multimap<std::string, std::string>;

/// An `application/x-www-form-urlencoded` body as a multimap, as an AWS endpoint reads it.
Params decode_form(std::string_view body) {
  Params out;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const size_t eq = pair.find('=');
    out.emplace(form_decode(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1)));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return out;
}

class AwsQueryConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver_.set_script([this](const ReceivedRequest&, size_t) {
      const std::lock_guard lock(mutex_);
      return reply_;
    });
    ASSERT_TRUE(receiver_.start());
  }

  void reply_with(ScriptedReply reply) {
    const std::lock_guard lock(mutex_);
    reply_ = std::move(reply);
  }

  [[nodiscard]] ConnectorEnvironment env() {
    ConnectorEnvironment e = environment(clock_);
    e.aws_endpoints = {{"ec2", receiver_.url()}, {"autoscaling", receiver_.url()}};
    e.aws_credentials = [this]() -> pipeline::Result<AwsCredentials> {
      AwsCredentials c;
      c.access_key_id = std::string(kAccessKey);
      c.secret_access_key = std::string(kSecretKey);
      c.session_token = session_token_;
      return c;
    };
    return e;
  }

  /// Checks what an AWS endpoint checks: the request line, the content type, the date, and the
  /// signature, recomputed from the request exactly as it arrived.
  void expect_signed(const ReceivedRequest& got, std::string_view region,
                     std::string_view service) const {
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.target, "/");
    EXPECT_EQ(got.header("Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
    EXPECT_EQ(got.header("Host"), "127.0.0.1:" + std::to_string(receiver_.port()));
    EXPECT_EQ(got.header("X-Amz-Date"), "20150830T123600Z");
    SigV4Request as_received;
    as_received.method = got.method;
    as_received.path = got.path();
    as_received.query = got.query();
    as_received.headers = {{"Content-Type", got.header("Content-Type")},
                           {"Host", got.header("Host")},
                           {"X-Amz-Date", got.header("X-Amz-Date")}};
    if (!session_token_.empty()) {
      EXPECT_EQ(got.header("X-Amz-Security-Token"), session_token_);
      as_received.headers.emplace_back("X-Amz-Security-Token", got.header("X-Amz-Security-Token"));
    } else {
      EXPECT_FALSE(has_header(got, "X-Amz-Security-Token"));
    }
    as_received.body = got.body;
    AwsCredentials known;
    known.access_key_id = std::string(kAccessKey);
    known.secret_access_key = std::string(kSecretKey);
    const auto signature = sign(as_received, known, region, service, "20150830T123600Z");
    ASSERT_TRUE(signature.is_ok()) << signature.status().message();
    EXPECT_EQ(got.header("Authorization"), signature.value().authorization);
    const std::string signed_headers = session_token_.empty()
                                           ? "content-type;host;x-amz-date"
                                           : "content-type;host;x-amz-date;x-amz-security-token";
    EXPECT_TRUE(got.header("Authorization")
                    .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/" +
                                 std::string(region) + "/" + std::string(service) +
                                 "/aws4_request, SignedHeaders=" + signed_headers + ", Signature="))
        << got.header("Authorization");
  }

  ManualClock clock_{kAwsNowSeconds};
  TestHttpReceiver receiver_;
  std::string session_token_;
  std::mutex mutex_;
  ScriptedReply reply_ = ScriptedReply::ok(
      R"(<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
      R"(<requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId><instancesSet><item>)"
      R"(<instanceId>i-1234567890abcdef0</instanceId>)"
      R"(<currentState><code>64</code><name>stopping</name></currentState>)"
      R"(<previousState><code>16</code><name>running</name></previousState>)"
      R"(</item></instancesSet></StopInstancesResponse>)",
      "text/xml;charset=UTF-8");
};

ActionTargetConfig ec2_target(std::string operation) {
  ActionTargetConfig t;
  t.name = "arn:aws:automate:us-east-1:ec2:" + operation;
  t.type = ActionTargetConfig::Type::kEc2;
  t.operation = std::move(operation);
  t.delivery.timeout = Duration::seconds(5);
  return t;
}

TEST_F(AwsQueryConnectorTest, Ec2StopOfTheAlarmsInstanceIsSignedAsReceived) {
  const auto connector = connector_of(ec2_target("stop"), env());
  ASSERT_NE(connector, nullptr);
  ActionRequest request = high_cpu();
  request.action = "arn:aws:automate:us-east-1:ec2:stop";
  const AttemptResult result = connector->attempt(request, 1);
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
  EXPECT_EQ(result.http_status, 200);
  ASSERT_EQ(receiver_.request_count(), 1U);
  const ReceivedRequest got = receiver_.requests()[0];
  expect_signed(got, "us-east-1", "ec2");
  EXPECT_EQ(decode_form(got.body), (Params{{"Action", "StopInstances"},
                                           {"Version", "2016-11-15"},
                                           {"InstanceId.1", "i-1234567890abcdef0"}}));
  EXPECT_EQ(got.body, "Action=StopInstances&Version=2016-11-15&InstanceId.1=i-1234567890abcdef0");
  EXPECT_EQ(got.header("Idempotency-Key"), kKey);
}

TEST_F(AwsQueryConnectorTest, Ec2TerminateAndRebootOfConfiguredInstancesWithASessionToken) {
  session_token_ = "IQoJb3JpZ2luX2VjEXAMPLE//SESSION+TOKEN==";
  for (const std::string_view operation : {"terminate", "reboot"}) {
    const std::string op(operation);
    SCOPED_TRACE(op);
    ActionTargetConfig t = ec2_target(op);
    t.name = "ec2-" + op;
    t.region = "eu-west-1";
    t.instance_ids = {"i-0a1b2c3d4e5f60718", "i-0fedcba9876543210"};
    const auto connector = connector_of(t, env());
    ASSERT_NE(connector, nullptr);
    reply_with(ScriptedReply::ok(
        op == "reboot"
            ? R"(<RebootInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
              R"(<requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>)"
              R"(<return>true</return></RebootInstancesResponse>)"
            : R"(<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
              R"(<requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId><instancesSet>)"
              R"(<item><instanceId>i-0a1b2c3d4e5f60718</instanceId><currentState><code>32</code>)"
              R"(<name>shutting-down</name></currentState><previousState><code>16</code>)"
              R"(<name>running</name></previousState></item></instancesSet>)"
              R"(</TerminateInstancesResponse>)",
        "text/xml;charset=UTF-8"));
    const size_t before = receiver_.request_count();
    const AttemptResult result = connector->attempt(high_cpu(), 1);
    EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
    ASSERT_EQ(receiver_.request_count(), before + 1);
    const ReceivedRequest got = receiver_.requests().back();
    expect_signed(got, "eu-west-1", "ec2");
    EXPECT_EQ(decode_form(got.body),
              (Params{{"Action", op == "terminate" ? "TerminateInstances" : "RebootInstances"},
                      {"Version", "2016-11-15"},
                      {"InstanceId.1", "i-0a1b2c3d4e5f60718"},
                      {"InstanceId.2", "i-0fedcba9876543210"}}));
  }
}

TEST_F(AwsQueryConnectorTest, AutoScalingExecutePolicyByArnCarriesMetricValueAndThreshold) {
  ActionTargetConfig t;
  t.name = std::string(kPolicyArn);
  t.type = ActionTargetConfig::Type::kAutoScaling;
  t.operation = "execute_policy";
  t.policy = std::string(kPolicyArn);
  reply_with(ScriptedReply::ok(
      R"(<ExecutePolicyResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">)"
      R"(<ResponseMetadata><RequestId>7c6e177f-f082-11e1-ac58-3714bEXAMPLE</RequestId>)"
      R"(</ResponseMetadata></ExecutePolicyResponse>)",
      "text/xml"));
  const auto connector = connector_of(t, env());
  ASSERT_NE(connector, nullptr);
  const AttemptResult result = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
  ASSERT_EQ(receiver_.request_count(), 1U);
  const ReceivedRequest got = receiver_.requests()[0];
  expect_signed(got, "us-east-1", "autoscaling");
  EXPECT_EQ(decode_form(got.body), (Params{{"Action", "ExecutePolicy"},
                                           {"Version", "2011-01-01"},
                                           {"PolicyName", std::string(kPolicyArn)},
                                           {"MetricValue", "91.5"},
                                           {"BreachThreshold", "80.0"}}));
}

TEST_F(AwsQueryConnectorTest, AutoScalingSetDesiredCapacity) {
  session_token_ = "SESSIONTOKENEXAMPLE";
  ActionTargetConfig t;
  t.name = "web-asg-to-6";
  t.type = ActionTargetConfig::Type::kAutoScaling;
  t.operation = "set_desired_capacity";
  t.group = "web asg";
  t.replicas = 6;
  t.honor_cooldown = true;
  const auto connector = connector_of(t, env());
  ASSERT_NE(connector, nullptr);
  const AttemptResult result = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
  ASSERT_EQ(receiver_.request_count(), 1U);
  const ReceivedRequest got = receiver_.requests()[0];
  expect_signed(got, "us-east-1", "autoscaling");
  EXPECT_EQ(decode_form(got.body), (Params{{"Action", "SetDesiredCapacity"},
                                           {"Version", "2011-01-01"},
                                           {"AutoScalingGroupName", "web asg"},
                                           {"DesiredCapacity", "6"},
                                           {"HonorCooldown", "true"}}));
}

TEST_F(AwsQueryConnectorTest, ErrorsAreRetriedOrFinalByTheirCode) {
  const auto ec2 = connector_of(ec2_target("stop"), env());
  ASSERT_NE(ec2, nullptr);

  reply_with(ScriptedReply{
      ScriptedReply::Kind::kRespond,
      503,
      "text/xml;charset=UTF-8",
      {},
      R"(<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>)"
      R"(<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>)"
      R"(</Error></Errors><RequestID>d5b0e6a8-example-throttle</RequestID></Response>)"});
  const AttemptResult throttled = ec2->attempt(high_cpu(), 1);
  EXPECT_EQ(throttled.outcome, Outcome::kRetry);
  EXPECT_EQ(throttled.http_status, 503);
  EXPECT_NE(throttled.detail.find("RequestLimitExceeded"), std::string::npos) << throttled.detail;

  reply_with(ScriptedReply{
      ScriptedReply::Kind::kRespond,
      401,
      "text/xml;charset=UTF-8",
      {},
      R"(<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>)"
      R"(<Code>AuthFailure</Code><Message>AWS was not able to validate the provided access )"
      R"(credentials</Message></Error></Errors><RequestID>ea966190-example</RequestID></Response>)"});
  const AttemptResult denied = ec2->attempt(high_cpu(), 2);
  EXPECT_EQ(denied.outcome, Outcome::kFailed);
  EXPECT_EQ(denied.http_status, 401);
  EXPECT_EQ(denied.detail,
            "HTTP 401 AuthFailure: AWS was not able to validate the provided access credentials "
            "(request ea966190-example)");

  ActionTargetConfig as;
  as.name = "asg";
  as.type = ActionTargetConfig::Type::kAutoScaling;
  as.operation = "execute_policy";
  as.group = "web-asg";
  as.policy = "scale-out";
  const auto autoscaling = connector_of(as, env());
  ASSERT_NE(autoscaling, nullptr);
  reply_with(ScriptedReply{
      ScriptedReply::Kind::kRespond,
      400,
      "text/xml",
      {},
      R"(<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error>)"
      R"(<Type>Sender</Type><Code>ValidationError</Code>)"
      R"(<Message>Policy scale-out not found</Message></Error>)"
      R"(<RequestId>7c6e177f-example</RequestId></ErrorResponse>)"});
  const AttemptResult invalid = autoscaling->attempt(high_cpu(), 1);
  EXPECT_EQ(invalid.outcome, Outcome::kFailed);
  EXPECT_EQ(invalid.http_status, 400);
  EXPECT_NE(invalid.detail.find("ValidationError"), std::string::npos) << invalid.detail;
  ASSERT_EQ(receiver_.request_count(), 3U);
  EXPECT_EQ(decode_form(receiver_.requests()[2].body), (Params{{"Action", "ExecutePolicy"},
                                                               {"Version", "2011-01-01"},
                                                               {"AutoScalingGroupName", "web-asg"},
                                                               {"PolicyName", "scale-out"},
                                                               {"MetricValue", "91.5"},
                                                               {"BreachThreshold", "80.0"}}));
  expect_signed(receiver_.requests()[2], "us-east-1", "autoscaling");
}

TEST_F(AwsQueryConnectorTest, NoInstanceToStopFailsWithoutARequest) {
  const auto connector = connector_of(ec2_target("stop"), env());
  ASSERT_NE(connector, nullptr);
  ActionRequest request = high_cpu();
  request.notice.dimensions = {{"AutoScalingGroupName", "web-asg"}};
  const AttemptResult result = connector->attempt(request, 1);
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_NE(result.detail.find("InstanceId"), std::string::npos) << result.detail;
  EXPECT_EQ(receiver_.request_count(), 0U);
}

// =============================================================================================
// 5. Kubernetes scale subresource over TLS
// =============================================================================================

std::string scale_json(std::string_view name, int replicas) {
  const std::string n = std::to_string(replicas);
  return R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":")" +
         std::string(name) +
         R"(","namespace":"shop","uid":"5c1d0f6e-8a3b-4c2d-9e1f-0a2b3c4d5e6f",)"
         R"("resourceVersion":"418857","creationTimestamp":"2026-01-01T10:00:00Z"},)"
         R"("spec":{"replicas":)" +
         n + R"(},"status":{"replicas":)" + n + R"(,"selector":"app=)" + std::string(name) +
         R"("}})";
}

std::string status_json(int code, std::string_view reason, std::string_view message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         std::string(message) + R"(","reason":")" + std::string(reason) +
         R"(","details":{"name":"web","group":"apps","kind":"deployments"},"code":)" +
         std::to_string(code) + "}";
}

/// A TLS receiver acting as the API server: it holds a workload's replica count, answers GET
/// with the Scale object and applies a PATCH's `replace` value (or answers `patch_status_`).
class KubernetesScaleConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(receiver_.use_tls(kTlsDir + "server.crt", kTlsDir + "server.key"));
    receiver_.set_script([this](const ReceivedRequest& r, size_t) {
      const std::string name = r.path().find("/statefulsets/") != std::string::npos ? "db" : "web";
      if (r.method == "GET") {
        if (get_status_ != 200) {
          const bool expired = get_status_ == 401;
          return ScriptedReply{ScriptedReply::Kind::kRespond,
                               get_status_,
                               "application/json",
                               {},
                               status_json(get_status_, expired ? "Unauthorized" : "Forbidden",
                                           expired ? "Unauthorized" : "forbidden")};
        }
        return ScriptedReply::ok(scale_json(name, replicas_), "application/json");
      }
      if (patch_status_ != 200) {
        return ScriptedReply{
            ScriptedReply::Kind::kRespond,
            patch_status_,
            "application/json",
            {},
            status_json(patch_status_, patch_status_ == 403 ? "Forbidden" : "Conflict", "no")};
      }
      const std::string_view marker = R"("op":"replace","path":"/spec/replicas","value":)";
      const size_t at = r.body.find(marker);
      if (at != std::string::npos) {
        replicas_ = std::stoi(r.body.substr(at + marker.size()));
      }
      return ScriptedReply::ok(scale_json(name, replicas_), "application/json");
    });
    ASSERT_TRUE(receiver_.start());
    token_file_ = dir_.write("token", "eyJhbGciOiJSUzI1NiJ9.token-one\n");
  }

  [[nodiscard]] ActionTargetConfig target() const {
    ActionTargetConfig t;
    t.name = "scale-web";
    t.type = ActionTargetConfig::Type::kKubernetesScale;
    t.api_server = receiver_.url();
    t.ca_file = kTlsDir + "server.crt";
    t.token_file = token_file_;
    t.kubernetes_namespace = "shop";
    t.kind = "Deployment";
    t.workload = "web";
    t.mode = ActionTargetConfig::ScaleMode::kAdd;
    t.replicas = 2;
    t.min_replicas = 1;
    t.max_replicas = 10;
    t.delivery.timeout = Duration::seconds(5);
    return t;
  }

  static constexpr std::string_view kDeploymentScale =
      "/apis/apps/v1/namespaces/shop/deployments/web/scale";

  ManualClock clock_{kNowSeconds};
  TempDir dir_;
  std::string token_file_;
  TestHttpReceiver receiver_;
  std::atomic<int> replicas_{3};
  std::atomic<int> get_status_{200};
  std::atomic<int> patch_status_{200};
};

TEST_F(KubernetesScaleConnectorTest, AddReadsTheScaleThenPatchesItWithATestOp) {
  const auto connector = connector_of(target(), environment(clock_));
  ASSERT_NE(connector, nullptr);
  const AttemptResult result = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.detail, "3 -> 5 replicas");
  ASSERT_EQ(receiver_.request_count(), 2U);
  const auto requests = receiver_.requests();
  const ReceivedRequest& get = requests[0];
  EXPECT_EQ(get.method, "GET");
  EXPECT_EQ(get.target, kDeploymentScale);
  EXPECT_EQ(get.header("Authorization"), "Bearer eyJhbGciOiJSUzI1NiJ9.token-one");
  EXPECT_EQ(get.header("Accept"), "application/json");
  EXPECT_EQ(get.body, "");
  const ReceivedRequest& patch = requests[1];
  EXPECT_EQ(patch.method, "PATCH");
  EXPECT_EQ(patch.path(), kDeploymentScale);
  EXPECT_EQ(patch.query(), "fieldManager=trailwatch");
  EXPECT_EQ(patch.header("Content-Type"), "application/json-patch+json");
  EXPECT_EQ(patch.header("Authorization"), "Bearer eyJhbGciOiJSUzI1NiJ9.token-one");
  EXPECT_EQ(patch.header("Idempotency-Key"), kKey);
  EXPECT_EQ(patch.body, R"([{"op":"test","path":"/spec/replicas","value":3},)"
                        R"({"op":"replace","path":"/spec/replicas","value":5}])");
  EXPECT_EQ(replicas_.load(), 5);
}

TEST_F(KubernetesScaleConnectorTest, InAPodTheApiServerComesFromTheServiceEnvironment) {
  // No api_server: what the kubelet injects into every pod names it.
  ActionTargetConfig t = target();
  t.api_server.clear();
  ConnectorEnvironment env = environment(clock_);
  const std::string port = std::to_string(receiver_.port());
  env.getenv = [port](std::string_view name) -> std::optional<std::string> {
    if (name == "KUBERNETES_SERVICE_HOST") {
      return "127.0.0.1";
    }
    if (name == "KUBERNETES_SERVICE_PORT") {
      return port;
    }
    return std::nullopt;
  };
  const auto connector = connector_of(t, env);
  ASSERT_NE(connector, nullptr);
  EXPECT_EQ(connector->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
  ASSERT_EQ(receiver_.request_count(), 2U);
  EXPECT_EQ(receiver_.requests()[1].path(), kDeploymentScale);
  // Outside a pod, without api_server, the target cannot be built.
  EXPECT_FALSE(make_action_connector(t, environment(clock_)).is_ok());
}

TEST_F(KubernetesScaleConnectorTest, TheCooldownSurvivesARestart) {
  ActionTargetConfig t = target();
  t.cooldown = Duration::seconds(300);
  std::string state;
  {
    const auto first = connector_of(t, environment(clock_));
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->save_state(), "");  // Never scaled: nothing to keep.
    EXPECT_EQ(first->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
    state = first->save_state();
  }
  ASSERT_FALSE(state.empty());
  ASSERT_EQ(receiver_.request_count(), 2U);
  // The restarted worker's connector, a minute later: still in the cooldown, no request.
  clock_.advance(seconds(60));
  const auto second = connector_of(t, environment(clock_));
  ASSERT_NE(second, nullptr);
  second->load_state(state);
  EXPECT_EQ(second->attempt(high_cpu(), 1).outcome, Outcome::kSkipped);
  EXPECT_EQ(receiver_.request_count(), 2U);
  // Malformed state changes nothing; after the cooldown it scales again.
  second->load_state("x");
  clock_.advance(seconds(240));
  EXPECT_EQ(second->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
  EXPECT_EQ(receiver_.request_count(), 4U);
}

TEST_F(KubernetesScaleConnectorTest, TheTokenFileIsReadAgainForEveryAttempt) {
  const auto connector = connector_of(target(), environment(clock_));
  ASSERT_NE(connector, nullptr);
  EXPECT_EQ(connector->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
  (void)dir_.write("token", "eyJhbGciOiJSUzI1NiJ9.token-two\n");
  EXPECT_EQ(connector->attempt(high_cpu("ALARM", "OK", kOkKey), 1).outcome, Outcome::kDelivered);
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 4U);
  EXPECT_EQ(requests[1].header("Authorization"), "Bearer eyJhbGciOiJSUzI1NiJ9.token-one");
  EXPECT_EQ(requests[2].header("Authorization"), "Bearer eyJhbGciOiJSUzI1NiJ9.token-two");
  EXPECT_EQ(requests[3].header("Authorization"), "Bearer eyJhbGciOiJSUzI1NiJ9.token-two");
  EXPECT_EQ(requests[3].body, R"([{"op":"test","path":"/spec/replicas","value":5},)"
                              R"({"op":"replace","path":"/spec/replicas","value":7}])");
}

TEST_F(KubernetesScaleConnectorTest, StatefulSetSetMode) {
  ActionTargetConfig t = target();
  t.kind = "StatefulSet";
  t.workload = "db";
  t.mode = ActionTargetConfig::ScaleMode::kSet;
  t.replicas = 4;
  const auto connector = connector_of(t, environment(clock_));
  ASSERT_NE(connector, nullptr);
  EXPECT_EQ(connector->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/apis/apps/v1/namespaces/shop/statefulsets/db/scale");
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].target,
            "/apis/apps/v1/namespaces/shop/statefulsets/db/scale?fieldManager=trailwatch");
  EXPECT_EQ(requests[1].body, R"([{"op":"test","path":"/spec/replicas","value":3},)"
                              R"({"op":"replace","path":"/spec/replicas","value":4}])");
}

TEST_F(KubernetesScaleConnectorTest, AtTheMaximumNothingIsPatched) {
  replicas_ = 10;
  const auto connector = connector_of(target(), environment(clock_));
  ASSERT_NE(connector, nullptr);
  const AttemptResult result = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(result.outcome, Outcome::kSkipped) << result.detail;
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(replicas_.load(), 10);
}

TEST_F(KubernetesScaleConnectorTest, SubtractIsClampedToTheMinimum) {
  ActionTargetConfig t = target();
  t.mode = ActionTargetConfig::ScaleMode::kSubtract;
  t.replicas = 5;
  t.min_replicas = 2;
  const auto connector = connector_of(t, environment(clock_));
  ASSERT_NE(connector, nullptr);
  const AttemptResult result = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.detail;
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[1].body, R"([{"op":"test","path":"/spec/replicas","value":3},)"
                              R"({"op":"replace","path":"/spec/replicas","value":2}])");
  EXPECT_EQ(replicas_.load(), 2);
}

TEST_F(KubernetesScaleConnectorTest, NoScalingWithinTheCooldown) {
  ActionTargetConfig t = target();
  t.cooldown = Duration::seconds(300);
  const auto connector = connector_of(t, environment(clock_));
  ASSERT_NE(connector, nullptr);
  EXPECT_EQ(connector->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
  ASSERT_EQ(receiver_.request_count(), 2U);

  clock_.advance(seconds(299));
  const AttemptResult cooling = connector->attempt(high_cpu("ALARM", "OK", kOkKey), 1);
  EXPECT_EQ(cooling.outcome, Outcome::kSkipped) << cooling.detail;
  EXPECT_EQ(receiver_.request_count(), 2U);  // Not even a GET.

  clock_.advance(seconds(1));
  const AttemptResult after = connector->attempt(high_cpu("ALARM", "OK", kOkKey), 1);
  EXPECT_EQ(after.outcome, Outcome::kDelivered) << after.detail;
  ASSERT_EQ(receiver_.request_count(), 4U);
  EXPECT_EQ(receiver_.requests()[3].body, R"([{"op":"test","path":"/spec/replicas","value":5},)"
                                          R"({"op":"replace","path":"/spec/replicas","value":7}])");
}

TEST_F(KubernetesScaleConnectorTest, ConflictsAreRetriedAndForbiddenIsFinal) {
  const auto connector = connector_of(target(), environment(clock_));
  ASSERT_NE(connector, nullptr);
  for (const int status : {409, 422}) {
    SCOPED_TRACE(status);
    patch_status_ = status;
    const AttemptResult r = connector->attempt(high_cpu(), 1);
    EXPECT_EQ(r.outcome, Outcome::kRetry) << r.detail;
    EXPECT_EQ(r.http_status, status);
  }
  patch_status_ = 403;
  const AttemptResult forbidden = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(forbidden.outcome, Outcome::kFailed) << forbidden.detail;
  EXPECT_EQ(forbidden.http_status, 403);
  patch_status_ = 200;
  get_status_ = 403;
  const AttemptResult read_forbidden = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(read_forbidden.outcome, Outcome::kFailed) << read_forbidden.detail;
  EXPECT_EQ(read_forbidden.http_status, 403);
  EXPECT_TRUE(read_forbidden.detail.starts_with("GET scale: HTTP 403")) << read_forbidden.detail;
  // Three GET + PATCH pairs, then the refused GET.
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 7U);
  EXPECT_EQ(requests[6].method, "GET");
  EXPECT_EQ(replicas_.load(), 3);
}

TEST_F(KubernetesScaleConnectorTest, AnExpiredTokenIsRetriedWithTheRotatedOne) {
  // A bound service-account token expires; the API server answers the GET with 401 until the
  // kubelet has written the new token, which the next attempt reads.
  get_status_ = 401;
  const auto connector = connector_of(target(), environment(clock_));
  ASSERT_NE(connector, nullptr);
  const AttemptResult expired = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(expired.outcome, Outcome::kRetry) << expired.detail;
  EXPECT_EQ(expired.http_status, 401);
  get_status_ = 200;
  (void)dir_.write("token", "eyJhbGciOiJSUzI1NiJ9.token-two\n");
  const AttemptResult renewed = connector->attempt(high_cpu(), 2);
  EXPECT_EQ(renewed.outcome, Outcome::kDelivered) << renewed.detail;
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[0].header("Authorization"), "Bearer eyJhbGciOiJSUzI1NiJ9.token-one");
  EXPECT_EQ(requests[1].header("Authorization"), "Bearer eyJhbGciOiJSUzI1NiJ9.token-two");
  EXPECT_EQ(requests[2].method, "PATCH");
  EXPECT_EQ(requests[2].header("Authorization"), "Bearer eyJhbGciOiJSUzI1NiJ9.token-two");
}

TEST_F(KubernetesScaleConnectorTest, AnApiServerWithAnUntrustedCertificateIsNotRetried) {
  ActionTargetConfig t = target();
  t.ca_file = kTlsDir + "other-ca.crt";
  const auto connector = connector_of(t, environment(clock_));
  ASSERT_NE(connector, nullptr);
  const AttemptResult result = connector->attempt(high_cpu(), 1);
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_NE(result.detail.find("tls_failed"), std::string::npos) << result.detail;
  EXPECT_EQ(receiver_.request_count(), 0U);
}

// =============================================================================================
// 6. Alertmanager: fire, re-send, resolve, and the firing set in the checkpoint
// =============================================================================================

constexpr std::string_view kAmLabels =
    R"("labels":{"alertname":"HighCPU","source":"trailwatch","region":"us-east-1",)"
    R"("account_id":"123456789012","InstanceId":"i-1234567890abcdef0","cost_center":"web"})";

class AlertmanagerConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.start()); }

  [[nodiscard]] ActionTargetConfig target() const {
    ActionTargetConfig t;
    t.name = "alertmanager";
    t.type = ActionTargetConfig::Type::kAlertmanager;
    t.url = receiver_.url();
    t.resend_interval = Duration::seconds(60);
    t.generator_url = "https://trailwatch.example/alarms/HighCPU";
    t.delivery.timeout = Duration::seconds(5);
    return t;
  }

  ManualClock clock_{kNowSeconds};
  TestHttpReceiver receiver_;
};

std::string times(std::string_view starts, std::string_view ends) {
  return R"("startsAt":")" + std::string(starts) + R"(","endsAt":")" + std::string(ends) + R"(")";
}

TEST_F(AlertmanagerConnectorTest, FireResendResolve) {
  const auto connector = connector_of(target(), environment(clock_));
  ASSERT_NE(connector, nullptr);
  EXPECT_EQ(connector->maintenance_interval(), milliseconds(60'000));

  const ActionRequest alarm = high_cpu();
  const AttemptResult fired = connector->attempt(alarm, 1);
  EXPECT_EQ(fired.outcome, Outcome::kDelivered) << fired.detail;
  ASSERT_EQ(receiver_.request_count(), 1U);
  const ReceivedRequest fire = receiver_.requests()[0];
  EXPECT_EQ(fire.method, "POST");
  EXPECT_EQ(fire.target, "/api/v2/alerts");
  EXPECT_EQ(fire.header("Content-Type"), "application/json");
  EXPECT_EQ(fire.header("Idempotency-Key"), alarm.key);
  // endsAt = now (16:45:00) + 4 × 60 s.
  EXPECT_EQ(fire.body,
            alertmanager_body(alarm.notice, kTransition, EventTime::from_seconds(kNowSeconds + 240),
                              "https://trailwatch.example/alarms/HighCPU"));
  EXPECT_TRUE(fire.body.starts_with("[{" + std::string(kAmLabels) + ",")) << fire.body;
  EXPECT_NE(fire.body.find(times("2023-10-26T16:42:00.123Z", "2023-10-26T16:49:00.000Z")),
            std::string::npos)
      << fire.body;
  EXPECT_NE(fire.body.find(R"("state":"ALARM","previous_state":"OK")"), std::string::npos);

  // A re-send a minute later: the same alert, endsAt moved on.
  clock_.advance(seconds(60));
  connector->maintain(clock_.now());
  ASSERT_EQ(receiver_.request_count(), 2U);
  const ReceivedRequest resend = receiver_.requests()[1];
  EXPECT_EQ(resend.target, "/api/v2/alerts");
  EXPECT_EQ(resend.body,
            alertmanager_body(alarm.notice, kTransition, EventTime::from_seconds(kNowSeconds + 300),
                              "https://trailwatch.example/alarms/HighCPU"));
  EXPECT_TRUE(resend.body.starts_with("[{" + std::string(kAmLabels) + ","));
  EXPECT_NE(resend.body.find(times("2023-10-26T16:42:00.123Z", "2023-10-26T16:50:00.000Z")),
            std::string::npos)
      << resend.body;

  // OK at 17:05:00, delivered at 17:06:00: resolved at the transition, same labels.
  clock_.advance(seconds(20 * 60));
  const ActionRequest ok = high_cpu_ok();
  const AttemptResult resolved = connector->attempt(ok, 1);
  EXPECT_EQ(resolved.outcome, Outcome::kDelivered) << resolved.detail;
  ASSERT_EQ(receiver_.request_count(), 3U);
  const ReceivedRequest resolve = receiver_.requests()[2];
  EXPECT_EQ(resolve.target, "/api/v2/alerts");
  EXPECT_TRUE(resolve.body.starts_with("[{" + std::string(kAmLabels) + ",")) << resolve.body;
  EXPECT_NE(resolve.body.find(times("2023-10-26T16:42:00.123Z", "2023-10-26T17:05:00.000Z")),
            std::string::npos)
      << resolve.body;
  EXPECT_NE(resolve.body.find(R"("state":"OK","previous_state":"ALARM")"), std::string::npos);
  EXPECT_EQ(resolve.body, alertmanager_body(ok.notice, kTransition, ok.notice.state_change_time,
                                            "https://trailwatch.example/alarms/HighCPU"));

  // Nothing fires any more: maintenance sends nothing and there is no state to keep.
  connector->maintain(clock_.now());
  EXPECT_EQ(receiver_.request_count(), 3U);
  EXPECT_EQ(connector->save_state(), "");
}

TEST_F(AlertmanagerConnectorTest, AFiringAlertNeverEndsBeforeItStarts) {
  // The transition is stamped after the wall clock (a producer's clock runs ahead): the alert
  // still gets its full window from its start, or Alertmanager would reject it (endsAt before
  // startsAt) and the alarm would never fire there.
  const ManualClock behind(kTransition.millis() / 1000 - 600);  // 16:32:00, ten minutes earlier.
  const auto connector = connector_of(target(), environment(behind));
  ASSERT_NE(connector, nullptr);
  EXPECT_EQ(connector->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
  connector->maintain(behind.now());
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 2U);
  for (const ReceivedRequest& r : requests) {
    EXPECT_NE(r.body.find(times("2023-10-26T16:42:00.123Z", "2023-10-26T16:46:00.123Z")),
              std::string::npos)
        << r.body;
  }
}

TEST_F(AlertmanagerConnectorTest, AFailedFireIsNotRememberedAsFiring) {
  receiver_.set_script([](const ReceivedRequest&, size_t i) {
    return i == 0 ? ScriptedReply::status_only(503, "unavailable") : ScriptedReply::ok();
  });
  const auto connector = connector_of(target(), environment(clock_));
  ASSERT_NE(connector, nullptr);
  EXPECT_EQ(connector->attempt(high_cpu(), 1).outcome, Outcome::kRetry);
  connector->maintain(clock_.now());
  EXPECT_EQ(receiver_.request_count(), 1U);
  EXPECT_EQ(connector->save_state(), "");
}

TEST_F(AlertmanagerConnectorTest, NothingToResolveBetweenOkAndInsufficientData) {
  const auto connector = connector_of(target(), environment(clock_));
  ASSERT_NE(connector, nullptr);
  ActionRequest ok = high_cpu();
  ok.notice.new_state = "OK";
  ok.notice.old_state = "INSUFFICIENT_DATA";
  EXPECT_EQ(connector->attempt(ok, 1).outcome, Outcome::kSkipped);
  EXPECT_EQ(receiver_.request_count(), 0U);
  // Leaving ALARM always resolves, even unknown to this connector (fired before a restart that
  // lost its state).
  ok.notice.old_state = "ALARM";
  EXPECT_EQ(connector->attempt(ok, 1).outcome, Outcome::kDelivered);
  EXPECT_EQ(receiver_.request_count(), 1U);
}

TEST_F(AlertmanagerConnectorTest, TheFiringSetSurvivesARestart) {
  std::string state;
  {
    const auto first = connector_of(target(), environment(clock_));
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->attempt(high_cpu(), 1).outcome, Outcome::kDelivered);
    state = first->save_state();
  }
  ASSERT_FALSE(state.empty());
  ASSERT_EQ(receiver_.request_count(), 1U);

  clock_.advance(seconds(120));
  const auto second = connector_of(target(), environment(clock_));
  ASSERT_NE(second, nullptr);
  second->maintain(clock_.now());
  EXPECT_EQ(receiver_.request_count(), 1U);  // Nothing known before the state is loaded.
  second->load_state(state);
  EXPECT_EQ(second->save_state(), state);
  second->maintain(clock_.now());
  ASSERT_EQ(receiver_.request_count(), 2U);
  const ReceivedRequest resend = receiver_.requests()[1];
  EXPECT_EQ(resend.target, "/api/v2/alerts");
  EXPECT_EQ(resend.body, alertmanager_body(high_cpu().notice, kTransition,
                                           EventTime::from_seconds(kNowSeconds + 120 + 240),
                                           "https://trailwatch.example/alarms/HighCPU"));
  EXPECT_TRUE(resend.body.starts_with("[{" + std::string(kAmLabels) + ","));

  // The loaded alert resolves with its original start (delivered at 17:06:00).
  clock_.advance(seconds(19 * 60));
  const AttemptResult resolved = second->attempt(high_cpu_ok(), 1);
  EXPECT_EQ(resolved.outcome, Outcome::kDelivered);
  ASSERT_EQ(receiver_.request_count(), 3U);
  EXPECT_NE(receiver_.requests()[2].body.find(
                times("2023-10-26T16:42:00.123Z", "2023-10-26T17:05:00.000Z")),
            std::string::npos)
      << receiver_.requests()[2].body;
  EXPECT_EQ(second->save_state(), "");
}

}  // namespace
}  // namespace tw::connectors
