// trailwatch-mock-kafka: a mock Kafka cluster in its own process (tools/README.md).
//
// Prints the bootstrap list on one line of standard output, then serves until SIGINT or SIGTERM,
// or until standard input reaches its end, so that a test or script that spawned it with a pipe
// stops it by closing the pipe, even if it dies without cleaning up.

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/kafka_mock.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kMaxReplication = 3;

constexpr std::string_view kUsage =
    "usage: trailwatch-mock-kafka [--brokers N] [--topic NAME:PARTITIONS]...\n"
    "\n"
    "Starts librdkafka's mock Kafka cluster on loopback, prints its bootstrap servers on one\n"
    "line, and serves until SIGINT/SIGTERM or until standard input ends (it is ignored when it\n"
    "is /dev/null).\n"
    "\n"
    "  --brokers N               number of brokers, 1..64 (default 3)\n"
    "  --topic NAME:PARTITIONS   create a topic, replicated on min(3, N) brokers (repeatable);\n"
    "                            other topics are created on first use with 4 partitions\n";

struct TopicSpec {
  std::string name;
  int partitions = 0;
};

struct Options {
  int brokers = 3;
  std::vector<TopicSpec> topics;
};

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// Returns the options, or prints what is wrong and returns nullopt.
std::optional<Options> parse_args(const std::vector<std::string_view>& args, bool* help) {
  Options options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::optional<std::string_view> value;
    if (const size_t eq = flag.find('='); flag.starts_with("--") && eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--help" || flag == "-h") {
      *help = true;
      return options;
    }
    if (flag != "--brokers" && flag != "--topic") {
      std::cerr << "trailwatch-mock-kafka: unknown argument '" << flag << "'\n";
      return std::nullopt;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        std::cerr << "trailwatch-mock-kafka: " << flag << " needs a value\n";
        return std::nullopt;
      }
      value = args[++i];
    }
    if (flag == "--brokers") {
      const std::optional<int> brokers = parse_int(*value);
      if (!brokers || *brokers < 1 || *brokers > 64) {
        std::cerr << "trailwatch-mock-kafka: --brokers takes 1..64, not '" << *value << "'\n";
        return std::nullopt;
      }
      options.brokers = *brokers;
      continue;
    }
    const size_t colon = value->rfind(':');
    const std::optional<int> partitions =
        colon == std::string_view::npos ? std::nullopt : parse_int(value->substr(colon + 1));
    if (colon == 0 || !partitions || *partitions < 1) {
      std::cerr << "trailwatch-mock-kafka: --topic takes NAME:PARTITIONS, not '" << *value << "'\n";
      return std::nullopt;
    }
    options.topics.push_back({std::string(value->substr(0, colon)), *partitions});
  }
  return options;
}

// True when standard input is /dev/null (a background job, a service): its end is not a request
// to stop.
bool stdin_is_dev_null() {
  struct stat in {};

  struct stat null {};

  return fstat(STDIN_FILENO, &in) == 0 && stat("/dev/null", &null) == 0 && S_ISCHR(in.st_mode) &&
         in.st_rdev == null.st_rdev;
}

// Waits for SIGINT/SIGTERM (through `signal_fd`) or the end of standard input.
int serve(int signal_fd, bool watch_stdin) {
  std::array<pollfd, 2> fds{};
  fds[0] = {signal_fd, POLLIN, 0};
  fds[1] = {watch_stdin ? STDIN_FILENO : -1, POLLIN, 0};
  std::array<char, 4096> buffer{};
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::perror("trailwatch-mock-kafka: poll");
      return kExitFailure;
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info{};
      if (read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        std::cerr << "trailwatch-mock-kafka: signal " << info.ssi_signo << ", stopping\n";
      }
      return kExitOk;
    }
    if (fds[1].revents != 0) {
      // Whatever is written to standard input is discarded; only its end matters.
      const ssize_t n = read(STDIN_FILENO, buffer.data(), buffer.size());
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        std::cerr << "trailwatch-mock-kafka: standard input closed, stopping\n";
        return kExitOk;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  bool help = false;
  const std::optional<Options> options = parse_args(args, &help);
  if (help) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (!options) {
    std::cerr << kUsage;
    return kExitUsage;
  }

  // Blocked before the cluster starts, so librdkafka's threads inherit the mask and the signals
  // reach only the signalfd.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    std::perror("trailwatch-mock-kafka: pthread_sigmask");
    return kExitFailure;
  }
  const int signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::perror("trailwatch-mock-kafka: signalfd");
    return kExitFailure;
  }
  // A reader that went away must not kill the cluster mid-line: the write error is reported.
  std::signal(SIGPIPE, SIG_IGN);

  auto cluster = tw::connectors::MockKafkaCluster::create(options->brokers);
  if (!cluster.is_ok()) {
    std::cerr << "trailwatch-mock-kafka: " << cluster.status().to_string() << "\n";
    return kExitFailure;
  }
  const int replication = std::min(options->brokers, kMaxReplication);
  for (const TopicSpec& topic : options->topics) {
    if (const tw::pipeline::Status status =
            (*cluster)->create_topic(topic.name, topic.partitions, replication);
        !status.is_ok()) {
      std::cerr << "trailwatch-mock-kafka: " << status.to_string() << "\n";
      return kExitFailure;
    }
  }

  std::cout << (*cluster)->bootstraps() << std::endl;  // NOLINT(performance-avoid-endl): flushed
  if (!std::cout) {
    std::cerr << "trailwatch-mock-kafka: cannot write to standard output\n";
    return kExitFailure;
  }
  std::cerr << "trailwatch-mock-kafka: " << options->brokers << " broker(s) at "
            << (*cluster)->bootstraps() << "\n";
  const int code = serve(signal_fd, !stdin_is_dev_null());
  close(signal_fd);
  return code;
}
