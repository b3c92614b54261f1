// Lookup cursors: ordered walks over the store's key ranges that LookupEvents
// combines (an attribute index, a partition's records, a union of partitions,
// an intersection of several).
//
// Every cursor yields events in *lookup order*: newest first, ties broken by
// account, region, eventID. An event's order key is
//   T(eventTime) || P(account) || P(region) || eventID        (STORAGE.md primitives)
// which is exactly the suffix of its "idx" keys after kind || P(value), so an
// attribute cursor reads it straight from the key and cursors over different
// column families agree on one total order. That makes intersection a
// leapfrog join (each cursor seeks to the largest current key of the others):
// the keys touched are proportional to the matches plus the alternations
// between the inputs, never to the store.
//
// Contract: a cursor starts unpositioned; call SeekAtOrAfter("") (or a resume
// key) first. Cursors read one snapshot, are not thread-safe, and must not
// outlive the store. Every RocksDB Seek/Next they make is counted in the
// CursorStats passed at creation (for tests and metrics). status() reports
// RocksDB errors (UNAVAILABLE) or undecodable keys (DATA_LOSS).
#ifndef ORGTRAIL_COLLECTOR_QUERY_QUERY_CURSOR_H_
#define ORGTRAIL_COLLECTOR_QUERY_QUERY_CURSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "collector/store/store_keys.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

class EventStore;

struct CursorStats {
  uint64_t seeks = 0;  // RocksDB iterator Seek calls
  uint64_t nexts = 0;  // RocksDB iterator Next calls
  uint64_t steps() const { return seeks + nexts; }
};

// The order key of one event (see above).
std::string LookupOrderKey(int64_t event_time_us, std::string_view account_id,
                           std::string_view region, std::string_view event_id);
struct DecodedOrderKey {
  int64_t event_time_us = 0;
  std::string_view account_id;
  std::string_view region;
  std::string_view event_id;
};
bool DecodeLookupOrderKey(std::string_view order_key, DecodedOrderKey* out);

class LookupCursor {
 public:
  virtual ~LookupCursor() = default;
  virtual bool Valid() const = 0;
  virtual std::string_view order_key() const = 0;  // valid while positioned
  virtual std::string_view event_key() const = 0;  // key in the "events" column family
  virtual void Next() = 0;
  // Positions at the first event whose order key is >= target ("" = first of all).
  virtual void SeekAtOrAfter(std::string_view target) = 0;
  virtual Status status() const = 0;
};

// The time range [start_us, end_us] is inclusive on both ends.
struct CursorRange {
  const EventStore* store = nullptr;
  const rocksdb::Snapshot* snapshot = nullptr;
  int64_t start_us = 0;
  int64_t end_us = 0;
  CursorStats* stats = nullptr;  // required
};

// Which index entries a cursor reads (STORAGE.md, `idx`): the management entries only
// (eventCategory Management, Insight or none; a store written before the category split also
// holds every other event there), or those and the other categories' (Data, NetworkActivity).
enum class IndexCategories { kManagement, kAll };

// One attribute index (kind != kAll, value) or the org-wide time index (kAll, "").
std::unique_ptr<LookupCursor> NewIndexCursor(const CursorRange& range, IndexKind kind,
                                             std::string_view value, IndexCategories categories);
// The records of one partition (the store's org / account / region).
std::unique_ptr<LookupCursor> NewPartitionCursor(const CursorRange& range,
                                                 std::string_view account_id,
                                                 std::string_view region);
// Events in any child (children must not overlap, e.g. distinct partitions).
std::unique_ptr<LookupCursor> NewUnionCursor(std::vector<std::unique_ptr<LookupCursor>> children);
// Events in every child (leapfrog join). Needs at least one child.
std::unique_ptr<LookupCursor> NewIntersectionCursor(
    std::vector<std::unique_ptr<LookupCursor>> children);

// Distinct accounts that have records, and the partition regions of one
// account, found by skipping from partition to partition (one Seek per
// result, not a scan of the records).
StatusOr<std::vector<std::string>> ListStoredAccounts(const EventStore& store,
                                                      const rocksdb::Snapshot* snapshot,
                                                      CursorStats* stats);
StatusOr<std::vector<std::string>> ListStoredRegions(const EventStore& store,
                                                     std::string_view account_id,
                                                     const rocksdb::Snapshot* snapshot,
                                                     CursorStats* stats);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_QUERY_QUERY_CURSOR_H_
