// CollectorSender (collector/selfaudit/collector_sender.h) over a real RocksDB store and
// committer: the collector stores Insights records in the accounts and regions they are about,
// as its own signed batches on one chain; a record sent twice is stored once; a record that is
// not the collector's own kind is refused alone while the rest of its batch is stored; a
// certificate that is not a collector SVID is refused at open.
#include "collector/selfaudit/collector_sender.h"

#include <gtest/gtest.h>

#include "orgtrail/common/classify.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

std::string InsightRecord(const std::string& id, const std::string& account, const std::string& region) {
  return R"({"eventVersion":"1.08","eventTime":"2026-12-06T10:00:00Z","awsRegion":")" + region +
         R"(","eventID":")" + id + R"(","eventType":"AwsCloudTrailInsight","recipientAccountId":")" + account +
         R"(","sharedEventID":"s-1","insightDetails":{"state":"Start","eventSource":"s3.amazonaws.com",)"
         R"("eventName":"DeleteBucket","insightType":"ApiCallRateInsight"},"eventCategory":"Insight"})";
}

class CollectorSenderTest : public ::testing::Test {
 protected:
  CollectorSenderTest() : pki_(dir_.Join("pki")) {}
  void SetUp() override {
    StoreOptions options;
    options.org = "example.org";
    auto store = EventStore::Open(dir_.Join("db"), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    committer_ = std::make_unique<Committer>(store_.get(), &logger_, &metrics_);
    committer_->Start();
  }
  void TearDown() override {
    committer_.reset();
    store_.reset();
  }
  StatusOr<std::unique_ptr<CollectorSender>> Open(const TlsFiles& tls) {
    CollectorSenderOptions o;
    o.trust_domain = "example.org";
    o.cert_path = tls.cert_path;
    o.key_path = tls.key_path;
    o.policy.classifier = &classifier_;
    return CollectorSender::Open(o, store_.get(), committer_.get(), &logger_);
  }

  testutil::TempDir dir_;
  testutil::TestPki pki_;
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
  GlobalServiceClassifier classifier_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<Committer> committer_;
};

TEST_F(CollectorSenderTest, InsightsAreStoredInTheirAccountsOnceOnOneChain) {
  auto sender = Open(pki_.Collector("central"));
  ASSERT_TRUE(sender.ok()) << sender.status();
  const std::string agent = (*sender)->agent_id();
  EXPECT_EQ(agent, "spiffe://example.org/collector/central");
  auto a = (*sender)->Send("222222222222", "eu-west-1", {InsightRecord("i-1", "222222222222", "eu-west-1")});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE((*a)[0].ok()) << (*a)[0];
  auto b = (*sender)->Send("333333333333", "us-east-1", {InsightRecord("i-2", "333333333333", "us-east-1")});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE((*b)[0].ok()) << (*b)[0];
  for (const auto& [account, id] : {std::pair<std::string, std::string>{"222222222222", "i-1"}, {"333333333333", "i-2"}}) {
    auto stored = store_->GetEventByAccountAndId(account, id);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << account << " " << id;
    EXPECT_EQ((*stored)->meta.agent_id(), agent);
  }
  // Sent again (a replay after a crash): stored once.
  const uint64_t before = store_->events_stored();
  auto again = (*sender)->Send("222222222222", "eu-west-1", {InsightRecord("i-1", "222222222222", "eu-west-1")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(store_->events_stored(), before);
  // One chain: three batches, sequences 1..3.
  EXPECT_EQ(store_->GetAgentState(agent)->high_water_sequence, 3u);
  // A new sender (a restart) continues the chain in a new epoch.
  auto restarted = Open(pki_.Collector("central"));
  ASSERT_TRUE(restarted.ok());
  auto c = (*restarted)->Send("222222222222", "eu-west-1", {InsightRecord("i-3", "222222222222", "eu-west-1")});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE((*c)[0].ok());
  EXPECT_EQ(store_->GetAgentState(agent)->high_water_sequence, 4u);
}

TEST_F(CollectorSenderTest, ARecordNotTheCollectorsOwnIsRefusedAloneAndAgentCertificatesCannotOpen) {
  auto sender = Open(pki_.Collector("central"));
  ASSERT_TRUE(sender.ok()) << sender.status();
  const std::string api_call =
      R"({"eventVersion":"1.08","eventTime":"2026-12-06T10:00:00Z","awsRegion":"eu-west-1","eventID":"x-1",)"
      R"("eventType":"AwsApiCall","eventSource":"s3.amazonaws.com","eventName":"DeleteBucket",)"
      R"("recipientAccountId":"222222222222"})";
  auto mixed = (*sender)->Send("222222222222", "eu-west-1",
                               {api_call, InsightRecord("i-9", "222222222222", "eu-west-1")});
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  ASSERT_EQ(mixed->size(), 2u);
  EXPECT_FALSE((*mixed)[0].ok());
  EXPECT_NE(std::string((*mixed)[0].message()).find("reserved_event_source"), std::string::npos) << (*mixed)[0];
  EXPECT_TRUE((*mixed)[1].ok()) << (*mixed)[1];
  auto stored = store_->GetEventByAccountAndId("222222222222", "x-1");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
  // An Insights record about another account than the batch's is refused too.
  auto elsewhere = (*sender)->Send("222222222222", "eu-west-1", {InsightRecord("i-10", "333333333333", "eu-west-1")});
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_FALSE((*elsewhere)[0].ok());
  // Only a collector SVID may be the collector's sender.
  auto agent = Open(pki_.Agent("222222222222", "eu-west-1", "a1"));
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(agent.status().message()).find("collector"), std::string::npos) << agent.status();
}

}  // namespace
}  // namespace orgtrail::collector
