#include "collector/store/event_indexer.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "collector/store/store.h"
#include "collector/store/store_keys.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/thread_role.h"

namespace orgtrail::collector {
namespace {

// Distinct non-empty values of one attribute of an event.
std::vector<std::string> IndexValues(IndexKind kind, const v1::Event& e) {
  std::vector<std::string> values;
  switch (kind) {
    case IndexKind::kAll: values.emplace_back(); return values;
    case IndexKind::kEventId: values.push_back(e.event_id()); break;
    case IndexKind::kEventName: values.push_back(e.event_name()); break;
    case IndexKind::kReadOnly: values.push_back(e.has_read_only() && e.read_only() ? "true" : "false"); break;
    case IndexKind::kUsername: values.push_back(e.username()); break;
    case IndexKind::kEventSource: values.push_back(e.event_source()); break;
    case IndexKind::kAccessKeyId: values.push_back(e.access_key_id()); break;
    case IndexKind::kResourceType:
    case IndexKind::kResourceName: {
      std::set<std::string> distinct;
      for (const auto& r : e.resources()) distinct.insert(kind == IndexKind::kResourceType ? r.type() : r.arn());
      values.assign(distinct.begin(), distinct.end());
      break;
    }
  }
  values.erase(std::remove_if(values.begin(), values.end(), [](const std::string& v) { return v.empty(); }),
               values.end());
  return values;
}

std::string EncodeCursor(uint64_t through) {
  std::string bytes;
  PutFixed64BE(&bytes, through);
  return bytes;
}

}  // namespace

void AddIndexEntries(const v1::Event& event, std::string_view account_id, std::string_view region,
                     rocksdb::ColumnFamilyHandle* idx, rocksdb::WriteBatch* wb) {
  const bool other_category = IsOtherIndexCategory(event.event_category());
  for (int k = 0; k < kIndexKindCount; ++k) {
    auto kind = static_cast<IndexKind>(k);
    for (std::string& value : IndexValues(kind, event)) {
      IndexKey key{kind,       other_category,      std::move(value), event.event_time_us(), std::string(account_id),
                   std::string(region), event.event_id()};
      wb->Put(idx, EncodeIndexKey(key), rocksdb::Slice());
    }
  }
}

EventIndexer::EventIndexer(EventStore* store, Options options) : store_(store), options_(options) {
  if (options_.catch_up_events == 0) options_.catch_up_events = 1;
}

EventIndexer::~EventIndexer() { Stop(); }

void EventIndexer::Start(uint64_t indexed_through, uint64_t last_committed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  indexed_ = indexed_through;
  committed_ = std::max(last_committed, indexed_through);
  stop_ = false;
  thread_ = std::thread([this] {
    SetCurrentThreadRole("indexer");
    Run();
  });
}

void EventIndexer::Submit(uint64_t first, uint64_t last, rocksdb::WriteBatch entries) {
  if (last < first) return;
  const uint64_t bytes = entries.GetDataSize();
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto has_room = [&] { return queue_.empty() || queued_bytes_ + bytes <= options_.queue_bytes; };
    if (!has_room()) {
      // The queue is not empty, so the thread has work and makes room (Run). A stopped or failed
      // indexer makes none: the entries are then left to the rebuild at the next open.
      indexed_cv_.wait(lock, [&] { return has_room() || !status_.ok() || stop_; });
    }
    // committed_ moves with the entries, never before them: otherwise the thread could rebuild
    // this group from the records while its entries wait here.
    committed_ = std::max(committed_, last);
    if (status_.ok() && !stop_) {
      queued_bytes_ += bytes;
      queue_.push_back(Work{first, last, std::move(entries)});
    }
  }
  work_cv_.notify_one();
}

bool EventIndexer::WaitIndexed(uint64_t commit_index, std::chrono::milliseconds max_wait) const {
  std::unique_lock<std::mutex> lock(mu_);
  return indexed_cv_.wait_for(lock, max_wait, [&] { return indexed_ >= commit_index; });
}

EventIndexer::Stats EventIndexer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Stats{indexed_, events_rebuilt_, records_unreadable_, queued_bytes_};
}

void EventIndexer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  indexed_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventIndexer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (status_.ok()) {
    work_cv_.wait(lock, [&] { return stop_ || committed_ > indexed_; });
    if (committed_ <= indexed_) break;  // stopping with everything indexed
    const uint64_t next = indexed_ + 1;
    Status s;
    uint64_t through = 0;
    // The queue's entries follow one another from the first commit of this open on, so its front
    // starts at `next` unless commits from before the open are still to be rebuilt.
    if (!queue_.empty() && queue_.front().first <= next) {
      Work work = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= work.entries.GetDataSize();
      through = work.last;
      indexed_cv_.notify_all();  // room in the queue for a waiting Submit
      lock.unlock();
      s = WriteIndexed(&work.entries, through);
    } else {
      // Commits from before this open whose entries the cursor does not cover.
      through = queue_.empty() ? committed_ : std::min(committed_, queue_.front().first - 1);
      lock.unlock();
      s = Rebuild(next, through);
    }
    lock.lock();
    if (!s.ok()) {
      status_ = s;  // Submit no longer waits; the next open rebuilds from the cursor
      break;
    }
    indexed_ = std::max(indexed_, through);
    indexed_cv_.notify_all();
  }
  indexed_cv_.notify_all();
}

Status EventIndexer::WriteIndexed(rocksdb::WriteBatch* entries, uint64_t through) {
  entries->Put(store_->handle(ColumnFamily::kIndex), kIndexCursorKey, EncodeCursor(through));
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // durable when the idx memtable is flushed (see the header)
  rocksdb::Status s = store_->db()->Write(wo, entries);
  if (!s.ok()) return absl::UnavailableError("index write: " + s.ToString());
  return Status();
}

Status EventIndexer::Rebuild(uint64_t first, uint64_t through) {
  EventExtractor extractor(ExtractOptions{64u << 20, 64});
  rocksdb::ColumnFamilyHandle* idx = store_->handle(ColumnFamily::kIndex);
  auto commits = store_->NewCommitIterator(first);
  StoredEvent stored;
  std::string value_buffer;
  v1::Event event;
  while (first <= through) {
    rocksdb::WriteBatch wb;
    uint64_t chunk_end = first;
    uint64_t rebuilt = 0, unreadable = 0;
    for (; commits->Valid() && commits->commit_index() <= through && rebuilt + unreadable < options_.catch_up_events;
         commits->Next()) {
      chunk_end = commits->commit_index();
      // From the store: these commits precede this open, so RecentEvents never held them.
      StatusOr<bool> found = store_->ReadEventByKey(commits->event_key(), &stored, &value_buffer);
      if (!found.ok() || !*found || !extractor.Extract(stored.raw_json, &event).ok()) {
        ++unreadable;  // a record dropped by retention, or damaged: nothing to index
        continue;
      }
      AddIndexEntries(event, stored.meta.partition_account_id(), stored.meta.partition_region(), idx, &wb);
      ++rebuilt;
    }
    ORGTRAIL_RETURN_IF_ERROR(commits->status());
    // Commit indexes past the last entry of the order (retention took them) need no entries.
    if (!commits->Valid() || commits->commit_index() > through) chunk_end = through;
    ORGTRAIL_RETURN_IF_ERROR(WriteIndexed(&wb, chunk_end));
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_rebuilt_ += rebuilt;
      records_unreadable_ += unreadable;
      indexed_ = std::max(indexed_, chunk_end);
    }
    indexed_cv_.notify_all();
    first = chunk_end + 1;
  }
  return Status();
}

}  // namespace orgtrail::collector
