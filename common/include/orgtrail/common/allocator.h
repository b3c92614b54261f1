// The memory allocator the process runs on (cmake/OrgtrailAllocator.cmake links tcmalloc into
// the collector and the tools; the agent, and sanitizer and fuzz builds, run on the C library's
// malloc), and its cache bound.
//
// tcmalloc keeps freed memory in per-thread caches (up to 32 MiB in total by default) to make
// the next allocation cheap; a daemon with dozens of gRPC and RocksDB threads then holds that
// much more resident memory than it uses. LimitAllocatorThreadCaches lowers the bound.
//
// Contract: the functions look tcmalloc up at run time (its C API, by symbol), so they work in
// any build and never fail the caller. Thread-safe.
#ifndef ORGTRAIL_COMMON_ALLOCATOR_H_
#define ORGTRAIL_COMMON_ALLOCATOR_H_

#include <cstddef>
#include <string>

namespace orgtrail {

// "tcmalloc" or "system".
std::string AllocatorName();

// Bounds tcmalloc's thread caches, all threads together, to `bytes`. Returns false (and does
// nothing) when the process does not run on tcmalloc.
bool LimitAllocatorThreadCaches(size_t bytes);

inline constexpr size_t kDaemonThreadCacheBytes = 8u << 20;

// For a long-running daemon, first thing in main(). On the C library's malloc: two arenas
// (glibc gives each thread that allocates concurrently its own arena, up to 8 per core, and
// gRPC's and RocksDB's threads then hold freed memory in many of them) unless MALLOC_ARENA_MAX
// is set. On tcmalloc: thread caches bounded to kDaemonThreadCacheBytes unless
// TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES is set (measured on a collector over a 10M-event store
// while ingesting: max RSS 537 MiB with tcmalloc's default, 504 MiB with 4 MiB). Returns
// AllocatorName().
std::string ConfigureDaemonAllocator();

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_ALLOCATOR_H_
