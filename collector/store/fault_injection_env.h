// Test-only fault injection for the collector's RocksDB: a FileSystem wrapper
// whose writable files fail Sync/Fsync/RangeSync with an IOError once a
// given number of syncs has succeeded. Enabled only through the hidden
// collector flag --test-fail-sync-after=N (default -1: never), so release
// configurations never enable it. Thread-safe (atomic counters).
#ifndef ORGTRAIL_COLLECTOR_STORE_FAULT_INJECTION_ENV_H_
#define ORGTRAIL_COLLECTOR_STORE_FAULT_INJECTION_ENV_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include <rocksdb/env.h>

namespace orgtrail::collector {

struct SyncFaultState {
  std::atomic<int64_t> syncs_before_failure{-1};  // -1 = never fail
  std::atomic<int64_t> syncs_seen{0};
  std::atomic<int64_t> failures_injected{0};
};

// An Env over the default file system whose file syncs fail per *state
// (which must outlive the Env).
std::unique_ptr<rocksdb::Env> NewSyncFaultEnv(SyncFaultState* state);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_FAULT_INJECTION_ENV_H_
