// UploadJournal: records survive reopening, a torn last line is dropped, compaction keeps the
// latest entry per key, malformed lines are DATA_LOSS.
#include "collector/delivery/upload_journal.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

UploadJournalEntry Entry(char c, uint64_t size) {
  return UploadJournalEntry{std::string(64, c), size, 1234};
}

TEST(UploadJournalTest, RecordsSurviveReopenAndLaterLinesWin) {
  testutil::TempDir dir;
  const std::string path = dir.Join("journal");
  {
    auto j = UploadJournal::Open(path);
    ASSERT_TRUE(j.ok()) << j.status();
    ASSERT_TRUE((*j)->Record("a/b c.json.gz", Entry('a', 1)).ok());
    ASSERT_TRUE((*j)->Record("x", Entry('b', 2)).ok());
    ASSERT_TRUE((*j)->Record("a/b c.json.gz", Entry('c', 3)).ok());
  }
  auto j = UploadJournal::Open(path);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)->size(), 2u);
  ASSERT_NE((*j)->Find("a/b c.json.gz"), nullptr);
  EXPECT_EQ((*j)->Find("a/b c.json.gz")->size, 3u);
  EXPECT_EQ((*j)->Find("a/b c.json.gz")->sha256_hex, std::string(64, 'c'));
  EXPECT_EQ((*j)->Find("nope"), nullptr);
  EXPECT_FALSE((*j)->Record("bad\nkey", Entry('a', 1)).ok());
}

TEST(UploadJournalTest, TornLastLineIsDroppedAndAppendsContinueCleanly) {
  testutil::TempDir dir;
  const std::string path = dir.Join("journal");
  {
    auto j = UploadJournal::Open(path);
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->Record("k1", Entry('a', 1)).ok());
  }
  std::ofstream(path, std::ios::app) << std::string(64, 'b') << " 5 6 k2-torn";  // no newline
  {
    auto j = UploadJournal::Open(path);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_EQ((*j)->size(), 1u);
    EXPECT_EQ((*j)->Find("k2-torn"), nullptr);
    ASSERT_TRUE((*j)->Record("k3", Entry('c', 3)).ok());
  }
  auto j = UploadJournal::Open(path);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)->size(), 2u);
  EXPECT_NE((*j)->Find("k3"), nullptr);
}

TEST(UploadJournalTest, CompactsWhenMostLinesAreSuperseded) {
  testutil::TempDir dir;
  const std::string path = dir.Join("journal");
  {
    auto j = UploadJournal::Open(path);
    ASSERT_TRUE(j.ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE((*j)->Record("same", Entry('a', i)).ok());
  }
  auto j = UploadJournal::Open(path);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)->Find("same")->size, 99u);
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 1);
}

TEST(UploadJournalTest, MalformedLineIsDataLoss) {
  testutil::TempDir dir;
  const std::string path = dir.Join("journal");
  std::ofstream(path) << "not a journal line\n";
  auto j = UploadJournal::Open(path);
  ASSERT_EQ(j.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(j.status().message(), ::testing::HasSubstr(path + ":1"));
}

}  // namespace
}  // namespace orgtrail::collector
