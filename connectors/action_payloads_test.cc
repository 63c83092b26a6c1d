#include "connectors/action_payloads.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tw::connectors {
namespace {

using pipeline::ActionNotice;
using pipeline::ActionRequest;
using pipeline::Duration;
using pipeline::EventTime;
using pipeline::StatusCode;

constexpr std::string_view kArn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU";
constexpr std::string_view kTopic = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
constexpr std::string_view kKey = "2e3c1f0a-8b7d-8e6f-9a5b-4c3d2e1f0a9b/0";
constexpr std::string_view kReason =
    "Threshold Crossed: 1 datapoint [91.5 (26/10/23 16:41:00)] was >= the threshold (80.0) "
    "<web & api>";
// 2023-10-26T16:42:00.123Z
constexpr EventTime kTransition = EventTime::from_millis(1'698'338'520'123);
// 2023-10-26T16:45:00Z
constexpr EventTime kNow = EventTime::from_seconds(1'698'338'700);

size_t code_points(std::string_view text) {
  size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++n;
    }
  }
  return n;
}

ActionRequest high_cpu(std::string new_state = "ALARM", std::string old_state = "OK") {
  ActionNotice n;
  n.alarm_name = "HighCPU";
  n.alarm_arn = std::string(kArn);
  n.alarm_description = "CPU > 80% on web servers";
  n.account_id = "123456789012";
  n.region = "us-east-1";
  n.new_state = std::move(new_state);
  n.old_state = std::move(old_state);
  n.reason = std::string(kReason);
  n.reason_data = R"({"version":"1.0","threshold":80.0})";
  n.state_change_time = kTransition;
  n.namespace_name = "AWS/EC2";
  n.metric_name = "CPUUtilization";
  n.dimensions = {{"InstanceId", "i-1234567890abcdef0"}};
  n.tags = {{"cost-center", "web"}};
  n.threshold = 80.0;
  n.metric_value = 91.5;
  n.event_json = R"({"version":"0","detail-type":"CloudWatch Alarm State Change"})";
  n.sns_subject = R"(ALARM: "HighCPU" in US East (N. Virginia))";
  n.sns_message = R"({"AlarmName":"HighCPU","NewStateValue":"ALARM"})";
  ActionRequest r;
  r.key = std::string(kKey);
  r.action = std::string(kTopic);
  r.due = kTransition;
  r.notice = std::move(n);
  return r;
}

WebhookContext context() {
  WebhookContext ctx;
  ctx.now = kNow;
  ctx.generator_url = "https://trailwatch.example/alarms/HighCPU";
  ctx.pagerduty_routing_key = "0123456789abcdef0123456789abcdef";
  ctx.pagerduty_client_url = "https://trailwatch.example/alarms/HighCPU";
  return ctx;
}

std::string body_of(WebhookFormat format, const ActionRequest& request, const WebhookContext& ctx) {
  const auto body = webhook_body(format, request, ctx);
  return body.has_value() ? body->body : "<nothing>";
}

// ---- Formats, ids ------------------------------------------------------------------------------

TEST(WebhookFormatTest, NamesRoundTrip) {
  for (const WebhookFormat format :
       {WebhookFormat::kEventBridge, WebhookFormat::kSns, WebhookFormat::kAlertmanager,
        WebhookFormat::kSlack, WebhookFormat::kPagerDuty}) {
    EXPECT_EQ(parse_webhook_format(to_string(format)), format);
  }
  EXPECT_EQ(to_string(WebhookFormat::kPagerDuty), "pagerduty");
  EXPECT_EQ(to_string(WebhookFormat::kEventBridge), "eventbridge");
  EXPECT_EQ(parse_webhook_format("Slack"), std::nullopt);
  EXPECT_EQ(parse_webhook_format(""), std::nullopt);
  EXPECT_EQ(parse_webhook_format("webhook"), std::nullopt);
}

TEST(ActionMessageIdTest, IsAStableVersion8Uuid) {
  // Golden values from an independent SipHash-2-4 implementation (checked against the
  // reference test vector), so a change of hash, key or layout fails here.
  EXPECT_EQ(action_message_id(kKey), "a57e27ee-7d06-82dc-84ee-c9f4d3af9239");
  EXPECT_EQ(action_message_id(""), "1e75ceab-8e75-8ad7-99ef-366ec85ef9a9");
  EXPECT_EQ(action_message_id(kKey), action_message_id(std::string(kKey)));
  EXPECT_NE(action_message_id("a/0"), action_message_id("a/1"));
}

// ---- EventBridge, SNS --------------------------------------------------------------------------

TEST(WebhookBodyTest, EventBridgeIsTheEventVerbatim) {
  const auto body = webhook_body(WebhookFormat::kEventBridge, high_cpu(), context());
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->content_type, "application/json");
  EXPECT_EQ(body->body, R"({"version":"0","detail-type":"CloudWatch Alarm State Change"})");
  EXPECT_TRUE(body->headers.empty());

  ActionRequest bad = high_cpu();
  bad.notice.event_json = "{\"a\":\"x\xC3(\xF0\x9F\x98\"}";
  EXPECT_EQ(body_of(WebhookFormat::kEventBridge, bad, context()),
            "{\"a\":\"x\xEF\xBF\xBD(\xEF\xBF\xBD\"}");
}

TEST(WebhookBodyTest, SnsNotificationExactly) {
  const auto body = webhook_body(WebhookFormat::kSns, high_cpu(), context());
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->content_type, "text/plain; charset=UTF-8");
  EXPECT_EQ(body->body,
            R"({"Type":"Notification","MessageId":"a57e27ee-7d06-82dc-84ee-c9f4d3af9239",)"
            R"("TopicArn":"arn:aws:sns:us-east-1:123456789012:ops-alerts",)"
            R"json("Subject":"ALARM: \"HighCPU\" in US East (N. Virginia)",)json"
            R"("Message":"{\"AlarmName\":\"HighCPU\",\"NewStateValue\":\"ALARM\"}",)"
            R"("Timestamp":"2023-10-26T16:45:00.000Z"})");
  const std::vector<HttpHeader> headers = {
      {"x-amz-sns-message-type", "Notification"},
      {"x-amz-sns-message-id", "a57e27ee-7d06-82dc-84ee-c9f4d3af9239"},
      {"x-amz-sns-topic-arn", std::string(kTopic)}};
  EXPECT_EQ(body->headers, headers);
}

TEST(WebhookBodyTest, SnsTopicComesFromTheContextOrIsLeftOut) {
  WebhookContext ctx = context();
  ctx.topic_arn = "arn:aws:sns:eu-west-1:123456789012:other";
  const auto from_ctx = webhook_body(WebhookFormat::kSns, high_cpu(), ctx);
  ASSERT_TRUE(from_ctx.has_value());
  EXPECT_NE(from_ctx->body.find(R"("TopicArn":"arn:aws:sns:eu-west-1:123456789012:other")"),
            std::string::npos);
  EXPECT_EQ(from_ctx->headers.back().value, ctx.topic_arn);

  ActionRequest named = high_cpu();
  named.action = "ops-webhook";
  named.notice.sns_subject.clear();
  const auto none = webhook_body(WebhookFormat::kSns, named, context());
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->body.find("TopicArn"), std::string::npos);
  EXPECT_EQ(none->body.find("Subject"), std::string::npos);
  EXPECT_EQ(none->headers.size(), 2U);
  EXPECT_EQ(none->headers[1].name, "x-amz-sns-message-id");
}

TEST(WebhookBodyTest, SnsSubjectIsCutToOneHundredCharactersNotBytes) {
  ActionRequest request = high_cpu();
  std::string name;
  for (int i = 0; i < 120; ++i) {
    name += "\xC3\xA9";  // é, two bytes each.
  }
  request.notice.sns_subject = "ALARM: \"" + name + "\" in US East (N. Virginia)";
  const auto body = webhook_body(WebhookFormat::kSns, request, context());
  ASSERT_TRUE(body.has_value());
  const std::string kept = name.substr(0, size_t{2} * 92);  // 8 + 92 characters.
  const std::string expected_subject = "ALARM: \"" + kept;
  EXPECT_NE(body->body.find(R"("Subject":"ALARM: \")" + kept + "\","), std::string::npos)
      << body->body;
  EXPECT_EQ(code_points(expected_subject), 100U);
}

// ---- Alertmanager ------------------------------------------------------------------------------

constexpr std::string_view kAlertmanagerLabels =
    R"({"alertname":"HighCPU","source":"trailwatch","region":"us-east-1",)"
    R"("account_id":"123456789012","InstanceId":"i-1234567890abcdef0","cost_center":"web"})";

TEST(AlertmanagerTest, FiringAlertExactly) {
  const auto body = webhook_body(WebhookFormat::kAlertmanager, high_cpu(), context());
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->content_type, "application/json");
  EXPECT_EQ(body->body,
            R"([{"labels":)" + std::string(kAlertmanagerLabels) +
                R"(,"annotations":{"summary":"ALARM: \"HighCPU\" in us-east-1",)"
                R"("description":"CPU > 80% on web servers",)"
                R"("reason":"Threshold Crossed: 1 datapoint [91.5 (26/10/23 16:41:00)] was >= )"
                R"(the threshold (80.0) <web & api>",)"
                R"("reason_data":"{\"version\":\"1.0\",\"threshold\":80.0}",)"
                R"("state":"ALARM","previous_state":"OK",)"
                R"("alarm_arn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU"},)"
                R"("startsAt":"2023-10-26T16:42:00.123Z","endsAt":"2023-10-26T16:49:00.000Z",)"
                R"("generatorURL":"https://trailwatch.example/alarms/HighCPU"}])");
}

TEST(AlertmanagerTest, FireResendAndResolveCarryTheSameLabels) {
  const std::string fire = body_of(WebhookFormat::kAlertmanager, high_cpu(), context());
  WebhookContext later = context();
  later.now = kNow + Duration::minutes(1);
  const std::string resend = body_of(WebhookFormat::kAlertmanager, high_cpu(), later);
  ActionRequest ok = high_cpu("OK", "ALARM");
  ok.notice.state_change_time = EventTime::from_seconds(1'698'339'900);  // 17:05:00
  ok.notice.reason = "Threshold Crossed: back to normal";
  ok.notice.tags = {{"cost-center", "web"}};
  WebhookContext resolving = context();
  resolving.now = EventTime::from_seconds(1'698'339'960);
  resolving.alertmanager_firing_since = kTransition;
  const std::string resolve = body_of(WebhookFormat::kAlertmanager, ok, resolving);

  const std::string labels = R"([{"labels":)" + std::string(kAlertmanagerLabels) + ",";
  EXPECT_TRUE(fire.starts_with(labels)) << fire;
  EXPECT_TRUE(resend.starts_with(labels)) << resend;
  EXPECT_TRUE(resolve.starts_with(labels)) << resolve;
  EXPECT_EQ(alertmanager_labels(high_cpu().notice), alertmanager_labels(ok.notice));

  EXPECT_NE(
      fire.find(R"("startsAt":"2023-10-26T16:42:00.123Z","endsAt":"2023-10-26T16:49:00.000Z")"),
      std::string::npos);
  EXPECT_NE(
      resend.find(R"("startsAt":"2023-10-26T16:42:00.123Z","endsAt":"2023-10-26T16:50:00.000Z")"),
      std::string::npos)
      << resend;
  EXPECT_NE(
      resolve.find(R"("startsAt":"2023-10-26T16:42:00.123Z","endsAt":"2023-10-26T17:05:00.000Z")"),
      std::string::npos)
      << resolve;
  EXPECT_NE(resolve.find(R"("state":"OK","previous_state":"ALARM")"), std::string::npos);
}

TEST(AlertmanagerTest, TimesNeverEndBeforeTheyStart) {
  // A resolve without the firing start uses the resolve time for both.
  const ActionRequest ok = high_cpu("INSUFFICIENT_DATA", "ALARM");
  const std::string resolve = body_of(WebhookFormat::kAlertmanager, ok, context());
  EXPECT_NE(
      resolve.find(R"("startsAt":"2023-10-26T16:42:00.123Z","endsAt":"2023-10-26T16:42:00.123Z")"),
      std::string::npos)
      << resolve;
  // A transition stamped after `now` still gets a full window.
  WebhookContext early = context();
  early.now = kTransition - Duration::minutes(10);
  early.alertmanager_ends_after = Duration::seconds(30);
  early.generator_url.clear();
  const std::string fire = body_of(WebhookFormat::kAlertmanager, high_cpu(), early);
  EXPECT_TRUE(fire.ends_with(
      R"("startsAt":"2023-10-26T16:42:00.123Z","endsAt":"2023-10-26T16:42:30.123Z"}])"))
      << fire;
}

TEST(AlertmanagerTest, NothingBetweenOkAndInsufficientData) {
  EXPECT_EQ(
      webhook_body(WebhookFormat::kAlertmanager, high_cpu("OK", "INSUFFICIENT_DATA"), context()),
      std::nullopt);
  EXPECT_EQ(
      webhook_body(WebhookFormat::kAlertmanager, high_cpu("INSUFFICIENT_DATA", "OK"), context()),
      std::nullopt);
}

TEST(AlertmanagerTest, LabelNamesAreSanitised) {
  EXPECT_EQ(prometheus_label_name("InstanceId"), "InstanceId");
  EXPECT_EQ(prometheus_label_name("aws:autoscaling:groupName"), "aws_autoscaling_groupName");
  EXPECT_EQ(prometheus_label_name("9lives"), "_9lives");
  EXPECT_EQ(prometheus_label_name("__name__"), "x__name__");
  EXPECT_EQ(prometheus_label_name("_ok"), "_ok");
  EXPECT_EQ(prometheus_label_name(""), "_");
  EXPECT_EQ(prometheus_label_name("caf\xC3\xA9"), "caf_");  // One character, one '_'.
  EXPECT_EQ(prometheus_label_name("a\xFF\xFE"), "a__");     // Each invalid byte.
  EXPECT_EQ(prometheus_label_name("-x"), "_x");
}

TEST(AlertmanagerTest, FirstLabelWinsAndEmptyValuesAreDropped) {
  ActionNotice n = high_cpu().notice;
  n.dimensions = {{"region", "eu-west-1"}, {"Instance.Id", "i-1"}, {"Empty", ""}};
  n.tags = {{"Instance-Id", "tag-value"}, {"team", "web"}, {"__meta", "m"}};
  n.account_id.clear();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"alertname", "HighCPU"}, {"source", "trailwatch"}, {"region", "us-east-1"},
      {"Instance_Id", "i-1"},   {"team", "web"},          {"x__meta", "m"}};
  EXPECT_EQ(alertmanager_labels(n), expected);
}

// ---- Slack -------------------------------------------------------------------------------------

TEST(SlackTest, TextIsEscaped) {
  const auto body = webhook_body(WebhookFormat::kSlack, high_cpu(), context());
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->content_type, "application/json");
  EXPECT_EQ(body->body,
            R"({"text":"ALARM: \"HighCPU\" in us-east-1 — Threshold Crossed: 1 datapoint )"
            R"([91.5 (26/10/23 16:41:00)] was &gt;= the threshold (80.0) &lt;web &amp; api&gt;"})");
}

TEST(SlackTest, NameIsOneLineAndReasonOptional) {
  ActionRequest request = high_cpu("OK", "ALARM");
  request.notice.alarm_name = "a\nb<c>";
  request.notice.reason.clear();
  EXPECT_EQ(body_of(WebhookFormat::kSlack, request, context()),
            R"({"text":"OK: \"a b&lt;c&gt;\" in us-east-1"})");
}

// ---- PagerDuty ---------------------------------------------------------------------------------

TEST(PagerDutyTest, TriggerExactly) {
  const auto body = webhook_body(WebhookFormat::kPagerDuty, high_cpu(), context());
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->content_type, "application/json");
  EXPECT_EQ(body->body,
            R"({"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger",)"
            R"("dedup_key":"trailwatch/arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU",)"
            R"("payload":{"summary":"ALARM: \"HighCPU\" in us-east-1 — Threshold Crossed: 1 )"
            R"(datapoint [91.5 (26/10/23 16:41:00)] was >= the threshold (80.0) <web & api>",)"
            R"("source":"i-1234567890abcdef0","severity":"critical",)"
            R"("timestamp":"2023-10-26T16:42:00.123Z","component":"AWS/EC2","group":"us-east-1",)"
            R"("class":"metric-alarm","custom_details":{"alarmName":"HighCPU",)"
            R"("alarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU",)"
            R"("alarmDescription":"CPU > 80% on web servers","awsAccountId":"123456789012",)"
            R"("region":"us-east-1","newStateValue":"ALARM","oldStateValue":"OK",)"
            R"("newStateReason":"Threshold Crossed: 1 datapoint [91.5 (26/10/23 16:41:00)] was >= )"
            R"(the threshold (80.0) <web & api>",)"
            R"("newStateReasonData":"{\"version\":\"1.0\",\"threshold\":80.0}",)"
            R"("stateChangeTime":"2023-10-26T16:42:00.123Z","namespace":"AWS/EC2",)"
            R"("metricName":"CPUUtilization","dimensions":{"InstanceId":"i-1234567890abcdef0"},)"
            R"("threshold":80.0,"tags":{"cost-center":"web"}}},)"
            R"("client":"trailwatch","client_url":"https://trailwatch.example/alarms/HighCPU"})");
}

TEST(PagerDutyTest, ResolveExactlyWithTheTriggersDedupKey) {
  const std::string trigger = body_of(WebhookFormat::kPagerDuty, high_cpu(), context());
  const std::string resolve =
      body_of(WebhookFormat::kPagerDuty, high_cpu("OK", "ALARM"), context());
  EXPECT_EQ(resolve,
            R"({"routing_key":"0123456789abcdef0123456789abcdef","event_action":"resolve",)"
            R"("dedup_key":"trailwatch/arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU"})");
  const std::string dedup =
      R"("dedup_key":"trailwatch/arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU")";
  EXPECT_NE(trigger.find(dedup), std::string::npos);
  EXPECT_EQ(pagerduty_dedup_key(high_cpu().notice), pagerduty_dedup_key(high_cpu("OK").notice));
}

TEST(PagerDutyTest, InsufficientDataTriggersAWarningAndUnknownStatesSendNothing) {
  const std::string body =
      body_of(WebhookFormat::kPagerDuty, high_cpu("INSUFFICIENT_DATA", "ALARM"), context());
  EXPECT_NE(body.find(R"("event_action":"trigger")"), std::string::npos);
  EXPECT_NE(body.find(R"("severity":"warning")"), std::string::npos);
  EXPECT_EQ(webhook_body(WebhookFormat::kPagerDuty, high_cpu("BROKEN"), context()), std::nullopt);
}

TEST(PagerDutyTest, SourceFallsBackToTheArnAndOptionalFieldsAreLeftOut) {
  ActionNotice n = high_cpu().notice;
  n.dimensions.clear();
  n.tags.clear();
  n.namespace_name.clear();
  n.metric_name.clear();
  n.alarm_description.clear();
  n.reason_data.clear();
  n.threshold.reset();
  n.composite = true;
  const std::string body = pagerduty_event(n, PagerDutyAction::kTrigger, "rk", "error", "");
  EXPECT_NE(body.find(R"("source":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighCPU")"),
            std::string::npos);
  EXPECT_NE(body.find(R"("severity":"error")"), std::string::npos);
  EXPECT_NE(body.find(R"("class":"composite-alarm")"), std::string::npos);
  EXPECT_TRUE(body.ends_with(R"("stateChangeTime":"2023-10-26T16:42:00.123Z"}},)"
                             R"("client":"trailwatch"})"))
      << body;
  EXPECT_EQ(body.find("component"), std::string::npos);
}

TEST(PagerDutyTest, SummaryIsCutTo1024Characters) {
  ActionNotice n = high_cpu().notice;
  n.reason.clear();
  for (int i = 0; i < 1100; ++i) {
    n.reason += "\xE2\x82\xAC";  // €, three bytes.
  }
  const std::string body = pagerduty_event(n, PagerDutyAction::kTrigger, "rk", "critical", "");
  const std::string head = R"("summary":")";
  const size_t begin = body.find(head) + head.size();
  const size_t end = body.find(R"(","source")");
  ASSERT_NE(end, std::string::npos);
  // The headline `ALARM: \"HighCPU\" in us-east-1 — ` is 32 characters.
  const std::string summary = body.substr(begin, end - begin);
  EXPECT_EQ(code_points(summary) - 2, 1024U);  // Minus the two escaping backslashes.
  EXPECT_TRUE(summary.ends_with("\xE2\x82\xAC"));
}

TEST(PagerDutyTest, LongDedupKeysAreCutWithAHashSuffix) {
  ActionNotice n = high_cpu().notice;
  const std::string name(300, 'a');
  n.alarm_arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + name;
  const std::string key = pagerduty_dedup_key(n);
  // Golden value from an independent SipHash-2-4 implementation.
  EXPECT_EQ(key, "trailwatch/arn:aws:cloudwatch:us-east-1:123456789012:alarm:" +
                     std::string(238 - 59, 'a') + "/57141cace165dd1e");
  EXPECT_EQ(key.size(), 255U);

  ActionNotice other = n;
  other.alarm_arn.back() = 'b';
  EXPECT_NE(pagerduty_dedup_key(other), key);

  // A cut inside a multi-byte character backs off to the character's start.
  ActionNotice wide = n;
  wide.alarm_arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:";
  for (int i = 0; i < 100; ++i) {
    wide.alarm_arn += "\xE2\x82\xAC";
  }
  const std::string wide_key = pagerduty_dedup_key(wide);
  EXPECT_LE(wide_key.size(), 255U);
  EXPECT_EQ(wide_key.size(), 59U + 3U * 59U + 17U);  // 238 - 59 = 179 bytes hold 59 whole €.

  ActionNotice unnamed = n;
  unnamed.alarm_arn.clear();
  unnamed.alarm_name = "HighCPU";
  EXPECT_EQ(pagerduty_dedup_key(unnamed), "trailwatch/HighCPU");
}

// ---- AWS Query bodies --------------------------------------------------------------------------

TEST(FormEncodeTest, EncodesLikeBotocore) {
  EXPECT_EQ(form_encode({{"a b", "c+d/\xC3\xA9~*"}, {"x", "=&"}}),
            "a+b=c%2Bd%2F%C3%A9~%2A&x=%3D%26");
  EXPECT_EQ(form_encode({}), "");
  EXPECT_EQ(form_encode({{"k", ""}}), "k=");
  EXPECT_EQ(form_encode({{"Name", "A-Z_a.z~09"}}), "Name=A-Z_a.z~09");
  EXPECT_EQ(form_encode({{"n", std::string("\0\n", 2)}}), "n=%00%0A");
}

TEST(FormEncodeTest, DoublesLikePythonRepr) {
  EXPECT_EQ(aws_query_double(59.0), "59.0");
  EXPECT_EQ(aws_query_double(59.5), "59.5");
  EXPECT_EQ(aws_query_double(0.1), "0.1");
  EXPECT_EQ(aws_query_double(-2.5), "-2.5");
  EXPECT_EQ(aws_query_double(0.0), "0.0");
  EXPECT_EQ(aws_query_double(-0.0), "-0.0");
  EXPECT_EQ(aws_query_double(100.0), "100.0");
  EXPECT_EQ(aws_query_double(12345.678), "12345.678");
  EXPECT_EQ(aws_query_double(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(aws_query_double(1e16), "1e+16");
  EXPECT_EQ(aws_query_double(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(aws_query_double(0.0001), "0.0001");
  EXPECT_EQ(aws_query_double(0.00001), "1e-05");
  EXPECT_EQ(aws_query_double(1.5e-5), "1.5e-05");
  EXPECT_EQ(aws_query_double(1e100), "1e+100");
  EXPECT_EQ(aws_query_double(5e-324), "5e-324");
  EXPECT_EQ(aws_query_double(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(aws_query_double(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(aws_query_double(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(AwsQueryBodyTest, Ec2Instances) {
  EXPECT_EQ(ec2_instances_body(Ec2Operation::kStop, {"i-1234567890abcdef0"}),
            "Action=StopInstances&Version=2016-11-15&InstanceId.1=i-1234567890abcdef0");
  EXPECT_EQ(ec2_instances_body(Ec2Operation::kTerminate, {"i-1", "i-2"}, true),
            "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2"
            "&DryRun=true");
  EXPECT_EQ(ec2_instances_body(Ec2Operation::kReboot, {"i-1"}),
            "Action=RebootInstances&Version=2016-11-15&InstanceId.1=i-1");
}

TEST(AwsQueryBodyTest, AutoScaling) {
  EXPECT_EQ(autoscaling_execute_policy_body("my asg", "p", true, 59.0, 50.0),
            "Action=ExecutePolicy&Version=2011-01-01&AutoScalingGroupName=my+asg&PolicyName=p"
            "&HonorCooldown=true&MetricValue=59.0&BreachThreshold=50.0");
  EXPECT_EQ(autoscaling_execute_policy_body(
                "",
                "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:abc:"
                "autoScalingGroupName/g:policyName/up",
                std::nullopt, 59.5, std::nullopt),
            "Action=ExecutePolicy&Version=2011-01-01&PolicyName=arn%3Aaws%3Aautoscaling%3A"
            "us-east-1%3A123456789012%3AscalingPolicy%3Aabc%3AautoScalingGroupName%2Fg%3A"
            "policyName%2Fup&MetricValue=59.5");
  EXPECT_EQ(autoscaling_set_desired_capacity_body("my-asg", 3, false),
            "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=my-asg"
            "&DesiredCapacity=3&HonorCooldown=false");
  EXPECT_EQ(autoscaling_set_desired_capacity_body("g", 0, std::nullopt),
            "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=g"
            "&DesiredCapacity=0");
}

TEST(AwsQueryBodyTest, AssumeRoleWithWebIdentity) {
  EXPECT_EQ(sts_assume_role_with_web_identity_body("arn:aws:iam::111122223333:role/trailwatch",
                                                   "trailwatch-1700000000",
                                                   "eyJhbGciOiJSUzI1NiJ9.e30.sig", std::nullopt),
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
            "111122223333%3Arole%2Ftrailwatch&RoleSessionName=trailwatch-1700000000"
            "&WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.e30.sig");
  EXPECT_TRUE(sts_assume_role_with_web_identity_body("r", "s", "t", 900)
                  .ends_with("&WebIdentityToken=t&DurationSeconds=900"));
}

// ---- ARNs --------------------------------------------------------------------------------------

TEST(ArnTest, ScalingPolicy) {
  const auto arn = parse_scaling_policy_arn(
      "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:"
      "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0:autoScalingGroupName/web asg:policyName/scale-out");
  ASSERT_TRUE(arn.has_value());
  EXPECT_EQ(*arn, (ScalingPolicyArn{.partition = "aws",
                                    .region = "eu-west-1",
                                    .account = "123456789012",
                                    .policy_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                                    .group = "web asg",
                                    .policy_name = "scale-out"}));
  const auto nested = parse_scaling_policy_arn(
      "arn:aws-cn:autoscaling:cn-north-1:123456789012:scalingPolicy:id:"
      "autoScalingGroupName/g:policyName/a:policyName/b");
  ASSERT_TRUE(nested.has_value());
  EXPECT_EQ(nested->partition, "aws-cn");
  EXPECT_EQ(nested->group, "g");
  EXPECT_EQ(nested->policy_name, "a:policyName/b");

  for (const std::string_view bad : {
           "",
           "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:id:autoScalingGroupName/g",
           "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:id:"
           "autoScalingGroupName/g:policyName/",
           "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy::"
           "autoScalingGroupName/g:policyName/p",
           "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:id:"
           "autoScalingGroupName/:policyName/p",
           "arn:aws:autoscaling:us-east-1:12345:scalingPolicy:id:"
           "autoScalingGroupName/g:policyName/p",
           "arn:aws:autoscaling::123456789012:scalingPolicy:id:autoScalingGroupName/g:policyName/p",
           "arn:aws:ec2:us-east-1:123456789012:scalingPolicy:id:autoScalingGroupName/g:policyName/"
           "p",
           "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:id:"
           "autoScalingGroupName/g:policyName/p",
           "ARN:aws:autoscaling:us-east-1:123456789012:scalingPolicy:id:"
           "autoScalingGroupName/g:policyName/p",
       }) {
    EXPECT_EQ(parse_scaling_policy_arn(bad), std::nullopt) << bad;
  }
}

TEST(ArnTest, Automate) {
  EXPECT_EQ(parse_automate_arn("arn:aws:automate:us-east-1:ec2:stop"),
            (AutomateArn{"aws", "us-east-1", AutomateAction::kStop}));
  EXPECT_EQ(parse_automate_arn("arn:aws:automate:eu-west-1:ec2:terminate"),
            (AutomateArn{"aws", "eu-west-1", AutomateAction::kTerminate}));
  EXPECT_EQ(parse_automate_arn("arn:aws-us-gov:automate:us-gov-west-1:ec2:reboot"),
            (AutomateArn{"aws-us-gov", "us-gov-west-1", AutomateAction::kReboot}));
  EXPECT_EQ(parse_automate_arn("arn:aws:automate:us-east-1:ec2:recover"),
            (AutomateArn{"aws", "us-east-1", AutomateAction::kRecover}));
  EXPECT_EQ(parse_automate_arn(
                "arn:aws:swf:us-east-1:123456789012:action/actions/AWS_EC2.InstanceId.Stop/1.0"),
            (AutomateArn{"aws", "us-east-1", AutomateAction::kStop}));
  EXPECT_EQ(ec2_operation(AutomateAction::kTerminate), Ec2Operation::kTerminate);
  EXPECT_EQ(ec2_operation(AutomateAction::kRecover), std::nullopt);
  for (const std::string_view bad : {
           "arn:aws:automate:us-east-1:ec2:Stop",
           "arn:aws:automate:us-east-1:ec2:stop:now",
           "arn:aws:automate::ec2:stop",
           "arn:aws:automate:us-east-1:ec2",
           "arn:aws:automate:US-EAST-1:ec2:stop",
           "arn:aws:automate:us-east-1:rds:stop",
           "arn:aws:swf:us-east-1::action/actions/AWS_EC2.InstanceId.Stop/1.0",
           "arn:aws:swf:us-east-1:123456789012:action/actions/AWS_EC2.InstanceId.Stop/2.0",
           "arn::automate:us-east-1:ec2:stop",
       }) {
    EXPECT_EQ(parse_automate_arn(bad), std::nullopt) << bad;
  }
}

TEST(ArnTest, SnsTopic) {
  EXPECT_EQ(parse_sns_topic_arn(kTopic),
            (SnsTopicArn{"aws", "us-east-1", "123456789012", "ops-alerts"}));
  EXPECT_EQ(parse_sns_topic_arn("arn:aws:sns:us-east-1:123456789012:orders.fifo")->topic,
            "orders.fifo");
  EXPECT_TRUE(parse_sns_topic_arn("arn:aws:sns:us-east-1:123456789012:" + std::string(256, 'a'))
                  .has_value());
  for (const std::string& bad : {
           std::string("arn:aws:sns:us-east-1:123456789012:"),
           std::string("arn:aws:sns:us-east-1:123456789012:.fifo"),
           std::string("arn:aws:sns:us-east-1:123456789012:a.b"),
           std::string("arn:aws:sns:us-east-1:123456789012:a:b"),
           std::string("arn:aws:sns:us-east-1:123456789012:") + std::string(257, 'a'),
           std::string("arn:aws:sns:us-east-1:1234567890123:t"),
           std::string("arn:aws:sqs:us-east-1:123456789012:t"),
           std::string("arn:aws:sns::123456789012:t"),
           std::string("ops-webhook"),
       }) {
    EXPECT_EQ(parse_sns_topic_arn(bad), std::nullopt) << bad;
  }
}

// ---- AWS XML -----------------------------------------------------------------------------------

constexpr std::string_view kEc2Error = R"(<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Errors>
    <Error>
      <Code>InvalidInstanceID.NotFound</Code>
      <Message>The instance ID &apos;i-0aaa&apos; does not exist</Message>
    </Error>
  </Errors>
  <RequestID>11111111-2222-4333-8444-555555555555</RequestID>
</Response>)";

constexpr std::string_view kQueryError =
    R"(<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">)"
    R"(<Error><Type>Sender</Type><Code>ValidationError</Code>)"
    R"(<Message>Group &quot;web&quot; &lt;missing&gt; &amp; gone</Message></Error>)"
    R"(<RequestId>aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee</RequestId></ErrorResponse>)";

TEST(AwsXmlTest, Ec2Error) {
  EXPECT_EQ(parse_aws_error(kEc2Error),
            (AwsError{.code = "InvalidInstanceID.NotFound",
                      .message = "The instance ID 'i-0aaa' does not exist",
                      .type = "",
                      .request_id = "11111111-2222-4333-8444-555555555555"}));
}

TEST(AwsXmlTest, QueryError) {
  EXPECT_EQ(parse_aws_error(kQueryError),
            (AwsError{.code = "ValidationError",
                      .message = R"(Group "web" <missing> & gone)",
                      .type = "Sender",
                      .request_id = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}));
}

TEST(AwsXmlTest, ErrorOfSomethingElseIsEmpty) {
  EXPECT_EQ(parse_aws_error("<html><body>502 Bad Gateway</body></html>"), AwsError{});
  EXPECT_EQ(parse_aws_error(""), AwsError{});
  // Truncated after the code: what was complete is kept.
  EXPECT_EQ(parse_aws_error("<Response><Errors><Error><Code>AuthFailure</Code><Message>Auth"),
            (AwsError{.code = "AuthFailure"}));
}

TEST(AwsXmlTest, Retryable) {
  for (const int status : {429, 500, 502, 503, 504}) {
    EXPECT_TRUE(aws_error_is_retryable(status, "")) << status;
  }
  for (const std::string_view code :
       {"RequestLimitExceeded", "Throttling", "ThrottlingException", "EC2ThrottledException",
        "RequestThrottled", "TooManyRequestsException", "PriorRequestNotComplete",
        "IDPCommunicationError", "ExpiredTokenException", "ResourceContention",
        "ScalingActivityInProgress"}) {
    EXPECT_TRUE(aws_error_is_retryable(400, code)) << code;
  }
  for (const std::string_view code :
       {"AuthFailure", "UnauthorizedOperation", "InvalidInstanceID.NotFound", "ValidationError",
        "IncorrectInstanceState", "DryRunOperation", "throttling", ""}) {
    EXPECT_FALSE(aws_error_is_retryable(400, code)) << code;
  }
  EXPECT_FALSE(aws_error_is_retryable(403, "AccessDenied"));
  EXPECT_FALSE(aws_error_is_retryable(501, ""));
}

constexpr std::string_view kStsReply =
    R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Audience>sts.amazonaws.com</Audience>
    <Credentials>
      <SessionToken>FwoGZXIvYXdzTEST+token/with==</SessionToken>
      <Expiration>2026-05-01T11:00:00Z</Expiration>
      <SecretAccessKey>tEsTsEcReT/KEY+0000000000000000000000000</SecretAccessKey>
      <AccessKeyId>ASIATESTACCESSKEY001</AccessKeyId>
    </Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/tw/s</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)";

TEST(AwsXmlTest, StsCredentialsInAnyOrder) {
  const auto creds = parse_sts_credentials(kStsReply);
  ASSERT_TRUE(creds.is_ok()) << creds.status().to_string();
  EXPECT_EQ(creds->access_key_id, "ASIATESTACCESSKEY001");
  EXPECT_EQ(creds->secret_access_key, "tEsTsEcReT/KEY+0000000000000000000000000");
  EXPECT_EQ(creds->session_token, "FwoGZXIvYXdzTEST+token/with==");
  EXPECT_EQ(creds->expiration, "2026-05-01T11:00:00Z");
  EXPECT_EQ(creds->expires, pipeline::parse_iso8601("2026-05-01T11:00:00Z"));
  ASSERT_TRUE(creds->expires.has_value());
}

TEST(AwsXmlTest, StsCredentialsMissingNamesTheElementNotTheSecrets) {
  const std::string truncated(kStsReply.substr(0, kStsReply.find("</AccessKeyId>")));
  const auto creds = parse_sts_credentials(truncated);
  ASSERT_FALSE(creds.is_ok());
  EXPECT_EQ(creds.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(creds.status().message(),
            "AssumeRoleWithWebIdentity reply has no Credentials/AccessKeyId");
  EXPECT_EQ(creds.status().message().find("tEsT"), std::string::npos);

  const auto error = parse_sts_credentials(
      "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
      "<Message>bad</Message></Error></ErrorResponse>");
  ASSERT_FALSE(error.is_ok());
  EXPECT_EQ(error.status().message(),
            "AssumeRoleWithWebIdentity reply has no Credentials/AccessKeyId "
            "(error InvalidIdentityToken)");
  // An element outside Credentials does not count.
  EXPECT_FALSE(parse_sts_credentials("<R><AccessKeyId>A</AccessKeyId><Credentials>"
                                     "<SecretAccessKey>s</SecretAccessKey><SessionToken>t"
                                     "</SessionToken><Expiration>e</Expiration></Credentials></R>")
                   .is_ok());
}

TEST(AwsXmlTest, Ec2InstanceStateChanges) {
  const std::string_view reply =
      R"(<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-1</requestId>
  <instancesSet>
    <item>
      <instanceId>i-1234567890abcdef0</instanceId>
      <currentState><code>64</code><name>stopping</name></currentState>
      <previousState><code>16</code><name>running</name></previousState>
    </item>
    <item>
      <previousState><name>running</name><code>272</code></previousState>
      <currentState><name>shutting-down</name><code>x</code></currentState>
      <instanceId>i-2</instanceId>
    </item>
    <item><currentState><code>80</code></currentState></item>
  </instancesSet>
</StopInstancesResponse>)";
  const auto changes = parse_ec2_instance_state_changes(reply);
  ASSERT_TRUE(changes.is_ok()) << changes.status().to_string();
  const std::vector<Ec2InstanceStateChange> expected = {
      {"i-1234567890abcdef0", "stopping", 64, "running", 16},
      {"i-2", "shutting-down", -1, "running", 16},
  };
  EXPECT_EQ(*changes, expected);

  EXPECT_EQ(parse_ec2_instance_state_changes(reply.substr(0, reply.find("</instancesSet>")))
                .status()
                .code(),
            StatusCode::kDataLoss);
  EXPECT_FALSE(parse_ec2_instance_state_changes(kEc2Error).is_ok());
  const auto empty = parse_ec2_instance_state_changes("<R><instancesSet/></R>");
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->empty());
}

TEST(AwsXmlTest, RebootReturn) {
  EXPECT_EQ(parse_ec2_return("<RebootInstancesResponse><requestId>r</requestId>"
                             "<return>true</return></RebootInstancesResponse>"),
            true);
  EXPECT_EQ(parse_ec2_return("<R><return>false</return></R>"), false);
  EXPECT_EQ(parse_ec2_return("<R><return>yes</return></R>"), std::nullopt);
  EXPECT_EQ(parse_ec2_return("<R><return>true"), std::nullopt);
}

TEST(XmlTextTest, EntitiesAndCharacterReferences) {
  const auto text = [](std::string_view inner) {
    return xml_element_text("<v>" + std::string(inner) + "</v>", "v").value_or("<none>");
  };
  EXPECT_EQ(text("&lt;&gt;&amp;&quot;&apos;"), "<>&\"'");
  EXPECT_EQ(text("&#65;&#x42;&#X43;&#x1F600;"), "ABC\xF0\x9F\x98\x80");
  EXPECT_EQ(text("&amp;lt;"), "&lt;");  // Decoded once only.
  EXPECT_EQ(text("&#0;|&#xD800;|&#x110000;|&#999999999999;"),
            "\xEF\xBF\xBD|\xEF\xBF\xBD|\xEF\xBF\xBD|\xEF\xBF\xBD");
  EXPECT_EQ(text("&bogus; & alone &#; &#x; &#12a; &lt"), "&bogus; & alone &#; &#x; &#12a; &lt");
  EXPECT_EQ(text("&#99999999999999999999999999;"), "&#99999999999999999999999999;");
  EXPECT_EQ(text("  \n padded \t "), "padded");
  EXPECT_EQ(text("a\xFF"
                 "b"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(XmlTextTest, MarkupInsideAndAroundElements) {
  EXPECT_EQ(xml_element_text("<v><![CDATA[a<b>&amp;]]></v>", "v"), "a<b>&amp;");
  EXPECT_EQ(xml_element_text("<v>a<!-- <v>x</v> -->b</v>", "v"), "ab");
  EXPECT_EQ(xml_element_text("<r><!-- <Code>fake</Code> --><Code>real</Code></r>", "Code"), "real");
  EXPECT_EQ(xml_element_text("<r><![CDATA[<Code>fake</Code>]]><Code>real</Code></r>", "Code"),
            "real");
  EXPECT_EQ(xml_element_text(R"(<Code note="a>b" x='"'>v</Code>)", "Code"), "v");
  EXPECT_EQ(xml_element_text("<ns:Code>v</ns:Code>", "Code"), "v");
  EXPECT_EQ(xml_element_text("<r><Message/></r>", "Message"), "");
  EXPECT_EQ(xml_element_text("<r><a><b>1</b></a><b>2</b></r>", "a/b"), "1");
  EXPECT_EQ(xml_element_text("<r><a><c>1</c></a><b>2</b></r>", "a/b"), std::nullopt);
  EXPECT_EQ(xml_element_text("<r><a>x<i>y</i>z</a></r>", "a"), "xyz");
  EXPECT_EQ(xml_element_text("<r><code>lower</code></r>", "Code"), std::nullopt);
  EXPECT_EQ(xml_element_text("<r><a>1</a></r>", ""), std::nullopt);
  // A stray '<' in text is text; mismatched closing tags leave the inner element unclosed.
  EXPECT_EQ(xml_element_text("<r>1 < 2 <v>ok</v></r>", "v"), "ok");
  EXPECT_EQ(xml_element_text("<a><b>x</a>", "b"), std::nullopt);
  EXPECT_EQ(xml_element_text("<a><b>x</a>", "a"), "x");
}

TEST(XmlTextTest, TruncatedAndHostileInputNeverCrash) {
  for (const std::string_view hostile : {
           "",
           "<",
           "<<<<<<<<",
           "</",
           "</>",
           "<>",
           "<!",
           "<!--",
           "<![CDATA[",
           "<?",
           "<a",
           "<a '",
           "<a \"",
           "<Code>x</Code",
           "<Code>x",
           "<Code x='1>v</Code>",
           "&",
           "&#",
           "<a>&#x",
           "<a>&#x41",
           "]]>",
           "-->",
           "<!DOCTYPE r [<!ENTITY e 'x'>]><r>&e;</r>",
       }) {
    EXPECT_EQ(xml_element_text(hostile, "Code"), std::nullopt) << hostile;
    EXPECT_EQ(parse_aws_error(hostile).code, "") << hostile;
  }
  EXPECT_EQ(xml_element_text("<!DOCTYPE r [<!ENTITY e 'x'>]><r>&e;</r>", "r"), "&e;");
  EXPECT_EQ(xml_element_text(std::string("<Code>a\0b</Code>", 16), "Code"), std::string("a\0b", 3));
}

TEST(XmlTextTest, NestingIsCappedAt64) {
  const auto nested = [](size_t depth) {
    std::string xml;
    for (size_t i = 0; i < depth; ++i) {
      xml += "<a>";
    }
    xml += "<Code>deep</Code>";
    for (size_t i = 0; i < depth; ++i) {
      xml += "</a>";
    }
    return xml;
  };
  EXPECT_EQ(xml_element_text(nested(63), "Code"), "deep");
  EXPECT_EQ(xml_element_text(nested(64), "Code"), std::nullopt);
  EXPECT_EQ(xml_element_text(nested(200'000), "Code"), std::nullopt);
  // Wide is fine: many siblings, each closed.
  std::string wide = "<r>";
  for (int i = 0; i < 100'000; ++i) {
    wide += "<a>x</a>";
  }
  wide += "<Code>wide</Code></r>";
  EXPECT_EQ(xml_element_text(wide, "Code"), "wide");
}

// ---- Kubernetes --------------------------------------------------------------------------------

TEST(KubernetesTest, KindsAndPaths) {
  EXPECT_EQ(kubernetes_scale_path(KubernetesWorkloadKind::kDeployment, "shop", "web"),
            "/apis/apps/v1/namespaces/shop/deployments/web/scale");
  EXPECT_EQ(kubernetes_scale_path(KubernetesWorkloadKind::kStatefulSet, "db", "pg-0.main"),
            "/apis/apps/v1/namespaces/db/statefulsets/pg-0.main/scale");
  EXPECT_EQ(kubernetes_scale_path(KubernetesWorkloadKind::kReplicaSet, "a b", "x/../y?z#w%"),
            "/apis/apps/v1/namespaces/a%20b/replicasets/x%2F..%2Fy%3Fz%23w%25/scale");
  EXPECT_EQ(kubernetes_scale_path(KubernetesWorkloadKind::kDeployment, "..", "."),
            "/apis/apps/v1/namespaces/%2E%2E/deployments/%2E/scale");
  EXPECT_EQ(escape_path_segment("caf\xC3\xA9"), "caf%C3%A9");
  EXPECT_EQ(escape_path_segment("..."), "...");
  EXPECT_EQ(parse_kubernetes_workload_kind("StatefulSet"), KubernetesWorkloadKind::kStatefulSet);
  EXPECT_EQ(parse_kubernetes_workload_kind(to_string(KubernetesWorkloadKind::kReplicaSet)),
            KubernetesWorkloadKind::kReplicaSet);
  EXPECT_EQ(parse_kubernetes_workload_kind("deployment"), std::nullopt);
  EXPECT_EQ(parse_kubernetes_workload_kind("DaemonSet"), std::nullopt);
}

TEST(KubernetesTest, ParseScale) {
  const auto scale = parse_kubernetes_scale(
      R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web",)"
      R"("namespace":"shop","resourceVersion":"418857"},"spec":{"replicas":3},)"
      R"("status":{"replicas":2,"selector":"app=web"}})");
  ASSERT_TRUE(scale.is_ok()) << scale.status().to_string();
  EXPECT_EQ(*scale, (KubernetesScale{3, 2, "418857"}));

  const auto sparse = parse_kubernetes_scale(R"({"spec":{},"status":{"replicas":0}})");
  ASSERT_TRUE(sparse.is_ok());
  EXPECT_EQ(*sparse, (KubernetesScale{std::nullopt, 0, ""}));
  EXPECT_TRUE(parse_kubernetes_scale("{}").is_ok());

  for (const std::string_view bad : {
           R"({"spec":{"replicas":"3"}})",
           R"({"spec":{"replicas":3.5}})",
           R"({"spec":{"replicas":true}})",
           R"({"spec":[]})",
           R"({"status":{"replicas":[1]}})",
           R"({"metadata":{"resourceVersion":418857}})",
           R"({"metadata":"x"})",
           R"([1,2])",
           "",
           "{",
           "not json",
           R"({"spec":{"replicas":3}} trailing)",
           "{\"k\":\"\xFF\"}",
       }) {
    const auto result = parse_kubernetes_scale(bad);
    ASSERT_FALSE(result.is_ok()) << bad;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(parse_kubernetes_scale(R"({"spec":{"replicas":2147483648}})").status().code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(parse_kubernetes_scale(R"({"spec":{"replicas":-2147483649}})").status().code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(parse_kubernetes_scale(R"({"spec":{"replicas":2147483647}})")->spec_replicas, INT_MAX);
  std::string deep;
  for (int i = 0; i < 100'000; ++i) {
    deep += "[";
  }
  EXPECT_FALSE(parse_kubernetes_scale(deep).is_ok());
}

TEST(KubernetesTest, Patches) {
  EXPECT_EQ(scale_json_patch(3, 5), R"([{"op":"test","path":"/spec/replicas","value":3},)"
                                    R"({"op":"replace","path":"/spec/replicas","value":5}])");
  EXPECT_EQ(scale_merge_patch(5), R"({"spec":{"replicas":5}})");
}

TEST(KubernetesTest, ScaleTargetClamps) {
  EXPECT_EQ(scale_target(3, ScaleMode::kSet, 5, 1, 10), 5);
  EXPECT_EQ(scale_target(3, ScaleMode::kAdd, 2, 1, 10), 5);
  EXPECT_EQ(scale_target(3, ScaleMode::kSubtract, 2, 1, 10), 1);
  EXPECT_EQ(scale_target(3, ScaleMode::kSubtract, 5, 1, 10), 1);
  EXPECT_EQ(scale_target(9, ScaleMode::kAdd, 5, 1, 10), 10);
  EXPECT_EQ(scale_target(3, ScaleMode::kSet, 50, 1, 10), 10);
  EXPECT_EQ(scale_target(3, ScaleMode::kSet, -4, 0, 10), 0);
  EXPECT_EQ(scale_target(INT_MAX, ScaleMode::kAdd, INT_MAX, 0, INT_MAX), INT_MAX);
  EXPECT_EQ(scale_target(INT_MIN, ScaleMode::kSubtract, INT_MAX, 0, 10), 0);
  EXPECT_EQ(scale_target(3, ScaleMode::kAdd, 1, 8, 4), 4);  // min > max: max wins.
}

TEST(KubernetesTest, ParseStatus) {
  EXPECT_EQ(parse_kubernetes_status(
                R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                R"("message":"deployments.apps \"web\" not found","reason":"NotFound",)"
                R"("details":{"name":"web","group":"apps","kind":"deployments"},"code":404})"),
            (KubernetesStatus{"NotFound", R"(deployments.apps "web" not found)", 404}));
  EXPECT_EQ(parse_kubernetes_status(R"({"reason":7,"message":"m","code":"409"})"),
            (KubernetesStatus{"", "m", 0}));
  EXPECT_EQ(parse_kubernetes_status(R"({"kind":"Scale","spec":{}})"), std::nullopt);
  EXPECT_EQ(parse_kubernetes_status(R"({"kind":1})"), std::nullopt);
  EXPECT_EQ(parse_kubernetes_status("<html>"), std::nullopt);
  EXPECT_EQ(parse_kubernetes_status("[]"), std::nullopt);
}

}  // namespace
}  // namespace tw::connectors
