// Internals of EventStore shared by its source files (store.cc, store_values.cc,
// store_iterators.cc, store_retention.cc); not for use outside collector/store.
//
// FromRocks maps a RocksDB status to the store's Status: Corruption ->
// DATA_LOSS, InvalidArgument -> INVALID_ARGUMENT, anything else ->
// UNAVAILABLE (transient: callers may retry).
#ifndef ORGTRAIL_COLLECTOR_STORE_STORE_INTERNAL_H_
#define ORGTRAIL_COLLECTOR_STORE_STORE_INTERNAL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/iterator.h>

#include "collector/store/store.h"

namespace orgtrail::collector::store_internal {

Status FromRocks(const rocksdb::Status& s, std::string_view what);

// Which part of a column family's entries holds the eventTime.
enum class TimeSource { kEventKey, kIndexKey, kValueIsEventKey };

// Which part of an entry holds its commit index, for the retention hold.
enum class CommitSource { kNone, kEventValue, kCommitKey };

// A compaction filter that drops entries whose eventTime (read from `source`)
// is older than now - retention_us; entries it cannot decode are kept. When
// `commit` is not kNone, an entry whose commit index is above *hold is kept
// whatever its age (an event is never dropped before the export has it).
std::unique_ptr<rocksdb::CompactionFilter> NewRetentionFilter(TimeSource source, int64_t retention_us,
                                                              CommitSource commit,
                                                              const std::atomic<uint64_t>* hold);

// Iterates the keys of `prefix` (an index or partition prefix) newest first
// within [start_us, end_us]. For index iterators (is_index) the event key is
// rebuilt from the index key with `org`. `steps` counts RocksDB steps.
std::unique_ptr<EventIndexIterator> NewPrefixTimeIterator(std::unique_ptr<rocksdb::Iterator> it, std::string prefix,
                                                          bool is_index, std::string org, int64_t start_us,
                                                          int64_t end_us, std::atomic<uint64_t>* steps);

// Merges index iterators over the category classes of one index prefix (STORAGE.md, `idx`):
// their keys differ only in the kind byte, so the rest of the key orders them. raw_key() is the
// current child's key; SeekAfter(key) seeks each child to `key` with its own kind byte
// (kind_bytes[i] for children[i]).
std::unique_ptr<EventIndexIterator> NewCategoryMergeIterator(
    std::vector<std::unique_ptr<EventIndexIterator>> children, std::string kind_bytes);

// Iterates the commits column family from commit index `first` in order.
std::unique_ptr<CommitIterator> NewCommitIteratorAt(std::unique_ptr<rocksdb::Iterator> it, uint64_t first,
                                                    std::atomic<uint64_t>* steps);

}  // namespace orgtrail::collector::store_internal

#endif  // ORGTRAIL_COLLECTOR_STORE_STORE_INTERNAL_H_
