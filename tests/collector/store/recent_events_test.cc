// RecentEvents (collector/store/recent_events.h) alone and inside the EventStore: the window holds
// consecutive commit indexes within its byte budget (oldest dropped first), restarts on a gap, and
// what a follower reads from it is byte for byte what the store holds; a store without the window,
// or reopened, answers "not held" and the follower reads the store.
#include "collector/store/recent_events.h"

#include <gtest/gtest.h>

#include "collector/store/commit_follower.h"
#include "collector/store/store.h"
#include "collector/store/store_test_support.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

using namespace storetest;  // NOLINT: the shared builders

std::vector<RecentEvents::Entry> Entries(uint64_t first, int n, size_t value_bytes = 100) {
  std::vector<RecentEvents::Entry> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({first + i, "key-" + std::to_string(first + i), std::string(value_bytes, char('a' + (first + i) % 26))});
  }
  return out;
}

TEST(RecentEventsTest, HoldsConsecutiveIndexesWithinItsBudget) {
  const uint64_t entry_bytes = 100 + 5 + sizeof(RecentEvents::Entry);  // value + "key-N" + the entry
  RecentEvents recent(10 * entry_bytes);
  std::string key, value;
  EXPECT_FALSE(recent.Read(1, &key, &value));
  recent.Append(Entries(1, 8));
  recent.Append(Entries(9, 1));  // "key-9": same size
  ASSERT_TRUE(recent.Read(9, &key, &value));
  EXPECT_EQ(key, "key-9");
  EXPECT_EQ(value, std::string(100, char('a' + 9)));
  recent.Append(Entries(10, 5));  // 14 held: the 4 oldest go
  EXPECT_LE(recent.bytes(), 10 * entry_bytes + 10);
  EXPECT_FALSE(recent.Read(4, &key, &value));
  ASSERT_TRUE(recent.Read(6, &key, &value));
  EXPECT_EQ(key, "key-6");
  ASSERT_TRUE(recent.Read(14, &key, &value));
  EXPECT_FALSE(recent.Read(15, &key, &value)) << "not committed yet";
  recent.Append(Entries(20, 2));  // a gap: the window restarts at 20
  EXPECT_FALSE(recent.Read(14, &key, &value));
  EXPECT_TRUE(recent.Read(21, &key, &value));
  EXPECT_EQ(recent.size(), 2u);
  RecentEvents none(0);
  none.Append(Entries(1, 3));
  EXPECT_FALSE(none.Read(1, &key, &value));
}

TEST(RecentEventsTest, WhatAFollowerReadsIsWhatTheStoreHolds) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.Join("db"));
  IngestBatch b1 = MakeBatch("agent-1", 1, {MakeEvent(Spec("e1", kBase)), MakeEvent(Spec("e2", kBase + 1))});
  IngestBatch b2 = MakeBatch("agent-2", 1, {MakeEvent(Spec("e1", kBase)), MakeEvent(Spec("e3", kBase + 2))});
  ASSERT_TRUE(store->CommitGroup({&b1}).ok());
  ASSERT_TRUE(store->CommitGroup({&b2}).ok());  // e1 again: a duplicate takes no commit index
  ASSERT_EQ(store->last_commit_index(), 3u);
  StoredEvent held;
  std::string buffer;
  for (uint64_t c = 1; c <= 3; ++c) {
    auto read = store->ReadRecentEvent(c, &held, &buffer);
    ASSERT_TRUE(read.ok() && *read) << c;
    auto stored = store->GetEventByKey(held.event_key);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ(held.raw_json, (*stored)->raw_json);
    EXPECT_EQ(held.meta.SerializeAsString(), (*stored)->meta.SerializeAsString());
    EXPECT_EQ(held.meta.commit_index(), c);
    EXPECT_EQ(held.key.event_id, (*stored)->key.event_id);
  }
  auto beyond = store->ReadRecentEvent(4, &held, &buffer);
  ASSERT_TRUE(beyond.ok());
  EXPECT_FALSE(*beyond);
}

TEST(RecentEventsTest, AFollowerReadsTheSameWithAndWithoutTheWindow) {
  // The events a follower reads, and how many it read from memory.
  uint64_t from_memory = 0, from_store = 0;
  auto follow = [&](uint64_t window_bytes, bool reopen) {
    testutil::TempDir dir;
    StoreOptions options;
    options.org = "example.org";
    options.recent_events_bytes = window_bytes;
    auto store = EventStore::Open(dir.Join("db"), options);
    EXPECT_TRUE(store.ok());
    for (uint64_t seq = 1; seq <= 5; ++seq) {
      std::vector<IngestEvent> events;
      for (int i = 0; i < 3; ++i) events.push_back(MakeEvent(Spec("e" + std::to_string(seq * 10 + i), kBase + i)));
      IngestBatch b = MakeBatch("agent-1", seq, std::move(events));
      EXPECT_TRUE((*store)->CommitGroup({&b}).ok());
    }
    if (reopen) {
      store->reset();
      store = EventStore::Open(dir.Join("db"), options);
      EXPECT_TRUE(store.ok());
    }
    Logger logger("test", 2, LogLevel::kError);
    MetricsRegistry metrics;
    CommitFollower follower(store->get(), &logger, &metrics, CommitFollowerOptions{"test", "test_lag", "lag", 1000});
    std::vector<std::string> seen;
    uint64_t done = 0;
    while (done < 15) {
      auto round = follower.ReadRound(15, 4, [&](const StoredEvent& e) {
        seen.push_back(std::to_string(e.meta.commit_index()) + ":" + e.key.event_id + ":" + e.raw_json);
      });
      EXPECT_TRUE(round.ok());
      if (!round.ok() || *round == done) break;
      done = *round;
      follower.Advance(done);
    }
    auto reads = [&](const char* source) {
      return metrics.GetCounter("orgtrail_follower_event_reads_total", "", {{"follower", "test"}, {"source", source}})->value();
    };
    from_memory = reads("memory");
    from_store = reads("store");
    return seen;
  };
  const std::vector<std::string> held = follow(16 << 20, false);
  ASSERT_EQ(held.size(), 15u);
  EXPECT_EQ(from_memory, 15u);
  EXPECT_EQ(from_store, 0u);
  EXPECT_EQ(follow(0, false), held);
  EXPECT_EQ(from_memory, 0u);
  EXPECT_EQ(from_store, 15u);
  EXPECT_EQ(follow(16 << 20, true), held) << "after a reopen nothing is held: read from the store";
  EXPECT_EQ(from_store, 15u);
  EXPECT_EQ(follow(3000, false), held) << "a window smaller than what the follower missed";
  EXPECT_GT(from_memory, 0u);
  EXPECT_GT(from_store, 0u);
  EXPECT_EQ(from_memory + from_store, 15u);
}

}  // namespace
}  // namespace orgtrail::collector
