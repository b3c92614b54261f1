// Query planning for the SQL `events` virtual table (xBestIndex): chooses
// between an attribute index, a partition scan and the org-wide time index
// from the usable constraints, and encodes the choice for xFilter
// (sql_events_cursor.h). Internal to collector/sql.
//
// Plan encoding. idxNum: 0 = org-wide time index (or, reading records with no
// time bound, the events column family itself), 1..8 = attribute index of
// IndexKind idxNum-1, kPlanPartitions = partition scan; kPlanFetchFlag is set
// when columns beyond the key-derived ones are read. idxStr: one character per
// argv, in argv order: 'K' = attribute index value, 'A' = account,
// 'R' = awsregion, 'P' = partitionregion, 'g' '>' 'l' '<' '=' = eventtime
// >=, >, <=, <, =. Every pushed constraint is re-checked by SQLite (omit = 0).
// Thread safety: pure function of its arguments.
#ifndef ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_PLAN_H_
#define ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_PLAN_H_

#include <sqlite3.h>

namespace orgtrail::collector::sql_events {

constexpr int kPlanPartitions = 100;
constexpr int kPlanFetchFlag = 0x1000;

// Fills info (constraint usage, idxNum, idxStr, cost, rows) for a store of
// about `events_stored` events. Returns SQLITE_OK.
int PlanEventsScan(double events_stored, sqlite3_index_info* info);

}  // namespace orgtrail::collector::sql_events

#endif  // ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_PLAN_H_
