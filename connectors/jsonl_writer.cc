#include "connectors/jsonl_writer.h"

#include <cerrno>
#include <system_error>

namespace tw::connectors {

using pipeline::Status;

namespace {
constexpr size_t kFlushBytes = size_t{64} * 1024;
}  // namespace

JsonLinesWriter::~JsonLinesWriter() {
  (void)close();
}

Status JsonLinesWriter::open(const std::string& path) {
  path_ = path;
  if (path == "-") {
    file_ = stdout;
    owns_file_ = false;
    return Status::ok();
  }
  // file_ owns the stream only when owns_file_ (it may be stdout); close() reports fclose's result.
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory)
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    return pipeline::unavailable("cannot open " + path +
                                 " for writing: " + std::generic_category().message(errno));
  }
  owns_file_ = true;
  return Status::ok();
}

void JsonLinesWriter::write_line(std::string_view json) {
  buffer_.append(json);
  buffer_.push_back('\n');
  ++lines_;
  if (buffer_.size() >= kFlushBytes) {
    (void)flush();
  }
}

Status JsonLinesWriter::flush() {
  if (file_ == nullptr || buffer_.empty()) {
    return error_;
  }
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size() && error_.is_ok()) {
    error_ = pipeline::unavailable("writing " + path_ +
                                   " failed: " + std::generic_category().message(errno));
  }
  buffer_.clear();
  if (std::fflush(file_) != 0 && error_.is_ok()) {
    error_ = pipeline::unavailable("writing " + path_ +
                                   " failed: " + std::generic_category().message(errno));
  }
  return error_;
}

Status JsonLinesWriter::close() {
  if (file_ == nullptr) {
    return error_;
  }
  (void)flush();
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): see open().
  if (owns_file_ && std::fclose(file_) != 0 && error_.is_ok()) {
    error_ = pipeline::unavailable("closing " + path_ +
                                   " failed: " + std::generic_category().message(errno));
  }
  file_ = nullptr;
  return error_;
}

}  // namespace tw::connectors
