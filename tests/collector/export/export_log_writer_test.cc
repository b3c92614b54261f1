// Log file writer: CloudTrail layout and naming, gzip wrapper, records byte
// for byte, deterministic names, hostile partitions, gzip edge cases.
#include "collector/export/export_log_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "collector/export_test_support.h"
#include "collector/export/export_file.h"
#include "orgtrail/common/hash.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

using exporttest::ReadFileOrDie;
using exporttest::SplitRecords;

constexpr int64_t kDelivery = 1700000000123456;  // 2023-11-14T22:13:20Z

TEST(ExportLogWriterTest, NamesFileAsCloudTrailDoes) {
  ExportPartition p{"o-abc123def4", "123456789012", "eu-west-1"};
  std::string key = LogFileKey(p, kDelivery, UniqueStringForSeed("x"));
  std::regex re(R"(AWSLogs/o-abc123def4/123456789012/CloudTrail/eu-west-1/2023/11/14/123456789012_CloudTrail_eu-west-1_20231114T2213Z_[A-Za-z0-9]{16}\.json\.gz)");
  EXPECT_TRUE(std::regex_match(key, re)) << key;
  EXPECT_EQ(UniqueStringForSeed("x"), UniqueStringForSeed("x"));
  EXPECT_NE(UniqueStringForSeed("x"), UniqueStringForSeed("y"));
  // Insights records: CloudTrail's singular CloudTrail-Insight folder and file name.
  std::string insight = LogFileKey(p, kDelivery, UniqueStringForSeed("x"), LogKind::kInsight);
  std::regex insight_re(R"(AWSLogs/o-abc123def4/123456789012/CloudTrail-Insight/eu-west-1/2023/11/14/123456789012_CloudTrail-Insight_eu-west-1_20231114T2213Z_[A-Za-z0-9]{16}\.json\.gz)");
  EXPECT_TRUE(std::regex_match(insight, insight_re)) << insight;
}

TEST(ExportLogWriterTest, WritesGzippedRecordsByteForByte) {
  testutil::TempDir dir("export-writer");
  std::vector<std::string> raw = {
      R"({"eventTime":"2023-07-10T12:00:00Z","eventID":"a", "odd" :  [1, 2.50, "\u00e9"]})",
      R"({"eventTime":"2023-07-10T11:00:00Z","eventID":"b","x":"é"})"};
  std::vector<ExportRecord> records = {{raw[0], 1688990400000000}, {raw[1], 1688986800000000}};
  ExportPartition p{"o-abc123def4", "123456789012", "us-east-1"};
  auto file = WriteLogFile(dir.path(), p, records, kDelivery, "seed");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->record_count, 2u);
  EXPECT_EQ(file->newest_event_time_us, 1688990400000000);
  EXPECT_EQ(file->oldest_event_time_us, 1688986800000000);
  std::string gz = ReadFileOrDie(dir.Join(file->key));
  EXPECT_EQ(gz.size(), file->compressed_bytes);
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  auto doc = GzipDecompress(gz);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(*doc, "{\"Records\":[" + raw[0] + "," + raw[1] + "]}");
  EXPECT_EQ(HexEncode(Sha256(*doc)), HexEncode(file->sha256));
  EXPECT_EQ(SplitRecords(*doc), raw);
  // No temporary file is left behind.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().rfind(".tmp-", 0), std::string::npos) << e.path();
  }
}

TEST(ExportLogWriterTest, RewriteWithSameSeedReplacesNotDuplicates) {
  testutil::TempDir dir("export-writer");
  std::string r = R"({"eventID":"a"})";
  ExportPartition p{"o-abc123def4", "123456789012", "us-east-1"};
  auto a = WriteLogFile(dir.path(), p, {{r, 1}}, kDelivery, "same");
  auto b = WriteLogFile(dir.path(), p, {{r, 1}}, kDelivery, "same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->key, b->key);
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(ExportLogWriterTest, RefusesHostilePartitions) {
  testutil::TempDir dir("export-writer");
  std::string r = "{}";
  for (ExportPartition p : {ExportPartition{"o-abc", "12345678901", "us-east-1"},
                            ExportPartition{"o-abc", "123456789012", "../../etc"},
                            ExportPartition{"o-abc", "123456789012", ""},
                            ExportPartition{"../o", "123456789012", "us-east-1"},
                            ExportPartition{"o-abc", "12345678901a", "us-east-1"}}) {
    auto f = WriteLogFile(dir.path(), p, {{r, 1}}, kDelivery, "s");
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << p.account_id << " " << p.region;
  }
  ExportPartition good{"o-abc", "123456789012", "us-east-1"};
  EXPECT_EQ(WriteLogFile(dir.path(), good, {}, kDelivery, "s").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ExportFileTest, GzipRoundTripAndCorruption) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<char>('a' + i % 26);
  auto gz = GzipCompress(data);
  ASSERT_TRUE(gz.ok());
  auto back = GzipDecompress(*gz);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(GzipDecompress(gz->substr(0, gz->size() / 2)).ok());
  auto trailing = GzipDecompress(*gz + "junk");
  EXPECT_FALSE(trailing.ok());
  EXPECT_NE(trailing.status().message().find("unexpected data after end"), std::string::npos);
  EXPECT_FALSE(GzipDecompress("").ok());
  EXPECT_FALSE(GzipDecompress("not gzip at all").ok());
  EXPECT_FALSE(GzipDecompress(*gz, 1000).ok());  // output limit
}

TEST(ExportFileTest, KeyChecks) {
  EXPECT_TRUE(CheckExportKey("a/b/c.json.gz").ok());
  for (const char* bad : {"", "/abs", "a/../b", "a//b", "./a", "a/", "..", "a/."}) {
    EXPECT_FALSE(CheckExportKey(bad).ok()) << bad;
  }
  testutil::TempDir dir("export-file");
  EXPECT_FALSE(WriteExportFileDurably(dir.path(), "../escape", "x").ok());
  ASSERT_TRUE(WriteExportFileDurably(dir.path(), "deep/er/file", "x").ok());
  EXPECT_EQ(ReadFileOrDie(dir.Join("deep/er/file")), "x");
}

}  // namespace
}  // namespace orgtrail::collector
