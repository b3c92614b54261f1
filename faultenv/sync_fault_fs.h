// Test-only fault injection for RocksDB: a FileSystem wrapper whose writable files fail
// Sync/Fsync/RangeSync with an IOError once a given number of syncs has succeeded. The collector
// enables it only through the hidden flag --test-fail-sync-after=N (default -1: never), so release
// configurations never do. Thread-safe (atomic counters).
#ifndef ORGTRAIL_FAULTENV_SYNC_FAULT_FS_H_
#define ORGTRAIL_FAULTENV_SYNC_FAULT_FS_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include <rocksdb/env.h>

namespace orgtrail::faultenv {

struct SyncFaultState {
  std::atomic<int64_t> syncs_before_failure{-1};  // -1 = never fail
  std::atomic<int64_t> syncs_seen{0};
  std::atomic<int64_t> failures_injected{0};
};

// An Env over the default file system whose file syncs fail per *state
// (which must outlive the Env).
std::unique_ptr<rocksdb::Env> NewSyncFaultEnv(SyncFaultState* state);

}  // namespace orgtrail::faultenv

#endif  // ORGTRAIL_FAULTENV_SYNC_FAULT_FS_H_
