// Columns of the SQL `events` virtual table (sql_events_table.h) and the
// text form of its time column. Internal to collector/sql.
//
// Column: the table's columns in declaration order (the index SQLite passes to
// xBestIndex/xColumn). ColumnSpec::path is the JSON path a record-derived
// column reads; key-derived and metadata columns have an empty path.
// Thread safety: everything here is immutable or pure.
#ifndef ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_COLUMNS_H_
#define ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_COLUMNS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orgtrail::collector::sql_events {

enum Column {
  kEventId,
  kEventTime,
  kEventSource,
  kEventName,
  kAwsRegion,
  kRecipientAccountId,
  kPartitionRegion,
  kUserIdentityType,
  kUserIdentityArn,
  kUserIdentityPrincipalId,
  kUserIdentityAccountId,
  kUserIdentityAccessKeyId,
  kUserIdentityUserName,
  kUserIdentityInvokedBy,
  kUserIdentitySessionIssuerArn,
  kUserIdentityMfaAuthenticated,
  kUsername,
  kErrorCode,
  kErrorMessage,
  kSourceIpAddress,
  kUserAgent,
  kReadOnly,
  kEventCategory,
  kEventType,
  kManagementEvent,
  kEventVersion,
  kRequestId,
  kSharedEventId,
  kVpcEndpointId,
  kRequestParameters,
  kResponseElements,
  kAdditionalEventData,
  kResources,
  kEventJson,
  kCommitIndex,
  kReceiptTime,
  kAgentId,
  kColumnCount,
};

struct ColumnSpec {
  const char* name;
  const char* type;
  std::vector<const char*> path;  // JSON path for record-derived columns
};

// Every column, indexed by Column.
const std::vector<ColumnSpec>& Columns();

// "CREATE TABLE x(...)" for sqlite3_declare_vtab.
std::string Schema();

// 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC), the eventtime column's format.
std::string FormatSqlTime(int64_t time_us);

// Parses 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS[.fraction]' (the column's own
// format) to microseconds; nullopt otherwise (then no pushdown).
std::optional<int64_t> ParseSqlTime(std::string_view text);

}  // namespace orgtrail::collector::sql_events

#endif  // ORGTRAIL_COLLECTOR_SQL_SQL_EVENTS_COLUMNS_H_
