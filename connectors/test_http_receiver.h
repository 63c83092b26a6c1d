#pragma once

/// TestHttpReceiver: a real HTTP/1.1 server on loopback for the tests of the action connectors —
/// it records every request exactly as it arrived and answers what the test scripts, including
/// failures a real peer can produce: an error status, a response that never comes (the client
/// times out), a connection closed without an answer, a refused connection (stop the receiver).
/// Optionally speaks TLS with a certificate and key from files.
///
/// Test-only (header-only, linked into test binaries): one accept thread, one connection at a
/// time, `Connection: close` on every response. Requests must carry Content-Length when they have
/// a body (libcurl always sends it); chunked bodies are not read.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace tw::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;  ///< Path and query as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header named `name`, case-insensitive; empty when absent.
  [[nodiscard]] std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return v;
      }
    }
    return {};
  }

  [[nodiscard]] std::string path() const { return target.substr(0, target.find('?')); }

  [[nodiscard]] std::string query() const {
    const auto q = target.find('?');
    return q == std::string::npos ? std::string() : target.substr(q + 1);
  }
};

struct ScriptedReply {
  enum class Kind : uint8_t {
    kRespond,  ///< Send the status, headers and body.
    kHang,     ///< Never answer: hold the connection until the client gives up or stop().
    kClose,    ///< Close the connection without a byte of response.
  };
  Kind kind = Kind::kRespond;
  int status = 200;
  std::string content_type = "text/plain";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static ScriptedReply ok(std::string body = {}, std::string content_type = "text/plain") {
    return {Kind::kRespond, 200, std::move(content_type), {}, std::move(body)};
  }

  static ScriptedReply status_only(int status, std::string body = {}) {
    return {Kind::kRespond, status, "text/plain", {}, std::move(body)};
  }

  static ScriptedReply hang() { return {Kind::kHang}; }

  static ScriptedReply close() { return {Kind::kClose}; }
};

class TestHttpReceiver {
 public:
  using Script = std::function<ScriptedReply(const ReceivedRequest&, size_t index)>;

  /// Answers 200 "ok" to everything unless a script is set.
  TestHttpReceiver() = default;

  ~TestHttpReceiver() { stop(); }

  TestHttpReceiver(const TestHttpReceiver&) = delete;
  TestHttpReceiver& operator=(const TestHttpReceiver&) = delete;
  TestHttpReceiver(TestHttpReceiver&&) = delete;
  TestHttpReceiver& operator=(TestHttpReceiver&&) = delete;

  /// The reply for each request: `script(request, index)` where index counts from 0.
  void set_script(Script script) {
    const std::lock_guard lock(mutex_);
    script_ = std::move(script);
  }

  /// TLS with a PEM certificate chain and key. Call before start().
  bool use_tls(const std::string& cert_file, const std::string& key_file) {
    ssl_ctx_ = SSL_CTX_new(TLS_server_method());
    return ssl_ctx_ != nullptr &&
           SSL_CTX_use_certificate_chain_file(ssl_ctx_, cert_file.c_str()) == 1 &&
           SSL_CTX_use_PrivateKey_file(ssl_ctx_, key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  }

  /// Listens on 127.0.0.1 (`port` 0: a free one; a fixed port lets a test restart a receiver
  /// where a client already points).
  bool start(int port = 0) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd_ < 0) {
      return false;
    }
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
      return false;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    stopping_ = false;
    thread_ = std::thread([this] { serve(); });
    return true;
  }

  /// Stops listening; a later connection is refused. Hung replies are released.
  void stop() {
    stopping_ = true;
    hang_cv_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
    if (listen_fd_ >= 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
    if (ssl_ctx_ != nullptr) {
      SSL_CTX_free(ssl_ctx_);
      ssl_ctx_ = nullptr;
    }
  }

  [[nodiscard]] int port() const { return port_; }

  [[nodiscard]] std::string url(std::string_view path = "/") const {
    return std::string(ssl_ctx_ != nullptr ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  [[nodiscard]] std::vector<ReceivedRequest> requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
  }

  [[nodiscard]] size_t request_count() const {
    const std::lock_guard lock(mutex_);
    return requests_.size();
  }

  /// Blocks until at least `n` requests arrived or `timeout` passed; true when they did. (Waits
  /// on a condition, not a sleep: integration tests block on real peers.)
  bool wait_for(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    std::unique_lock lock(mutex_);
    return arrived_cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  struct Connection {
    int fd = -1;
    SSL* ssl = nullptr;

    long read(char* buf, size_t n) const {
      return ssl != nullptr ? SSL_read(ssl, buf, static_cast<int>(n)) : ::recv(fd, buf, n, 0);
    }

    void write_all(std::string_view data) const {
      while (!data.empty()) {
        const long w = ssl != nullptr ? SSL_write(ssl, data.data(), static_cast<int>(data.size()))
                                      : ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (w <= 0) {
          return;
        }
        data.remove_prefix(static_cast<size_t>(w));
      }
    }
  };

  void serve() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        continue;
      }
      Connection c{fd, nullptr};
      if (ssl_ctx_ != nullptr) {
        c.ssl = SSL_new(ssl_ctx_);
        SSL_set_fd(c.ssl, fd);
        if (SSL_accept(c.ssl) != 1) {
          SSL_free(c.ssl);
          ::close(fd);
          continue;
        }
      }
      handle(c);
      if (c.ssl != nullptr) {
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
      }
      ::close(fd);
    }
  }

  static std::optional<ReceivedRequest> read_request(const Connection& c) {
    std::string data;
    char buf[8192];
    size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      const long n = c.read(buf, sizeof buf);
      if (n <= 0) {
        return std::nullopt;
      }
      data.append(buf, static_cast<size_t>(n));
      header_end = data.find("\r\n\r\n");
      if (data.size() > (1U << 20)) {
        return std::nullopt;
      }
    }
    ReceivedRequest r;
    const std::string head = data.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.rfind(' ');
    r.method = request_line.substr(0, sp1);
    r.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) {
        end = head.size();
      }
      const std::string line = head.substr(pos, end - pos);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        const auto v = line.find_first_not_of(' ', colon + 1);
        r.headers.emplace_back(line.substr(0, colon),
                               v == std::string::npos ? std::string() : line.substr(v));
      }
      pos = end + 2;
    }
    size_t content_length = 0;
    if (const std::string cl = r.header("Content-Length"); !cl.empty()) {
      content_length = std::stoul(cl);
    }
    r.body = data.substr(header_end + 4);
    while (r.body.size() < content_length) {
      const long n = c.read(buf, sizeof buf);
      if (n <= 0) {
        return std::nullopt;
      }
      r.body.append(buf, static_cast<size_t>(n));
    }
    r.body.resize(content_length);
    return r;
  }

  void handle(const Connection& c) {
    std::optional<ReceivedRequest> request = read_request(c);
    if (!request) {
      return;
    }
    ScriptedReply reply = ScriptedReply::ok("ok");
    {
      const std::lock_guard lock(mutex_);
      const size_t index = requests_.size();
      if (script_) {
        reply = script_(*request, index);
      }
      requests_.push_back(std::move(*request));
    }
    arrived_cv_.notify_all();
    switch (reply.kind) {
      case ScriptedReply::Kind::kClose:
        return;
      case ScriptedReply::Kind::kHang: {
        // Held until the client closes its end (its timeout) or the receiver stops.
        std::unique_lock lock(hang_mutex_);
        while (!stopping_) {
          pollfd p{c.fd, POLLIN, 0};
          lock.unlock();
          const int ready = ::poll(&p, 1, 20);
          lock.lock();
          if (ready > 0) {
            char probe = 0;
            if (::recv(c.fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) {
              return;  // The client gave up.
            }
          }
        }
        return;
      }
      case ScriptedReply::Kind::kRespond:
        break;
    }
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n";
    out += "Content-Type: " + reply.content_type + "\r\n";
    for (const auto& [k, v] : reply.headers) {
      out += k;
      out += ": ";
      out += v;
      out += "\r\n";
    }
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n";
    out += reply.body;
    c.write_all(out);
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_cv_;
  std::mutex hang_mutex_;
  std::condition_variable hang_cv_;
  Script script_;
  std::vector<ReceivedRequest> requests_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  int listen_fd_ = -1;
  int port_ = 0;
  SSL_CTX* ssl_ctx_ = nullptr;
};

}  // namespace tw::testing
