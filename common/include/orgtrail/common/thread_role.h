// Thread roles: a name for every long-lived thread (shown by `top -H`, `perf`, gdb and
// /proc/<pid>/task/*/comm) and a lower CPU priority for background work.
//
// On a machine with few cores the collector's acknowledged path (gRPC streams, the committer)
// shares the CPU with work that may lag without losing anything: the export, the Merkle log,
// digests, uploads, RocksDB compactions. Background threads run at a higher nice value, so under
// load the scheduler gives the cores to the acknowledged path and the background work catches up
// when the load drops (its lag is in the export metrics). When the cores are idle it makes no
// difference.
//
// Contract: applies to the calling thread only (Linux: a per-thread nice value). Never fails
// the caller: a name longer than 15 bytes is cut (the kernel's limit), and a refused priority
// change (e.g. a seccomp profile) leaves the thread as it was. Thread-safe.
#ifndef ORGTRAIL_COMMON_THREAD_ROLE_H_
#define ORGTRAIL_COMMON_THREAD_ROLE_H_

#include <string_view>

namespace orgtrail {

enum class ThreadPriority {
  kNormal,      // the acknowledged path and everything latency-bound
  kBackground,  // may lag under load: nice + kBackgroundNiceIncrement
};

inline constexpr int kBackgroundNiceIncrement = 10;

void SetCurrentThreadRole(std::string_view name, ThreadPriority priority = ThreadPriority::kNormal);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_THREAD_ROLE_H_
