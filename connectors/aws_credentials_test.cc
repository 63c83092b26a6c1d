#include "connectors/aws_credentials.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>  // mkdtemp (POSIX)
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connectors/test_http_receiver.h"
#include "connectors/test_temp_dir.h"

namespace tw::connectors {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::ReceivedRequest;
using testing::ScriptedReply;
using testing::TestHttpReceiver;
using Clock = std::chrono::system_clock;

// 2023-11-14T22:13:20Z.
const Clock::time_point kT0 = Clock::time_point(seconds(1'700'000'000));

std::string sts_reply(const std::string& key, const std::string& secret, const std::string& token,
                      const std::string& expiration) {
  // The reply shape of the AWS documentation, our own values, Credentials' children reordered.
  return R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:monitoring:trailwatch</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/tw-actions/trailwatch-1700000000</Arn>
      <AssumedRoleId>AROATESTTESTTESTTEST:trailwatch-1700000000</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>)" +
         token + R"(</SessionToken>
      <SecretAccessKey>)" +
         secret + R"(</SecretAccessKey>
      <Expiration>)" +
         expiration + R"(</Expiration>
      <AccessKeyId>)" +
         key + R"(</AccessKeyId>
    </Credentials>
    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/TEST</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)";
}

std::string sts_error(const std::string& code, const std::string& message) {
  return R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>)" +
         code + "</Code><Message>" + message + R"(</Message></Error>
  <RequestId>66666666-7777-8888-9999-000000000000</RequestId>
</ErrorResponse>)";
}

std::string container_reply(const std::string& key, const std::string& expiration) {
  return R"({"RoleArn":"arn:aws:iam::123456789012:role/tw","AccessKeyId":")" + key +
         R"(","SecretAccessKey":"container-secret-)" + key + R"(","Token":"container-token-)" +
         key + R"(","Expiration":")" + expiration + R"("})";
}

/// The world a provider sees: variables, a clock and a home folder in a fresh temporary folder.
/// Nothing of the real environment is read.
class CredentialsTest : public ::testing::Test {
 protected:
  struct World {
    std::map<std::string, std::string, std::less<>> vars;
    Clock::time_point now = kT0;
  };

  void SetUp() override {
    ASSERT_FALSE(temp_.path().empty());
    dir_ = temp_.path();
    world_->vars["HOME"] = (dir_ / "home").string();
    fs::create_directories(dir_ / "home" / ".aws");
  }

  void set(const std::string& name, const std::string& value) { world_->vars[name] = value; }

  void advance_to(Clock::time_point t) { world_->now = t; }

  /// Writes `content` to `name` under the temporary folder (replacing it) and returns the path.
  std::string write(const std::string& name, const std::string& content) {
    return temp_.write(name, content);
  }

  std::string home_file(const std::string& name, const std::string& content) {
    return write("home/.aws/" + name, content);
  }

  CredentialEnvironment environment() {
    CredentialEnvironment env;
    const std::shared_ptr<World> world = world_;
    env.getenv = [world](std::string_view name) -> std::optional<std::string> {
      const auto it = world->vars.find(name);
      return it == world->vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    env.now = [world] {
      return world->now;
    };
    return env;
  }

  /// Web identity through STS at `receiver`, with the token file holding `token`.
  std::string use_web_identity(const TestHttpReceiver& receiver, const std::string& token) {
    std::string token_file = write("irsa/token", token);
    set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/tw-actions");
    set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file);
    set("AWS_ENDPOINT_URL_STS", receiver.url());
    return token_file;
  }

  testing::TempDir temp_;
  fs::path dir_;
  std::shared_ptr<World> world_ = std::make_shared<World>();
};

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

TEST_F(CredentialsTest, EnvironmentKeysWithoutToken) {
  set("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENV");
  set("AWS_SECRET_ACCESS_KEY", "env-secret");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIAENVENVENVENV");
  EXPECT_EQ(c->secret_access_key, "env-secret");
  EXPECT_EQ(c->session_token, "");
  EXPECT_FALSE(c->expiration.has_value());
  EXPECT_EQ(provider.source(), "environment");

  // Keys that do not expire are never read again: a year later they are still the cached ones.
  set("AWS_ACCESS_KEY_ID", "AKIACHANGEDCHANGED");
  advance_to(kT0 + std::chrono::hours(24 * 365));
  const auto again = provider.get();
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->access_key_id, "AKIAENVENVENVENV");
}

TEST_F(CredentialsTest, EnvironmentKeysWithTokenAndExpiration) {
  set("AWS_ACCESS_KEY_ID", "ASIAENVENVENVENV");
  set("AWS_SECRET_ACCESS_KEY", "env-secret");
  set("AWS_SESSION_TOKEN", "env-session-token");
  set("AWS_SECURITY_TOKEN", "legacy-token-loses");
  set("AWS_CREDENTIAL_EXPIRATION", "2023-11-14T23:13:20Z");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->session_token, "env-session-token");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(*c->expiration, kT0 + std::chrono::hours(1));

  // Past the expiration the environment is read again; still expired, that is an error.
  advance_to(kT0 + std::chrono::hours(2));
  const auto expired = provider.get();
  ASSERT_FALSE(expired.is_ok());
  EXPECT_EQ(expired.status().code(), pipeline::StatusCode::kFailedPrecondition);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);
  EXPECT_EQ(expired.status().message().find("env-secret"), std::string::npos);
}

TEST_F(CredentialsTest, EnvironmentAcceptsTheLegacySecurityToken) {
  set("AWS_ACCESS_KEY_ID", "ASIAENVENVENVENV");
  set("AWS_SECRET_ACCESS_KEY", "env-secret");
  set("AWS_SECURITY_TOKEN", "legacy-token");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->session_token, "legacy-token");
}

TEST_F(CredentialsTest, KeyIdWithoutSecretIsAnErrorNotAFallThrough) {
  set("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENV");
  home_file("credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_EQ(provider.source(), "");
}

TEST_F(CredentialsTest, BadCredentialExpirationIsAnError) {
  set("AWS_ACCESS_KEY_ID", "ASIAENVENVENVENV");
  set("AWS_SECRET_ACCESS_KEY", "env-secret");
  set("AWS_CREDENTIAL_EXPIRATION", "tomorrow");
  AwsCredentialProvider provider(environment());
  EXPECT_EQ(provider.get().status().code(), pipeline::StatusCode::kInvalidArgument);
}

TEST_F(CredentialsTest, EnvironmentWinsOverEverythingElse) {
  TestHttpReceiver sts;
  ASSERT_TRUE(sts.start());
  TestHttpReceiver container;
  ASSERT_TRUE(container.start());
  use_web_identity(sts, "jwt-unused");
  home_file("credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.url("/creds"));
  set("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENV");
  set("AWS_SECRET_ACCESS_KEY", "env-secret");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIAENVENVENVENV");
  EXPECT_EQ(provider.source(), "environment");
  EXPECT_EQ(sts.request_count(), 0U);
  EXPECT_EQ(container.request_count(), 0U);
}

// ---------------------------------------------------------------------------------------------
// Shared files
// ---------------------------------------------------------------------------------------------

TEST_F(CredentialsTest, SharedCredentialsFileDefaultProfile) {
  home_file("credentials",
            "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n"
            "aws_session_token = default-token\n");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(c->secret_access_key, "default-secret");
  EXPECT_EQ(c->session_token, "default-token");
  EXPECT_EQ(provider.source(), "shared_file");
}

TEST_F(CredentialsTest, AwsProfileSelectsTheProfile) {
  home_file("credentials",
            "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n"
            "[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = prod-secret\n"
            "[staging]\naws_access_key_id = AKIASTAGING\naws_secret_access_key = st\n");
  set("AWS_PROFILE", "prod");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIAPROD");
  EXPECT_EQ(c->secret_access_key, "prod-secret");
}

TEST_F(CredentialsTest, CredentialsFileBeatsConfigFile) {
  home_file("credentials",
            "[default]\naws_access_key_id = AKIACREDS\naws_secret_access_key = creds-secret\n");
  home_file("config",
            "[default]\nregion = eu-central-1\naws_access_key_id = AKIACONFIG\n"
            "aws_secret_access_key = config-secret\naws_session_token = config-token\n");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIACREDS");
  EXPECT_EQ(c->secret_access_key, "creds-secret");
  EXPECT_EQ(c->session_token, "");  // The triple comes from one file, not merged.
}

TEST_F(CredentialsTest, ConfigFileProfilesAreNamedProfileX) {
  // In the config file `[ci]` is not the profile ci; `[profile ci]` is.
  home_file("config",
            "[ci]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n"
            "[profile ci]\naws_access_key_id = AKIACI\naws_secret_access_key = ci-secret\n");
  set("AWS_PROFILE", "ci");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIACI");
  EXPECT_EQ(c->secret_access_key, "ci-secret");
  EXPECT_EQ(provider.source(), "shared_file");
}

TEST_F(CredentialsTest, SharedFilesTolerateCommentsWhitespaceAndCrlf) {
  home_file("credentials",
            "# written by hand\r\n"
            "; another comment style\r\n"
            "\r\n"
            "  [ other ]  \r\n"
            "aws_access_key_id=AKIAOTHER\r\n"
            "[default]\r\n"
            "\tAWS_Access_Key_ID   =   AKIAHAND   # the key id\r\n"
            "   aws_secret_access_key=abc#def;ghi ; trailing comment\r\n"
            "s3 =\r\n"
            "  aws_session_token = nested-not-a-token\r\n"
            "[broken\r\n"
            "aws_session_token = in-a-broken-section\r\n");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIAHAND");
  EXPECT_EQ(c->secret_access_key, "abc#def;ghi");  // `#` and `;` without a space before stay.
  EXPECT_EQ(c->session_token, "");
}

TEST_F(CredentialsTest, MissingFilesFallThrough) {
  set("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "nowhere" / "credentials").string());
  set("AWS_CONFIG_FILE",
      write("custom/config",
            "[default]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = cs\n"));
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIACONFIG");
}

TEST_F(CredentialsTest, FileVariablesExpandTheHomeFolder) {
  write("home/elsewhere/creds",
        "[default]\naws_access_key_id = AKIATILDE\naws_secret_access_key = t\n");
  set("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "AKIATILDE");
}

TEST_F(CredentialsTest, ProfileKeyIdWithoutSecretIsAnError) {
  home_file("credentials", "[default]\naws_access_key_id = AKIAHALF\n");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("aws_secret_access_key"), std::string::npos);
}

TEST_F(CredentialsTest, UnknownAwsProfileIsNotFound) {
  home_file("credentials",
            "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n");
  set("AWS_PROFILE", "typo");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("'typo'"), std::string::npos);
}

TEST_F(CredentialsTest, NoSourceIsNotFoundNamingTheSources) {
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kNotFound);
  const std::string& m = c.status().message();
  for (const char* part :
       {"AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", ".aws/credentials", ".aws/config",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "instance metadata"}) {
    EXPECT_NE(m.find(part), std::string::npos) << part << " not in: " << m;
  }
  EXPECT_EQ(provider.source(), "");

  // The chain is walked again by the next call: credentials that appear later are found.
  home_file("credentials", "[default]\naws_access_key_id = AKIALATE\naws_secret_access_key = l\n");
  const auto later = provider.get();
  ASSERT_TRUE(later.is_ok()) << later.status().to_string();
  EXPECT_EQ(later->access_key_id, "AKIALATE");
}

// ---------------------------------------------------------------------------------------------
// Web identity (STS AssumeRoleWithWebIdentity)
// ---------------------------------------------------------------------------------------------

TEST_F(CredentialsTest, WebIdentitySendsAnUnsignedFormPost) {
  TestHttpReceiver sts;
  sts.set_script([](const ReceivedRequest&, size_t) {
    return ScriptedReply::ok(
        sts_reply("ASIASTSONE", "sts-secret-one", "sts-token-one", "2023-11-14T23:13:20Z"),
        "text/xml");
  });
  ASSERT_TRUE(sts.start());
  use_web_identity(sts, "eyJhbGciOiJSUzI1NiJ9.e30.sig-one\n");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "ASIASTSONE");
  EXPECT_EQ(c->secret_access_key, "sts-secret-one");
  EXPECT_EQ(c->session_token, "sts-token-one");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(*c->expiration, kT0 + std::chrono::hours(1));
  EXPECT_EQ(provider.source(), "web_identity");

  const auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1U);
  const ReceivedRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.header("Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(r.header("Authorization"), "");
  EXPECT_EQ(r.header("X-Amz-Date"), "");
  EXPECT_EQ(r.header("X-Amz-Security-Token"), "");
  // The token file's trailing line break is not part of the token.
  EXPECT_EQ(r.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ftw-actions"
            "&RoleSessionName=trailwatch-1700000000"
            "&WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.e30.sig-one");
}

TEST_F(CredentialsTest, WebIdentityUsesTheConfiguredSessionName) {
  TestHttpReceiver sts;
  sts.set_script([](const ReceivedRequest&, size_t) {
    return ScriptedReply::ok(sts_reply("ASIA1", "s", "t", "2023-11-14T23:13:20Z"), "text/xml");
  });
  ASSERT_TRUE(sts.start());
  use_web_identity(sts, "jwt");
  set("AWS_ROLE_SESSION_NAME", "tw-pod-7");
  AwsCredentialProvider provider(environment());
  ASSERT_TRUE(provider.get().is_ok());
  ASSERT_EQ(sts.request_count(), 1U);
  EXPECT_NE(sts.requests()[0].body.find("&RoleSessionName=tw-pod-7&"), std::string::npos)
      << sts.requests()[0].body;
}

TEST_F(CredentialsTest, WebIdentityRefreshesAtFifteenMinutesAndRereadsTheToken) {
  TestHttpReceiver sts;
  sts.set_script([](const ReceivedRequest&, size_t i) {
    return i == 0 ? ScriptedReply::ok(
                        sts_reply("ASIAFIRST", "secret-1", "token-1", "2023-11-14T23:13:20Z"),
                        "text/xml")
                  : ScriptedReply::ok(
                        sts_reply("ASIASECOND", "secret-2", "token-2", "2023-11-15T00:13:20Z"),
                        "text/xml");
  });
  ASSERT_TRUE(sts.start());
  const std::string token_file = use_web_identity(sts, "jwt-generation-1");
  AwsCredentialProvider provider(environment());
  const Clock::time_point expiry = kT0 + std::chrono::hours(1);
  ASSERT_TRUE(provider.get().is_ok());
  ASSERT_EQ(sts.request_count(), 1U);

  // 15 minutes and one second left: cached, no call.
  advance_to(expiry - minutes(15) - seconds(1));
  const auto cached = provider.get();
  ASSERT_TRUE(cached.is_ok());
  EXPECT_EQ(cached->access_key_id, "ASIAFIRST");
  EXPECT_EQ(sts.request_count(), 1U);

  // The kubelet rotates the token; at 15 minutes left the refresh sends the new one.
  write("irsa/token", "jwt-generation-2");
  advance_to(expiry - minutes(15));
  const auto fresh = provider.get();
  ASSERT_TRUE(fresh.is_ok()) << fresh.status().to_string();
  EXPECT_EQ(fresh->access_key_id, "ASIASECOND");
  EXPECT_EQ(fresh->secret_access_key, "secret-2");
  EXPECT_EQ(fresh->session_token, "token-2");
  ASSERT_EQ(sts.request_count(), 2U);
  const auto requests = sts.requests();
  EXPECT_NE(requests[0].body.find("&WebIdentityToken=jwt-generation-1"), std::string::npos);
  EXPECT_NE(requests[1].body.find("&WebIdentityToken=jwt-generation-2"), std::string::npos);
  EXPECT_NE(requests[1].body.find("&RoleSessionName=trailwatch-1700002700&"), std::string::npos)
      << requests[1].body;
  EXPECT_TRUE(provider.last_refresh_error().is_ok());

  // The new credentials are cached in turn.
  EXPECT_EQ(provider.get()->access_key_id, "ASIASECOND");
  EXPECT_EQ(sts.request_count(), 2U);
}

TEST_F(CredentialsTest, AdvisoryRefreshFailureKeepsTheOldCredentials) {
  TestHttpReceiver sts;
  sts.set_script([](const ReceivedRequest&, size_t i) {
    return i == 0 ? ScriptedReply::ok(
                        sts_reply("ASIAOLD", "old-secret", "old-token", "2023-11-14T23:13:20Z"),
                        "text/xml")
                  : ScriptedReply::status_only(500, "internal error");
  });
  ASSERT_TRUE(sts.start());
  use_web_identity(sts, "jwt");
  AwsCredentialProvider provider(environment());
  const Clock::time_point expiry = kT0 + std::chrono::hours(1);
  ASSERT_TRUE(provider.get().is_ok());

  // 12 minutes left: the refresh is tried, fails, and the old credentials serve.
  advance_to(expiry - minutes(12));
  const auto kept = provider.get();
  ASSERT_TRUE(kept.is_ok()) << kept.status().to_string();
  EXPECT_EQ(kept->access_key_id, "ASIAOLD");
  EXPECT_EQ(kept->session_token, "old-token");
  EXPECT_EQ(sts.request_count(), 2U);
  EXPECT_EQ(provider.last_refresh_error().code(), pipeline::StatusCode::kUnavailable);
  EXPECT_NE(provider.last_refresh_error().message().find("HTTP 500"), std::string::npos);

  // 5 minutes left: the refresh is mandatory, and its failure is the caller's.
  advance_to(expiry - minutes(5));
  const auto mandatory = provider.get();
  ASSERT_FALSE(mandatory.is_ok());
  EXPECT_EQ(mandatory.status().code(), pipeline::StatusCode::kUnavailable);
  EXPECT_EQ(sts.request_count(), 3U);

  // Expired: an error as well.
  advance_to(expiry + seconds(1));
  const auto expired = provider.get();
  ASSERT_FALSE(expired.is_ok());
  EXPECT_EQ(expired.status().code(), pipeline::StatusCode::kUnavailable);
  EXPECT_EQ(sts.request_count(), 4U);
  EXPECT_EQ(expired.status().message().find("old-secret"), std::string::npos);
}

TEST_F(CredentialsTest, StsErrorsCarryTheCodeButNeverTheToken) {
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWNsYWltcw.very-secret-signature";
  TestHttpReceiver sts;
  sts.set_script([jwt](const ReceivedRequest&, size_t i) {
    ScriptedReply r = ScriptedReply::status_only(
        400, i == 0 ? sts_error("InvalidIdentityToken", "Token " + jwt + " is not valid")
                    : sts_error("IDPCommunicationError", "the IdP did not answer"));
    r.content_type = "text/xml";
    return r;
  });
  ASSERT_TRUE(sts.start());
  use_web_identity(sts, jwt);
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kFailedPrecondition);
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("InvalidIdentityToken"), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 400"), std::string::npos) << m;
  EXPECT_NE(m.find("arn:aws:iam::123456789012:role/tw-actions"), std::string::npos) << m;
  EXPECT_EQ(m.find(jwt), std::string::npos) << m;
  EXPECT_EQ(m.find("very-secret-signature"), std::string::npos) << m;

  // A retryable STS error is unavailable: the caller's next get() tries again.
  const auto retryable = provider.get();
  ASSERT_FALSE(retryable.is_ok());
  EXPECT_EQ(retryable.status().code(), pipeline::StatusCode::kUnavailable);
  EXPECT_NE(retryable.status().message().find("IDPCommunicationError"), std::string::npos);
  EXPECT_EQ(sts.request_count(), 2U);
}

TEST_F(CredentialsTest, StsTransportFailureAndBadRepliesAreErrors) {
  TestHttpReceiver sts;
  sts.set_script([](const ReceivedRequest&, size_t) {
    return ScriptedReply::ok("<AssumeRoleWithWebIdentityResponse/>", "text/xml");
  });
  ASSERT_TRUE(sts.start());
  use_web_identity(sts, "jwt");
  AwsCredentialProvider provider(environment());
  const auto bad = provider.get();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), pipeline::StatusCode::kDataLoss);

  sts.stop();  // Connections are refused from now on.
  const auto refused = provider.get();
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), pipeline::StatusCode::kUnavailable);
}

TEST_F(CredentialsTest, WebIdentityTokenFileWithoutRoleIsAnError) {
  set("AWS_WEB_IDENTITY_TOKEN_FILE", write("irsa/token", "jwt"));
  home_file("credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_ROLE_ARN"), std::string::npos);
}

TEST_F(CredentialsTest, MissingWebIdentityTokenFileIsUnavailable) {
  set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/tw-actions");
  set("AWS_WEB_IDENTITY_TOKEN_FILE", (dir_ / "not-mounted-yet").string());
  set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("not-mounted-yet"), std::string::npos);
}

TEST_F(CredentialsTest, WebIdentityFromTheConfigProfile) {
  TestHttpReceiver sts;
  sts.set_script([](const ReceivedRequest&, size_t) {
    return ScriptedReply::ok(sts_reply("ASIAPROFILE", "s", "t", "2023-11-14T23:13:20Z"),
                             "text/xml");
  });
  ASSERT_TRUE(sts.start());
  const std::string token_file = write("irsa/token", "jwt-from-profile");
  home_file("config",
            "[profile irsa]\nrole_arn = arn:aws:iam::123456789012:role/from-profile\n"
            "web_identity_token_file = " +
                token_file + "\nrole_session_name = profile-session\n");
  set("AWS_PROFILE", "irsa");
  set("AWS_ENDPOINT_URL", sts.url());
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "ASIAPROFILE");
  EXPECT_EQ(provider.source(), "web_identity");
  ASSERT_EQ(sts.request_count(), 1U);
  EXPECT_EQ(sts.requests()[0].body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffrom-profile"
            "&RoleSessionName=profile-session&WebIdentityToken=jwt-from-profile");
}

TEST_F(CredentialsTest, OneRefreshServesConcurrentCallers) {
  TestHttpReceiver sts;
  sts.set_script([](const ReceivedRequest&, size_t i) {
    return ScriptedReply::ok(
        sts_reply("ASIACONC" + std::to_string(i), "s", "t", "2023-11-14T23:13:20Z"), "text/xml");
  });
  ASSERT_TRUE(sts.start());
  use_web_identity(sts, "jwt");
  AwsCredentialProvider provider(environment());
  std::vector<std::string> keys(8);
  std::vector<std::thread> callers;
  callers.reserve(keys.size());
  for (std::string& key : keys) {
    callers.emplace_back([&provider, &key] {
      const auto c = provider.get();
      key = c.is_ok() ? c->access_key_id : c.status().to_string();
    });
  }
  for (std::thread& t : callers) {
    t.join();
  }
  EXPECT_EQ(sts.request_count(), 1U);
  for (const std::string& key : keys) {
    EXPECT_EQ(key, "ASIACONC0");
  }
}

// ---------------------------------------------------------------------------------------------
// Container endpoint
// ---------------------------------------------------------------------------------------------

TEST_F(CredentialsTest, ContainerFullUriWithTokenFile) {
  TestHttpReceiver agent;
  agent.set_script([](const ReceivedRequest&, size_t i) {
    return ScriptedReply::ok(
        container_reply(i == 0 ? "ASIAPOD1" : "ASIAPOD2", "2023-11-14T23:13:20Z"),
        "application/json");
  });
  ASSERT_TRUE(agent.start());
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url("/v1/credentials"));
  set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", write("pod-identity/token", "pod-token-A"));
  set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token-loses");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "ASIAPOD1");
  EXPECT_EQ(c->secret_access_key, "container-secret-ASIAPOD1");
  EXPECT_EQ(c->session_token, "container-token-ASIAPOD1");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(*c->expiration, kT0 + std::chrono::hours(1));
  EXPECT_EQ(provider.source(), "container");

  // Rotated token file; a mandatory refresh sends the new content.
  write("pod-identity/token", "pod-token-B");
  advance_to(kT0 + minutes(55));
  const auto fresh = provider.get();
  ASSERT_TRUE(fresh.is_ok()) << fresh.status().to_string();
  EXPECT_EQ(fresh->access_key_id, "ASIAPOD2");

  const auto requests = agent.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/v1/credentials");
  EXPECT_EQ(requests[0].header("Authorization"), "pod-token-A");
  EXPECT_EQ(requests[1].header("Authorization"), "pod-token-B");
}

TEST_F(CredentialsTest, ContainerTokenFromTheEnvironmentVerbatim) {
  TestHttpReceiver agent;
  agent.set_script([](const ReceivedRequest&, size_t) {
    return ScriptedReply::ok(container_reply("ASIAECS", "2023-11-14T23:13:20Z"),
                             "application/json");
  });
  ASSERT_TRUE(agent.start());
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI",
      "http://localhost:" + std::to_string(agent.port()) + "/creds");
  set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic abc==");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  ASSERT_EQ(agent.request_count(), 1U);
  EXPECT_EQ(agent.requests()[0].header("Authorization"), "Basic abc==");
}

TEST_F(CredentialsTest, ContainerTokenWithALineBreakIsRefusedWithoutARequest) {
  TestHttpReceiver agent;
  ASSERT_TRUE(agent.start());
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url("/creds"));
  set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "token\r\nX-Injected: yes");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("Injected"), std::string::npos);
  EXPECT_EQ(agent.request_count(), 0U);
}

TEST_F(CredentialsTest, ContainerFullUriToAnotherHttpHostIsRefused) {
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://credentials.example.com/v1/credentials");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  // invalid_argument, not the unavailable a failed connection would give.
  EXPECT_EQ(c.status().code(), pipeline::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("credentials.example.com"), std::string::npos);
}

TEST_F(CredentialsTest, ContainerErrorReplies) {
  TestHttpReceiver agent;
  agent.set_script([](const ReceivedRequest&, size_t i) {
    if (i == 0) {
      return ScriptedReply{ScriptedReply::Kind::kRespond,
                           403,
                           "application/json",
                           {},
                           R"({"code":"AccessDenied","message":"bad token secret-tok"})"};
    }
    if (i == 1) {
      return ScriptedReply::status_only(503, "busy");
    }
    return ScriptedReply::ok(R"({"AccessKeyId":"ASIA","SecretAccessKey":"s"})", "application/json");
  });
  ASSERT_TRUE(agent.start());
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url("/creds"));
  set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-tok");
  AwsCredentialProvider provider(environment());
  const auto denied = provider.get();
  ASSERT_FALSE(denied.is_ok());
  EXPECT_EQ(denied.status().code(), pipeline::StatusCode::kFailedPrecondition);
  EXPECT_NE(denied.status().message().find("HTTP 403: AccessDenied"), std::string::npos)
      << denied.status().message();
  EXPECT_EQ(denied.status().message().find("secret-tok"), std::string::npos);
  EXPECT_EQ(provider.get().status().code(), pipeline::StatusCode::kUnavailable);
  const auto partial = provider.get();
  EXPECT_EQ(partial.status().code(), pipeline::StatusCode::kDataLoss);
  EXPECT_NE(partial.status().message().find("Token"), std::string::npos);
}

TEST(ContainerCredentialsUrl, RelativeUriGoesToTheEcsAgent) {
  auto url = container_credentials_url("/v2/credentials/0123-abcd", "");
  ASSERT_TRUE(url.is_ok());
  EXPECT_EQ(*url, "http://169.254.170.2/v2/credentials/0123-abcd");
  url = container_credentials_url("v2/credentials", "");
  ASSERT_TRUE(url.is_ok());
  EXPECT_EQ(*url, "http://169.254.170.2/v2/credentials");
  // The relative URI wins over the full one, as in botocore.
  url = container_credentials_url("/rel", "http://127.0.0.1:1234/full");
  ASSERT_TRUE(url.is_ok());
  EXPECT_EQ(*url, "http://169.254.170.2/rel");
  EXPECT_EQ(container_credentials_url("", "").status().code(), pipeline::StatusCode::kNotFound);
}

TEST(ContainerCredentialsUrl, FullUriAllowList) {
  for (const char* allowed :
       {"http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials",
        "http://169.254.170.2/creds", "http://127.0.0.1:8080/creds", "http://127.1.2.3/creds",
        "http://localhost/creds", "http://LOCALHOST:80/creds", "http://[::1]:9000/creds",
        "https://creds.example.com/anything", "HTTP://127.0.0.1/creds"}) {
    const auto url = container_credentials_url("", allowed);
    ASSERT_TRUE(url.is_ok()) << allowed << ": " << url.status().to_string();
    EXPECT_EQ(*url, allowed);
  }
  for (const char* refused :
       {"http://169.254.169.254/latest/meta-data", "http://169.254.170.3/creds",
        "http://10.0.0.1/creds", "http://example.com/creds", "http://127.0.0.1@evil.example/creds",
        "http://localhost.evil.example/creds", "http://[fd00:ec2::254]/creds",
        "ftp://127.0.0.1/creds", "127.0.0.1/creds", "http:///creds", "http://[::1/creds",
        "http://128.0.0.1/creds"}) {
    const auto url = container_credentials_url("", refused);
    ASSERT_FALSE(url.is_ok()) << refused;
    EXPECT_EQ(url.status().code(), pipeline::StatusCode::kInvalidArgument) << refused;
  }
}

// ---------------------------------------------------------------------------------------------
// Order and endpoints
// ---------------------------------------------------------------------------------------------

TEST_F(CredentialsTest, WebIdentityBeatsSharedFilesAndSharedFilesBeatContainer) {
  TestHttpReceiver sts;
  sts.set_script([](const ReceivedRequest&, size_t) {
    return ScriptedReply::ok(sts_reply("ASIAIRSA", "s", "t", "2023-11-14T23:13:20Z"), "text/xml");
  });
  ASSERT_TRUE(sts.start());
  TestHttpReceiver agent;
  ASSERT_TRUE(agent.start());
  home_file("credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url("/creds"));
  {
    AwsCredentialProvider provider(environment());
    const auto c = provider.get();
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    EXPECT_EQ(c->access_key_id, "AKIAFILE");
    EXPECT_EQ(provider.source(), "shared_file");
  }
  use_web_identity(sts, "jwt");
  AwsCredentialProvider provider(environment());
  const auto c = provider.get();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->access_key_id, "ASIAIRSA");
  EXPECT_EQ(provider.source(), "web_identity");
  EXPECT_EQ(sts.request_count(), 1U);
  EXPECT_EQ(agent.request_count(), 0U);
}

TEST_F(CredentialsTest, CredentialsSourceSharesTheProvider) {
  set("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENV");
  set("AWS_SECRET_ACCESS_KEY", "env-secret");
  auto provider = std::make_shared<AwsCredentialProvider>(environment());
  const auto source = credentials_source(provider);
  const auto c = source();
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->access_key_id, "AKIAENVENVENVENV");
  EXPECT_EQ(provider->source(), "environment");
}

TEST_F(CredentialsTest, StsEndpointResolution) {
  CredentialEnvironment env = environment();
  auto endpoint = [&](std::string_view region) {
    const auto e = sts_endpoint(env, region);
    return e.is_ok() ? *e : e.status().to_string();
  };
  EXPECT_EQ(endpoint("eu-central-1"), "https://sts.eu-central-1.amazonaws.com");
  EXPECT_EQ(endpoint("cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(endpoint("us-gov-west-1"), "https://sts.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(endpoint(""), "https://sts.amazonaws.com");
  EXPECT_FALSE(sts_endpoint(env, "us-east-1/evil").is_ok());
  set("AWS_ENDPOINT_URL", "http://all.local:1");
  EXPECT_EQ(endpoint("eu-central-1"), "http://all.local:1");
  set("AWS_ENDPOINT_URL_STS", "http://sts.local:2");
  EXPECT_EQ(endpoint("eu-central-1"), "http://sts.local:2");
  set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
  EXPECT_EQ(endpoint("eu-central-1"), "https://sts.eu-central-1.amazonaws.com");
  env.sts_endpoint = "http://explicit.local:3";
  EXPECT_EQ(endpoint("eu-central-1"), "http://explicit.local:3");
}

TEST_F(CredentialsTest, StsRegionOrder) {
  CredentialEnvironment env = environment();
  EXPECT_EQ(sts_region(env), "");
  home_file("config", "[default]\nregion = ap-south-1\n[profile other]\nregion = sa-east-1\n");
  EXPECT_EQ(sts_region(env), "ap-south-1");
  set("AWS_PROFILE", "other");
  EXPECT_EQ(sts_region(env), "sa-east-1");
  env.region = "eu-west-3";
  EXPECT_EQ(sts_region(env), "eu-west-3");
  set("AWS_DEFAULT_REGION", "eu-north-1");
  EXPECT_EQ(sts_region(env), "eu-north-1");
  set("AWS_REGION", "eu-south-2");
  EXPECT_EQ(sts_region(env), "eu-south-2");
}

TEST_F(CredentialsTest, ProviderPostsToTheExplicitEndpointFirst) {
  // Two endpoints where nothing listens: the error names the one that was tried.
  std::string env_url;
  std::string explicit_url;
  {
    TestHttpReceiver a;
    TestHttpReceiver b;
    ASSERT_TRUE(a.start() && b.start());
    env_url = a.url();
    explicit_url = b.url("/explicit");
  }
  set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/tw-actions");
  set("AWS_WEB_IDENTITY_TOKEN_FILE", write("irsa/token", "jwt"));
  set("AWS_ENDPOINT_URL_STS", env_url);
  CredentialEnvironment env = environment();
  {
    AwsCredentialProvider provider(env);
    const auto c = provider.get();
    ASSERT_FALSE(c.is_ok());
    EXPECT_EQ(c.status().code(), pipeline::StatusCode::kUnavailable);
    EXPECT_NE(c.status().message().find("at " + env_url), std::string::npos)
        << c.status().message();
  }
  env.sts_endpoint = explicit_url;
  AwsCredentialProvider provider(env);
  const auto c = provider.get();
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("at " + explicit_url + "/"), std::string::npos)
      << c.status().message();
}

}  // namespace
}  // namespace tw::connectors
