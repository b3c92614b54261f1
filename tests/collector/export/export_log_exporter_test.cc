// LogExporter on a real RocksDB EventStore: the invictus records come out
// byte-identical, grouped by partition, exactly once across rounds, and
// exactly once across a crash (a forked child _exit()s at every step of the
// round; the parent recovers and checks for gaps and duplicates).
#include "collector/export/export_log_exporter.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "collector/export_test_support.h"
#include "collector/export/export_file.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

using exporttest::CommitRecords;
using exporttest::OpenStore;
using exporttest::ReadFileOrDie;
using exporttest::SplitRecords;
using exporttest::SyntheticRecord;

constexpr int64_t kDelivery = 1700000000000000;

// Every record in every exported log file under root, with its file key.
std::vector<std::pair<std::string, std::string>> ExportedRecords(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!std::filesystem::exists(root)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.size() < 8 || name.substr(name.size() - 8) != ".json.gz") continue;
    if (e.path().string().find("/CloudTrail/") == std::string::npos) continue;
    auto doc = GzipDecompress(ReadFileOrDie(e.path().string()));
    EXPECT_TRUE(doc.ok()) << e.path();
    if (!doc.ok()) continue;
    for (auto& r : SplitRecords(*doc)) out.emplace_back(e.path().string(), std::move(r));
  }
  return out;
}

LogExporterOptions Options(const std::string& root) {
  LogExporterOptions o;
  o.export_root = root;
  o.org_id = "o-exampleorg1";
  return o;
}

TEST(LogExporterTest, InvictusRecordsExportedByteIdentical) {
  testutil::TempDir dir("export-invictus");
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  std::vector<std::string> records = exporttest::InvictusRecords();
  ASSERT_EQ(records.size(), 2900u);
  // Commit in batches of 100, as agents would.
  uint64_t seq = 1;
  for (size_t i = 0; i < records.size(); i += 100) {
    std::vector<std::string> chunk(records.begin() + i, records.begin() + std::min(records.size(), i + 100));
    CommitRecords(store.get(), "123837392027", "us-east-1", seq++, chunk);
  }
  ASSERT_EQ(store->last_commit_index(), 2900u);
  LogExporterOptions o = Options(dir.Join("export"));
  o.max_records_per_file = 1000;  // forces several files per partition
  LogExporter exporter(store.get(), o);
  auto round = exporter.ExportOnce(kDelivery);
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->events_exported, 2900u);
  EXPECT_EQ(round->files.size(), 3u);
  EXPECT_EQ(*exporter.Cursor(), 2900u);

  auto exported = ExportedRecords(dir.Join("export"));
  std::multiset<std::string> in(records.begin(), records.end());
  std::multiset<std::string> out;
  for (auto& [file, r] : exported) {
    EXPECT_NE(file.find("/AWSLogs/o-exampleorg1/123837392027/CloudTrail/us-east-1/2023/11/14/"), std::string::npos) << file;
    out.insert(r);
  }
  EXPECT_EQ(out.size(), 2900u);
  EXPECT_TRUE(in == out) << "exported records differ from the input bytes";

  // Nothing new -> nothing written.
  auto again = exporter.ExportOnce(kDelivery + 60000000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->events_exported, 0u);
  EXPECT_EQ(ExportedRecords(dir.Join("export")).size(), 2900u);
}

TEST(LogExporterTest, GroupsByPartitionAndAdvancesCursor) {
  testutil::TempDir dir("export-partitions");
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  CommitRecords(store.get(), "111111111111", "eu-west-1", 1,
                {SyntheticRecord("e1", "2026-01-01T00:00:00Z", "111111111111", "eu-west-1"),
                 SyntheticRecord("e2", "2026-01-01T00:00:01Z", "111111111111", "eu-west-1")});
  CommitRecords(store.get(), "222222222222", "us-east-1", 1,
                {SyntheticRecord("e3", "2026-01-01T00:00:02Z", "222222222222", "us-east-1")});
  LogExporter exporter(store.get(), Options(dir.Join("export")));
  auto r1 = exporter.ExportOnce(kDelivery);
  ASSERT_TRUE(r1.ok()) << r1.status();
  ASSERT_EQ(r1->files.size(), 2u);
  std::set<std::string> prefixes;
  for (const auto& f : r1->files) prefixes.insert(f.key.substr(0, f.key.find("/2023/")));
  EXPECT_EQ(prefixes, (std::set<std::string>{"AWSLogs/o-exampleorg1/111111111111/CloudTrail/eu-west-1",
                                             "AWSLogs/o-exampleorg1/222222222222/CloudTrail/us-east-1"}));
  // Pending digest entries were recorded with the cursor.
  auto pending = store->ScanMetadata(kPendingLogFileRoot);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 2u);

  CommitRecords(store.get(), "111111111111", "eu-west-1", 2,
                {SyntheticRecord("e4", "2026-01-01T00:00:03Z", "111111111111", "eu-west-1")});
  auto r2 = exporter.ExportOnce(kDelivery + 300000000);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->first_commit_index, 4u);
  EXPECT_EQ(r2->events_exported, 1u);
  EXPECT_EQ(ExportedRecords(dir.Join("export")).size(), 4u);
}

// Runs one export round in a child process that dies (_exit, no cleanup) at
// the n-th call of `step`; returns true if the child did die there.
bool CrashChildAt(const std::string& db, const std::string& root, const std::string& step, int n) {
  pid_t pid = fork();
  if (pid == 0) {
    auto store = OpenStore(db);
    if (!store) _exit(3);
    LogExporterOptions o = Options(root);
    o.max_records_per_file = 2;
    int seen = 0;
    o.step_hook = [&](std::string_view s) {
      if (s == step && ++seen == n) _exit(42);
    };
    LogExporter exporter(store.get(), o);
    auto r = exporter.ExportOnce(kDelivery);
    _exit(r.ok() ? 0 : 4);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 42;
}

TEST(LogExporterTest, CrashAtEveryStepLeavesNoGapNoDuplicate) {
  struct Point { const char* step; int n; };
  const Point points[] = {{"intent", 1}, {"file", 1}, {"file", 2}, {"file", 3},
                          {"before-commit", 1}, {"committed", 1}};
  for (const Point& point : points) {
    SCOPED_TRACE(std::string(point.step) + "#" + std::to_string(point.n));
    testutil::TempDir dir("export-crash");
    std::vector<std::string> ids;
    {
      auto store = OpenStore(dir.Join("db"));
      ASSERT_NE(store, nullptr);
      std::vector<std::string> a, b;
      for (int i = 0; i < 5; ++i) {
        ids.push_back("a" + std::to_string(i));
        a.push_back(SyntheticRecord(ids.back(), "2026-01-01T00:00:0" + std::to_string(i) + "Z", "111111111111", "eu-west-1"));
      }
      for (int i = 0; i < 3; ++i) {
        ids.push_back("b" + std::to_string(i));
        b.push_back(SyntheticRecord(ids.back(), "2026-01-01T00:00:0" + std::to_string(i) + "Z", "222222222222", "us-east-1"));
      }
      CommitRecords(store.get(), "111111111111", "eu-west-1", 1, a);
      CommitRecords(store.get(), "222222222222", "us-east-1", 1, b);
    }
    ASSERT_TRUE(CrashChildAt(dir.Join("db"), dir.Join("export"), point.step, point.n));
    auto store = OpenStore(dir.Join("db"));
    ASSERT_NE(store, nullptr);
    LogExporterOptions o = Options(dir.Join("export"));
    o.max_records_per_file = 2;
    LogExporter exporter(store.get(), o);
    auto r = exporter.ExportOnce(kDelivery + 60000000);  // recovers, then exports the rest
    ASSERT_TRUE(r.ok()) << r.status();
    auto r2 = exporter.ExportOnce(kDelivery + 120000000);
    ASSERT_TRUE(r2.ok()) << r2.status();
    EXPECT_EQ(*exporter.Cursor(), 8u);
    std::map<std::string, int> count;
    for (const auto& [file, rec] : ExportedRecords(dir.Join("export"))) {
      count[exporttest::TopLevelString(rec, "eventID")]++;
    }
    for (const auto& id : ids) EXPECT_EQ(count[id], 1) << id;
    EXPECT_EQ(count.size(), ids.size());
    // Pending entries: exactly one per file on disk (none lost, none doubled).
    auto pending = store->ScanMetadata(kPendingLogFileRoot);
    ASSERT_TRUE(pending.ok());
    EXPECT_EQ(pending->size(), 3u + 2u);  // 5 records / 2 per file + 3 / 2 per file
    auto removed = RemoveStaleTemporaryFiles(dir.Join("export"));
    ASSERT_TRUE(removed.ok());
  }
}

TEST(LogExporterTest, CorruptIntentIsDataLoss) {
  testutil::TempDir dir("export-corrupt");
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WriteMetadata({{std::string(kExportIntentKey), std::string("garbage")}}).ok());
  LogExporter exporter(store.get(), Options(dir.Join("export")));
  EXPECT_EQ(exporter.ExportOnce(kDelivery).status().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(store->WriteMetadata({{std::string(kExportCursorKey), std::string("x")}}).ok());
  EXPECT_EQ(exporter.Cursor().status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace orgtrail::collector
