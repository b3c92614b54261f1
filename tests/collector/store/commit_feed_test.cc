// CommitFeed: readers of the commit order (subscriptions, alarms) wake when a
// group is durable, see every commit index in order while ingest runs
// concurrently, and stop promptly on Shutdown.
#include "collector/store/commit_feed.h"

#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "orgtrail/common/generator.h"
#include "collector/query_test_support.h"

namespace orgtrail::collector {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

std::vector<std::string> Generated(int n, uint64_t seed) {
  GeneratorOptions options;
  options.seed = seed;
  options.account_id = "444455556666";
  options.region = "eu-west-1";
  EventGenerator generator(options);
  std::vector<std::string> records;
  for (int i = 0; i < n; ++i) records.push_back(generator.NextJson());
  return records;
}

TEST(CommitFeed, WaitsTimesOutAndShutsDown) {
  querytest::QueryTestStore store;
  CommitFeed feed(store.store());
  EXPECT_EQ(feed.last(), 0u);
  auto start = steady_clock::now();
  EXPECT_EQ(feed.WaitBeyond(0, start + milliseconds(100)), 0u);
  EXPECT_GE(steady_clock::now() - start, milliseconds(90));
  store.Ingest("444455556666", "eu-west-1", Generated(10, 1));
  EXPECT_EQ(feed.WaitBeyond(0, steady_clock::now() + seconds(30)), 10u);
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(50));
    feed.Shutdown();
  });
  start = steady_clock::now();
  EXPECT_EQ(feed.WaitBeyond(10, start + seconds(60)), 10u);
  EXPECT_LT(steady_clock::now() - start, seconds(30));
  EXPECT_TRUE(feed.shut_down());
  stopper.join();
}

TEST(CommitFeed, AReaderFollowingTheCommitOrderSeesEveryEventOnce) {
  querytest::QueryTestStore store;
  CommitFeed feed(store.store());
  std::vector<std::string> records = Generated(3000, 2);
  std::set<std::string> expected;
  EventExtractor extractor;
  for (const auto& r : records) {
    v1::Event e;
    ASSERT_TRUE(extractor.Extract(r, &e).ok());
    expected.insert(e.event_id());
  }
  std::vector<std::string> seen;
  std::atomic<bool> writer_done{false};
  std::thread reader([&] {
    uint64_t cursor = 0;
    while (seen.size() < expected.size()) {
      uint64_t last = feed.WaitBeyond(cursor, steady_clock::now() + milliseconds(200));
      if (last == cursor && writer_done && feed.last() == cursor) break;
      for (auto it = store.store()->NewCommitIterator(cursor + 1); it->Valid() && it->commit_index() <= last; it->Next()) {
        EXPECT_EQ(it->commit_index(), cursor + 1);  // dense, in order
        auto event = store.store()->GetEventByKey(it->event_key());
        ASSERT_TRUE(event.ok() && event->has_value());
        seen.push_back((*event)->key.event_id);
        cursor = it->commit_index();
      }
    }
  });
  store.Ingest("444455556666", "eu-west-1", records, 100);  // 30 groups while the reader runs
  writer_done = true;
  reader.join();
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
}

TEST(CommitFeed, OutlivedByTheStore) {
  querytest::QueryTestStore store;
  { CommitFeed feed(store.store()); }
  store.Ingest("444455556666", "eu-west-1", Generated(5, 3));  // the listener of a destroyed feed is inert
  CommitFeed later(store.store());
  EXPECT_EQ(later.last(), 5u);
}

}  // namespace
}  // namespace orgtrail::collector
