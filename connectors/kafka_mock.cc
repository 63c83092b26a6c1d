#include "connectors/kafka_mock.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>

namespace tw::connectors {

using pipeline::Result;
using pipeline::Status;

namespace {

constexpr int kMaxBrokers = 64;
constexpr int kMaxPartitions = 10000;

Status from_mock(rd_kafka_resp_err_t error, const std::string& what) {
  const std::string message = what + ": " + rd_kafka_err2str(error);
  switch (error) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return Status::ok();
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return pipeline::failed_precondition(message);
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      return pipeline::not_found(message);
    default:
      return pipeline::internal_error(message);
  }
}

}  // namespace

// The cluster lives inside a librdkafka handle that does nothing else; the handle must outlive
// the cluster.
struct MockKafkaCluster::Handles {
  Handles() = default;

  ~Handles() {
    if (cluster != nullptr) {
      rd_kafka_mock_cluster_destroy(cluster);
    }
    if (host != nullptr) {
      rd_kafka_destroy(host);
    }
  }

  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
  Handles(Handles&&) = delete;
  Handles& operator=(Handles&&) = delete;

  rd_kafka_t* host = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
};

MockKafkaCluster::MockKafkaCluster(std::unique_ptr<Handles> handles, int brokers,
                                   std::string bootstraps)
    : handles_(std::move(handles)), brokers_(brokers), bootstraps_(std::move(bootstraps)) {
}

MockKafkaCluster::~MockKafkaCluster() = default;

Result<std::unique_ptr<MockKafkaCluster>> MockKafkaCluster::create(int brokers) {
  if (brokers < 1 || brokers > kMaxBrokers) {
    return pipeline::invalid_argument("a mock Kafka cluster has 1 to " +
                                      std::to_string(kMaxBrokers) + " brokers, not " +
                                      std::to_string(brokers));
  }
  auto handles = std::make_unique<Handles>();
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The host handle never connects anywhere; only warnings and errors of the mock are worth a
  // line on standard error.
  if (rd_kafka_conf_set(conf, "log_level", "4", error.data(), error.size()) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return pipeline::internal_error(std::string("mock Kafka host: ") + error.data());
  }
  // rd_kafka_new takes ownership of conf only on success.
  handles->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
  if (handles->host == nullptr) {
    rd_kafka_conf_destroy(conf);
    return pipeline::internal_error(std::string("mock Kafka host: ") + error.data());
  }
  handles->cluster = rd_kafka_mock_cluster_new(handles->host, brokers);
  if (handles->cluster == nullptr) {
    return pipeline::internal_error("librdkafka could not start a mock Kafka cluster");
  }
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(handles->cluster);
  return std::unique_ptr<MockKafkaCluster>(
      new MockKafkaCluster(std::move(handles), brokers, std::move(bootstraps)));
}

Status MockKafkaCluster::check_broker(int32_t id) const {
  if (id < 1 || id > brokers_) {
    return pipeline::invalid_argument("broker " + std::to_string(id) + " does not exist (1.." +
                                      std::to_string(brokers_) + ")");
  }
  return Status::ok();
}

Status MockKafkaCluster::create_topic(std::string_view name, int partitions, int replication) {
  if (name.empty()) {
    return pipeline::invalid_argument("a topic needs a name");
  }
  if (partitions < 1 || partitions > kMaxPartitions) {
    return pipeline::invalid_argument("topic '" + std::string(name) + "': 1 to " +
                                      std::to_string(kMaxPartitions) + " partitions, not " +
                                      std::to_string(partitions));
  }
  if (replication < 1 || replication > brokers_) {
    return pipeline::invalid_argument("topic '" + std::string(name) + "': replication 1 to " +
                                      std::to_string(brokers_) + ", not " +
                                      std::to_string(replication));
  }
  return from_mock(rd_kafka_mock_topic_create(handles_->cluster, std::string(name).c_str(),
                                              partitions, replication),
                   "cannot create topic '" + std::string(name) + "'");
}

Status MockKafkaCluster::set_broker_down(int32_t id) {
  TW_RETURN_IF_ERROR(check_broker(id));
  return from_mock(rd_kafka_mock_broker_set_down(handles_->cluster, id),
                   "cannot take broker " + std::to_string(id) + " down");
}

Status MockKafkaCluster::set_broker_up(int32_t id) {
  TW_RETURN_IF_ERROR(check_broker(id));
  return from_mock(rd_kafka_mock_broker_set_up(handles_->cluster, id),
                   "cannot bring broker " + std::to_string(id) + " up");
}

Status MockKafkaCluster::set_partition_leader(std::string_view topic, int32_t partition,
                                              int32_t broker) {
  if (broker != -1) {
    TW_RETURN_IF_ERROR(check_broker(broker));
  }
  return from_mock(
      rd_kafka_mock_partition_set_leader(handles_->cluster, std::string(topic).c_str(), partition,
                                         broker),
      "cannot move the leader of " + std::string(topic) + "[" + std::to_string(partition) + "]");
}

Status MockKafkaCluster::set_group_coordinator(std::string_view group, int32_t broker) {
  TW_RETURN_IF_ERROR(check_broker(broker));
  return from_mock(
      rd_kafka_mock_coordinator_set(handles_->cluster, "group", std::string(group).c_str(), broker),
      "cannot set the coordinator of group '" + std::string(group) + "'");
}

void MockKafkaCluster::push_request_errors(KafkaApiKey api,
                                           const std::vector<KafkaErrorCode>& errors) {
  std::vector<rd_kafka_resp_err_t> codes;
  codes.reserve(errors.size());
  for (const KafkaErrorCode error : errors) {
    codes.push_back(static_cast<rd_kafka_resp_err_t>(error));
  }
  rd_kafka_mock_push_request_errors_array(handles_->cluster, static_cast<int16_t>(api),
                                          codes.size(), codes.data());
}

void MockKafkaCluster::clear_request_errors(KafkaApiKey api) {
  rd_kafka_mock_clear_request_errors(handles_->cluster, static_cast<int16_t>(api));
}

}  // namespace tw::connectors
