#include "connectors/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace tw::connectors {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) {
    return {};
  }
  const auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end + 1 - begin);
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

/// The host of an http(s) URL, without brackets or port; empty when it cannot be found.
std::string_view url_host(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return {};
  }
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    rest = rest.substr(at + 1);
  }
  if (rest.starts_with('[')) {
    return rest.substr(1, rest.find(']') - 1);
  }
  return rest.substr(0, rest.find(':'));
}

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

HttpTransport classify(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return HttpTransport::kOk;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpTransport::kTimeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return HttpTransport::kConnectionFailed;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return HttpTransport::kResolveFailed;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
      return HttpTransport::kTlsFailed;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return HttpTransport::kInvalidRequest;
    default:
      return HttpTransport::kOther;
  }
}

struct Transfer {
  HttpClientResponse* response = nullptr;
  std::size_t max_body = 0;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->response->body.size() + n > t->max_body) {
    t->too_large = true;
    return 0;  // Aborts the transfer with CURLE_WRITE_ERROR.
  }
  t->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue or a redirect): forget the previous one's headers.
    t->response->headers.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos && t->response->headers.size() < 200) {
    t->response->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                      std::string(trim(line.substr(colon + 1))));
  }
  return n;
}

}  // namespace

std::optional<std::string_view> find_header(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

std::string_view to_string(HttpTransport t) {
  switch (t) {
    case HttpTransport::kOk:
      return "ok";
    case HttpTransport::kTimeout:
      return "timeout";
    case HttpTransport::kConnectionFailed:
      return "connection_failed";
    case HttpTransport::kResolveFailed:
      return "resolve_failed";
    case HttpTransport::kTlsFailed:
      return "tls_failed";
    case HttpTransport::kTooLarge:
      return "response_too_large";
    case HttpTransport::kInvalidRequest:
      return "invalid_request";
    case HttpTransport::kOther:
      return "other";
  }
  return "other";
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  value = trim(value);
  long long seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
    return std::nullopt;
  }
  constexpr long long kDay = 24LL * 3600;
  return std::chrono::seconds(std::min(seconds, kDay));
}

class HttpClient::Impl {
 public:
  Impl() {
    // curl_global_init is not thread-safe on every libcurl; a function-local static is.
    static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (kInit == CURLE_OK) {
      curl_ = curl_easy_init();
    }
  }

  ~Impl() {
    if (curl_ != nullptr) {
      curl_easy_cleanup(curl_);
    }
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  HttpClientResponse send(const HttpClientOptions& options, const HttpClientRequest& request) {
    HttpClientResponse response;
    if (curl_ == nullptr) {
      response.transport = HttpTransport::kOther;
      response.error = "libcurl could not be initialised";
      return response;
    }
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || has_line_break(name) || has_line_break(value) ||
          name.find(':') != std::string::npos) {
        response.transport = HttpTransport::kInvalidRequest;
        response.error = "header names and values must not contain CR, LF or (in names) ':'";
        return response;
      }
    }
    if (has_line_break(request.method) || has_line_break(request.url)) {
      response.transport = HttpTransport::kInvalidRequest;
      response.error = "method and URL must not contain CR or LF";
      return response;
    }

    curl_easy_reset(curl_);
    std::vector<char> error(CURL_ERROR_SIZE, '\0');
    curl_slist* headers = nullptr;
    bool has_expect = false;
    for (const auto& [name, value] : request.headers) {
      std::string line = name;
      if (value.empty()) {
        line += ';';  // "Name;" sends an empty value.
      } else {
        line += ": ";
        line += value;
      }
      headers = curl_slist_append(headers, line.c_str());
      has_expect = has_expect || iequals(name, "Expect");
    }
    if (!has_expect) {
      // libcurl waits for "100 Continue" before sending bodies over 1 KiB; receivers rarely
      // answer it and the wait costs a second.
      headers = curl_slist_append(headers, "Expect:");
    }

    Transfer transfer{&response, options.max_response_bytes};
    curl_easy_setopt(curl_, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error.data());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    if (!options.ca_file.empty()) {
      curl_easy_setopt(curl_, CURLOPT_CAINFO, options.ca_file.c_str());
    }
    if (is_loopback(url_host(request.url))) {
      curl_easy_setopt(curl_, CURLOPT_NOPROXY, "*");
    }
    if (request.method == "HEAD") {
      curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      if (request.method != "POST") {
        curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      }
    }

    const auto started = std::chrono::steady_clock::now();
    const CURLcode code = curl_easy_perform(curl_);
    response.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
      response.status = static_cast<int>(status);
    } else if (transfer.too_large) {
      response.transport = HttpTransport::kTooLarge;
      response.error =
          "response body larger than " + std::to_string(options.max_response_bytes) + " bytes";
    } else {
      response.transport = classify(code);
      response.error = error[0] != '\0' ? std::string(error.data()) : curl_easy_strerror(code);
    }
    curl_slist_free_all(headers);
    return response;
  }

 private:
  CURL* curl_ = nullptr;
};

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

HttpClientResponse HttpClient::send(const HttpClientRequest& request) {
  return impl_->send(options_, request);
}

}  // namespace tw::connectors
