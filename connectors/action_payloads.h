#pragma once

/// The bytes trailwatch's action connectors send and read: webhook bodies (EventBridge, SNS,
/// Alertmanager, Slack, PagerDuty), AWS Query API request bodies (EC2, Auto Scaling, STS) and
/// their XML responses, and the Kubernetes scale subresource's paths, patches and replies.
///
/// Contract shared by every function here:
/// - Pure and deterministic: no clock (the current time is a parameter), no randomness, no IO,
///   no global state. The same inputs give the same bytes on every run and machine, so a
///   replayed or re-sent action carries an identical body and receivers can deduplicate.
/// - Never throws and never aborts, whatever the input: hostile or truncated XML and JSON give
///   an empty result or an error Status, never a crash.
/// - Text that is not valid UTF-8 (an alarm name, a tag, a reason) is written with U+FFFD in
///   place of each maximal invalid byte sequence; JSON output is always valid UTF-8.
/// - Secrets passed in (PagerDuty routing key, web identity token) appear only in the body they
///   belong to, never in a Status message.
///
/// Thread-safety: stateless functions and value types; safe to call from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/action.h"
#include "pipeline/status.h"
#include "pipeline/time.h"

namespace tw::connectors {

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

inline constexpr std::string_view kJsonContentType = "application/json";

/// What SNS sends as the Content-Type of an HTTP(S) notification (its body is JSON all the same).
inline constexpr std::string_view kSnsNotificationContentType = "text/plain; charset=UTF-8";

/// The Content-Type of every AWS Query API request body.
inline constexpr std::string_view kAwsQueryContentType =
    "application/x-www-form-urlencoded; charset=utf-8";

/// One HTTP request header. Values never contain CR or LF.
struct HttpHeader {
  std::string name;
  std::string value;

  bool operator==(const HttpHeader&) const = default;
};

/// A deterministic, UUID-formatted id for an action delivery: 8-4-4-4-12 lower-case hex,
/// RFC 9562 version 8 with the RFC variant bits, the other 122 bits from SipHash-2-4 of `key`
/// (an ActionRequest::key). Used as the SNS `MessageId`, so a re-sent action keeps its id.
std::string action_message_id(std::string_view key);

// ---------------------------------------------------------------------------------------------
// Webhook bodies
// ---------------------------------------------------------------------------------------------

/// The body format of a webhook target.
enum class WebhookFormat {
  kEventBridge,   ///< "eventbridge": the "CloudWatch Alarm State Change" event, verbatim.
  kSns,           ///< "sns": what an SNS HTTP(S) subscription receives.
  kAlertmanager,  ///< "alertmanager": Alertmanager API v2 `POST /api/v2/alerts`.
  kSlack,         ///< "slack": a Slack incoming-webhook message.
  kPagerDuty,     ///< "pagerduty": a PagerDuty Events API v2 event.
};

/// "eventbridge", "sns", "alertmanager", "slack" or "pagerduty".
std::string_view to_string(WebhookFormat format);

/// The format named by `to_string()`'s text (exact, lower case); nullopt for anything else.
std::optional<WebhookFormat> parse_webhook_format(std::string_view text);

/// How long a firing Alertmanager alert lives without a re-send: Prometheus's choice of four
/// re-send intervals of one minute, so an alert survives three lost sends.
inline constexpr pipeline::Duration kDefaultAlertmanagerEndsAfter = pipeline::Duration::minutes(4);

/// Everything a webhook body needs besides the request. Fields a format does not use are ignored.
struct WebhookContext {
  /// The current (processing) time: SNS `Timestamp`; Alertmanager `endsAt` of a firing alert is
  /// `now + alertmanager_ends_after`.
  pipeline::EventTime now;
  /// SNS `TopicArn` (and the `x-amz-sns-topic-arn` header). Empty: the request's action when it
  /// is an SNS topic ARN, else the field and header are left out.
  std::string topic_arn;
  /// Alertmanager: the lifetime of a firing alert from `now`; re-send before it runs out.
  pipeline::Duration alertmanager_ends_after = kDefaultAlertmanagerEndsAfter;
  /// Alertmanager, resolving: when the alert started firing (the time of the transition into
  /// ALARM). Absent: `startsAt` is the resolve time; Alertmanager keeps the earlier start it has
  /// stored, so only an Alertmanager that never saw the firing alert shows the later one.
  std::optional<pipeline::EventTime> alertmanager_firing_since;
  /// Alertmanager `generatorURL`; left out when empty.
  std::string generator_url;
  /// PagerDuty `routing_key` (an integration key; a secret).
  std::string pagerduty_routing_key;
  /// PagerDuty `payload.severity` of a trigger for ALARM: critical, error, warning or info.
  std::string pagerduty_severity = "critical";
  /// PagerDuty `payload.severity` of a trigger for INSUFFICIENT_DATA.
  std::string pagerduty_insufficient_data_severity = "warning";
  /// PagerDuty `client_url`; left out when empty.
  std::string pagerduty_client_url;
};

/// A request body ready to POST.
struct WebhookBody {
  std::string content_type;
  std::string body;
  std::vector<HttpHeader> headers;  ///< Headers the format adds (SNS's x-amz-sns-*); may be empty.

  bool operator==(const WebhookBody&) const = default;
};

/// The body of `request` in `format`, or nullopt when the format has nothing to send for the
/// request's transition:
///
/// - eventbridge: `notice.event_json` verbatim (`application/json`).
/// - sns: `{"Type":"Notification","MessageId","TopicArn","Subject","Message","Timestamp"}`
///   with `MessageId = action_message_id(request.key)`, `Subject` = `notice.sns_subject` cut to
///   SNS's 100 characters (code points) and left out when empty, `Message` =
///   `notice.sns_message`, `Timestamp` = `ctx.now` as `2019-10-02T17:04:40.123Z`. Content-Type
///   `text/plain; charset=UTF-8` and headers `x-amz-sns-message-type: Notification`,
///   `x-amz-sns-message-id`, `x-amz-sns-topic-arn` (when there is a topic), as SNS sends them.
///   `SignatureVersion`, `Signature`, `SigningCertURL` and `UnsubscribeURL` are left out:
///   trailwatch cannot sign as AWS, and its own HMAC header is the authenticity mechanism.
/// - alertmanager: a firing alert when the new state is ALARM (`startsAt` = the transition,
///   `endsAt` = `ctx.now + ctx.alertmanager_ends_after`), a resolved one when the old state is
///   ALARM (`startsAt` = `ctx.alertmanager_firing_since`, `endsAt` = the transition); nullopt
///   for a transition between OK and INSUFFICIENT_DATA. Alertmanager rejects an alert that ends
///   before it starts, so a firing alert's window runs from the later of `ctx.now` and the
///   transition, and a resolved alert's `startsAt` is never after its `endsAt`. See
///   alertmanager_body().
/// - slack: `{"text":"ALARM: \"HighCPU\" in us-east-1 — <reason>"}` with `&`, `<`, `>` escaped
///   as Slack requires and line breaks in the name turned into spaces.
/// - pagerduty: ALARM → a trigger (ctx.pagerduty_severity); INSUFFICIENT_DATA → a trigger with
///   ctx.pagerduty_insufficient_data_severity (missing data keeps an open incident open instead
///   of resolving it); OK → a resolve. nullopt for any other state text. See pagerduty_event().
std::optional<WebhookBody> webhook_body(WebhookFormat format,
                                        const pipeline::ActionRequest& request,
                                        const WebhookContext& ctx);

/// The `STATE: "name" in region` line that opens Slack texts and PagerDuty and Alertmanager
/// summaries, with control characters in the name turned into spaces.
std::string notice_headline(const pipeline::ActionNotice& notice);

/// `name` as a valid Prometheus label name `[a-zA-Z_][a-zA-Z0-9_]*`: each other character
/// (code point) becomes `_`, a leading digit gets a `_` in front, and a name starting with the
/// reserved `__` gets an `x` in front. An empty name becomes `_`.
std::string prometheus_label_name(std::string_view name);

/// The Alertmanager labels of the alarm behind `notice`, in order: `alertname` (the alarm
/// name), `source` ("trailwatch"), `region`, `account_id`, then each dimension, then each tag,
/// their names through prometheus_label_name(). Pairs with an empty value are dropped; when two
/// names collide the first wins, so a dimension never overrides a fixed label and a tag never
/// overrides a dimension. The labels depend only on the alarm's identity (never on its state or
/// reason), so firing, re-sent and resolved alerts of one alarm carry the same label set, which
/// is how Alertmanager recognises them as one alert. The alarm ARN is an annotation, not a
/// label: name, region and account already identify the alarm.
std::vector<std::pair<std::string, std::string>> alertmanager_labels(
    const pipeline::ActionNotice& notice);

/// The `POST /api/v2/alerts` body for the alarm behind `notice`: a JSON array holding one
/// postableAlert {labels (alertmanager_labels), annotations {summary (notice_headline),
/// description (the alarm's), reason, reason_data, state, previous_state, alarm_arn}, startsAt,
/// endsAt, generatorURL}, times as `2026-05-01T10:00:00.000Z`. Annotations with an empty value
/// and an empty generatorURL are left out.
///
/// Use it to (a) fire on entering ALARM: starts_at = the transition time, ends_at = now + a
/// window; (b) re-send while firing: the same notice and starts_at with a fresh ends_at; (c)
/// resolve on leaving ALARM: the leaving notice, starts_at = the original firing start, ends_at
/// = the transition time. Precondition (Alertmanager rejects the alert otherwise): starts_at <=
/// ends_at.
std::string alertmanager_body(const pipeline::ActionNotice& notice, pipeline::EventTime starts_at,
                              pipeline::EventTime ends_at, std::string_view generator_url);

/// The PagerDuty dedup key of the alarm behind `notice`: `trailwatch/<alarm ARN>` (the alarm
/// name when the ARN is empty). Identical for every event of one alarm, so a resolve closes the
/// incident its trigger opened. Keys longer than PagerDuty's 255 are cut (at a character
/// boundary) and end in `/` and 16 hex digits of a hash of the whole key, so they stay distinct.
std::string pagerduty_dedup_key(const pipeline::ActionNotice& notice);

/// PagerDuty Events API v2 actions.
enum class PagerDutyAction { kTrigger, kResolve };

/// A PagerDuty event for `notice`, keys in this order:
/// - trigger: {routing_key, event_action "trigger", dedup_key, payload {summary (headline and
///   reason, at most 1024 characters), source (the InstanceId dimension's value, else the alarm
///   ARN), severity, timestamp (the transition), component (the metric namespace, when set),
///   group (the region), class ("metric-alarm" or "composite-alarm"), custom_details {alarmName,
///   alarmArn, alarmDescription?, awsAccountId, region, newStateValue, oldStateValue,
///   newStateReason, newStateReasonData?, stateChangeTime, namespace?, metricName?,
///   dimensions?, threshold?, tags?}}, client "trailwatch", client_url?} (`?`: only when set);
/// - resolve: {routing_key, event_action "resolve", dedup_key}.
std::string pagerduty_event(const pipeline::ActionNotice& notice, PagerDutyAction action,
                            std::string_view routing_key, std::string_view severity,
                            std::string_view client_url);

// ---------------------------------------------------------------------------------------------
// AWS Query API request bodies
// ---------------------------------------------------------------------------------------------

using FormParams = std::vector<std::pair<std::string, std::string>>;

/// `k1=v1&k2=v2` in the given order, both sides encoded as botocore does: `A-Z a-z 0-9 - . _ ~`
/// kept, space as `+`, every other byte as `%XX` (upper-case hex).
std::string form_encode(const FormParams& params);

/// A double as botocore writes it into a Query body (Python's `repr`): the shortest text that
/// reads back the same, `59.0` for an integral value, scientific (`1e+16`, `1.5e-05`) outside
/// [1e-4, 1e16); `nan`, `inf`, `-inf` for the non-finite.
std::string aws_query_double(double value);

/// The EC2 API calls an alarm action makes.
enum class Ec2Operation { kStop, kTerminate, kReboot };

/// "StopInstances", "TerminateInstances" or "RebootInstances".
std::string_view ec2_action_name(Ec2Operation op);

/// `Action=StopInstances&Version=2016-11-15&InstanceId.1=…&InstanceId.2=…[&DryRun=true]`.
/// Precondition: `instance_ids` is not empty (EC2 answers MissingParameter otherwise).
std::string ec2_instances_body(Ec2Operation op, const std::vector<std::string>& instance_ids,
                               bool dry_run = false);

/// `Action=ExecutePolicy&Version=2011-01-01[&AutoScalingGroupName=…]&PolicyName=…
/// [&HonorCooldown=true|false][&MetricValue=…][&BreachThreshold=…]`; an empty `group` is left
/// out (a policy ARN needs none). Doubles as aws_query_double().
std::string autoscaling_execute_policy_body(std::string_view group,
                                            std::string_view policy_name_or_arn,
                                            std::optional<bool> honor_cooldown,
                                            std::optional<double> metric_value,
                                            std::optional<double> breach_threshold);

/// `Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=…&DesiredCapacity=…
/// [&HonorCooldown=true|false]`.
std::string autoscaling_set_desired_capacity_body(std::string_view group, int desired_capacity,
                                                  std::optional<bool> honor_cooldown);

/// `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=…&RoleSessionName=…
/// &WebIdentityToken=…[&DurationSeconds=…]`. The body holds the token: never log it.
std::string sts_assume_role_with_web_identity_body(std::string_view role_arn,
                                                   std::string_view session_name,
                                                   std::string_view web_identity_token,
                                                   std::optional<int> duration_seconds);

// ---------------------------------------------------------------------------------------------
// Action ARNs
// ---------------------------------------------------------------------------------------------

/// `arn:PARTITION:autoscaling:REGION:ACCOUNT:scalingPolicy:ID:autoScalingGroupName/GROUP:
/// policyName/NAME`, split. The group ends at the first `:policyName/`; the name is the rest.
struct ScalingPolicyArn {
  std::string partition;
  std::string region;
  std::string account;
  std::string policy_id;
  std::string group;
  std::string policy_name;

  bool operator==(const ScalingPolicyArn&) const = default;
};

/// The parts of a scaling policy ARN; nullopt when `arn` is not one (wrong service or resource
/// type, an empty part, an account that is not 12 digits).
std::optional<ScalingPolicyArn> parse_scaling_policy_arn(std::string_view arn);

/// What a CloudWatch EC2 action asks for. Recover has no API call: AWS's own systems recover an
/// instance, so trailwatch can only report it.
enum class AutomateAction { kStop, kTerminate, kReboot, kRecover };

/// The EC2 call behind `action`; nullopt for kRecover.
std::optional<Ec2Operation> ec2_operation(AutomateAction action);

struct AutomateArn {
  std::string partition;
  std::string region;
  AutomateAction action = AutomateAction::kStop;

  bool operator==(const AutomateArn&) const = default;
};

/// `arn:PARTITION:automate:REGION:ec2:stop|terminate|reboot|recover`, or the older
/// `arn:PARTITION:swf:REGION:ACCOUNT:action/actions/AWS_EC2.InstanceId.Stop|Terminate|Reboot|
/// Recover/1.0`; nullopt for anything else.
std::optional<AutomateArn> parse_automate_arn(std::string_view arn);

struct SnsTopicArn {
  std::string partition;
  std::string region;
  std::string account;
  std::string topic;

  bool operator==(const SnsTopicArn&) const = default;
};

/// `arn:PARTITION:sns:REGION:ACCOUNT:TOPIC` with a topic name of 1–256 characters from
/// `A-Za-z0-9_-` (and an optional `.fifo` suffix); nullopt for anything else.
std::optional<SnsTopicArn> parse_sns_topic_arn(std::string_view arn);

// ---------------------------------------------------------------------------------------------
// AWS XML responses
// ---------------------------------------------------------------------------------------------

/// The text of an element of an XML document, found by `path`: `A/B/C` is the first element
/// named C inside the first B inside the first A (each step searches all descendants in document
/// order; names match on the local part, after any `prefix:`, case-sensitively). The text is the
/// element's character data (markup inside it skipped, CDATA kept) with the five predefined
/// entities and numeric character references decoded and surrounding whitespace trimmed.
/// nullopt when there is no such element, when it is not closed (a truncated document), or when
/// the document nests deeper than 64 elements. Tolerant by design: it reads AWS's replies, not
/// arbitrary XML, and no input can make it crash, recurse or take more than linear time.
std::optional<std::string> xml_element_text(std::string_view xml, std::string_view path);

/// An AWS error reply. Fields are empty when the body does not hold them.
struct AwsError {
  std::string code;  ///< `AuthFailure`, `ValidationError`, `Throttling`, …
  std::string message;
  std::string type;        ///< `Sender` or `Receiver` (Query protocol only).
  std::string request_id;  ///< `RequestID` (EC2) or `RequestId` (Query).

  bool operator==(const AwsError&) const = default;
};

/// The error in an EC2 (`<Response><Errors><Error>…<RequestID>`) or Query
/// (`<ErrorResponse><Error><Type><Code><Message>…<RequestId>`) error body; empty fields for a
/// body that is neither (an HTML page from a proxy).
AwsError parse_aws_error(std::string_view xml);

/// Whether an AWS call that failed with HTTP `http_status` and error `code` should be retried
/// (connection errors are the caller's to retry): HTTP 429, 500, 502, 503, 504; the throttling
/// codes RequestLimitExceeded, Throttling, ThrottlingException, EC2ThrottledException,
/// RequestThrottled, TooManyRequestsException, PriorRequestNotComplete; STS's
/// IDPCommunicationError and ExpiredTokenException (the caller re-reads the token file for
/// every attempt); Auto Scaling's ResourceContention and ScalingActivityInProgress.
bool aws_error_is_retryable(int http_status, std::string_view code);

/// Temporary credentials from an AssumeRoleWithWebIdentity reply.
struct StsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string expiration;                      ///< As sent, e.g. `2014-10-24T23:00:23Z`.
  std::optional<pipeline::EventTime> expires;  ///< `expiration` parsed; nullopt if unreadable.

  bool operator==(const StsCredentials&) const = default;
};

/// The `Credentials` of an AssumeRoleWithWebIdentityResponse, found by element name (their
/// order varies). data_loss when any of AccessKeyId, SecretAccessKey, SessionToken or
/// Expiration is missing or empty; the message names the missing element, never a value.
pipeline::Result<StsCredentials> parse_sts_credentials(std::string_view xml);

/// One instance of a Stop/TerminateInstances reply. Codes are the low byte of the state code
/// (0 pending, 16 running, 32 shutting-down, 48 terminated, 64 stopping, 80 stopped), -1 when
/// absent or unreadable.
struct Ec2InstanceStateChange {
  std::string instance_id;
  std::string current_state;  ///< `currentState/name`, e.g. "stopping".
  int current_code = -1;
  std::string previous_state;  ///< `previousState/name`, e.g. "running".
  int previous_code = -1;

  bool operator==(const Ec2InstanceStateChange&) const = default;
};

/// The `item`s of the `instancesSet` of a StopInstances or TerminateInstances reply, in order;
/// items without an instanceId are skipped. data_loss when there is no closed instancesSet.
pipeline::Result<std::vector<Ec2InstanceStateChange>> parse_ec2_instance_state_changes(
    std::string_view xml);

/// The `<return>` of a RebootInstances reply; nullopt when absent or neither true nor false.
std::optional<bool> parse_ec2_return(std::string_view xml);

// ---------------------------------------------------------------------------------------------
// Kubernetes scale subresource
// ---------------------------------------------------------------------------------------------

inline constexpr std::string_view kJsonPatchContentType = "application/json-patch+json";
inline constexpr std::string_view kMergePatchContentType = "application/merge-patch+json";

/// The workloads with a scale subresource in the `apps/v1` group.
enum class KubernetesWorkloadKind { kDeployment, kStatefulSet, kReplicaSet };

/// "Deployment", "StatefulSet" or "ReplicaSet".
std::string_view to_string(KubernetesWorkloadKind kind);

/// The kind named exactly as to_string() writes it; nullopt for anything else.
std::optional<KubernetesWorkloadKind> parse_kubernetes_workload_kind(std::string_view text);

/// One path segment, percent-encoded: `A-Z a-z 0-9 - . _ ~` kept, every other byte `%XX`;
/// the segments `.` and `..` are encoded whole (`%2E`), so no name can climb the path.
std::string escape_path_segment(std::string_view segment);

/// `/apis/apps/v1/namespaces/NS/deployments|statefulsets|replicasets/NAME/scale`, with the
/// namespace and name through escape_path_segment(). Validating them as DNS names (non-empty
/// included) is the configuration's job; escaping only keeps a bad one from changing the path.
std::string kubernetes_scale_path(KubernetesWorkloadKind kind, std::string_view ns,
                                  std::string_view name);

/// What trailwatch reads of a Scale object (`autoscaling/v1`).
struct KubernetesScale {
  std::optional<int> spec_replicas;    ///< Desired; absent when the object has none.
  std::optional<int> status_replicas;  ///< Observed.
  std::string resource_version;        ///< `metadata.resourceVersion`; empty when absent.

  bool operator==(const KubernetesScale&) const = default;
};

/// Reads a Scale object. Missing fields stay unset; invalid_argument when the text is not a
/// JSON object or a field has the wrong type (a replica count that is not an integer, a
/// non-object `spec`), out_of_range when a count does not fit an int.
pipeline::Result<KubernetesScale> parse_kubernetes_scale(std::string_view json);

/// The RFC 6902 patch that moves `/spec/replicas` from `current` to `target` only if it still
/// is `current`: `[{"op":"test",…,"value":current},{"op":"replace",…,"value":target}]`. A
/// failed test is a 422, after which the caller reads the scale again.
std::string scale_json_patch(int current, int target);

/// The RFC 7386 patch `{"spec":{"replicas":target}}`, for setting a count unconditionally.
std::string scale_merge_patch(int target);

/// How a scaling action changes the replica count.
enum class ScaleMode { kSet, kAdd, kSubtract };

/// The replica count after applying `mode` and `amount` to `current`, clamped to
/// [min_replicas, max_replicas] (computed without overflow). If min_replicas > max_replicas,
/// max_replicas wins: a misconfigured range never scales up past its maximum.
int scale_target(int current, ScaleMode mode, int amount, int min_replicas, int max_replicas);

/// A Kubernetes `Status` error reply.
struct KubernetesStatus {
  std::string reason;  ///< NotFound, Forbidden, Conflict, Invalid, …
  std::string message;
  int code = 0;  ///< The HTTP status it restates; 0 when absent.

  bool operator==(const KubernetesStatus&) const = default;
};

/// The Status in an error reply; fields of the wrong type are left empty. nullopt when the text
/// is not a JSON object or its `kind` is present and not "Status".
std::optional<KubernetesStatus> parse_kubernetes_status(std::string_view json);

}  // namespace tw::connectors
