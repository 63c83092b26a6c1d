#pragma once

/// HttpServer: the HTTP endpoint that trailwatch's own read-only endpoints (`/metrics`, health)
/// hang from, built on civetweb.
///
/// Contract:
/// - Handlers are registered with `add_handler()` before `start()`. Routing is by exact path
///   (`/metrics` does not serve `/metrics/` or `/metrics/x`); the query string is not part of the
///   path. An unknown path answers 404. A known path answers 405 (with `Allow: GET, HEAD`) to any
///   method but GET and HEAD. Request bodies are never read.
/// - HEAD runs the same handler as GET; the server sends its headers (Content-Length included)
///   without the body.
/// - Every response carries `Content-Length` and `Connection: close`; keep-alive is off, so a
///   worker is never held by an idle client and `stop()` stays bounded.
/// - Failures are Status values; no exception leaves this class or a handler call (a handler
///   that throws produces a 500), and nothing here exits the process.
///
/// Threading: handlers run on civetweb's worker threads, up to `num_threads` of them at once,
/// never on the thread that called `start()`. A handler must therefore be safe to call
/// concurrently with itself, with other handlers and with whatever the rest of the program does
/// to the state it reads (prometheus-cpp registries and metrics are thread-safe). `add_handler`,
/// `start`, `stop` and the destructor belong to one owning thread and must not be called from a
/// handler.
///
/// Process-wide effects: civetweb sets SIGPIPE to SIG_IGN when a server starts (a client that
/// disconnects mid-response must not kill the process), and its library initialisation is done
/// once per process and never undone.
///
/// Example:
///
///     auto registry = std::make_shared<prometheus::Registry>();
///     HttpServer server({.listen_address = ":9464"});
///     TW_RETURN_IF_ERROR(server.add_handler("/metrics", metrics_handler({registry})));
///     TW_RETURN_IF_ERROR(server.start());

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/status.h"

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace tw::connectors {

/// The Content-Type of the Prometheus text exposition format, version 0.0.4.
inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

/// One `key=value` pair of a query string, percent-decoded, with `+` read as a space.
struct QueryParam {
  std::string key;
  std::string value;

  bool operator==(const QueryParam&) const = default;
};

/// What a handler sees of a request.
struct HttpRequest {
  std::string method;             ///< "GET" or "HEAD"; no other method reaches a handler.
  std::string path;               ///< The decoded path, without the query string.
  std::string query_string;       ///< Raw, as sent, without the '?'; empty when there is none.
  std::vector<QueryParam> query;  ///< `query_string` parsed by `parse_query_string()`.

  /// The value of the first parameter named `key`, or nullopt when there is none.
  [[nodiscard]] std::optional<std::string_view> query_value(std::string_view key) const;
};

/// What a handler returns. `status` must be 100–599 and `content_type` must not contain CR or
/// LF; otherwise the client gets a 500 instead.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Runs on a civetweb worker thread; see the threading contract at the top of this file.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  /// `host:port` or `:port`. The host is an IPv4 address or `localhost`; an empty host listens
  /// on every interface. Port 0 asks the kernel for a free port (see `HttpServer::port()`).
  /// Debian's civetweb is built without IPv6, so `[::1]:port` is rejected.
  std::string listen_address = "127.0.0.1:9464";
  /// civetweb worker threads, hence the most requests served at once (1–64). Further accepted
  /// connections wait in civetweb's queue of 20.
  int num_threads = 2;
  /// The longest request line plus headers accepted (1 KiB–1 MiB); civetweb answers a longer
  /// one with an error status and closes the connection.
  std::size_t max_request_bytes = std::size_t{16} * 1024;
  /// How long a worker waits on a silent or slow client (100 ms–5 min). This bounds `stop()`,
  /// together with the time the slowest handler takes.
  int request_timeout_ms = 5000;
};

/// Parses `a=1&b=x%20y&flag` into {a,1}, {b,x y}, {flag,""}, in order. Empty pieces (`a=1&&b=2`)
/// are skipped; a malformed percent escape is kept literally.
std::vector<QueryParam> parse_query_string(std::string_view query);

/// Prometheus text exposition (0.0.4) of everything `collectables` hold now, in order, by
/// prometheus-cpp's TextSerializer. Metric family names must be unique across the collectables;
/// Prometheus rejects a scrape that repeats one.
std::string serialize_metrics(
    const std::vector<std::shared_ptr<const prometheus::Collectable>>& collectables);

/// A handler answering every GET/HEAD with `serialize_metrics(collectables)` and
/// `kPrometheusTextContentType`. It keeps the collectables alive; each scrape collects afresh.
HttpHandler metrics_handler(
    std::vector<std::shared_ptr<const prometheus::Collectable>> collectables);

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  /// Stops the server if it is running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // civetweb holds a pointer to the server's state while it runs.
  HttpServer(HttpServer&&) = delete;
  HttpServer& operator=(HttpServer&&) = delete;

  /// Serves `path` (which starts with '/') with `handler`. Fails with invalid_argument for a bad
  /// path, an empty handler or a path registered twice, and with failed_precondition once the
  /// server has started.
  pipeline::Status add_handler(std::string path, HttpHandler handler);

  /// Validates the options, binds the listen address and starts the worker threads. Fails with
  /// invalid_argument for bad options, with unavailable when the address cannot be bound (the
  /// message names it and says why, e.g. "Address already in use"), and with
  /// failed_precondition when already running. A stopped server may be started again.
  pipeline::Status start();

  /// Closes the listening socket and joins civetweb's threads. Requests being served finish
  /// first, so this returns within about `request_timeout_ms` plus the slowest handler's time.
  /// Idempotent; a no-op on a server that is not running.
  void stop();

  [[nodiscard]] bool running() const;

  /// The bound port while running (the real one when port 0 was asked for); 0 otherwise.
  [[nodiscard]] int port() const { return port_; }

  [[nodiscard]] const HttpServerOptions& options() const { return options_; }

 private:
  class Impl;

  HttpServerOptions options_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace tw::connectors
