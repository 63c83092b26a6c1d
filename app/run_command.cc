#include "app/run_command.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
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
#include "app/output_lines.h"
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

/// The store `settings.state` names, or null for none. Whose state it holds: the consumer group
/// of the first Kafka input (workers of one group share it), else "trailwatch".
pipeline::Result<std::unique_ptr<connectors::StateStore>> open_state_store(
    const pipeline::Settings& settings, const std::string& config_path) {
  const pipeline::StateConfig& state = settings.state;
  const auto kafka =
      std::find_if(settings.inputs.begin(), settings.inputs.end(),
                   [](const auto& i) { return i.type == pipeline::InputConfig::Type::kKafka; });
  const std::string name = kafka != settings.inputs.end() ? kafka->group_id : "trailwatch";
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
      if (kafka == settings.inputs.end()) {
        return pipeline::invalid_argument("the kafka state store needs a Kafka input");
      }
      connectors::KafkaStateStore::Options options;
      options.topic = state.topic;
      options.name = name;
      TW_ASSIGN_OR_RETURN(std::unique_ptr<connectors::KafkaStateStore> store,
                          connectors::KafkaStateStore::open(
                              client_properties(settings, kafka->properties), options));
      return std::unique_ptr<connectors::StateStore>(std::move(store));
    }
  }
  return std::unique_ptr<connectors::StateStore>();
}

/// Loads the newest checkpoint from `store` into `runtime` and `restored`; none is fine.
pipeline::Status restore_state(connectors::StateStore& store, pipeline::Runtime& runtime,
                               AlarmBoard& board, LiveCheckpoint& restored, std::ostream& err) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.load());
  if (!bytes) {
    err << "trailwatch run: no checkpoint in " << store.describe() << "; starting empty\n";
    return {};
  }
  TW_ASSIGN_OR_RETURN(LiveCheckpoint checkpoint, decode_live_checkpoint(*bytes));
  TW_RETURN_IF_ERROR(runtime.restore(checkpoint.runtime));
  board.load(checkpoint.board);
  err << "trailwatch run: state restored from " << store.describe() << " (" << bytes->size()
      << " bytes; " << checkpoint.kafka_offsets.size() << " partition offset(s), "
      << checkpoint.file_records.size() << " file position(s))\n";
  restored = std::move(checkpoint);
  return {};
}

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
  std::array<LineSink*, 3> streams{};
  const std::array<const std::string*, 3> targets = {
      &settings.outputs.emissions, &settings.outputs.datapoints, &settings.outputs.dead_letters};
  for (size_t i = 0; i < streams.size(); ++i) {
    pipeline::Result<LineSink*> sink = open_sink(*targets.at(i));
    if (!sink.is_ok()) {
      err << "trailwatch run: " << sink.status().message() << "\n";
      return kExitIoError;
    }
    streams.at(i) = sink.value();
  }

  AlarmBoard board(config);
  LiveOutput output(settings, streams[0], streams[1], streams[2], board);
  LiveMetrics metrics;
  CompositeStage composites(loaded.config);
  int shards = parsed->shards.value_or(settings.shards);
  if (shards <= 0) {
    shards = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  }
  // The configuration the alarms run with; replaced by a reload.
  std::shared_ptr<const pipeline::Config> current = loaded.config;
  std::atomic<uint64_t> evaluations{0};
  const auto processors = [&](int index, int count, pipeline::SeriesInterner& interner) {
    return std::make_unique<AlarmShardProcessor>(
        current, index, count, interner,
        AlarmShardOptions{/*datapoints=*/streams[1] != nullptr, &evaluations});
  };
  pipeline::Runtime runtime(settings,
                            pipeline::RuntimeOptions{shards, evaluation_step(config), &composites},
                            processors, output);

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

  // State: the newest checkpoint is restored before anything is read.
  std::unique_ptr<connectors::StateStore> store;
  LiveCheckpoint restored;
  {
    const auto started = Clock::now();
    pipeline::Result<std::unique_ptr<connectors::StateStore>> opened =
        open_state_store(settings, parsed->config);
    if (!opened.is_ok()) {
      err << "trailwatch run: state: " << opened.status().message() << "\n";
      return kExitIoError;
    }
    store = std::move(opened).value();
    if (store) {
      const pipeline::Status restore_status = restore_state(*store, runtime, board, restored, err);
      if (!restore_status.is_ok()) {
        err << "trailwatch run: state: " << restore_status.message()
            << "\ntrailwatch run: not starting: the state cannot be restored (to start without "
               "it, set trailwatch.state.store to \"none\" or remove the checkpoint)\n";
        return kExitIoError;
      }
    }
    metrics.set_restore_seconds(std::chrono::duration<double>(Clock::now() - started).count());
  }
  phase.store(Phase::kAssigning);

  // Durability: emissions delivered, then (with a store) the state checkpointed together with
  // the input positions it reflects, then those offsets committed. Returns whether it all
  // succeeded.
  std::vector<std::unique_ptr<KafkaInput>> kafka_inputs;
  std::map<std::string, uint64_t> file_positions = restored.file_records;
  bool runtime_finished = false;
  auto last_checkpoint = Clock::now();
  uint64_t progress_at_checkpoint = 0;
  const auto progress = [&] {
    const pipeline::RuntimeStats stats = runtime.stats();
    uint64_t n = stats.watermark_steps;
    for (const pipeline::InputStats& input : stats.inputs) {
      n += input.records;
    }
    return n;
  };
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
    for (auto& input : kafka_inputs) {
      if (const pipeline::Status s = input->commit(); !s.is_ok()) {
        err << "trailwatch run: input \"" << input->name() << "\": commit: " << s.message() << "\n";
      }
    }
  };
  const auto checkpoint = [&]() -> bool {
    if (!store || runtime_finished) {
      return false;
    }
    const auto started = Clock::now();
    LiveCheckpoint state;
    state.runtime = runtime.checkpoint();  // Also writes every finished step's emissions.
    if (!flush_outputs()) {
      metrics.checkpoint_done(false, 0, 0);
      return false;
    }
    state.file_records = file_positions;
    state.board = board.save();
    for (const auto& input : kafka_inputs) {
      input->positions(state);
    }
    const std::string bytes = encode(state);
    const pipeline::Status saved = store->save(bytes);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    metrics.checkpoint_done(saved.is_ok(), bytes.size(), seconds);
    if (!saved.is_ok()) {
      err << "trailwatch run: checkpoint: " << saved.message() << "\n";
      return false;
    }
    last_checkpoint = Clock::now();
    progress_at_checkpoint = progress();
    commit_inputs();
    return true;
  };

  // Inputs: files and stdin are read to their end first; Kafka inputs are consumed until stopped.
  for (const pipeline::InputConfig& input : settings.inputs) {
    if (input.type == pipeline::InputConfig::Type::kKafka) {
      kafka_inputs.push_back(std::make_unique<KafkaInput>(input, config, runtime, restored,
                                                          [&checkpoint] { (void)checkpoint(); }));
      if (const pipeline::Status s = kafka_inputs.back()->open(); !s.is_ok()) {
        err << "trailwatch run: " << s.message() << "\n";
        return kExitIoError;
      }
    }
  }

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
    runtime.replace_processors(processors);
    composites.reconfigure(current);
    board.reconfigure(*current);
    err << "trailwatch run: configuration reloaded: " << current->metric_alarms.size()
        << " metric alarm(s), " << current->composite_alarms.size() << " composite alarm(s)\n";
  };

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
    const pipeline::InputId id = add_runtime_input(runtime, config, input, input.name);
    uint64_t& position = file_positions[input.name];
    connectors::RuntimeConsumer consumer(runtime, id, position);
    while (!g_stop.load() && source.pump(consumer, kPollRecords)) {
      position = consumer.records();
      if (store && Clock::now() - last_checkpoint >=
                       std::chrono::milliseconds(settings.state.checkpoint_interval.millis())) {
        (void)checkpoint();
      }
    }
    position = consumer.records();
    if (!g_stop.load()) {
      runtime.finish_input(id);
    }
  }

  // The main loop.
  const Duration idle_timeout = settings.idle_timeout;
  const Duration lateness = std::max(settings.metric_lateness, settings.cloudtrail_lateness);
  int code = kExitOk;
  if (kafka_inputs.empty()) {
    phase.store(Phase::kReady);
  }
  uint64_t consumed = 0;
  std::optional<Clock::time_point> first_record;
  Clock::time_point last_record;
  while (!g_stop.load() && !kafka_inputs.empty()) {
    const Clock::time_point cause = Clock::now();
    if (cause - last_mtime_check > std::chrono::seconds(1)) {
      last_mtime_check = cause;
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
    for (auto& input : kafka_inputs) {
      pipeline::Result<size_t> n = input->poll(kPollTimeout);
      if (!n.is_ok()) {
        err << "trailwatch run: input \"" << input->name() << "\": " << n.status().message()
            << "\n";
        g_stop.store(true);
        code = kExitIoError;
        break;
      }
      records += n.value();
    }
    if (records > 0) {
      consumed += records;
      last_record = Clock::now();
      if (!first_record) {
        first_record = cause;
      }
    }
    const bool assigned = std::all_of(kafka_inputs.begin(), kafka_inputs.end(),
                                      [](const auto& i) { return i->assigned(); });
    phase.store(assigned ? Phase::kReady : Phase::kAssigning);
    const auto now = Clock::now();
    bool all_idle = true;
    for (auto& input : kafka_inputs) {
      all_idle = input->update_idleness(now, idle_timeout) && all_idle;
      metrics.set_consumer_lag(input->name(), input->lag());
    }
    // Only once every input has its partitions: before that, "no partition is active" says
    // nothing about the data.
    if (all_idle && phase.load() == Phase::kReady && !parsed->until_idle) {
      const auto wall = std::chrono::system_clock::now().time_since_epoch();
      runtime.advance_idle_watermark(
          EventTime::from_millis(
              std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()) -
          lateness);
    }
    runtime.collect_finished_steps();
    if (records > 0 || all_idle) {
      // Emissions are delivered at once (latency); offsets are committed only after what they
      // caused is durable: here without a state store, after the next checkpoint with one.
      if (flush_outputs()) {
        const double latency = std::chrono::duration<double>(Clock::now() - cause).count();
        for (; output.undelivered_events > 0; --output.undelivered_events) {
          metrics.observe_latency(latency);
        }
        if (!store) {
          commit_inputs();
        }
      }
    }
    if (store && Clock::now() - last_checkpoint >=
                     std::chrono::milliseconds(settings.state.checkpoint_interval.millis())) {
      if (progress() != progress_at_checkpoint) {
        (void)checkpoint();
      } else {
        last_checkpoint = Clock::now();  // Nothing changed: the last checkpoint is current.
      }
    }
    metrics.update(runtime.stats(), output.transitions, board.count_by_state());
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
  const bool ends_with_input =
      kafka_inputs.empty() ? (!stopped || !store) : (parsed->until_idle && !stopped);
  if (store && !checkpoint()) {
    code = kExitIoError;
  }
  if (ends_with_input) {
    runtime.finish();
    runtime_finished = true;
  } else {
    runtime.collect_finished_steps();
  }
  if (!flush_outputs()) {
    code = kExitIoError;
  } else if (!store) {
    commit_inputs();
  }
  for (auto& input : kafka_inputs) {
    input->set_closing();
  }
  for (auto& input : kafka_inputs) {
    (void)input->close();
  }
  http.stop();
  return code;
}

}  // namespace tw::app
