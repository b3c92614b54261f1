// StreamRegistry: caps (per identity and in all, Hello'd or not), one live
// stream per identity with epoch fencing (equal epochs fence, lower refused),
// and the Hello and idle deadlines of the watchdog.
#include "collector/ingest/stream_registry.h"

#include <gtest/gtest.h>

#include <atomic>

#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

class FakeCloser : public StreamCloser {
 public:
  bool FenceAndDrain(int64_t) override {
    ++fenced;
    return true;
  }
  void Close(const StreamClose& why) override {
    std::lock_guard<std::mutex> lock(mu);
    rule = why.rule;
    message = why.message;
    ++closed;
  }
  std::string Rule() {
    std::lock_guard<std::mutex> lock(mu);
    return rule;
  }
  std::atomic<int> fenced{0};
  std::atomic<int> closed{0};
  std::mutex mu;
  std::string rule;
  std::string message;
};

class StreamRegistryTest : public ::testing::Test {
 protected:
  std::shared_ptr<AdmittedStream> Admit(StreamRegistry& r, const std::string& id, const std::string& peer = "p") {
    std::string rule;
    auto s = r.Admit(id, peer, nullptr, &rule);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : nullptr;
  }
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
};

TEST_F(StreamRegistryTest, CapsCountStreamsWithoutHello) {
  StreamLimits limits;
  limits.max_streams = 3;
  limits.max_streams_per_identity = 2;
  StreamRegistry r(limits, &logger_, &metrics_);
  auto a1 = Admit(r, "a");
  auto a2 = Admit(r, "a");
  std::string rule;
  auto a3 = r.Admit("a", "p", nullptr, &rule);
  EXPECT_EQ(a3.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(rule, "stream_cap_identity");
  auto b1 = Admit(r, "b");
  auto b2 = r.Admit("b", "p", nullptr, &rule);
  EXPECT_EQ(b2.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(rule, "stream_cap_total");
  r.Release(a1);
  EXPECT_TRUE(r.Admit("b", "p", nullptr, &rule).ok());
  EXPECT_EQ(r.open_streams(), 3u);
}

TEST_F(StreamRegistryTest, NewerOrEqualEpochFencesOlderIsRefused) {
  StreamRegistry r(StreamLimits{}, &logger_, &metrics_);
  auto old_stream = Admit(r, "a", "10.0.0.1:1");
  auto old_closer = std::make_shared<FakeCloser>();
  old_stream->SetCloser(old_closer);
  ASSERT_TRUE(r.Activate(old_stream, 5).ok());

  auto stale = Admit(r, "a", "10.0.0.2:2");
  Status refused = r.Activate(stale, 4);
  EXPECT_EQ(refused.code(), absl::StatusCode::kAborted);
  EXPECT_NE(refused.message().find("stale_epoch"), std::string::npos) << refused;
  EXPECT_EQ(old_closer->closed.load(), 0);
  r.Release(stale);

  auto same = Admit(r, "a", "10.0.0.3:3");
  auto same_closer = std::make_shared<FakeCloser>();
  same->SetCloser(same_closer);
  ASSERT_TRUE(r.Activate(same, 5).ok());  // equal epoch: the newer connection wins
  EXPECT_EQ(old_closer->fenced.load(), 1);
  EXPECT_EQ(old_closer->closed.load(), 1);
  EXPECT_EQ(old_closer->Rule(), "fenced");
  EXPECT_NE(old_closer->message.find("10.0.0.3:3"), std::string::npos) << old_closer->message;
  EXPECT_EQ(old_stream->closed_by_registry()->rule, "fenced");
  EXPECT_NE(metrics_.RenderPrometheus().find("orgtrail_collector_ingest_streams_fenced_total 1"), std::string::npos);

  // Another identity is independent.
  auto other = Admit(r, "b");
  EXPECT_TRUE(r.Activate(other, 1).ok());
  EXPECT_EQ(same_closer->closed.load(), 0);
}

TEST_F(StreamRegistryTest, HelloAndIdleDeadlines) {
  StreamLimits limits;
  limits.hello_timeout_us = 50'000;
  limits.idle_timeout_us = 150'000;
  limits.watchdog_period_us = 10'000;
  StreamRegistry r(limits, &logger_, &metrics_);
  r.Start();
  auto silent = Admit(r, "a");
  ASSERT_TRUE(testutil::WaitFor([&] { return silent->closed_by_registry().has_value(); }, std::chrono::seconds(30)));
  EXPECT_EQ(silent->closed_by_registry()->rule, "hello_timeout");

  auto busy = Admit(r, "b");
  auto closer = std::make_shared<FakeCloser>();
  busy->SetCloser(closer);
  ASSERT_TRUE(r.Activate(busy, 1).ok());
  busy->AddInFlight(1);  // a batch in flight: never idle
  auto idle = Admit(r, "c");
  auto idle_closer = std::make_shared<FakeCloser>();
  idle->SetCloser(idle_closer);
  ASSERT_TRUE(r.Activate(idle, 1).ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return idle_closer->closed.load() == 1; }, std::chrono::seconds(30)));
  EXPECT_EQ(idle_closer->Rule(), "idle_timeout");
  EXPECT_EQ(closer->closed.load(), 0);  // in flight the whole time (idle closed long after its deadline)
  busy->AddInFlight(-1);
  ASSERT_TRUE(testutil::WaitFor([&] { return closer->closed.load() == 1; }, std::chrono::seconds(30)));
  r.Stop();
}

}  // namespace
}  // namespace orgtrail::collector
