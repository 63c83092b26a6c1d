#include "connectors/kafka_properties.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace tw::connectors {
namespace {

using pipeline::StatusCode;

// NOLINTBEGIN(concurrency-mt-unsafe): the variables are set before any thread that reads the
// environment exists, and each test uses its own names.
void set_env(const char* name, const char* value) {
  ::setenv(name, value, 1);
}

void unset_env(const char* name) {
  ::unsetenv(name);
}

// NOLINTEND(concurrency-mt-unsafe)

StatusCode resolve_code(const std::string& name, const std::string& value) {
  return KafkaProperties{{name, value}}.resolve().status().code();
}

class KafkaPropertiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("kafka_properties_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(KafkaPropertiesTest, SetKeepsPositionAndDefaultsNeverOverride) {
  KafkaProperties properties = {{"bootstrap.servers", "a:9092"}, {"client.id", "tw"}};
  properties.set("bootstrap.servers", "b:9092");
  EXPECT_FALSE(properties.set_default("client.id", "other"));
  EXPECT_TRUE(properties.set_default("linger.ms", "5"));
  ASSERT_EQ(properties.size(), 3U);
  EXPECT_EQ(properties.entries()[0].name, "bootstrap.servers");
  EXPECT_EQ(properties.entries()[0].value, "b:9092");
  EXPECT_EQ(*properties.find("client.id"), "tw");
  EXPECT_EQ(*properties.find("linger.ms"), "5");
  EXPECT_TRUE(properties.erase("linger.ms"));
  EXPECT_FALSE(properties.erase("linger.ms"));
  EXPECT_EQ(properties.find("linger.ms"), nullptr);
}

TEST_F(KafkaPropertiesTest, ResolvesEnvironmentAndFileReferences) {
  set_env("TW_TEST_KAFKA_USER", "alice");
  set_env("TW_TEST_KAFKA_PASSWORD", "s3cr3t-env");
  const std::string key_file = write("key.pem", "s3cr3t-file\r\n\n");
  const KafkaProperties properties = {
      {"bootstrap.servers", "broker:9092"},
      {"sasl.username", "${env:TW_TEST_KAFKA_USER}"},
      {"sasl.password", "${env:TW_TEST_KAFKA_PASSWORD}"},
      {"ssl.key.pem", "${file:" + key_file + "}"},
      {"sasl.jaas.config",
       R"(user="${env:TW_TEST_KAFKA_USER}" pw="${env:TW_TEST_KAFKA_PASSWORD}")"},
      {"client.id", "cost $5, literal $${env:X}"},
  };
  const auto resolved = properties.resolve();
  ASSERT_TRUE(resolved.is_ok()) << resolved.status().to_string();
  EXPECT_EQ(*resolved->find("sasl.username"), "alice");
  EXPECT_EQ(*resolved->find("sasl.password"), "s3cr3t-env");
  EXPECT_EQ(*resolved->find("ssl.key.pem"), "s3cr3t-file");
  EXPECT_EQ(*resolved->find("sasl.jaas.config"), R"(user="alice" pw="s3cr3t-env")");
  EXPECT_EQ(*resolved->find("client.id"), "cost $5, literal ${env:X}");
  EXPECT_FALSE(resolved->entries()[0].from_reference);
  EXPECT_TRUE(resolved->entries()[1].from_reference);
  EXPECT_FALSE(resolved->entries()[5].from_reference);

  // A resolved secret is never taken for a reference again, whatever it contains.
  set_env("TW_TEST_KAFKA_TRICKY", "${env:UNSET_TW_VARIABLE}");
  const KafkaProperties tricky = {{"sasl.password", "${env:TW_TEST_KAFKA_TRICKY}"}};
  const auto once = tricky.resolve();
  ASSERT_TRUE(once.is_ok()) << once.status().to_string();
  const auto twice = once->resolve();
  ASSERT_TRUE(twice.is_ok()) << twice.status().to_string();
  EXPECT_EQ(*twice->find("sasl.password"), "${env:UNSET_TW_VARIABLE}");
}

TEST_F(KafkaPropertiesTest, ErrorsNameThePropertyAndReferenceButNeverTheSecret) {
  unset_env("TW_TEST_KAFKA_UNSET");
  auto status = KafkaProperties{{"sasl.password", "${env:TW_TEST_KAFKA_UNSET}"}}.resolve().status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("sasl.password"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("${env:TW_TEST_KAFKA_UNSET}"), std::string::npos);

  status = KafkaProperties{{"ssl.key.pem", "${file:" + (dir_ / "missing").string() + "}"}}
               .resolve()
               .status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("ssl.key.pem"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("missing"), std::string::npos);

  // A later reference fails after an earlier one in the same value resolved: the message must
  // not carry the part already resolved.
  set_env("TW_TEST_KAFKA_SET", "first-secret");
  status = KafkaProperties{{"sasl.jaas.config", "a=${env:TW_TEST_KAFKA_SET} b=${vault:x}"}}
               .resolve()
               .status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("${vault:x}"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("first-secret"), std::string::npos) << status.message();

  EXPECT_EQ(resolve_code("client.id", "x${env:OPEN"), StatusCode::kInvalidArgument);
  EXPECT_EQ(resolve_code("client.id", "${env:1BAD}"), StatusCode::kInvalidArgument);
  EXPECT_EQ(resolve_code("client.id", "${file:}"), StatusCode::kInvalidArgument);

  const std::string big = write("big", std::string((1 << 20) + 1, 'x'));
  EXPECT_EQ(resolve_code("ssl.key.pem", "${file:" + big + "}"), StatusCode::kOutOfRange);
}

TEST_F(KafkaPropertiesTest, RedactsSensitiveNamesAndEveryResolvedValue) {
  set_env("TW_TEST_KAFKA_CLIENT", "client-from-env");
  const KafkaProperties properties = {
      {"bootstrap.servers", "broker:9092"},
      {"SASL.Password", "plain-password"},
      {"ssl.key.password", "k"},
      {"ssl.ca.location", "/etc/ca.pem"},
      {"ssl.keystore.location", "/etc/ks.p12"},
      {"sasl.oauthbearer.client.secret", "cs"},
      {"sasl.oauthbearer.token.endpoint.url", "https://idp/token"},
      {"sasl.jaas.config", "jaas"},
      {"client.id", "${env:TW_TEST_KAFKA_CLIENT}"},
  };
  // Unresolved references are not secrets and are shown as written, to help debugging.
  EXPECT_EQ(*properties.redacted().find("client.id"), "${env:TW_TEST_KAFKA_CLIENT}");

  const auto resolved = properties.resolve();
  ASSERT_TRUE(resolved.is_ok()) << resolved.status().to_string();
  const KafkaProperties shown = resolved->redacted();
  EXPECT_EQ(*shown.find("bootstrap.servers"), "broker:9092");
  EXPECT_EQ(*shown.find("SASL.Password"), "[redacted]");
  EXPECT_EQ(*shown.find("ssl.key.password"), "[redacted]");
  EXPECT_EQ(*shown.find("ssl.ca.location"), "/etc/ca.pem");
  // The rule is a substring match, so "ssl.keystore..." is hidden too: hiding a path costs a
  // little debugging, showing a key costs more.
  EXPECT_EQ(*shown.find("ssl.keystore.location"), "[redacted]");
  EXPECT_EQ(*shown.find("sasl.oauthbearer.client.secret"), "[redacted]");
  EXPECT_EQ(*shown.find("sasl.oauthbearer.token.endpoint.url"), "[redacted]");
  EXPECT_EQ(*shown.find("sasl.jaas.config"), "[redacted]");
  EXPECT_EQ(*shown.find("client.id"), "[redacted]");

  const std::string line = resolved->to_redacted_string();
  EXPECT_EQ(line.find("plain-password"), std::string::npos) << line;
  EXPECT_EQ(line.find("client-from-env"), std::string::npos) << line;
  EXPECT_NE(line.find("bootstrap.servers=broker:9092, SASL.Password=[redacted]"), std::string::npos)
      << line;
}

}  // namespace
}  // namespace tw::connectors
