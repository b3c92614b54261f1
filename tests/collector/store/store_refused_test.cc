// Events refused one by one, against a real RocksDB: their batch is stored
// (provenance, high-water) with its good events, each refused event is kept in
// "refused" with its bytes, rule and leaf hash, listed per agent and for
// identity violations only, bounded per agent (past the bound the bytes are
// dropped, the record and the count kept), and everything survives a reopen.
#include <gtest/gtest.h>

#include "collector/store/store.h"
#include "collector/store/store_keys.h"
#include "collector/store/store_test_support.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

using namespace storetest;  // NOLINT: the shared builders

// A batch of `good` events followed by one refused event (leaf index good).
IngestBatch BatchWithRefusal(const std::string& agent, uint64_t seq, int good, const std::string& rule,
                             bool identity_violation) {
  std::vector<IngestEvent> events;
  for (int i = 0; i < good; ++i) {
    events.push_back(MakeEvent(Spec(agent + "-" + std::to_string(seq) + "-" + std::to_string(i), kBase)));
  }
  IngestBatch b = MakeBatch(agent, seq, std::move(events));
  RefusedEvent refused;
  refused.leaf_index = static_cast<uint32_t>(good);
  refused.event_id = "bad-" + std::to_string(seq);
  refused.rule = rule;
  refused.message = "event " + std::to_string(good) + ": " + rule;
  refused.identity_violation = identity_violation;
  refused.raw_json = "{\"eventID\":\"bad-" + std::to_string(seq) + "\",\"awsRegion\":\"bogus\"}";
  b.leaf_hashes.push_back(MerkleLeafHash(refused.raw_json));
  b.merkle_root = MerkleRoot(b.leaf_hashes);
  b.refused.push_back(std::move(refused));
  return b;
}

TEST(StoreRefusedTest, RefusedEventIsKeptBesideItsStoredBatch) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  IngestBatch b = BatchWithRefusal("agent-1", 1, 2, "invalid_region", false);
  auto result = store->CommitGroup({&b});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcomes[0].events_stored, 2u);
  EXPECT_EQ(result->outcomes[0].events_refused, 1u);
  ASSERT_EQ(result->refused.size(), 1u);
  EXPECT_EQ(store->GetAgentState("agent-1")->high_water_sequence, 1u);
  EXPECT_EQ(store->GetAgentState("agent-1")->events_refused, 1u);
  auto provenance = store->GetProvenance("agent-1", 1);
  ASSERT_TRUE(provenance.ok() && provenance->has_value());
  EXPECT_EQ((*provenance)->leaf_hashes.size(), 3u);  // the whole signed tree

  auto listed = store->ListRefused("", false, 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  const RefusedRecord& r = (*listed)[0];
  EXPECT_EQ(r.agent_id, "agent-1");
  EXPECT_EQ(r.sequence, 1u);
  EXPECT_EQ(r.leaf_index, 2u);
  EXPECT_EQ(r.account_id, "111111111111");
  EXPECT_EQ(r.region, "us-east-1");
  EXPECT_EQ(r.event_id, "bad-1");
  EXPECT_EQ(r.rule, "invalid_region");
  EXPECT_EQ(r.raw_json, b.refused[0].raw_json);
  EXPECT_EQ(r.leaf_hash, (*provenance)->leaf_hashes[2]);
  EXPECT_FALSE(r.identity_violation);
  EXPECT_FALSE(r.raw_json_dropped);
  EXPECT_EQ(store->refused_recorded(), 1u);
  // The refused event is not an event of the store.
  auto lookup = store->GetEventByAccountAndId("111111111111", "bad-1");
  ASSERT_TRUE(lookup.ok());
  EXPECT_FALSE(lookup->has_value());
}

TEST(StoreRefusedTest, ListsPerAgentAndIdentityViolationsOnlyAndSurvivesReopen) {
  testutil::TempDir dir;
  {
    auto store = OpenStore(dir.Join("db"));
    ASSERT_NE(store, nullptr);
    IngestBatch a1 = BatchWithRefusal("agent-a", 1, 1, "recipient_account_mismatch", true);
    IngestBatch a2 = BatchWithRefusal("agent-a", 2, 0, "malformed_event", false);
    IngestBatch b1 = BatchWithRefusal("agent-b", 1, 1, "region_mismatch", true);
    ASSERT_TRUE(store->CommitGroup({&a1, &b1}).ok());
    ASSERT_TRUE(store->CommitGroup({&a2}).ok());
    // A replay of a stored sequence records nothing twice.
    IngestBatch again = BatchWithRefusal("agent-a", 2, 0, "malformed_event", false);
    auto replay = store->CommitGroup({&again});
    ASSERT_TRUE(replay.ok());
    EXPECT_TRUE(replay->outcomes[0].replay);
    EXPECT_EQ(replay->outcomes[0].events_refused, 0u);
  }
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->refused_recorded(), 3u);
  EXPECT_EQ(store->GetAgentState("agent-a")->events_refused, 2u);
  auto of_a = store->ListRefused("agent-a", false, 10);
  ASSERT_TRUE(of_a.ok());
  ASSERT_EQ(of_a->size(), 2u);
  EXPECT_EQ((*of_a)[0].sequence, 1u);
  EXPECT_EQ((*of_a)[1].sequence, 2u);
  auto violations = store->ListRefused("", true, 10);
  ASSERT_TRUE(violations.ok());
  ASSERT_EQ(violations->size(), 2u);
  for (const RefusedRecord& r : *violations) EXPECT_TRUE(r.identity_violation) << r.rule;
  auto limited = store->ListRefused("", false, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1u);
  auto none = store->ListRefused("agent-zzz", false, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(StoreRefusedTest, PastThePerAgentBoundTheBytesAreDroppedNotTheRecord) {
  testutil::TempDir dir;
  StoreOptions options;
  options.org = "example.org";
  options.max_refused_per_agent = 2;
  auto store = EventStore::Open(dir.Join("db"), options);
  ASSERT_TRUE(store.ok()) << store.status();
  for (uint64_t seq = 1; seq <= 4; ++seq) {
    IngestBatch b = BatchWithRefusal("agent-1", seq, 1, "invalid_region", false);
    ASSERT_TRUE((*store)->CommitGroup({&b}).ok());
  }
  auto listed = (*store)->ListRefused("agent-1", false, 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_FALSE((*listed)[1].raw_json_dropped);
  EXPECT_FALSE((*listed)[1].raw_json.empty());
  EXPECT_TRUE((*listed)[2].raw_json_dropped);
  EXPECT_TRUE((*listed)[2].raw_json.empty());
  EXPECT_EQ((*listed)[3].rule, "invalid_region");
  EXPECT_EQ((*store)->refused_recorded(), 4u);
}

TEST(StoreRefusedTest, CorruptRecordIsDataLossNotACrash) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  RefusedRecord decoded;
  for (std::string bytes : {std::string(), std::string("\x05", 1), std::string(200, '\xff')}) {
    EXPECT_FALSE(DecodeRefusedValue(bytes, &decoded));
  }
  ASSERT_TRUE(store->db()
                  ->Put(rocksdb::WriteOptions(), store->handle(ColumnFamily::kRefused),
                        EncodeRefusedKey("agent-x", 1, 0), "garbage")
                  .ok());
  auto listed = store->ListRefused("", false, 10);
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kDataLoss) << listed.status();
}

}  // namespace
}  // namespace orgtrail::collector
