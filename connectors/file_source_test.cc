#include "connectors/file_source.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pipeline/metric_decoder.h"

namespace tw::connectors {
namespace {

using pipeline::DropReason;
using pipeline::InputFormat;

struct Collected {
  InputFormat format;
  std::string record;
  std::string source;
  uint64_t position;
};

struct Rejected {
  DropReason reason;
  std::string detail;
  uint64_t position;
};

struct Collection {
  std::vector<Collected> records;
  std::vector<Rejected> rejects;
};

class CollectingConsumer final : public RecordConsumer {
 public:
  explicit CollectingConsumer(Collection& out) : records(out.records), rejects(out.rejects) {}

  void on_record(InputFormat format, std::string_view record,
                 const pipeline::RecordOrigin& origin) override {
    records.push_back({format, std::string(record), std::string(origin.source), origin.position});
  }

  void on_reject(DropReason reason, std::string_view detail, std::string_view /*record*/,
                 const pipeline::RecordOrigin& origin) override {
    rejects.push_back({reason, std::string(detail), origin.position});
  }

  std::vector<Collected>& records;
  std::vector<Rejected>& rejects;
};

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("file_source_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  std::string write_gz(const std::string& name, const std::string& content) {
    auto path = (dir_ / name).string();
    gzFile gz = gzopen(path.c_str(), "wb");
    gzwrite(gz, content.data(), static_cast<unsigned>(content.size()));
    gzclose(gz);
    return path;
  }

  static Collection read_all(const std::string& path, FileSourceOptions options = {}) {
    options.path = path;
    FileSource source(options);
    EXPECT_TRUE(source.open().is_ok());
    Collection out;
    CollectingConsumer consumer(out);
    while (source.pump(consumer, 3)) {
    }
    return out;
  }

  std::filesystem::path dir_;
};

const std::string kStreamLine = R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
                                R"("value":{"count":1,"sum":1,"min":1,"max":1}})";

TEST_F(FileSourceTest, ReadsJsonLinesAndDetectsTheFormat) {
  const auto path = write("a.jsonl", kStreamLine + "\n\n" + kStreamLine + "\r\n" + kStreamLine);
  const Collection c = read_all(path);
  ASSERT_EQ(c.records.size(), 3U);
  EXPECT_EQ(c.records[0].format, InputFormat::kMetricStream);
  EXPECT_EQ(c.records[1].record, kStreamLine);  // \r stripped
  EXPECT_EQ(c.records[2].record, kStreamLine);  // last line without newline
  EXPECT_EQ(c.records[0].position, 1U);
  EXPECT_EQ(c.records[1].position, 3U);
  EXPECT_TRUE(c.rejects.empty());
}

TEST_F(FileSourceTest, ReadsGzipTransparently) {
  const auto path = write_gz("a.jsonl.gz", kStreamLine + "\n" + kStreamLine + "\n");
  const Collection c = read_all(path);
  ASSERT_EQ(c.records.size(), 2U);
  EXPECT_EQ(c.records[1].record, kStreamLine);
}

TEST_F(FileSourceTest, ReadsPrettyPrintedDocumentWhole) {
  const std::string doc =
      "{\n  \"Records\": [\n    {\"eventTime\": \"2023-07-10T11:42:18Z\"}\n  ]\n}\n";
  const Collection c = read_all(write("trail.json", doc));
  ASSERT_EQ(c.records.size(), 1U);
  EXPECT_EQ(c.records[0].format, InputFormat::kCloudTrail);
  EXPECT_EQ(c.records[0].record, doc);
}

TEST_F(FileSourceTest, RejectsOversizedLineAndKeepsTheNext) {
  FileSourceOptions options;
  options.max_record_bytes = 64;
  const auto path = write(
      "a.jsonl", kStreamLine.substr(0, 40) + "}\n" + std::string(500, 'x') + "\n" + "{\"ok\":1}\n");
  const Collection c = read_all(path, options);
  ASSERT_EQ(c.rejects.size(), 1U);
  EXPECT_EQ(c.rejects[0].reason, DropReason::kOversized);
  EXPECT_EQ(c.rejects[0].position, 2U);
  ASSERT_EQ(c.records.size(), 2U);
  EXPECT_EQ(c.records[1].record, "{\"ok\":1}");
  EXPECT_EQ(c.records[1].position, 3U);
}

TEST_F(FileSourceTest, CorruptGzipDeliversWhatPrecedesTheDamageThenRejects) {
  std::string compressed;
  {
    const auto path = write_gz("good.gz", kStreamLine + "\n" + kStreamLine + "\n");
    std::ifstream in(path, std::ios::binary);
    compressed.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto path = write("bad.gz", compressed.substr(0, compressed.size() - 12));
  const Collection c = read_all(path);
  ASSERT_FALSE(c.rejects.empty());
  EXPECT_EQ(c.rejects.back().reason, DropReason::kUnreadable);
}

TEST_F(FileSourceTest, ReadsFolderRecursivelyInNameOrderSkippingHiddenFiles) {
  write("b/2.jsonl", "{\"n\":2}\n");
  write("a.jsonl", "{\"n\":1}\n");
  write("b/3.jsonl", "{\"n\":3}\n");
  write(".hidden", "{\"n\":0}\n");
  FileSource source(FileSourceOptions{dir_.string()});
  ASSERT_TRUE(source.open().is_ok());
  ASSERT_EQ(source.files().size(), 3U);
  Collection c;
  CollectingConsumer consumer(c);
  while (source.pump(consumer, 100)) {
  }
  ASSERT_EQ(c.records.size(), 3U);
  EXPECT_EQ(c.records[0].record, "{\"n\":1}");
  EXPECT_EQ(c.records[2].record, "{\"n\":3}");
}

TEST_F(FileSourceTest, EmptyFileYieldsNothing) {
  const Collection c = read_all(write("empty.jsonl", "\n  \n"));
  EXPECT_TRUE(c.records.empty());
  EXPECT_TRUE(c.rejects.empty());
}

TEST_F(FileSourceTest, MissingPathIsAnError) {
  FileSource source(FileSourceOptions{(dir_ / "nope").string()});
  const pipeline::Status s = source.open();
  EXPECT_EQ(s.code(), pipeline::StatusCode::kNotFound);
}

TEST_F(FileSourceTest, ConfiguredMetricFormatForcesLineFraming) {
  FileSourceOptions options;
  options.format = InputFormat::kEmf;
  const Collection c = read_all(write("a.log", "{\n\"x\":1}\n"), options);
  ASSERT_EQ(c.records.size(), 2U);
  EXPECT_EQ(c.records[0].format, InputFormat::kEmf);
}

TEST_F(FileSourceTest, DamagedFirstLineDoesNotHideTheGoodLines) {
  const Collection c = read_all(write("a.jsonl", "{\"truncated\n" + kStreamLine + "\n"));
  ASSERT_EQ(c.records.size(), 2U);
  EXPECT_EQ(c.records[0].format, InputFormat::kAuto);
  EXPECT_EQ(c.records[1].record, kStreamLine);
}

TEST_F(FileSourceTest, DocumentOverFileLimitIsRejected) {
  FileSourceOptions options;
  options.max_file_bytes = 32;
  options.max_record_bytes = 16;
  const Collection c =
      read_all(write("big.json", "{\"Records\": [" + std::string(100, ' ') + "]}"), options);
  EXPECT_TRUE(c.records.empty());
  ASSERT_EQ(c.rejects.size(), 1U);
  EXPECT_EQ(c.rejects[0].reason, DropReason::kOversized);
}

TEST_F(FileSourceTest, RecordsAreFollowedByReadablePadding) {
  // Every record must be safely readable json_padding() bytes past its end; under ASan an
  // overread would abort this test.
  const auto path = write("a.jsonl", kStreamLine);
  FileSource source(FileSourceOptions{path});
  ASSERT_TRUE(source.open().is_ok());

  struct PaddingChecker final : RecordConsumer {
    void on_record(InputFormat /*format*/, std::string_view record,
                   const pipeline::RecordOrigin& /*origin*/) override {
      volatile char sink = 0;
      for (size_t i = 0; i < pipeline::json_padding(); ++i) {
        // Reads the padding past the record's end on purpose: operator[] would be out of range.
        // NOLINTNEXTLINE(readability-simplify-subscript-expr)
        sink = static_cast<char>(sink ^ record.data()[record.size() + i]);
      }
      ++seen;
    }

    void on_reject(DropReason /*reason*/, std::string_view /*detail*/, std::string_view /*record*/,
                   const pipeline::RecordOrigin& /*origin*/) override {}

    int seen = 0;
  } checker;

  while (source.pump(checker, 10)) {
  }
  EXPECT_EQ(checker.seen, 1);
}

}  // namespace
}  // namespace tw::connectors
