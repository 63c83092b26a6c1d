#include "pipeline/cloudtrail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace tw::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kTime = "2023-07-10T11:42:18Z";
constexpr int64_t kTimeMillis = 1'688'989'338'000;

// A minimal valid record with `extra` spliced in after the required fields.
std::string record(std::string_view extra = "") {
  std::string out = R"({"eventVersion":"1.08","eventTime":"2023-07-10T11:42:18Z",)"
                    R"("eventSource":"ec2.amazonaws.com","eventName":"RunInstances")";
  out.append(extra);
  out.push_back('}');
  return out;
}

CloudTrailDecodeOutput decode(std::string_view document, size_t max_record_bytes = 1 << 20) {
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  decoder.decode(document, out, max_record_bytes);
  return out;
}

// Decodes a document expected to yield exactly one error, and returns it.
CloudTrailRecordError single_error(std::string_view document, size_t max_record_bytes = 1 << 20) {
  const CloudTrailDecodeOutput out = decode(document, max_record_bytes);
  EXPECT_TRUE(out.events.empty()) << document.substr(0, 200);
  EXPECT_EQ(out.errors.size(), 1U) << document.substr(0, 200);
  if (out.errors.empty()) {
    return CloudTrailRecordError{};
  }
  return out.errors.front();
}

// Decodes a document expected to yield exactly one event, and returns it.
CloudTrailEvent single_event(std::string_view document) {
  const CloudTrailDecodeOutput out = decode(document);
  EXPECT_EQ(out.events.size(), 1U) << document.substr(0, 200);
  for (const CloudTrailRecordError& e : out.errors) {
    ADD_FAILURE() << to_string(e.error.reason) << ": " << e.error.detail;
  }
  if (out.events.empty()) {
    return CloudTrailEvent{};
  }
  return out.events.front();
}

// ---------------------------------------------------------------------------------------------
// Shapes.

TEST(CloudTrailDecoder, DecodesSingleRecordWithAllExtractedFields) {
  const std::string doc = R"({
    "eventVersion": "1.09",
    "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn":
      "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "accessKeyId":
      "AKIAEXAMPLE", "userName": "alice", "invokedBy": "cloudformation.amazonaws.com",
      "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}},
    "eventTime": "2023-07-10T11:42:18Z",
    "eventSource": "iam.amazonaws.com",
    "eventName": "CreateUser",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "198.51.100.7",
    "userAgent": "aws-cli/2.13.0",
    "errorCode": "AccessDenied",
    "errorMessage": "not authorized",
    "requestParameters": {"userName": "mallory"},
    "responseElements": null,
    "eventID": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "readOnly": false,
    "eventType": "AwsApiCall",
    "managementEvent": true,
    "recipientAccountId": "444455556666",
    "eventCategory": "Management"
  })";
  const CloudTrailEvent e = single_event(doc);
  EXPECT_EQ(e.time.millis(), kTimeMillis);
  EXPECT_EQ(e.event_version, "1.09");
  EXPECT_EQ(e.event_source, "iam.amazonaws.com");
  EXPECT_EQ(e.event_name, "CreateUser");
  EXPECT_EQ(e.event_type, "AwsApiCall");
  EXPECT_EQ(e.event_category, "Management");
  EXPECT_EQ(e.event_id, "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
  EXPECT_EQ(e.aws_region, "us-east-1");
  EXPECT_EQ(e.account_id, "444455556666");
  EXPECT_EQ(e.recipient_account_id, "444455556666");
  EXPECT_EQ(e.source_ip_address, "198.51.100.7");
  EXPECT_EQ(e.user_agent, "aws-cli/2.13.0");
  EXPECT_EQ(e.error_code, "AccessDenied");
  EXPECT_EQ(e.error_message, "not authorized");
  EXPECT_EQ(e.principal_type, "IAMUser");
  EXPECT_EQ(e.principal_arn, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(e.principal_account_id, "111122223333");
  EXPECT_EQ(e.principal_id, "AIDAEXAMPLE");
  EXPECT_EQ(e.user_name, "alice");
  EXPECT_EQ(e.access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(e.invoked_by, "cloudformation.amazonaws.com");
  EXPECT_EQ(e.read_only, false);
  EXPECT_EQ(e.management_event, true);
  EXPECT_TRUE(e.insight_type.empty());
  EXPECT_TRUE(e.insight_state.empty());
}

TEST(CloudTrailDecoder, AbsentOptionalFieldsStayEmpty) {
  const CloudTrailEvent e = single_event(record());
  EXPECT_TRUE(e.event_type.empty());
  EXPECT_TRUE(e.account_id.empty());
  EXPECT_TRUE(e.principal_type.empty());
  EXPECT_FALSE(e.read_only.has_value());
  EXPECT_FALSE(e.management_event.has_value());
}

TEST(CloudTrailDecoder, RawOfSingleRecordIsTheDocumentTrimmedOfWhitespace) {
  const std::string body = record(R"(, "userAgent" : "x" )");
  const CloudTrailEvent e = single_event(" \n\t" + body + "\r\n ");
  EXPECT_EQ(e.raw, body);
}

TEST(CloudTrailDecoder, DecodesRecordsFileInDocumentOrder) {
  const std::string doc = R"({"Records": [)" + record(R"(,"eventID":"a")") + ",\n  " +
                          record(R"(,"eventID":"b")") + "," + record(R"(,"eventID":"c")") + "]}";
  const CloudTrailDecodeOutput out = decode(doc);
  ASSERT_EQ(out.events.size(), 3U);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(out.events[0].event_id, "a");
  EXPECT_EQ(out.events[1].event_id, "b");
  EXPECT_EQ(out.events[2].event_id, "c");
  EXPECT_EQ(out.events[1].raw, record(R"(,"eventID":"b")"));
}

TEST(CloudTrailDecoder, EmptyRecordsFileYieldsNothing) {
  const CloudTrailDecodeOutput out = decode(R"({"Records": []})");
  EXPECT_TRUE(out.events.empty());
  EXPECT_TRUE(out.errors.empty());
}

TEST(CloudTrailDecoder, RecordsIsBoundedPerRecordNotPerDocument) {
  std::string doc = R"({"Records":[)";
  for (int i = 0; i < 20; ++i) {
    doc += (i == 0 ? "" : ",") + record();
  }
  doc += "]}";
  const size_t limit = record().size();
  ASSERT_GT(doc.size(), limit);
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  decoder.decode(doc, out, limit);
  EXPECT_EQ(out.events.size(), 20U);
  EXPECT_TRUE(out.errors.empty());
}

TEST(CloudTrailDecoder, DecodesEventBridgeEnvelopeDetailAsRecord) {
  const std::string detail = record(R"(,"recipientAccountId":"111122223333")");
  const std::string doc = R"({"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718",)"
                          R"("detail-type":"AWS API Call via CloudTrail","source":"aws.ec2",)"
                          R"("account":"999988887777","time":"2023-07-10T11:42:19Z",)"
                          R"("region":"us-east-1","resources":[],"detail":  )" +
                          detail + "  }";
  const CloudTrailEvent e = single_event(doc);
  EXPECT_EQ(e.raw, detail);
  EXPECT_EQ(e.event_name, "RunInstances");
  EXPECT_EQ(e.account_id, "111122223333");
}

TEST(CloudTrailDecoder, UsesEnvelopeAccountWhenRecordNamesNone) {
  const std::string doc = R"({"detail-type":"AWS Console Sign In via CloudTrail",)"
                          R"("account":"999988887777","detail":)" +
                          record() + "}";
  EXPECT_EQ(single_event(doc).account_id, "999988887777");
}

TEST(CloudTrailDecoder, DecodesEnvelopeWhoseDetailPrecedesDetailType) {
  const std::string doc =
      R"({"detail":)" + record() + R"(,"detail-type":"AWS Service Event via CloudTrail"})";
  EXPECT_EQ(single_event(doc).event_source, "ec2.amazonaws.com");
}

TEST(CloudTrailDecoder, RejectsNonCloudTrailDetailTypeAsUnsupportedEvent) {
  const std::string doc =
      R"({"version":"0","detail-type":"EC2 Instance State-change Notification",)"
      R"("source":"aws.ec2","detail":{"instance-id":"i-1","state":"running"}})";
  const CloudTrailRecordError e = single_error(doc);
  EXPECT_EQ(e.error.reason, DropReason::kUnsupportedEvent);
  EXPECT_THAT(e.error.detail, HasSubstr("/detail-type"));
  EXPECT_EQ(e.raw, doc);
}

TEST(CloudTrailDecoder, RejectsNonCloudTrailDetailTypeEvenWhenDetailComesFirst) {
  const std::string doc = R"({"detail":)" + record() + R"(,"detail-type":"Scheduled Event"})";
  EXPECT_EQ(single_error(doc).error.reason, DropReason::kUnsupportedEvent);
}

TEST(CloudTrailDecoder, AcceptsEveryCloudTrailDetailType) {
  for (const char* type : {"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail",
                           "AWS Console Action via CloudTrail", "AWS Service Event via CloudTrail",
                           "AWS Insight via CloudTrail"}) {
    EXPECT_TRUE(is_cloudtrail_detail_type(type)) << type;
    const std::string doc =
        std::string(R"({"detail-type":")") + type + R"(","detail":)" + record() + "}";
    EXPECT_EQ(decode(doc).events.size(), 1U) << type;
  }
}

TEST(CloudTrailDecoder, DetailTypeComparisonIsExact) {
  EXPECT_FALSE(is_cloudtrail_detail_type("aws api call via cloudtrail"));
  EXPECT_FALSE(is_cloudtrail_detail_type("AWS API Call via CloudTrail "));
  EXPECT_FALSE(is_cloudtrail_detail_type(""));
}

TEST(CloudTrailDecoder, RejectsCloudTrailEnvelopeWithoutDetailAsMissingField) {
  const CloudTrailRecordError e = single_error(R"({"detail-type":"AWS API Call via CloudTrail"})");
  EXPECT_EQ(e.error.reason, DropReason::kMissingField);
  EXPECT_THAT(e.error.detail, StartsWith("/detail:"));
}

TEST(CloudTrailDecoder, RejectsNonObjectDetailAsWrongType) {
  const CloudTrailRecordError e =
      single_error(R"({"detail-type":"AWS API Call via CloudTrail","detail":"x"})");
  EXPECT_EQ(e.error.reason, DropReason::kWrongType);
  EXPECT_THAT(e.error.detail, StartsWith("/detail:"));
}

TEST(CloudTrailDecoder, BadDetailIsReportedWithDetailPointerAndDetailRaw) {
  const std::string detail = R"({"eventTime":"2023-07-10T11:42:18Z","eventName":"x"})";
  const CloudTrailRecordError e =
      single_error(R"({"detail-type":"AWS API Call via CloudTrail","detail":)" + detail + "}");
  EXPECT_EQ(e.error.reason, DropReason::kMissingField);
  EXPECT_THAT(e.error.detail, StartsWith("/detail/eventSource:"));
  EXPECT_EQ(e.raw, detail);
}

// A JSON string holding `text`, as a CloudWatch Logs message carries a record.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

TEST(CloudTrailDecoder, DecodesCloudWatchLogsSubscriptionMessage) {
  const std::string first = record(R"(,"eventID":"one")");
  const std::string second = record(R"(,"eventID":"two","userAgent":"a \"quoted\" agent")");
  const std::string doc =
      R"({"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"CloudTrail/Default",)"
      R"("logStream":"111122223333_CloudTrail_us-east-1","subscriptionFilters":["f"],)"
      R"("logEvents":[{"id":"1","timestamp":1688989338000,"message":)" +
      json_string(first) + R"(},{"id":"2","timestamp":1688989338000,"message":)" +
      json_string(second) + "}]}";
  const CloudTrailDecodeOutput out = decode(doc);
  ASSERT_EQ(out.events.size(), 2U);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(out.events[0].event_id, "one");
  EXPECT_EQ(out.events[0].raw, first);
  EXPECT_EQ(out.events[1].raw, second);
  EXPECT_EQ(out.events[1].user_agent, "a \"quoted\" agent");
}

TEST(CloudTrailDecoder, RejectsBadCloudWatchLogsMessageAlone) {
  const std::string doc = R"({"messageType":"DATA_MESSAGE","logEvents":[)"
                          R"({"message":"CWL plain text line"},)"
                          R"({"message":"{\"eventName\":\"x\"}"},)"
                          R"({"message":"[1,2]"},)"
                          R"({"id":"4"},)"
                          R"({"message":)" +
                          json_string(record()) + "}]}";
  const CloudTrailDecodeOutput out = decode(doc);
  ASSERT_EQ(out.events.size(), 1U);
  ASSERT_EQ(out.errors.size(), 4U);
  EXPECT_EQ(out.errors[0].error.reason, DropReason::kNotJson);
  EXPECT_THAT(out.errors[0].error.detail, StartsWith("/logEvents/0/message:"));
  EXPECT_EQ(out.errors[0].raw, "CWL plain text line");
  EXPECT_EQ(out.errors[1].error.reason, DropReason::kMissingField);
  EXPECT_THAT(out.errors[1].error.detail, StartsWith("/logEvents/1/message/eventTime:"));
  EXPECT_EQ(out.errors[2].error.reason, DropReason::kUnknownFormat);
  EXPECT_EQ(out.errors[3].error.reason, DropReason::kMissingField);
  EXPECT_THAT(out.errors[3].error.detail, StartsWith("/logEvents/3/message:"));
  EXPECT_EQ(out.errors[3].raw, R"({"id":"4"})");
}

TEST(CloudTrailDecoder, RejectsCloudWatchLogsControlMessageAsUnsupported) {
  const std::string doc =
      R"({"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"",)"
      R"("logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,)"
      R"("message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]})";
  const CloudTrailRecordError e = single_error(doc);
  EXPECT_EQ(e.error.reason, DropReason::kUnsupportedEvent);
  EXPECT_THAT(e.error.detail, HasSubstr("/messageType"));
}

// ---------------------------------------------------------------------------------------------
// Pitfalls from the reference (cloudtrail.md §1.5).

TEST(CloudTrailDecoder, AcceptsReadOnlyAndManagementEventAsBooleansOrStrings) {
  EXPECT_EQ(single_event(record(R"(,"readOnly":true,"managementEvent":false)")).read_only, true);
  const CloudTrailEvent strings =
      single_event(record(R"(,"readOnly":"false","managementEvent":"true")"));
  EXPECT_EQ(strings.read_only, false);
  EXPECT_EQ(strings.management_event, true);
}

TEST(CloudTrailDecoder, RejectsReadOnlyStringOtherThanTrueOrFalseAsInvalidValue) {
  const CloudTrailRecordError e = single_error(record(R"(,"readOnly":"yes")"));
  EXPECT_EQ(e.error.reason, DropReason::kInvalidValue);
  EXPECT_THAT(e.error.detail, StartsWith("/readOnly:"));
}

TEST(CloudTrailDecoder, RejectsNumericManagementEventAsWrongType) {
  const CloudTrailRecordError e = single_error(record(R"(,"managementEvent":1)"));
  EXPECT_EQ(e.error.reason, DropReason::kWrongType);
  EXPECT_EQ(e.error.detail, "/managementEvent: expected a boolean, got a number");
}

TEST(CloudTrailDecoder, KeepsStringFlagsOutsideExtractedFieldsUntouched) {
  // mfaAuthenticated, sessionCredentialFromConsole and MFAUsed are strings in real logs; they
  // are not extracted, so their type never matters, and they stay verbatim in raw.
  const std::string doc =
      record(R"(,"userIdentity":{"type":"IAMUser","sessionContext":{"attributes":)"
             R"({"mfaAuthenticated":"true"}}},"sessionCredentialFromConsole":"true",)"
             R"("additionalEventData":{"MFAUsed":"No"})");
  EXPECT_EQ(single_event(doc).raw, doc);
}

TEST(CloudTrailDecoder, AcceptsNullResponseElementsAndRequestParameters) {
  const CloudTrailEvent e =
      single_event(record(R"(,"requestParameters":null,"responseElements":null)"));
  EXPECT_EQ(e.event_name, "RunInstances");
}

TEST(CloudTrailDecoder, TreatsNullOptionalStringAsAbsent) {
  const CloudTrailEvent e = single_event(record(R"(,"errorCode":null,"userIdentity":null)"));
  EXPECT_TRUE(e.error_code.empty());
  EXPECT_TRUE(e.principal_type.empty());
}

TEST(CloudTrailDecoder, KeepsHostNameAndAwsInternalSourceIpAddressVerbatim) {
  EXPECT_EQ(single_event(record(R"(,"sourceIPAddress":"secretsmanager.amazonaws.com")"))
                .source_ip_address,
            "secretsmanager.amazonaws.com");
  EXPECT_EQ(single_event(record(R"(,"sourceIPAddress":"AWS Internal")")).source_ip_address,
            "AWS Internal");
}

TEST(CloudTrailDecoder, KeepsAwsConsoleSigninSpellingVerbatim) {
  EXPECT_EQ(single_event(record(R"(,"eventType":"AwsConsoleSignin")")).event_type,
            "AwsConsoleSignin");
}

TEST(CloudTrailDecoder, TakesInsightsEventSourceAndNameFromInsightDetails) {
  const std::string doc =
      R"({"eventVersion":"1.08","eventTime":"2020-07-21T20:56:00Z","awsRegion":"us-east-1",)"
      R"("eventID":"e1","eventType":"AwsCloudTrailInsight","recipientAccountId":"111122223333",)"
      R"("sharedEventID":"s1","insightDetails":{"state":"Start",)"
      R"("eventSource":"autoscaling.amazonaws.com","eventName":"CompleteLifecycleAction",)"
      R"("insightType":"ApiCallRateInsight","insightContext":{"statistics":{"baseline":)"
      R"({"average":0.01},"insight":{"average":0.6}}}},"eventCategory":"Insight"})";
  const CloudTrailEvent e = single_event(doc);
  EXPECT_EQ(e.event_source, "autoscaling.amazonaws.com");
  EXPECT_EQ(e.event_name, "CompleteLifecycleAction");
  EXPECT_EQ(e.insight_type, "ApiCallRateInsight");
  EXPECT_EQ(e.insight_state, "Start");
  EXPECT_EQ(e.event_category, "Insight");
  EXPECT_EQ(e.account_id, "111122223333");
}

TEST(CloudTrailDecoder, InsightsRecordWithoutInsightEventSourceIsMissingField) {
  const CloudTrailRecordError e = single_error(
      R"({"eventTime":"2020-07-21T20:56:00Z","insightDetails":{"state":"End","eventName":"x"}})");
  EXPECT_EQ(e.error.reason, DropReason::kMissingField);
  EXPECT_THAT(e.error.detail, StartsWith("/eventSource:"));
}

TEST(CloudTrailDecoder, PrefersRecipientAccountIdOverUserIdentityAccountId) {
  const CloudTrailEvent e = single_event(record(
      R"(,"userIdentity":{"accountId":"111122223333"},"recipientAccountId":"444455556666")"));
  EXPECT_EQ(e.account_id, "444455556666");
  EXPECT_EQ(e.principal_account_id, "111122223333");
}

TEST(CloudTrailDecoder, FallsBackToUserIdentityAccountId) {
  EXPECT_EQ(single_event(record(R"(,"userIdentity":{"accountId":"111122223333"})")).account_id,
            "111122223333");
}

TEST(CloudTrailDecoder, DecodesServiceEventWithoutUserIdentityType) {
  const CloudTrailEvent e = single_event(
      record(R"(,"userIdentity":{"accountId":"111122223333","invokedBy":"AWS Internal"},)"
             R"("eventType":"AwsServiceEvent")"));
  EXPECT_TRUE(e.principal_type.empty());
  EXPECT_EQ(e.invoked_by, "AWS Internal");
  EXPECT_EQ(e.event_type, "AwsServiceEvent");
}

TEST(CloudTrailDecoder, AcceptsUnknownFieldsAndNewerVersions) {
  const CloudTrailEvent e = single_event(
      R"({"eventVersion":"1.11","eventTime":"2023-07-10T11:42:18Z","eventSource":"s3.amazonaws.com",)"
      R"("eventName":"GetObject","eventContext":{"requestContext":{"a":[1,2,{"b":null}]},)"
      R"("tagContext":{}},"someFutureField":[true,false,1.5e3,"x"]})");
  EXPECT_EQ(e.event_version, "1.11");
  EXPECT_EQ(e.event_name, "GetObject");
}

TEST(CloudTrailDecoder, UnescapesStringsAndKeys) {
  const CloudTrailEvent e = single_event(
      R"({"event\u0054ime":"2023-07-10T11:42:18Z","eventSource":"ec2.amazonaws.com",)"
      R"("eventName":"Run\u0049nstances","userAgent":"caf\u00e9 \ud83d\ude00 \\ \/"})");
  EXPECT_EQ(e.time.millis(), kTimeMillis);
  EXPECT_EQ(e.event_name, "RunInstances");
  EXPECT_EQ(e.user_agent, "caf\xc3\xa9 \xf0\x9f\x98\x80 \\ /");
}

// ---------------------------------------------------------------------------------------------
// Required fields and types.

TEST(CloudTrailDecoder, RejectsMissingEventTimeAsMissingField) {
  const CloudTrailRecordError e =
      single_error(R"({"eventSource":"ec2.amazonaws.com","eventName":"RunInstances"})");
  EXPECT_EQ(e.error.reason, DropReason::kMissingField);
  EXPECT_EQ(e.error.detail, "/eventTime: required field is missing");
}

TEST(CloudTrailDecoder, RejectsMissingEventSourceAsMissingField) {
  const CloudTrailRecordError e =
      single_error(R"({"eventTime":"2023-07-10T11:42:18Z","eventName":"RunInstances"})");
  EXPECT_EQ(e.error.reason, DropReason::kMissingField);
  EXPECT_THAT(e.error.detail, StartsWith("/eventSource:"));
}

TEST(CloudTrailDecoder, RejectsMissingEventNameAsMissingField) {
  const CloudTrailRecordError e =
      single_error(R"({"eventTime":"2023-07-10T11:42:18Z","eventSource":"ec2.amazonaws.com"})");
  EXPECT_EQ(e.error.reason, DropReason::kMissingField);
  EXPECT_THAT(e.error.detail, StartsWith("/eventName:"));
}

TEST(CloudTrailDecoder, RejectsNonStringEventTimeAsWrongType) {
  const CloudTrailRecordError e = single_error(
      R"({"eventTime":1688989338,"eventSource":"ec2.amazonaws.com","eventName":"RunInstances"})");
  EXPECT_EQ(e.error.reason, DropReason::kWrongType);
  EXPECT_EQ(e.error.detail, "/eventTime: expected a string, got a number");
}

TEST(CloudTrailDecoder, RejectsNullRequiredFieldAsWrongType) {
  const CloudTrailRecordError e = single_error(
      R"({"eventTime":"2023-07-10T11:42:18Z","eventSource":null,"eventName":"RunInstances"})");
  EXPECT_EQ(e.error.reason, DropReason::kWrongType);
  EXPECT_EQ(e.error.detail, "/eventSource: expected a string, got null");
}

TEST(CloudTrailDecoder, RejectsUnparseableEventTimeAsBadTimestamp) {
  for (const char* bad : {"2014-03-06T21: 22: 54Z", "eventTime", "", "1688989338"}) {
    const CloudTrailRecordError e = single_error(std::string(R"({"eventTime":")") + bad +
                                                 R"(","eventSource":"a","eventName":"b"})");
    EXPECT_EQ(e.error.reason, DropReason::kBadTimestamp) << bad;
    EXPECT_THAT(e.error.detail, StartsWith("/eventTime:")) << bad;
  }
}

TEST(CloudTrailDecoder, RejectsEventTimeOutsideAcceptedRange) {
  for (const char* bad : {"1989-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2200-01-01T00:00:01Z",
                          "9999-12-31T23:59:59Z"}) {
    const CloudTrailRecordError e = single_error(std::string(R"({"eventTime":")") + bad +
                                                 R"(","eventSource":"a","eventName":"b"})");
    EXPECT_EQ(e.error.reason, DropReason::kTimestampOutOfRange) << bad;
    EXPECT_THAT(e.error.detail, StartsWith("/eventTime:")) << bad;
  }
}

TEST(CloudTrailDecoder, AcceptsEventTimeAtTheRangeBounds) {
  for (const char* edge : {"1990-01-01T00:00:00Z", "2200-01-01T00:00:00Z"}) {
    const CloudTrailEvent e = single_event(std::string(R"({"eventTime":")") + edge +
                                           R"(","eventSource":"a","eventName":"b"})");
    EXPECT_EQ(e.time, *parse_iso8601(edge)) << edge;
  }
}

TEST(CloudTrailDecoder, RejectsWrongTypeOfOptionalFieldNamingItsPointer) {
  struct Case {
    const char* extra;
    const char* detail;
  };

  for (const Case& c : {
           Case{R"(,"userAgent":5)", "/userAgent: expected a string, got a number"},
           Case{R"(,"awsRegion":["us-east-1"])", "/awsRegion: expected a string, got an array"},
           Case{R"(,"userIdentity":"root")", "/userIdentity: expected an object, got a string"},
           Case{R"(,"userIdentity":{"arn":{}})",
                "/userIdentity/arn: expected a string, got an object"},
           Case{R"(,"insightDetails":[])", "/insightDetails: expected an object, got an array"},
           Case{R"(,"insightDetails":{"state":true})",
                "/insightDetails/state: expected a string, got a boolean"},
       }) {
    const CloudTrailRecordError e = single_error(record(c.extra));
    EXPECT_EQ(e.error.reason, DropReason::kWrongType) << c.extra;
    EXPECT_EQ(e.error.detail, c.detail) << c.extra;
  }
}

TEST(CloudTrailDecoder, RejectsOversizedRecordNamingSizeAndLimit) {
  const std::string doc = record(R"(,"userAgent":")" + std::string(500, 'x') + R"(")");
  const CloudTrailRecordError e = single_error(doc, 100);
  EXPECT_EQ(e.error.reason, DropReason::kOversized);
  EXPECT_THAT(e.error.detail, HasSubstr(std::to_string(doc.size())));
  EXPECT_THAT(e.error.detail, HasSubstr("100"));
  EXPECT_EQ(e.raw, doc);
}

TEST(CloudTrailDecoder, RejectsOversizedRecordInsideRecordsAlone) {
  const std::string big = record(R"(,"userAgent":")" + std::string(500, 'x') + R"(")");
  const std::string doc = R"({"Records":[)" + record() + "," + big + "," + record() + "]}";
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  decoder.decode(doc, out, 300);
  EXPECT_EQ(out.events.size(), 2U);
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_EQ(out.errors[0].error.reason, DropReason::kOversized);
  EXPECT_THAT(out.errors[0].error.detail, StartsWith("/Records/1:"));
  EXPECT_EQ(out.errors[0].raw, big);
}

// ---------------------------------------------------------------------------------------------
// Documents that are not JSON or of no known shape.

TEST(CloudTrailDecoder, RejectsSyntaxErrorAsNotJson) {
  for (const char* bad : {"{", "}", "{\"a\" 1}", "{'eventTime': 1}", "xyz", "{\"a\":1,}"}) {
    const CloudTrailRecordError e = single_error(bad);
    EXPECT_EQ(e.error.reason, DropReason::kNotJson) << bad;
    EXPECT_EQ(e.raw, bad);
  }
}

TEST(CloudTrailDecoder, RejectsEmptyDocumentAsNotJson) {
  EXPECT_EQ(single_error("").error.reason, DropReason::kNotJson);
  EXPECT_EQ(single_error(" \n ").error.reason, DropReason::kNotJson);
}

TEST(CloudTrailDecoder, RejectsInvalidUtf8AsNotJson) {
  std::string doc = record(R"(,"userAgent":"bad )");
  doc.insert(doc.size() - 1, "\xC3\x28\"");
  const CloudTrailRecordError e = single_error(doc);
  EXPECT_EQ(e.error.reason, DropReason::kNotJson);
  EXPECT_THAT(e.error.detail, HasSubstr("UTF-8"));
  // Invalid UTF-8 in a field the decoder never reads is caught too (stage 1 checks it all).
  const std::string skipped =
      record(R"(,"requestParameters":{"k":")" + std::string("\xff") + R"("})");
  EXPECT_EQ(single_error(skipped).error.reason, DropReason::kNotJson);
}

TEST(CloudTrailDecoder, RejectsTrailingContentAsNotJson) {
  EXPECT_EQ(single_error(record() + record()).error.reason, DropReason::kNotJson);
  EXPECT_EQ(single_error(record() + " x").error.reason, DropReason::kNotJson);
}

TEST(CloudTrailDecoder, RejectsValidJsonOfNoKnownShapeAsUnknownFormat) {
  for (const char* other : {R"({"foo":1})", "[1,2]", "42", R"("eventTime")", "null", "true", "{}",
                            R"([{"eventTime":"2023-07-10T11:42:18Z"}])"}) {
    const CloudTrailRecordError e = single_error(other);
    EXPECT_EQ(e.error.reason, DropReason::kUnknownFormat) << other;
    EXPECT_EQ(e.raw, other);
  }
}

TEST(CloudTrailDecoder, RejectsMalformedDocumentOfNoKnownShapeAsNotJson) {
  for (const char* bad : {R"({"foo":tru})", "[1,2", "[1,]", "4x2", R"({"detail":{"a":nul}})"}) {
    EXPECT_EQ(single_error(bad).error.reason, DropReason::kNotJson) << bad;
  }
}

TEST(CloudTrailDecoder, RejectsMalformedLiteralInAReadFieldAsNotJson) {
  const CloudTrailRecordError e = single_error(record(R"(,"readOnly":tru)"));
  EXPECT_EQ(e.error.reason, DropReason::kNotJson);
  EXPECT_THAT(e.error.detail, StartsWith("/readOnly:"));
}

TEST(CloudTrailDecoder, RejectsRecordsThatIsNotAnArrayAsWrongType) {
  const CloudTrailRecordError e = single_error(R"({"Records":{"eventTime":"x"}})");
  EXPECT_EQ(e.error.reason, DropReason::kWrongType);
  EXPECT_THAT(e.error.detail, StartsWith("/Records:"));
}

// ---------------------------------------------------------------------------------------------
// Isolation inside multi-record documents.

TEST(CloudTrailDecoder, IsolatesBadRecordBetweenTwoGoodOnes) {
  const std::string bad = R"({"eventTime": 17, "eventSource": "ec2.amazonaws.com"})";
  const std::string doc = R"({"Records":[)" + record(R"(,"eventID":"first")") + ",\n  " + bad +
                          "  ,\n" + record(R"(,"eventID":"last")") + "]}";
  const CloudTrailDecodeOutput out = decode(doc);
  ASSERT_EQ(out.events.size(), 2U);
  EXPECT_EQ(out.events[0].event_id, "first");
  EXPECT_EQ(out.events[1].event_id, "last");
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_EQ(out.errors[0].error.reason, DropReason::kWrongType);
  EXPECT_EQ(out.errors[0].error.detail, "/Records/1/eventTime: expected a string, got a number");
  EXPECT_EQ(out.errors[0].raw, bad);
}

TEST(CloudTrailDecoder, IsolatesNonObjectElementsOfRecords) {
  const std::string doc = R"({"Records":[42, )" + record() + R"(, "text", [1, {"a": 2}], null]})";
  const CloudTrailDecodeOutput out = decode(doc);
  EXPECT_EQ(out.events.size(), 1U);
  ASSERT_EQ(out.errors.size(), 4U);
  EXPECT_EQ(out.errors[0].raw, "42");
  EXPECT_EQ(out.errors[1].raw, "\"text\"");
  EXPECT_EQ(out.errors[2].raw, R"([1, {"a": 2}])");
  EXPECT_EQ(out.errors[3].raw, "null");
  for (const CloudTrailRecordError& e : out.errors) {
    EXPECT_EQ(e.error.reason, DropReason::kWrongType);
  }
  EXPECT_THAT(out.errors[2].error.detail, StartsWith("/Records/3:"));
}

TEST(CloudTrailDecoder, IsolatesMalformedLiteralInsideOneRecord) {
  const std::string doc = R"({"Records":[)" + record(R"(,"readOnly":fals)") + "," + record() + "]}";
  const CloudTrailDecodeOutput out = decode(doc);
  EXPECT_EQ(out.events.size(), 1U);
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_EQ(out.errors[0].error.reason, DropReason::kNotJson);
  EXPECT_THAT(out.errors[0].error.detail, StartsWith("/Records/0/readOnly:"));
}

TEST(CloudTrailDecoder, StructurallyBrokenRecordsFileYieldsOneNotJsonError) {
  const std::string doc = R"({"Records":[)" + record() + R"(,{"eventTime": }, )" + record() + "]}";
  const CloudTrailRecordError e = single_error(doc);
  EXPECT_EQ(e.error.reason, DropReason::kNotJson);
  EXPECT_EQ(e.raw, doc);
}

TEST(CloudTrailDecoder, EveryTruncationOfARecordIsNotJson) {
  const std::string doc =
      record(R"(,"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"},)"
             R"("requestParameters":{"a":[1,2.5,{"b":null}],"c":"\u00e9"},"readOnly":true)");
  for (size_t n = 0; n < doc.size(); ++n) {
    const CloudTrailDecodeOutput out = decode(doc.substr(0, n));
    ASSERT_TRUE(out.events.empty()) << n;
    ASSERT_EQ(out.errors.size(), 1U) << n;
    ASSERT_EQ(out.errors[0].error.reason, DropReason::kNotJson) << doc.substr(0, n);
  }
}

TEST(CloudTrailDecoder, EveryTruncationOfARecordsFileYieldsOneNotJsonError) {
  const std::string doc = R"({"Records":[)" + record(R"(,"userIdentity":{"type":"Root"})") + "," +
                          record(R"(,"responseElements":{"x":[{}]})") + "]}";
  for (size_t n = 0; n < doc.size(); ++n) {
    const CloudTrailDecodeOutput out = decode(doc.substr(0, n));
    ASSERT_TRUE(out.events.empty()) << doc.substr(0, n);
    ASSERT_EQ(out.errors.size(), 1U) << doc.substr(0, n);
    ASSERT_EQ(out.errors[0].error.reason, DropReason::kNotJson) << doc.substr(0, n);
  }
}

TEST(CloudTrailDecoder, DeepNestingNeverCrashes) {
  const std::string open(100'000, '[');
  const std::string close(100'000, ']');
  EXPECT_EQ(single_error(open).error.reason, DropReason::kNotJson);
  EXPECT_EQ(single_error(open + close).error.reason, DropReason::kNotJson);
  EXPECT_EQ(single_error(R"({"Records":)" + open).error.reason, DropReason::kNotJson);
  EXPECT_EQ(single_error(R"({"Records":)" + open + close + "}").error.reason,
            DropReason::kWrongType);
  EXPECT_EQ(
      single_error(R"({"detail-type":"AWS API Call via CloudTrail","detail":)" + open).error.reason,
      DropReason::kNotJson);
  std::string objects;
  for (int i = 0; i < 100'000; ++i) {
    objects += R"({"a":)";
  }
  EXPECT_EQ(single_error(objects).error.reason, DropReason::kNotJson);
}

TEST(CloudTrailDecoder, ModerateNestingInsideAnIgnoredFieldStillDecodes) {
  const std::string deep = std::string(500, '[') + std::string(500, ']');
  const CloudTrailEvent e = single_event(record(R"(,"requestParameters":)" + deep));
  EXPECT_EQ(e.event_name, "RunInstances");
}

// Accepted records are validated in full before their raw bytes are kept, so hostile content in
// a field the walk skips is dead-lettered rather than handed to rules that read `raw`.
TEST(CloudTrailDecoder, RejectsRecordNestedBeyondTheParserDepthLimitInAnIgnoredField) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  decoder.decode(record(R"(,"requestParameters":)" + deep), out);
  EXPECT_TRUE(out.events.empty());
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_EQ(out.errors[0].error.reason, DropReason::kNotJson);
  EXPECT_NE(out.errors[0].error.detail.find("too deep"), std::string::npos);
}

TEST(CloudTrailDecoder, RejectsRecordWithABadLiteralInAFieldTheWalkSkips) {
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  decoder.decode(R"({"Records":[)" + record() + "," +
                     record(R"(,"requestParameters":{"dryRun":tru,"n":1})") + "," + record() + "]}",
                 out);
  EXPECT_EQ(out.events.size(), 2U);
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_EQ(out.errors[0].error.reason, DropReason::kNotJson);
}

// ---------------------------------------------------------------------------------------------
// Decoder lifecycle.

TEST(CloudTrailDecoder, AppendsToOutputAndIsReusableAcrossDocuments) {
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  std::string big = R"({"Records":[)";
  for (int i = 0; i < 50; ++i) {
    big += (i == 0 ? "" : ",") + record();
  }
  big += "]}";
  decoder.decode(big, out);
  decoder.decode("not json", out);
  decoder.decode(record(R"(,"eventID":"small")"), out);
  ASSERT_EQ(out.events.size(), 51U);
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_EQ(out.events.back().event_id, "small");
  EXPECT_EQ(out.events.back().raw, record(R"(,"eventID":"small")"));
  out.clear();
  decoder.decode(record(), out);
  EXPECT_EQ(out.events.size(), 1U);
}

TEST(CloudTrailDecoder, IsMovable) {
  CloudTrailDecoder first;
  CloudTrailDecoder second(std::move(first));
  CloudTrailDecoder third;
  third = std::move(second);
  CloudTrailDecodeOutput out;
  third.decode(record(), out);
  EXPECT_EQ(out.events.size(), 1U);
}

// ---------------------------------------------------------------------------------------------
// Event versions.

TEST(ParseEventVersion, ParsesMajorAndMinorAsIntegers) {
  EXPECT_EQ(parse_event_version("1.08"), std::make_pair(1, 8));
  EXPECT_EQ(parse_event_version("1.10"), std::make_pair(1, 10));
  EXPECT_EQ(parse_event_version("2.0"), std::make_pair(2, 0));
  EXPECT_GT(*parse_event_version("1.10"), *parse_event_version("1.09"));
}

TEST(ParseEventVersion, RejectsAnythingButTwoDigitRuns) {
  for (const char* bad : {"", "1", "1.", ".8", "a.b", "1.-2", "-1.2", "+1.2", "1.2.3", "1.08 ",
                          " 1.08", "99999999999.1"}) {
    EXPECT_FALSE(parse_event_version(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace tw::pipeline
