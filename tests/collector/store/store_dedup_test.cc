// Deduplication per (recipient account, eventID), against a real RocksDB:
// another account's event with the same eventID is stored (no squatting), the
// same bytes again are a duplicate, other bytes are a conflict kept with both
// provenances (never acknowledged-and-dropped), and a version-1 store (keyed by
// the bare eventID) is migrated at open.
#include <gtest/gtest.h>

#include <tuple>

#include <rocksdb/write_batch.h>

#include "collector/store/store.h"
#include "collector/store/store_test_support.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

using namespace storetest;  // NOLINT: the shared builders

constexpr char kAccountA[] = "111111111111";
constexpr char kAccountB[] = "222222222222";

SyntheticEvent SpecIn(const std::string& account, const std::string& id, const std::string& name = "DescribeInstances") {
  SyntheticEvent s = Spec(id, kBase, name);
  s.account_id = account;
  return s;
}

TEST(StoreDedupTest, AnotherAccountCannotSquatAnEventId) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  // Account A's agent sends eventID E first (e.g. a forged or colliding ID).
  IngestBatch a = MakeBatch("agent-a", 1, {MakeEvent(SpecIn(kAccountA, "E", "DeleteBucket"))}, kAccountA);
  ASSERT_TRUE(store->CommitGroup({&a}).ok());
  // Account B's real event E is stored, not acknowledged as a "duplicate".
  IngestBatch b = MakeBatch("agent-b", 1, {MakeEvent(SpecIn(kAccountB, "E", "ConsoleLogin"))}, kAccountB);
  auto result = store->CommitGroup({&b});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcomes[0].events_stored, 1u);
  EXPECT_EQ(result->outcomes[0].events_duplicate, 0u);
  EXPECT_EQ(result->outcomes[0].events_conflict, 0u);

  auto accounts = store->ListAccountsOfEventId("E");
  ASSERT_TRUE(accounts.ok());
  EXPECT_EQ(*accounts, (std::vector<std::string>{kAccountA, kAccountB}));
  auto in_b = store->GetEventByAccountAndId(kAccountB, "E");
  ASSERT_TRUE(in_b.ok() && in_b->has_value());
  EXPECT_EQ((*in_b)->raw_json, b.events[0].event.raw_json());
  auto in_a = store->GetEventByAccountAndId(kAccountA, "E");
  ASSERT_TRUE(in_a.ok() && in_a->has_value());
  EXPECT_EQ((*in_a)->raw_json, a.events[0].event.raw_json());
  EXPECT_EQ(store->events_stored(), 2u);
}

TEST(StoreDedupTest, SameBytesAreADuplicateOtherBytesAConflictKeptWithProvenance) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  IngestBatch first = MakeBatch("agent-1", 1, {MakeEvent(SpecIn(kAccountA, "E1")), MakeEvent(SpecIn(kAccountA, "E2"))},
                                kAccountA);
  ASSERT_TRUE(store->CommitGroup({&first}).ok());

  // A second agent of the same account: E1 with the same bytes (a duplicate, e.g.
  // a global event seen in two regions) and E2 with other bytes (a conflict).
  IngestBatch second = MakeBatch("agent-2", 1,
                                 {MakeEvent(SpecIn(kAccountA, "E1")), MakeEvent(SpecIn(kAccountA, "E2", "DeleteTrail")),
                                  MakeEvent(SpecIn(kAccountA, "E3"))},
                                 kAccountA);
  auto result = store->CommitGroup({&second});
  ASSERT_TRUE(result.ok()) << result.status();
  const BatchOutcome& out = result->outcomes[0];
  EXPECT_EQ(out.events_stored, 1u);     // E3
  EXPECT_EQ(out.events_duplicate, 1u);  // E1
  EXPECT_EQ(out.events_conflict, 1u);   // E2
  EXPECT_EQ(out.ack_sequence, 1u);
  ASSERT_EQ(result->conflicts.size(), 1u);
  EXPECT_EQ(result->conflicts[0].event_id, "E2");

  // The original stays; the copy is listed with its own provenance and a pointer to the original.
  auto original = store->GetEventByAccountAndId(kAccountA, "E2");
  ASSERT_TRUE(original.ok() && original->has_value());
  EXPECT_EQ((*original)->raw_json, first.events[1].event.raw_json());
  auto conflicts = store->ListConflicts(10);
  ASSERT_TRUE(conflicts.ok()) << conflicts.status();
  ASSERT_EQ(conflicts->size(), 1u);
  const ConflictRecord& c = (*conflicts)[0];
  EXPECT_EQ(c.account_id, kAccountA);
  EXPECT_EQ(c.event_id, "E2");
  EXPECT_EQ(c.agent_id, "agent-2");
  EXPECT_EQ(c.sequence, 1u);
  EXPECT_EQ(c.leaf_index, 1u);
  EXPECT_EQ(c.raw_json, second.events[1].event.raw_json());
  EXPECT_EQ(c.existing_event_key, (*original)->event_key);
  EXPECT_EQ(store->conflicts_recorded(), 1u);
  std::string account, event_id, agent;
  uint64_t sequence = 0, leaf = 0;
  ASSERT_TRUE(DecodeConflictKey(EncodeConflictKey(kAccountA, "E2", "agent-2", 1, 1), &account, &event_id, &agent,
                                &sequence, &leaf));
  EXPECT_EQ(std::tie(account, event_id, agent, sequence, leaf),
            std::tie(c.account_id, c.event_id, c.agent_id, c.sequence, c.leaf_index));
  // The conflicting batch's provenance is stored (it proves what agent-2 signed).
  auto provenance = store->GetProvenance("agent-2", 1);
  ASSERT_TRUE(provenance.ok() && provenance->has_value());
  EXPECT_EQ((*provenance)->leaf_hashes[1], MerkleLeafHash(c.raw_json));
}

TEST(StoreDedupTest, ConflictWithinOneGroupIsKeptToo) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  IngestBatch x = MakeBatch("agent-x", 1, {MakeEvent(SpecIn(kAccountA, "G"))}, kAccountA);
  IngestBatch y = MakeBatch("agent-y", 1, {MakeEvent(SpecIn(kAccountA, "G", "StopLogging"))}, kAccountA);
  IngestBatch z = MakeBatch("agent-z", 1, {MakeEvent(SpecIn(kAccountA, "G"))}, kAccountA);
  auto result = store->CommitGroup({&x, &y, &z});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcomes[0].events_stored, 1u);
  EXPECT_EQ(result->outcomes[1].events_conflict, 1u);
  EXPECT_EQ(result->outcomes[2].events_duplicate, 1u);
  auto conflicts = store->ListConflicts(10);
  ASSERT_TRUE(conflicts.ok());
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ((*conflicts)[0].agent_id, "agent-y");
}

TEST(StoreDedupTest, ConflictsAndCountersSurviveReopen) {
  testutil::TempDir dir;
  {
    auto store = OpenStore(dir.Join("db"));
    ASSERT_NE(store, nullptr);
    IngestBatch a = MakeBatch("agent-1", 1, {MakeEvent(SpecIn(kAccountA, "R"))}, kAccountA);
    IngestBatch b = MakeBatch("agent-2", 1, {MakeEvent(SpecIn(kAccountA, "R", "PutBucketPolicy"))}, kAccountA);
    ASSERT_TRUE(store->CommitGroup({&a}).ok());
    ASSERT_TRUE(store->CommitGroup({&b}).ok());
  }
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->conflicts_recorded(), 1u);
  auto conflicts = store->ListConflicts(10);
  ASSERT_TRUE(conflicts.ok());
  EXPECT_EQ(conflicts->size(), 1u);
}

TEST(StoreDedupTest, VersionOneStoreIsMigratedAtOpen) {
  testutil::TempDir dir;
  {
    auto store = OpenStore(dir.Join("db"));
    ASSERT_NE(store, nullptr);
    IngestBatch a = MakeBatch("agent-1", 1, {MakeEvent(SpecIn(kAccountA, "M1")), MakeEvent(SpecIn(kAccountA, "M2"))},
                              kAccountA);
    ASSERT_TRUE(store->CommitGroup({&a}).ok());
    // Rewrite event_ids as version 1 kept them (key = bare eventID) and mark the store version 1.
    rocksdb::WriteBatch wb;
    for (const char* id : {"M1", "M2"}) {
      auto stored = store->GetEventByAccountAndId(kAccountA, id);
      ASSERT_TRUE(stored.ok() && stored->has_value());
      wb.Put(store->handle(ColumnFamily::kEventIds), id, (*stored)->event_key);
      wb.Delete(store->handle(ColumnFamily::kEventIds), EncodeEventIdKey(id, kAccountA));
    }
    std::string v1;
    PutFixed64BE(&v1, 1);
    wb.Put(store->handle(ColumnFamily::kMetadata), kFormatVersionKey, v1);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(store->db()->Write(wo, &wb).ok());
    EXPECT_FALSE(store->GetEventById("M1")->has_value());  // unreadable as version 2
  }
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  for (const char* id : {"M1", "M2"}) {
    auto got = store->GetEventById(id);
    ASSERT_TRUE(got.ok() && got->has_value()) << id;
  }
  auto version = store->GetMetadata(kFormatVersionKey);
  ASSERT_TRUE(version.ok() && version->has_value());
  std::string_view in = **version;
  uint64_t v = 0;
  ASSERT_TRUE(GetFixed64BE(&in, &v));
  EXPECT_EQ(v, kStoreFormatVersion);
  // Dedup works on migrated entries: the same bytes again are a duplicate.
  IngestBatch again = MakeBatch("agent-2", 1, {MakeEvent(SpecIn(kAccountA, "M1"))}, kAccountA);
  auto result = store->CommitGroup({&again});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcomes[0].events_duplicate, 1u);
}

TEST(StoreDedupTest, NewerFormatIsRefusedWithAClearError) {
  testutil::TempDir dir;
  {
    auto store = OpenStore(dir.Join("db"));
    ASSERT_NE(store, nullptr);
    std::string v9;
    PutFixed64BE(&v9, 9);
    ASSERT_TRUE(store->WriteMetadata({{std::string(kFormatVersionKey), v9}}).ok());
  }
  StoreOptions options;
  options.org = "example.org";
  auto store = EventStore::Open(dir.Join("db"), options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("newer than this collector"), std::string_view::npos) << store.status();
}

}  // namespace
}  // namespace orgtrail::collector
