#pragma once

/// CloudTrail events and their decoder.
///
/// CloudTrail reaches trailwatch in four shapes, all handled by one decoder:
///   * a single record (`{"eventVersion": ..., "eventTime": ...}`), as in CloudWatch Logs;
///   * an EventBridge envelope whose `detail-type` is one of CloudTrail's ("AWS API Call via
///     CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Console Action via CloudTrail",
///     "AWS Service Event via CloudTrail", "AWS Insight via CloudTrail"), record in `detail`;
///   * an S3 log file, `{"Records": [ ... ]}` (gunzipped by the source, not here);
///   * a CloudWatch Logs subscription message (`{"messageType": "DATA_MESSAGE", "logEvents":
///     [{"message": "<record as a JSON string>"}, ...]}`).
///
/// The decoder extracts the fields later operators need and keeps the record's raw bytes for
/// rules that read arbitrary paths. It parses by field presence, never by eventVersion, and
/// accepts unknown fields. Bad records inside a multi-record document are reported one by one;
/// the good records around them are unaffected.
///
/// Thread-safety: a decoder instance is used by one thread at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/drop_reason.h"
#include "pipeline/time.h"

namespace tw::pipeline {

/// The pre-extracted fields of one CloudTrail record. Absent optional fields are empty strings
/// (or nullopt for booleans).
struct CloudTrailEvent {
  EventTime time;              ///< eventTime.
  std::string event_version;   ///< "1.08"; may be empty in hand-edited samples.
  std::string event_source;    ///< "ec2.amazonaws.com" (from insightDetails for Insights).
  std::string event_name;      ///< "RunInstances" (from insightDetails for Insights).
  std::string event_type;      ///< "AwsApiCall", "AwsConsoleSignIn", "AwsCloudTrailInsight"...
  std::string event_category;  ///< "Management", "Data", "NetworkActivity", "Insight".
  std::string event_id;        ///< GUID; the deduplication key.
  std::string aws_region;      ///< awsRegion.
  std::string account_id;      ///< recipientAccountId, else userIdentity.accountId, else the
                               ///< envelope's account.
  std::string recipient_account_id;
  std::string source_ip_address;  ///< An IP, a service host name or "AWS Internal".
  std::string user_agent;
  std::string error_code;
  std::string error_message;
  std::string principal_type;            ///< userIdentity.type (may be empty for service events).
  std::string principal_arn;             ///< userIdentity.arn.
  std::string principal_account_id;      ///< userIdentity.accountId.
  std::string principal_id;              ///< userIdentity.principalId.
  std::string user_name;                 ///< userIdentity.userName.
  std::string access_key_id;             ///< userIdentity.accessKeyId.
  std::string invoked_by;                ///< userIdentity.invokedBy.
  std::optional<bool> read_only;         ///< JSON boolean in real logs; "true"/"false" accepted.
  std::optional<bool> management_event;  ///< Same.
  std::string insight_type;   ///< Insights only: "ApiCallRateInsight" / "ApiErrorRateInsight".
  std::string insight_state;  ///< Insights only: "Start" / "End".
  std::string raw;            ///< The record's JSON text exactly as received.

  bool operator==(const CloudTrailEvent&) const = default;
};

/// A record the decoder rejected, with its raw bytes for the dead-letter output.
struct CloudTrailRecordError {
  DecodeError error;
  std::string raw;
};

/// What one document produced.
struct CloudTrailDecodeOutput {
  std::vector<CloudTrailEvent> events;
  std::vector<CloudTrailRecordError> errors;

  void clear() {
    events.clear();
    errors.clear();
  }
};

/// Parses "1.08" / "1.10" into (major, minor) as integers, as AWS says to compare versions.
std::optional<std::pair<int, int>> parse_event_version(std::string_view text);

/// True when `detail_type` is one of the EventBridge detail-types CloudTrail delivers.
bool is_cloudtrail_detail_type(std::string_view detail_type);

class CloudTrailDecoder {
 public:
  CloudTrailDecoder();
  ~CloudTrailDecoder();
  CloudTrailDecoder(const CloudTrailDecoder&) = delete;
  CloudTrailDecoder& operator=(const CloudTrailDecoder&) = delete;
  CloudTrailDecoder(CloudTrailDecoder&& other) noexcept;
  CloudTrailDecoder& operator=(CloudTrailDecoder&& other) noexcept;

  /// Decodes one JSON document of any of the shapes above, appending to `out`. Every record of
  /// the document ends up either in out.events or in out.errors; a document that is not JSON,
  /// or of no recognised shape, yields exactly one error carrying the whole document.
  /// `max_record_bytes` bounds each record (the document itself is bounded by the caller).
  void decode(std::string_view document, CloudTrailDecodeOutput& out,
              size_t max_record_bytes = 1 << 20);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::pipeline
