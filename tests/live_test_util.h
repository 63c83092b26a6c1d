#pragma once

// Helpers for the live-mode suites: the `trailwatch run` binary as a child process, files read
// back, and the key that keeps one metric series in one Kafka partition.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/replay_test_util.h"  // read_file

extern char** environ;

namespace tw::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// A `trailwatch run` child process, stopped with SIGTERM by its owner.
class Worker {
 public:
  Worker(const fs::path& config, const fs::path& log, std::vector<std::string> extra = {})
      : log_(log) {
    const std::string binary = std::string(TW_BINARY_DIR) + "/app/trailwatch";
    std::vector<std::string> args = {binary, "run", "--config", config.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    started_ = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
  }

  ~Worker() {
    if (started_ && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  Worker(Worker&&) = delete;
  Worker& operator=(Worker&&) = delete;

  [[nodiscard]] bool started() const { return started_; }

  // The port the worker printed ("http endpoint on port N"), once it did.
  [[nodiscard]] int http_port() const {
    const std::string log = read_file(log_);
    const std::string marker = "http endpoint on port ";
    const size_t at = log.find(marker);
    return at == std::string::npos ? 0 : std::stoi(log.substr(at + marker.size()));
  }

  void signal(int number) const { kill(pid_, number); }

  // Waits until the worker's log contains `text`.
  [[nodiscard]] bool log_shows(const std::string& text, std::chrono::seconds limit) const {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (read_file(log_).find(text) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Sends SIGTERM and returns the exit status (-1 if it did not exit in `limit`).
  int terminate(std::chrono::seconds limit) {
    kill(pid_, SIGTERM);
    return wait(limit);
  }

  // The exit status once it exits by itself (-1 if it did not exit in `limit`).
  int wait(std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    int status = 0;
    while (Clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        waited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

 private:
  fs::path log_;
  pid_t pid_ = 0;
  bool started_ = false;
  bool waited_ = false;
};

// The series key of a metric-stream line, so that one series stays in one partition (in order).
inline std::string series_key(const std::string& line) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return "unparsable";
  }
  return j.value("namespace", "") + "|" + j.value("metric_name", "") + "|" +
         (j.contains("dimensions") ? j["dimensions"].dump() : "");
}

}  // namespace tw::testing
