#include "app/run_command.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "app/alarm_shard.h"
#include "app/cli_args.h"
#include "app/composite_stage.h"
#include "app/config_check.h"
#include "app/inputs.h"
#include "app/kafka_input.h"
#include "app/live_checkpoint.h"
#include "app/live_metrics.h"
#include "app/live_output.h"
#include "app/live_task.h"
#include "app/output_lines.h"
#include "app/task_plan.h"
#include "connectors/action_connectors.h"
#include "connectors/aws_credentials.h"
#include "connectors/file_source.h"
#include "connectors/http_server.h"
#include "connectors/jsonl_writer.h"
#include "connectors/kafka.h"
#include "connectors/state_store.h"
#include "pipeline/runtime.h"
#include "pipeline/state_codec.h"

namespace tw::app {
namespace {

using pipeline::Duration;
using pipeline::EventTime;

constexpr std::string_view kUsage =
    "usage: trailwatch run --config FILE [--http-listen HOST:PORT] [--shards N] [--until-idle]";
constexpr auto kPollTimeout = std::chrono::milliseconds(100);

// Set by signal handlers, which can reach nothing else: process-wide by nature.
std::atomic<bool> g_stop{false};    // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<bool> g_reload{false};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

extern "C" void on_stop_signal(int /*signal*/) {
  g_stop.store(true);
}

extern "C" void on_reload_signal(int /*signal*/) {
  g_reload.store(true);
}

// ---- State ----------------------------------------------------------------------------------

/// The first Kafka input, whose group owns the state and whose cluster keeps it; null if none.
const pipeline::InputConfig* first_kafka_input(const pipeline::Settings& settings) {
  const auto kafka =
      std::find_if(settings.inputs.begin(), settings.inputs.end(),
                   [](const auto& i) { return i.type == pipeline::InputConfig::Type::kKafka; });
  return kafka != settings.inputs.end() ? &*kafka : nullptr;
}

/// Whose state a store holds: the consumer group of the first Kafka input (the workers of one
/// group share it), else "trailwatch".
std::string state_owner(const pipeline::Settings& settings) {
  const pipeline::InputConfig* kafka = first_kafka_input(settings);
  return kafka != nullptr ? kafka->group_id : "trailwatch";
}

/// The Kafka properties of the first Kafka input's cluster (the state lives there).
connectors::KafkaProperties state_cluster(const pipeline::Settings& settings) {
  const pipeline::InputConfig* kafka = first_kafka_input(settings);
  return client_properties(settings,
                           kafka != nullptr ? kafka->properties : pipeline::KafkaProperties{});
}

/// The store `settings.state` names, or null for none; `partition`: the changelog partition
/// (the task, in scale-out mode).
pipeline::Result<std::unique_ptr<connectors::StateStore>> open_state_store(
    const pipeline::Settings& settings, const std::string& config_path, int32_t partition = 0) {
  const pipeline::StateConfig& state = settings.state;
  const std::string name = state_owner(settings);
  switch (state.store) {
    case pipeline::StateConfig::Store::kNone:
      return std::unique_ptr<connectors::StateStore>();
    case pipeline::StateConfig::Store::kDirectory: {
      // Relative to the configuration file, as file inputs are.
      std::filesystem::path directory(state.directory);
      if (directory.is_relative()) {
        directory = std::filesystem::path(config_path).parent_path() / directory;
      }
      TW_ASSIGN_OR_RETURN(std::unique_ptr<connectors::DirectoryStateStore> store,
                          connectors::DirectoryStateStore::open(directory.string(), name));
      return std::unique_ptr<connectors::StateStore>(std::move(store));
    }
    case pipeline::StateConfig::Store::kKafka: {
      if (first_kafka_input(settings) == nullptr) {
        return pipeline::invalid_argument("the kafka state store needs a Kafka input");
      }
      connectors::KafkaStateStore::Options options;
      options.topic = state.topic;
      options.name = name;
      options.partition = partition;
      TW_ASSIGN_OR_RETURN(std::unique_ptr<connectors::KafkaStateStore> store,
                          connectors::KafkaStateStore::open(state_cluster(settings), options));
      return std::unique_ptr<connectors::StateStore>(std::move(store));
    }
  }
  return std::unique_ptr<connectors::StateStore>();
}

/// Scale-out: which tasks (changelog partitions) the group gives this worker. The consumer only
/// holds the membership (its partitions are paused); the assignment is applied by the main loop,
/// outside the callback, because restoring a task reads its changelog partition.
class TaskAssignment final : public connectors::KafkaRebalanceListener {
 public:
  explicit TaskAssignment(std::function<void()> before_revoke)
      : before_revoke_(std::move(before_revoke)) {}

  void on_assigned(connectors::KafkaConsumer& /*consumer*/,
                   const std::vector<connectors::KafkaPartition>& partitions) override {
    std::set<int> tasks;
    for (const connectors::KafkaPartition& p : partitions) {
      tasks.insert(p.partition);
    }
    pending_ = std::move(tasks);
    revoked_ = false;
  }

  void on_revoked(connectors::KafkaConsumer& /*consumer*/,
                  const std::vector<connectors::KafkaPartition>& /*partitions*/) override {
    // Checkpoint while the tasks are still ours; whoever owns them next restores from it. Until
    // the new assignment arrives, the tasks stand still (another worker may own them already).
    if (!closing_) {
      before_revoke_();
    }
    revoked_ = true;
  }

  /// The new assignment, once, after a rebalance.
  std::optional<std::set<int>> take() { return std::exchange(pending_, std::nullopt); }

  /// Between a revocation and the next assignment.
  [[nodiscard]] bool revoked() const { return revoked_; }

  [[nodiscard]] bool assigned_once() const { return assigned_once_ || pending_.has_value(); }

  void mark_applied() { assigned_once_ = true; }

  void set_closing() { closing_ = true; }

 private:
  std::function<void()> before_revoke_;
  std::optional<std::set<int>> pending_;
  bool revoked_ = false;
  bool assigned_once_ = false;
  bool closing_ = false;
};

struct RunArgs {
  std::string config;
  std::optional<std::string> http_listen;
  std::optional<int> shards;
  bool until_idle = false;
};

std::optional<RunArgs> parse_run_args(const std::vector<std::string>& args, std::ostream& err,
                                      int& exit_code) {
  RunArgs parsed;
  ArgReader reader(args);
  exit_code = kExitUsage;
  while (!reader.done()) {
    const std::string flag = reader.next();
    if (flag == "--until-idle" && !reader.has_inline_value()) {
      parsed.until_idle = true;
      continue;
    }
    if (flag == "--config" || flag == "--http-listen" || flag == "--shards") {
      std::optional<std::string> value = reader.value_for(flag, err);
      if (!value) {
        return std::nullopt;
      }
      if (flag == "--config") {
        parsed.config = std::move(*value);
      } else if (flag == "--http-listen") {
        parsed.http_listen = std::move(*value);
      } else {
        const std::optional<int> n = parse_int(*value);
        if (!n || *n < 1 || *n > 256) {
          err << "trailwatch run: --shards takes an integer from 1 to 256\n";
          return std::nullopt;
        }
        parsed.shards = n;
      }
    } else {
      err << "trailwatch run: unknown option " << flag << "\n" << kUsage << "\n";
      return std::nullopt;
    }
  }
  if (parsed.config.empty()) {
    err << "trailwatch run: --config is required\n" << kUsage << "\n";
    return std::nullopt;
  }
  return parsed;
}

// The credentials of AWS action targets: the standard chain, looked up at the first AWS call and
// refreshed before temporary credentials expire; STS in the settings' Region (or its endpoint).
connectors::AwsCredentialsSource aws_credentials_source(const pipeline::Settings& settings) {
  connectors::CredentialEnvironment env;
  env.region = settings.region;
  for (const auto& [service, url] : settings.actions.aws_endpoints) {
    if (service == "sts") {
      env.sts_endpoint = url;
    }
  }
  return connectors::credentials_source(std::make_shared<connectors::AwsCredentialProvider>(env));
}

// How long a run that ends with its input waits for its actions: long enough for every attempt
// of the slowest target, at most two minutes.
std::chrono::milliseconds drain_timeout(const pipeline::ActionsConfig& actions) {
  int64_t longest = 0;
  for (const pipeline::ActionTargetConfig& t : actions.targets) {
    const pipeline::DeliveryPolicy& p = t.delivery;
    longest = std::max(longest, p.max_attempts * (p.timeout.millis() + p.max_backoff.millis()));
  }
  const pipeline::DeliveryPolicy& p = actions.delivery;
  longest = std::max(longest, p.max_attempts * (p.timeout.millis() + p.max_backoff.millis()));
  return std::chrono::milliseconds(std::min<int64_t>(longest, 120'000));
}

}  // namespace

int run_live(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  (void)out;
  int exit_code = kExitOk;
  const std::optional<RunArgs> parsed = parse_run_args(args, err, exit_code);
  if (!parsed) {
    return exit_code;
  }
  const CheckedConfig loaded = load_checked_config(parsed->config);
  if (!loaded.ok()) {
    for (const pipeline::ConfigProblem& problem : loaded.problems) {
      err << problem.to_string() << "\n";
    }
    return kExitInvalidConfig;
  }
  const pipeline::Config& config = *loaded.config;
  const pipeline::Settings& settings = config.settings;
  const bool scale_out = settings.state.scale_out;

  // Outputs.
  std::unique_ptr<connectors::KafkaProducer> producer;
  std::vector<std::unique_ptr<LineSink>> sinks;
  auto open_sink = [&](const std::string& target) -> pipeline::Result<LineSink*> {
    if (target.empty()) {
      return static_cast<LineSink*>(nullptr);
    }
    if (target.starts_with("kafka:")) {
      if (!producer) {
        auto created = connectors::KafkaProducer::create(client_properties(settings, {}));
        if (!created.is_ok()) {
          return created.status();
        }
        producer = std::move(created).value();
      }
      sinks.push_back(std::make_unique<KafkaSink>(*producer, target.substr(6)));
      return sinks.back().get();
    }
    auto file = std::make_unique<FileSink>();
    if (const pipeline::Status s = file->open(target); !s.is_ok()) {
      return s;
    }
    sinks.push_back(std::move(file));
    return sinks.back().get();
  };
  std::array<LineSink*, 4> streams{};
  const std::array<const std::string*, 4> targets = {
      &settings.outputs.emissions, &settings.outputs.datapoints, &settings.outputs.dead_letters,
      &settings.outputs.actions};
  for (size_t i = 0; i < streams.size(); ++i) {
    pipeline::Result<LineSink*> sink = open_sink(*targets.at(i));
    if (!sink.is_ok()) {
      err << "trailwatch run: " << sink.status().message() << "\n";
      return kExitIoError;
    }
    streams.at(i) = sink.value();
  }

  // The configuration the alarms run with; replaced by a reload.
  std::shared_ptr<const pipeline::Config> current = loaded.config;
  // In scale-out mode the board shows the alarms of the tasks this worker owns.
  AlarmBoard board(scale_out ? pipeline::Config{config.source_file, settings, {}, {}} : config);
  LiveMetrics metrics;
  int shards = parsed->shards.value_or(settings.shards);
  if (shards <= 0) {
    shards = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  }
  std::atomic<uint64_t> evaluations{0};
  std::map<std::string, uint64_t> transitions;  // By new state, every task's.

  // Action delivery: its own threads, one per target; evaluation only hands actions over.
  connectors::ConnectorEnvironment connector_env;
  connector_env.default_region = settings.region;
  connector_env.aws_endpoints = settings.actions.aws_endpoints;
  connector_env.aws_credentials = aws_credentials_source(settings);
  auto dispatcher_created = connectors::ActionDispatcher::create(
      {settings.actions, connectors::connector_factory(connector_env), metrics.registry(),
       [&err](std::string_view line) {
         err << "trailwatch run: " << line << "\n";
       }});
  if (!dispatcher_created.is_ok()) {
    err << "trailwatch run: " << dispatcher_created.status().message() << "\n";
    return kExitInvalidConfig;
  }
  const std::unique_ptr<connectors::ActionDispatcher> dispatcher =
      std::move(dispatcher_created).value();
  const LiveTaskContext context{&config,      streams[0],      streams[1],
                                streams[2],   &board,          &transitions,
                                &evaluations, shards,          evaluation_step(config),
                                streams[3],   dispatcher.get()};
  // Deliveries that failed for good go to the dead-letter output (from this thread: sinks are
  // not shared with the delivery threads).
  const auto write_failed_deliveries = [&] {
    for (const connectors::DeliveryFailure& failure : dispatcher->take_failures()) {
      if (streams[2] != nullptr) {
        streams[2]->write(failure.request.key, connectors::format_delivery_failure(failure));
      }
    }
  };

  // HTTP endpoint, first: a long restore must not fail the liveness probe.
  enum class Phase : int { kRestoring, kAssigning, kReady };
  std::atomic<Phase> phase{Phase::kRestoring};
  const std::string listen = parsed->http_listen.value_or(settings.http_listen);
  connectors::HttpServer http(connectors::HttpServerOptions{listen});
  if (!listen.empty()) {
    (void)http.add_handler("/healthz", [](const connectors::HttpRequest&) {
      return connectors::HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
    });
    (void)http.add_handler("/readyz", [&phase](const connectors::HttpRequest&) {
      switch (phase.load()) {
        case Phase::kReady:
          return connectors::HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
        case Phase::kRestoring:
          return connectors::HttpResponse{503, "text/plain; charset=utf-8",
                                          "not ready: restoring state\n"};
        default:
          return connectors::HttpResponse{503, "text/plain; charset=utf-8",
                                          "not ready: inputs not assigned yet\n"};
      }
    });
    (void)http.add_handler("/metrics", connectors::metrics_handler({metrics.registry()}));
    (void)http.add_handler("/api/v1/alarms", [&board](const connectors::HttpRequest& request) {
      return connectors::HttpResponse{200, "application/json",
                                      board.describe(request.query_value("prefix").value_or(""),
                                                     request.query_value("state").value_or(""))};
    });
    if (const pipeline::Status s = http.start(); !s.is_ok()) {
      err << "trailwatch run: http: " << s.message() << "\n";
      return kExitIoError;
    }
    err << "trailwatch run: http endpoint on port " << http.port() << "\n";
  }

  // The tasks this worker runs: one owning every alarm, or (scale-out) those assigned to it.
  std::map<int, std::unique_ptr<LiveTask>> tasks;
  std::optional<TaskPlan> plan;
  bool runtime_finished = false;
  auto last_checkpoint = Clock::now();
  const auto flush_outputs = [&]() -> bool {
    bool durable = true;
    for (auto& sink : sinks) {
      if (const pipeline::Status s = sink->flush(); !s.is_ok()) {
        err << "trailwatch run: output: " << s.message() << "\n";
        durable = false;
      }
    }
    return durable;
  };
  const auto commit_inputs = [&] {
    for (auto& [index, task] : tasks) {
      task->commit(err);
    }
  };
  // Durability: every task's emissions written and delivered, then (with a store) each task's
  // state checkpointed together with the input positions it reflects, then those offsets
  // committed. Returns whether it all succeeded.
  const auto checkpoint = [&]() -> bool {
    if (runtime_finished || tasks.empty() || !tasks.begin()->second->has_store()) {
      return false;
    }
    const auto started = Clock::now();
    std::vector<std::pair<LiveTask*, LiveCheckpoint>> snapshots;
    snapshots.reserve(tasks.size());
    for (auto& [index, task] : tasks) {
      snapshots.emplace_back(task.get(), task->snapshot());
    }
    if (!flush_outputs()) {
      metrics.checkpoint_done(false, 0, 0);
      return false;
    }
    bool ok = true;
    size_t bytes = 0;
    for (auto& [task, state] : snapshots) {
      const pipeline::Result<size_t> saved = task->save(state);
      if (!saved.is_ok()) {
        err << "trailwatch run: checkpoint of task " << task->index() << ": "
            << saved.status().message() << "\n";
        ok = false;
      } else {
        bytes += saved.value();
      }
    }
    metrics.checkpoint_done(ok, bytes,
                            std::chrono::duration<double>(Clock::now() - started).count());
    if (!ok) {
      return false;
    }
    last_checkpoint = Clock::now();
    commit_inputs();
    return true;
  };
  const auto restore_failed = [&](const pipeline::Status& status) {
    err << "trailwatch run: state: " << status.message()
        << "\ntrailwatch run: not starting: the state cannot be restored (to start without it, "
           "set trailwatch.state.store to \"none\" or remove the checkpoint)\n";
    return kExitIoError;
  };

  std::unique_ptr<connectors::KafkaConsumer> coordinator;
  TaskAssignment assignment([&checkpoint] { (void)checkpoint(); });
  if (!scale_out) {
    const auto started = Clock::now();
    pipeline::Result<std::unique_ptr<connectors::StateStore>> store =
        open_state_store(settings, parsed->config);
    if (!store.is_ok()) {
      err << "trailwatch run: state: " << store.status().message() << "\n";
      return kExitIoError;
    }
    auto task = std::make_unique<LiveTask>(context, current, 0, 1, std::move(store).value());
    if (const pipeline::Status s = task->restore(err); !s.is_ok()) {
      return restore_failed(s);
    }
    metrics.set_restore_seconds(std::chrono::duration<double>(Clock::now() - started).count());
    tasks.emplace(0, std::move(task));
    phase.store(Phase::kAssigning);
    if (const pipeline::Status s = tasks.at(0)->open_kafka_inputs(
            KafkaInput::Mode::kGroupMember, [&checkpoint] { (void)checkpoint(); });
        !s.is_ok()) {
      err << "trailwatch run: " << s.message() << "\n";
      return kExitIoError;
    }
  } else {
    // The changelog topic's partitions are the tasks; the group of the first Kafka input spreads
    // them over its workers.
    connectors::KafkaProperties properties = state_cluster(settings);
    properties.set("group.id", state_owner(settings));
    connectors::KafkaConsumerOptions options;
    options.membership_only = true;
    pipeline::Result<std::unique_ptr<connectors::KafkaConsumer>> created =
        connectors::KafkaConsumer::create(properties, {settings.state.topic}, &assignment, options);
    if (!created.is_ok()) {
      err << "trailwatch run: state: " << created.status().message() << "\n";
      return kExitIoError;
    }
    coordinator = std::move(created).value();
    pipeline::Result<int32_t> count =
        coordinator->partition_count(settings.state.topic, std::chrono::seconds(30));
    if (!count.is_ok()) {
      err << "trailwatch run: state: scale-out needs the changelog topic, one partition per "
             "task: "
          << count.status().message() << "\n";
      return kExitIoError;
    }
    plan.emplace(*current, count.value());
    err << "trailwatch run: scale-out over " << count.value() << " task(s) (partitions of "
        << settings.state.topic << ")\n";
    phase.store(Phase::kAssigning);
  }
  // Scale-out: applies a new assignment — tasks no longer ours are dropped (their checkpoint was
  // taken at the revocation), new ones restored from their changelog partition and opened.
  const auto apply_assignment = [&](const std::set<int>& owned) -> int {
    phase.store(Phase::kRestoring);
    for (auto it = tasks.begin(); it != tasks.end();) {
      if (owned.contains(it->first)) {
        ++it;
      } else {
        it->second->close_inputs();
        it = tasks.erase(it);
      }
    }
    board.reconfigure(*plan->config_for(owned));
    for (const int index : owned) {
      if (tasks.contains(index)) {
        continue;
      }
      const auto started = Clock::now();
      pipeline::Result<std::unique_ptr<connectors::StateStore>> store =
          open_state_store(settings, parsed->config, index);
      if (!store.is_ok()) {
        err << "trailwatch run: state: " << store.status().message() << "\n";
        return kExitIoError;
      }
      auto task = std::make_unique<LiveTask>(context, plan->config_for({index}), index,
                                             plan->tasks(), std::move(store).value());
      if (const pipeline::Status s = task->restore(err); !s.is_ok()) {
        return restore_failed(s);
      }
      if (const pipeline::Status s = task->open_kafka_inputs(KafkaInput::Mode::kReader, {});
          !s.is_ok()) {
        err << "trailwatch run: task " << index << ": " << s.message() << "\n";
        return kExitIoError;
      }
      metrics.set_restore_seconds(std::chrono::duration<double>(Clock::now() - started).count());
      tasks.emplace(index, std::move(task));
    }
    std::string list;
    for (const auto& [index, task] : tasks) {
      list += (list.empty() ? "" : ",") + std::to_string(index);
    }
    err << "trailwatch run: running task(s) [" << list << "] of " << plan->tasks() << "\n";
    assignment.mark_applied();
    return kExitOk;
  };

  struct sigaction action {};

  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  struct sigaction reload_action {};

  reload_action.sa_handler = on_reload_signal;
  sigemptyset(&reload_action.sa_mask);
  sigaction(SIGHUP, &reload_action, nullptr);

  // Configuration reload (SIGHUP, or the file changed): alarm definitions change in place, and
  // unchanged alarms keep their state. The trailwatch section (inputs, outputs, Kafka, limits)
  // is read at start only.
  std::error_code mtime_error;
  auto config_mtime = std::filesystem::last_write_time(parsed->config, mtime_error);
  auto last_mtime_check = Clock::now();
  const auto reload = [&] {
    const CheckedConfig next = load_checked_config(parsed->config);
    if (!next.ok()) {
      err << "trailwatch run: reload rejected; the running configuration stays:\n";
      for (const pipeline::ConfigProblem& problem : next.problems) {
        err << problem.to_string() << "\n";
      }
      return;
    }
    auto merged = std::make_shared<pipeline::Config>(*next.config);
    if (!(merged->settings == settings)) {
      err << "trailwatch run: the trailwatch section changed; it takes effect at the next "
             "restart (alarms are reloaded now)\n";
      merged->settings = settings;
    }
    if (evaluation_step(*merged) != evaluation_step(*current)) {
      err << "trailwatch run: reload rejected: adding or removing the only high-resolution "
             "alarms changes the evaluation step; restart instead\n";
      return;
    }
    current = std::move(merged);
    if (plan) {
      plan.emplace(*current, plan->tasks());
      std::set<int> owned;
      for (auto& [index, task] : tasks) {
        owned.insert(index);
        task->reconfigure(plan->config_for({index}));
      }
      board.reconfigure(*plan->config_for(owned));
    } else {
      tasks.at(0)->reconfigure(current);
      board.reconfigure(*current);
    }
    err << "trailwatch run: configuration reloaded: " << current->metric_alarms.size()
        << " metric alarm(s), " << current->composite_alarms.size() << " composite alarm(s)\n";
  };

  // Single mode: files and stdin are read to their end first; Kafka inputs are consumed until
  // stopped.
  LiveTask* single = scale_out ? nullptr : tasks.at(0).get();
  if (single != nullptr) {
    for (const pipeline::InputConfig& configured : settings.inputs) {
      if (configured.type == pipeline::InputConfig::Type::kKafka) {
        continue;
      }
      const pipeline::InputConfig input = resolve_input_path(configured, parsed->config);
      connectors::FileSource source(file_source_options(input, settings));
      if (const pipeline::Status s = source.open(); !s.is_ok()) {
        err << "trailwatch run: " << s.message() << "\n";
        return kExitIoError;
      }
      pipeline::Runtime& runtime = single->runtime();
      const pipeline::InputId id = add_runtime_input(runtime, config, input, input.name);
      uint64_t& position = single->file_positions()[input.name];
      connectors::RuntimeConsumer consumer(runtime, id, position);
      while (!g_stop.load() && source.pump(consumer, kPollRecords)) {
        position = consumer.records();
        if (single->has_store() &&
            Clock::now() - last_checkpoint >=
                std::chrono::milliseconds(settings.state.checkpoint_interval.millis())) {
          (void)checkpoint();
        }
      }
      position = consumer.records();
      if (!g_stop.load()) {
        runtime.finish_input(id);
      }
    }
  }

  // The main loop.
  const Duration idle_timeout = settings.idle_timeout;
  const Duration lateness = std::max(settings.metric_lateness, settings.cloudtrail_lateness);
  const bool has_kafka = scale_out || !single->kafka_inputs().empty();
  int code = kExitOk;
  if (!has_kafka) {
    phase.store(Phase::kReady);
  }
  uint64_t consumed = 0;
  // When the records that caused the oldest step still being evaluated were read.
  std::optional<Clock::time_point> evaluating_since;
  std::optional<Clock::time_point> first_record;
  Clock::time_point last_record;
  while (!g_stop.load() && has_kafka) {
    const Clock::time_point iteration_start = Clock::now();
    if (iteration_start - last_mtime_check > std::chrono::seconds(1)) {
      last_mtime_check = iteration_start;
      const auto mtime = std::filesystem::last_write_time(parsed->config, mtime_error);
      if (!mtime_error && mtime != config_mtime) {
        config_mtime = mtime;
        g_reload.store(true);
      }
    }
    if (g_reload.exchange(false)) {
      reload();
    }
    size_t records = 0;
    if (coordinator) {
      // Keeps the membership alive; rebalance callbacks run in here.
      const auto wait = tasks.empty() ? kPollTimeout : std::chrono::milliseconds(0);
      if (const pipeline::Result<std::vector<connectors::KafkaRecord>> r =
              coordinator->poll(1, wait);
          !r.is_ok()) {
        err << "trailwatch run: state: " << r.status().message() << "\n";
        code = kExitIoError;
        break;
      }
      if (std::optional<std::set<int>> owned = assignment.take()) {
        if (const int failed = apply_assignment(*owned); failed != kExitOk) {
          code = failed;
          break;
        }
      }
    }
    if (!assignment.revoked()) {
      size_t inputs = 0;
      for (auto& [index, task] : tasks) {
        inputs += task->kafka_inputs().size();
      }
      // While the shards evaluate a step, poll briefly: its events leave as soon as they are
      // ready instead of after the next record or poll timeout.
      const auto timeout =
          evaluating_since ? std::chrono::milliseconds(1)
                           : std::max(std::chrono::milliseconds(1),
                                      kPollTimeout / static_cast<int>(std::max<size_t>(1, inputs)));
      for (auto& [index, task] : tasks) {
        pipeline::Result<size_t> n = task->poll(timeout);
        if (!n.is_ok()) {
          err << "trailwatch run: " << n.status().message() << "\n";
          g_stop.store(true);
          code = kExitIoError;
          break;
        }
        records += n.value();
      }
    }
    // What this iteration read (or the wall-clock tick it stands for) was read now: the start of
    // the latency of the events it causes (the wait for records to arrive is not part of it).
    const Clock::time_point read_at = Clock::now();
    if (records > 0) {
      consumed += records;
      last_record = Clock::now();
      if (!first_record) {
        first_record = iteration_start;
      }
    }
    const bool assigned =
        coordinator ? assignment.assigned_once() && !assignment.revoked() : single->assigned();
    phase.store(assigned ? Phase::kReady : Phase::kAssigning);
    const auto now = Clock::now();
    // Only once every input has its partitions: before that, "no partition is active" says
    // nothing about the data.
    std::optional<EventTime> wall_floor;
    if (phase.load() == Phase::kReady && !parsed->until_idle) {
      const auto wall = std::chrono::system_clock::now().time_since_epoch();
      wall_floor = EventTime::from_millis(
                       std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()) -
                   lateness;
    }
    bool all_idle = true;
    std::map<std::string, int64_t> lags;
    uint64_t undelivered = 0;
    for (auto& [index, task] : tasks) {
      all_idle = task->update_idleness(now, idle_timeout, wall_floor) && all_idle;
      for (const auto& input : task->kafka_inputs()) {
        lags[input->name()] = std::max(lags[input->name()], input->lag());
      }
      undelivered += task->output().undelivered_events;
    }
    for (const auto& [name, lag] : lags) {
      metrics.set_consumer_lag(name, lag);
    }
    // Events written now were caused by this iteration's records, or by an earlier iteration's
    // whose steps were still being evaluated.
    const Clock::time_point caused_at = evaluating_since.value_or(read_at);
    const bool evaluating = std::any_of(tasks.begin(), tasks.end(), [](const auto& t) {
      return t.second->runtime().steps_in_flight() > 0;
    });
    if (!evaluating) {
      evaluating_since.reset();
    } else if (!evaluating_since) {
      evaluating_since = read_at;
    }
    write_failed_deliveries();
    if (records > 0 || all_idle || undelivered > 0) {
      // Emissions are delivered at once (latency); offsets are committed only after what they
      // caused is durable: here without a state store, after the next checkpoint with one.
      if (flush_outputs()) {
        const double latency = std::chrono::duration<double>(Clock::now() - caused_at).count();
        for (; undelivered > 0; --undelivered) {
          metrics.observe_latency(latency);
        }
        for (auto& [index, task] : tasks) {
          task->output().undelivered_events = 0;
        }
        if (single != nullptr && !single->has_store()) {
          commit_inputs();
        }
      }
    }
    if (Clock::now() - last_checkpoint >=
        std::chrono::milliseconds(settings.state.checkpoint_interval.millis())) {
      if (std::any_of(tasks.begin(), tasks.end(),
                      [](const auto& t) { return t.second->changed_since_save(); })) {
        (void)checkpoint();
      } else {
        last_checkpoint = Clock::now();  // Nothing changed: the last checkpoint is current.
      }
    }
    // Each input is reported by one task; the watermark shown is the slowest task's.
    pipeline::RuntimeStats stats;
    for (auto& [index, task] : tasks) {
      pipeline::RuntimeStats reported = task->reported_stats();
      stats.inputs.insert(stats.inputs.end(), reported.inputs.begin(), reported.inputs.end());
      stats.watermark = index == tasks.begin()->first
                            ? reported.watermark
                            : std::min(stats.watermark, reported.watermark);
    }
    metrics.update(stats, transitions, board.count_by_state());
    metrics.set_evaluations(evaluations.load(std::memory_order_relaxed));
    metrics.set_checkpoint_age(
        std::chrono::duration<double>(Clock::now() - last_checkpoint).count());
    if (parsed->until_idle && all_idle && phase.load() == Phase::kReady) {
      break;  // Everything available was consumed, evaluated, delivered and committed.
    }
  }
  if (first_record && consumed > 0) {
    const double seconds = std::chrono::duration<double>(last_record - *first_record).count();
    err << "trailwatch run: consumed " << consumed << " Kafka records in " << seconds
        << " s (first to last record";
    if (seconds > 0) {
      err << ", " << static_cast<uint64_t>(static_cast<double>(consumed) / seconds) << " records/s";
    }
    err << ")\n";
  }

  // Shutdown: what was read is evaluated as far as the watermark allows, written, checkpointed
  // and committed. A run that ends with its input (files only, or --until-idle) evaluates to the
  // newest event time, as replay does (after a last checkpoint: a restart goes on from there, at
  // least once); a stopped live run leaves the rest to the next worker (or to its own restart).
  const bool stopped = g_stop.load();
  const bool has_store = !tasks.empty() && tasks.begin()->second->has_store();
  const bool ends_with_input =
      !has_kafka ? (!stopped || !has_store) : (parsed->until_idle && !stopped);
  if (has_store && !assignment.revoked() && !checkpoint()) {
    code = kExitIoError;
  }
  for (auto& [index, task] : tasks) {
    if (ends_with_input) {
      task->runtime().finish();
    } else {
      task->runtime().collect_finished_steps();
    }
  }
  runtime_finished = ends_with_input;
  if (ends_with_input) {
    // The run is complete: let the actions it caused reach their targets (bounded: a dead target
    // must not hold the exit; what is left was emitted after the last checkpoint and is emitted
    // again by a run that resumes from it).
    const std::chrono::milliseconds drain = drain_timeout(settings.actions);
    if (const size_t pending = dispatcher->pending().size(); pending > 0) {
      err << "trailwatch run: waiting up to " << drain.count() / 1000 << " s for " << pending
          << " pending action(s)\n";
    }
    if (!dispatcher->wait_idle(drain)) {
      err << "trailwatch run: actions still pending at exit: " << dispatcher->pending().size()
          << "\n";
    }
  }
  dispatcher->stop();
  write_failed_deliveries();
  if (!flush_outputs()) {
    code = kExitIoError;
  } else if (!has_store) {
    commit_inputs();
  }
  assignment.set_closing();
  for (auto& [index, task] : tasks) {
    task->close_inputs();
  }
  if (coordinator) {
    (void)coordinator->close();
  }
  http.stop();
  return code;
}

}  // namespace tw::app
