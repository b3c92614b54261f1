// The `events` virtual table (sql_events_table.h): the SQLite module, its
// connection and cursor life cycle, and the column values of the current row.
// Planning is in sql_events_plan.cc, row sources in sql_events_cursor.cc.
#include "collector/sql/sql_events_table.h"

#include <string_view>

#include <simdjson.h>

#include "collector/sql/sql_events_columns.h"
#include "collector/sql/sql_events_cursor.h"
#include "collector/sql/sql_events_plan.h"
#include "orgtrail/common/event_extractor.h"

namespace orgtrail::collector {

namespace {

using namespace sql_events;  // NOLINT: the module's internals

struct Table : sqlite3_vtab {
  SqlScanContext* context = nullptr;
};

int xConnect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** error) {
  int rc = sqlite3_declare_vtab(db, Schema().c_str());
  if (rc != SQLITE_OK) {
    *error = sqlite3_mprintf("events: cannot declare the table");
    return rc;
  }
  auto* table = new Table();
  table->context = static_cast<SqlScanContext*>(aux);
  *out = table;
  return SQLITE_OK;
}

int xDisconnect(sqlite3_vtab* vtab) {
  delete static_cast<Table*>(vtab);
  return SQLITE_OK;
}

int xBestIndex(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  auto* table = static_cast<Table*>(vtab);
  return PlanEventsScan(static_cast<double>(table->context->store->events_stored()), info);
}

int xOpen(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
  auto* cursor = new Cursor();
  cursor->context = static_cast<Table*>(vtab)->context;
  *out = cursor;
  return SQLITE_OK;
}

int xClose(sqlite3_vtab_cursor* base) {
  delete static_cast<Cursor*>(base);
  return SQLITE_OK;
}

int xEof(sqlite3_vtab_cursor* base) { return static_cast<Cursor*>(base)->eof ? 1 : 0; }

bool Fetch(Cursor* cursor) {
  if (cursor->fetched) return cursor->event.has_value();
  cursor->fetched = true;
  auto stored = cursor->context->store->GetEventByKey(cursor->entry.event_key, cursor->context->snapshot);
  if (stored.ok() && stored->has_value()) cursor->event = std::move(**stored);
  return cursor->event.has_value();
}

bool Parse(Cursor* cursor) {
  if (cursor->parsed) return cursor->parse_ok;
  cursor->parsed = true;
  if (!Fetch(cursor)) return false;
  const std::string& raw = cursor->event->raw_json;
  cursor->parse_ok = cursor->parser.parse(raw.data(), raw.size()).get(cursor->root) == simdjson::SUCCESS;
  return cursor->parse_ok;
}

void ResultText(sqlite3_context* ctx, std::string_view text) {
  sqlite3_result_text(ctx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void ResultElement(sqlite3_context* ctx, simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING: ResultText(ctx, e.get_string().value_unsafe()); return;
    case simdjson::dom::element_type::INT64: sqlite3_result_int64(ctx, e.get_int64().value_unsafe()); return;
    case simdjson::dom::element_type::UINT64: sqlite3_result_double(ctx, static_cast<double>(e.get_uint64().value_unsafe())); return;
    case simdjson::dom::element_type::DOUBLE: sqlite3_result_double(ctx, e.get_double().value_unsafe()); return;
    case simdjson::dom::element_type::BOOL: sqlite3_result_int(ctx, e.get_bool().value_unsafe() ? 1 : 0); return;
    case simdjson::dom::element_type::NULL_VALUE: sqlite3_result_null(ctx); return;
    default: ResultText(ctx, simdjson::minify(e)); return;
  }
}

int xColumn(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int column) {
  auto* cursor = static_cast<Cursor*>(base);
  const IndexEntry& entry = cursor->entry;
  switch (column) {
    case kEventId: ResultText(ctx, entry.event_id); return SQLITE_OK;
    case kEventTime: ResultText(ctx, FormatSqlTime(entry.event_time_us)); return SQLITE_OK;
    case kRecipientAccountId: ResultText(ctx, entry.account_id); return SQLITE_OK;
    case kPartitionRegion: ResultText(ctx, entry.region); return SQLITE_OK;
    default: break;
  }
  if (column == kEventJson || column == kCommitIndex || column == kReceiptTime || column == kAgentId) {
    if (!Fetch(cursor)) {
      sqlite3_result_null(ctx);
      return SQLITE_OK;
    }
    const StoredEvent& event = *cursor->event;
    if (column == kEventJson) ResultText(ctx, event.raw_json);
    if (column == kCommitIndex) sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(event.meta.commit_index()));
    if (column == kReceiptTime) ResultText(ctx, FormatSqlTime(event.meta.receipt_time_us()));
    if (column == kAgentId) ResultText(ctx, event.meta.agent_id());
    return SQLITE_OK;
  }
  if (column == kUsername) {
    if (!cursor->extracted) {
      cursor->extracted = true;
      cursor->username.clear();
      v1::Event fields;
      if (Fetch(cursor) && cursor->extractor.Extract(cursor->event->raw_json, &fields).ok()) {
        cursor->username = fields.username();
      }
    }
    if (cursor->username.empty()) {
      sqlite3_result_null(ctx);
    } else {
      ResultText(ctx, cursor->username);
    }
    return SQLITE_OK;
  }
  if (column < 0 || column >= kColumnCount || !Parse(cursor)) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  simdjson::dom::element e = cursor->root;
  for (const char* key : Columns()[static_cast<size_t>(column)].path) {
    simdjson::dom::object object;
    if (e.get_object().get(object) != simdjson::SUCCESS || object.at_key(key).get(e) != simdjson::SUCCESS) {
      sqlite3_result_null(ctx);
      return SQLITE_OK;
    }
  }
  ResultElement(ctx, e);
  return SQLITE_OK;
}

int xRowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) {
  *rowid = static_cast<Cursor*>(base)->rowid;
  return SQLITE_OK;
}

const sqlite3_module kEventsModule = {
    /* iVersion */ 0,
    /* xCreate */ nullptr,  // eponymous-only: the table exists without CREATE
    /* xConnect */ xConnect,
    /* xBestIndex */ xBestIndex,
    /* xDisconnect */ xDisconnect,
    /* xDestroy */ nullptr,
    /* xOpen */ xOpen,
    /* xClose */ xClose,
    /* xFilter */ FilterEvents,
    /* xNext */ NextEvent,
    /* xEof */ xEof,
    /* xColumn */ xColumn,
    /* xRowid */ xRowid,
    /* xUpdate */ nullptr,  // read-only
    /* xBegin */ nullptr,
    /* xSync */ nullptr,
    /* xCommit */ nullptr,
    /* xRollback */ nullptr,
    /* xFindFunction */ nullptr,
    /* xRename */ nullptr,
    /* xSavepoint */ nullptr,
    /* xRelease */ nullptr,
    /* xRollbackTo */ nullptr,
    /* xShadowName */ nullptr,
};

}  // namespace

int RegisterEventsTable(sqlite3* db, SqlScanContext* context) {
  return sqlite3_create_module_v2(db, "events", &kEventsModule, context, nullptr);
}

}  // namespace orgtrail::collector