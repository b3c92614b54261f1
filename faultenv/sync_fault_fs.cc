#include "faultenv/sync_fault_fs.h"

#include <rocksdb/file_system.h>

#include "faultenv/hooked_file_system.h"

namespace orgtrail::faultenv {
namespace {

rocksdb::IOStatus MaybeFail(SyncFaultState* state) {
  int64_t limit = state->syncs_before_failure.load();
  int64_t seen = state->syncs_seen.fetch_add(1);
  if (limit >= 0 && seen >= limit) {
    state->failures_injected.fetch_add(1);
    return rocksdb::IOStatus::IOError("injected fsync failure (--test-fail-sync-after)");
  }
  return rocksdb::IOStatus::OK();
}

class FaultyWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, SyncFaultState* state)
      : FSWritableFileOwnerWrapper(std::move(file)), state_(state) {}
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = MaybeFail(state_);
    return s.ok() ? target()->Sync(options, dbg) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = MaybeFail(state_);
    return s.ok() ? target()->Fsync(options, dbg) : s;
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = MaybeFail(state_);
    return s.ok() ? target()->RangeSync(offset, nbytes, options, dbg) : s;
  }

 private:
  SyncFaultState* state_;
};

class SyncFaultFileSystem : public HookedFileSystem {
 public:
  SyncFaultFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target, SyncFaultState* state)
      : HookedFileSystem(target), state_(state) {}
  const char* Name() const override { return "OrgtrailSyncFaultFileSystem"; }

 protected:
  std::unique_ptr<rocksdb::FSWritableFile> Wrap(const std::string& /*fname*/,
                                                std::unique_ptr<rocksdb::FSWritableFile> file) override {
    return std::make_unique<FaultyWritableFile>(std::move(file), state_);
  }

 private:
  SyncFaultState* state_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewSyncFaultEnv(SyncFaultState* state) {
  auto fs = std::make_shared<SyncFaultFileSystem>(rocksdb::FileSystem::Default(), state);
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace orgtrail::faultenv
