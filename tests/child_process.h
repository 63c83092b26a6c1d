#pragma once

// Helpers for tests that run real peers as child processes (Debian's Prometheus and
// Alertmanager, the trailwatch binary): a free loopback port, a temporary directory, and a child
// process whose output goes to a log file.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "connectors/test_temp_dir.h"

// POSIX defines `environ` but no header declares it; posix_spawn passes it on to the child.
extern char** environ;  // NOLINT

namespace tw::testing {

using namespace std::chrono_literals;

/// A port that was free a moment ago: bound to 127.0.0.1:0, read back, released. Another
/// process could take it in between; on a test machine that is rare enough.
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return 0;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  // sockaddr_in is passed as the sockaddr it extends: the sockets API is built that way.
  auto* generic = reinterpret_cast<sockaddr*>(&address);  // NOLINT
  if (::bind(fd, generic, sizeof address) == 0 && ::getsockname(fd, generic, &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

/// A child process with stdout and stderr in a log file. The destructor stops it: SIGTERM,
/// up to 10 s for a clean exit, then SIGKILL; it is always reaped.
class ChildProcess {
 public:
  ChildProcess() = default;

  ~ChildProcess() { stop(); }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&&) = delete;
  ChildProcess& operator=(ChildProcess&&) = delete;

  /// Starts `argv[0]` with `argv`; returns an error text, empty on success.
  std::string start(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    log_ = log;
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));  // NOLINT: posix_spawn's signature.
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
      return "posix_spawn " + argv[0] + ": " + std::generic_category().message(error);
    }
    pid_ = pid;
    return "";
  }

  /// Whether the child still runs; reaps it if it has exited.
  bool alive() {
    if (pid_ <= 0) {
      return false;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return false;
    }
    return true;
  }

  void stop() {
    if (!alive()) {
      return;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  /// The last `bytes` of the log, for failure messages.
  [[nodiscard]] std::string log_tail(std::size_t bytes = 4096) const {
    const std::ifstream in(log_, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    const std::string text = content.str();
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
  }

 private:
  pid_t pid_ = 0;
  std::filesystem::path log_;
};

}  // namespace tw::testing
