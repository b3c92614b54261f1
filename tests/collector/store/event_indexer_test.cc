// The attribute indexes written behind the acknowledgement (collector/store/event_indexer.h):
// the cursor, backpressure on the committer when the in-memory queue is full, the rebuild from
// the records when the cursor is behind after a restart (idempotent: the same keys), stores from
// before the indexer, and a clean close that leaves everything indexed. Real RocksDB in a temp dir.
#include "collector/store/event_indexer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <rocksdb/db.h>

#include "collector/store/store.h"
#include "collector/store/store_test_support.h"
#include "testutil/kill_when_ready.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

using storetest::kBase;
using storetest::kHour;
using storetest::MakeBatch;
using storetest::MakeEvent;
using storetest::OpenStore;
using storetest::Spec;

constexpr auto kWait = std::chrono::seconds(30);

// Commits `batches` batches of `per_batch` events each (names alternate between two values).
void CommitEvents(EventStore* store, int batches, int per_batch) {
  for (int b = 0; b < batches; ++b) {
    std::vector<IngestEvent> events;
    for (int i = 0; i < per_batch; ++i) {
      const int n = b * per_batch + i;
      events.push_back(MakeEvent(Spec("ev-" + std::to_string(n), kBase + n * 1000, n % 2 ? "GetObject" : "PutObject")));
    }
    IngestBatch batch = MakeBatch("agent", static_cast<uint64_t>(b + 1), std::move(events));
    ASSERT_TRUE(store->CommitGroup({&batch}).ok());
  }
}

// Every key of "idx" but the cursor.
std::set<std::string> RawIndexKeys(EventStore* store) {
  std::set<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(
      store->db()->NewIterator(rocksdb::ReadOptions(), store->handle(ColumnFamily::kIndex)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().ToStringView() != kIndexCursorKey) keys.insert(it->key().ToString());
  }
  EXPECT_TRUE(it->status().ok());
  return keys;
}

uint64_t Cursor(EventStore* store) {
  std::string value;
  rocksdb::Status s = store->db()->Get(rocksdb::ReadOptions(), store->handle(ColumnFamily::kIndex),
                                       rocksdb::Slice(kIndexCursorKey.data(), kIndexCursorKey.size()), &value);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::string_view in = value;
  uint64_t through = 0;
  EXPECT_TRUE(GetFixed64BE(&in, &through));
  return through;
}

// Sets the cursor back (as a crash that lost the indexer's later writes would), or removes it.
void SetCursor(EventStore* store, std::optional<uint64_t> through) {
  const rocksdb::Slice key(kIndexCursorKey.data(), kIndexCursorKey.size());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (!through) {
    ASSERT_TRUE(store->db()->Delete(wo, store->handle(ColumnFamily::kIndex), key).ok());
    return;
  }
  std::string value;
  PutFixed64BE(&value, *through);
  ASSERT_TRUE(store->db()->Put(wo, store->handle(ColumnFamily::kIndex), key, value).ok());
}

size_t Count(EventStore* store, IndexKind kind, const std::string& value) {
  auto it = store->NewIndexIterator(kind, value, kBase - kHour, kBase + kHour);
  size_t n = 0;
  for (; it->Valid(); it->Next()) ++n;
  EXPECT_TRUE(it->status().ok());
  return n;
}

TEST(EventIndexerTest, AcknowledgedEventsAreIndexedWithTheirCursor) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  CommitEvents(store.get(), 3, 10);
  ASSERT_TRUE(store->WaitForIndex(kWait));
  EXPECT_EQ(Cursor(store.get()), 30u);
  EXPECT_EQ(store->index_stats().indexed_through, 30u);
  EXPECT_EQ(store->index_stats().events_rebuilt, 0u);  // from the committer's entries
  EXPECT_EQ(Count(store.get(), IndexKind::kEventName, "GetObject"), 15u);
  EXPECT_EQ(Count(store.get(), IndexKind::kAll, ""), 30u);
  EXPECT_EQ(Count(store.get(), IndexKind::kEventId, "ev-7"), 1u);
}

// A queue of one group holds the committer back: after every commit the index is at most two
// groups behind (one being written, one queued), and nothing is dropped or rebuilt.
TEST(EventIndexerTest, AFullQueueHoldsTheCommitterBack) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"), /*retention_us=*/0, /*index_queue_bytes=*/1);
  for (int b = 0; b < 30; ++b) {
    std::vector<IngestEvent> events;
    for (int i = 0; i < 20; ++i) {
      const int n = b * 20 + i;
      events.push_back(MakeEvent(Spec("ev-" + std::to_string(n), kBase + n * 1000, "GetObject")));
    }
    IngestBatch batch = MakeBatch("agent", static_cast<uint64_t>(b + 1), std::move(events));
    ASSERT_TRUE(store->CommitGroup({&batch}).ok());
    EXPECT_LE(store->last_commit_index() - store->index_stats().indexed_through, 40u) << "after group " << b;
  }
  ASSERT_TRUE(store->WaitForIndex(kWait));
  EXPECT_EQ(store->index_stats().events_rebuilt, 0u);
  EXPECT_EQ(Count(store.get(), IndexKind::kEventName, "GetObject"), 600u);
}

TEST(EventIndexerTest, ACursorBehindAfterARestartIsCaughtUpIdempotently) {
  testutil::TempDir dir;
  std::set<std::string> keys;
  {
    auto store = OpenStore(dir.Join("db"));
    CommitEvents(store.get(), 5, 20);
    ASSERT_TRUE(store->WaitForIndex(kWait));
    keys = RawIndexKeys(store.get());
    // As after a crash that kept the records but lost the indexer's writes after commit 40:
    // every entry is gone, so the rebuilt ones must be the same keys, all of them.
    ASSERT_TRUE(store->db()->DeleteRange(rocksdb::WriteOptions(), store->handle(ColumnFamily::kIndex),
                                         std::string(1, '\0'), std::string(1, '\xff')).ok());  // not the cursor
    SetCursor(store.get(), 40);
  }
  auto store = OpenStore(dir.Join("db"));
  ASSERT_TRUE(store->WaitForIndex(kWait));
  EXPECT_EQ(store->index_stats().events_rebuilt, 60u);  // commit indexes 41..100
  EXPECT_EQ(Cursor(store.get()), 100u);
  // Commits 41..100 rebuilt from their records: the same keys as the committer's, none more.
  std::set<std::string> rebuilt = RawIndexKeys(store.get());
  size_t expected = 0;
  for (const std::string& key : keys) {
    IndexKey decoded;
    ASSERT_TRUE(DecodeIndexKey(key, &decoded));
    const int n = std::stoi(decoded.event_id.substr(3));
    if (n >= 40) {
      EXPECT_EQ(rebuilt.count(key), 1u) << decoded.event_id;
      ++expected;
    }
  }
  EXPECT_EQ(rebuilt.size(), expected);
  // New commits go on from there.
  std::vector<IngestEvent> events{MakeEvent(Spec("late", kBase + 500, "GetObject"))};
  IngestBatch batch = MakeBatch("agent", 6, std::move(events));
  ASSERT_TRUE(store->CommitGroup({&batch}).ok());
  EXPECT_EQ(Count(store.get(), IndexKind::kEventId, "late"), 1u);  // waits for the indexer
  EXPECT_EQ(Cursor(store.get()), 101u);
}

// The entries bypass the write-ahead log: a process killed before the idx memtable was flushed
// loses them (and the cursor's advance), never the records. The next open rebuilds the same keys.
TEST(EventIndexerTest, EntriesLostWithTheProcessAreRebuiltAtTheNextOpen) {
  testutil::TempDir dir;
  const std::string path = dir.Join("db");
  const std::string killed = testutil::KillWhenReady([&](const std::function<void()>& ready) {
    auto store = OpenStore(path);
    if (store == nullptr) _exit(4);
    CommitEvents(store.get(), 5, 20);  // synced: acknowledged
    if (!store->WaitForIndex(kWait)) _exit(5);
    ready();
    pause();  // killed here, the idx memtable unflushed
  });
  ASSERT_EQ(killed, "");

  auto store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->last_commit_index(), 100u);  // every acknowledged record
  ASSERT_TRUE(store->WaitForIndex(kWait));
  EXPECT_EQ(store->index_stats().events_rebuilt, 100u);  // none of the child's entries survived
  EXPECT_EQ(Cursor(store.get()), 100u);
  EXPECT_EQ(Count(store.get(), IndexKind::kEventName, "GetObject"), 50u);
  // The same keys as a store that indexed them from the committer's entries.
  auto reference = OpenStore(dir.Join("reference"));
  CommitEvents(reference.get(), 5, 20);
  ASSERT_TRUE(reference->WaitForIndex(kWait));
  EXPECT_EQ(RawIndexKeys(store.get()), RawIndexKeys(reference.get()));
}

// The cursor shares "idx" with the entries that retention drops by age: it has no time and stays.
TEST(EventIndexerTest, RetentionKeepsTheCursor) {
  testutil::TempDir dir;
  auto opened = OpenStore(dir.Join("db"), /*retention_us=*/kHour);  // every test event (2023) is older
  ASSERT_NE(opened, nullptr);
  EventStore* store = opened.get();
  CommitEvents(store, 2, 10);
  ASSERT_TRUE(store->WaitForIndex(kWait));
  ASSERT_TRUE(store->CompactAll().ok());
  EXPECT_TRUE(RawIndexKeys(store).empty());  // the entries went
  EXPECT_EQ(Cursor(store), 20u);             // the cursor did not
}

TEST(EventIndexerTest, AStoreWithoutACursorWasIndexedInItsCommits) {
  testutil::TempDir dir;
  {
    auto store = OpenStore(dir.Join("db"));
    CommitEvents(store.get(), 2, 10);
    ASSERT_TRUE(store->WaitForIndex(kWait));
    SetCursor(store.get(), std::nullopt);
  }
  auto store = OpenStore(dir.Join("db"));
  EXPECT_EQ(Cursor(store.get()), 20u);  // written at open: nothing to rebuild
  EXPECT_EQ(store->index_stats().indexed_through, 20u);
  EXPECT_EQ(store->index_stats().events_rebuilt, 0u);
}

TEST(EventIndexerTest, AnUndecodableCursorFailsTheOpenClearly) {
  testutil::TempDir dir;
  {
    auto store = OpenStore(dir.Join("db"));
    CommitEvents(store.get(), 1, 5);
    ASSERT_TRUE(store->WaitForIndex(kWait));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(store->db()->Put(wo, store->handle(ColumnFamily::kIndex),
                                 rocksdb::Slice(kIndexCursorKey.data(), kIndexCursorKey.size()), "abc").ok());
  }
  StoreOptions options;
  options.org = "example.org";
  auto opened = EventStore::Open(dir.Join("db"), options);
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(absl::IsDataLoss(opened.status())) << opened.status();
  EXPECT_NE(opened.status().message().find("index cursor"), std::string::npos) << opened.status();
}

TEST(EventIndexerTest, ClosingTheStoreIndexesEverythingCommitted) {
  testutil::TempDir dir;
  {
    auto store = OpenStore(dir.Join("db"));
    CommitEvents(store.get(), 20, 50);  // closed at once, without waiting
  }
  auto store = OpenStore(dir.Join("db"));
  EXPECT_EQ(Cursor(store.get()), 1000u);
  EXPECT_EQ(store->index_stats().events_rebuilt, 0u);
  EXPECT_EQ(Count(store.get(), IndexKind::kEventName, "PutObject"), 500u);
}

TEST(EventIndexerTest, AnUnreadableRecordIsSkippedAndTheRestIndexed) {
  testutil::TempDir dir;
  // Damage one record, set the cursor back to 0 and reopen: the rebuild skips that record and
  // indexes the other two.
  auto store = OpenStore(dir.Join("db"));
  CommitEvents(store.get(), 1, 3);
  ASSERT_TRUE(store->WaitForIndex(kWait));
  auto stored = store->GetEventById("ev-1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  ASSERT_TRUE(store->db()->Put(rocksdb::WriteOptions(), store->handle(ColumnFamily::kEvents),
                               (*stored)->event_key, "\x05garbage").ok());
  SetCursor(store.get(), 0);
  const std::string path = dir.Join("db");
  store.reset();
  store = OpenStore(path);
  ASSERT_TRUE(store->WaitForIndex(kWait));
  EXPECT_EQ(store->index_stats().events_rebuilt, 2u);
  EXPECT_EQ(store->index_stats().records_unreadable, 1u);
  EXPECT_EQ(Cursor(store.get()), 3u);
  EXPECT_EQ(store->index_stats().indexed_through, 3u);
}

}  // namespace
}  // namespace orgtrail::collector
