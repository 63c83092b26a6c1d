#include "app/replay_command.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "app/alarm_shard.h"
#include "app/cli_args.h"
#include "app/composite_stage.h"
#include "app/config_check.h"
#include "app/inputs.h"
#include "app/output_lines.h"
#include "connectors/file_source.h"
#include "connectors/jsonl_writer.h"
#include "pipeline/runtime.h"

namespace tw::app {
namespace {

using pipeline::Duration;
using pipeline::InputFormat;

constexpr std::string_view kUsage =
    "usage: trailwatch replay --config FILE [--input PATH ...] [--output FILE] "
    "[--datapoints FILE] [--actions FILE] [--dead-letters FILE] [--shards N] [--quiet]";

// Records read from one input before the scheduler looks again for the input that lags most.
constexpr size_t kPumpRecords = 1024;

/// Writes the runtime's three streams as JSON lines.
class ReplayOutput final : public pipeline::RuntimeOutput {
 public:
  ReplayOutput(connectors::JsonLinesWriter* events, connectors::JsonLinesWriter* datapoints,
               connectors::JsonLinesWriter* actions, connectors::JsonLinesWriter* dead_letters)
      : events_(events), datapoints_(datapoints), actions_(actions), dead_letters_(dead_letters) {}

  void write_emissions(std::span<const pipeline::Emission> emissions) override {
    for (const pipeline::Emission& e : emissions) {
      connectors::JsonLinesWriter* w = e.stream == pipeline::EmissionStream::kEvents ? events_
                                       : e.stream == pipeline::EmissionStream::kActions
                                           ? actions_
                                           : datapoints_;
      if (w != nullptr) {
        w->write_line(e.json);
      }
    }
  }

  void write_dead_letter(const pipeline::DeadLetter& letter) override {
    if (dead_letters_ == nullptr) {
      return;
    }
    dead_letters_->write_line(format_dead_letter_line(letter));
  }

 private:
  connectors::JsonLinesWriter* events_;
  connectors::JsonLinesWriter* datapoints_;
  connectors::JsonLinesWriter* actions_;
  connectors::JsonLinesWriter* dead_letters_;
};

struct ReplayArgs {
  std::string config;
  std::vector<std::string> inputs;
  std::optional<std::string> output;
  std::optional<std::string> datapoints;
  std::optional<std::string> actions;
  std::optional<std::string> dead_letters;
  std::optional<int> shards;
  bool quiet = false;
};

// Parses replay's arguments. nullopt with `exit_code` set when the run must stop: a usage error
// (kExitUsage, message on `err`) or `--help` (kExitOk, usage on `out`).
std::optional<ReplayArgs> parse_args(const std::vector<std::string>& args, std::ostream& out,
                                     std::ostream& err, int& exit_code) {
  static const std::vector<std::string> kValueFlags = {
      "--config", "--input", "--output", "--datapoints", "--actions", "--dead-letters", "--shards"};
  ReplayArgs parsed;
  ArgReader reader(args);
  exit_code = kExitUsage;
  while (!reader.done()) {
    const std::string flag = reader.next();
    if (flag == "--help" || flag == "-h") {
      out << kUsage << "\n";
      exit_code = kExitOk;
      return std::nullopt;
    }
    if (flag == "--quiet") {
      parsed.quiet = true;
      continue;
    }
    // Check the flag before taking a value, so that a typo does not swallow the next argument.
    if (std::find(kValueFlags.begin(), kValueFlags.end(), flag) == kValueFlags.end()) {
      err << "trailwatch replay: unknown option " << flag << "\n" << kUsage << "\n";
      return std::nullopt;
    }
    std::optional<std::string> value = reader.value_for(flag, err);
    if (!value) {
      return std::nullopt;
    }
    if (flag == "--config") {
      parsed.config = *value;
    } else if (flag == "--input") {
      parsed.inputs.push_back(*value);
    } else if (flag == "--output") {
      parsed.output = *value;
    } else if (flag == "--datapoints") {
      parsed.datapoints = *value;
    } else if (flag == "--actions") {
      parsed.actions = *value;
    } else if (flag == "--dead-letters") {
      parsed.dead_letters = *value;
    } else {
      const std::optional<int> n = parse_int(*value);
      if (!n || *n < 1 || *n > 256) {
        err << "trailwatch replay: --shards takes an integer from 1 to 256\n";
        return std::nullopt;
      }
      parsed.shards = *n;
    }
  }
  if (parsed.config.empty()) {
    err << "trailwatch replay: --config is required\n" << kUsage << "\n";
    return std::nullopt;
  }
  return parsed;
}

void print_summary(const pipeline::RuntimeStats& stats, size_t alarms, uint64_t evaluations,
                   std::ostream& err) {
  uint64_t records = 0;
  uint64_t datapoints = 0;
  uint64_t events = 0;
  uint64_t dropped = 0;
  pipeline::DropCounters by_reason;
  for (const pipeline::InputStats& input : stats.inputs) {
    records += input.records;
    datapoints += input.datapoints;
    events += input.cloudtrail_events;
    dropped += input.dropped;
    for (size_t i = 0; i < pipeline::kDropReasonCount; ++i) {
      by_reason.by_reason.at(i) += input.dropped_by_reason.by_reason.at(i);
    }
  }
  err << "trailwatch replay: " << stats.inputs.size() << " input(s), " << records
      << " records: " << datapoints << " datapoints, " << events << " CloudTrail events, "
      << dropped << " dropped";
  if (dropped > 0) {
    err << " (";
    bool first = true;
    for (size_t i = 0; i < pipeline::kDropReasonCount; ++i) {
      if (by_reason.by_reason.at(i) > 0) {
        err << (first ? "" : ", ") << pipeline::to_string(static_cast<pipeline::DropReason>(i))
            << " " << by_reason.by_reason.at(i);
        first = false;
      }
    }
    err << ")";
  }
  err << "; " << stats.series << " series; " << alarms << " alarm(s) evaluated " << evaluations
      << " times; " << stats.emissions << " event(s) emitted";
  if (stats.watermark != pipeline::EventTime::min()) {
    err << "; watermark " << pipeline::format_iso8601_seconds(stats.watermark);
  }
  err << "\n";
}

std::string cell(const std::optional<double>& v) {
  if (!v) {
    return "-";
  }
  std::ostringstream text;
  text << std::setprecision(4) << *v;
  return text.str();
}

// A table of what every alarm saw, metric alarms in configuration order (they are spread over
// shards), then composite alarms children first.
void print_alarm_table(std::vector<AlarmRunSummary> summaries,
                       const std::vector<AlarmRunSummary>& composites,
                       const pipeline::Config& config, std::ostream& err) {
  std::unordered_map<std::string_view, size_t> position;
  for (size_t i = 0; i < config.metric_alarms.size(); ++i) {
    position.emplace(config.metric_alarms[i].alarm_name, i);
  }
  std::sort(summaries.begin(), summaries.end(), [&](const auto& a, const auto& b) {
    return position[a.alarm_name] < position[b.alarm_name];
  });
  summaries.insert(summaries.end(), composites.begin(), composites.end());
  size_t width = 5;
  for (const AlarmRunSummary& s : summaries) {
    width = std::max(width, s.alarm_name.size());
  }
  err << std::left << std::setw(static_cast<int>(width)) << "alarm"
      << "  " << std::setw(12) << "statistic" << std::right << std::setw(10) << "evaluated"
      << std::setw(9) << "w/ data" << std::setw(10) << "min" << std::setw(10) << "max"
      << std::setw(10) << "last" << std::setw(13) << "transitions"
      << "  state\n";
  for (const AlarmRunSummary& s : summaries) {
    const bool composite = s.statistic == "composite";
    err << std::left << std::setw(static_cast<int>(width)) << s.alarm_name << "  " << std::setw(12)
        << s.statistic << std::right << std::setw(10)
        << (composite ? "-" : std::to_string(s.evaluations)) << std::setw(9)
        << (composite ? "-" : std::to_string(s.periods_with_data)) << std::setw(10)
        << cell(s.minimum) << std::setw(10) << cell(s.maximum) << std::setw(10) << cell(s.last)
        << std::setw(13) << s.transitions << "  " << s.state << "\n";
  }
}

}  // namespace

int run_replay(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  int exit_code = kExitOk;
  const std::optional<ReplayArgs> parsed = parse_args(args, out, err, exit_code);
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

  // Inputs: the command line's, else the configuration's.
  std::vector<pipeline::InputConfig> inputs;
  for (const std::string& path : parsed->inputs) {
    pipeline::InputConfig input;
    input.name = path;
    input.type =
        path == "-" ? pipeline::InputConfig::Type::kStdin : pipeline::InputConfig::Type::kFile;
    input.path = path;
    inputs.push_back(std::move(input));
  }
  if (inputs.empty()) {
    for (pipeline::InputConfig input : settings.inputs) {
      if (input.type == pipeline::InputConfig::Type::kKafka) {
        // Replay reads what is at rest; a topic has no end. Export it (kcat -e) and replay that.
        err << "trailwatch replay: input \"" << input.name << "\" is the Kafka topic \""
            << input.topic
            << "\"; replay reads files and standard input (pass --input PATH), and `trailwatch "
               "run` consumes Kafka\n";
        return kExitUsage;
      }
      inputs.push_back(resolve_input_path(std::move(input), parsed->config));
    }
  }
  if (inputs.empty()) {
    err << "trailwatch replay: no input: pass --input PATH or list inputs in the configuration\n";
    return kExitUsage;
  }

  // Open every input before any output, so that a run that cannot start leaves earlier outputs
  // untouched.
  struct OpenInput {
    pipeline::InputId id;
    std::unique_ptr<connectors::FileSource> source;
    std::unique_ptr<connectors::RuntimeConsumer> consumer;
    bool done = false;
  };

  std::vector<OpenInput> open_inputs;
  for (const pipeline::InputConfig& input : inputs) {
    auto source = std::make_unique<connectors::FileSource>(file_source_options(input, settings));
    if (const pipeline::Status s = source->open(); !s.is_ok()) {
      err << "trailwatch replay: " << s.message() << "\n";
      return kExitIoError;
    }
    open_inputs.push_back(OpenInput{pipeline::InputId{}, std::move(source), nullptr});
  }

  connectors::JsonLinesWriter events_writer;
  connectors::JsonLinesWriter datapoints_writer;
  connectors::JsonLinesWriter actions_writer;
  connectors::JsonLinesWriter dead_letter_writer;
  const std::string actions_path = parsed->actions.value_or(settings.outputs.actions);
  const std::string events_path = parsed->output.value_or(settings.outputs.emissions);
  const std::string datapoints_path = parsed->datapoints.value_or(settings.outputs.datapoints);
  const std::string dead_letters_path =
      parsed->dead_letters.value_or(settings.outputs.dead_letters);
  for (auto [writer, path] :
       {std::pair{&events_writer, events_path}, std::pair{&datapoints_writer, datapoints_path},
        std::pair{&actions_writer, actions_path},
        std::pair{&dead_letter_writer, dead_letters_path}}) {
    if (path.empty()) {
      continue;
    }
    if (path.starts_with("kafka:")) {
      err << "trailwatch replay: output " << path
          << " is a Kafka topic; replay writes files or standard output (use --output, "
             "--dead-letters)\n";
      return kExitUsage;
    }
    if (const pipeline::Status s = writer->open(path); !s.is_ok()) {
      err << "trailwatch replay: " << s.message() << "\n";
      return kExitIoError;
    }
  }
  ReplayOutput output(events_writer.is_open() ? &events_writer : nullptr,
                      datapoints_writer.is_open() ? &datapoints_writer : nullptr,
                      actions_writer.is_open() ? &actions_writer : nullptr,
                      dead_letter_writer.is_open() ? &dead_letter_writer : nullptr);

  int shards = parsed->shards.value_or(settings.shards);
  if (shards <= 0) {
    shards = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  }
  size_t alarms = 0;
  std::vector<const AlarmShardProcessor*> processors;
  CompositeStage composites(loaded.config);
  pipeline::Runtime runtime(
      settings, pipeline::RuntimeOptions{shards, evaluation_step(config), &composites},
      [&](int index, int count, pipeline::SeriesInterner& interner) {
        auto processor = std::make_unique<AlarmShardProcessor>(
            loaded.config, index, count, interner,
            AlarmShardOptions{/*datapoints=*/datapoints_writer.is_open()});
        alarms += processor->alarm_count();
        processors.push_back(processor.get());
        return processor;
      },
      output);

  for (size_t i = 0; i < inputs.size(); ++i) {
    const pipeline::InputConfig& input = inputs[i];
    OpenInput& open = open_inputs[i];
    const pipeline::InputId id = add_runtime_input(runtime, config, input, input.name);
    open.id = id;
    open.consumer = std::make_unique<connectors::RuntimeConsumer>(runtime, id);
  }

  // Read from the input whose watermark lags most, so that one input read to its end does not
  // make the others' records late (each input's lateness is judged against its own watermark, so
  // the output does not depend on this interleaving — it only keeps state small).
  while (true) {
    OpenInput* next = nullptr;
    for (OpenInput& input : open_inputs) {
      if (!input.done && (next == nullptr ||
                          runtime.input_watermark(input.id) < runtime.input_watermark(next->id))) {
        next = &input;
      }
    }
    if (next == nullptr) {
      break;
    }
    if (!next->source->pump(*next->consumer, kPumpRecords)) {
      next->done = true;
      runtime.finish_input(next->id);
    }
  }
  runtime.finish();

  int code = kExitOk;
  for (connectors::JsonLinesWriter* writer :
       {&events_writer, &datapoints_writer, &actions_writer, &dead_letter_writer}) {
    if (const pipeline::Status s = writer->close(); !s.is_ok()) {
      err << "trailwatch replay: " << s.message() << "\n";
      code = kExitIoError;
    }
  }
  if (!parsed->quiet) {
    std::vector<AlarmRunSummary> summaries;
    for (const AlarmShardProcessor* p : processors) {
      const auto s = p->summaries();
      summaries.insert(summaries.end(), s.begin(), s.end());
    }
    const std::vector<AlarmRunSummary> composite_summaries = composites.summaries();
    uint64_t evaluations = 0;
    for (const AlarmRunSummary& summary : summaries) {
      evaluations += summary.evaluations;
    }
    print_summary(runtime.stats(), alarms, evaluations, err);
    print_alarm_table(summaries, composite_summaries, config, err);
  }
  return code;
}

}  // namespace tw::app
