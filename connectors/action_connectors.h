#pragma once

/// The action connectors: how one attempt of an action reaches each kind of target.
///
/// - webhook: POST/PUT/PATCH of one of five payload formats (connectors/action_payloads.h) to a
///   URL, with the configured headers, `Idempotency-Key: <action key>` and, when a secret is
///   configured, `X-Trailwatch-Timestamp: <unix seconds>` and `X-Trailwatch-Signature:
///   v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` so a receiver can verify the body and
///   drop replays older than it tolerates.
/// - alertmanager: `POST <url>/api/v2/alerts`. Entering ALARM fires the alert (endsAt four
///   resend intervals ahead); it is re-sent every resend interval while firing; leaving ALARM
///   resolves it (endsAt = the transition time). The firing set is part of the checkpoint.
/// - kubernetes_scale: GET the scale subresource, compute the new replica count (set / add /
///   subtract, clamped to [min, max]), PATCH it with a JSON patch whose `test` op makes a
///   concurrent change fail (and be retried); skipped inside the cooldown or when already there.
///   In-cluster service-account token (re-read for every attempt) and CA.
/// - ec2: StopInstances / TerminateInstances / RebootInstances of the configured instances or the
///   alarm's InstanceId dimension; SigV4-signed Query API call.
/// - autoscaling: ExecutePolicy (policy name or ARN; MetricValue and BreachThreshold from the
///   alarm when both are known, as step scaling policies need) or SetDesiredCapacity.
///
/// Every request carries the action's key in `Idempotency-Key`. Response handling is shared:
/// 2xx delivered; timeouts, connection failures, 429 and 5xx (and AWS throttling codes) retried,
/// with Retry-After honoured; anything else final.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/action_dispatcher.h"
#include "connectors/http_client.h"
#include "connectors/sigv4.h"
#include "pipeline/config.h"
#include "pipeline/status.h"

namespace tw::connectors {

/// Where AWS credentials come from at the moment of a call (connectors/aws_credentials.h).
using AwsCredentialsSource = std::function<pipeline::Result<AwsCredentials>()>;

/// What connectors take from their surroundings; injectable for tests.
struct ConnectorEnvironment {
  /// Environment variables; default: the process's.
  std::function<std::optional<std::string>(std::string_view)> getenv;
  /// Wall time, for signatures, Alertmanager times and cooldowns; default: the system clock.
  std::function<std::chrono::system_clock::time_point()> now;
  /// AWS credentials for ec2 and autoscaling targets.
  AwsCredentialsSource aws_credentials;
  /// The settings' region: the default of AWS targets.
  std::string default_region = "us-east-1";
  /// `actions.aws.endpoints`.
  std::vector<std::pair<std::string, std::string>> aws_endpoints;
};

/// The endpoint of an AWS service (`ec2`, `autoscaling`, `sts`) in `region`, highest first: the
/// configuration's, AWS_ENDPOINT_URL_<SERVICE> (EC2, AUTO_SCALING, STS), AWS_ENDPOINT_URL, then
/// `https://SERVICE.REGION.amazonaws.com` (`.amazonaws.com.cn` in China regions).
/// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true disables the environment's.
std::string aws_endpoint(std::string_view service, std::string_view region,
                         const ConnectorEnvironment& env);

/// Maps an HTTP exchange to an attempt result (the shared rules above); `body_excerpt` bytes of
/// an error response are kept for the dead letter.
AttemptResult classify_response(const HttpClientResponse& response, size_t body_excerpt = 512);

/// Builds the connector of `target`. Fails for what cannot work (a secret reference that does
/// not resolve, no Kubernetes API server outside a cluster), naming what is wrong.
pipeline::Result<std::unique_ptr<ActionConnector>> make_action_connector(
    const pipeline::ActionTargetConfig& target, const ConnectorEnvironment& given);

/// The factory the dispatcher takes, over `env`.
ConnectorFactory connector_factory(ConnectorEnvironment env);

}  // namespace tw::connectors
