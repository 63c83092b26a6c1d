#pragma once

/// TempDir: a fresh directory for a test's files (secrets, tokens, configurations, logs), removed
/// with everything in it on destruction. Test-only, header-only; shared by the connector tests
/// and the cross-folder suites in tests/.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace tw::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::path(::testing::TempDir()) / "tw_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) {
      path_ = pattern;
    }
  }

  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  /// Empty when the directory could not be created.
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  /// Writes `content` to `name` in the directory (replacing it; folders in `name` are created)
  /// and returns the full path.
  [[nodiscard]] std::string write(const std::string& name, std::string_view content) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace tw::testing
