// Prefix extractors for RocksDB's memtable insert hints
// (ColumnFamilyOptions::memtable_insert_with_hint_prefix_extractor).
//
// New keys of one partition (`events`) or of one attribute value (`idx`) land next to the
// previous key with the same prefix (STORAGE.md: a prefix followed by a descending time), and the
// commit index (`commits`) and the Merkle log's indexes (`metadata`) only grow. With a hint per
// prefix the memtable skiplist starts its search at the last insert position instead of at the
// head, which removes most of the key comparisons of an insert (they were about half of the group
// commit's CPU time).
//
// The extractors affect only where an insert starts looking, never the order or the content of
// the data, and only the memtable (not reads, not SST files). Stateless and thread-safe.
#ifndef ORGTRAIL_COLLECTOR_STORE_STORE_INSERT_HINTS_H_
#define ORGTRAIL_COLLECTOR_STORE_STORE_INSERT_HINTS_H_

#include <memory>

#include <rocksdb/slice_transform.h>

namespace orgtrail::collector {

// `events`: P(org) ‖ P(account) ‖ P(region), the partition.
std::shared_ptr<const rocksdb::SliceTransform> NewPartitionHintExtractor();
// `idx`: kind[1] ‖ P(value), one index list.
std::shared_ptr<const rocksdb::SliceTransform> NewIndexListHintExtractor();
// `commits`: the empty prefix (one hint for the whole, ever-growing key space).
std::shared_ptr<const rocksdb::SliceTransform> NewSingleHintExtractor();
// `metadata`: the key up to its second '/' and one byte more, e.g. "merkle/n/" ‖ level: the
// Merkle log's node and commit-to-leaf keys grow by index within each such prefix (3 inserts
// per stored event). Keys with fewer than two '/' get no hint.
std::shared_ptr<const rocksdb::SliceTransform> NewPathHintExtractor();

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_STORE_INSERT_HINTS_H_
