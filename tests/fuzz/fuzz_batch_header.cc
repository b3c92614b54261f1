// Batch headers (common/batch.h): the signed header the collector verifies
// for every batch it receives and `verify-event` re-reads offline.
// Mode by the first byte:
//   even: the rest is a canonical header text -> ParseCanonicalBatchHeader;
//         a header that parses must format back to the same bytes;
//   odd:  the rest is a serialized v1::Batch (the gRPC message) ->
//         HeaderOfBatch and VerifyBatch with a key made at start-up.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/pki.h"

namespace {

std::unique_ptr<orgtrail::Verifier>* MakeVerifier() {
  orgtrail::CaOptions ca_options;
  ca_options.trust_domain = "example.org";
  auto ca = orgtrail::CreateCa(ca_options);
  if (!ca.ok()) std::abort();
  auto verifier = orgtrail::Verifier::FromCertificatePem(ca->cert_pem);
  if (!verifier.ok()) std::abort();
  return new std::unique_ptr<orgtrail::Verifier>(std::move(*verifier));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<orgtrail::Verifier>* verifier = MakeVerifier();
  if (size == 0) return 0;
  const std::string_view rest = orgtrail::fuzz::AsView(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto header = orgtrail::ParseCanonicalBatchHeader(rest);
    if (header.ok()) {
      ORGTRAIL_FUZZ_CHECK(orgtrail::CanonicalBatchHeader(*header) == rest);
      (void)orgtrail::BatchHash(*header);
    }
    return 0;
  }
  orgtrail::v1::Batch batch;
  if (!batch.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) return 0;
  auto header = orgtrail::HeaderOfBatch(batch);
  if (header.ok()) {
    auto reparsed = orgtrail::ParseCanonicalBatchHeader(orgtrail::CanonicalBatchHeader(*header));
    (void)reparsed;
  }
  std::vector<orgtrail::Digest> leaves;
  (void)orgtrail::VerifyBatch(batch, **verifier, &leaves);
  return 0;
}
