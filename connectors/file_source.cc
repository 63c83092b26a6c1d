#include "connectors/file_source.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "pipeline/metric_decoder.h"

namespace tw::connectors {

using pipeline::DropReason;
using pipeline::InputFormat;
using pipeline::RecordOrigin;
using pipeline::Status;

namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kRejectSampleBytes = 4096;

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace

// One open file: a gzip-or-plain byte stream, a buffer and the framing decided for the file.
struct FileSource::Reader {
  enum class Framing : uint8_t { kUndecided, kLines, kDocument, kDone };

  Reader(std::string file_path, const FileSourceOptions& opts)
      : path(std::move(file_path)), options(opts) {}

  ~Reader() {
    if (gz != nullptr) {
      gzclose(gz);
    }
  }

  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  Reader(Reader&&) = delete;
  Reader& operator=(Reader&&) = delete;

  bool open(RecordConsumer& consumer) {
    if (path == "-") {
      const int fd = dup(STDIN_FILENO);
      gz = fd >= 0 ? gzdopen(fd, "rb") : nullptr;
      source = "stdin";
    } else {
      gz = gzopen(path.c_str(), "rb");
      source = path;
    }
    if (gz == nullptr) {
      consumer.on_reject(DropReason::kUnreadable,
                         "cannot open: " + std::generic_category().message(errno), "",
                         RecordOrigin{source, 0});
      framing = Framing::kDone;
      return false;
    }
    gzbuffer(gz, 256 * 1024);
    return true;
  }

  // Makes room and reads one more chunk. Returns false at end of input or on error (reported).
  bool fill(RecordConsumer& consumer) {
    if (eof) {
      return false;
    }
    if (begin > 0) {
      std::memmove(buffer.data(), buffer.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    const size_t want = end + kChunkBytes + pipeline::json_padding();
    if (buffer.size() < want) {
      buffer.resize(want);
    }
    const int n = gzread(gz, buffer.data() + end, static_cast<unsigned>(kChunkBytes));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(gz, &code);
      consumer.on_reject(DropReason::kUnreadable,
                         std::string("corrupt or unreadable input: ") + message, "",
                         RecordOrigin{source, line});
      eof = true;
      failed = true;
      return false;
    }
    if (n == 0) {
      eof = true;
      // gzread reports a truncated gzip member as end of file with an error state.
      int code = Z_OK;
      const char* message = gzerror(gz, &code);
      if (code != Z_OK && code != Z_STREAM_END) {
        consumer.on_reject(DropReason::kUnreadable,
                           std::string("corrupt or truncated input: ") + message, "",
                           RecordOrigin{source, line});
        failed = true;
      }
      return false;
    }
    end += static_cast<size_t>(n);
    return true;
  }

  // Finds the next line in the buffer, reading more as needed. Returns false at end of file.
  bool next_line(RecordConsumer& consumer, std::string_view& out) {
    while (true) {
      const char* start = buffer.data() + begin;
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end - begin));
      if (newline != nullptr) {
        const auto length = static_cast<size_t>(newline - start);
        ++line;
        const size_t line_begin = begin;
        begin += length + 1;
        if (skipping) {
          skipping = false;
          continue;
        }
        out = std::string_view(buffer.data() + line_begin, length);
        if (length > static_cast<size_t>(options.max_record_bytes)) {
          consumer.on_reject(
              DropReason::kOversized,
              "line exceeds max_record_bytes (" + std::to_string(options.max_record_bytes) + ")",
              out.substr(0, kRejectSampleBytes), RecordOrigin{source, line});
          continue;
        }
        return true;
      }
      const size_t pending = end - begin;
      if (!skipping && pending > static_cast<size_t>(options.max_record_bytes)) {
        ++line;
        consumer.on_reject(
            DropReason::kOversized,
            "line exceeds max_record_bytes (" + std::to_string(options.max_record_bytes) + ")",
            std::string_view(start, std::min(pending, kRejectSampleBytes)),
            RecordOrigin{source, line});
        skipping = true;
      }
      if (skipping) {
        begin = end;  // Discard until the next newline.
      }
      if (!fill(consumer)) {
        if (skipping || begin == end) {
          return false;
        }
        // The last line has no newline.
        ++line;
        out = std::string_view(buffer.data() + begin, end - begin);
        begin = end;
        return true;
      }
    }
  }

  static std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
      text.remove_suffix(1);
    }
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
      text.remove_prefix(1);
    }
    return text;
  }

  // Peeks at the first non-empty line to choose the framing and, for `auto`, the format.
  void decide(RecordConsumer& consumer) {
    const size_t saved_begin = begin;
    const uint64_t saved_line = line;
    std::string_view first;
    bool found = false;
    // Look for the first non-blank line without consuming it.
    size_t scan = begin;
    while (true) {
      const auto* newline =
          static_cast<const char*>(std::memchr(buffer.data() + scan, '\n', end - scan));
      if (newline != nullptr) {
        const std::string_view candidate(buffer.data() + scan,
                                         static_cast<size_t>(newline - buffer.data()) - scan);
        if (!is_blank(candidate)) {
          first = trim(candidate);
          found = true;
          break;
        }
        scan = static_cast<size_t>(newline - buffer.data()) + 1;
        continue;
      }
      if (end - begin > static_cast<size_t>(options.max_record_bytes)) {
        break;  // No newline within a record's size: treat as one document.
      }
      const size_t offset = scan - begin;
      if (!fill(consumer)) {
        scan = begin + offset;
        const std::string_view rest(buffer.data() + scan, end - scan);
        if (!is_blank(rest)) {
          first = trim(rest);
          found = true;
        }
        break;
      }
      scan = begin + offset;
    }
    begin = saved_begin;
    line = saved_line;
    if (!found && eof && is_blank(std::string_view(buffer.data() + begin, end - begin))) {
      framing = Framing::kDone;  // Empty file.
      return;
    }
    const bool metric_format =
        options.format != InputFormat::kAuto && options.format != InputFormat::kCloudTrail;
    if (metric_format || (found && pipeline::is_json_document(first))) {
      framing = Framing::kLines;
      format =
          options.format != InputFormat::kAuto ? options.format : pipeline::detect_format(first);
      return;
    }
    // The first line is not a document by itself: either the file is one multi-line document,
    // or it is JSON lines whose first line is damaged. Only a file that parses as one document
    // is treated as one; anything else is read line by line so that the good lines survive.
    const auto limit = static_cast<size_t>(options.max_file_bytes);
    while (end - begin <= limit && fill(consumer)) {
    }
    const std::string_view whole(buffer.data() + begin, end - begin);
    if (!failed && whole.size() <= limit && pipeline::is_json_document(whole)) {
      framing = Framing::kDocument;
      return;
    }
    if (!failed && whole.size() > limit && !found) {
      framing = Framing::kDocument;  // One line larger than a file may be: rejected whole.
      return;
    }
    framing = Framing::kLines;
    format = options.format;  // kAuto: detected record by record.
  }

  void read_document(RecordConsumer& consumer) {
    const auto limit = static_cast<size_t>(options.max_file_bytes);
    while (end - begin <= limit && fill(consumer)) {
    }
    framing = Framing::kDone;
    if (failed) {
      return;
    }
    const std::string_view document(buffer.data() + begin, end - begin);
    if (document.size() > limit) {
      consumer.on_reject(
          DropReason::kOversized,
          "document exceeds max_file_bytes (" + std::to_string(options.max_file_bytes) + ")",
          document.substr(0, kRejectSampleBytes), RecordOrigin{source, 1});
      return;
    }
    const InputFormat document_format =
        options.format != InputFormat::kAuto ? options.format : pipeline::detect_format(document);
    consumer.on_record(document_format, document, RecordOrigin{source, 1});
  }

  // Delivers up to `budget` records. Returns the number delivered; sets framing to kDone at end.
  size_t pump(RecordConsumer& consumer, size_t budget) {
    if (framing == Framing::kUndecided) {
      fill(consumer);
      decide(consumer);
    }
    if (framing == Framing::kDocument) {
      read_document(consumer);
      return 1;
    }
    size_t delivered = 0;
    while (framing == Framing::kLines && delivered < budget) {
      std::string_view record;
      if (!next_line(consumer, record)) {
        framing = Framing::kDone;
        break;
      }
      record = trim(record);
      if (record.empty()) {
        continue;
      }
      consumer.on_record(format, record, RecordOrigin{source, line});
      ++delivered;
    }
    return delivered;
  }

  std::string path;
  std::string source;
  const FileSourceOptions& options;
  gzFile gz = nullptr;
  std::vector<char> buffer;
  size_t begin = 0;
  size_t end = 0;
  uint64_t line = 0;
  bool eof = false;
  bool failed = false;
  bool skipping = false;
  Framing framing = Framing::kUndecided;
  InputFormat format = InputFormat::kAuto;
};

FileSource::FileSource(FileSourceOptions options) : options_(std::move(options)) {
}

FileSource::~FileSource() = default;

Status FileSource::open() {
  files_.clear();
  next_file_ = 0;
  if (options_.path == "-") {
    files_.emplace_back("-");
    return Status::ok();
  }
  std::error_code ec;
  const std::filesystem::path root(options_.path);
  const auto status = std::filesystem::status(root, ec);
  if (ec || !std::filesystem::exists(status)) {
    return pipeline::not_found("input " + options_.path + " does not exist");
  }
  if (std::filesystem::is_directory(status)) {
    for (auto it = std::filesystem::recursive_directory_iterator(
             root, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.empty() && name.front() == '.') {
        if (it->is_directory(ec)) {
          it.disable_recursion_pending();
        }
        continue;
      }
      if (it->is_regular_file(ec)) {
        files_.push_back(it->path().string());
      }
    }
    if (ec) {
      return pipeline::unavailable("cannot list " + options_.path + ": " + ec.message());
    }
    std::sort(files_.begin(), files_.end());
    if (files_.empty()) {
      return pipeline::not_found("input folder " + options_.path + " holds no files");
    }
    return Status::ok();
  }
  files_.push_back(options_.path);
  return Status::ok();
}

bool FileSource::pump(RecordConsumer& consumer, size_t max_records) {
  size_t delivered = 0;
  while (delivered < max_records) {
    if (!reader_) {
      if (next_file_ >= files_.size()) {
        return false;
      }
      reader_ = std::make_unique<Reader>(files_[next_file_++], options_);
      if (!reader_->open(consumer)) {
        reader_.reset();
        continue;
      }
    }
    delivered += reader_->pump(consumer, max_records - delivered);
    if (reader_->framing == Reader::Framing::kDone) {
      reader_.reset();
    }
  }
  return reader_ != nullptr || next_file_ < files_.size();
}

}  // namespace tw::connectors
