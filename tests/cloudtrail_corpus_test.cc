// CloudTrail decoder against real and sample data.
//
// (a) The small samples committed in tests/data/cloudtrail/ (always run).
// (b) The shared reference corpus, when the shared folder sits beside the repository: the 55 raw
//     invictus-ir S3 log files, and the awsdocs / panther-analysis / streamalert extracts. The
//     product never depends on that folder; these tests skip when it is absent.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "pipeline/cloudtrail.h"
#include "pipeline/drop_reason.h"
#include "pipeline/time.h"

namespace tw::pipeline {
namespace {

namespace fs = std::filesystem;
using ::testing::StartsWith;

const fs::path kSamples = fs::path(TW_SOURCE_DIR) / "tests" / "data" / "cloudtrail";
const fs::path kSharedCorpus = fs::path(TW_SOURCE_DIR "/../shared/data/cloudtrail");

std::string read_file(const fs::path& path) {
  const std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

CloudTrailDecodeOutput decode_file(const fs::path& path) {
  const std::string text = read_file(path);
  EXPECT_FALSE(text.empty()) << path;
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  decoder.decode(text, out);
  return out;
}

EventTime at(std::string_view iso) {
  const std::optional<EventTime> t = parse_iso8601(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(EventTime{});
}

// ---------------------------------------------------------------------------------------------
// (a) Committed samples.

TEST(CloudTrailSamples, RecordsFileDecodesEveryRecord) {
  const CloudTrailDecodeOutput out = decode_file(kSamples / "records_file.json");
  ASSERT_EQ(out.events.size(), 4U);
  EXPECT_TRUE(out.errors.empty());

  const CloudTrailEvent& describe = out.events[0];
  EXPECT_EQ(describe.event_name, "DescribeInstances");
  EXPECT_EQ(describe.time, at("2024-03-14T09:26:53Z"));
  EXPECT_EQ(describe.read_only, true);
  EXPECT_EQ(describe.principal_type, "IAMUser");
  EXPECT_EQ(describe.user_name, "ops-alice");
  EXPECT_EQ(describe.access_key_id, "AKIAQXAMPLEN5OPQ7H2M");
  EXPECT_EQ(describe.aws_region, "eu-west-1");

  // Cross-account call: the receiving account, not the caller's, is the record's account.
  const CloudTrailEvent& attach = out.events[1];
  EXPECT_EQ(attach.event_version, "1.09");
  EXPECT_EQ(attach.principal_type, "AssumedRole");
  EXPECT_EQ(attach.principal_account_id, "444455556666");
  EXPECT_EQ(attach.account_id, "111122223333");
  EXPECT_EQ(attach.error_code, "AccessDenied");
  EXPECT_THAT(attach.error_message, StartsWith("User: arn:aws:sts::444455556666"));
  EXPECT_EQ(attach.read_only, false);

  // Service event: userIdentity has only accountId and invokedBy.
  const CloudTrailEvent& rotation = out.events[2];
  EXPECT_EQ(rotation.event_type, "AwsServiceEvent");
  EXPECT_TRUE(rotation.principal_type.empty());
  EXPECT_EQ(rotation.invoked_by, "secretsmanager.amazonaws.com");
  EXPECT_EQ(rotation.source_ip_address, "secretsmanager.amazonaws.com");
  EXPECT_EQ(rotation.time, at("2024-03-14T09:25:40Z"));  // Earlier than its predecessor.

  const CloudTrailEvent& acl = out.events[3];
  EXPECT_EQ(acl.principal_type, "AWSService");
  EXPECT_EQ(acl.event_source, "s3.amazonaws.com");
  for (const CloudTrailEvent& e : out.events) {
    EXPECT_EQ(e.event_category, "Management");
    EXPECT_EQ(e.management_event, true);
    EXPECT_EQ(e.raw.front(), '{');
    EXPECT_EQ(e.raw.back(), '}');
  }
}

TEST(CloudTrailSamples, EventBridgeEnvelopeDecodesDetail) {
  const CloudTrailDecodeOutput out = decode_file(kSamples / "eventbridge_api_call.json");
  ASSERT_EQ(out.events.size(), 1U);
  EXPECT_TRUE(out.errors.empty());
  const CloudTrailEvent& e = out.events[0];
  EXPECT_EQ(e.event_source, "kms.amazonaws.com");
  EXPECT_EQ(e.event_name, "ScheduleKeyDeletion");
  EXPECT_EQ(e.time, at("2024-03-14T10:02:17Z"));
  EXPECT_EQ(e.principal_type, "AssumedRole");
  EXPECT_TRUE(e.principal_account_id.empty());
  EXPECT_TRUE(e.recipient_account_id.empty());
  EXPECT_EQ(e.account_id, "111122223333");  // From the envelope.
  EXPECT_EQ(e.user_agent, "console.amazonaws.com");
  EXPECT_THAT(e.raw, StartsWith("{\n    \"eventVersion\": \"1.08\""));
  EXPECT_EQ(e.raw.back(), '}');
  EXPECT_EQ(nlohmann::json::parse(e.raw),
            nlohmann::json::parse(read_file(kSamples / "eventbridge_api_call.json"))["detail"]);
}

TEST(CloudTrailSamples, ConsoleSignInDecodes) {
  const CloudTrailDecodeOutput out = decode_file(kSamples / "console_signin.json");
  ASSERT_EQ(out.events.size(), 1U);
  EXPECT_TRUE(out.errors.empty());
  const CloudTrailEvent& e = out.events[0];
  EXPECT_EQ(e.event_type, "AwsConsoleSignIn");
  EXPECT_EQ(e.event_name, "ConsoleLogin");
  EXPECT_EQ(e.event_source, "signin.amazonaws.com");
  EXPECT_EQ(e.error_message, "Failed authentication");
  EXPECT_TRUE(e.error_code.empty());
  EXPECT_EQ(e.raw + "\n", read_file(kSamples / "console_signin.json"));
}

TEST(CloudTrailSamples, InsightsStartAndEndDecode) {
  const CloudTrailDecodeOutput out = decode_file(kSamples / "insights_start_end.json");
  ASSERT_EQ(out.events.size(), 2U);
  EXPECT_TRUE(out.errors.empty());
  for (const CloudTrailEvent& e : out.events) {
    EXPECT_EQ(e.event_type, "AwsCloudTrailInsight");
    EXPECT_EQ(e.event_category, "Insight");
    EXPECT_EQ(e.event_source, "ssm.amazonaws.com");
    EXPECT_EQ(e.event_name, "GetParameters");
    EXPECT_EQ(e.insight_type, "ApiCallRateInsight");
    EXPECT_EQ(e.account_id, "111122223333");
    EXPECT_TRUE(e.principal_arn.empty());
  }
  EXPECT_EQ(out.events[0].insight_state, "Start");
  EXPECT_EQ(out.events[1].insight_state, "End");
  EXPECT_EQ(out.events[1].time - out.events[0].time, Duration::minutes(4));
}

TEST(CloudTrailSamples, CloudWatchLogsMessageDecodesEachLogEvent) {
  const CloudTrailDecodeOutput out = decode_file(kSamples / "cloudwatch_logs_message.json");
  ASSERT_EQ(out.events.size(), 2U);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(out.events[0].event_type, "AwsConsoleSignIn");
  EXPECT_EQ(out.events[0].principal_type, "Root");
  EXPECT_TRUE(out.events[0].access_key_id.empty());
  EXPECT_EQ(out.events[1].event_name, "AuthorizeSecurityGroupIngress");
  EXPECT_EQ(out.events[1].error_code, "Client.UnauthorizedOperation");
  // raw is the message's text, i.e. the record as CloudTrail wrote it to the log group.
  const nlohmann::json doc =
      nlohmann::json::parse(read_file(kSamples / "cloudwatch_logs_message.json"));
  EXPECT_EQ(out.events[1].raw, doc["logEvents"][1]["message"].get<std::string>());
}

TEST(CloudTrailSamples, BadRecordsFileIsolatesEachBadRecord) {
  const CloudTrailDecodeOutput out = decode_file(kSamples / "bad_records.json");
  ASSERT_EQ(out.events.size(), 2U);
  EXPECT_EQ(out.events[0].event_name, "StopLogging");
  EXPECT_EQ(out.events[1].event_name, "StartLogging");
  EXPECT_EQ(out.events[1].read_only, false);        // "false" as a string.
  EXPECT_EQ(out.events[1].management_event, true);  // "true" as a string.
  ASSERT_EQ(out.errors.size(), 5U);
  const std::vector<std::pair<DropReason, std::string>> expected = {
      {DropReason::kMissingField, "/Records/1/eventTime:"},
      {DropReason::kBadTimestamp, "/Records/2/eventTime:"},
      {DropReason::kWrongType, "/Records/3/userAgent:"},
      {DropReason::kWrongType, "/Records/4:"},
      {DropReason::kTimestampOutOfRange, "/Records/5/eventTime:"},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(out.errors[i].error.reason, expected[i].first) << i;
    EXPECT_THAT(out.errors[i].error.detail, StartsWith(expected[i].second)) << i;
  }
  EXPECT_EQ(out.errors[3].raw, "\"not a record\"");
  EXPECT_TRUE(nlohmann::json::accept(out.errors[0].raw));
}

// ---------------------------------------------------------------------------------------------
// (b) The shared reference corpus.

// GTEST_SKIP() returns from the test body, which only a macro can do for it.
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage)
#define TW_REQUIRE_SHARED_CORPUS()                                                               \
  do {                                                                                           \
    if (!fs::is_directory(kSharedCorpus)) {                                                      \
      GTEST_SKIP() << "shared CloudTrail corpus not found at " << kSharedCorpus.string()         \
                   << " (it lives outside the repository; this test only runs where it exists)"; \
    }                                                                                            \
  } while (false)

TEST(CloudTrailSharedCorpus, InvictusLogFilesDecodeCompletely) {
  TW_REQUIRE_SHARED_CORPUS();
  const fs::path dir = kSharedCorpus / "invictus-ir_aws_dataset" / "CloudTrail";
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 55U);

  CloudTrailDecoder decoder;  // One decoder for all files: buffers are reused.
  CloudTrailDecodeOutput out;
  size_t unordered_files = 0;
  for (const fs::path& file : files) {
    const size_t before = out.events.size();
    decoder.decode(read_file(file), out);
    if (!std::is_sorted(out.events.begin() + static_cast<ptrdiff_t>(before), out.events.end(),
                        [](const auto& a, const auto& b) { return a.time < b.time; })) {
      ++unordered_files;
    }
  }
  for (const CloudTrailRecordError& e : out.errors) {
    ADD_FAILURE() << to_string(e.error.reason) << ": " << e.error.detail;
  }
  ASSERT_EQ(out.events.size(), 2900U);
  EXPECT_EQ(unordered_files, 33U);  // As the reference says: files are not time-ordered.

  std::map<std::string, int> event_types;
  std::map<std::string, int> principal_types;
  std::map<std::string, int> versions;
  int read_only = 0;
  int read_write = 0;
  int with_error_code = 0;
  EventTime first = EventTime::max();
  EventTime last = EventTime::min();
  for (const CloudTrailEvent& e : out.events) {
    ++event_types[e.event_type];
    ++principal_types[e.principal_type];
    ++versions[e.event_version];
    ASSERT_TRUE(e.read_only.has_value());
    *e.read_only ? ++read_only : ++read_write;
    with_error_code += e.error_code.empty() ? 0 : 1;
    first = std::min(first, e.time);
    last = std::max(last, e.time);
    EXPECT_EQ(e.account_id, "123837392027");
    EXPECT_EQ(e.aws_region, "us-east-1");
    EXPECT_EQ(e.event_category, "Management");
    EXPECT_FALSE(e.event_id.empty());
  }
  EXPECT_EQ(first, at("2023-07-10T11:42:18Z"));
  EXPECT_EQ(last, at("2023-07-10T12:37:50Z"));
  EXPECT_EQ(event_types,
            (std::map<std::string, int>{
                {"AwsApiCall", 2855}, {"AwsServiceEvent", 42}, {"AwsConsoleSignIn", 3}}));
  EXPECT_EQ(principal_types,
            (std::map<std::string, int>{
                {"IAMUser", 2748}, {"AssumedRole", 76}, {"AWSService", 34}, {"", 42}}));
  EXPECT_EQ(versions, (std::map<std::string, int>{{"1.08", 2865}, {"1.09", 35}}));
  EXPECT_EQ(read_only, 2326);
  EXPECT_EQ(read_write, 574);
  EXPECT_EQ(with_error_code, 300);
}

// Decodes the `record` of every line of a JSONL extract, one document per record.
struct ExtractResult {
  size_t lines = 0;
  std::vector<CloudTrailEvent> events;
  std::map<std::string, size_t> rejected;  // By to_string(reason).
  // "<line> <reason> <JSON pointer>" for every rejection, lines counted from 0.
  std::vector<std::string> verdicts;
};

ExtractResult decode_extract(const fs::path& path) {
  ExtractResult result;
  std::ifstream in(path);
  std::string line;
  CloudTrailDecoder decoder;
  while (std::getline(in, line)) {
    if (line.empty()) {
      continue;
    }
    const nlohmann::json wrapper = nlohmann::json::parse(line);
    CloudTrailDecodeOutput out;
    decoder.decode(wrapper.at("record").dump(), out);
    // One record per line: each line is accounted for exactly once.
    EXPECT_EQ(out.events.size() + out.errors.size(), 1U) << path.filename() << ":" << result.lines;
    for (CloudTrailEvent& e : out.events) {
      result.events.push_back(std::move(e));
    }
    for (const CloudTrailRecordError& e : out.errors) {
      const std::string reason(to_string(e.error.reason));
      ++result.rejected[reason];
      result.verdicts.push_back(std::to_string(result.lines) + " " + reason + " " +
                                e.error.detail.substr(0, e.error.detail.find(':')));
    }
    ++result.lines;
  }
  return result;
}

size_t count_if_type(const ExtractResult& r, std::string_view event_type) {
  return static_cast<size_t>(std::count_if(
      r.events.begin(), r.events.end(), [&](const auto& e) { return e.event_type == event_type; }));
}

// Every rejection below was checked by hand against the record; each is a defect of the sample,
// not of the decoder (see the comments for what each line holds).
TEST(CloudTrailSharedCorpus, AwsDocsExamplesDecodeOrAreRejectedForTheirDefects) {
  TW_REQUIRE_SHARED_CORPUS();
  const ExtractResult r =
      decode_extract(kSharedCorpus / "awsdocs" / "awsdocs_cloudtrail_examples.jsonl");
  EXPECT_EQ(r.lines, 200U);
  EXPECT_EQ(r.events.size(), 193U);
  EXPECT_EQ(r.rejected,
            (std::map<std::string, size_t>{{"bad_timestamp", 2}, {"missing_field", 5}}));
  EXPECT_EQ(r.verdicts, (std::vector<std::string>{
                            "0 bad_timestamp /eventTime",    // "2014-03-06T21: 22: 54Z".
                            "9 missing_field /eventTime",    // DynamoDB Streams records, not
                            "10 missing_field /eventTime",   // CloudTrail: no eventTime.
                            "11 missing_field /eventTime",   //
                            "53 bad_timestamp /eventTime",   // A field description as value.
                            "64 missing_field /eventTime",   // Fragment: eventVersion and
                            "199 missing_field /eventTime",  // userIdentity only.
                        }));
  EXPECT_EQ(count_if_type(r, "AwsCloudTrailInsight"), 3U);
  EXPECT_EQ(count_if_type(r, "AwsConsoleSignin"), 1U);  // Kept as spelt.
  EXPECT_EQ(std::count_if(r.events.begin(), r.events.end(),
                          [](const auto& e) { return !e.insight_state.empty(); }),
            3);
}

TEST(CloudTrailSharedCorpus, PantherRuleTestsDecodeOrAreRejectedForTheirDefects) {
  TW_REQUIRE_SHARED_CORPUS();
  const ExtractResult r =
      decode_extract(kSharedCorpus / "panther-analysis" / "panther_cloudtrail_rule_tests.jsonl");
  EXPECT_EQ(r.lines, 464U);
  EXPECT_EQ(r.events.size(), 443U);
  EXPECT_EQ(r.rejected, (std::map<std::string, size_t>{
                            {"bad_timestamp", 2}, {"invalid_value", 1}, {"missing_field", 18}}));
  // Hand-trimmed rule-test events: Panther's rules read only a few fields, so many tests omit
  // eventTime (and one eventSource); two redact the time; one is a data-lake re-export that
  // writes booleans as Python-style "True".
  EXPECT_EQ(r.verdicts, (std::vector<std::string>{
                            "31 missing_field /eventTime",        "32 missing_field /eventTime",
                            "33 missing_field /eventTime",        "34 missing_field /eventTime",
                            "74 missing_field /eventTime",        "91 missing_field /eventTime",
                            "106 invalid_value /managementEvent",  // "True".
                            "319 bad_timestamp /eventTime",        // "redacted".
                            "325 missing_field /eventTime",       "326 missing_field /eventTime",
                            "386 missing_field /eventTime",       "387 missing_field /eventTime",
                            "388 missing_field /eventTime",       "389 missing_field /eventTime",
                            "390 missing_field /eventTime",       "443 missing_field /eventTime",
                            "449 missing_field /eventTime",
                            "452 bad_timestamp /eventTime",  // "...".
                            "454 missing_field /eventSource",     "455 missing_field /eventTime",
                            "456 missing_field /eventTime",
                        }));
  EXPECT_EQ(count_if_type(r, "AwsVpceEvent"), 8U);  // The ninth (line 443) has no eventTime.
}

TEST(CloudTrailSharedCorpus, StreamAlertSamplesDecodeOrAreRejectedForTheirDefects) {
  TW_REQUIRE_SHARED_CORPUS();
  const ExtractResult r = decode_extract(kSharedCorpus / "streamalert" /
                                         "streamalert_cloudtrail_classifier_tests.jsonl");
  EXPECT_EQ(r.lines, 3U);
  ASSERT_EQ(r.events.size(), 1U);
  // The Insights sample decodes; the other two carry placeholder times ("eventTime", "foo"),
  // the second inside a CloudWatch Logs DATA_MESSAGE, whose shape is recognised.
  EXPECT_EQ(r.events[0].insight_type, "ApiCallRateInsight");
  EXPECT_EQ(r.events[0].event_source, "autoscaling.amazonaws.com");
  EXPECT_EQ(r.rejected, (std::map<std::string, size_t>{{"bad_timestamp", 2}}));
  EXPECT_EQ(r.verdicts, (std::vector<std::string>{
                            "0 bad_timestamp /eventTime",
                            "2 bad_timestamp /logEvents/0/message/eventTime",
                        }));
}

}  // namespace
}  // namespace tw::pipeline
