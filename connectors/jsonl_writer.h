#pragma once

/// Buffered writer of JSON lines to a file or to standard output.
///
/// Lifecycle: `open` then any number of `write_line`, then `close` (or destruction, which closes
/// without reporting errors). Writes are buffered (64 KiB) and flushed on close; `flush` forces it.
/// Thread-safety: none; one owner.

#include <cstdio>
#include <string>
#include <string_view>

#include "pipeline/status.h"

namespace tw::connectors {

class JsonLinesWriter {
 public:
  JsonLinesWriter() = default;
  ~JsonLinesWriter();
  JsonLinesWriter(const JsonLinesWriter&) = delete;
  JsonLinesWriter& operator=(const JsonLinesWriter&) = delete;
  JsonLinesWriter(JsonLinesWriter&&) = delete;
  JsonLinesWriter& operator=(JsonLinesWriter&&) = delete;

  /// Opens `path` for writing (truncating), or standard output for "-".
  pipeline::Status open(const std::string& path);

  [[nodiscard]] bool is_open() const { return file_ != nullptr; }

  /// Appends `json` and a newline. Errors are remembered and reported by `close`.
  void write_line(std::string_view json);

  pipeline::Status flush();

  /// Flushes and closes; reports the first write error, if any.
  pipeline::Status close();

  [[nodiscard]] uint64_t lines() const { return lines_; }

 private:
  std::FILE* file_ = nullptr;
  bool owns_file_ = false;
  std::string path_;
  std::string buffer_;
  uint64_t lines_ = 0;
  pipeline::Status error_;
};

}  // namespace tw::connectors
