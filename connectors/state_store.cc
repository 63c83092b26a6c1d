#include "connectors/state_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "pipeline/state_codec.h"

namespace tw::connectors {
namespace {

using pipeline::Result;
using pipeline::Status;

std::string errno_text() {
  return std::strerror(errno);  // NOLINT(concurrency-mt-unsafe): messages only.
}

// Writes all of `bytes` to `fd`.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool fsync_path(const std::string& path, int flags) {
  const int fd =
      ::open(path.c_str(), flags | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (fd < 0) {
    return false;
  }
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// A chunk's header: magic, sequence, index, count, CRC-32 of the whole checkpoint.
constexpr std::string_view kChunkMagic = "TWCH";
constexpr size_t kChunkHeaderBytes = 4 + 8 + 4 + 4 + 4;

}  // namespace

// ---- DirectoryStateStore ---------------------------------------------------------------------

Result<std::unique_ptr<DirectoryStateStore>> DirectoryStateStore::open(const std::string& directory,
                                                                       const std::string& name) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error || !std::filesystem::is_directory(directory)) {
    return pipeline::unavailable("state directory " + directory + ": " +
                                 (error ? error.message() : "not a directory"));
  }
  std::string file = name.empty() ? "trailwatch" : name;
  for (char& c : file) {
    if (c == '/' || c == '\0') {
      c = '_';
    }
  }
  return std::unique_ptr<DirectoryStateStore>(new DirectoryStateStore(
      directory, (std::filesystem::path(directory) / (file + ".checkpoint")).string()));
}

Result<std::optional<std::string>> DirectoryStateStore::load() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path_)) {
      return std::optional<std::string>();
    }
    return pipeline::unavailable("cannot read " + path_ + ": " + errno_text());
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    return pipeline::unavailable("cannot read " + path_);
  }
  return std::optional<std::string>(bytes.str());
}

Status DirectoryStateStore::save(std::string_view bytes) {
  const std::string temporary = path_ + ".tmp";
  const int fd = ::open(temporary.c_str(),  // NOLINT(cppcoreguidelines-pro-type-vararg)
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return pipeline::unavailable("cannot write " + temporary + ": " + errno_text());
  }
  const bool written = write_all(fd, bytes) && ::fsync(fd) == 0;
  const std::string why = written ? "" : errno_text();
  ::close(fd);
  if (!written) {
    return pipeline::unavailable("cannot write " + temporary + ": " + why);
  }
  if (std::rename(temporary.c_str(), path_.c_str()) != 0) {
    return pipeline::unavailable("cannot rename " + temporary + ": " + errno_text());
  }
  if (!fsync_path(directory_, O_RDONLY | O_DIRECTORY)) {
    return pipeline::unavailable("cannot sync " + directory_ + ": " + errno_text());
  }
  return Status::ok();
}

// ---- KafkaStateStore -------------------------------------------------------------------------

Result<std::unique_ptr<KafkaStateStore>> KafkaStateStore::open(const KafkaProperties& properties,
                                                               Options options) {
  if (options.chunk_bytes < 1024) {
    return pipeline::invalid_argument("chunk_bytes must be at least 1024");
  }
  KafkaProperties producer_properties = properties;
  // A checkpoint is durable only when every in-sync replica has it.
  producer_properties.set("acks", "all");
  TW_ASSIGN_OR_RETURN(std::unique_ptr<KafkaProducer> producer,
                      KafkaProducer::create(producer_properties));
  return std::unique_ptr<KafkaStateStore>(
      new KafkaStateStore(properties, std::move(options), std::move(producer)));
}

std::string KafkaStateStore::describe() const {
  return "kafka:" + options_.topic + "[" + std::to_string(options_.partition) + "] key " +
         options_.name;
}

Result<std::optional<std::string>> KafkaStateStore::load() {
  struct Chunked {
    uint32_t count = 0;
    uint32_t crc = 0;
    std::map<uint32_t, std::string> chunks;
  };

  // Checkpoints are numbered in increasing order, so once one is complete and intact, older ones
  // can never be the newest usable one and are dropped as the log is read: memory stays at
  // about one checkpoint (plus any newer, unfinished one) however many the topic holds, since
  // compaction may lag far behind.
  std::map<uint64_t, Chunked> pending;  // Incomplete, newer than `newest`.
  std::optional<std::string> newest;    // The newest complete and intact checkpoint so far.
  uint64_t newest_sequence = 0;
  uint64_t newest_seen = 0;
  bool damaged = false;
  const std::string prefix = options_.name + "/";
  TW_RETURN_IF_ERROR(read_partition(
      properties_, options_.topic, options_.partition, options_.timeout, [&](KafkaRecord&& record) {
        if (!record.key.starts_with(prefix) || record.value.size() < kChunkHeaderBytes ||
            std::string_view(record.value).substr(0, 4) != kChunkMagic) {
          return;  // Another worker's state, or not ours.
        }
        pipeline::StateReader header(
            std::string_view(record.value).substr(4, kChunkHeaderBytes - 4));
        const uint64_t sequence = header.u64();
        const uint32_t index = header.u32();
        const uint32_t count = header.u32();
        const uint32_t crc = header.u32();
        if (!header.ok() || count == 0 || index >= count) {
          return;
        }
        newest_seen = std::max(newest_seen, sequence);
        if (newest && sequence <= newest_sequence) {
          return;  // Not newer than a usable one already read.
        }
        Chunked& c = pending[sequence];
        c.count = count;
        c.crc = crc;
        c.chunks[index] = record.value.substr(kChunkHeaderBytes);
        if (c.chunks.size() != c.count) {
          return;
        }
        std::string bytes;
        for (const auto& [i, chunk] : c.chunks) {
          bytes += chunk;
        }
        if (pipeline::checksum(bytes) != c.crc) {
          damaged = true;
          pending.erase(sequence);
          return;
        }
        newest = std::move(bytes);
        newest_sequence = sequence;
        pending.erase(pending.begin(), pending.upper_bound(sequence));
      }));
  loaded_ = true;
  // The next save numbers after everything stored, complete or not: reusing the number of an
  // unfinished checkpoint would mix its chunks with the new one's.
  sequence_ = std::max(sequence_, newest_seen);
  if (newest) {
    return newest;
  }
  if (damaged) {
    return pipeline::data_loss("every checkpoint in " + describe() + " is damaged");
  }
  return std::optional<std::string>();
}

Status KafkaStateStore::save(std::string_view bytes) {
  if (!loaded_) {
    // Numbering must continue after what is stored, or a restore would prefer an older one.
    if (const Result<std::optional<std::string>> stored = load(); !stored.is_ok()) {
      if (stored.status().code() != pipeline::StatusCode::kDataLoss) {
        return stored.status();
      }
    }
  }
  const uint64_t sequence = ++sequence_;
  const uint32_t crc = pipeline::checksum(bytes);
  const size_t count =
      bytes.empty() ? 1 : (bytes.size() + options_.chunk_bytes - 1) / options_.chunk_bytes;
  const std::string key_set = options_.name + (sequence % 2 == 0 ? "/a/" : "/b/");
  for (size_t i = 0; i < count; ++i) {
    pipeline::StateWriter chunk;
    for (const char c : kChunkMagic) {
      chunk.u8(static_cast<uint8_t>(c));
    }
    chunk.u64(sequence);
    chunk.u32(static_cast<uint32_t>(i));
    chunk.u32(static_cast<uint32_t>(count));
    chunk.u32(crc);
    std::string value = chunk.take();
    value.append(
        bytes.substr(std::min(bytes.size(), i * options_.chunk_bytes), options_.chunk_bytes));
    TW_RETURN_IF_ERROR(
        producer_->produce(options_.topic, key_set + std::to_string(i), value, options_.partition));
  }
  const Status flushed = producer_->flush(options_.timeout);
  if (!flushed.is_ok()) {
    producer_->take_failures();
    return {flushed.code(), "checkpoint to " + describe() + ": " + flushed.message()};
  }
  return Status::ok();
}

}  // namespace tw::connectors
