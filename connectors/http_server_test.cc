#include "connectors/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/http_test_client.h"

namespace tw::connectors {
namespace {

using pipeline::StatusCode;
using ::testing::HasSubstr;
using tw::testing::http_call;
using tw::testing::http_get;

HttpHandler text_handler(std::string body) {
  return [body = std::move(body)](const HttpRequest& /*request*/) {
    return HttpResponse{.status = 200, .content_type = "text/plain; charset=utf-8", .body = body};
  };
}

/// A server on an ephemeral loopback port with `/hello` registered, started.
class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.add_handler("/hello", text_handler("hello, world\n")).is_ok());
  }

  void start() {
    const auto status = server_.start();
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    ASSERT_GT(server_.port(), 0);
  }

  [[nodiscard]] std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + target;
  }

  HttpServer server_{HttpServerOptions{.listen_address = "127.0.0.1:0"}};
};

TEST(ParseQueryStringTest, SplitsDecodesAndKeepsOrder) {
  EXPECT_EQ(parse_query_string("a=1&b=x%20y&flag"),
            (std::vector<QueryParam>{{"a", "1"}, {"b", "x y"}, {"flag", ""}}));
  EXPECT_EQ(parse_query_string("q=up%7Bjob%3D%22x%22%7D+%3D%3D+1"),
            (std::vector<QueryParam>{{"q", "up{job=\"x\"} == 1"}}));
  EXPECT_EQ(parse_query_string("a=1&&b=2&"), (std::vector<QueryParam>{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(parse_query_string("=v&k=&a=b=c"),
            (std::vector<QueryParam>{{"", "v"}, {"k", ""}, {"a", "b=c"}}));
  EXPECT_EQ(parse_query_string("a=1&a=2"), (std::vector<QueryParam>{{"a", "1"}, {"a", "2"}}));
  EXPECT_TRUE(parse_query_string("").empty());
}

TEST(ParseQueryStringTest, KeepsMalformedEscapesLiterally) {
  EXPECT_EQ(parse_query_string("a=%zz&b=%4&c=%&d=100%25"),
            (std::vector<QueryParam>{{"a", "%zz"}, {"b", "%4"}, {"c", "%"}, {"d", "100%"}}));
}

TEST(HttpRequestTest, QueryValueReturnsTheFirstMatch) {
  HttpRequest request;
  request.query = {{"a", "1"}, {"a", "2"}, {"b", ""}};
  EXPECT_EQ(request.query_value("a"), "1");
  EXPECT_EQ(request.query_value("b"), "");
  EXPECT_EQ(request.query_value("c"), std::nullopt);
}

TEST_F(HttpServerTest, ServesBodyAndContentType) {
  start();
  const auto reply = http_get(url("/hello"));
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(reply.body, "hello, world\n");
}

TEST_F(HttpServerTest, UnknownPathIs404AndMatchingIsExact) {
  start();
  for (const std::string target : {"/", "/nope", "/hello/", "/hello/x", "/hell", "/HELLO"}) {
    const auto reply = http_get(url(target));
    ASSERT_EQ(reply.code, CURLE_OK) << target << ": " << reply.error;
    EXPECT_EQ(reply.status, 404) << target;
  }
  const auto with_query = http_get(url("/hello?x=1"));
  EXPECT_EQ(with_query.status, 200);
}

TEST_F(HttpServerTest, MethodsOtherThanGetAndHeadAre405) {
  start();
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    const auto reply = http_call({.url = url("/hello"), .method = method});
    ASSERT_EQ(reply.code, CURLE_OK) << method << ": " << reply.error;
    EXPECT_EQ(reply.status, 405) << method;
    EXPECT_EQ(reply.allow, "GET, HEAD") << method;
  }
  // An unknown path stays a 404 whatever the method.
  const auto reply = http_call({.url = url("/nope"), .method = "POST"});
  EXPECT_EQ(reply.status, 404);
}

TEST_F(HttpServerTest, HeadSendsHeadersWithoutBody) {
  std::mutex mutex;
  std::vector<std::string> seen_methods;
  ASSERT_TRUE(server_
                  .add_handler("/head",
                               [&](const HttpRequest& request) {
                                 const std::lock_guard lock(mutex);
                                 seen_methods.push_back(request.method);
                                 return HttpResponse{.body = "twelve bytes"};
                               })
                  .is_ok());
  start();
  const auto reply = http_call({.url = url("/head"), .method = "HEAD"});
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "");
  const std::lock_guard lock(mutex);
  EXPECT_EQ(seen_methods, std::vector<std::string>{"HEAD"});
}

TEST_F(HttpServerTest, HandlerSeesParsedQueryString) {
  ASSERT_TRUE(server_
                  .add_handler("/echo",
                               [](const HttpRequest& request) {
                                 std::string body = request.method + " " + request.path + " [" +
                                                    request.query_string + "]\n";
                                 for (const auto& [key, value] : request.query) {
                                   body.append(key).append("=").append(value).append("\n");
                                 }
                                 return HttpResponse{.body = body};
                               })
                  .is_ok());
  start();
  const auto reply = http_get(url("/echo?series=cpu%2Fweb-1&limit=10&flag&name=a+b"));
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body,
            "GET /echo [series=cpu%2Fweb-1&limit=10&flag&name=a+b]\n"
            "series=cpu/web-1\nlimit=10\nflag=\nname=a b\n");
  const auto bare = http_get(url("/echo"));
  EXPECT_EQ(bare.body, "GET /echo []\n");
}

TEST_F(HttpServerTest, ServesConcurrentRequestsOnSeveralWorkers) {
  // Each request waits (bounded) until two are inside a handler at once, which shows that the
  // workers run in parallel; later requests pass straight through.
  std::mutex mutex;
  std::condition_variable overlap;
  int in_flight = 0;
  int max_in_flight = 0;
  ASSERT_TRUE(server_
                  .add_handler("/work",
                               [&](const HttpRequest& request) {
                                 {
                                   std::unique_lock lock(mutex);
                                   max_in_flight = std::max(max_in_flight, ++in_flight);
                                   overlap.notify_all();
                                   overlap.wait_for(lock, std::chrono::seconds(5),
                                                    [&] { return max_in_flight >= 2; });
                                   --in_flight;
                                 }
                                 return HttpResponse{
                                     .body = std::string(request.query_value("i").value_or(""))};
                               })
                  .is_ok());
  start();

  constexpr int kClients = 8;
  constexpr int kRequestsEach = 25;
  std::atomic<int> ok{0};
  std::vector<std::string> failures(kClients);
  {
    std::vector<std::jthread> clients;
    clients.reserve(kClients);
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        for (int r = 0; r < kRequestsEach; ++r) {
          const std::string id = std::to_string(c) + "-" + std::to_string(r);
          const auto reply = http_get(url("/work?i=" + id));
          if (reply.code == CURLE_OK && reply.status == 200 && reply.body == id) {
            ++ok;
          } else if (failures[static_cast<size_t>(c)].empty()) {
            failures[static_cast<size_t>(c)] = id + ": " + std::to_string(reply.status) + " " +
                                               reply.error + " [" + reply.body + "]";
          }
        }
      });
    }
  }
  EXPECT_EQ(ok.load(), kClients * kRequestsEach);
  for (const auto& failure : failures) {
    EXPECT_EQ(failure, "");
  }
  EXPECT_GE(max_in_flight, 2);
  EXPECT_LE(max_in_flight, server_.options().num_threads);
}

TEST_F(HttpServerTest, PortInUseIsAnUnavailableError) {
  start();
  HttpServer second(
      HttpServerOptions{.listen_address = "127.0.0.1:" + std::to_string(server_.port())});
  const auto status = second.start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("127.0.0.1:" + std::to_string(server_.port())));
  EXPECT_THAT(status.message(), HasSubstr("Address already in use"));
  EXPECT_FALSE(second.running());
  EXPECT_EQ(second.port(), 0);
  second.stop();  // A no-op on a server that never started.
  // The first server is unaffected.
  EXPECT_EQ(http_get(url("/hello")).status, 200);
}

TEST(HttpServerOptionsTest, BadOptionsAreInvalidArguments) {
  const std::vector<HttpServerOptions> bad = {
      {.listen_address = "9464"},
      {.listen_address = "127.0.0.1:"},
      {.listen_address = "127.0.0.1:65536"},
      {.listen_address = "127.0.0.1:-1"},
      {.listen_address = "127.0.0.1:94x"},
      {.listen_address = "127.0.0.1:9464,9465"},
      {.listen_address = "[::1]:9464"},
      {.listen_address = "example.com:9464"},
      {.listen_address = "127.0.0.1:0", .num_threads = 0},
      {.listen_address = "127.0.0.1:0", .num_threads = 65},
      {.listen_address = "127.0.0.1:0", .max_request_bytes = 100},
      {.listen_address = "127.0.0.1:0", .request_timeout_ms = 0},
  };
  for (const auto& options : bad) {
    HttpServer server(options);
    const auto status = server.start();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument)
        << options.listen_address << " threads " << options.num_threads << ": "
        << status.to_string();
    EXPECT_FALSE(server.running());
  }
}

TEST(HttpServerOptionsTest, ListensOnAllInterfacesAndLocalhost) {
  for (const std::string address : {":0", "localhost:0", "0.0.0.0:0"}) {
    HttpServer server(HttpServerOptions{.listen_address = address});
    ASSERT_TRUE(server.add_handler("/x", text_handler("x")).is_ok());
    const auto status = server.start();
    ASSERT_TRUE(status.is_ok()) << address << ": " << status.to_string();
    EXPECT_EQ(http_get("http://127.0.0.1:" + std::to_string(server.port()) + "/x").body, "x")
        << address;
  }
}

TEST_F(HttpServerTest, AddHandlerRejectsBadPathsDuplicatesAndLateCalls) {
  EXPECT_EQ(server_.add_handler("hello", text_handler("")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_.add_handler("", text_handler("")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_.add_handler("/a?b", text_handler("")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_.add_handler("/hello", text_handler("")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_.add_handler("/empty", HttpHandler()).code(), StatusCode::kInvalidArgument);
  start();
  EXPECT_EQ(server_.add_handler("/late", text_handler("")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(server_.start().code(), StatusCode::kFailedPrecondition);
}

TEST_F(HttpServerTest, StopIsIdempotentAndTheServerRestarts) {
  start();
  const std::string before = url("/hello");
  server_.stop();
  EXPECT_FALSE(server_.running());
  EXPECT_EQ(server_.port(), 0);
  server_.stop();
  EXPECT_NE(http_call({.url = before, .timeout_ms = 2000}).code, CURLE_OK);
  start();
  EXPECT_EQ(http_get(url("/hello")).body, "hello, world\n");
}

TEST(HttpServerStopTest, StopIsBoundedWithAnIdleClientConnected) {
  HttpServer server(HttpServerOptions{.listen_address = "127.0.0.1:0", .request_timeout_ms = 500});
  ASSERT_TRUE(server.add_handler("/x", text_handler("x")).is_ok());
  ASSERT_TRUE(server.start().is_ok());
  // A client that connects and never sends a byte holds a worker until the request timeout.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // sockaddr_in is passed as the sockaddr it extends: the sockets API is built that way.
  const auto* generic = reinterpret_cast<const sockaddr*>(&address);  // NOLINT
  ASSERT_EQ(::connect(fd, generic, sizeof address), 0);
  const auto begin = std::chrono::steady_clock::now();
  server.stop();
  const auto took = std::chrono::steady_clock::now() - begin;
  ::close(fd);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(HttpServerTest, HandlerFailuresBecome500) {
  ASSERT_TRUE(server_
                  .add_handler("/throws",
                               [](const HttpRequest& /*request*/) -> HttpResponse {
                                 throw std::runtime_error("boom");
                               })
                  .is_ok());
  ASSERT_TRUE(server_
                  .add_handler("/bad-status",
                               [](const HttpRequest& /*request*/) {
                                 return HttpResponse{.status = 42, .body = "x"};
                               })
                  .is_ok());
  ASSERT_TRUE(server_
                  .add_handler("/bad-type",
                               [](const HttpRequest& /*request*/) {
                                 return HttpResponse{.content_type = "text/plain\r\nX-Evil: 1"};
                               })
                  .is_ok());
  start();
  for (const std::string target : {"/throws", "/bad-status", "/bad-type"}) {
    const auto reply = http_get(url(target));
    ASSERT_EQ(reply.code, CURLE_OK) << target << ": " << reply.error;
    EXPECT_EQ(reply.status, 500) << target;
    EXPECT_EQ(reply.body, "internal error\n") << target;
  }
  // The server keeps serving after a failing handler.
  EXPECT_EQ(http_get(url("/hello")).status, 200);
}

TEST_F(HttpServerTest, HandlerStatusAndContentTypeArePassedThrough) {
  ASSERT_TRUE(server_
                  .add_handler("/ready",
                               [](const HttpRequest& /*request*/) {
                                 return HttpResponse{.status = 503,
                                                     .content_type = "application/json",
                                                     .body = R"({"ready":false})"};
                               })
                  .is_ok());
  start();
  const auto reply = http_get(url("/ready"));
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body, R"({"ready":false})");
}

TEST(HttpServerLimitsTest, OversizedRequestIsRejectedAndServingGoesOn) {
  HttpServer server(HttpServerOptions{.listen_address = "127.0.0.1:0", .max_request_bytes = 4096});
  ASSERT_TRUE(server.add_handler("/x", text_handler("x")).is_ok());
  ASSERT_TRUE(server.start().is_ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
  const auto reply = http_call(
      {.url = url, .headers = {"X-Padding: " + std::string(std::size_t{64} * 1024, 'p')}});
  // civetweb answers "400 Bad Request" (or drops the connection); the handler never runs.
  if (reply.code == CURLE_OK) {
    EXPECT_GE(reply.status, 400);
    EXPECT_NE(reply.body, "x");
  }
  const auto small = http_get(url);
  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(small.body, "x");
}

/// Checks each line of a text exposition: a `# HELP`/`# TYPE` comment or
/// `name{labels} value`, with a number as value. Returns the first bad line, or "".
std::string first_malformed_line(const std::string& exposition) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      continue;
    }
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      continue;
    }
    const auto space = line.rfind(' ');
    if (space == std::string::npos || space == 0) {
      return line;
    }
    const std::string value = line.substr(space + 1);
    char* end = nullptr;
    (void)std::strtod(value.c_str(), &end);
    if (end != value.c_str() + value.size() && value != "+Inf" && value != "-Inf" &&
        value != "NaN") {
      return line;
    }
    const std::string series = line.substr(0, space);
    const auto brace = series.find('{');
    const std::string name = series.substr(0, brace);
    if (name.empty() ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_:") != std::string::npos) {
      return line;
    }
    if (brace != std::string::npos && series.back() != '}') {
      return line;
    }
  }
  return "";
}

TEST_F(HttpServerTest, MetricsHandlerServesPrometheusTextFormat) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& records = prometheus::BuildCounter()
                      .Name("trailwatch_test_records_total")
                      .Help("Records read, by input.")
                      .Register(*registry);
  records.Add({{"input", "a"}}).Increment(3);
  records.Add({{"input", "b \"quoted\""}}).Increment();
  auto other = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge()
      .Name("trailwatch_test_open_files")
      .Help("Open files.")
      .Register(*other)
      .Add({})
      .Set(7);
  ASSERT_TRUE(server_.add_handler("/metrics", metrics_handler({registry, other})).is_ok());
  start();

  const auto reply = http_get(url("/metrics"));
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, kPrometheusTextContentType);
  EXPECT_THAT(reply.body,
              HasSubstr("# HELP trailwatch_test_records_total Records read, by input.\n"));
  EXPECT_THAT(reply.body, HasSubstr("# TYPE trailwatch_test_records_total counter\n"));
  EXPECT_THAT(reply.body, HasSubstr("trailwatch_test_records_total{input=\"a\"} 3\n"));
  EXPECT_THAT(reply.body,
              HasSubstr("trailwatch_test_records_total{input=\"b \\\"quoted\\\"\"} 1\n"));
  EXPECT_THAT(reply.body, HasSubstr("# TYPE trailwatch_test_open_files gauge\n"));
  EXPECT_THAT(reply.body, HasSubstr("trailwatch_test_open_files 7\n"));
  EXPECT_EQ(first_malformed_line(reply.body), "");
  EXPECT_EQ(reply.body, serialize_metrics({registry, other}));

  // Each scrape collects afresh.
  records.Add({{"input", "a"}}).Increment(2);
  EXPECT_THAT(http_get(url("/metrics")).body,
              HasSubstr("trailwatch_test_records_total{input=\"a\"} 5\n"));
}

}  // namespace
}  // namespace tw::connectors
