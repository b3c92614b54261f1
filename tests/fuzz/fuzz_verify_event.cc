// The files `orgtrailctl verify-event` reads: a saved get-event document
// (--from-file, cli/src/events_format.h ParseGetEventDocument) checked
// against the organization CA (--ca) by VerifyEventProvenance
// (cli/src/events_verify.h): canonical header, certificate chain, SPIFFE
// identity, signature, eventID and inclusion proof.
// The CA and the agent certificate below are a fixed, test-only PKI made with
// `orgtrailctl pki` (valid to 2046, trusted nowhere) so that committed seeds
// are fully valid documents and the fuzzer starts from passing verifications.
// With ORGTRAIL_FUZZ_WRITE_SEED=<path> the target writes such a valid
// document to <path> and exits (how corpus/verify_event/ seeds were made).
// Input: the document; if it starts with "--ca--\n" then "<CA PEM>\n--doc--\n<document>"
// (the CA file is fuzzed too).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "events_format.h"
#include "events_verify.h"
#include "fuzz_util.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/signer.h"

namespace {

constexpr const char* kCaPem = R"PEM(-----BEGIN CERTIFICATE-----
MIIB9jCCAZygAwIBAgIQT0oAFmTPa+XKK7mikIwdxjAKBggqhkjOPQQDAjA5MRQw
EgYDVQQKDAtleGFtcGxlLm9yZzEhMB8GA1UEAwwYb3JndHJhaWwgb3JnYW5pemF0
aW9uIENBMB4XDTI2MTIwNTIwNDI1NFoXDTQ2MTEzMDIwNDI1NFowOTEUMBIGA1UE
CgwLZXhhbXBsZS5vcmcxITAfBgNVBAMMGG9yZ3RyYWlsIG9yZ2FuaXphdGlvbiBD
QTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNwAf7L7vAOM76EoFTRaO/v7yzwY
2P23msOvII58yFMhM1C35ImK4jYk1L7jV6bi+jegy1ivlxkYyps+NAV75UyjgYUw
gYIwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFD4j
kHXuXlxHZoGynTDw7AdB0dH0MB8GA1UdIwQYMBaAFD4jkHXuXlxHZoGynTDw7AdB
0dH0MB8GA1UdEQQYMBaGFHNwaWZmZTovL2V4YW1wbGUub3JnMAoGCCqGSM49BAMC
A0gAMEUCIQCXG3u6FceahnoFRBLDqu+B1z5EheoDYwDTbJ+/VFHK/AIgHaJgoSzn
Kp2czQB7pYkNabfwFUAhUSVZybDgM6io0yQ=
-----END CERTIFICATE-----
)PEM";
constexpr const char* kAgentCertPem = R"PEM(-----BEGIN CERTIFICATE-----
MIICIDCCAcegAwIBAgIQf+rXuocwNuUCZXY+TDwR4TAKBggqhkjOPQQDAjA5MRQw
EgYDVQQKDAtleGFtcGxlLm9yZzEhMB8GA1UEAwwYb3JndHJhaWwgb3JnYW5pemF0
aW9uIENBMB4XDTI2MTIwNTIwNDI1NFoXDTQ2MTEzMDIwNDI1NFowGzEZMBcGA1UE
AwwQYWdlbnQgZnV6ei1hZ2VudDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABEhU
4QBkbQwnx9iN0Kkrmx+MKgkKwKcTFogfhsI6RDDPKBIk2VqfGK5Zbl6JDemc59KF
s+W/ni0BmuHPChZ4dy+jgc4wgcswDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMC
B4AwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0OBBYEFMaeu3ERrH+dEtAi5D5d
fahUqVWLMB8GA1UdIwQYMBaAFD4jkHXuXlxHZoGynTDw7AdB0dH0MFYGA1UdEQRP
ME2GS3NwaWZmZTovL2V4YW1wbGUub3JnL2FjY291bnQvMTExMTIyMjIzMzMzL3Jl
Z2lvbi91cy1lYXN0LTEvYWdlbnQvZnV6ei1hZ2VudDAKBggqhkjOPQQDAgNHADBE
AiBzRcpHGIyRsNKbT6XYRyWnoaVQ41MV1kDfN5Vfvm0bhAIgC+itq3Kyh00/E01d
zdhs88UsjoC03Et60B+4VzH9mVA=
-----END CERTIFICATE-----
)PEM";
constexpr const char* kAgentKeyPem = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+5/6P1mBGzVYVfQT
JZZ3jnhaFlyC+17UYcWuTNvoxWShRANCAARIVOEAZG0MJ8fYjdCpK5sfjCoJCsCn
ExaIH4bCOkQwzygSJNlanxiuWW5eiQ3pnOfShbPlv54tAZrhzwoWeHcv
-----END PRIVATE KEY-----
)PEM";

// A valid get-event document for record `index` of a sealed batch of `count`.
std::string ValidDocument(int index, int count) {
  auto signer = orgtrail::Signer::FromPrivateKeyPem(kAgentKeyPem);
  if (!signer.ok()) std::abort();
  orgtrail::v1::Batch batch;
  batch.set_agent_id("spiffe://example.org/account/111122223333/region/us-east-1/agent/fuzz-agent");
  batch.set_epoch(1);
  batch.set_sequence(7);
  batch.set_prev_batch_hash(std::string(32, '\0'));
  batch.set_created_time_us(1796428800000000);  // 2026-12-05
  for (int i = 0; i < count; ++i) {
    const std::string id = "0b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d" + std::to_string(10 + i);
    batch.add_events()->set_raw_json(
        R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accountId":"111122223333","userName":"alice"},)"
        R"("eventTime":"2026-12-05T10:0)" + std::to_string(i % 10) +
        R"(:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1",)"
        R"("sourceIPAddress":"203.0.113.7","eventID":")" + id +
        R"(","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"})");
  }
  if (!orgtrail::SealBatch(**signer, &batch).ok()) std::abort();
  auto header = orgtrail::HeaderOfBatch(batch);
  if (!header.ok()) std::abort();
  const std::vector<orgtrail::Digest> leaves = orgtrail::BatchLeafHashes(batch);
  auto proof = orgtrail::MerkleInclusionProof(leaves, static_cast<uint64_t>(index));
  if (!proof.ok()) std::abort();
  auto fingerprint = orgtrail::CertificateFingerprint(kAgentCertPem);
  if (!fingerprint.ok()) std::abort();
  orgtrail::v1::GetEventResponse response;
  *response.mutable_event() = batch.events(index);
  response.mutable_event()->set_event_id("0b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d" + std::to_string(10 + index));
  auto* p = response.mutable_provenance();
  p->set_signed_header(orgtrail::CanonicalBatchHeader(*header));
  p->set_signature(batch.signature());
  p->set_signature_algorithm(batch.signature_algorithm());
  p->set_agent_certificate_pem(kAgentCertPem);
  p->set_agent_certificate_sha256(*fingerprint);
  p->set_merkle_root(batch.merkle_root());
  p->set_leaf_index(static_cast<uint32_t>(index));
  p->set_leaf_count(static_cast<uint32_t>(count));
  for (const auto& d : *proof) p->add_inclusion_proof(orgtrail::DigestToString(d));
  return orgtrail::cli::FormatGetEventDocument(response);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* path = std::getenv("ORGTRAIL_FUZZ_WRITE_SEED")) {
    const std::string base = path;
    const std::string doc = ValidDocument(1, 3);
    auto parsed = orgtrail::cli::ParseGetEventDocument(doc);
    if (!parsed.ok() || !orgtrail::cli::VerifyEventProvenance(*parsed, kCaPem, "").ok()) {
      std::fprintf(stderr, "seed document does not verify\n");
      std::exit(1);
    }
    orgtrail::fuzz::WriteFileOrDie(base + "-1of3.json", doc);
    orgtrail::fuzz::WriteFileOrDie(base + "-0of1.json", ValidDocument(0, 1));
    orgtrail::fuzz::WriteFileOrDie(base + "-4of5.json", ValidDocument(4, 5));
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = orgtrail::fuzz::AsView(data, size);
  std::string_view ca = kCaPem;
  if (input.rfind("--ca--\n", 0) == 0) {
    std::tie(ca, input) = orgtrail::fuzz::SplitOnce(input.substr(7), "\n--doc--\n");
  }
  auto event = orgtrail::cli::ParseGetEventDocument(input);
  if (!event.ok()) {
    ORGTRAIL_FUZZ_CHECK(event.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const orgtrail::cli::VerifyReport report = orgtrail::cli::VerifyEventProvenance(*event, ca, "");
  ORGTRAIL_FUZZ_CHECK(!report.checks.empty());
  (void)orgtrail::cli::VerifyEventProvenance(*event, ca, "0b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d11");
  (void)orgtrail::cli::FormatGetEventDocument(*event);
  return 0;
}
