#include "connectors/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>

#include "connectors/percent_encoding.h"

namespace tw::connectors {

using pipeline::Status;

namespace {

constexpr std::string_view kMethodNotAllowedBody = "method not allowed\n";
constexpr std::string_view kNotFoundBody = "not found\n";
constexpr std::string_view kInternalErrorBody = "internal error\n";

struct ListenAddress {
  std::string host;  ///< Dotted IPv4; empty for every interface.
  std::string port;  ///< Decimal, 0–65535.

  /// What civetweb's `listening_ports` option gets: "127.0.0.1:9464", or "9464" for every
  /// interface.
  [[nodiscard]] std::string civetweb_option() const {
    return host.empty() ? port : host + ":" + port;
  }

  /// Where a local client reaches the listener: the host itself, loopback for every interface.
  [[nodiscard]] in_addr local_address() const {
    in_addr address{};
    address.s_addr = htonl(INADDR_LOOPBACK);
    if (!host.empty() && host != "0.0.0.0") {
      (void)inet_pton(AF_INET, host.c_str(), &address);
    }
    return address;
  }
};

pipeline::Result<ListenAddress> parse_listen_address(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return pipeline::invalid_argument("listen address \"" + std::string(address) +
                                      "\": expected host:port or :port");
  }
  ListenAddress parsed{.host = std::string(address.substr(0, colon)),
                       .port = std::string(address.substr(colon + 1))};
  unsigned port = 0;
  const char* const port_end = parsed.port.data() + parsed.port.size();
  const auto [end, error] = std::from_chars(parsed.port.data(), port_end, port);
  if (parsed.port.empty() || error != std::errc() || end != port_end || port > 65535) {
    return pipeline::invalid_argument("listen address \"" + std::string(address) +
                                      "\": the port must be a number from 0 to 65535");
  }
  if (parsed.host.empty()) {
    return parsed;
  }
  if (parsed.host.front() == '[') {
    return pipeline::invalid_argument("listen address \"" + std::string(address) +
                                      "\": IPv6 is not supported (civetweb is built without it)");
  }
  // Mapped here rather than resolved by civetweb, so that no name lookup happens at start.
  if (parsed.host == "localhost") {
    parsed.host = "127.0.0.1";
  }
  in_addr checked{};
  if (inet_pton(AF_INET, parsed.host.c_str(), &checked) != 1) {
    return pipeline::invalid_argument("listen address \"" + std::string(address) +
                                      "\": the host must be an IPv4 address or localhost");
  }
  return parsed;
}

/// Opens and at once closes a TCP connection to `address:port`, without blocking: on loopback
/// the handshake completes inside connect(). Failures are ignored; the caller retries.
void poke(in_addr address, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return;
  }
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(static_cast<uint16_t>(port));
  target.sin_addr = address;
  // sockaddr_in is passed as the sockaddr it extends: the sockets API is built that way.
  (void)::connect(fd, reinterpret_cast<const sockaddr*>(&target),  // NOLINT
                  sizeof target);
  ::close(fd);
}

Status validate(const HttpServerOptions& options) {
  if (options.num_threads < 1 || options.num_threads > 64) {
    return pipeline::invalid_argument("http server: num_threads must be 1 to 64, not " +
                                      std::to_string(options.num_threads));
  }
  if (options.max_request_bytes < 1024 || options.max_request_bytes > std::size_t{1024} * 1024) {
    return pipeline::invalid_argument("http server: max_request_bytes must be 1024 to 1048576");
  }
  if (options.request_timeout_ms < 100 || options.request_timeout_ms > 300'000) {
    return pipeline::invalid_argument("http server: request_timeout_ms must be 100 to 300000");
  }
  return Status::ok();
}

bool valid_response(const HttpResponse& response) {
  return response.status >= 100 && response.status <= 599 &&
         response.content_type.find_first_of("\r\n") == std::string::npos;
}

void write_all(mg_connection* conn, std::string_view bytes) {
  // A failed write means the client went away; there is no one left to tell.
  if (!bytes.empty()) {
    (void)mg_write(conn, bytes.data(), bytes.size());
  }
}

/// Writes a complete response. Keep-alive is disabled server-wide, hence `Connection: close`.
void send_response(mg_connection* conn, bool head, const HttpResponse& response,
                   std::string_view extra_headers = {}) {
  const char* reason = mg_get_response_code_text(conn, response.status);
  std::string header = "HTTP/1.1 " + std::to_string(response.status) + " " +
                       (reason == nullptr ? "" : reason) + "\r\n";
  header += "Content-Type: " + response.content_type + "\r\n";
  header += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  header += "Cache-Control: no-store\r\n";
  header += extra_headers;
  header += "Connection: close\r\n\r\n";
  write_all(conn, header);
  if (!head) {
    write_all(conn, response.body);
  }
}

/// The response of last resort when building the normal one threw (out of memory): fixed bytes,
/// no allocation.
void send_internal_error(mg_connection* conn) {
  constexpr std::string_view kResponse =
      "HTTP/1.1 500 Internal Server Error\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: 15\r\n"
      "Connection: close\r\n\r\n"
      "internal error\n";
  write_all(conn, kResponse);
}

/// civetweb wants one initialisation before any server starts, and mg_init_library is not
/// thread-safe; a function-local static is. It is never undone: other servers may still run.
void init_civetweb_once() {
  static const unsigned kFeatures = mg_init_library(0);
  (void)kFeatures;
}

}  // namespace

std::optional<std::string_view> HttpRequest::query_value(std::string_view key) const {
  for (const auto& param : query) {
    if (param.key == key) {
      return std::string_view(param.value);
    }
  }
  return std::nullopt;
}

std::vector<QueryParam> parse_query_string(std::string_view query) {
  std::vector<QueryParam> params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) {
      continue;
    }
    const auto eq = piece.find('=');
    if (eq == std::string_view::npos) {
      params.push_back({percent_decode(piece, /*plus_is_space=*/true), std::string()});
    } else {
      params.push_back(
          {percent_decode(piece.substr(0, eq), true), percent_decode(piece.substr(eq + 1), true)});
    }
  }
  return params;
}

std::string serialize_metrics(
    const std::vector<std::shared_ptr<const prometheus::Collectable>>& collectables) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables) {
    if (collectable == nullptr) {
      continue;
    }
    auto collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return std::move(out).str();
}

HttpHandler metrics_handler(
    std::vector<std::shared_ptr<const prometheus::Collectable>> collectables) {
  return [collectables = std::move(collectables)](const HttpRequest& /*request*/) {
    return HttpResponse{.status = 200,
                        .content_type = std::string(kPrometheusTextContentType),
                        .body = serialize_metrics(collectables)};
  };
}

/// The state civetweb's callbacks reach through the context's user data. `handlers` is written
/// only while no context exists, so workers read it without a lock.
class HttpServer::Impl {
 public:
  std::map<std::string, HttpHandler, std::less<>> handlers;
  mg_context* context = nullptr;
  in_addr wake_address{};  ///< Where stop() connects to wake civetweb's master thread.

  /// The first message civetweb logged since `start()` began: at start it says why binding
  /// failed ("cannot bind to 127.0.0.1:9464: 98 (Address already in use)"), which the error
  /// text of `mg_start2` ("Failed to setup server ports") does not.
  std::mutex log_mutex;
  bool capture_log = false;
  std::string first_log;

  static int on_begin_request(mg_connection* conn) noexcept;
  static int on_log_message(const mg_connection* conn, const char* message) noexcept;

 private:
  int serve(mg_connection* conn) const;
};

int HttpServer::Impl::on_begin_request(mg_connection* conn) noexcept {
  // civetweb is C: an exception must not unwind into it.
  try {
    const auto* impl = static_cast<const Impl*>(mg_get_user_data(mg_get_context(conn)));
    return impl->serve(conn);
  } catch (...) {
    send_internal_error(conn);
    return 500;
  }
}

int HttpServer::Impl::on_log_message(const mg_connection* conn, const char* message) noexcept {
  // Returning non-zero tells civetweb the message was handled; outside start() it is dropped,
  // as civetweb itself does when no error_log_file is configured.
  try {
    const mg_context* context = conn == nullptr ? nullptr : mg_get_context(conn);
    auto* impl = context == nullptr ? nullptr : static_cast<Impl*>(mg_get_user_data(context));
    if (impl != nullptr && message != nullptr) {
      const std::lock_guard lock(impl->log_mutex);
      if (impl->capture_log && impl->first_log.empty()) {
        impl->first_log = message;
      }
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): losing a log line is harmless.
  }
  return 1;
}

int HttpServer::Impl::serve(mg_connection* conn) const {
  const mg_request_info* info = mg_get_request_info(conn);
  const std::string_view method = info->request_method == nullptr ? "" : info->request_method;
  const bool head = method == "HEAD";
  const std::string_view path = info->local_uri == nullptr ? "" : info->local_uri;

  const auto found = handlers.find(path);
  if (found == handlers.end()) {
    send_response(conn, head, {.status = 404, .body = std::string(kNotFoundBody)});
    return 404;
  }
  if (method != "GET" && !head) {
    send_response(conn, false, {.status = 405, .body = std::string(kMethodNotAllowedBody)},
                  "Allow: GET, HEAD\r\n");
    return 405;
  }

  HttpRequest request;
  request.method = method;
  request.path = path;
  if (info->query_string != nullptr) {
    request.query_string = info->query_string;
    request.query = parse_query_string(request.query_string);
  }
  HttpResponse response;
  try {
    response = found->second(request);
  } catch (...) {
    response = {.status = 500, .body = std::string(kInternalErrorBody)};
  }
  if (!valid_response(response)) {
    response = {.status = 500, .body = std::string(kInternalErrorBody)};
  }
  send_response(conn, head, response);
  return response.status;
}

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
}

HttpServer::~HttpServer() {
  stop();
}

Status HttpServer::add_handler(std::string path, HttpHandler handler) {
  if (running()) {
    return pipeline::failed_precondition("http server: add_handler(\"" + path +
                                         "\") after start()");
  }
  if (path.empty() || path.front() != '/' || path.find_first_of("?#") != std::string::npos) {
    return pipeline::invalid_argument("http server: handler path \"" + path +
                                      "\" must start with '/' and hold no '?' or '#'");
  }
  if (!handler) {
    return pipeline::invalid_argument("http server: empty handler for \"" + path + "\"");
  }
  if (impl_->handlers.contains(path)) {
    return pipeline::invalid_argument("http server: a handler for \"" + path +
                                      "\" is already registered");
  }
  impl_->handlers.emplace(std::move(path), std::move(handler));
  return Status::ok();
}

Status HttpServer::start() {
  if (running()) {
    return pipeline::failed_precondition("http server: already running on port " +
                                         std::to_string(port_));
  }
  TW_RETURN_IF_ERROR(validate(options_));
  TW_ASSIGN_OR_RETURN(const ListenAddress address, parse_listen_address(options_.listen_address));
  const std::string listening_ports = address.civetweb_option();

  init_civetweb_once();

  const std::string num_threads = std::to_string(options_.num_threads);
  const std::string max_request_size = std::to_string(options_.max_request_bytes);
  const std::string request_timeout = std::to_string(options_.request_timeout_ms);
  // No document_root: civetweb serves no files, every request goes through on_begin_request.
  std::vector<const char*> config = {"listening_ports",
                                     listening_ports.c_str(),
                                     "num_threads",
                                     num_threads.c_str(),
                                     "max_request_size",
                                     max_request_size.c_str(),
                                     "request_timeout_ms",
                                     request_timeout.c_str(),
                                     "enable_keep_alive",
                                     "no",
                                     "decode_url",
                                     "yes",
                                     nullptr};

  mg_callbacks callbacks{};
  callbacks.begin_request = &Impl::on_begin_request;
  callbacks.log_message = &Impl::on_log_message;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = impl_.get();
  init.configuration_options = config.data();
  std::array<char, 256> error_text{};
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text.data();
  error.text_buffer_size = error_text.size();

  {
    const std::lock_guard lock(impl_->log_mutex);
    impl_->capture_log = true;
    impl_->first_log.clear();
  }
  mg_context* context = mg_start2(&init, &error);
  std::string detail;
  {
    const std::lock_guard lock(impl_->log_mutex);
    impl_->capture_log = false;
    detail = std::move(impl_->first_log);
    impl_->first_log.clear();
  }
  if (context == nullptr) {
    if (detail.empty()) {
      detail = error_text.data();
    }
    return pipeline::unavailable("http server: cannot listen on " + options_.listen_address + ": " +
                                 (detail.empty() ? "civetweb failed to start" : detail));
  }

  std::array<mg_server_port, 1> ports{};
  if (mg_get_server_ports(context, static_cast<int>(ports.size()), ports.data()) < 1 ||
      ports[0].port <= 0) {
    mg_stop(context);
    return pipeline::internal_error("http server: civetweb reported no listening port for " +
                                    options_.listen_address);
  }
  impl_->context = context;
  impl_->wake_address = address.local_address();
  port_ = ports[0].port;
  return Status::ok();
}

void HttpServer::stop() {
  if (impl_->context == nullptr) {
    return;
  }
  // civetweb's master thread polls the listening socket in 2-second slices and reads the stop
  // flag only between them, so mg_stop() alone takes up to 2 s. mg_stop() sets the flag first
  // thing; a connection made after that ends the slice, and the master thread quits without
  // accepting it (closing the listener resets it). The waker retries in case its first
  // connection raced ahead of the flag and was served like any other.
  std::mutex mutex;
  std::condition_variable cv;
  bool stopped = false;
  std::thread waker;
  try {
    waker = std::thread([&, address = impl_->wake_address, port = port_] {
      std::unique_lock lock(mutex);
      while (!cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return stopped; })) {
        poke(address, port);
      }
    });
  } catch (const std::system_error&) {  // NOLINT(bugprone-empty-catch)
    // No thread to spare: mg_stop() still returns, only later.
  }
  mg_stop(impl_->context);
  {
    const std::lock_guard lock(mutex);
    stopped = true;
  }
  cv.notify_all();
  if (waker.joinable()) {
    waker.join();
  }
  impl_->context = nullptr;
  port_ = 0;
}

bool HttpServer::running() const {
  return impl_->context != nullptr;
}

}  // namespace tw::connectors
