#include "app/task_plan.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "detectors/composite_alarm.h"

namespace tw::app {
namespace {

/// FNV-1a, 64 bits: stable across builds, platforms and versions (std::hash is none of these).
uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 14695981039346656037ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

int bucket(std::string_view text, int tasks) {
  return static_cast<int>(fnv1a64(text) % static_cast<uint64_t>(tasks));
}

/// Union-find over alarm indices.
class Groups {
 public:
  explicit Groups(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), size_t{0}); }

  size_t find(size_t i) {
    while (parent_[i] != i) {
      parent_[i] = parent_[parent_[i]];
      i = parent_[i];
    }
    return i;
  }

  void join(size_t a, size_t b) { parent_[find(a)] = find(b); }

 private:
  std::vector<size_t> parent_;
};

}  // namespace

TaskPlan::TaskPlan(const pipeline::Config& config, int tasks)
    : config_(config), tasks_(std::max(1, tasks)) {
  std::vector<std::string> names;
  std::map<std::string, size_t, std::less<>> index;
  for (const pipeline::MetricAlarmConfig& a : config.metric_alarms) {
    index.emplace(a.alarm_name, names.size());
    names.push_back(a.alarm_name);
  }
  for (const pipeline::CompositeAlarmConfig& a : config.composite_alarms) {
    index.emplace(a.alarm_name, names.size());
    names.push_back(a.alarm_name);
  }
  Groups groups(names.size());
  for (const pipeline::CompositeAlarmConfig& a : config.composite_alarms) {
    pipeline::Result<detectors::CompositeAlarm> composite =
        detectors::CompositeAlarm::create(a, config.settings);
    if (!composite.is_ok()) {
      continue;
    }
    std::vector<std::string> related = composite.value().children();
    if (!composite.value().suppressor().empty()) {
      related.push_back(composite.value().suppressor());
    }
    const size_t self = index.at(a.alarm_name);
    for (const std::string& other : related) {
      if (auto it = index.find(other); it != index.end()) {
        groups.join(self, it->second);
      }
    }
  }
  std::map<size_t, std::string> smallest;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string& s = smallest[groups.find(i)];
    if (s.empty() || names[i] < s) {
      s = names[i];
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    group_.emplace(names[i], smallest[groups.find(i)]);
  }
}

int TaskPlan::task_of(std::string_view alarm_name) const {
  const auto it = group_.find(alarm_name);
  return it == group_.end() ? -1 : bucket(it->second, tasks_);
}

std::string TaskPlan::group_of(std::string_view alarm_name) const {
  const auto it = group_.find(alarm_name);
  return it == group_.end() ? std::string() : it->second;
}

std::shared_ptr<const pipeline::Config> TaskPlan::config_for(const std::set<int>& tasks) const {
  auto out = std::make_shared<pipeline::Config>(config_);
  std::erase_if(out->metric_alarms, [&](const pipeline::MetricAlarmConfig& a) {
    return !tasks.contains(task_of(a.alarm_name));
  });
  std::erase_if(out->composite_alarms, [&](const pipeline::CompositeAlarmConfig& a) {
    return !tasks.contains(task_of(a.alarm_name));
  });
  return out;
}

int reporting_task(std::string_view runtime_input_name, int tasks) {
  return bucket(runtime_input_name, std::max(1, tasks));
}

}  // namespace tw::app
