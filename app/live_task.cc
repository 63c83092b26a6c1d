#include "app/live_task.h"

#include <algorithm>
#include <utility>

#include "app/alarm_shard.h"
#include "app/task_plan.h"

namespace tw::app {

LiveTask::LiveTask(const LiveTaskContext& context, std::shared_ptr<const pipeline::Config> config,
                   int index, int count, std::unique_ptr<connectors::StateStore> store)
    : context_(context),
      config_(std::move(config)),
      index_(index),
      count_(count),
      store_(std::move(store)),
      composites_(std::make_unique<CompositeStage>(config_)) {
  index_alarm_names();
  std::function<bool(const pipeline::DeadLetter&)> reports;
  if (count_ > 1) {
    reports = [this](const pipeline::DeadLetter& letter) {
      return reporting_task(letter.input, count_) == index_;
    };
  }
  output_ = std::make_unique<LiveOutput>(
      context_.whole->settings, context_.events, context_.datapoints, context_.dead_letters,
      *context_.board, *context_.transitions, std::move(reports));
  output_->set_actions(context_.action_lines, context_.dispatcher);
  runtime_ = std::make_unique<pipeline::Runtime>(
      context_.whole->settings,
      pipeline::RuntimeOptions{context_.shards, context_.step, composites_.get()},
      [this](int shard, int shards, pipeline::SeriesInterner& interner) {
        return std::make_unique<AlarmShardProcessor>(
            config_, shard, shards, interner,
            AlarmShardOptions{context_.datapoints != nullptr, context_.evaluations});
      },
      *output_);
}

LiveTask::~LiveTask() = default;

pipeline::Status LiveTask::restore(std::ostream& log) {
  if (!store_) {
    return {};
  }
  TW_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->load());
  if (!bytes) {
    log << "trailwatch run: no checkpoint in " << store_->describe() << "; starting empty\n";
    return {};
  }
  TW_ASSIGN_OR_RETURN(LiveCheckpoint checkpoint, decode_live_checkpoint(*bytes));
  TW_RETURN_IF_ERROR(runtime_->restore(checkpoint.runtime));
  context_.board->load(checkpoint.board);
  log << "trailwatch run: state restored from " << store_->describe() << " (" << bytes->size()
      << " bytes; " << checkpoint.kafka_offsets.size() << " partition offset(s), "
      << checkpoint.file_records.size() << " file position(s))\n";
  file_positions_ = checkpoint.file_records;
  if (context_.dispatcher != nullptr && !checkpoint.actions.empty()) {
    TW_RETURN_IF_ERROR(restore_actions(checkpoint.actions, log));
  }
  restored_ = std::move(checkpoint);
  progress_at_save_ = progress();
  return {};
}

pipeline::Status LiveTask::open_kafka_inputs(KafkaInput::Mode mode,
                                             const std::function<void()>& before_revoke) {
  for (const pipeline::InputConfig& input : context_.whole->settings.inputs) {
    if (input.type != pipeline::InputConfig::Type::kKafka) {
      continue;
    }
    kafka_inputs_.push_back(std::make_unique<KafkaInput>(input, *context_.whole, *runtime_,
                                                         restored_, before_revoke, mode));
    TW_RETURN_IF_ERROR(kafka_inputs_.back()->open());
  }
  return {};
}

pipeline::Result<size_t> LiveTask::poll(std::chrono::milliseconds timeout) {
  size_t records = 0;
  for (auto& input : kafka_inputs_) {
    pipeline::Result<size_t> n = input->poll(timeout);
    if (!n.is_ok()) {
      return pipeline::Status(n.status().code(),
                              "input \"" + input->name() + "\": " + n.status().message());
    }
    records += n.value();
  }
  return records;
}

bool LiveTask::update_idleness(Clock::time_point now, pipeline::Duration idle_timeout,
                               std::optional<pipeline::EventTime> wall_floor) {
  bool all_idle = true;
  for (auto& input : kafka_inputs_) {
    all_idle = input->update_idleness(now, idle_timeout) && all_idle;
  }
  if (all_idle && wall_floor) {
    runtime_->advance_idle_watermark(*wall_floor);
  }
  runtime_->collect_finished_steps();
  return all_idle;
}

pipeline::Status LiveTask::restore_actions(std::string_view bytes, std::ostream& log) {
  pipeline::StateReader in(bytes);
  const std::string_view pending_bytes = in.text();
  std::vector<std::pair<std::string, std::string>> states;
  const uint32_t count = in.count(8);
  for (uint32_t i = 0; i < count && in.ok(); ++i) {
    std::string target(in.text());
    std::string state(in.text());
    states.emplace_back(std::move(target), std::move(state));
  }
  std::optional<std::vector<connectors::PendingAction>> pending =
      connectors::load_pending(pending_bytes);
  if (!in.ok() || !pending) {
    return pipeline::data_loss("live checkpoint: the pending actions are malformed");
  }
  log << "trailwatch run: " << pending->size() << " pending action(s) restored\n";
  context_.dispatcher->load_connector_states(states);
  context_.dispatcher->restore(std::move(*pending));
  return {};
}

LiveCheckpoint LiveTask::snapshot() {
  LiveCheckpoint state;
  state.runtime = runtime_->checkpoint();  // Also writes every finished step's emissions.
  state.file_records = file_positions_;
  if (count_ == 1) {
    state.board = context_.board->save();  // The board holds exactly this task's alarms.
  } else {
    state.board =
        context_.board->save([this](std::string_view name) { return alarm_names_.contains(name); });
  }
  for (const auto& input : kafka_inputs_) {
    input->positions(state);
  }
  if (context_.dispatcher != nullptr) {
    // Taken after the runtime wrote its emissions: every action they caused is either delivered
    // or listed here. A scale-out task keeps those of its own alarms.
    std::vector<connectors::PendingAction> pending = context_.dispatcher->pending();
    if (count_ > 1) {
      std::erase_if(pending, [this](const connectors::PendingAction& p) {
        return !alarm_names_.contains(p.request.notice.alarm_name);
      });
    }
    pipeline::StateWriter pending_bytes;
    connectors::save_pending(pending_bytes, pending);
    pipeline::StateWriter out;
    out.text(pending_bytes.bytes());
    const auto states = context_.dispatcher->connector_states();
    out.u32(static_cast<uint32_t>(states.size()));
    for (const auto& [target, bytes] : states) {
      out.text(target);
      out.text(bytes);
    }
    state.actions = out.take();
  }
  return state;
}

pipeline::Result<size_t> LiveTask::save(const LiveCheckpoint& checkpoint) {
  if (!store_) {
    return size_t{0};
  }
  const std::string bytes = encode(checkpoint);
  TW_RETURN_IF_ERROR(store_->save(bytes));
  progress_at_save_ = progress();
  return bytes.size();
}

void LiveTask::commit(std::ostream& log) {
  for (auto& input : kafka_inputs_) {
    if (const pipeline::Status s = input->commit(); !s.is_ok()) {
      log << "trailwatch run: input \"" << input->name() << "\": commit: " << s.message() << "\n";
    }
  }
}

bool LiveTask::changed_since_save() const {
  return progress() != progress_at_save_;
}

uint64_t LiveTask::progress() const {
  const pipeline::RuntimeStats stats = runtime_->stats();
  uint64_t n = stats.watermark_steps;
  for (const pipeline::InputStats& input : stats.inputs) {
    n += input.records;
  }
  return n;
}

void LiveTask::index_alarm_names() {
  alarm_names_.clear();
  for (const pipeline::MetricAlarmConfig& a : config_->metric_alarms) {
    alarm_names_.insert(a.alarm_name);
  }
  for (const pipeline::CompositeAlarmConfig& a : config_->composite_alarms) {
    alarm_names_.insert(a.alarm_name);
  }
}

void LiveTask::reconfigure(std::shared_ptr<const pipeline::Config> config) {
  config_ = std::move(config);
  index_alarm_names();
  runtime_->replace_processors([this](int shard, int shards, pipeline::SeriesInterner& interner) {
    return std::make_unique<AlarmShardProcessor>(
        config_, shard, shards, interner,
        AlarmShardOptions{context_.datapoints != nullptr, context_.evaluations});
  });
  composites_->reconfigure(config_);
}

bool LiveTask::assigned() const {
  return std::all_of(kafka_inputs_.begin(), kafka_inputs_.end(),
                     [](const auto& i) { return i->assigned(); });
}

int64_t LiveTask::lag(const std::string& input) const {
  for (const auto& i : kafka_inputs_) {
    if (i->name() == input) {
      return i->lag();
    }
  }
  return 0;
}

pipeline::RuntimeStats LiveTask::reported_stats() const {
  pipeline::RuntimeStats stats = runtime_->stats();
  if (count_ > 1) {
    std::erase_if(stats.inputs, [this](const pipeline::InputStats& input) {
      return reporting_task(input.name, count_) != index_;
    });
  }
  return stats;
}

void LiveTask::close_inputs() {
  for (auto& input : kafka_inputs_) {
    input->set_closing();
  }
  for (auto& input : kafka_inputs_) {
    (void)input->close();
  }
}

}  // namespace tw::app
