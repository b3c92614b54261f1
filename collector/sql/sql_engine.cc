// SqlEngine (sql_engine.h): one in-memory, read-only SQLite connection per
// query with the `events` virtual table (sql_events_table.h).
#include "collector/sql/sql_engine.h"

#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <memory>

#include "collector/sql/sql_events_table.h"

namespace orgtrail::collector {

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

const char* ActionName(int action) {
  switch (action) {
    case SQLITE_PRAGMA: return "PRAGMA";
    case SQLITE_ATTACH: return "ATTACH";
    case SQLITE_DETACH: return "DETACH";
    case SQLITE_INSERT: return "INSERT";
    case SQLITE_UPDATE: return "UPDATE";
    case SQLITE_DELETE: return "DELETE";
    case SQLITE_TRANSACTION: return "a transaction";
    case SQLITE_SAVEPOINT: return "SAVEPOINT";
    case SQLITE_ANALYZE: return "ANALYZE";
    case SQLITE_CREATE_VTABLE: case SQLITE_CREATE_TABLE: case SQLITE_CREATE_TEMP_TABLE: case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TEMP_VIEW: case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_TEMP_TRIGGER: return "CREATE";
    case SQLITE_DROP_VTABLE: case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_TABLE: case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TEMP_VIEW: case SQLITE_DROP_INDEX: case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TRIGGER: case SQLITE_DROP_TEMP_TRIGGER: return "DROP";
    case SQLITE_ALTER_TABLE: return "ALTER TABLE";
    case SQLITE_REINDEX: return "REINDEX";
    default: return "this statement";
  }
}

struct AuthorizerState {
  std::string denied;  // first denied action
};

int Authorize(void* user, int action, const char* arg1, const char*, const char*, const char*) {
  auto* state = static_cast<AuthorizerState*>(user);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      // load_extension is compiled out of the SQL function set by default; refuse it anyway.
      if (arg1 && sqlite3_stricmp(arg1, "load_extension") == 0) break;
      return SQLITE_OK;
    default:
      break;
  }
  if (state->denied.empty()) state->denied = ActionName(action);
  return SQLITE_DENY;
}

struct ProgressState {
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;
};

int Progress(void* user) {
  auto* state = static_cast<ProgressState*>(user);
  if (std::chrono::steady_clock::now() > state->deadline) {
    state->timed_out = true;
    return 1;  // interrupts the statement
  }
  return 0;
}

void ApplyLimits(sqlite3* db, const SqlLimits& limits) {
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 16 << 20);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, static_cast<int>(limits.max_query_chars) + 16);
  sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 200);
  sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100);
  sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 20);
  sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 100000);
  sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 16);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000);
  sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 0);
  sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
}

bool OnlyWhitespaceOrComments(const char* tail) {
  const char* p = tail;
  while (*p) {
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';') {
      ++p;
    } else if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n') ++p;
    } else if (p[0] == '/' && p[1] == '*') {
      const char* end = std::strstr(p + 2, "*/");
      if (!end) return true;  // unterminated comment: SQLite ignores it too
      p = end + 2;
    } else {
      return false;
    }
  }
  return true;
}

size_t ValueBytes(const v1::SqlValue& value) {
  return value.text().size() + value.blob().size() + 9;
}

}  // namespace

SqlEngine::SqlEngine(const EventStore* store, std::string home_region, SqlLimits limits)
    : store_(store), home_region_(std::move(home_region)), limits_(limits) {}

StatusOr<v1::SqlResponse> SqlEngine::Execute(const v1::SqlRequest& request) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string& query = request.query();
  if (query.find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InvalidArgumentError("sql: empty query");
  }
  if (query.size() > limits_.max_query_chars) {
    return absl::InvalidArgumentError("sql: query is " + std::to_string(query.size()) + " characters; the limit is " +
                                      std::to_string(limits_.max_query_chars));
  }
  if (query.find('\0') != std::string::npos) return absl::InvalidArgumentError("sql: NUL byte in the query");
  if (request.max_rows() < 0 || request.max_rows() > limits_.max_max_rows) {
    return absl::InvalidArgumentError("sql: max_rows must be between 0 and " + std::to_string(limits_.max_max_rows));
  }
  if (request.timeout_ms() < 0 || request.timeout_ms() > limits_.max_timeout_ms) {
    return absl::InvalidArgumentError("sql: timeout_ms must be between 0 and " + std::to_string(limits_.max_timeout_ms));
  }
  const int64_t max_rows = request.max_rows() ? request.max_rows() : limits_.default_max_rows;
  const int64_t timeout_ms = request.timeout_ms() ? request.timeout_ms() : limits_.default_timeout_ms;

  auto snapshot = store_->NewIndexedSnapshot();
  SqlScanContext context;
  context.store = store_;
  context.snapshot = snapshot->snapshot();
  context.home_region = home_region_;
  context.deadline = started + std::chrono::milliseconds(timeout_ms);

  sqlite3* raw_db = nullptr;
  int rc = sqlite3_open_v2(":memory:", &raw_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, DbCloser> db(raw_db);
  if (rc != SQLITE_OK) return absl::InternalError("sql: cannot open SQLite");
  ApplyLimits(db.get(), limits_);
  if (RegisterEventsTable(db.get(), &context) != SQLITE_OK) return absl::InternalError("sql: cannot register the events table");
  // Connect the eponymous table before the authorizer is installed: SQLite
  // records it in its in-memory schema with an internal write the strict
  // authorizer would refuse.
  {
    sqlite3_stmt* warm = nullptr;
    if (sqlite3_prepare_v2(db.get(), "SELECT eventid FROM events LIMIT 0", -1, &warm, nullptr) != SQLITE_OK) {
      sqlite3_finalize(warm);
      return absl::InternalError(std::string("sql: cannot connect the events table: ") + sqlite3_errmsg(db.get()));
    }
    sqlite3_finalize(warm);
  }
  AuthorizerState authorizer;
  sqlite3_set_authorizer(db.get(), Authorize, &authorizer);
  ProgressState progress{context.deadline, false};
  sqlite3_progress_handler(db.get(), 1000, Progress, &progress);

  sqlite3_stmt* raw_stmt = nullptr;
  const char* tail = nullptr;
  rc = sqlite3_prepare_v3(db.get(), query.c_str(), static_cast<int>(query.size()), 0, &raw_stmt, &tail);
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> stmt(raw_stmt);
  if (rc != SQLITE_OK) {
    if (!authorizer.denied.empty()) {
      return absl::InvalidArgumentError("sql: read-only: " + authorizer.denied + " is not allowed (only SELECT)");
    }
    if (progress.timed_out) {
      return absl::DeadlineExceededError("sql: query time limit of " + std::to_string(timeout_ms) + " ms exceeded");
    }
    return absl::InvalidArgumentError(std::string("sql: ") + sqlite3_errmsg(db.get()));
  }
  if (!stmt) return absl::InvalidArgumentError("sql: no statement (only comments?)");
  if (tail && !OnlyWhitespaceOrComments(tail)) {
    return absl::InvalidArgumentError("sql: only one statement per query");
  }
  if (!sqlite3_stmt_readonly(stmt.get())) {
    return absl::InvalidArgumentError("sql: read-only: only SELECT statements are allowed");
  }

  v1::SqlResponse response;
  const int columns = sqlite3_column_count(stmt.get());
  for (int i = 0; i < columns; ++i) {
    const char* name = sqlite3_column_name(stmt.get(), i);
    response.add_columns(name ? name : "");
  }
  size_t bytes = 0;
  for (;;) {
    rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      if (progress.timed_out || context.timed_out) {
        return absl::DeadlineExceededError("sql: query time limit of " + std::to_string(timeout_ms) +
                                           " ms exceeded (narrow the eventtime range or add indexed conditions)");
      }
      if (!authorizer.denied.empty()) {
        return absl::InvalidArgumentError("sql: read-only: " + authorizer.denied + " is not allowed (only SELECT)");
      }
      std::string message = sqlite3_errmsg(db.get());
      if (message.find("store read failed") != std::string::npos) return absl::UnavailableError("sql: " + message);
      return absl::InvalidArgumentError("sql: " + message);
    }
    if (response.rows_size() >= max_rows) {
      return absl::ResourceExhaustedError("sql: the query returns more than " + std::to_string(max_rows) +
                                          " rows (max_rows); add a LIMIT, aggregate, or narrow the WHERE clause");
    }
    v1::SqlRow* row = response.add_rows();
    for (int i = 0; i < columns; ++i) {
      v1::SqlValue* value = row->add_values();
      switch (sqlite3_column_type(stmt.get(), i)) {
        case SQLITE_INTEGER: value->set_integer(sqlite3_column_int64(stmt.get(), i)); break;
        case SQLITE_FLOAT: value->set_real(sqlite3_column_double(stmt.get(), i)); break;
        case SQLITE_TEXT: {
          const unsigned char* text = sqlite3_column_text(stmt.get(), i);
          value->set_text(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt.get(), i)));
          break;
        }
        case SQLITE_BLOB: {
          const void* blob = sqlite3_column_blob(stmt.get(), i);
          value->set_blob(blob, static_cast<size_t>(sqlite3_column_bytes(stmt.get(), i)));
          break;
        }
        default: value->set_null(true); break;
      }
      bytes += ValueBytes(*value);
    }
    if (bytes > limits_.max_result_bytes) {
      return absl::ResourceExhaustedError("sql: the result is larger than " + std::to_string(limits_.max_result_bytes >> 20) +
                                          " MiB; select fewer columns (eventjson is large) or fewer rows");
    }
  }
  response.set_rows_read(context.rows_read);
  response.set_index_steps(context.index_steps);
  for (const auto& plan : context.plans) response.add_plan(plan);
  response.set_elapsed_us(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
  return response;
}

}  // namespace orgtrail::collector
