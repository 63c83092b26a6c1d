#include "connectors/kafka.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <limits>
#include <thread>
#include <utility>

namespace tw::connectors {

using pipeline::Result;
using pipeline::Status;
using Clock = std::chrono::steady_clock;

namespace {

// seek() waits this long for librdkafka's main thread to apply it; it is a local operation, so
// only an overloaded process comes near.
constexpr int kSeekTimeoutMs = 10000;
constexpr std::chrono::milliseconds kMaxCommitBackoff{1000};
// How long the producer's destructor lets librdkafka hand back purged messages.
constexpr int kDestroyFlushMs = 1000;

int to_ms(std::chrono::milliseconds duration) {
  const auto count = std::clamp<int64_t>(duration.count(), 0, std::numeric_limits<int>::max());
  return static_cast<int>(count);
}

int remaining_ms(Clock::time_point deadline) {
  return to_ms(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

std::string describe(RdKafka::ErrorCode code) {
  return RdKafka::err2str(code) + " (" + std::to_string(static_cast<int>(code)) + ")";
}

// Errors after which the same request may succeed: the coordinator moving or loading, a
// rebalance finishing, a connection coming back.
bool is_retriable_commit_error(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR_REBALANCE_IN_PROGRESS:
    case RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_COORDINATOR:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR_NETWORK_EXCEPTION:
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__WAIT_COORD:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR__RETRY:
      return true;
    default:
      return false;
  }
}

Status delivery_status(RdKafka::ErrorCode code, const std::string& what) {
  switch (code) {
    case RdKafka::ERR__MSG_TIMED_OUT:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR__PURGE_QUEUE:
    case RdKafka::ERR__PURGE_INFLIGHT:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR_NETWORK_EXCEPTION:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return pipeline::unavailable(what);
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR__UNKNOWN_PARTITION:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_INVALID_RECORD:
      return pipeline::invalid_argument(what);
    default:
      return pipeline::internal_error(what);
  }
}

// librdkafka quotes configuration values in some of its messages; a secret must not reach a log
// that way.
std::string scrub(std::string text, const KafkaProperties& resolved) {
  for (const KafkaProperties::Entry& entry : resolved.entries()) {
    if (entry.value.empty() || !KafkaProperties::is_sensitive(entry)) {
      continue;
    }
    for (size_t pos = text.find(entry.value); pos != std::string::npos;
         pos = text.find(entry.value, pos + KafkaProperties::kRedacted.size())) {
      text.replace(pos, entry.value.size(), KafkaProperties::kRedacted);
    }
  }
  return text;
}

std::string fatal_error_text(RdKafka::Handle& handle) {
  std::string text;
  const RdKafka::ErrorCode code = handle.fatal_error(text);
  return describe(code) + ": " + text;
}

// Receives librdkafka's events. Logs come from librdkafka's threads; errors come from poll on the
// owner's thread.
class EventHandler final : public RdKafka::EventCb {
 public:
  explicit EventHandler(KafkaLogFunction log) : log_(std::move(log)) {}

  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_LOG:
        if (log_) {
          log_(static_cast<int>(event.severity()), event.fac(), event.str());
        } else {
          std::fprintf(stderr, "rdkafka %d %s: %s\n", static_cast<int>(event.severity()),
                       event.fac().c_str(), event.str().c_str());
        }
        break;
      case RdKafka::Event::EVENT_ERROR:
        record_error(describe(event.err()) + ": " + event.str());
        break;
      default:
        break;
    }
  }

  // Errors reach the owner's thread either as events or, for a consumer, as error messages from
  // consume(); both are counted here.
  void record_error(std::string text) {
    ++errors_;
    last_error_ = std::move(text);
  }

  [[nodiscard]] uint64_t errors() const { return errors_; }

  [[nodiscard]] const std::string& last_error() const { return last_error_; }

 private:
  KafkaLogFunction log_;
  uint64_t errors_ = 0;
  std::string last_error_;
};

// Builds a librdkafka configuration from resolved properties plus callbacks.
Result<std::unique_ptr<RdKafka::Conf>> make_conf(const KafkaProperties& resolved,
                                                 EventHandler* events) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const KafkaProperties::Entry& entry : resolved.entries()) {
    if (conf->set(entry.name, entry.value, error) == RdKafka::Conf::CONF_OK) {
      continue;
    }
    if (KafkaProperties::is_sensitive(entry)) {
      return pipeline::invalid_argument("property '" + entry.name +
                                        "': librdkafka rejects its value (not shown: sensitive)");
    }
    return pipeline::invalid_argument("property '" + entry.name + "': " + error);
  }
  if (conf->set("event_cb", events, error) != RdKafka::Conf::CONF_OK) {
    return pipeline::internal_error("cannot install the event callback: " + error);
  }
  return conf;
}

Status require_bootstrap(const KafkaProperties& properties) {
  if (!properties.contains("bootstrap.servers") && !properties.contains("metadata.broker.list")) {
    return pipeline::invalid_argument("property 'bootstrap.servers' is required");
  }
  return Status::ok();
}

std::vector<KafkaPartition> to_partitions(const std::vector<RdKafka::TopicPartition*>& list) {
  std::vector<KafkaPartition> out;
  out.reserve(list.size());
  for (const RdKafka::TopicPartition* tp : list) {
    out.push_back({tp->topic(), tp->partition()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Owns librdkafka TopicPartition objects for the duration of one call.
class PartitionList {
 public:
  PartitionList() = default;

  ~PartitionList() { RdKafka::TopicPartition::destroy(list_); }

  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  PartitionList(PartitionList&&) = delete;
  PartitionList& operator=(PartitionList&&) = delete;

  void add(const std::string& topic, int32_t partition, int64_t offset) {
    list_.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
  }

  std::vector<RdKafka::TopicPartition*>& list() { return list_; }

 private:
  std::vector<RdKafka::TopicPartition*> list_;
};

KafkaRecord to_record(const RdKafka::Message& message) {
  KafkaRecord record;
  record.topic = message.topic_name();
  record.partition = message.partition();
  record.offset = message.offset();
  if (message.key_pointer() != nullptr) {
    record.key.assign(static_cast<const char*>(message.key_pointer()), message.key_len());
  }
  if (message.payload() != nullptr) {
    record.value.assign(static_cast<const char*>(message.payload()), message.len());
  }
  const RdKafka::MessageTimestamp timestamp = message.timestamp();
  if (timestamp.type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE) {
    record.timestamp_ms = timestamp.timestamp;
  }
  return record;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// KafkaConsumer

struct KafkaConsumer::Impl final : public RdKafka::RebalanceCb {
  explicit Impl(KafkaConsumerOptions opts, KafkaRebalanceListener* rebalance_listener)
      : options(std::move(opts)), listener(rebalance_listener), events(options.log) {}

  ~Impl() override = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  // Runs inside consume() or close(), on the owner's thread. Eager protocol: librdkafka revokes
  // the whole assignment, then assigns the new one.
  void rebalance_cb(RdKafka::KafkaConsumer* handle, RdKafka::ErrorCode code,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    in_callback = true;
    if (code == RdKafka::ERR__ASSIGN_PARTITIONS) {
      ++stats.rebalances;
      assignment = to_partitions(partitions);
      pending_assignment = &partitions;
      notify([&] { listener->on_assigned(*owner, assignment); });
      pending_assignment = nullptr;
      if (const RdKafka::ErrorCode error = handle->assign(partitions);
          error != RdKafka::ERR_NO_ERROR) {
        deferred_error = pipeline::internal_error("cannot assign partitions: " + describe(error));
      } else if (options.membership_only) {
        (void)handle->pause(partitions);
      }
    } else {
      // ERR__REVOKE_PARTITIONS, or an assignment error, after which librdkafka's contract is to
      // drop the assignment too.
      const std::vector<KafkaPartition> revoked =
          code == RdKafka::ERR__REVOKE_PARTITIONS ? to_partitions(partitions) : assignment;
      if (code != RdKafka::ERR__REVOKE_PARTITIONS) {
        deferred_error = pipeline::internal_error("rebalance failed: " + describe(code));
      }
      if (!revoked.empty()) {
        notify([&] { listener->on_revoked(*owner, revoked); });
      }
      if (const RdKafka::ErrorCode error = handle->unassign(); error != RdKafka::ERR_NO_ERROR) {
        deferred_error = pipeline::internal_error("cannot unassign partitions: " + describe(error));
      }
      assignment.clear();
    }
    in_callback = false;
  }

  // The listener is the caller's code, called from inside librdkafka's C frames: an exception
  // must not unwind through them.
  template <typename Call>
  void notify(Call call) {
    if (listener == nullptr) {
      return;
    }
    try {
      call();
    } catch (const std::exception& e) {
      deferred_error =
          pipeline::internal_error(std::string("rebalance listener threw: ") + e.what());
    } catch (...) {
      deferred_error = pipeline::internal_error("rebalance listener threw");
    }
  }

  // Creates the librdkafka client from `conf`; its error is scrubbed of secrets. `what` names
  // it in the error ("consumer", "reader").
  Status create_client(RdKafka::Conf& conf, std::string_view what) {
    std::string error;
    client.reset(RdKafka::KafkaConsumer::create(&conf, error));
    if (client == nullptr) {
      return pipeline::invalid_argument("cannot create the Kafka " + std::string(what) + ": " +
                                        scrub(error, resolved));
    }
    return Status::ok();
  }

  [[nodiscard]] bool is_assigned(std::string_view topic, int32_t partition) const {
    return std::any_of(assignment.begin(), assignment.end(), [&](const KafkaPartition& p) {
      return p.topic == topic && p.partition == partition;
    });
  }

  KafkaConsumerOptions options;
  KafkaRebalanceListener* listener;
  KafkaConsumer* owner = nullptr;
  KafkaProperties resolved;
  EventHandler events;
  std::vector<KafkaPartition> assignment;
  // The list librdkafka is about to assign, while on_assigned runs: seek() edits its offsets.
  std::vector<RdKafka::TopicPartition*>* pending_assignment = nullptr;
  bool in_callback = false;
  bool closed = false;
  bool reader = false;  // create_reader: no group, assign() decides what is read.
  Status deferred_error;
  KafkaConsumerStats stats;
  // Last, so it is destroyed first: it calls back into the members above.
  std::unique_ptr<RdKafka::KafkaConsumer> client;
};

KafkaConsumer::KafkaConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
}

KafkaConsumer::~KafkaConsumer() {
  if (impl_ != nullptr && !impl_->closed) {
    (void)close();
  }
}

namespace {

// Properties every consumer of ours has, whether a group member or a reader.
Result<KafkaProperties> consumer_properties(const KafkaProperties& properties) {
  TW_RETURN_IF_ERROR(require_bootstrap(properties));
  TW_ASSIGN_OR_RETURN(KafkaProperties resolved, properties.resolve());
  // Offsets are stored and committed only by commit(): anything automatic could commit a record
  // whose effects are not durable yet.
  for (const char* name : {"enable.auto.commit", "enable.auto.offset.store"}) {
    if (const std::string* value = resolved.find(name); value != nullptr && *value != "false") {
      return pipeline::invalid_argument("property '" + std::string(name) +
                                        "': must be false; this consumer commits explicitly");
    }
    resolved.set_default(name, "false");
  }
  resolved.set_default("auto.offset.reset", "earliest");
  return resolved;
}

}  // namespace

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::create(const KafkaProperties& properties,
                                                             const std::vector<std::string>& topics,
                                                             KafkaRebalanceListener* listener,
                                                             KafkaConsumerOptions options) {
  if (topics.empty()) {
    return pipeline::invalid_argument("a Kafka consumer needs at least one topic");
  }
  if (!properties.contains("group.id")) {
    return pipeline::invalid_argument("property 'group.id' is required");
  }
  TW_ASSIGN_OR_RETURN(KafkaProperties resolved, consumer_properties(properties));
  resolved.set_default("partition.assignment.strategy", "range,roundrobin");
  if (resolved.find("partition.assignment.strategy")->find("cooperative") != std::string::npos) {
    return pipeline::invalid_argument(
        "property 'partition.assignment.strategy': cooperative assignors are not supported; the "
        "rebalance listener follows the eager protocol");
  }

  auto impl = std::make_unique<Impl>(std::move(options), listener);
  impl->resolved = std::move(resolved);
  TW_ASSIGN_OR_RETURN(std::unique_ptr<RdKafka::Conf> conf,
                      make_conf(impl->resolved, &impl->events));
  std::string error;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(impl.get()), error) !=
      RdKafka::Conf::CONF_OK) {
    return pipeline::internal_error("cannot install the rebalance callback: " + error);
  }
  TW_RETURN_IF_ERROR(impl->create_client(*conf, "consumer"));
  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer(std::move(impl)));
  consumer->impl_->owner = consumer.get();
  if (const RdKafka::ErrorCode code = consumer->impl_->client->subscribe(topics);
      code != RdKafka::ERR_NO_ERROR) {
    return pipeline::invalid_argument("cannot subscribe: " + describe(code));
  }
  return consumer;
}

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::create_reader(
    const KafkaProperties& properties, KafkaConsumerOptions options) {
  TW_ASSIGN_OR_RETURN(KafkaProperties resolved, consumer_properties(properties));
  // librdkafka's consumer needs a group id even when it only assigns; a reader never joins
  // (no subscribe) and never commits, so the id is only a name.
  resolved.set_default("group.id", "trailwatch-reader");
  auto impl = std::make_unique<Impl>(std::move(options), nullptr);
  impl->resolved = std::move(resolved);
  impl->reader = true;
  TW_ASSIGN_OR_RETURN(const std::unique_ptr<RdKafka::Conf> conf,
                      make_conf(impl->resolved, &impl->events));
  TW_RETURN_IF_ERROR(impl->create_client(*conf, "reader"));
  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer(std::move(impl)));
  consumer->impl_->owner = consumer.get();
  return consumer;
}

Status KafkaConsumer::assign(const std::vector<KafkaOffset>& offsets) {
  Impl& impl = *impl_;
  if (impl.closed) {
    return pipeline::failed_precondition("the Kafka consumer is closed");
  }
  if (!impl.reader) {
    return pipeline::failed_precondition("assign() is for readers; a group member is assigned");
  }
  PartitionList list;
  std::vector<KafkaPartition> partitions;
  for (const KafkaOffset& offset : offsets) {
    list.add(offset.topic, offset.partition, offset.offset);
    partitions.push_back({offset.topic, offset.partition});
  }
  if (const RdKafka::ErrorCode code = impl.client->assign(list.list());
      code != RdKafka::ERR_NO_ERROR) {
    return pipeline::internal_error("cannot assign partitions: " + describe(code));
  }
  std::sort(partitions.begin(), partitions.end());
  impl.assignment = std::move(partitions);
  return Status::ok();
}

Result<int32_t> KafkaConsumer::partition_count(std::string_view topic,
                                               std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  if (impl.closed) {
    return pipeline::failed_precondition("the Kafka consumer is closed");
  }
  std::string error;
  const std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(impl.client.get(), std::string(topic), nullptr, error));
  if (handle == nullptr) {
    return pipeline::invalid_argument("topic " + std::string(topic) + ": " + error);
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    RdKafka::Metadata* raw = nullptr;
    const RdKafka::ErrorCode code =
        impl.client->metadata(false, handle.get(), &raw, std::max(1, remaining_ms(deadline)));
    const std::unique_ptr<RdKafka::Metadata> metadata(raw);
    if (code == RdKafka::ERR_NO_ERROR && metadata != nullptr) {
      for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
        if (t->topic() != topic) {
          continue;
        }
        if (t->err() == RdKafka::ERR_NO_ERROR && !t->partitions()->empty()) {
          return static_cast<int32_t>(t->partitions()->size());
        }
        if (t->err() == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART && Clock::now() >= deadline) {
          return pipeline::not_found("the cluster has no topic " + std::string(topic));
        }
      }
    }
    if (Clock::now() >= deadline) {
      return pipeline::unavailable("no metadata for topic " + std::string(topic) + ": " +
                                   describe(code));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::vector<KafkaRecord>> KafkaConsumer::poll(size_t max_records,
                                                     std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  if (impl.closed) {
    return pipeline::failed_precondition("the Kafka consumer is closed");
  }
  if (impl.in_callback) {
    return pipeline::failed_precondition("poll() called from a rebalance listener");
  }
  if (!impl.deferred_error.is_ok()) {
    return std::exchange(impl.deferred_error, Status::ok());
  }
  std::vector<KafkaRecord> batch;
  const Clock::time_point deadline = Clock::now() + timeout;
  while (batch.size() < max_records) {
    // The first record may be waited for; after it, only what is already fetched is taken.
    const int wait_ms = batch.empty() ? remaining_ms(deadline) : 0;
    const std::unique_ptr<RdKafka::Message> message(impl.client->consume(wait_ms));
    const RdKafka::ErrorCode code = message->err();
    if (code == RdKafka::ERR_NO_ERROR) {
      batch.push_back(to_record(*message));
      continue;
    }
    if (code == RdKafka::ERR__FATAL) {
      return pipeline::internal_error("fatal Kafka consumer error: " +
                                      fatal_error_text(*impl.client));
    }
    if (code != RdKafka::ERR__TIMED_OUT && code != RdKafka::ERR__PARTITION_EOF) {
      impl.events.record_error(describe(code) + ": " + message->errstr());
    }
    if (!impl.deferred_error.is_ok() && batch.empty()) {
      return std::exchange(impl.deferred_error, Status::ok());
    }
    if (!batch.empty() || Clock::now() >= deadline) {
      break;
    }
  }
  impl.stats.records += batch.size();
  return batch;
}

Status KafkaConsumer::seek(std::string_view topic, int32_t partition, int64_t offset) {
  Impl& impl = *impl_;
  if (impl.closed) {
    return pipeline::failed_precondition("the Kafka consumer is closed");
  }
  const std::string where = std::string(topic) + "[" + std::to_string(partition) + "]";
  if (impl.pending_assignment != nullptr) {
    for (RdKafka::TopicPartition* tp : *impl.pending_assignment) {
      if (tp->topic() == topic && tp->partition() == partition) {
        tp->set_offset(offset);
        return Status::ok();
      }
    }
    return pipeline::failed_precondition("cannot seek " + where + ": not being assigned");
  }
  if (!impl.is_assigned(topic, partition)) {
    return pipeline::failed_precondition("cannot seek " + where + ": not assigned");
  }
  const std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(std::string(topic), partition, offset));
  if (const RdKafka::ErrorCode code = impl.client->seek(*tp, kSeekTimeoutMs);
      code != RdKafka::ERR_NO_ERROR) {
    return pipeline::internal_error("cannot seek " + where + " to " + std::to_string(offset) +
                                    ": " + describe(code));
  }
  return Status::ok();
}

Status KafkaConsumer::commit(const std::vector<KafkaOffset>& offsets) {
  Impl& impl = *impl_;
  if (impl.closed) {
    return pipeline::failed_precondition("the Kafka consumer is closed");
  }
  if (impl.reader) {
    return pipeline::failed_precondition("a reader belongs to no group and commits nothing");
  }
  if (offsets.empty()) {
    return Status::ok();
  }
  for (const KafkaOffset& offset : offsets) {
    if (offset.offset < 0) {
      return pipeline::invalid_argument("cannot commit a negative offset for " + offset.topic +
                                        "[" + std::to_string(offset.partition) + "]");
    }
  }
  // Inside a rebalance callback the group cannot finish rebalancing before the callback returns,
  // so waiting for REBALANCE_IN_PROGRESS to clear would only delay the rebalance.
  const int attempts = impl.in_callback ? 1 : std::max(1, impl.options.commit_attempts);
  std::chrono::milliseconds backoff = impl.options.commit_backoff;
  RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    PartitionList list;
    for (const KafkaOffset& offset : offsets) {
      list.add(offset.topic, offset.partition, offset.offset);
    }
    code = impl.client->commitSync(list.list());
    if (code == RdKafka::ERR_NO_ERROR) {
      for (const RdKafka::TopicPartition* tp : list.list()) {
        if (tp->err() != RdKafka::ERR_NO_ERROR) {
          code = tp->err();
          break;
        }
      }
    }
    if (code == RdKafka::ERR_NO_ERROR) {
      return Status::ok();
    }
    if (!is_retriable_commit_error(code) || attempt == attempts) {
      break;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kMaxCommitBackoff);
  }
  const std::string what = "commit failed: " + describe(code);
  switch (code) {
    case RdKafka::ERR_ILLEGAL_GENERATION:
    case RdKafka::ERR_UNKNOWN_MEMBER_ID:
    case RdKafka::ERR_FENCED_INSTANCE_ID:
    case RdKafka::ERR__STATE:
      return pipeline::failed_precondition(what +
                                           "; the partitions may now belong to another "
                                           "member, which reads from the last commit");
    default:
      return is_retriable_commit_error(code) ? pipeline::unavailable(what)
                                             : pipeline::internal_error(what);
  }
}

Result<std::vector<KafkaOffset>> KafkaConsumer::committed(
    const std::vector<KafkaPartition>& partitions, std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  if (impl.closed) {
    return pipeline::failed_precondition("the Kafka consumer is closed");
  }
  if (impl.reader) {
    return pipeline::failed_precondition("a reader belongs to no group and has no offsets");
  }
  PartitionList list;
  for (const KafkaPartition& partition : partitions) {
    list.add(partition.topic, partition.partition, RdKafka::Topic::OFFSET_INVALID);
  }
  if (const RdKafka::ErrorCode code = impl.client->committed(list.list(), to_ms(timeout));
      code != RdKafka::ERR_NO_ERROR) {
    const std::string what = "cannot read committed offsets: " + describe(code);
    return is_retriable_commit_error(code) ? pipeline::unavailable(what)
                                           : pipeline::internal_error(what);
  }
  std::vector<KafkaOffset> out;
  out.reserve(partitions.size());
  for (const RdKafka::TopicPartition* tp : list.list()) {
    if (tp->err() != RdKafka::ERR_NO_ERROR) {
      return pipeline::internal_error("cannot read the committed offset of " + tp->topic() + "[" +
                                      std::to_string(tp->partition()) +
                                      "]: " + describe(tp->err()));
    }
    out.push_back(
        {tp->topic(), tp->partition(), tp->offset() < 0 ? kNoCommittedOffset : tp->offset()});
  }
  return out;
}

Result<KafkaWatermarks> KafkaConsumer::query_watermarks(std::string_view topic, int32_t partition,
                                                        std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  if (impl.closed) {
    return pipeline::failed_precondition("the Kafka consumer is closed");
  }
  KafkaWatermarks marks;
  if (const RdKafka::ErrorCode code = impl.client->query_watermark_offsets(
          std::string(topic), partition, &marks.low, &marks.high, to_ms(timeout));
      code != RdKafka::ERR_NO_ERROR) {
    return pipeline::unavailable("cannot query the watermarks of " + std::string(topic) + "[" +
                                 std::to_string(partition) + "]: " + describe(code));
  }
  return marks;
}

std::vector<KafkaPartitionLag> KafkaConsumer::lag() {
  Impl& impl = *impl_;
  std::vector<KafkaPartitionLag> out;
  if (impl.closed || impl.assignment.empty()) {
    return out;
  }
  PartitionList list;
  for (const KafkaPartition& partition : impl.assignment) {
    list.add(partition.topic, partition.partition, RdKafka::Topic::OFFSET_INVALID);
  }
  (void)impl.client->position(list.list());
  for (const RdKafka::TopicPartition* tp : list.list()) {
    KafkaPartitionLag entry;
    entry.partition = {tp->topic(), tp->partition()};
    entry.position = tp->err() == RdKafka::ERR_NO_ERROR && tp->offset() >= 0 ? tp->offset() : -1;
    int64_t low = -1;
    int64_t high = -1;
    if (impl.client->get_watermark_offsets(tp->topic(), tp->partition(), &low, &high) ==
            RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      entry.high_watermark = high;
    }
    if (entry.position >= 0 && entry.high_watermark >= 0) {
      entry.lag = std::max<int64_t>(0, entry.high_watermark - entry.position);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

const std::vector<KafkaPartition>& KafkaConsumer::assignment() const {
  return impl_->assignment;
}

Status KafkaConsumer::close() {
  Impl& impl = *impl_;
  if (impl.closed) {
    return Status::ok();
  }
  if (impl.in_callback) {
    return pipeline::failed_precondition("close() called from a rebalance listener");
  }
  const RdKafka::ErrorCode code = impl.client->close();
  impl.closed = true;
  impl.client.reset();
  impl.assignment.clear();
  if (code != RdKafka::ERR_NO_ERROR) {
    return pipeline::unavailable("Kafka consumer closed with an error: " + describe(code));
  }
  return Status::ok();
}

bool KafkaConsumer::closed() const {
  return impl_->closed;
}

KafkaConsumerStats KafkaConsumer::stats() const {
  KafkaConsumerStats stats = impl_->stats;
  stats.errors = impl_->events.errors();
  stats.last_error = impl_->events.last_error();
  return stats;
}

// ---------------------------------------------------------------------------------------------
// read_partition

Status read_partition(const KafkaProperties& properties, const std::string& topic,
                      int32_t partition, std::chrono::milliseconds timeout,
                      const std::function<void(KafkaRecord&&)>& on_record) {
  TW_RETURN_IF_ERROR(require_bootstrap(properties));
  TW_ASSIGN_OR_RETURN(KafkaProperties resolved, properties.resolve());
  // librdkafka's consumer needs a group id even when it only assigns; nothing is committed.
  resolved.set_default("group.id", "trailwatch-restore");
  resolved.set("enable.auto.commit", "false");
  resolved.set("enable.auto.offset.store", "false");
  resolved.set("enable.partition.eof", "false");
  EventHandler events{KafkaLogFunction()};
  TW_ASSIGN_OR_RETURN(std::unique_ptr<RdKafka::Conf> conf, make_conf(resolved, &events));
  std::string error;
  const std::unique_ptr<RdKafka::KafkaConsumer> client(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (client == nullptr) {
    return pipeline::invalid_argument("cannot create the Kafka reader: " + scrub(error, resolved));
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  int64_t low = 0;
  int64_t high = 0;
  while (true) {
    const RdKafka::ErrorCode code =
        client->query_watermark_offsets(topic, partition, &low, &high, remaining_ms(deadline));
    if (code == RdKafka::ERR_NO_ERROR) {
      break;
    }
    if (code == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART || code == RdKafka::ERR__UNKNOWN_TOPIC ||
        code == RdKafka::ERR__UNKNOWN_PARTITION) {
      client->close();
      return Status::ok();  // Nothing was ever written.
    }
    if (Clock::now() >= deadline) {
      client->close();
      return pipeline::unavailable("cannot read " + topic + "[" + std::to_string(partition) +
                                   "]: " + describe(code));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (high <= low) {
    client->close();
    return Status::ok();
  }
  PartitionList assignment;
  assignment.add(topic, partition, low);
  if (const RdKafka::ErrorCode code = client->assign(assignment.list());
      code != RdKafka::ERR_NO_ERROR) {
    client->close();
    return pipeline::internal_error("cannot assign " + topic + ": " + describe(code));
  }
  int64_t next = low;
  while (next < high) {
    if (Clock::now() >= deadline) {
      client->close();
      return pipeline::unavailable("reading " + topic + "[" + std::to_string(partition) +
                                   "] timed out at offset " + std::to_string(next) + " of " +
                                   std::to_string(high));
    }
    const std::unique_ptr<RdKafka::Message> message(client->consume(100));
    if (message->err() == RdKafka::ERR_NO_ERROR) {
      next = message->offset() + 1;
      on_record(to_record(*message));
    }
  }
  client->close();
  return Status::ok();
}

Result<std::vector<KafkaRecord>> read_partition(const KafkaProperties& properties,
                                                const std::string& topic, int32_t partition,
                                                std::chrono::milliseconds timeout) {
  std::vector<KafkaRecord> records;
  TW_RETURN_IF_ERROR(
      read_partition(properties, topic, partition, timeout,
                     [&records](KafkaRecord&& r) { records.push_back(std::move(r)); }));
  return records;
}

// ---------------------------------------------------------------------------------------------
// KafkaProducer

struct KafkaProducer::Impl final : public RdKafka::DeliveryReportCb {
  explicit Impl(KafkaProducerOptions opts) : options(std::move(opts)), events(options.log) {}

  ~Impl() override = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  // Runs inside poll()/flush() on the owner's thread.
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      ++acknowledged;
      return;
    }
    ++failed;
    KafkaDeliveryFailure failure;
    failure.topic = message.topic_name();
    failure.partition = message.partition();
    if (message.key_pointer() != nullptr) {
      failure.key.assign(static_cast<const char*>(message.key_pointer()), message.key_len());
    }
    if (message.payload() != nullptr) {
      failure.value.assign(static_cast<const char*>(message.payload()), message.len());
    }
    failure.error =
        delivery_status(message.err(), failure.topic + "[" + std::to_string(failure.partition) +
                                           "]: " + describe(message.err()));
    failures.push_back(std::move(failure));
  }

  [[nodiscard]] uint64_t outstanding() const { return produced - acknowledged - failed; }

  [[nodiscard]] bool fatal() const {
    std::string ignored;
    return client->fatal_error(ignored) != RdKafka::ERR_NO_ERROR;
  }

  KafkaProducerOptions options;
  KafkaProperties resolved;
  EventHandler events;
  uint64_t produced = 0;
  uint64_t acknowledged = 0;
  uint64_t failed = 0;
  std::vector<KafkaDeliveryFailure> failures;
  // Last, so it is destroyed first: it calls back into the members above.
  std::unique_ptr<RdKafka::Producer> client;
};

KafkaProducer::KafkaProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
}

KafkaProducer::~KafkaProducer() {
  if (impl_ == nullptr || impl_->client == nullptr) {
    return;
  }
  if (impl_->outstanding() > 0) {
    (void)impl_->client->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    (void)impl_->client->flush(kDestroyFlushMs);
  }
}

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::create(const KafkaProperties& properties,
                                                             KafkaProducerOptions options) {
  TW_RETURN_IF_ERROR(require_bootstrap(properties));
  TW_ASSIGN_OR_RETURN(KafkaProperties resolved, properties.resolve());
  resolved.set_default("enable.idempotence", "true");

  auto impl = std::make_unique<Impl>(std::move(options));
  impl->resolved = std::move(resolved);
  TW_ASSIGN_OR_RETURN(std::unique_ptr<RdKafka::Conf> conf,
                      make_conf(impl->resolved, &impl->events));
  std::string error;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(impl.get()), error) !=
      RdKafka::Conf::CONF_OK) {
    return pipeline::internal_error("cannot install the delivery report callback: " + error);
  }
  impl->client.reset(RdKafka::Producer::create(conf.get(), error));
  if (impl->client == nullptr) {
    return pipeline::invalid_argument("cannot create the Kafka producer: " +
                                      scrub(error, impl->resolved));
  }
  return std::unique_ptr<KafkaProducer>(new KafkaProducer(std::move(impl)));
}

Status KafkaProducer::produce(std::string_view topic, std::string_view key, std::string_view value,
                              int32_t partition) {
  Impl& impl = *impl_;
  const Clock::time_point deadline = Clock::now() + impl.options.queue_full_wait;
  const std::string topic_name(topic);
  for (;;) {
    // RK_MSG_COPY: librdkafka copies the payload before returning, so the const_cast never leads
    // to a write, and the caller's buffer may go away at once.
    const RdKafka::ErrorCode code = impl.client->produce(
        topic_name, partition, RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(value.data()),  // NOLINT(cppcoreguidelines-pro-type-const-cast)
        value.size(), key.empty() ? nullptr : key.data(), key.size(), 0, nullptr);
    if (code == RdKafka::ERR_NO_ERROR) {
      ++impl.produced;
      impl.client->poll(0);
      return Status::ok();
    }
    if (code == RdKafka::ERR__QUEUE_FULL && Clock::now() < deadline) {
      // Serving delivery reports is what frees room in the queue.
      impl.client->poll(std::min(100, remaining_ms(deadline)));
      continue;
    }
    const std::string what = "cannot produce to " + topic_name + ": " + describe(code);
    switch (code) {
      case RdKafka::ERR__QUEUE_FULL:
        return pipeline::resource_exhausted(what);
      case RdKafka::ERR__FATAL:
        return pipeline::internal_error(what + ": " + fatal_error_text(*impl.client));
      default:
        return delivery_status(code, what);
    }
  }
}

void KafkaProducer::poll(std::chrono::milliseconds timeout) {
  impl_->client->poll(to_ms(timeout));
}

Status KafkaProducer::flush(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  // Ignored: the counters below say whether everything was reported.
  (void)impl.client->flush(to_ms(timeout));
  if (impl.fatal()) {
    return pipeline::internal_error("fatal Kafka producer error: " +
                                    fatal_error_text(*impl.client));
  }
  if (const uint64_t left = impl.outstanding(); left > 0) {
    return pipeline::unavailable(std::to_string(left) + " message(s) not acknowledged after " +
                                 std::to_string(timeout.count()) + " ms");
  }
  if (!impl.failures.empty()) {
    const bool retriable = std::all_of(
        impl.failures.begin(), impl.failures.end(), [](const KafkaDeliveryFailure& failure) {
          return failure.error.code() == pipeline::StatusCode::kUnavailable;
        });
    const std::string what =
        std::to_string(impl.failures.size()) +
        " message(s) failed delivery (first: " + impl.failures.front().error.message() + ")";
    return retriable ? pipeline::unavailable(what) : pipeline::internal_error(what);
  }
  return Status::ok();
}

uint64_t KafkaProducer::outstanding() const {
  return impl_->outstanding();
}

uint64_t KafkaProducer::produced() const {
  return impl_->produced;
}

uint64_t KafkaProducer::acknowledged() const {
  return impl_->acknowledged;
}

const std::vector<KafkaDeliveryFailure>& KafkaProducer::failures() const {
  return impl_->failures;
}

std::vector<KafkaDeliveryFailure> KafkaProducer::take_failures() {
  return std::exchange(impl_->failures, {});
}

uint64_t KafkaProducer::failed() const {
  return impl_->failed;
}

}  // namespace tw::connectors
