// The `events` virtual table of the SQL engine (internal to sql_engine.cc).
//
// An eponymous SQLite module over the EventStore at one snapshot. Columns
// (CloudTrail Lake's lower-cased names; values read from the raw record,
// except those marked *key*, which come from the store key without reading
// the record):
//   eventid* eventtime* ('YYYY-MM-DD HH:MM:SS', UTC) eventsource eventname
//   awsregion recipientaccountid* (the partition account the collector
//   authorized) partitionregion* (home region for global events)
//   useridentity_type useridentity_arn useridentity_principalid
//   useridentity_accountid useridentity_accesskeyid useridentity_username
//   useridentity_invokedby useridentity_sessionissuer_arn
//   useridentity_mfaauthenticated username (CloudTrail Event-history username)
//   errorcode errormessage sourceipaddress useragent readonly (1/0/NULL)
//   eventcategory eventtype managementevent (1/0/NULL) eventversion requestid
//   sharedeventid vpcendpointid requestparameters responseelements
//   additionaleventdata resources (JSON text) eventjson (raw record)
//   commitindex receipttime agentid (collector metadata)
// Pushdown: see sql_engine.h. Every pushed constraint is re-checked by
// SQLite (omit = 0), so a pushdown only has to return a superset.
#ifndef ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_TABLE_H_
#define ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_TABLE_H_

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "collector/store/store.h"

namespace orgtrail::collector {

// Per-query state shared by the table's cursors (one query = one thread).
struct SqlScanContext {
  const EventStore* store = nullptr;
  const rocksdb::Snapshot* snapshot = nullptr;
  std::string home_region;
  std::chrono::steady_clock::time_point deadline;
  uint64_t rows_read = 0;    // rows the table handed to SQLite
  uint64_t index_steps = 0;  // index / partition keys visited
  bool timed_out = false;
  std::vector<std::string> plans;  // one line per xFilter call (deduplicated)
};

// Registers the eponymous module "events" on db. `context` must outlive db.
int RegisterEventsTable(sqlite3* db, SqlScanContext* context);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_TABLE_H_
