#include "faultenv/power_loss_fs.h"

#include <rocksdb/file_system.h>

#include "faultenv/hooked_file_system.h"

namespace orgtrail::faultenv {
namespace {

// Journals the durable size after every successful Sync/Fsync. RangeSync promises nothing about
// durability (sync_file_range), so it does not count.
class JournaledWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  JournaledWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string name, PowerLossJournal* journal)
      : FSWritableFileOwnerWrapper(std::move(file)), name_(std::move(name)), journal_(journal) {}

  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    const uint64_t size = target()->GetFileSize(options, dbg);
    rocksdb::IOStatus s = target()->Sync(options, dbg);
    if (s.ok()) journal_->Synced(name_, size);
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    const uint64_t size = target()->GetFileSize(options, dbg);
    rocksdb::IOStatus s = target()->Fsync(options, dbg);
    if (s.ok()) journal_->Synced(name_, size);
    return s;
  }

 private:
  const std::string name_;
  PowerLossJournal* const journal_;
};

class PowerLossFileSystem : public HookedFileSystem {
 public:
  PowerLossFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target, PowerLossJournal* journal)
      : HookedFileSystem(target), journal_(journal) {}
  const char* Name() const override { return "OrgtrailPowerLossFileSystem"; }

  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target_name,
                               const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->RenameFile(src, target_name, options, dbg);
    if (s.ok()) journal_->Renamed(src, target_name);
    return s;
  }
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target_name,
                             const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->LinkFile(src, target_name, options, dbg);
    if (s.ok()) journal_->Linked(src, target_name);
    return s;
  }
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->DeleteFile(fname, options, dbg);
    if (s.ok()) journal_->Deleted(fname);
    return s;
  }

 protected:
  void OnOpened(const std::string& fname, OpenKind kind, uint64_t size, const std::string& replaced) override {
    if (kind == OpenKind::kReopened) {
      journal_->Reopened(fname, size);  // what it holds already counts as durable
      return;
    }
    if (kind == OpenKind::kReused) journal_->Deleted(replaced);
    journal_->Created(fname);
  }
  std::unique_ptr<rocksdb::FSWritableFile> Wrap(const std::string& fname,
                                                std::unique_ptr<rocksdb::FSWritableFile> file) override {
    return std::make_unique<JournaledWritableFile>(std::move(file), fname, journal_);
  }

 private:
  PowerLossJournal* const journal_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewPowerLossEnv(PowerLossJournal* journal, std::shared_ptr<rocksdb::FileSystem> base) {
  auto fs = std::make_shared<PowerLossFileSystem>(base != nullptr ? base : rocksdb::FileSystem::Default(), journal);
  return rocksdb::NewCompositeEnv(fs);
}

absl::StatusOr<std::unique_ptr<PowerLossEnv>> OpenPowerLossEnv(const std::string& journal_path,
                                                               std::shared_ptr<rocksdb::FileSystem> base) {
  auto journal = PowerLossJournal::Open(journal_path);
  if (!journal.ok()) return journal.status();
  auto result = std::make_unique<PowerLossEnv>();
  result->journal = std::move(*journal);
  result->env = NewPowerLossEnv(result->journal.get(), std::move(base));
  return result;
}

}  // namespace orgtrail::faultenv
