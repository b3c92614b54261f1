// BatchValidator with real certificates and signatures (common/pki.h,
// common/batch.h): every batch rule refuses the whole batch naming the rule;
// every event rule refuses that event alone (its neighbours are kept); hostile
// bytes never crash it.
#include "collector/ingest/batch_validator.h"

#include <gtest/gtest.h>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "testutil/ingest_client.h"

namespace orgtrail::collector {
namespace {

constexpr char kAgentId[] = "spiffe://example.org/account/111111111111/region/eu-west-1/agent/a1";

class BatchValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CaOptions ca_options;
    ca_options.trust_domain = "example.org";
    auto ca = CreateCa(ca_options);
    ASSERT_TRUE(ca.ok());
    CertOptions cert_options;
    cert_options.uri_sans = {kAgentId};
    auto cert = IssueCertificate(*ca, cert_options);
    ASSERT_TRUE(cert.ok());
    cert_options.uri_sans = {"spiffe://example.org/account/111111111111/region/eu-west-1/agent/other"};
    auto other = IssueCertificate(*ca, cert_options);
    ASSERT_TRUE(other.ok());
    auto signer = Signer::FromPrivateKeyPem(cert->key_pem);
    auto other_signer = Signer::FromPrivateKeyPem(other->key_pem);
    ASSERT_TRUE(signer.ok() && other_signer.ok());
    signer_ = std::move(*signer);
    other_signer_ = std::move(*other_signer);
    auto identity = IdentityFromCertificatePem(cert->cert_pem, "example.org");
    ASSERT_TRUE(identity.ok()) << identity.status();
    auto peer = MakePeerCredentials(*identity, cert->cert_pem);
    ASSERT_TRUE(peer.ok()) << peer.status();
    policy_.classifier = &classifier_;
    policy_.allowed_regions = {"sagov-westsouth-1r"};
    policy_.max_events_per_batch = 10;
    policy_.max_event_bytes = 8192;
    policy_.max_batch_bytes = 64 * 1024;
    validator_ = std::make_unique<BatchValidator>(policy_, std::move(*peer));
  }

  static std::string Event(const std::string& id, const std::string& region = "eu-west-1",
                           const std::string& source = "ec2.amazonaws.com",
                           const std::string& account = "111111111111") {
    testutil::SyntheticEvent e;
    e.event_id = id;
    e.region = region;
    e.event_source = source;
    e.account_id = account;
    return testutil::SyntheticEventJson(e);
  }
  v1::Batch Sealed(const std::vector<std::string>& events, uint64_t seq = 1) {
    v1::Batch batch;
    batch.set_agent_id(kAgentId);
    batch.set_epoch(1);
    batch.set_sequence(seq);
    batch.set_prev_batch_hash(std::string(32, '\0'));
    batch.set_created_time_us(1700000000000000);
    for (const auto& e : events) batch.add_events()->set_raw_json(e);
    EXPECT_TRUE(SealBatch(*signer_, &batch).ok());
    return batch;
  }
  // The batch passes; returns what was refused one by one (and checks the rest is kept).
  std::vector<RefusedEvent> EventsRefused(const v1::Batch& batch) {
    IngestBatch out;
    IngestRefusal refusal;
    EXPECT_TRUE(validator_->Validate(batch, 1, &out, &refusal)) << refusal.rule << ": " << refusal.message;
    EXPECT_EQ(out.events.size() + out.refused.size(), static_cast<size_t>(batch.events_size()));
    for (const RefusedEvent& r : out.refused) {
      EXPECT_FALSE(r.message.empty());
      EXPECT_EQ(r.raw_json, batch.events(static_cast<int>(r.leaf_index)).raw_json());
    }
    return out.refused;
  }
  RefusedEvent OneRefused(const v1::Batch& batch) {
    std::vector<RefusedEvent> refused = EventsRefused(batch);
    EXPECT_EQ(refused.size(), 1u);
    return refused.empty() ? RefusedEvent() : refused[0];
  }
  IngestRefusal Refused(const v1::Batch& batch) {
    IngestBatch out;
    IngestRefusal refusal;
    EXPECT_FALSE(validator_->Validate(batch, 1, &out, &refusal));
    EXPECT_FALSE(refusal.message.empty());
    return refusal;
  }

  GlobalServiceClassifier classifier_;
  IngestPolicy policy_;
  std::unique_ptr<Signer> signer_;
  std::unique_ptr<Signer> other_signer_;
  std::unique_ptr<BatchValidator> validator_;
};

TEST_F(BatchValidatorTest, ValidBatchIsReExtractedAndHomed) {
  v1::Batch batch = Sealed({Event("ok-1"), Event("ok-iam", "us-east-1", "iam.amazonaws.com")});
  // Wire fields are never trusted: lie in them.
  batch.mutable_events(0)->set_event_id("forged");
  batch.mutable_events(0)->set_recipient_account_id("999999999999");
  IngestBatch out;
  IngestRefusal refusal;
  ASSERT_TRUE(validator_->Validate(batch, 42, &out, &refusal)) << refusal.rule << ": " << refusal.message;
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].event.event_id(), "ok-1");
  EXPECT_EQ(out.events[0].partition_region, "eu-west-1");
  EXPECT_EQ(out.events[1].partition_region, "us-east-1");  // global service -> home region
  EXPECT_EQ(out.events[1].leaf_index, 1u);
  EXPECT_EQ(out.account_id, "111111111111");
  EXPECT_EQ(out.receipt_time_us, 42);
  EXPECT_EQ(out.leaf_hashes.size(), 2u);
  EXPECT_EQ(out.batch_hash, BatchHash(*HeaderOfBatch(batch)));
}

TEST_F(BatchValidatorTest, EachEventRuleRefusesThatEventAlone) {
  v1::Batch batch = Sealed({Event("a"), Event("b", "eu-west-1", "ec2.amazonaws.com", "222222222222"), Event("c")});
  IngestBatch out;
  IngestRefusal refusal;
  ASSERT_TRUE(validator_->Validate(batch, 1, &out, &refusal));
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].event.event_id(), "a");
  EXPECT_EQ(out.events[1].event.event_id(), "c");
  EXPECT_EQ(out.events[1].leaf_index, 2u);  // leaf indexes stay those of the signed batch
  ASSERT_EQ(out.refused.size(), 1u);
  EXPECT_EQ(out.refused[0].rule, "recipient_account_mismatch");
  EXPECT_EQ(out.refused[0].leaf_index, 1u);
  EXPECT_EQ(out.refused[0].event_id, "b");
  EXPECT_TRUE(out.refused[0].identity_violation);
  EXPECT_EQ(out.leaf_hashes.size(), 3u);  // the batch's Merkle tree is whole

  RefusedEvent region = OneRefused(Sealed({Event("r", "us-west-2")}));
  EXPECT_EQ(region.rule, "region_mismatch");
  EXPECT_TRUE(region.identity_violation);
  EXPECT_EQ(region.event_id, "r");
  RefusedEvent fake = OneRefused(Sealed({Event("ok"), Event("fake", "moon-base-9z")}));
  EXPECT_EQ(fake.rule, "invalid_region");
  EXPECT_FALSE(fake.identity_violation);
  EXPECT_EQ(fake.leaf_index, 1u);
}

TEST_F(BatchValidatorTest, EachBatchRuleRefusesTheWholeBatch) {
  v1::Batch zero = Sealed({Event("z")}, 0);
  EXPECT_EQ(Refused(zero).rule, "invalid_sequence");
  std::vector<std::string> many;
  for (int i = 0; i < 11; ++i) many.push_back(Event("m" + std::to_string(i)));
  EXPECT_EQ(Refused(Sealed(many)).rule, "too_many_events");
  v1::Batch other_agent = Sealed({Event("o")});
  other_agent.set_agent_id("spiffe://example.org/account/111111111111/region/eu-west-1/agent/other");
  EXPECT_EQ(Refused(other_agent).rule, "agent_id_mismatch");
  v1::Batch resigned = Sealed({Event("s")});
  ASSERT_TRUE(SealBatch(*other_signer_, &resigned).ok());
  EXPECT_EQ(Refused(resigned).rule, "bad_signature");
  v1::Batch tampered = Sealed({Event("t")});
  tampered.mutable_events(0)->mutable_raw_json()->back() = ' ';
  EXPECT_EQ(Refused(tampered).rule, "merkle_root_mismatch");
  v1::Batch short_root = Sealed({Event("sr")});
  short_root.set_merkle_root("abc");
  EXPECT_EQ(Refused(short_root).rule, "malformed_batch");
}

TEST_F(BatchValidatorTest, HostileEventsAreRefusedNotCrashed) {
  std::string deep(200, '[');
  std::string long_id = Event(std::string(300, 'x'));
  std::vector<std::string> hostile = {
      "",
      "null",
      "[1,2,3]",
      "{\"eventTime\":",
      std::string("{\"eventID\":\"\xc3\x28\",\"eventTime\":\"2023-01-01T00:00:00Z\"}"),
      "{\"eventID\":\"x\",\"eventTime\":5}",
      "{\"eventID\":\"x\",\"eventTime\":\"yesterday\"}",
      "{\"eventID\":\"x\",\"eventTime\":\"2023-01-01T00:00:00Z\",\"awsRegion\":" + deep,
      Event("big") + std::string(9000, ' '),
      std::string("{\"eventID\":\"nul\0\",\"eventTime\":\"2023-01-01T00:00:00Z\"}", 52),
  };
  for (const std::string& raw : hostile) {
    RefusedEvent r = OneRefused(Sealed({Event("fine"), raw}));
    EXPECT_EQ(r.leaf_index, 1u) << r.message;
    EXPECT_TRUE(r.rule == "malformed_event" || r.rule == "event_id_invalid") << r.rule << " " << r.message;
    EXPECT_FALSE(r.identity_violation);
  }
  EXPECT_EQ(OneRefused(Sealed({long_id})).rule, "event_id_invalid");
  // Only refused events: the batch still passes (it is stored, nothing of it as an event).
  EXPECT_EQ(EventsRefused(Sealed({"null", "[1]"})).size(), 2u);
}

TEST_F(BatchValidatorTest, AllowedFakeRegionStillMustBeTheAgentsRegion) {
  // The agent's own region must match; a fake region is only accepted when allowed.
  RefusedEvent r = OneRefused(Sealed({Event("stratus", "sagov-westsouth-1r")}));
  EXPECT_EQ(r.rule, "region_mismatch");  // allowed name, but not this agent's region
}

}  // namespace
}  // namespace orgtrail::collector
