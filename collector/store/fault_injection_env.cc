#include "collector/store/fault_injection_env.h"

#include <rocksdb/file_system.h>

namespace orgtrail::collector {
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

class SyncFaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  SyncFaultFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target, SyncFaultState* state)
      : FileSystemWrapper(target), state_(state) {}
  const char* Name() const override { return "OrgtrailSyncFaultFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(fname, options, &file, dbg);
    if (s.ok()) result->reset(new FaultyWritableFile(std::move(file), state_));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->ReopenWritableFile(fname, options, &file, dbg);
    if (s.ok()) result->reset(new FaultyWritableFile(std::move(file), state_));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->ReuseWritableFile(fname, old_fname, options, &file, dbg);
    if (s.ok()) result->reset(new FaultyWritableFile(std::move(file), state_));
    return s;
  }

 private:
  SyncFaultState* state_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewSyncFaultEnv(SyncFaultState* state) {
  auto fs = std::make_shared<SyncFaultFileSystem>(rocksdb::FileSystem::Default(), state);
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace orgtrail::collector
