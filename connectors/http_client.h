#pragma once

/// HttpClient: the outgoing HTTP(S) client of the action connectors, on libcurl.
///
/// Contract:
/// - `send()` performs one request and blocks until the response is read, the transfer fails or
///   the timeout passes. It never throws and never retries: retrying is the caller's decision
///   (connectors/action_dispatcher.h), which needs to know *how* a request failed, so transport
///   failures are classified (`HttpTransport`) rather than folded into one error.
/// - TLS peers are verified (certificate chain and host name) unless the options say otherwise;
///   `ca_file` replaces the system's trust store (a Kubernetes service-account CA).
/// - Response bodies are read up to `max_response_bytes`; a longer body fails the transfer with
///   kTooLarge, so a hostile peer cannot make a worker allocate without bound.
/// - Proxies come from the environment (`https_proxy`, `no_proxy`, as libcurl reads them), except
///   that requests to loopback addresses never go through a proxy.
///
/// Threading: one instance per thread. The instance keeps its connection alive between calls to
/// the same peer (the libcurl handle is reused), which is why it is not shared.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tw::connectors {

/// An ordered list of header (name, value) pairs; names compare case-insensitively.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// The value of the first header named `name` (case-insensitive), or nullopt.
std::optional<std::string_view> find_header(const HttpHeaders& headers, std::string_view name);

struct HttpClientRequest {
  std::string method = "POST";
  std::string url;
  HttpHeaders headers;  ///< Sent as given; libcurl adds Host, Content-Length and User-Agent.
  std::string body;     ///< Sent for every method but GET and HEAD (even when empty).
  std::chrono::milliseconds timeout{10'000};  ///< The whole exchange, connect included.
};

/// How a transfer ended below HTTP.
enum class HttpTransport : uint8_t {
  kOk,                ///< A response arrived; see its status.
  kTimeout,           ///< Connecting or the whole exchange took longer than the timeout.
  kConnectionFailed,  ///< Refused, reset, unreachable, or closed before a response.
  kResolveFailed,     ///< The host name did not resolve.
  kTlsFailed,         ///< Handshake or certificate verification failed.
  kTooLarge,          ///< The response body exceeded max_response_bytes.
  kInvalidRequest,    ///< The request itself was unusable (bad URL, CR/LF in a header).
  kOther,             ///< Anything else libcurl reports.
};

std::string_view to_string(HttpTransport t);

struct HttpClientResponse {
  HttpTransport transport = HttpTransport::kOk;
  std::string error;  ///< What went wrong below HTTP, for logs; empty when transport is kOk.
  int status = 0;     ///< The HTTP status when transport is kOk.
  HttpHeaders headers;
  std::string body;
  std::chrono::microseconds elapsed{0};

  [[nodiscard]] bool transport_ok() const { return transport == HttpTransport::kOk; }
};

struct HttpClientOptions {
  /// Verify the peer's certificate and host name. Turning this off is for test rigs only.
  bool verify_tls = true;
  /// A PEM bundle trusted instead of the system's store; empty: the system's.
  std::string ca_file;
  std::size_t max_response_bytes = std::size_t{1} << 20;
  std::string user_agent = "trailwatch/0.1";
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  [[nodiscard]] HttpClientResponse send(const HttpClientRequest& request);

  [[nodiscard]] const HttpClientOptions& options() const { return options_; }

 private:
  class Impl;

  HttpClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

/// Parses a Retry-After value given in seconds ("120"); HTTP dates and junk give nullopt.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

}  // namespace tw::connectors
