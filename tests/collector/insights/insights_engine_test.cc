// InsightsEngine over a real RocksDB store, committer and the collector's sender: a burst of
// DeleteBucket after an hour of steady calls becomes a Start and an End Insights record stored in
// the account and region they are about, as the collector's records; the detector's state
// survives an engine restart mid-baseline (without it the restarted engine would have no history
// and report nothing); a replay from an older cursor stores nothing twice.
#include "collector/insights/insights_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/time_util.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

constexpr int64_t kMinute = 60LL * 1000 * 1000;
constexpr int64_t kT0 = 1780000000LL * 1000 * 1000;  // 40 s into a minute: batches span minutes

class InsightsEngineTest : public ::testing::Test {
 protected:
  InsightsEngineTest() : pki_(dir_.Join("pki")) {}
  void SetUp() override {
    StoreOptions options;
    options.org = "example.org";
    auto store = EventStore::Open(dir_.Join("db"), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    committer_ = std::make_unique<Committer>(store_.get(), &logger_, &metrics_);
    committer_->Start();
    CollectorSenderOptions o;
    o.trust_domain = "example.org";
    const TlsFiles tls = pki_.Collector("central");
    o.cert_path = tls.cert_path;
    o.key_path = tls.key_path;
    o.policy.classifier = &classifier_;
    auto sender = CollectorSender::Open(o, store_.get(), committer_.get(), &logger_);
    ASSERT_TRUE(sender.ok()) << sender.status();
    sender_ = std::move(*sender);
  }
  void TearDown() override {
    sender_.reset();
    committer_.reset();
    store_.reset();
  }
  std::unique_ptr<InsightsEngine> StartEngine(std::function<InsightTypes()> types = nullptr) {
    InsightsEngineOptions o;
    o.detector.baseline_minutes = 60;
    o.detector.min_history_minutes = 60;
    o.types = std::move(types);
    auto engine = std::make_unique<InsightsEngine>(store_.get(), sender_.get(), &logger_, &metrics_, o);
    EXPECT_TRUE(engine->Start().ok());
    return engine;
  }
  // `per_minute[m]` DeleteBucket calls in minute `first + m`, one batch per minute, as an agent.
  void Calls(int first, const std::vector<int>& per_minute) {
    EventExtractor extractor;
    for (size_t m = 0; m < per_minute.size(); ++m) {
      IngestBatch b;
      b.agent_id = "spiffe://example.org/account/111111111111/region/us-east-1/agent/a1";
      b.account_id = "111111111111";
      b.region = "us-east-1";
      b.sequence = ++sequence_;
      for (int i = 0; i < per_minute[m]; ++i) {
        testutil::SyntheticEvent spec;
        spec.event_id = "c-" + std::to_string(++events_);
        spec.event_source = "s3.amazonaws.com";
        spec.event_name = "DeleteBucket";
        spec.read_only = false;
        spec.event_time_us = kT0 + (first + static_cast<int64_t>(m)) * kMinute + i * 1000000LL;
        IngestEvent e;
        ASSERT_TRUE(extractor.Extract(testutil::SyntheticEventJson(spec), &e.event).ok());
        e.partition_region = "us-east-1";
        e.leaf_index = static_cast<uint32_t>(b.events.size());
        b.events.push_back(std::move(e));
      }
      if (!b.events.empty()) {
        // Through the committer, the store's one writer (the engine's sender writes through it too).
        auto batch = std::make_unique<IngestBatch>(std::move(b));
        std::promise<Status> committed;
        committer_->Submit(std::move(batch), [&committed](const Status& status, const BatchOutcome&) {
          committed.set_value(status);
        });
        ASSERT_TRUE(committed.get_future().get().ok());
      }
    }
  }
  void WaitCaughtUp(InsightsEngine* engine) {
    ASSERT_TRUE(testutil::WaitFor([&] { return engine->cursor() >= last_agent_commit(); }, std::chrono::seconds(30)))
        << engine->cursor() << " of " << store_->last_commit_index() << " " << engine->failure();
  }
  uint64_t last_agent_commit() { return store_->last_commit_index(); }
  // The stored Insights records (raw JSON).
  std::vector<std::string> Insights() {
    std::vector<std::string> out;
    auto it = store_->NewIndexIterator(IndexKind::kAll, "", 0, INT64_MAX);
    for (; it->Valid(); it->Next()) {
      auto event = store_->GetEventByKey(it->entry().event_key);
      if (event.ok() && event->has_value() && (*event)->raw_json.find("AwsCloudTrailInsight") != std::string::npos) {
        out.push_back((*event)->raw_json);
      }
    }
    return out;
  }

  testutil::TempDir dir_;
  testutil::TestPki pki_;
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
  GlobalServiceClassifier classifier_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<CollectorSender> sender_;
  uint64_t sequence_ = 0;
  int events_ = 0;
};

TEST_F(InsightsEngineTest, ABurstIsOneStoredInsightAcrossARestartAndAReplayStoresNothingTwice) {
  auto engine = StartEngine();
  Calls(0, std::vector<int>(40, 2));
  WaitCaughtUp(engine.get());
  engine->Stop();
  engine = StartEngine();  // the state of the first 40 minutes comes from the store
  Calls(40, std::vector<int>(30, 2));
  Calls(70, {40, 40, 40});
  Calls(73, std::vector<int>(5, 2));
  WaitCaughtUp(engine.get());
  ASSERT_TRUE(testutil::WaitFor([&] { return Insights().size() >= 2; }, std::chrono::seconds(10)))
      << engine->failure();
  std::vector<std::string> insights = Insights();
  ASSERT_EQ(insights.size(), 2u);
  if (insights[0].find("\"state\":\"End\"") != std::string::npos) std::swap(insights[0], insights[1]);
  EXPECT_NE(insights[0].find("\"state\":\"Start\""), std::string::npos) << insights[0];
  EXPECT_NE(insights[1].find("\"state\":\"End\""), std::string::npos) << insights[1];
  for (const std::string& record : insights) {
    EXPECT_NE(record.find("\"recipientAccountId\":\"111111111111\""), std::string::npos) << record;
    EXPECT_NE(record.find("\"eventName\":\"DeleteBucket\""), std::string::npos) << record;
    EXPECT_NE(record.find("\"insightType\":\"ApiCallRateInsight\""), std::string::npos) << record;
  }
  // 20, 40, 40 and 22 calls in the four real minutes the burst's batches span.
  EXPECT_NE(insights[1].find("\"insightDuration\":4"), std::string::npos) << insights[1];
  EXPECT_NE(insights[1].find("\"insight\":{\"average\":30.5}"), std::string::npos) << insights[1];
  EXPECT_EQ(engine->failure(), "");
  const uint64_t stored = store_->events_stored();

  // A crash before the cursor write: the engine starts again from an older cursor and state and
  // sends the same records again; the store keeps one of each.
  engine->Stop();
  engine.reset();
  auto cursor = store_->GetMetadata("insights/cursor");
  ASSERT_TRUE(cursor.ok() && cursor->has_value());
  // Forget everything the engine did: the state of a fresh engine at commit 0.
  std::vector<EventStore::MetadataEntry> forget = {{"insights/cursor", std::string(8, '\0')}};
  auto state = store_->ScanMetadata("insights/");
  ASSERT_TRUE(state.ok());
  for (const auto& [key, value] : *state) {
    if (key != "insights/cursor") forget.emplace_back(key, std::nullopt);
  }
  ASSERT_GT(forget.size(), 2u) << "the detector's state is stored beside the cursor";
  ASSERT_TRUE(store_->WriteMetadata(forget).ok());
  engine = StartEngine();
  WaitCaughtUp(engine.get());
  EXPECT_EQ(Insights().size(), 2u);
  EXPECT_EQ(store_->events_stored(), stored);
  EXPECT_EQ(engine->failure(), "");
}

TEST_F(InsightsEngineTest, ASteadyWorkloadStoresNoInsight) {
  auto engine = StartEngine();
  std::vector<int> steady;
  for (int m = 0; m < 180; ++m) steady.push_back(2 + m % 3);
  Calls(0, steady);
  WaitCaughtUp(engine.get());
  EXPECT_TRUE(Insights().empty());
  EXPECT_EQ(engine->failure(), "");
}

// No trail asks for Insights: the engine passes over the stored events unread and writes nothing
// (not even its cursor); asked, it counts from there on.
TEST_F(InsightsEngineTest, WithoutInsightSelectorsNothingIsReadOrWrittenAndTurningThemOnCountsFromThere) {
  std::atomic<bool> on{false};
  auto engine = StartEngine([&on] { return InsightTypes{on.load(), false}; });
  auto cursor_written = [&] { return *store_->GetMetadata("insights/cursor"); };
  const auto first_cursor = cursor_written();
  std::vector<int> minutes(70, 2);
  minutes[65] = minutes[66] = 40;  // a burst nobody asked about
  Calls(0, minutes);
  WaitCaughtUp(engine.get());
  EXPECT_EQ(cursor_written(), first_cursor) << "no synced write while Insights are off";
  EXPECT_TRUE(Insights().empty());

  on = true;  // put-insight-selectors ApiCallRateInsight: history starts now, so warm-up first
  std::vector<int> later(70, 2);
  later[62] = later[63] = 40;
  Calls(70, later);
  WaitCaughtUp(engine.get());
  ASSERT_TRUE(testutil::WaitFor([&] { return Insights().size() >= 2; }, std::chrono::seconds(10))) << engine->failure();
  EXPECT_EQ(Insights().size(), 2u);
  for (const std::string& record : Insights()) {  // the second burst's, not the first's
    const size_t at = record.find("\"eventTime\":\"");
    ASSERT_NE(at, std::string::npos) << record;
    auto time = ParseRfc3339Micros(record.substr(at + 13, 20));
    ASSERT_TRUE(time.ok()) << record;
    EXPECT_GE(*time, kT0 + 130 * kMinute) << record;
  }
  EXPECT_NE(cursor_written(), first_cursor);
}

TEST(InsightTypesOfTest, UnionOfTheLoggingTrailsSelectors) {
  v1::TrailConfig config;
  v1::Trail* logging = config.add_trails();
  logging->set_is_logging(true);
  logging->add_insight_selectors()->set_insight_type("ApiErrorRateInsight");
  v1::Trail* stopped = config.add_trails();
  stopped->set_is_logging(false);
  stopped->add_insight_selectors()->set_insight_type("ApiCallRateInsight");
  InsightTypes types = InsightTypesOf(config);
  EXPECT_TRUE(types.api_error_rate);
  EXPECT_FALSE(types.api_call_rate) << "a trail that is not logging asks for nothing";
  stopped->set_is_logging(true);
  EXPECT_TRUE(InsightTypesOf(config).api_call_rate);
  EXPECT_FALSE(InsightTypesOf(v1::TrailConfig()).any());
}

}  // namespace
}  // namespace orgtrail::collector
