// faultenv: the power-loss journal and its application, on plain files written through the
// wrapped file system and on a real RocksDB database killed with SIGKILL in a child process.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/file_system.h>

#include "faultenv/power_loss_fs.h"
#include "faultenv/power_loss_journal.h"
#include "testutil/temp_dir.h"

namespace orgtrail::faultenv {
namespace {

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// Writes `data` through the wrapped file system, syncing after the first `synced` bytes. The
// file is closed at the end of the test (closing syncs nothing).
void Write(rocksdb::FileSystem* fs, const std::string& path, const std::string& data, size_t synced,
           std::vector<std::unique_ptr<rocksdb::FSWritableFile>>* open_files) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok());
  ASSERT_TRUE(file->Append(data.substr(0, synced), rocksdb::IOOptions(), nullptr).ok());
  if (synced > 0) {
    ASSERT_TRUE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
  }
  ASSERT_TRUE(file->Append(data.substr(synced), rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Flush(rocksdb::IOOptions(), nullptr).ok());
  open_files->push_back(std::move(file));
}

TEST(PowerLossTest, UnsyncedBytesAndNeverSyncedFilesAreGoneSyncedOnesStay) {
  testutil::TempDir dir("orgtrail-powerloss");
  const std::string journal = dir.Join("journal");
  {
    auto env = OpenPowerLossEnv(journal);
    ASSERT_TRUE(env.ok()) << env.status();
    rocksdb::FileSystem* fs = env.value()->env->GetFileSystem().get();
    std::vector<std::unique_ptr<rocksdb::FSWritableFile>> open_files;
    Write(fs, dir.Join("partly"), "0123456789abcdef", 10, &open_files);
    Write(fs, dir.Join("never"), "not synced at all", 0, &open_files);
    Write(fs, dir.Join("tmp"), "whole", 5, &open_files);
    ASSERT_TRUE(fs->RenameFile(dir.Join("tmp"), dir.Join("renamed"), rocksdb::IOOptions(), nullptr).ok());
    Write(fs, dir.Join("gone"), "deleted", 7, &open_files);
    ASSERT_TRUE(fs->DeleteFile(dir.Join("gone"), rocksdb::IOOptions(), nullptr).ok());
    EXPECT_EQ(env.value()->journal->write_errors(), 0u);
  }
  std::ofstream(dir.Join("untracked")) << "written by someone else";
  ASSERT_EQ(FileSize(dir.Join("partly")), 16);

  auto outcome = ApplyPowerLoss(journal);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(FileSize(dir.Join("partly")), 10);
  EXPECT_EQ(FileSize(dir.Join("never")), -1);
  EXPECT_EQ(FileSize(dir.Join("renamed")), 5);
  EXPECT_EQ(FileSize(dir.Join("gone")), -1);
  EXPECT_EQ(FileSize(dir.Join("untracked")), 23);
  EXPECT_EQ(outcome->files_truncated, 1u);
  EXPECT_EQ(outcome->files_removed, 1u);
  EXPECT_EQ(outcome->bytes_dropped, 6u + 17u);
  EXPECT_EQ(outcome->data_bytes_dropped, 6u + 17u);
  EXPECT_EQ(FileSize(journal), -1) << "the journal is consumed";

  // Applying again (no journal): nothing happens.
  auto again = ApplyPowerLoss(journal);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes_dropped, 0u);
}

TEST(PowerLossTest, AnUnreadableJournalIsAnErrorNotASilentNoOp) {
  testutil::TempDir dir("orgtrail-powerloss");
  std::ofstream(dir.Join("journal")) << "S\t10\t/x\nbogus line\nS\t3\t/y\n";
  auto outcome = ApplyPowerLoss(dir.Join("journal"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(outcome.status().message()).find("line 2"), std::string::npos);
}

// A child opens RocksDB through the wrapper, writes one key with sync=true and then more keys
// with sync=false, and is killed with SIGKILL. Without the power cut every key survives (the page
// cache outlives the process); with it, exactly the synced write survives.
TEST(PowerLossTest, RocksDbKeepsSyncedWritesAndLosesUnsyncedOnesAtThePowerCut) {
  testutil::TempDir dir("orgtrail-powerloss");
  const std::string db_path = dir.Join("db");
  const std::string journal = dir.Join("journal");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto env = OpenPowerLossEnv(journal);
    if (!env.ok()) ::_exit(3);
    rocksdb::Options options;
    options.create_if_missing = true;
    options.env = env.value()->env.get();
    rocksdb::DB* db = nullptr;
    if (!rocksdb::DB::Open(options, db_path, &db).ok()) ::_exit(4);
    rocksdb::WriteOptions synced;
    synced.sync = true;
    if (!db->Put(synced, "acknowledged", "yes").ok()) ::_exit(5);
    for (int i = 0; i < 100; ++i) {
      if (!db->Put(rocksdb::WriteOptions(), "unsynced" + std::to_string(i), std::string(100, 'x')).ok()) ::_exit(6);
    }
    ::raise(SIGKILL);
    ::_exit(7);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;

  auto read = [](const std::string& path, const std::string& key) -> std::string {
    rocksdb::DB* db = nullptr;
    rocksdb::Options options;
    if (!rocksdb::DB::Open(options, path, &db).ok()) return "<cannot open>";
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), key, &value);
    delete db;
    return s.ok() ? value : (s.IsNotFound() ? "<missing>" : "<error>");
  };
  // Control: a copy taken before the power cut still holds the unsynced writes.
  const std::string control = dir.Join("control");
  std::filesystem::copy(db_path, control, std::filesystem::copy_options::recursive);
  EXPECT_EQ(read(control, "unsynced99"), std::string(100, 'x'));

  auto outcome = ApplyPowerLoss(journal);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_GT(outcome->data_bytes_dropped, 100u * 100u) << outcome->ToString();
  EXPECT_EQ(read(db_path, "acknowledged"), "yes");
  EXPECT_EQ(read(db_path, "unsynced0"), "<missing>");
  EXPECT_EQ(read(db_path, "unsynced99"), "<missing>");
}

}  // namespace
}  // namespace orgtrail::faultenv
