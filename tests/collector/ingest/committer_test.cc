// Committer: concurrent submitters are coalesced into group commits, every
// batch gets exactly one callback, and a failed fsync (fault-injecting Env)
// puts it into fail-stop: no success is ever reported after the failure.
#include "collector/ingest/committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "faultenv/sync_fault_fs.h"
#include "orgtrail/common/event_extractor.h"
#include "testutil/ingest_client.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

std::unique_ptr<IngestBatch> Batch(const std::string& agent, uint64_t seq, int events) {
  auto b = std::make_unique<IngestBatch>();
  b->agent_id = agent;
  b->account_id = "111111111111";
  b->region = "us-east-1";
  b->sequence = seq;
  EventExtractor extractor;
  for (int i = 0; i < events; ++i) {
    testutil::SyntheticEvent spec;
    spec.event_id = agent + "-" + std::to_string(seq) + "-" + std::to_string(i);
    IngestEvent e;
    EXPECT_TRUE(extractor.Extract(testutil::SyntheticEventJson(spec), &e.event).ok());
    e.partition_region = "us-east-1";
    e.leaf_index = i;
    b->events.push_back(std::move(e));
  }
  return b;
}

struct Tally {
  std::mutex mu;
  std::condition_variable cv;
  int ok = 0;
  int failed = 0;
  std::vector<uint64_t> acks;
  void Done(const Status& s, const BatchOutcome& o) {
    std::lock_guard<std::mutex> lock(mu);
    if (s.ok()) {
      ++ok;
      acks.push_back(o.ack_sequence);
    } else {
      ++failed;
    }
    cv.notify_all();
  }
  bool WaitTotal(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(60), [&] { return ok + failed >= n; });
  }
};

TEST(CommitterTest, ConcurrentStreamsShareGroupCommitsAndAllGetAcked) {
  testutil::TempDir dir;
  StoreOptions options;
  options.org = "example.org";
  auto store = EventStore::Open(dir.Join("db"), options);
  ASSERT_TRUE(store.ok());
  Logger logger("test", 2, LogLevel::kWarn);
  MetricsRegistry metrics;
  Committer committer(store->get(), &logger, &metrics);
  committer.Start();
  Tally tally;
  constexpr int kThreads = 8, kBatches = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int s = 1; s <= kBatches; ++s) {
        committer.Submit(Batch("agent-" + std::to_string(t), s, 4),
                         [&](const Status& st, const BatchOutcome& o) { tally.Done(st, o); });
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(tally.WaitTotal(kThreads * kBatches));
  EXPECT_EQ(tally.ok, kThreads * kBatches);
  EXPECT_EQ((*store)->events_stored(), static_cast<uint64_t>(kThreads * kBatches * 4));
  Histogram* groups = metrics.GetHistogram("orgtrail_collector_group_commit_batches", "");
  // Fewer synced writes than batches: submissions were coalesced.
  EXPECT_LT(groups->count(), static_cast<uint64_t>(kThreads * kBatches));
  EXPECT_EQ(groups->sum(), kThreads * kBatches);
  EXPECT_FALSE(committer.failed());
}

TEST(CommitterTest, FailedFsyncIsFailStopAndNothingIsAckedAfterwards) {
  testutil::TempDir dir;
  faultenv::SyncFaultState faults;
  auto env = faultenv::NewSyncFaultEnv(&faults);
  StoreOptions options;
  options.org = "example.org";
  options.env = env.get();
  auto store = EventStore::Open(dir.Join("db"), options);
  ASSERT_TRUE(store.ok()) << store.status();
  Logger logger("test", 2, LogLevel::kError);
  MetricsRegistry metrics;
  Committer committer(store->get(), &logger, &metrics);
  committer.Start();
  faults.syncs_seen.store(0);
  faults.syncs_before_failure.store(3);
  Tally tally;
  int submitted = 0;
  for (int s = 1; s <= 10; ++s) {
    committer.Submit(Batch("agent", s, 2), [&](const Status& st, const BatchOutcome& o) { tally.Done(st, o); });
    ++submitted;
    ASSERT_TRUE(tally.WaitTotal(submitted));  // one at a time: one sync per batch
  }
  EXPECT_EQ(tally.ok, 3);
  EXPECT_EQ(tally.failed, 7);
  EXPECT_EQ(tally.acks, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(committer.failed());
  EXPECT_NE(committer.failure_reason().find("synced write failed"), std::string::npos);
  EXPECT_GE(faults.failures_injected.load(), 1);
  EXPECT_EQ(metrics.GetGauge("orgtrail_collector_fail_stop", "")->value(), 1);
  // Even with syncs working again nothing is acknowledged any more.
  faults.syncs_before_failure.store(-1);
  committer.Submit(Batch("agent", 11, 1), [&](const Status& st, const BatchOutcome& o) { tally.Done(st, o); });
  ASSERT_TRUE(tally.WaitTotal(11));
  EXPECT_EQ(tally.ok, 3);
}

TEST(CommitterTest, StoppedCommitterRefusesInsteadOfDropping) {
  testutil::TempDir dir;
  StoreOptions options;
  options.org = "example.org";
  auto store = EventStore::Open(dir.Join("db"), options);
  ASSERT_TRUE(store.ok());
  Logger logger("test", 2, LogLevel::kError);
  MetricsRegistry metrics;
  Committer committer(store->get(), &logger, &metrics);
  Tally tally;
  committer.Submit(Batch("agent", 1, 1), [&](const Status& st, const BatchOutcome& o) { tally.Done(st, o); });
  ASSERT_TRUE(tally.WaitTotal(1));
  EXPECT_EQ(tally.failed, 1);
}

}  // namespace
}  // namespace orgtrail::collector
