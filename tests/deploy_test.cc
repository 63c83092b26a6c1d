// deploy/: the Kubernetes manifest carries a configuration that `trailwatch validate` accepts, and
// the manifest, the configuration and the image agree on where things are (config path, port,
// scale-out with the Kafka store). The image is not built here (no container runtime).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "app/config_check.h"

namespace tw::testing {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The literal block `KEY: |` of the manifest: the following lines indented deeper than the key,
// with that indentation removed.
std::string literal_block(const std::string& yaml, const std::string& key) {
  std::istringstream in(yaml);
  std::string line;
  size_t key_indent = std::string::npos;
  size_t block_indent = std::string::npos;
  std::string out;
  while (std::getline(in, line)) {
    const size_t indent = line.find_first_not_of(' ');
    if (key_indent == std::string::npos) {
      if (indent != std::string::npos && line.substr(indent) == key + ": |") {
        key_indent = indent;
      }
      continue;
    }
    if (indent == std::string::npos) {
      out += "\n";
      continue;
    }
    if (indent <= key_indent) {
      break;
    }
    if (block_indent == std::string::npos) {
      block_indent = indent;
    }
    out += line.substr(std::min(block_indent, indent)) + "\n";
  }
  return out;
}

class Deploy : public ::testing::Test {
 protected:
  const fs::path source_ = fs::path(TW_SOURCE_DIR);
  const std::string manifest_ = read_file(source_ / "deploy" / "kubernetes" / "trailwatch.yaml");
  const std::string dockerfile_ = read_file(source_ / "deploy" / "Dockerfile");
};

TEST_F(Deploy, TheManifestsConfigurationValidatesAndScalesOut) {
  const std::string config = literal_block(manifest_, "trailwatch.json");
  ASSERT_FALSE(config.empty()) << "no trailwatch.json block in the ConfigMap";
  const fs::path path = fs::temp_directory_path() / "trailwatch_deploy_test.json";
  std::ofstream(path) << config;
  const app::CheckedConfig checked = app::load_checked_config(path.string());
  fs::remove(path);
  ASSERT_TRUE(checked.ok()) << (checked.problems.empty() ? "" : checked.problems[0].to_string());
  const pipeline::Settings& settings = checked.config->settings;
  EXPECT_TRUE(settings.state.scale_out);
  EXPECT_EQ(settings.state.store, pipeline::StateConfig::Store::kKafka);
  EXPECT_EQ(settings.http_listen, ":9464");
}

TEST_F(Deploy, TheDeploymentTheConfigurationAndTheImageAgree) {
  // The configuration is mounted where the container's command reads it, in the manifest and
  // in the image's default command.
  EXPECT_NE(manifest_.find("mountPath: /etc/trailwatch,"), std::string::npos);
  EXPECT_NE(manifest_.find(R"(args: ["run", "--config", "/etc/trailwatch/trailwatch.json"])"),
            std::string::npos);
  EXPECT_NE(dockerfile_.find(R"(CMD ["run", "--config", "/etc/trailwatch/trailwatch.json"])"),
            std::string::npos);
  // Probes and scraping on the port the configuration listens on.
  EXPECT_NE(manifest_.find("containerPort: 9464"), std::string::npos);
  EXPECT_NE(manifest_.find("path: /healthz"), std::string::npos);
  EXPECT_NE(manifest_.find("path: /readyz"), std::string::npos);
  EXPECT_NE(dockerfile_.find("EXPOSE 9464"), std::string::npos);
  // The secret the configuration references is the one mounted.
  EXPECT_NE(manifest_.find("${file:/etc/trailwatch-secrets/password}"), std::string::npos);
  EXPECT_NE(manifest_.find("mountPath: /etc/trailwatch-secrets,"), std::string::npos);
  // The signing secret of the webhook target is in the mounted Secret too.
  EXPECT_NE(manifest_.find("${file:/etc/trailwatch-secrets/webhook-secret}"), std::string::npos);
  // The kubernetes_scale target may patch the scale subresource, as the pod's service account.
  EXPECT_NE(manifest_.find(R"("type": "kubernetes_scale")"), std::string::npos);
  EXPECT_NE(manifest_.find(R"(resources: ["deployments/scale", "statefulsets/scale"])"),
            std::string::npos);
  EXPECT_NE(manifest_.find("serviceAccountName: trailwatch"), std::string::npos);
  EXPECT_NE(manifest_.find("kind: ServiceAccount, name: trailwatch"), std::string::npos);
  // The runtime image carries the libraries of the action connectors.
  EXPECT_NE(dockerfile_.find("libcurl4"), std::string::npos);
  EXPECT_NE(dockerfile_.find("libssl3"), std::string::npos);
  // The user the image creates is the one the pod runs as.
  EXPECT_NE(dockerfile_.find("--uid 10001"), std::string::npos);
  EXPECT_NE(manifest_.find("runAsUser: 10001"), std::string::npos);
}

}  // namespace
}  // namespace tw::testing
