// SqlEngine: read-only SQL over the collector's store through SQLite.
//
// Each query gets a fresh in-memory SQLite connection whose only table is
// `events`, an eponymous virtual table over the RocksDB store read at one
// snapshot (sql_events_table.h lists its columns: CloudTrail Lake's
// lower-cased names, useridentity_* flattened, plus eventjson = the raw
// record for json_extract). xBestIndex pushes equality on eventid /
// username / useridentity_accesskeyid / eventname / eventsource / readonly
// down to the store's attribute indexes, recipientaccountid / awsregion /
// partitionregion to partition scans, and eventtime ranges to key ranges;
// SQLite itself re-checks every constraint and does the rest (GROUP BY,
// ORDER BY, joins, aggregates, json_extract).
//
// Read-only by construction: the table has no xUpdate, the connection is
// in-memory and defensive, and an authorizer allows only SELECT, READ,
// FUNCTION and RECURSIVE (no PRAGMA, ATTACH, CREATE, INSERT, ...). Limits:
// statement length, one statement per request, SQLITE_LIMIT_* caps, a
// per-query deadline (progress handler + checks inside the table scan) and a
// row limit.
// Errors: INVALID_ARGUMENT (syntax, not a single SELECT, denied action:
// message from SQLite prefixed "sql: "), DEADLINE_EXCEEDED (time limit),
// RESOURCE_EXHAUSTED (row or result-size limit), UNAVAILABLE / DATA_LOSS
// from the store.
// Thread safety: Execute() may run concurrently from many threads (no shared
// mutable state besides the store, which is thread-safe for readers).
#ifndef ORGTRAIL_COLLECTOR_SQL_SQL_ENGINE_H_
#define ORGTRAIL_COLLECTOR_SQL_SQL_ENGINE_H_

#include <cstdint>
#include <string>

#include "collector/store/store.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/query.pb.h"

namespace orgtrail::collector {

struct SqlLimits {
  int64_t default_max_rows = 10000;
  int64_t max_max_rows = 1000000;
  int64_t default_timeout_ms = 30000;
  int64_t max_timeout_ms = 600000;
  size_t max_query_chars = 10000;            // as CloudTrail Lake
  size_t max_result_bytes = 3u << 20;        // fits gRPC's default 4 MiB message
};

class SqlEngine {
 public:
  // home_region: where global-service events are partitioned (for awsregion pushdown).
  SqlEngine(const EventStore* store, std::string home_region, SqlLimits limits = {});

  StatusOr<v1::SqlResponse> Execute(const v1::SqlRequest& request) const;

  const SqlLimits& limits() const { return limits_; }

 private:
  const EventStore* store_;
  std::string home_region_;
  SqlLimits limits_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SQL_SQL_ENGINE_H_
