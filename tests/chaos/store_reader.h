// StoreReader: reads a stopped collector's RocksDB store (read-only, as
// collector/STORAGE.md lays it out) to count how many times each eventID is
// stored in the `events` column family, independently of the collector's
// own dedup index, plus the sizes of `event_ids` and `commits` (which must
// agree). Used by the chaos checker after the collector was stopped.
// Thread-compatible; no state beyond the returned snapshot.
#ifndef ORGTRAIL_TESTS_CHAOS_STORE_READER_H_
#define ORGTRAIL_TESTS_CHAOS_STORE_READER_H_

#include <cstdint>
#include <string>
#include <unordered_map>

#include "orgtrail/common/status.h"

namespace orgtrail::chaos {

struct StoreSnapshot {
  std::unordered_map<std::string, uint64_t> copies;  // eventID -> records in `events`
  uint64_t events = 0;     // records in `events`
  uint64_t event_ids = 0;  // entries in `event_ids`
  uint64_t commits = 0;    // entries in `commits`
  uint64_t undecodable = 0;
};

// db_path: <collector data-dir>/db.
StatusOr<StoreSnapshot> ReadStore(const std::string& db_path);

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_STORE_READER_H_
