// A real Prometheus server (Debian's /usr/bin/prometheus) scrapes an HttpServer's /metrics
// endpoint, and a running `trailwatch run` worker's (on a mock Kafka cluster); the test reads the
// scraped series back through Prometheus's query API. This checks
// what a unit test cannot: that Prometheus accepts our content type and exposition text, and
// attaches the job and instance labels to the series we export.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "connectors/http_server.h"
#include "connectors/kafka.h"
#include "connectors/kafka_mock.h"
#include "tests/child_process.h"
#include "tests/http_test_client.h"

namespace tw {
namespace {

using testing::ChildProcess;
using testing::free_loopback_port;
using testing::TempDir;

using namespace std::chrono_literals;

constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";
constexpr auto kDeadline = 60s;
constexpr auto kPollInterval = 200ms;

std::string percent_encode(std::string_view text) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0xFU]);
    }
  }
  return out;
}

/// One series of an instant-query result: its labels and its value as Prometheus prints it.
struct Sample {
  std::map<std::string, std::string> labels;
  std::string value;
};

/// Runs an instant query; nullopt while Prometheus is not answering yet or answers an error.
std::optional<std::vector<Sample>> instant_query(int prometheus_port, std::string_view promql) {
  const auto reply = testing::http_get("http://127.0.0.1:" + std::to_string(prometheus_port) +
                                       "/api/v1/query?query=" + percent_encode(promql));
  if (reply.code != CURLE_OK || reply.status != 200) {
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || json.value("status", "") != "success") {
    return std::nullopt;
  }
  std::vector<Sample> samples;
  for (const auto& item : json["data"]["result"]) {
    Sample sample;
    for (const auto& [key, value] : item["metric"].items()) {
      sample.labels[key] = value.get<std::string>();
    }
    sample.value = item["value"][1].get<std::string>();
    samples.push_back(std::move(sample));
  }
  return samples;
}

class PrometheusScrapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kPrometheusBinary)) {
      GTEST_SKIP() << kPrometheusBinary
                   << " is not installed (Debian package `prometheus`, listed in "
                      "scripts/install-deps.sh); skipping the real-Prometheus scrape test";
    }
    ASSERT_FALSE(dir_.path().empty()) << "cannot create a temporary directory";
  }

  /// Polls `promql` until `accept` holds for its result or the deadline passes; returns whether
  /// it held. Fails early, with Prometheus's log, if Prometheus exits.
  bool wait_for(std::string_view promql,
                const std::function<bool(const std::vector<Sample>&)>& accept, std::string& last) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!prometheus_.alive()) {
        ADD_FAILURE() << "prometheus exited early; its log:\n" << prometheus_.log_tail();
        return false;
      }
      const auto samples = instant_query(prometheus_port_, promql);
      if (samples.has_value()) {
        last = describe(*samples);
        if (accept(*samples)) {
          return true;
        }
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    return false;
  }

  /// Starts Prometheus on a free loopback port, scraping `target` (HOST:PORT) every second as
  /// job "trailwatch".
  void start_prometheus(const std::string& target) {
    const auto config = dir_.path() / "prometheus.yml";
    std::ofstream(config) << "global:\n"
                             "  scrape_interval: 1s\n"
                             "  scrape_timeout: 1s\n"
                             "scrape_configs:\n"
                             "  - job_name: trailwatch\n"
                             "    static_configs:\n"
                             "      - targets: ['"
                          << target << "']\n";
    prometheus_port_ = free_loopback_port();
    ASSERT_GT(prometheus_port_, 0);
    const std::string spawn_error =
        prometheus_.start({kPrometheusBinary, "--config.file=" + config.string(),
                           "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                           "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_)},
                          dir_.path() / "prometheus.log");
    ASSERT_EQ(spawn_error, "");
  }

  static std::string describe(const std::vector<Sample>& samples) {
    std::string text;
    for (const auto& sample : samples) {
      text += "{";
      for (const auto& [key, value] : sample.labels) {
        text.append(key).append("=\"").append(value).append("\",");
      }
      text.append("} ").append(sample.value).append("\n");
    }
    return text.empty() ? "(no series)" : text;
  }

  TempDir dir_;
  ChildProcess prometheus_;
  int prometheus_port_ = 0;
};

TEST_F(PrometheusScrapeTest, PrometheusScrapesTheMetricsEndpoint) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& records = prometheus::BuildCounter()
                      .Name("trailwatch_test_records_total")
                      .Help("Records read by the scrape test, by input.")
                      .Register(*registry)
                      .Add({{"input", "a"}});
  records.Increment(42);

  connectors::HttpServer server(connectors::HttpServerOptions{.listen_address = "127.0.0.1:0"});
  ASSERT_TRUE(server.add_handler("/metrics", connectors::metrics_handler({registry})).is_ok());
  const auto started = server.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  const std::string target = "127.0.0.1:" + std::to_string(server.port());

  start_prometheus(target);
  ASSERT_FALSE(HasFatalFailure());

  const auto has_value = [&](const std::string& value) {
    return [&target, value](const std::vector<Sample>& samples) {
      if (samples.size() != 1 || samples[0].value != value) {
        return false;
      }
      const auto& labels = samples[0].labels;
      const auto job = labels.find("job");
      const auto instance = labels.find("instance");
      return job != labels.end() && job->second == "trailwatch" && instance != labels.end() &&
             instance->second == target;
    };
  };
  std::string last;
  ASSERT_TRUE(wait_for("trailwatch_test_records_total", has_value("42"), last))
      << "last answer: " << last << "\nprometheus log:\n"
      << prometheus_.log_tail();
  const auto series = instant_query(prometheus_port_, "trailwatch_test_records_total");
  ASSERT_TRUE(series.has_value() && series->size() == 1);
  EXPECT_EQ((*series)[0].labels,
            (std::map<std::string, std::string>{{"__name__", "trailwatch_test_records_total"},
                                                {"input", "a"},
                                                {"instance", target},
                                                {"job", "trailwatch"}}));

  EXPECT_TRUE(wait_for("up{job=\"trailwatch\"}", has_value("1"), last)) << "last answer: " << last;

  // Later scrapes see the counter move: each scrape collects the registry afresh.
  records.Increment(8);
  EXPECT_TRUE(wait_for("trailwatch_test_records_total", has_value("50"), last))
      << "last answer: " << last;
}

TEST_F(PrometheusScrapeTest, PrometheusScrapesARunningWorker) {
  // The quickstart on a local Kafka cluster (librdkafka's mock), consumed by the real
  // `trailwatch run` binary, scraped by the real Prometheus.
  auto cluster = connectors::MockKafkaCluster::create(1);
  ASSERT_TRUE(cluster.is_ok()) << cluster.status().message();
  ASSERT_TRUE(cluster.value()->create_topic("metrics", 3, 1).is_ok());
  ASSERT_TRUE(cluster.value()->create_topic("alarm-events", 1, 1).is_ok());
  const std::string bootstraps = cluster.value()->bootstraps();
  auto producer = connectors::KafkaProducer::create({{"bootstrap.servers", bootstraps}});
  ASSERT_TRUE(producer.is_ok()) << producer.status().message();
  const std::filesystem::path source(TW_SOURCE_DIR);
  std::ifstream lines(source / "quickstart" / "metrics.jsonl");
  int produced = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) {
      ASSERT_TRUE(producer.value()->produce("metrics", "", line).is_ok());
      ++produced;
    }
  }
  ASSERT_TRUE(producer.value()->flush(std::chrono::seconds(30)).is_ok());

  std::stringstream live;
  live << std::ifstream(source / "quickstart" / "live.json").rdbuf();
  nlohmann::json config = nlohmann::json::parse(live.str());
  config["trailwatch"]["kafka"] = {{"bootstrap.servers", bootstraps},
                                   {"session.timeout.ms", "6000"},
                                   {"heartbeat.interval.ms", "500"}};
  config["trailwatch"]["http_listen"] = "127.0.0.1:0";
  config["trailwatch"]["state"] = {{"store", "none"}};
  const auto config_path = dir_.path() / "live.json";
  std::ofstream(config_path) << config.dump(2);
  ChildProcess worker;
  const auto worker_log = dir_.path() / "worker.log";
  ASSERT_EQ(worker.start({std::string(TW_BINARY_DIR) + "/app/trailwatch", "run", "--config",
                          config_path.string()},
                         worker_log),
            "");
  int port = 0;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  const std::string marker = "http endpoint on port ";
  while (port == 0 && std::chrono::steady_clock::now() < deadline && worker.alive()) {
    std::stringstream text;
    text << std::ifstream(worker_log).rdbuf();
    if (const size_t at = text.str().find(marker); at != std::string::npos) {
      port = std::stoi(text.str().substr(at + marker.size()));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  ASSERT_GT(port, 0) << worker.log_tail();
  const std::string target = "127.0.0.1:" + std::to_string(port);
  start_prometheus(target);
  ASSERT_FALSE(HasFatalFailure());

  // Prometheus has the worker's own series: every record read, and alarms in ALARM (the
  // quickstart ends with web-2's heartbeat missing, so at least that alarm fires).
  std::string last;
  const std::string all = std::to_string(produced);
  EXPECT_TRUE(wait_for(R"(trailwatch_records_total{job="trailwatch",input="metric-stream"})",
                       [&](const std::vector<Sample>& samples) {
                         return samples.size() == 1 && samples[0].value == all &&
                                samples[0].labels.at("instance") == target;
                       },
                       last))
      << "last answer: " << last << "\nworker log:\n"
      << worker.log_tail() << "\nprometheus log:\n"
      << prometheus_.log_tail();
  EXPECT_TRUE(wait_for(R"(trailwatch_alarms{job="trailwatch",state="ALARM"} >= 1)",
                       [](const std::vector<Sample>& samples) { return samples.size() == 1; },
                       last))
      << "last answer: " << last;
  EXPECT_TRUE(wait_for(R"(trailwatch_evaluation_latency_seconds_count{job="trailwatch"} > 0)",
                       [](const std::vector<Sample>& samples) { return samples.size() == 1; },
                       last))
      << "last answer: " << last;
}

}  // namespace
}  // namespace tw
