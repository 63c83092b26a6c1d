#pragma once

/// A blocking HTTP client for tests, on libcurl: one request per call, no proxy (a proxy set in
/// the environment must not intercept loopback requests), no signals (safe from many threads).

#include <curl/curl.h>

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tw::testing {

struct HttpCall {
  std::string url;
  std::string method = "GET";        ///< HEAD is sent without reading a body; POST sends "x".
  std::vector<std::string> headers;  ///< Extra request headers, "Name: value".
  long timeout_ms = 10'000;
};

struct HttpReply {
  CURLcode code = CURLE_OK;  ///< Transport outcome; `status` is meaningful only when CURLE_OK.
  long status = 0;
  std::string content_type;
  std::string allow;  ///< The Allow header, when present.
  std::string body;
  std::string error;  ///< curl's message when `code` is not CURLE_OK.
};

namespace detail {

inline size_t append_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

inline size_t read_header(char* data, size_t size, size_t count, void* out) {
  const std::string line(data, size * count);
  constexpr std::string_view kAllow = "allow:";
  if (line.size() > kAllow.size()) {
    std::string name = line.substr(0, kAllow.size());
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (name == kAllow) {
      const auto begin = line.find_first_not_of(' ', kAllow.size());
      const auto end = line.find_last_not_of("\r\n");
      static_cast<HttpReply*>(out)->allow = line.substr(begin, end + 1 - begin);
    }
  }
  return size * count;
}

}  // namespace detail

/// Performs `call`, never throws; transport failures are in `HttpReply::code` and `error`.
inline HttpReply http_call(const HttpCall& call) {
  // curl_global_init is not thread-safe on every libcurl; a function-local static is.
  static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  HttpReply reply;
  if (kInit != CURLE_OK) {
    reply.code = kInit;
    reply.error = "curl_global_init failed";
    return reply;
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    reply.code = CURLE_FAILED_INIT;
    reply.error = "curl_easy_init failed";
    return reply;
  }
  std::vector<char> error(CURL_ERROR_SIZE, '\0');
  curl_slist* headers = nullptr;
  for (const auto& header : call.headers) {
    headers = curl_slist_append(headers, header.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, call.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error.data());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &detail::append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &detail::read_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (call.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (call.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "x");
  } else if (call.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  reply.code = curl_easy_perform(curl);
  if (reply.code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    const char* content_type = nullptr;
    if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
        content_type != nullptr) {
      reply.content_type = content_type;
    }
  } else {
    reply.error = error[0] != '\0' ? std::string(error.data()) : curl_easy_strerror(reply.code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

inline HttpReply http_get(const std::string& url) {
  return http_call({.url = url});
}

}  // namespace tw::testing
