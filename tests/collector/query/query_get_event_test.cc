// GetEvent: the record byte for byte, the collector's meta, and a provenance
// that verifies independently (certificate, signature over the header,
// inclusion proof of SHA-256(0x00 || record) in the signed root).
#include <gtest/gtest.h>

#include "collector/query_test_support.h"
#include "orgtrail/common/merkle.h"

namespace orgtrail::collector::querytest {
namespace {

class GetEventTest : public ::testing::Test {
 protected:
  void SetUp() override {
    records_ = LoadInvictusRecords();
    records_.resize(333);  // batches of 100, 100, 100, 33: odd trees too
    fixture_.Ingest("123837392027", "us-east-1", records_, 100);
    auto engine = QueryEngine::Create(fixture_.store());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }
  QueryTestStore fixture_;
  std::vector<std::string> records_;
  std::unique_ptr<QueryEngine> engine_;
};

TEST_F(GetEventTest, RecordMetaAndProvenanceVerify) {
  auto ca_pem = ReadFile(fixture_.pki().ca_cert_path());
  ASSERT_TRUE(ca_pem.ok());
  EventExtractor extractor;
  int verified = 0;
  for (size_t i = 0; i < records_.size(); i += 11) {
    v1::Event wire;
    ASSERT_TRUE(extractor.Extract(records_[i], &wire).ok());
    v1::GetEventRequest request;
    request.set_event_id(wire.event_id());
    auto response = engine_->GetEvent(request);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->event().raw_json(), records_[i]) << "byte for byte";
    EXPECT_EQ(response->event().event_id(), wire.event_id());
    EXPECT_EQ(response->event().event_name(), wire.event_name());

    const auto& meta = response->meta();
    EXPECT_EQ(meta.batch_sequence(), i / 100 + 1);
    EXPECT_EQ(meta.leaf_index(), i % 100);
    EXPECT_EQ(meta.partition_account_id(), "123837392027");
    EXPECT_EQ(meta.partition_region(), "us-east-1");
    EXPECT_GT(meta.commit_index(), 0u);

    const auto& provenance = response->provenance();
    EXPECT_EQ(provenance.leaf_index(), i % 100);
    EXPECT_EQ(provenance.leaf_count(), i >= 300 ? 33u : 100u);
    auto header = ParseCanonicalBatchHeader(provenance.signed_header());
    ASSERT_TRUE(header.ok()) << header.status();
    EXPECT_EQ(header->agent_id, meta.agent_id());
    EXPECT_EQ(header->sequence, meta.batch_sequence());
    EXPECT_EQ(DigestToString(header->merkle_root), provenance.merkle_root());

    ASSERT_TRUE(VerifyCertificateChain(provenance.agent_certificate_pem(), *ca_pem).ok());
    auto fingerprint = CertificateFingerprint(provenance.agent_certificate_pem());
    ASSERT_TRUE(fingerprint.ok());
    EXPECT_EQ(*fingerprint, provenance.agent_certificate_sha256());
    auto verifier = Verifier::FromCertificatePem(provenance.agent_certificate_pem());
    ASSERT_TRUE(verifier.ok());
    EXPECT_TRUE((*verifier)
                    ->Verify(provenance.signed_header(), provenance.signature(),
                             provenance.signature_algorithm())
                    .ok());

    std::vector<Digest> proof;
    for (const auto& node : provenance.inclusion_proof()) {
      auto digest = DigestFromString(node);
      ASSERT_TRUE(digest.ok());
      proof.push_back(*digest);
    }
    EXPECT_TRUE(VerifyMerkleInclusion(provenance.leaf_index(), provenance.leaf_count(),
                                      MerkleLeafHash(records_[i]), proof, header->merkle_root)
                    .ok());
    // A record changed by one byte does not verify against the same proof.
    std::string tampered = records_[i];
    tampered[tampered.size() / 2] ^= 0x20;
    EXPECT_FALSE(VerifyMerkleInclusion(provenance.leaf_index(), provenance.leaf_count(),
                                       MerkleLeafHash(tampered), proof, header->merkle_root)
                     .ok());
    ++verified;
  }
  EXPECT_EQ(verified, 31);
}

TEST_F(GetEventTest, UnknownAndMalformedIds) {
  v1::GetEventRequest request;
  auto empty = engine_->GetEvent(request);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);

  request.set_event_id("00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(engine_->GetEvent(request).status().code(), absl::StatusCode::kNotFound);

  request.set_event_id(std::string(1025, 'a'));
  EXPECT_EQ(engine_->GetEvent(request).status().code(), absl::StatusCode::kInvalidArgument);

  request.set_event_id(std::string("\0\xff\x01", 3));
  EXPECT_EQ(engine_->GetEvent(request).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace orgtrail::collector::querytest
