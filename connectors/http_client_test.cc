#include "connectors/http_client.h"

#include <gtest/gtest.h>

#include <string>

#include "connectors/test_http_receiver.h"

namespace tw::connectors {
namespace {

using testing::ScriptedReply;
using testing::TestHttpReceiver;

const std::string kTlsDir = TW_SOURCE_DIR "/tests/data/tls/";

TEST(HttpClient, SendsMethodPathHeadersAndBodyAsGiven) {
  TestHttpReceiver receiver;
  receiver.set_script([](const testing::ReceivedRequest&, size_t) {
    ScriptedReply r = ScriptedReply::ok(R"({"ok":true})", "application/json");
    r.headers.emplace_back("X-Answer", "42");
    return r;
  });
  ASSERT_TRUE(receiver.start());
  HttpClient client;
  const HttpClientResponse response =
      client.send({.method = "PATCH",
                   .url = receiver.url("/a/b?x=1"),
                   .headers = {{"Content-Type", "text/x"}, {"Idempotency-Key", "k-1"}},
                   .body = std::string(5000, 'b')});
  ASSERT_TRUE(response.transport_ok()) << response.error;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"ok":true})");
  EXPECT_EQ(find_header(response.headers, "x-answer").value_or(""), "42");
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "PATCH");
  EXPECT_EQ(requests[0].target, "/a/b?x=1");
  EXPECT_EQ(requests[0].header("content-type"), "text/x");
  EXPECT_EQ(requests[0].header("Idempotency-Key"), "k-1");
  EXPECT_EQ(requests[0].header("Expect"), "");  // No 100-continue round trip.
  EXPECT_EQ(requests[0].body, std::string(5000, 'b'));
}

TEST(HttpClient, ReportsErrorStatusesAsResponses) {
  TestHttpReceiver receiver;
  receiver.set_script([](const testing::ReceivedRequest&, size_t i) {
    return ScriptedReply::status_only(i == 0 ? 503 : 404, "nope");
  });
  ASSERT_TRUE(receiver.start());
  HttpClient client;
  HttpClientResponse r = client.send({.url = receiver.url()});
  ASSERT_TRUE(r.transport_ok());
  EXPECT_EQ(r.status, 503);
  r = client.send({.url = receiver.url()});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "nope");
}

TEST(HttpClient, ClassifiesTimeoutsRefusalsAndClosedConnections) {
  TestHttpReceiver receiver;
  receiver.set_script([](const testing::ReceivedRequest&, size_t i) {
    return i == 0 ? ScriptedReply::hang() : ScriptedReply::close();
  });
  ASSERT_TRUE(receiver.start());
  HttpClient client;
  HttpClientResponse r =
      client.send({.url = receiver.url(), .timeout = std::chrono::milliseconds(300)});
  EXPECT_EQ(r.transport, HttpTransport::kTimeout) << r.error;
  r = client.send({.url = receiver.url()});
  EXPECT_EQ(r.transport, HttpTransport::kConnectionFailed) << r.error;
  const std::string url = receiver.url();
  receiver.stop();
  r = client.send({.url = url});
  EXPECT_EQ(r.transport, HttpTransport::kConnectionFailed) << r.error;
  EXPECT_FALSE(r.error.empty());
}

TEST(HttpClient, RefusesHeaderInjectionAndOtherSchemes) {
  HttpClient client;
  HttpClientResponse r =
      client.send({.url = "http://127.0.0.1:1/", .headers = {{"X-A", "1\r\nX-B: 2"}}});
  EXPECT_EQ(r.transport, HttpTransport::kInvalidRequest);
  r = client.send({.url = "file:///etc/passwd"});
  EXPECT_EQ(r.transport, HttpTransport::kInvalidRequest) << r.error;
}

TEST(HttpClient, BoundsTheResponseBody) {
  TestHttpReceiver receiver;
  receiver.set_script([](const testing::ReceivedRequest&, size_t) {
    return ScriptedReply::ok(std::string(4096, 'x'));
  });
  ASSERT_TRUE(receiver.start());
  HttpClient client({.max_response_bytes = 1000});
  const HttpClientResponse r = client.send({.url = receiver.url()});
  EXPECT_EQ(r.transport, HttpTransport::kTooLarge);
}

TEST(HttpClient, VerifiesTlsAgainstTheGivenCa) {
  TestHttpReceiver receiver;
  ASSERT_TRUE(receiver.use_tls(kTlsDir + "server.crt", kTlsDir + "server.key"));
  ASSERT_TRUE(receiver.start());

  HttpClient trusting({.ca_file = kTlsDir + "server.crt"});
  HttpClientResponse r = trusting.send({.method = "GET", .url = receiver.url("/scale")});
  ASSERT_TRUE(r.transport_ok()) << r.error;
  EXPECT_EQ(r.status, 200);

  HttpClient other({.ca_file = kTlsDir + "other-ca.crt"});
  r = other.send({.method = "GET", .url = receiver.url()});
  EXPECT_EQ(r.transport, HttpTransport::kTlsFailed) << r.error;

  HttpClient unverified({.verify_tls = false});
  r = unverified.send({.method = "GET", .url = receiver.url()});
  EXPECT_TRUE(r.transport_ok()) << r.error;
  EXPECT_EQ(receiver.request_count(), 2U);  // The refused handshake never became a request.
}

TEST(HttpClient, ParsesRetryAfterSeconds) {
  EXPECT_EQ(parse_retry_after("120"), std::chrono::seconds(120));
  EXPECT_EQ(parse_retry_after(" 3 "), std::chrono::seconds(3));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1"), std::nullopt);
  EXPECT_EQ(parse_retry_after("99999999"), std::chrono::seconds(24 * 3600));
}

}  // namespace
}  // namespace tw::connectors
