// SelfAuditor (collector/selfaudit/self_auditor.h) over a real RocksDB store and committer, with
// certificates from a test CA: records are stored as the collector's signed batches, found by
// eventID and by the EventSource index, the chain continues across restarts, concurrent calls
// all land once, a certificate that is not a collector SVID is refused at open, and a failed
// store answers every waiting call with the failure instead of OK.
#include "collector/selfaudit/self_auditor.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "faultenv/sync_fault_fs.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/identity.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

class SelfAuditorTest : public ::testing::Test {
 protected:
  SelfAuditorTest() : pki_(dir_.Join("pki")) {}

  void OpenStore(rocksdb::Env* env = nullptr) {
    StoreOptions options;
    options.org = "example.org";
    options.env = env;
    auto store = EventStore::Open(dir_.Join("db"), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    committer_ = std::make_unique<Committer>(store_.get(), &logger_, &metrics_);
    committer_->Start();
  }
  void CloseStore() {
    committer_.reset();
    store_.reset();
  }
  SelfAuditOptions Options(const TlsFiles& tls) {
    SelfAuditOptions o;
    o.trust_domain = "example.org";
    o.cert_path = tls.cert_path;
    o.key_path = tls.key_path;
    o.record = {"123456789012", "us-east-1", "central"};
    o.policy.classifier = &classifier_;
    return o;
  }
  std::unique_ptr<SelfAuditor> Open() {
    auto auditor = SelfAuditor::Open(Options(pki_.Collector("central")), store_.get(), committer_.get(), &logger_,
                                     &metrics_);
    EXPECT_TRUE(auditor.ok()) << auditor.status();
    if (!auditor.ok()) return nullptr;
    (*auditor)->Start();
    return std::move(*auditor);
  }
  static AuditedCall Call(const std::string& who, const std::string& request) {
    AuditedCall call;
    call.grpc_method = "/orgtrail.v1.Query/LookupEvents";
    call.event_name = "LookupEvents";
    call.time_us = 1'780'000'000'000'000;
    call.caller_spiffe_id = "spiffe://example.org/auditor/" + who;
    call.caller_role = "auditor";
    call.caller_name = who;
    call.request_json = request;
    return call;
  }
  // Events of the EventSource index for "orgtrail".
  std::vector<std::string> SelfAuditRecords() {
    std::vector<std::string> out;
    auto it = store_->NewIndexIterator(IndexKind::kEventSource, "orgtrail", 0, INT64_MAX);
    for (; it->Valid(); it->Next()) {
      auto event = store_->GetEventByKey(it->entry().event_key);
      if (event.ok() && event->has_value()) out.push_back((*event)->raw_json);
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
};

TEST_F(SelfAuditorTest, RecordIsStoredAsTheCollectorsSignedBatchBeforeItReturns) {
  OpenStore();
  auto auditor = Open();
  ASSERT_NE(auditor, nullptr);
  EXPECT_EQ(auditor->agent_id(), "spiffe://example.org/collector/central");
  ASSERT_TRUE(auditor->Record(Call("alice", R"({"maxResults":5})")).ok());
  // Durable and indexed when Record returns: no wait.
  std::vector<std::string> records = SelfAuditRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].find("\"userName\":\"alice\""), std::string::npos) << records[0];
  std::optional<AgentState> state = store_->GetAgentState("spiffe://example.org/collector/central");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->high_water_sequence, 1u);
  EXPECT_EQ(state->account_id, "123456789012");
  auto provenance = store_->GetProvenance(state->agent_id, 1);
  ASSERT_TRUE(provenance.ok() && provenance->has_value());
  // The batch header verifies with the collector certificate's key.
  auto pem = store_->GetCertificatePem((*provenance)->certificate_sha256);
  ASSERT_TRUE(pem.ok() && pem->has_value());
  EXPECT_TRUE(VerifyCertificateChain(**pem, pki_.ca().cert_pem).ok());
  auto verifier = Verifier::FromCertificatePem(**pem);
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRUE((*verifier)->Verify((*provenance)->signed_header, (*provenance)->signature,
                                  (*provenance)->signature_algorithm).ok());
  EXPECT_EQ(metrics_.GetCounter("orgtrail_collector_self_audit_records_total", "", {{"outcome", "stored"}})->value(),
            1u);
}

TEST_F(SelfAuditorTest, ChainContinuesAcrossRestartsWithANewEpoch) {
  OpenStore();
  {
    auto auditor = Open();
    ASSERT_TRUE(auditor->Record(Call("alice", "{}")).ok());
    ASSERT_TRUE(auditor->Record(Call("bob", "{}")).ok());
    auditor->Stop();
  }
  const AgentState first = *store_->GetAgentState("spiffe://example.org/collector/central");
  CloseStore();
  OpenStore();
  auto auditor = Open();
  ASSERT_TRUE(auditor->Record(Call("carol", "{}")).ok());
  const AgentState second = *store_->GetAgentState("spiffe://example.org/collector/central");
  EXPECT_EQ(second.high_water_sequence, first.high_water_sequence + 1);
  EXPECT_EQ(second.epoch, first.epoch + 1);
  auto provenance = store_->GetProvenance(second.agent_id, second.high_water_sequence);
  ASSERT_TRUE(provenance.ok() && provenance->has_value());
  auto header = ParseCanonicalBatchHeader((*provenance)->signed_header);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->prev_batch_hash, first.last_batch_hash) << "the new batch chains to the last stored one";
  EXPECT_EQ(SelfAuditRecords().size(), 3u);
}

TEST_F(SelfAuditorTest, ConcurrentCallsAreEachStoredOnce) {
  OpenStore();
  auto auditor = Open();
  constexpr int kThreads = 8, kCalls = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        if (auditor->Record(Call("u" + std::to_string(t), "{\"i\":" + std::to_string(i) + "}")).ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kCalls);
  std::vector<std::string> records = SelfAuditRecords();
  EXPECT_EQ(records.size(), static_cast<size_t>(kThreads * kCalls));
  EXPECT_EQ(std::set<std::string>(records.begin(), records.end()).size(), records.size());
  // Calls that arrived together shared batches.
  EXPECT_LE(store_->GetAgentState(auditor->agent_id())->high_water_sequence, static_cast<uint64_t>(kThreads * kCalls));
}

TEST_F(SelfAuditorTest, CertificateThatIsNotACollectorSvidIsRefusedAtOpen) {
  OpenStore();
  auto auditor = SelfAuditor::Open(Options(pki_.Auditor("mallory")), store_.get(), committer_.get(), &logger_,
                                   &metrics_);
  ASSERT_FALSE(auditor.ok());
  EXPECT_NE(auditor.status().message().find("not spiffe://example.org/collector/<name>"), std::string::npos)
      << auditor.status();
  SelfAuditOptions missing = Options(pki_.Collector("central"));
  missing.key_path = dir_.Join("no-such.key");
  EXPECT_FALSE(SelfAuditor::Open(missing, store_.get(), committer_.get(), &logger_, &metrics_).ok());
}

TEST_F(SelfAuditorTest, StoppedAuditorAndFailedStoreAnswerWithTheFailureNotOk) {
  faultenv::SyncFaultState faults;
  auto env = faultenv::NewSyncFaultEnv(&faults);
  OpenStore(env.get());
  auto auditor = Open();
  ASSERT_TRUE(auditor->Record(Call("alice", "{}")).ok());
  faults.syncs_seen.store(0);
  faults.syncs_before_failure.store(0);
  Status failed = auditor->Record(Call("bob", "{}"));
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("fail-stop"), std::string::npos) << failed;
  faults.syncs_before_failure.store(-1);
  EXPECT_FALSE(auditor->Record(Call("carol", "{}")).ok()) << "fail-stop is final";
  auditor->Stop();
  Status stopped = auditor->Record(Call("dave", "{}"));
  EXPECT_EQ(stopped.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(metrics_.GetCounter("orgtrail_collector_self_audit_records_total", "", {{"outcome", "failed"}})->value(),
            3u);
  committer_.reset();  // before the env
  store_.reset();
}

TEST_F(SelfAuditorTest, AgentsMayNotSendTheSelfAuditSourceAndTheCollectorOnlyItsOwnRecords) {
  AcceptanceRules rules;
  rules.account_id = "123456789012";
  rules.region = "us-east-1";
  rules.classifier = std::make_shared<GlobalServiceClassifier>();
  v1::Event event;
  event.set_event_id("e1");
  event.set_recipient_account_id("123456789012");
  event.set_aws_region("us-east-1");
  event.set_event_source("orgtrail");
  auto rejection = CheckEventAcceptance(event, rules);
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->rule, "reserved_event_source");
  EXPECT_TRUE(rejection->identity_violation);
  rules.sender_is_collector = true;
  EXPECT_FALSE(CheckEventAcceptance(event, rules).has_value());
  event.set_event_source("s3.amazonaws.com");
  rejection = CheckEventAcceptance(event, rules);
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->rule, "reserved_event_source");
  // The collector also stores the Insights records it computes (collector/insights/) ...
  event.set_event_source("");
  event.set_event_type("AwsCloudTrailInsight");
  EXPECT_FALSE(CheckEventAcceptance(event, rules).has_value());
  // ... and agents may send Insights records too (CloudTrail-delivered files replayed).
  rules.sender_is_collector = false;
  EXPECT_FALSE(CheckEventAcceptance(event, rules).has_value());
  // The collector may not send an agent's kind of record dressed with another type.
  rules.sender_is_collector = true;
  event.set_event_type("AwsApiCall");
  event.set_event_source("iam.amazonaws.com");
  rejection = CheckEventAcceptance(event, rules);
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->rule, "reserved_event_source");
  EXPECT_NE(rejection->message.find("Insights"), std::string::npos) << rejection->message;
}

}  // namespace
}  // namespace orgtrail::collector
