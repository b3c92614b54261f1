// Reading stored events one at a time (store.h): by key, by eventID (in one account or any), by
// commit index from the newest events held in memory (recent_events.h), and in commit order.
#include "collector/store/store.h"
#include "collector/store/store_internal.h"

namespace orgtrail::collector {

using store_internal::FromRocks;

StatusOr<std::optional<StoredEvent>> EventStore::GetEventById(std::string_view event_id,
                                                              const rocksdb::Snapshot* snapshot) const {
  auto accounts = ListAccountsOfEventId(event_id, snapshot);
  if (!accounts.ok()) return accounts.status();
  if (accounts->empty()) return std::optional<StoredEvent>();
  return GetEventByAccountAndId(accounts->front(), event_id, snapshot);
}

StatusOr<std::optional<StoredEvent>> EventStore::GetEventByAccountAndId(std::string_view account_id,
                                                                        std::string_view event_id,
                                                                        const rocksdb::Snapshot* snapshot) const {
  std::string event_key;
  rocksdb::Status s = db_->Get(ReadOptionsFor(snapshot), handle(ColumnFamily::kEventIds),
                               EncodeEventIdKey(event_id, account_id), &event_key);
  if (s.IsNotFound()) return std::optional<StoredEvent>();
  if (!s.ok()) return FromRocks(s, "event_ids lookup");
  return GetEventByKey(event_key, snapshot);
}

StatusOr<std::vector<std::string>> EventStore::ListAccountsOfEventId(std::string_view event_id,
                                                                     const rocksdb::Snapshot* snapshot) const {
  const std::string prefix = EncodeEventIdPrefix(event_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOptionsFor(snapshot), handle(ColumnFamily::kEventIds)));
  std::vector<std::string> accounts;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string id, account;
    if (!DecodeEventIdKey(it->key().ToStringView(), &id, &account)) return absl::DataLossError("undecodable event_ids key");
    accounts.push_back(std::move(account));
  }
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "event_ids scan"));
  return accounts;
}

namespace {

// Fills *out from an "events" key and value (out->event_key is already the key's bytes).
Status DecodeStoredEvent(std::string_view value, StoredEvent* out) {
  std::string_view raw;
  if (!DecodeEventKey(out->event_key, &out->key) || !DecodeEventValue(value, &out->meta, &raw)) {
    return absl::DataLossError("undecodable stored event");
  }
  out->raw_json.assign(raw.data(), raw.size());
  return Status();
}

}  // namespace

StatusOr<std::optional<StoredEvent>> EventStore::GetEventByKey(std::string_view event_key,
                                                               const rocksdb::Snapshot* snapshot) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(ReadOptionsFor(snapshot), handle(ColumnFamily::kEvents),
                               rocksdb::Slice(event_key.data(), event_key.size()), &value);
  if (s.IsNotFound()) return std::optional<StoredEvent>();
  if (!s.ok()) return FromRocks(s, "events lookup");
  StoredEvent event;
  event.event_key.assign(event_key.data(), event_key.size());
  ORGTRAIL_RETURN_IF_ERROR(DecodeStoredEvent(value.ToStringView(), &event));
  return std::optional<StoredEvent>(std::move(event));
}

StatusOr<bool> EventStore::ReadEventByKey(std::string_view event_key, StoredEvent* out,
                                          std::string* value_buffer) const {
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handle(ColumnFamily::kEvents),
                               rocksdb::Slice(event_key.data(), event_key.size()), value_buffer);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, "events lookup");
  out->event_key.assign(event_key.data(), event_key.size());
  ORGTRAIL_RETURN_IF_ERROR(DecodeStoredEvent(*value_buffer, out));
  return true;
}

StatusOr<bool> EventStore::ReadRecentEvent(uint64_t commit_index, StoredEvent* out, std::string* value_buffer) const {
  if (!recent_events_.Read(commit_index, &out->event_key, value_buffer)) return false;
  ORGTRAIL_RETURN_IF_ERROR(DecodeStoredEvent(*value_buffer, out));
  return true;
}

StatusOr<EventStore::CommittedEventReads> EventStore::ReadCommittedEvents(
    uint64_t after, uint64_t last, uint64_t max_commits, StoredEvent* out, std::string* value_buffer,
    const std::function<Status(uint64_t commit_index, const StoredEvent& event)>& fn) const {
  CommittedEventReads reads;
  reads.last_read = after;
  auto count = [&] { return reads.from_memory + reads.from_store; };
  // Right behind the writer, the events are still held in memory (RecentEvents).
  while (reads.last_read < last && count() < max_commits) {
    auto recent = ReadRecentEvent(reads.last_read + 1, out, value_buffer);
    if (!recent.ok()) return recent.status();
    if (!*recent) break;
    ORGTRAIL_RETURN_IF_ERROR(fn(reads.last_read + 1, *out));
    ++reads.last_read;
    ++reads.from_memory;
  }
  if (reads.last_read >= last || count() >= max_commits) return reads;
  auto it = NewCommitIterator(reads.last_read + 1);
  for (; it->Valid() && it->commit_index() <= last && count() < max_commits; it->Next()) {
    reads.last_read = it->commit_index();
    ++reads.from_store;
    auto stored = ReadEventByKey(it->event_key(), out, value_buffer);
    if (!stored.ok()) return stored.status();
    if (*stored) {  // else removed by retention
      ORGTRAIL_RETURN_IF_ERROR(fn(reads.last_read, *out));
    }
  }
  ORGTRAIL_RETURN_IF_ERROR(it->status());
  return reads;
}

}  // namespace orgtrail::collector
