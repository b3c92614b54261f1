// Cursors of the `events` virtual table (sql_events_cursor.h).
#include "collector/sql/sql_events_cursor.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string_view>

#include "collector/sql/sql_events_columns.h"
#include "collector/sql/sql_events_plan.h"

namespace orgtrail::collector::sql_events {

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

namespace {

constexpr size_t kPrefetchBatch = 256;


int SetError(sqlite3_vtab* vtab, const std::string& message) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", message.c_str());
  return SQLITE_ERROR;
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

}  // namespace

int FilterEvents(sqlite3_vtab_cursor* base, int plan, const char* codes, int argc, sqlite3_value** argv) {
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

int NextEvent(sqlite3_vtab_cursor* base) {
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

}  // namespace orgtrail::collector::sql_events
