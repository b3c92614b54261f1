// Batch sealing / verification and the canonical signed header.
#include "orgtrail/common/batch.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <vector>

#include "orgtrail/common/merkle.h"

namespace orgtrail {
namespace {

std::string GeneratePrivatePem(const char* kind) {
  EVP_PKEY* key = nullptr;
  if (std::string(kind) == "P-256") key = EVP_EC_gen("P-256");
  if (std::string(kind) == "ED25519") key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (std::string(kind) == "RSA") key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

struct KeyPair {
  std::unique_ptr<Signer> signer;
  std::unique_ptr<Verifier> verifier;
};

KeyPair MakeKeyPair(const char* kind) {
  KeyPair kp;
  auto signer = Signer::FromPrivateKeyPem(GeneratePrivatePem(kind));
  EXPECT_TRUE(signer.ok()) << signer.status();
  kp.signer = *std::move(signer);
  auto verifier = Verifier::FromPublicKeyDer(kp.signer->PublicKeyDer());
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  kp.verifier = *std::move(verifier);
  return kp;
}

constexpr char kAgent[] = "spiffe://example.org/account/123456789012/region/us-east-1/agent/a1";

v1::Batch MakeBatch(int events) {
  v1::Batch batch;
  batch.set_agent_id(kAgent);
  batch.set_epoch(7);
  batch.set_sequence(42);
  batch.set_prev_batch_hash(DigestToString(Sha256("previous header")));
  batch.set_created_time_us(1700000000123456);
  for (int i = 0; i < events; ++i) {
    batch.add_events()->set_raw_json(R"({"eventVersion":"1.08","eventID":"id-)" +
                                     std::to_string(i) +
                                     R"(","eventTime":"2023-11-14T22:13:20Z","eventName":"Get"})");
  }
  return batch;
}

BatchHeader SampleHeader() {
  BatchHeader h;
  h.agent_id = kAgent;
  h.epoch = 3;
  h.sequence = 18446744073709551615ull;
  h.event_count = 256;
  h.prev_batch_hash = Sha256("prev");
  h.merkle_root = Sha256("root");
  h.created_time_us = -1234567;
  return h;
}

bool SameHeader(const BatchHeader& a, const BatchHeader& b) {
  return a.agent_id == b.agent_id && a.epoch == b.epoch && a.sequence == b.sequence &&
         a.event_count == b.event_count && a.prev_batch_hash == b.prev_batch_hash &&
         a.merkle_root == b.merkle_root && a.created_time_us == b.created_time_us;
}

TEST(BatchTest, CanonicalHeaderBytes) {
  BatchHeader h;
  h.agent_id = "spiffe://o/account/111111111111/region/eu-west-1/agent/x";
  h.epoch = 1;
  h.sequence = 2;
  h.event_count = 3;
  h.merkle_root = Sha256("");
  h.created_time_us = 1600000000000000;
  EXPECT_EQ(CanonicalBatchHeader(h),
            "orgtrail-batch-v1\n"
            "agent=spiffe://o/account/111111111111/region/eu-west-1/agent/x\n"
            "epoch=1\n"
            "seq=2\n"
            "count=3\n"
            "prev=0000000000000000000000000000000000000000000000000000000000000000\n"
            "root=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "time=1600000000000000\n");
  EXPECT_EQ(BatchHash(h), Sha256(CanonicalBatchHeader(h)));
}

TEST(BatchTest, ParseIsInverseOfCanonical) {
  for (int64_t time : {int64_t{0}, int64_t{-1}, int64_t{1}, INT64_MAX, INT64_MIN}) {
    BatchHeader h = SampleHeader();
    h.created_time_us = time;
    auto parsed = ParseCanonicalBatchHeader(CanonicalBatchHeader(h));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(SameHeader(*parsed, h)) << time;
  }
}

TEST(BatchTest, ParseRejectsListedDeviations) {
  const std::string good = CanonicalBatchHeader(SampleHeader());
  ASSERT_TRUE(ParseCanonicalBatchHeader(good).ok());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    s.replace(pos, from.size(), to);
    return s;
  };
  const std::string prev_hex = HexEncode(Sha256("prev"));
  std::string upper_prev = prev_hex;
  for (char& c : upper_prev) c = static_cast<char>(toupper(c));
  const std::vector<std::pair<std::string, std::string>> deviations = {
      {"", "empty input"},
      {good.substr(0, good.size() - 1), "missing final newline"},
      {good + "\n", "extra empty line"},
      {good + "extra=1\n", "extra line"},
      {replace("orgtrail-batch-v1", "orgtrail-batch-v2"), "wrong magic"},
      {replace("orgtrail-batch-v1\n", "orgtrail-batch-v1\r\n"), "CRLF"},
      {replace("agent=", "Agent="), "key case"},
      {replace("agent=", "agent ="), "space before ="},
      {replace("agent=", " agent="), "leading space"},
      {replace("agent=spiffe", "agent= spiffe"), "space in agent"},
      {replace("agent=" + std::string(kAgent) + "\n", "agent=\n"), "empty agent"},
      {replace("agent=spiffe", std::string("agent=\0spiffe", 13)), "NUL in agent"},
      {replace("agent=spiffe", "agent=sp\xc3\xa9iffe"), "non-ASCII agent"},
      {replace("epoch=3", "epoch=03"), "leading zero"},
      {replace("epoch=3", "epoch=+3"), "plus sign"},
      {replace("epoch=3", "epoch=-3"), "negative epoch"},
      {replace("epoch=3", "epoch="), "empty epoch"},
      {replace("epoch=3", "epoch=3 "), "trailing space"},
      {replace("epoch=3", "epoch=0x3"), "hex integer"},
      {replace("seq=18446744073709551615", "seq=18446744073709551616"), "seq overflow"},
      {replace("seq=18446744073709551615", "seq=99999999999999999999"), "seq overflow 2"},
      {replace("count=256", "count=2.5"), "decimal point"},
      {replace("prev=" + prev_hex, "prev=" + upper_prev), "uppercase hex"},
      {replace("prev=" + prev_hex, "prev=" + prev_hex.substr(1)), "63 hex digits"},
      {replace("prev=" + prev_hex, "prev=" + prev_hex + "00"), "66 hex digits"},
      {replace("prev=" + prev_hex, "prev=" + prev_hex.substr(1) + "g"), "non-hex digit"},
      {replace("time=-1234567", "time=-0"), "negative zero"},
      {replace("time=-1234567", "time=9223372036854775808"), "time overflow"},
      {replace("time=-1234567", "time=-9223372036854775809"), "time underflow"},
      {replace("time=-1234567", "time=--1"), "double minus"},
      {replace("seq=", "sequence="), "renamed key"},
  };
  for (const auto& [bytes, why] : deviations) {
    auto parsed = ParseCanonicalBatchHeader(bytes);
    EXPECT_FALSE(parsed.ok()) << why;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << why;
    }
  }
  // Lines swapped.
  std::string swapped = good;
  const size_t e = swapped.find("epoch=");
  const size_t s = swapped.find("seq=");
  const size_t c = swapped.find("count=");
  swapped = swapped.substr(0, e) + swapped.substr(s, c - s) + swapped.substr(e, s - e) +
            swapped.substr(c);
  EXPECT_FALSE(ParseCanonicalBatchHeader(swapped).ok());
}

// Strict inverse: whenever a mutated header still parses, its canonical form
// is exactly the mutated bytes, so no two byte strings share a header.
TEST(BatchTest, EverySingleByteMutationIsRejectedOrCanonical) {
  const std::string good = CanonicalBatchHeader(SampleHeader());
  int accepted = 0;
  int rejected = 0;
  auto check = [&](const std::string& mutated) {
    auto parsed = ParseCanonicalBatchHeader(mutated);
    if (parsed.ok()) {
      ++accepted;
      ASSERT_EQ(CanonicalBatchHeader(*parsed), mutated);
    } else {
      ++rejected;
    }
  };
  const std::string inserts = std::string("0 9a\n\r-=+F\x80", 12) + std::string(1, '\0');
  for (size_t i = 0; i < good.size(); ++i) {
    std::string deleted = good;
    deleted.erase(i, 1);
    check(deleted);
    for (char ins : inserts) {
      std::string inserted = good;
      inserted.insert(i, 1, ins);
      check(inserted);
      std::string replaced = good;
      if (replaced[i] == ins) continue;
      replaced[i] = ins;
      check(replaced);
    }
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(accepted, 0);  // e.g. a different digit: a different, canonical header
}

class BatchSealTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { keys_ = MakeKeyPair(GetParam()); }
  KeyPair keys_;
};

TEST_P(BatchSealTest, SealVerifyRoundTrip) {
  for (int n : {0, 1, 2, 3, 17, 256}) {
    v1::Batch batch = MakeBatch(n);
    ASSERT_TRUE(SealBatch(*keys_.signer, &batch).ok());
    EXPECT_EQ(batch.signature_algorithm(), keys_.signer->algorithm());
    EXPECT_EQ(batch.merkle_root().size(), 32u);
    std::vector<Digest> leaves;
    ASSERT_TRUE(VerifyBatch(batch, *keys_.verifier, &leaves).ok()) << n;
    ASSERT_EQ(leaves.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(leaves[i], MerkleLeafHash(batch.events(i).raw_json()));
    EXPECT_EQ(DigestToString(MerkleRoot(leaves)), batch.merkle_root());
    auto header = HeaderOfBatch(batch);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(header->event_count, static_cast<uint64_t>(n));
  }
}

TEST_P(BatchSealTest, OneByteChangedInOneEventIsDataLoss) {
  v1::Batch sealed = MakeBatch(5);
  ASSERT_TRUE(SealBatch(*keys_.signer, &sealed).ok());
  for (int e = 0; e < sealed.events_size(); ++e) {
    const std::string raw = sealed.events(e).raw_json();
    for (size_t pos = 0; pos < raw.size(); pos += 7) {
      v1::Batch batch = sealed;
      std::string changed = raw;
      changed[pos] = static_cast<char>(changed[pos] ^ 0x01);
      batch.mutable_events(e)->set_raw_json(changed);
      const Status s = VerifyBatch(batch, *keys_.verifier);
      ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << "event " << e << " byte " << pos << s;
    }
  }
}

TEST_P(BatchSealTest, ReorderedAddedOrRemovedEventsFail) {
  v1::Batch sealed = MakeBatch(4);
  ASSERT_TRUE(SealBatch(*keys_.signer, &sealed).ok());
  v1::Batch swapped = sealed;
  swapped.mutable_events()->SwapElements(1, 2);
  EXPECT_EQ(VerifyBatch(swapped, *keys_.verifier).code(), absl::StatusCode::kDataLoss);
  v1::Batch removed = sealed;
  removed.mutable_events()->RemoveLast();
  EXPECT_FALSE(VerifyBatch(removed, *keys_.verifier).ok());
  v1::Batch added = sealed;
  *added.add_events() = sealed.events(0);
  EXPECT_FALSE(VerifyBatch(added, *keys_.verifier).ok());
  v1::Batch emptied = sealed;
  emptied.clear_events();
  EXPECT_FALSE(VerifyBatch(emptied, *keys_.verifier).ok());
  // Extracted fields are not covered by the signature and not trusted;
  // changing them does not break verification (the collector re-extracts).
  v1::Batch extracted = sealed;
  extracted.mutable_events(0)->set_event_name("Forged");
  EXPECT_TRUE(VerifyBatch(extracted, *keys_.verifier).ok());
}

TEST_P(BatchSealTest, WrongRootOrForgedHeaderFails) {
  v1::Batch sealed = MakeBatch(3);
  ASSERT_TRUE(SealBatch(*keys_.signer, &sealed).ok());

  v1::Batch wrong_root = sealed;
  wrong_root.set_merkle_root(DigestToString(Sha256("not the root")));
  EXPECT_EQ(VerifyBatch(wrong_root, *keys_.verifier).code(), absl::StatusCode::kDataLoss);

  // Events changed and the root recomputed to match: the signature fails.
  v1::Batch recomputed = sealed;
  recomputed.mutable_events(1)->set_raw_json(R"({"eventID":"evil"})");
  recomputed.set_merkle_root(DigestToString(MerkleRoot(BatchLeafHashes(recomputed))));
  EXPECT_EQ(VerifyBatch(recomputed, *keys_.verifier).code(), absl::StatusCode::kUnauthenticated);

  std::vector<v1::Batch> forged(6, sealed);
  forged[0].set_agent_id(std::string(kAgent) + "2");
  forged[1].set_epoch(8);
  forged[2].set_sequence(43);
  forged[3].set_prev_batch_hash(DigestToString(Sha256("other")));
  forged[4].set_created_time_us(sealed.created_time_us() + 1);
  forged[5].set_signature(sealed.signature().substr(1));
  for (size_t i = 0; i < forged.size(); ++i) {
    EXPECT_EQ(VerifyBatch(forged[i], *keys_.verifier).code(), absl::StatusCode::kUnauthenticated)
        << i;
  }
}

TEST_P(BatchSealTest, SignatureByAnotherKeyFails) {
  v1::Batch batch = MakeBatch(3);
  KeyPair other = MakeKeyPair(GetParam());
  ASSERT_TRUE(SealBatch(*other.signer, &batch).ok());
  EXPECT_TRUE(VerifyBatch(batch, *other.verifier).ok());
  EXPECT_EQ(VerifyBatch(batch, *keys_.verifier).code(), absl::StatusCode::kUnauthenticated);
}

TEST_P(BatchSealTest, MalformedBatchFieldsRejected) {
  v1::Batch sealed = MakeBatch(2);
  ASSERT_TRUE(SealBatch(*keys_.signer, &sealed).ok());
  std::vector<std::pair<v1::Batch, std::string>> cases;
  auto add = [&](const std::string& why, auto mutate) {
    v1::Batch b = sealed;
    mutate(&b);
    cases.emplace_back(b, why);
  };
  add("short prev", [](v1::Batch* b) { b->set_prev_batch_hash(std::string(31, 'x')); });
  add("empty prev", [](v1::Batch* b) { b->clear_prev_batch_hash(); });
  add("long root", [](v1::Batch* b) { b->set_merkle_root(b->merkle_root() + "x"); });
  add("empty root", [](v1::Batch* b) { b->clear_merkle_root(); });
  add("empty agent", [](v1::Batch* b) { b->clear_agent_id(); });
  add("newline agent", [](v1::Batch* b) { b->set_agent_id("a\nepoch=9"); });
  add("empty signature", [](v1::Batch* b) { b->clear_signature(); });
  add("unknown algorithm", [](v1::Batch* b) { b->set_signature_algorithm("NONE"); });
  add("empty algorithm", [](v1::Batch* b) { b->clear_signature_algorithm(); });
  add("rsa algorithm", [](v1::Batch* b) { b->set_signature_algorithm("SHA256withRSA"); });
  for (const auto& [batch, why] : cases) {
    const Status s = VerifyBatch(batch, *keys_.verifier);
    EXPECT_FALSE(s.ok()) << why;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << why << ": " << s;
  }
  // The other allowed algorithm name on this key fails too.
  v1::Batch other_alg = sealed;
  other_alg.set_signature_algorithm(keys_.signer->algorithm() == "ED25519" ? "ECDSA_P256_SHA256"
                                                                            : "ED25519");
  EXPECT_EQ(VerifyBatch(other_alg, *keys_.verifier).code(), absl::StatusCode::kUnauthenticated);

  v1::Batch unsealable = MakeBatch(1);
  unsealable.set_prev_batch_hash("");
  EXPECT_EQ(SealBatch(*keys_.signer, &unsealable).code(), absl::StatusCode::kInvalidArgument);
  unsealable = MakeBatch(1);
  unsealable.set_agent_id("bad agent");
  EXPECT_EQ(SealBatch(*keys_.signer, &unsealable).code(), absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Keys, BatchSealTest, ::testing::Values("P-256", "ED25519"),
                         [](const auto& info) {
                           return std::string(info.param) == "P-256" ? "EcdsaP256" : "Ed25519";
                         });

TEST(BatchTest, RsaSignerRefusedForBatches) {
  KeyPair rsa = MakeKeyPair("RSA");
  v1::Batch batch = MakeBatch(1);
  EXPECT_EQ(SealBatch(*rsa.signer, &batch).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace orgtrail
