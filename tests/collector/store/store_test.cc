// EventStore against a real RocksDB in a temp dir: keys, group commits, dedup,
// replays, indexes (newest first, time-bounded, touching only matching keys),
// commit order and listeners, provenance, durability across reopen, retention.
#include "collector/store/store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include <rocksdb/db.h>

#include "testutil/ingest_client.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/time_util.h"
#include "testutil/temp_dir.h"
#include "collector/store/store_test_support.h"

namespace orgtrail::collector {
namespace {

using namespace storetest;  // NOLINT: the shared builders

std::vector<std::string> Walk(EventIndexIterator* it) {
  std::vector<std::string> ids;
  for (; it->Valid(); it->Next()) ids.push_back(it->entry().event_id);
  EXPECT_TRUE(it->status().ok()) << it->status();
  return ids;
}

TEST(StoreKeysTest, RoundTripsAndOrdersNewestFirst) {
  EventKey a{"example.org", "111111111111", "us-east-1", kBase, "id-a"};
  EventKey b{"example.org", "111111111111", "us-east-1", kBase + 1, "id-b"};
  EventKey back;
  ASSERT_TRUE(DecodeEventKey(EncodeEventKey(a), &back));
  EXPECT_EQ(back.event_id, "id-a");
  EXPECT_EQ(back.event_time_us, kBase);
  EXPECT_LT(EncodeEventKey(b), EncodeEventKey(a));  // newer sorts first
  EXPECT_LT(EncodeTimeDescending(5), EncodeTimeDescending(-5));
  EXPECT_EQ(DecodeTimeDescending(EncodeTimeDescending(-123456)), -123456);

  IndexKey ik{IndexKind::kEventName, false, std::string("a\0b", 3), kBase, "111111111111", "eu-west-1", "e1"};
  IndexKey ik_back;
  ASSERT_TRUE(DecodeIndexKey(EncodeIndexKey(ik), &ik_back));
  EXPECT_EQ(ik_back.value, std::string("a\0b", 3));
  EXPECT_EQ(ik_back.region, "eu-west-1");
  EXPECT_FALSE(ik_back.other_category);
  ik.other_category = true;  // a data event's entry: the kind byte carries the bit, the rest is the same
  const std::string data_key = EncodeIndexKey(ik);
  ASSERT_TRUE(DecodeIndexKey(data_key, &ik_back));
  EXPECT_TRUE(ik_back.other_category);
  EXPECT_EQ(ik_back.kind, IndexKind::kEventName);
  EXPECT_EQ(static_cast<uint8_t>(data_key[0]), 0x82);
  EXPECT_TRUE(IsOtherIndexCategory("Data"));
  EXPECT_TRUE(IsOtherIndexCategory("NetworkActivity"));
  EXPECT_FALSE(IsOtherIndexCategory("Management"));
  EXPECT_FALSE(IsOtherIndexCategory("Insight"));
  EXPECT_FALSE(IsOtherIndexCategory(""));
  uint64_t idx;
  ASSERT_TRUE(DecodeCommitKey(EncodeCommitKey(42), &idx));
  EXPECT_EQ(idx, 42u);
}

TEST(StoreKeysTest, HostileBytesAreRejectedNotCrashed) {
  EventKey k;
  IndexKey ik;
  AgentState st;
  ProvenanceRecord pr;
  v1::StoredEventMeta meta;
  std::string_view raw;
  std::string agent;
  uint64_t seq;
  for (std::string bytes : {std::string(), std::string("\xff\xff\xff\xff\xff\xff", 6), std::string("\x05" "ab", 3),
                            std::string(1, '\x20'), std::string("\x09\x80\x80\x80\x80\x80", 6)}) {
    EXPECT_FALSE(DecodeEventKey(bytes, &k));
    EXPECT_FALSE(DecodeIndexKey(bytes, &ik));
    EXPECT_FALSE(DecodeAgentState(bytes, &st));
    EXPECT_FALSE(DecodeProvenanceValue(bytes, &pr));
    EXPECT_FALSE(DecodeProvenanceKey(bytes, &agent, &seq));
    std::string account, event_id;
    uint64_t leaf;
    EXPECT_FALSE(DecodeConflictKey(bytes, &account, &event_id, &agent, &seq, &leaf));
    DecodeEventValue(bytes, &meta, &raw);  // must not crash
  }
  // An unknown kind stays unknown with the other-categories bit set.
  std::string unknown_kind = EncodeIndexKey(IndexKey{IndexKind::kAccessKeyId, true, "AKIA", kBase, "1", "r", "e"});
  ASSERT_TRUE(DecodeIndexKey(unknown_kind, &ik));
  unknown_kind[0] = static_cast<char>(0x89);
  EXPECT_FALSE(DecodeIndexKey(unknown_kind, &ik));
  IndexKind kind;
  EXPECT_TRUE(IndexKindFromAttributeKey("EventName", &kind));
  EXPECT_EQ(kind, IndexKind::kEventName);
  EXPECT_FALSE(IndexKindFromAttributeKey("eventname", &kind));
  EXPECT_FALSE(IndexKindFromAttributeKey("", &kind));
}

TEST(EventStoreTest, StoresRecordByteForByteWithMetaBeside) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  IngestBatch b = MakeBatch("agent-1", 1, {MakeEvent(Spec("e1", kBase))});
  const std::string raw = b.events[0].event.raw_json();
  auto result = store->CommitGroup({&b});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcomes[0].events_stored, 1u);
  EXPECT_EQ(result->first_commit_index, 1u);
  EXPECT_EQ(result->last_commit_index, 1u);

  auto got = store->GetEventById("e1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->raw_json, raw);
  EXPECT_EQ((*got)->meta.agent_id(), "agent-1");
  EXPECT_EQ((*got)->meta.batch_sequence(), 1u);
  EXPECT_EQ((*got)->meta.partition_account_id(), "111111111111");
  EXPECT_EQ((*got)->meta.partition_region(), "us-east-1");
  EXPECT_EQ((*got)->meta.commit_index(), 1u);
  EXPECT_EQ((*got)->key.event_time_us, kBase);

  auto prov = store->GetProvenance("agent-1", 1);
  ASSERT_TRUE(prov.ok());
  ASSERT_TRUE(prov->has_value());
  EXPECT_EQ((*prov)->leaf_hashes.size(), 1u);
  EXPECT_EQ((*prov)->leaf_hashes[0], MerkleLeafHash(raw));
  EXPECT_EQ((*prov)->signed_header, b.signed_header);
  auto pem = store->GetCertificatePem((*prov)->certificate_sha256);
  ASSERT_TRUE(pem.ok() && pem->has_value());
  EXPECT_EQ(**pem, b.certificate_pem);

  auto missing = store->GetEventById("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(EventStoreTest, DeduplicatesAcrossAgentsWithinGroupAndAcrossGroups) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  IngestBatch a = MakeBatch("agent-a", 1, {MakeEvent(Spec("x", kBase)), MakeEvent(Spec("y", kBase))});
  IngestBatch b = MakeBatch("agent-b", 1, {MakeEvent(Spec("y", kBase)), MakeEvent(Spec("z", kBase)),
                                           MakeEvent(Spec("z", kBase))});
  auto r1 = store->CommitGroup({&a, &b});
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->outcomes[0].events_stored, 2u);
  EXPECT_EQ(r1->outcomes[1].events_stored, 1u);
  EXPECT_EQ(r1->outcomes[1].events_duplicate, 2u);
  IngestBatch c = MakeBatch("agent-c", 1, {MakeEvent(Spec("x", kBase)), MakeEvent(Spec("w", kBase))});
  auto r2 = store->CommitGroup({&c});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->outcomes[0].events_stored, 1u);
  EXPECT_EQ(r2->outcomes[0].events_duplicate, 1u);
  EXPECT_EQ(store->events_stored(), 4u);
  EXPECT_EQ(store->last_commit_index(), 4u);
  auto it = store->NewIndexIterator(IndexKind::kAll, "", kBase - kHour, kBase + kHour);
  EXPECT_EQ(Walk(it.get()).size(), 4u);
}

// Index values are empty (STORAGE.md): the event key each index entry yields is rebuilt from the
// index key and must name the stored record.
TEST(EventStoreTest, IndexEntriesHaveEmptyValuesAndRebuildTheEventKey) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  IngestBatch b = MakeBatch("agent", 1, {MakeEvent(Spec("k1", kBase, "PutObject")),
                                         MakeEvent(Spec("k2", kBase + kHour, "GetObject"))});
  ASSERT_TRUE(store->CommitGroup({&b}).ok());
  ASSERT_TRUE(store->WaitForIndex(std::chrono::seconds(10)));  // raw reads: the indexer's entries
  std::unique_ptr<rocksdb::Iterator> raw(
      store->db()->NewIterator(rocksdb::ReadOptions(), store->handle(ColumnFamily::kIndex)));
  int entries = 0;
  for (raw->SeekToFirst(); raw->Valid(); raw->Next()) {
    if (raw->key().ToStringView() == kIndexCursorKey) continue;  // the indexer's cursor
    EXPECT_TRUE(raw->value().empty());
    ++entries;
  }
  EXPECT_GE(entries, 2 * 6);  // all, id, name, readOnly, user, source at least
  for (IndexKind kind : {IndexKind::kAll, IndexKind::kEventName}) {
    auto it = store->NewIndexIterator(kind, kind == IndexKind::kAll ? "" : "PutObject", kBase - kHour,
                                      kBase + 2 * kHour);
    int seen = 0;
    for (; it->Valid(); it->Next(), ++seen) {
      std::string value;
      ASSERT_TRUE(store->db()
                      ->Get(rocksdb::ReadOptions(), store->handle(ColumnFamily::kEvents), it->entry().event_key,
                            &value)
                      .ok())
          << it->entry().event_id;
    }
    EXPECT_EQ(seen, kind == IndexKind::kAll ? 2 : 1);
  }
}

TEST(EventStoreTest, ReplayAtOrBelowHighWaterStoresNothing) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  IngestBatch b1 = MakeBatch("agent", 5, {MakeEvent(Spec("e1", kBase))});
  ASSERT_TRUE(store->CommitGroup({&b1}).ok());
  IngestBatch replay = MakeBatch("agent", 5, {MakeEvent(Spec("new-event", kBase))});
  IngestBatch older = MakeBatch("agent", 3, {MakeEvent(Spec("new-event-2", kBase))});
  auto r = store->CommitGroup({&replay, &older});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->outcomes[0].replay);
  EXPECT_TRUE(r->outcomes[1].replay);
  EXPECT_EQ(r->outcomes[0].ack_sequence, 5u);
  EXPECT_EQ(r->outcomes[1].ack_sequence, 5u);
  EXPECT_FALSE(store->GetEventById("new-event")->has_value());
  EXPECT_FALSE(store->GetEventById("new-event-2")->has_value());
  // A gap is accepted; a wrong prev hash is a chain break, not a refusal.
  IngestBatch gap = MakeBatch("agent", 9, {MakeEvent(Spec("e9", kBase))});
  auto r2 = store->CommitGroup({&gap});
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->outcomes[0].replay);
  EXPECT_TRUE(r2->outcomes[0].chain_break);
  EXPECT_EQ(store->GetAgentState("agent")->high_water_sequence, 9u);
}

TEST(EventStoreTest, IndexesWalkNewestFirstWithinInclusiveRange) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  std::vector<IngestEvent> events;
  for (int i = 0; i < 10; ++i) {
    events.push_back(MakeEvent(Spec("e" + std::to_string(i), kBase + i * kHour, i % 2 ? "PutObject" : "GetObject")));
  }
  IngestBatch b = MakeBatch("agent", 1, std::move(events));
  ASSERT_TRUE(store->CommitGroup({&b}).ok());

  auto it = store->NewIndexIterator(IndexKind::kEventName, "PutObject", kBase + 3 * kHour, kBase + 7 * kHour);
  EXPECT_EQ(Walk(it.get()), (std::vector<std::string>{"e7", "e5", "e3"}));
  auto all = store->NewIndexIterator(IndexKind::kAll, "", kBase, kBase + 2 * kHour);
  EXPECT_EQ(Walk(all.get()), (std::vector<std::string>{"e2", "e1", "e0"}));
  auto by_user = store->NewIndexIterator(IndexKind::kUsername, "alice", kBase + 9 * kHour, kBase + 9 * kHour);
  EXPECT_EQ(Walk(by_user.get()), (std::vector<std::string>{"e9"}));
  auto by_type = store->NewIndexIterator(IndexKind::kResourceType, "AWS::EC2::Instance", kBase, kBase + 1);
  EXPECT_EQ(Walk(by_type.get()), (std::vector<std::string>{"e0"}));
  auto ro = store->NewIndexIterator(IndexKind::kReadOnly, "true", kBase, kBase + 100 * kHour);
  EXPECT_EQ(Walk(ro.get()).size(), 10u);
  auto none = store->NewIndexIterator(IndexKind::kEventName, "Put", kBase, kBase + 100 * kHour);
  EXPECT_TRUE(Walk(none.get()).empty());
  auto part = store->NewPartitionIterator("111111111111", "us-east-1", kBase + 8 * kHour, kBase + 100 * kHour);
  EXPECT_EQ(Walk(part.get()), (std::vector<std::string>{"e9", "e8"}));
  auto other = store->NewPartitionIterator("111111111111", "eu-west-1", kBase, kBase + 100 * kHour);
  EXPECT_TRUE(Walk(other.get()).empty());

  // Resume after a raw key (paging).
  auto page = store->NewIndexIterator(IndexKind::kAll, "", kBase, kBase + 100 * kHour);
  page->Next();
  std::string token(page->raw_key());
  auto resumed = store->NewIndexIterator(IndexKind::kAll, "", kBase, kBase + 100 * kHour);
  resumed->SeekAfter(token);
  ASSERT_TRUE(resumed->Valid());
  EXPECT_EQ(resumed->entry().event_id, "e7");
  auto fetched = store->GetEventByKey(resumed->entry().event_key);
  ASSERT_TRUE(fetched.ok() && fetched->has_value());
  EXPECT_EQ((*fetched)->key.event_id, "e7");
}

TEST(EventStoreTest, LookupTouchesKeysProportionalToResults) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  std::vector<IngestBatch> batches;
  for (int b = 0; b < 20; ++b) {
    std::vector<IngestEvent> events;
    for (int i = 0; i < 250; ++i) {
      int n = b * 250 + i;
      events.push_back(MakeEvent(Spec("id-" + std::to_string(n), kBase + n * 1000000LL,
                                      n % 1000 == 0 ? "DeleteBucket" : "GetObject")));
    }
    batches.push_back(MakeBatch("agent", b + 1, std::move(events)));
  }
  for (auto& b : batches) ASSERT_TRUE(store->CommitGroup({&b}).ok());
  ASSERT_EQ(store->events_stored(), 5000u);
  uint64_t before = store->iterator_steps();
  auto it = store->NewIndexIterator(IndexKind::kEventName, "DeleteBucket", kBase, kBase + 10000 * 1000000LL);
  EXPECT_EQ(Walk(it.get()).size(), 5u);
  // A seek per category class (management, others), 5 results, the step that ends the walk.
  EXPECT_LE(store->iterator_steps() - before, 8u);
}

TEST(EventStoreTest, DataEventsAreIndexedApartAndStoreReadersSeeEveryCategory) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  std::vector<IngestEvent> events;
  for (int i = 0; i < 6; ++i) {
    IngestEvent e = MakeEvent(Spec("e" + std::to_string(i), kBase + i * kHour, "GetObject"));
    e.event.set_event_category(i % 2 == 1 ? "Data" : (i == 4 ? "Insight" : "Management"));
    events.push_back(std::move(e));
  }
  IngestBatch b = MakeBatch("agent", 1, std::move(events));
  ASSERT_TRUE(store->CommitGroup({&b}).ok());

  ASSERT_TRUE(store->WaitForIndex(std::chrono::seconds(10)));  // raw reads: the indexer's entries
  // On disk: the data events' entries carry the other-categories bit in their kind byte.
  std::set<std::string> data_ids;
  std::unique_ptr<rocksdb::Iterator> raw(store->db()->NewIterator(rocksdb::ReadOptions(), store->handle(ColumnFamily::kIndex)));
  for (raw->SeekToFirst(); raw->Valid(); raw->Next()) {
    if (raw->key().ToStringView() == kIndexCursorKey) continue;  // the indexer's cursor
    IndexKey key;
    ASSERT_TRUE(DecodeIndexKey(raw->key().ToStringView(), &key));
    EXPECT_EQ((static_cast<uint8_t>(raw->key()[0]) & kIndexOtherCategoriesBit) != 0, key.other_category);
    if (key.other_category) data_ids.insert(key.event_id);
  }
  EXPECT_EQ(data_ids, (std::set<std::string>{"e1", "e3", "e5"}));

  // The store's index iterators (SQL, retro-hunts) merge both classes, newest first.
  auto it = store->NewIndexIterator(IndexKind::kEventName, "GetObject", kBase, kBase + 100 * kHour);
  EXPECT_EQ(Walk(it.get()), (std::vector<std::string>{"e5", "e4", "e3", "e2", "e1", "e0"}));
  auto all = store->NewIndexIterator(IndexKind::kAll, "", kBase + kHour, kBase + 3 * kHour);
  EXPECT_EQ(Walk(all.get()), (std::vector<std::string>{"e3", "e2", "e1"}));

  // Paging one entry at a time resumes across the classes from either kind of raw key.
  std::vector<std::string> paged;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    auto resumed = store->NewIndexIterator(IndexKind::kEventName, "GetObject", kBase, kBase + 100 * kHour);
    if (!token.empty()) resumed->SeekAfter(token);
    if (!resumed->Valid()) break;
    paged.push_back(resumed->entry().event_id);
    token.assign(resumed->raw_key());
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"e5", "e4", "e3", "e2", "e1", "e0"}));
}

TEST(EventStoreTest, CommitOrderListenersAndStateSurviveReopen) {
  testutil::TempDir dir;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  {
    auto store = OpenStore(dir.Join("db"));
    store->AddCommitListener([&](uint64_t first, uint64_t last) { ranges.emplace_back(first, last); });
    IngestBatch b1 = MakeBatch("agent", 1, {MakeEvent(Spec("a", kBase + 5)), MakeEvent(Spec("b", kBase))});
    IngestBatch b2 = MakeBatch("agent", 2, {MakeEvent(Spec("c", kBase + 9))});
    ASSERT_TRUE(store->CommitGroup({&b1}).ok());
    ASSERT_TRUE(store->CommitGroup({&b2}).ok());
    ASSERT_TRUE(store->WriteMetadata({{"export/cursor", std::string("7")}}).ok());
  }
  EXPECT_EQ(ranges, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 2}, {3, 3}}));
  auto store = OpenStore(dir.Join("db"));
  EXPECT_EQ(store->last_commit_index(), 3u);
  EXPECT_EQ(store->events_stored(), 3u);
  auto state = store->GetAgentState("agent");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->high_water_sequence, 2u);
  EXPECT_EQ(state->events_stored, 3u);
  EXPECT_EQ(state->batches_stored, 2u);
  auto cursor = store->GetMetadata("export/cursor");
  ASSERT_TRUE(cursor.ok() && cursor->has_value());
  EXPECT_EQ(**cursor, "7");
  std::vector<std::string> order;
  auto it = store->NewCommitIterator(1);
  for (; it->Valid(); it->Next()) {
    EventKey k;
    ASSERT_TRUE(DecodeEventKey(it->event_key(), &k));
    order.push_back(k.event_id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
  auto from2 = store->NewCommitIterator(2);
  ASSERT_TRUE(from2->Valid());
  EXPECT_EQ(from2->commit_index(), 2u);
}

TEST(EventStoreTest, GlobalEventsStoredUnderPartitionRegionGiven) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  SyntheticEvent iam = Spec("iam-1", kBase);
  iam.event_source = "iam.amazonaws.com";
  iam.region = "eu-west-1";
  IngestBatch b = MakeBatch("agent-eu", 1, {MakeEvent(iam, "us-east-1")}, "111111111111", "eu-west-1");
  ASSERT_TRUE(store->CommitGroup({&b}).ok());
  auto home = store->NewPartitionIterator("111111111111", "us-east-1", kBase - 1, kBase + 1);
  EXPECT_EQ(Walk(home.get()), (std::vector<std::string>{"iam-1"}));
  auto got = store->GetEventById("iam-1");
  EXPECT_EQ((*got)->meta.partition_region(), "us-east-1");
}

TEST(EventStoreTest, RetentionDropsOldEventsOnCompaction) {
  testutil::TempDir dir;
  const int64_t now = NowMicros();
  auto store = OpenStore(dir.Join("db"), /*retention_us=*/24 * kHour);
  IngestBatch b = MakeBatch("agent", 1, {MakeEvent(Spec("old", now - 48 * kHour)), MakeEvent(Spec("new", now - kHour))});
  ASSERT_TRUE(store->CommitGroup({&b}).ok());
  ASSERT_TRUE(store->db()->Flush(rocksdb::FlushOptions(), store->handle(ColumnFamily::kEvents)).ok());
  ASSERT_TRUE(store->CompactAll().ok());
  EXPECT_FALSE(store->GetEventById("old")->has_value());
  EXPECT_TRUE(store->GetEventById("new")->has_value());
  auto all = store->NewIndexIterator(IndexKind::kAll, "", now - 100 * kHour, now);
  EXPECT_EQ(Walk(all.get()), (std::vector<std::string>{"new"}));
}

// With an export, retention never drops an event before the export has it:
// the record and its commit-order entry are held above the export's cursor.
TEST(EventStoreTest, RetentionHoldsWhatTheExportHasNotWritten) {
  testutil::TempDir dir;
  const int64_t now = NowMicros();
  StoreOptions options;
  options.org = "example.org";
  options.retention_us = 24 * kHour;
  options.hold_retention_until_exported = true;
  auto opened = EventStore::Open(dir.Join("db"), options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EventStore* store = opened->get();
  EXPECT_EQ(store->retention_hold(), 0u);
  IngestBatch b = MakeBatch("agent", 1, {MakeEvent(Spec("old-1", now - 48 * kHour)),
                                         MakeEvent(Spec("old-2", now - 47 * kHour)),
                                         MakeEvent(Spec("new", now - kHour))});
  ASSERT_TRUE(store->CommitGroup({&b}).ok());
  auto compact = [&] {
    for (auto cf : {ColumnFamily::kEvents, ColumnFamily::kCommits, ColumnFamily::kIndex, ColumnFamily::kEventIds}) {
      ASSERT_TRUE(store->db()->Flush(rocksdb::FlushOptions(), store->handle(cf)).ok());
    }
    ASSERT_TRUE(store->CompactAll().ok());
  };
  auto commits = [&] {
    std::vector<std::string> ids;
    for (auto it = store->NewCommitIterator(1); it->Valid(); it->Next()) {
      auto event = store->GetEventByKey(it->event_key());
      if (event.ok() && event->has_value()) ids.push_back((*event)->key.event_id);
    }
    return ids;
  };
  compact();
  // Nothing exported yet: the old records stay where the export reads them (commit order).
  EXPECT_EQ(commits(), (std::vector<std::string>{"old-1", "old-2", "new"}));
  store->SetRetentionHold(1);  // the export wrote commit 1
  compact();
  EXPECT_EQ(commits(), (std::vector<std::string>{"old-2", "new"}));
  store->SetRetentionHold(3);
  compact();
  EXPECT_EQ(commits(), (std::vector<std::string>{"new"}));
}

TEST(EventStoreTest, OpenRefusesBadOptions) {
  testutil::TempDir dir;
  StoreOptions options;
  EXPECT_EQ(EventStore::Open(dir.Join("db"), options).status().code(), absl::StatusCode::kInvalidArgument);
  options.org = "example.org";
  options.retention_us = -1;
  EXPECT_EQ(EventStore::Open(dir.Join("db"), options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace orgtrail::collector
