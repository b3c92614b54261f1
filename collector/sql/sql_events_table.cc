// The `events` virtual table (sql_events_table.h).
#include "collector/sql/sql_events_table.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <ctime>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include <simdjson.h>

#include "orgtrail/common/event_extractor.h"

namespace orgtrail::collector {

namespace {

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

const std::vector<ColumnSpec>& Columns() {
  static const std::vector<ColumnSpec> kColumns = {
      {"eventid", "TEXT", {}},
      {"eventtime", "TEXT", {}},
      {"eventsource", "TEXT", {"eventSource"}},
      {"eventname", "TEXT", {"eventName"}},
      {"awsregion", "TEXT", {"awsRegion"}},
      {"recipientaccountid", "TEXT", {}},
      {"partitionregion", "TEXT", {}},
      {"useridentity_type", "TEXT", {"userIdentity", "type"}},
      {"useridentity_arn", "TEXT", {"userIdentity", "arn"}},
      {"useridentity_principalid", "TEXT", {"userIdentity", "principalId"}},
      {"useridentity_accountid", "TEXT", {"userIdentity", "accountId"}},
      {"useridentity_accesskeyid", "TEXT", {"userIdentity", "accessKeyId"}},
      {"useridentity_username", "TEXT", {"userIdentity", "userName"}},
      {"useridentity_invokedby", "TEXT", {"userIdentity", "invokedBy"}},
      {"useridentity_sessionissuer_arn", "TEXT", {"userIdentity", "sessionContext", "sessionIssuer", "arn"}},
      {"useridentity_mfaauthenticated", "TEXT", {"userIdentity", "sessionContext", "attributes", "mfaAuthenticated"}},
      {"username", "TEXT", {}},
      {"errorcode", "TEXT", {"errorCode"}},
      {"errormessage", "TEXT", {"errorMessage"}},
      {"sourceipaddress", "TEXT", {"sourceIPAddress"}},
      {"useragent", "TEXT", {"userAgent"}},
      {"readonly", "INTEGER", {"readOnly"}},
      {"eventcategory", "TEXT", {"eventCategory"}},
      {"eventtype", "TEXT", {"eventType"}},
      {"managementevent", "INTEGER", {"managementEvent"}},
      {"eventversion", "TEXT", {"eventVersion"}},
      {"requestid", "TEXT", {"requestID"}},
      {"sharedeventid", "TEXT", {"sharedEventID"}},
      {"vpcendpointid", "TEXT", {"vpcEndpointId"}},
      {"requestparameters", "TEXT", {"requestParameters"}},
      {"responseelements", "TEXT", {"responseElements"}},
      {"additionaleventdata", "TEXT", {"additionalEventData"}},
      {"resources", "TEXT", {"resources"}},
      {"eventjson", "TEXT", {}},
      {"commitindex", "INTEGER", {}},
      {"receipttime", "TEXT", {}},
      {"agentid", "TEXT", {}},
  };
  return kColumns;
}

std::string FormatSqlTime(int64_t time_us) {
  int64_t seconds = time_us / 1000000;
  int64_t micros = time_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (micros != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros));
    out += frac;
  }
  return out;
}

// Parses 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS[.fraction]' (the column's own
// format) to microseconds; nullopt otherwise (then no pushdown).
std::optional<int64_t> ParseSqlTime(std::string_view text) {
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!digits(0, 4, &year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, &month) || text[7] != '-' ||
      !digits(8, 2, &day)) {
    return std::nullopt;
  }
  if (text.size() > 10) {
    if (text.size() < 19 || text[10] != ' ' || !digits(11, 2, &hour) || text[13] != ':' || !digits(14, 2, &minute) ||
        text[16] != ':' || !digits(17, 2, &second)) {
      return std::nullopt;
    }
    if (text.size() > 19) {
      if (text[19] != '.') return std::nullopt;
      for (size_t i = 20; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  struct tm tm;
  std::memset(&tm, 0, sizeof tm);
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000000;
}

// ---- plan encoding (idxStr): one character per argv, in argv order ----
//   'K' = attribute index value (idxNum = IndexKind + 1), 'A' = account,
//   'R' = awsregion, 'P' = partitionregion,
//   'g' '>' 'l' '<' '=' = eventtime >=, >, <=, <, =
// idxNum: 0 = org-wide time index, 1..8 = attribute index kind, 100 = partition scan.
constexpr int kPlanPartitions = 100;
constexpr int kPlanFetchFlag = 0x1000;
constexpr size_t kPrefetchBatch = 256;

struct Table : sqlite3_vtab {
  SqlScanContext* context = nullptr;
};

// Walks the "events" column family itself (key order) from `seek` while keys
// start with `prefix` and, when times are ordered (one partition), while the
// event time is >= start_us. Unlike an index walk it has the record at hand,
// so scans need no point lookup per row.
class EventsScan final : public EventIndexIterator {
 public:
  EventsScan(const EventStore* store, const rocksdb::Snapshot* snapshot, std::string prefix, const std::string& seek,
             int64_t start_us)
      : prefix_(std::move(prefix)), start_us_(start_us) {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot;
    it_.reset(store->db()->NewIterator(options, store->handle(ColumnFamily::kEvents)));
    it_->Seek(seek);
    Decode();
  }
  bool Valid() const override { return valid_; }
  const IndexEntry& entry() const override { return entry_; }
  void Next() override {
    it_->Next();
    Decode();
  }
  void SeekAfter(std::string_view raw_key) override {
    it_->Seek(rocksdb::Slice(raw_key.data(), raw_key.size()));
    if (it_->Valid() && it_->key().ToStringView() == raw_key) it_->Next();
    Decode();
  }
  std::string_view raw_key() const override { return it_->key().ToStringView(); }
  Status status() const override {
    return it_->status().ok() ? Status() : absl::UnavailableError("events scan: " + it_->status().ToString());
  }
  std::string_view value() const { return it_->value().ToStringView(); }

 private:
  void Decode() {
    valid_ = false;
    while (it_->Valid()) {
      std::string_view key = it_->key().ToStringView();
      if (key.substr(0, prefix_.size()) != prefix_) return;
      EventKey decoded;
      if (!DecodeEventKey(key, &decoded)) {
        it_->Next();  // undecodable key: skipped (never produced by the store)
        continue;
      }
      if (decoded.event_time_us < start_us_) return;
      entry_.event_time_us = decoded.event_time_us;
      entry_.account_id = std::move(decoded.account_id);
      entry_.region = std::move(decoded.region);
      entry_.event_id = std::move(decoded.event_id);
      entry_.event_key.assign(key.data(), key.size());
      valid_ = true;
      return;
    }
  }
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
  int64_t start_us_;
  IndexEntry entry_;
  bool valid_ = false;
};

struct Source {
  bool partition = false;
  bool all_events = false;  // the whole events column family (no time bounds)
  IndexKind kind = IndexKind::kAll;
  std::string value;    // index value
  std::string account;  // partition
  std::string region;   // partition
};

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

int SetError(sqlite3_vtab* vtab, const std::string& message) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", message.c_str());
  return SQLITE_ERROR;
}

std::string Schema() {
  std::string schema = "CREATE TABLE x(";
  const auto& columns = Columns();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) schema += ", ";
    schema += std::string(columns[i].name) + " " + columns[i].type;
  }
  return schema + ")";
}

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

// Relative selectivity of an equality on an indexed attribute (lower = fewer rows).
double IndexSelectivity(IndexKind kind) {
  switch (kind) {
    case IndexKind::kEventId: return 1e-9;
    case IndexKind::kAccessKeyId: return 0.001;
    case IndexKind::kUsername: return 0.002;
    case IndexKind::kEventName: return 0.005;
    case IndexKind::kEventSource: return 0.05;
    case IndexKind::kReadOnly: return 0.5;
    default: return 1;
  }
}

std::optional<IndexKind> IndexOfColumn(int column) {
  switch (column) {
    case kEventId: return IndexKind::kEventId;
    case kEventName: return IndexKind::kEventName;
    case kEventSource: return IndexKind::kEventSource;
    case kUsername: return IndexKind::kUsername;
    case kUserIdentityAccessKeyId: return IndexKind::kAccessKeyId;
    case kReadOnly: return IndexKind::kReadOnly;
    default: return std::nullopt;
  }
}

int xBestIndex(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  auto* table = static_cast<Table*>(vtab);
  double total = std::max<double>(1000, static_cast<double>(table->context->store->events_stored()));
  int best_index_constraint = -1;
  double best_index_selectivity = 1;
  bool has_account = false, has_region = false;
  double time_factor = 1;
  std::vector<int> used;  // constraints passed to xFilter, in argv order
  std::string codes;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable) continue;
    if (sqlite3_vtab_in(info, i, -1)) continue;  // IN lists: SQLite handles them itself
    if (c.iColumn == kEventTime) {
      char code = 0;
      switch (c.op) {
        case SQLITE_INDEX_CONSTRAINT_GE: code = 'g'; break;
        case SQLITE_INDEX_CONSTRAINT_GT: code = '>'; break;
        case SQLITE_INDEX_CONSTRAINT_LE: code = 'l'; break;
        case SQLITE_INDEX_CONSTRAINT_LT: code = '<'; break;
        case SQLITE_INDEX_CONSTRAINT_EQ: code = '='; break;
        default: break;
      }
      if (code) {
        used.push_back(i);
        codes.push_back(code);
        time_factor *= code == '=' ? 0.001 : 0.5;
      }
      continue;
    }
    if (c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c.iColumn == kRecipientAccountId) {
      used.push_back(i), codes.push_back('A'), has_account = true;
    } else if (c.iColumn == kAwsRegion) {
      used.push_back(i), codes.push_back('R'), has_region = true;
    } else if (c.iColumn == kPartitionRegion) {
      used.push_back(i), codes.push_back('P'), has_region = true;
    } else if (auto kind = IndexOfColumn(c.iColumn)) {
      double selectivity = IndexSelectivity(*kind);
      if (best_index_constraint < 0 || selectivity < best_index_selectivity) {
        best_index_constraint = i;
        best_index_selectivity = selectivity;
      }
    }
  }
  double partition_selectivity = (has_account ? 0.1 : 1) * (has_region ? 0.2 : 1);
  double index_cost = best_index_constraint >= 0 ? total * best_index_selectivity : total;
  double partition_cost = (has_account || has_region) ? total * partition_selectivity * 1.2 : total * 10;
  double scan_cost = total;
  int plan = 0;
  double cost = scan_cost;
  if (best_index_constraint >= 0 && index_cost <= partition_cost) {
    plan = static_cast<int>(*IndexOfColumn(info->aConstraint[best_index_constraint].iColumn)) + 1;
    used.push_back(best_index_constraint);
    codes.push_back('K');
    cost = index_cost;
  } else if (has_account || has_region) {
    plan = kPlanPartitions;
    cost = partition_cost;
  }
  // Secondary account/region filters on index entries make index plans cheaper too.
  if (plan != kPlanPartitions && plan != 0) cost *= 0.9;
  cost = std::max(1.0, cost * time_factor);
  for (size_t k = 0; k < used.size(); ++k) {
    info->aConstraintUsage[used[k]].argvIndex = static_cast<int>(k + 1);
    info->aConstraintUsage[used[k]].omit = 0;  // SQLite re-checks every constraint
  }
  // Whether any column beyond the key-derived ones is read: index plans then
  // prefetch records in sorted batches (MultiGet) instead of one lookup per row.
  const uint64_t key_columns = (1ull << kEventId) | (1ull << kEventTime) | (1ull << kRecipientAccountId) |
                               (1ull << kPartitionRegion);
  if ((info->colUsed & ~key_columns) != 0) plan |= kPlanFetchFlag;
  info->idxNum = plan;
  info->idxStr = sqlite3_mprintf("%s", codes.c_str());
  info->needToFreeIdxStr = 1;
  info->estimatedCost = cost;
  info->estimatedRows = static_cast<sqlite3_int64>(std::max(1.0, cost));
  if ((plan & ~kPlanFetchFlag) == static_cast<int>(IndexKind::kEventId) + 1) info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  return SQLITE_OK;
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

void ResetRow(Cursor* cursor) {
  cursor->fetched = false;
  cursor->event.reset();
  cursor->parsed = false;
  cursor->parse_ok = false;
  cursor->extracted = false;
}

bool OpenSource(Cursor* cursor) {
  const Source& source = cursor->sources[cursor->source_pos];
  const EventStore* store = cursor->context->store;
  cursor->scan = nullptr;
  if (source.partition || source.all_events) {
    std::string prefix, seek;
    int64_t start = std::numeric_limits<int64_t>::min();
    if (source.partition) {
      prefix = EncodePartitionPrefix(store->org(), source.account, source.region);
      seek = EncodePartitionSeekKey(store->org(), source.account, source.region, cursor->end_us);
      start = cursor->start_us;
    } else {
      PutLengthPrefixed(&prefix, store->org());
      seek = prefix;
    }
    auto scan = std::make_unique<EventsScan>(store, cursor->context->snapshot, prefix, seek, start);
    cursor->scan = scan.get();
    cursor->it = std::move(scan);
  } else {
    cursor->it = store->NewIndexIterator(source.kind, source.value, cursor->start_us, cursor->end_us,
                                         cursor->context->snapshot);
  }
  return cursor->it != nullptr;
}

bool EntryPasses(const Cursor& cursor, const IndexEntry& entry) {
  if (cursor.account_filter && entry.account_id != *cursor.account_filter) return false;
  if (cursor.region_filter && cursor.region_filter->count(entry.region) == 0) return false;
  return true;
}

// Moves to the next entry passing the secondary filters (starting at the
// iterator's current position). Returns SQLITE_OK or an error code.
int SettleOnRowPrefetching(Cursor* cursor);

int SettleOnRow(Cursor* cursor) {
  if (cursor->prefetch) return SettleOnRowPrefetching(cursor);
  SqlScanContext* context = cursor->context;
  uint64_t checked = 0;
  while (cursor->source_pos < cursor->sources.size()) {
    if (!cursor->it && !OpenSource(cursor)) return SQLITE_ERROR;
    while (cursor->it->Valid()) {
      if ((++checked & 255) == 0 && std::chrono::steady_clock::now() > context->deadline) {
        context->timed_out = true;
        return SQLITE_INTERRUPT;
      }
      ++context->index_steps;
      const IndexEntry& entry = cursor->it->entry();
      if (EntryPasses(*cursor, entry)) {
        cursor->entry = entry;
        ResetRow(cursor);
        if (cursor->scan) {
          StoredEvent event;
          std::string_view raw;
          if (DecodeEventValue(cursor->scan->value(), &event.meta, &raw)) {
            event.event_key = entry.event_key;
            event.raw_json.assign(raw.data(), raw.size());
            cursor->event = std::move(event);
          }
          cursor->fetched = true;
        }
        ++cursor->rowid;
        ++context->rows_read;
        cursor->eof = false;
        return SQLITE_OK;
      }
      cursor->it->Next();
    }
    if (!cursor->it->status().ok()) return SQLITE_IOERR;
    cursor->it.reset();
    cursor->scan = nullptr;
    ++cursor->source_pos;
  }
  cursor->eof = true;
  return SQLITE_OK;
}

// Refills the buffer with up to kPrefetchBatch passing index entries, sorted
// by event key, and reads their records with one MultiGet.
int RefillBuffer(Cursor* cursor) {
  SqlScanContext* context = cursor->context;
  std::vector<IndexEntry> entries;
  uint64_t checked = 0;
  while (entries.size() < kPrefetchBatch && cursor->source_pos < cursor->sources.size()) {
    if (!cursor->it && !OpenSource(cursor)) return SQLITE_ERROR;
    while (entries.size() < kPrefetchBatch && cursor->it->Valid()) {
      if ((++checked & 255) == 0 && std::chrono::steady_clock::now() > context->deadline) {
        context->timed_out = true;
        return SQLITE_INTERRUPT;
      }
      ++context->index_steps;
      if (EntryPasses(*cursor, cursor->it->entry())) entries.push_back(cursor->it->entry());
      cursor->it->Next();
    }
    if (cursor->it->Valid()) break;
    if (!cursor->it->status().ok()) return SQLITE_IOERR;
    cursor->it.reset();
    ++cursor->source_pos;
  }
  if (entries.empty()) return SQLITE_OK;
  std::sort(entries.begin(), entries.end(),
            [](const IndexEntry& a, const IndexEntry& b) { return a.event_key < b.event_key; });
  std::vector<rocksdb::Slice> keys;
  for (const auto& e : entries) keys.emplace_back(e.event_key);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  rocksdb::ReadOptions options;
  options.snapshot = context->snapshot;
  const EventStore* store = context->store;
  store->db()->MultiGet(options, store->handle(ColumnFamily::kEvents), keys.size(), keys.data(), values.data(),
                        statuses.data(), /*sorted_input=*/true);
  for (size_t i = 0; i < entries.size(); ++i) {
    std::optional<StoredEvent> event;
    if (statuses[i].ok()) {
      StoredEvent stored;
      std::string_view raw;
      if (DecodeEventValue(values[i].ToStringView(), &stored.meta, &raw)) {
        stored.event_key = entries[i].event_key;
        stored.raw_json.assign(raw.data(), raw.size());
        event = std::move(stored);
      }
    } else if (!statuses[i].IsNotFound()) {
      return SQLITE_IOERR;
    }
    cursor->buffer.emplace_back(std::move(entries[i]), std::move(event));
  }
  return SQLITE_OK;
}

int SettleOnRowPrefetching(Cursor* cursor) {
  if (cursor->buffer.empty()) {
    int rc = RefillBuffer(cursor);
    if (rc != SQLITE_OK) return rc;
  }
  if (cursor->buffer.empty()) {
    cursor->eof = true;
    return SQLITE_OK;
  }
  auto& [entry, event] = cursor->buffer.front();
  cursor->entry = entry;
  ResetRow(cursor);
  cursor->event = std::move(event);
  cursor->fetched = true;
  ++cursor->rowid;
  ++cursor->context->rows_read;
  cursor->eof = false;
  return SQLITE_OK;
}

std::string PlanText(const Cursor& cursor) {
  std::string text;
  if (!cursor.sources.empty() && cursor.sources[0].partition) {
    text = "partition scan of " + std::to_string(cursor.sources.size()) + " partition(s)";
  } else if (!cursor.sources.empty() && cursor.sources[0].all_events) {
    text = "full scan of the events";
  } else if (!cursor.sources.empty() && cursor.sources[0].kind != IndexKind::kAll) {
    text = "index " + std::string(AttributeKeyOfIndexKind(cursor.sources[0].kind)) + "='" + cursor.sources[0].value + "'";
  } else {
    text = "org-wide time index scan";
  }
  if (cursor.start_us != std::numeric_limits<int64_t>::min() || cursor.end_us != std::numeric_limits<int64_t>::max()) {
    text += " time[" + (cursor.start_us == std::numeric_limits<int64_t>::min() ? std::string("-inf") : FormatSqlTime(cursor.start_us)) +
            ", " + (cursor.end_us == std::numeric_limits<int64_t>::max() ? std::string("+inf") : FormatSqlTime(cursor.end_us)) + "]";
  }
  if (cursor.account_filter) text += " account='" + *cursor.account_filter + "'";
  if (cursor.region_filter) {
    text += " regions={";
    bool first = true;
    for (const auto& r : *cursor.region_filter) {
      text += (first ? "" : ",") + r;
      first = false;
    }
    text += "}";
  }
  return text;
}

std::string ArgText(sqlite3_value* value) {
  const unsigned char* text = sqlite3_value_text(value);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_value_bytes(value)))
              : std::string();
}

int xFilter(sqlite3_vtab_cursor* base, int plan, const char* codes, int argc, sqlite3_value** argv) {
  auto* cursor = static_cast<Cursor*>(base);
  SqlScanContext* context = cursor->context;
  const bool needs_records = (plan & kPlanFetchFlag) != 0;
  plan &= ~kPlanFetchFlag;
  cursor->buffer.clear();
  cursor->sources.clear();
  cursor->source_pos = 0;
  cursor->it.reset();
  cursor->scan = nullptr;
  cursor->start_us = std::numeric_limits<int64_t>::min();
  cursor->end_us = std::numeric_limits<int64_t>::max();
  cursor->account_filter.reset();
  cursor->region_filter.reset();
  cursor->rowid = 0;
  std::string index_value;
  bool empty = false;  // a constraint no row can satisfy (e.g. NULL value)
  std::optional<std::string> aws_region, partition_region;
  int n = codes ? static_cast<int>(std::strlen(codes)) : 0;
  for (int i = 0; i < n && i < argc; ++i) {
    char code = codes[i];
    int type = sqlite3_value_type(argv[i]);
    if (code == 'g' || code == '>' || code == 'l' || code == '<' || code == '=') {
      if (type != SQLITE_TEXT) continue;  // compared as text: no safe pushdown
      std::optional<int64_t> t = ParseSqlTime(ArgText(argv[i]));
      if (!t) continue;
      // Bounds are widened by a second: the pushdown is only a superset.
      if (code == 'g' || code == '>' || code == '=') cursor->start_us = std::max(cursor->start_us, *t - 1000000);
      if (code == 'l' || code == '<' || code == '=') cursor->end_us = std::min(cursor->end_us, *t + 1000000);
      continue;
    }
    if (type == SQLITE_NULL) {
      empty = true;  // "= NULL" matches nothing
      continue;
    }
    if (type != SQLITE_TEXT && code != 'K') {
      continue;  // a number against a TEXT column: affinity rules apply, no pushdown
    }
    std::string value = ArgText(argv[i]);
    switch (code) {
      case 'K':
        if (plan == static_cast<int>(IndexKind::kReadOnly) + 1) {
          // readonly is an INTEGER column: 1 -> "true", 0 -> "false" (absent readOnly is indexed as false).
          if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
            double d = sqlite3_value_double(argv[i]);
            if (d == 1) {
              value = "true";
            } else if (d == 0) {
              value = "false";
            } else {
              empty = true;
            }
          } else {
            plan = 0;  // text against an integer column: let SQLite decide
          }
        } else if (type != SQLITE_TEXT) {
          plan = 0;  // a number against a TEXT column: let SQLite compare with affinity
        }
        if (value.empty()) plan = 0;  // empty values are not indexed
        index_value = value;
        break;
      case 'A':
        if (cursor->account_filter && *cursor->account_filter != value) empty = true;
        cursor->account_filter = value;
        break;
      case 'R':
        aws_region = value;
        break;
      case 'P':
        if (partition_region && *partition_region != value) empty = true;
        partition_region = value;
        break;
      default:
        break;
    }
  }
  // Partition regions an event with awsRegion R can be stored under: R or the home region.
  if (partition_region) {
    cursor->region_filter = std::set<std::string>{*partition_region};
    if (aws_region && *aws_region != *partition_region && *partition_region != context->home_region) empty = true;
  } else if (aws_region) {
    cursor->region_filter = std::set<std::string>{*aws_region, context->home_region};
  }
  if (empty) {
    cursor->eof = true;
    context->plans.push_back("empty (constraint matches nothing)");
    return SQLITE_OK;
  }
  if (plan == kPlanPartitions) {
    std::set<std::pair<std::string, std::string>> partitions;
    std::set<std::string> accounts;
    for (const AgentState& agent : context->store->ListAgentStates()) {
      accounts.insert(agent.account_id);
      partitions.insert({agent.account_id, agent.region});
    }
    for (const auto& account : accounts) partitions.insert({account, context->home_region});
    for (const auto& [account, region] : partitions) {
      if (cursor->account_filter && account != *cursor->account_filter) continue;
      if (cursor->region_filter && cursor->region_filter->count(region) == 0) continue;
      Source source;
      source.partition = true;
      source.account = account;
      source.region = region;
      cursor->sources.push_back(std::move(source));
    }
  } else if (plan >= 1 && plan <= 8) {
    Source source;
    source.kind = static_cast<IndexKind>(plan - 1);
    source.value = index_value;
    cursor->sources.push_back(std::move(source));
  } else {
    Source source;
    // Without a time range, a query that reads records walks the records
    // themselves (sequential); otherwise the org-wide time index (small keys).
    source.all_events = needs_records && cursor->start_us == std::numeric_limits<int64_t>::min() &&
                        cursor->end_us == std::numeric_limits<int64_t>::max();
    cursor->sources.push_back(std::move(source));
  }
  cursor->prefetch = needs_records && !cursor->sources.empty() && !cursor->sources[0].partition &&
                     !cursor->sources[0].all_events;
  std::string text = PlanText(*cursor);
  if (context->plans.empty() || context->plans.back() != text) {
    if (context->plans.size() < 64) context->plans.push_back(text);
  }
  int rc = SettleOnRow(cursor);
  if (rc == SQLITE_INTERRUPT) return SetError(base->pVtab, "query time limit exceeded");
  if (rc != SQLITE_OK) return SetError(base->pVtab, "events: store read failed");
  return SQLITE_OK;
}

int xNext(sqlite3_vtab_cursor* base) {
  auto* cursor = static_cast<Cursor*>(base);
  if (cursor->eof) return SQLITE_OK;
  if (cursor->prefetch) {
    if (!cursor->buffer.empty()) cursor->buffer.pop_front();
  } else {
    cursor->it->Next();
  }
  int rc = SettleOnRow(cursor);
  if (rc == SQLITE_INTERRUPT) return SetError(base->pVtab, "query time limit exceeded");
  if (rc != SQLITE_OK) return SetError(base->pVtab, "events: store read failed");
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
    /* xFilter */ xFilter,
    /* xNext */ xNext,
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
