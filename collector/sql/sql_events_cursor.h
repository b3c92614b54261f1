// Cursors of the SQL `events` virtual table: the row sources a plan
// (sql_events_plan.h) opens (attribute index, partitions, org-wide time index
// or the events column family itself), the secondary account/region filters,
// batched record prefetch, and the xFilter/xNext steps. Internal to
// collector/sql; sql_events_table.cc owns the module and the column values.
// Thread safety: a cursor belongs to one SQLite statement (one thread).
#ifndef ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_CURSOR_H_
#define ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_CURSOR_H_

#include <sqlite3.h>

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "collector/sql/sql_events_table.h"
#include "collector/store/store.h"
#include "orgtrail/common/event_extractor.h"

namespace orgtrail::collector::sql_events {

class EventsScan;

// One row source of a plan, walked in order.
struct Source {
  bool partition = false;
  bool all_events = false;  // the whole events column family (no time bounds)
  IndexKind kind = IndexKind::kAll;
  std::string value;    // index value
  std::string account;  // partition
  std::string region;   // partition
};

// SQLite cursor state; the current row's record is loaded lazily.
struct Cursor : sqlite3_vtab_cursor {
  SqlScanContext* context = nullptr;
  std::vector<Source> sources;
  size_t source_pos = 0;
  int64_t start_us = std::numeric_limits<int64_t>::min();
  int64_t end_us = std::numeric_limits<int64_t>::max();
  std::optional<std::string> account_filter;
  std::optional<std::set<std::string>> region_filter;  // allowed partition regions
  std::unique_ptr<EventIndexIterator> it;
  EventsScan* scan = nullptr;  // == it.get() when the source walks the events column family
  bool prefetch = false;        // index walks: records fetched in sorted batches
  std::deque<std::pair<IndexEntry, std::optional<StoredEvent>>> buffer;  // front = current row
  bool eof = true;
  int64_t rowid = 0;
  // Current row, loaded lazily.
  IndexEntry entry;
  bool fetched = false;
  std::optional<StoredEvent> event;
  bool parsed = false;
  bool parse_ok = false;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool extracted = false;
  std::string username;
  EventExtractor extractor;
};

// xFilter: starts the plan PlanEventsScan chose with the constraint values in
// argv and settles on the first row. SQLite return codes; errors set zErrMsg.
int FilterEvents(sqlite3_vtab_cursor* base, int plan, const char* codes, int argc, sqlite3_value** argv);

// xNext: moves to the next row passing the filters.
int NextEvent(sqlite3_vtab_cursor* base);

}  // namespace orgtrail::collector::sql_events

#endif  // ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_CURSOR_H_
