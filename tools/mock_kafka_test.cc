// Spawns trailwatch-mock-kafka as a separate process, as scripts and end-to-end tests do, and
// talks to it with the project's Kafka clients.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka.h"

namespace tw::connectors {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// A running trailwatch-mock-kafka with pipes on its standard input and output.
class MockKafkaProcess {
 public:
  MockKafkaProcess() = default;

  ~MockKafkaProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close_fd(stdin_);
    close_fd(stdout_);
  }

  MockKafkaProcess(const MockKafkaProcess&) = delete;
  MockKafkaProcess& operator=(const MockKafkaProcess&) = delete;
  MockKafkaProcess(MockKafkaProcess&&) = delete;
  MockKafkaProcess& operator=(MockKafkaProcess&&) = delete;

  // Starts the tool and reads its bootstrap line (empty on failure).
  std::string start(const std::vector<std::string>& args) {
    std::array<int, 2> in{};
    std::array<int, 2> out{};
    if (pipe2(in.data(), O_CLOEXEC) != 0 || pipe2(out.data(), O_CLOEXEC) != 0) {
      return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<std::string> storage = {TW_MOCK_KAFKA_BINARY};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(storage.size() + 1);
    for (std::string& arg : storage) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    const int spawned =
        posix_spawn(&pid_, TW_MOCK_KAFKA_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    if (spawned != 0) {
      pid_ = -1;
      return {};
    }
    return read_line(seconds(20));
  }

  // Closes the tool's standard input, which tells it to stop, and returns its exit status.
  int close_stdin_and_wait() {
    close_fd(stdin_);
    return wait();
  }

  int signal_and_wait(int signal) {
    kill(pid_, signal);
    return wait();
  }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) {
      close(fd);
      fd = -1;
    }
  }

  int wait() {
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) {
      return -1;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string read_line(Clock::duration within) {
    const Clock::time_point deadline = Clock::now() + within;
    std::string line;
    while (Clock::now() < deadline) {
      pollfd fd{stdout_, POLLIN, 0};
      if (::poll(&fd, 1, 100) <= 0) {
        continue;
      }
      char c = 0;
      if (read(stdout_, &c, 1) != 1) {
        return {};
      }
      if (c == '\n') {
        return line;
      }
      line.push_back(c);
    }
    return {};
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
};

TEST(MockKafkaToolTest, ServesProducersAndConsumersUntilStdinCloses) {
  MockKafkaProcess tool;
  const std::string bootstraps = tool.start({"--brokers", "2", "--topic", "metrics:3"});
  ASSERT_FALSE(bootstraps.empty());
  EXPECT_NE(bootstraps.find("127.0.0.1:"), std::string::npos) << bootstraps;
  EXPECT_NE(bootstraps.find(','), std::string::npos) << bootstraps;

  {
    auto producer = KafkaProducer::create({{"bootstrap.servers", bootstraps}});
    ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE((*producer)->produce("metrics", "k", "record-" + std::to_string(i)).is_ok());
    }
    const auto flushed = (*producer)->flush(seconds(30));
    ASSERT_TRUE(flushed.is_ok()) << flushed.to_string();

    auto consumer = KafkaConsumer::create({{"bootstrap.servers", bootstraps},
                                           {"group.id", "tool-test"},
                                           {"session.timeout.ms", "6000"},
                                           {"heartbeat.interval.ms", "500"}},
                                          {"metrics"});
    ASSERT_TRUE(consumer.is_ok()) << consumer.status().to_string();
    std::set<std::string> seen;
    const Clock::time_point deadline = Clock::now() + seconds(20);
    while (seen.size() < 100 && Clock::now() < deadline) {
      auto batch = (*consumer)->poll(100, milliseconds(100));
      ASSERT_TRUE(batch.is_ok()) << batch.status().to_string();
      for (const KafkaRecord& record : *batch) {
        seen.insert(record.value);
      }
    }
    EXPECT_EQ(seen.size(), 100U);
    // The topic was created with 3 partitions, not the 4 of an auto-created one.
    EXPECT_TRUE((*consumer)->query_watermarks("metrics", 2, seconds(5)).is_ok());
    EXPECT_FALSE((*consumer)->query_watermarks("metrics", 3, seconds(5)).is_ok());
  }
  EXPECT_EQ(tool.close_stdin_and_wait(), 0);
}

TEST(MockKafkaToolTest, StopsOnSigterm) {
  MockKafkaProcess tool;
  ASSERT_FALSE(tool.start({}).empty());
  EXPECT_EQ(tool.signal_and_wait(SIGTERM), 0);
}

TEST(MockKafkaToolTest, RejectsBadArguments) {
  MockKafkaProcess tool;
  EXPECT_TRUE(tool.start({"--topic", "no-partitions"}).empty());
  EXPECT_EQ(tool.close_stdin_and_wait(), 2);
}

}  // namespace
}  // namespace tw::connectors
