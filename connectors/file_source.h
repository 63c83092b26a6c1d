#pragma once

/// Reads records from files, folders (recursively, in name order) or standard input, plain or
/// gzip-compressed, and hands them one JSON document at a time to a consumer.
///
/// Framing is decided per file from its first non-empty line: if that line is a JSON document on
/// its own, the file is JSON lines (metric streams, EMF, PutMetricData, CloudTrail events one per
/// line); otherwise the whole file is one document (a pretty-printed CloudTrail `{"Records":
/// [...]}` log file, an indented EventBridge event). The format is the configured one, or, for
/// `auto`, detected from that first document.
///
/// Robustness: a line longer than the record limit is rejected as `oversized` and skipped; a file
/// larger than the file limit in document mode is rejected whole; a corrupt gzip stream ends that
/// file with an `unreadable` rejection after everything before the damage was delivered. None of
/// these stops the source.
///
/// Memory: line mode streams through a fixed-size buffer (records never need more than the record
/// limit); document mode holds one file. Every record handed out is followed by
/// `pipeline::json_padding()` readable bytes, as the decoders require.
///
/// Thread-safety: none; one owner.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/drop_reason.h"
#include "pipeline/runtime.h"
#include "pipeline/status.h"

namespace tw::connectors {

/// Receives what a source reads.
class RecordConsumer {
 public:
  RecordConsumer() = default;
  virtual ~RecordConsumer() = default;
  RecordConsumer(const RecordConsumer&) = delete;
  RecordConsumer& operator=(const RecordConsumer&) = delete;
  RecordConsumer(RecordConsumer&&) = delete;
  RecordConsumer& operator=(RecordConsumer&&) = delete;

  /// One JSON document, padded (see the class comment).
  virtual void on_record(pipeline::InputFormat format, std::string_view record,
                         const pipeline::RecordOrigin& origin) = 0;

  /// Something the source had to reject before decoding.
  virtual void on_reject(pipeline::DropReason reason, std::string_view detail,
                         std::string_view record, const pipeline::RecordOrigin& origin) = 0;
};

/// Feeds a Runtime input. After a restore, the first `skip` records (accepted or rejected) are
/// passed over: the checkpoint already reflects them.
class RuntimeConsumer final : public RecordConsumer {
 public:
  RuntimeConsumer(pipeline::Runtime& runtime, pipeline::InputId input, uint64_t skip = 0)
      : runtime_(runtime), input_(input), skip_(skip) {}

  void on_record(pipeline::InputFormat format, std::string_view record,
                 const pipeline::RecordOrigin& origin) override {
    if (++records_ > skip_) {
      runtime_.process(input_, format, record, origin);
    }
  }

  void on_reject(pipeline::DropReason reason, std::string_view detail, std::string_view record,
                 const pipeline::RecordOrigin& origin) override {
    if (++records_ > skip_) {
      runtime_.reject(input_, reason, detail, record, origin);
    }
  }

  /// Records seen so far, skipped ones included: the position to checkpoint.
  [[nodiscard]] uint64_t records() const { return records_; }

 private:
  pipeline::Runtime& runtime_;
  pipeline::InputId input_;
  uint64_t skip_ = 0;
  uint64_t records_ = 0;
};

struct FileSourceOptions {
  std::string path;  ///< A file, a folder, or "-" for standard input.
  pipeline::InputFormat format = pipeline::InputFormat::kAuto;
  int64_t max_record_bytes = 1 << 20;
  int64_t max_file_bytes = 512L << 20;
};

class FileSource {
 public:
  explicit FileSource(FileSourceOptions options);
  ~FileSource();
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  FileSource(FileSource&&) = delete;
  FileSource& operator=(FileSource&&) = delete;

  /// Resolves the path into its list of files. Fails if the path does not exist or a folder holds
  /// no file.
  pipeline::Status open();

  /// Delivers up to `max_records` documents (and rejections) to `consumer`. Returns false once
  /// every file has been read completely.
  bool pump(RecordConsumer& consumer, size_t max_records);

  /// The files found by `open`, in reading order.
  [[nodiscard]] const std::vector<std::string>& files() const { return files_; }

 private:
  struct Reader;

  FileSourceOptions options_;
  std::vector<std::string> files_;
  size_t next_file_ = 0;
  std::unique_ptr<Reader> reader_;
};

}  // namespace tw::connectors
