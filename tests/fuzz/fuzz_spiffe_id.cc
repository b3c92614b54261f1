// SPIFFE IDs (common/identity.h): every mTLS peer's identity comes from the
// URI SAN of its certificate. Mode by the first byte:
//   0..5:  ParseSpiffeId on the rest (with and without an expected trust domain);
//   6..7:  the rest as a PEM certificate: IdentityFromCertificatePem,
//          CertificateFingerprint and VerifyCertificateChain against a CA
//          made at start-up (the paths a presented certificate takes).
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"

namespace {

std::string* MakeCaPem() {
  orgtrail::CaOptions ca_options;
  ca_options.trust_domain = "example.org";
  auto ca = orgtrail::CreateCa(ca_options);
  if (!ca.ok()) std::abort();
  return new std::string(ca->cert_pem);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::string* ca_pem = MakeCaPem();
  if (size == 0 || size > 16 * 1024) return 0;
  const std::string_view rest = orgtrail::fuzz::AsView(data + 1, size - 1);
  if ((data[0] & 7) < 6) {
    auto id = orgtrail::ParseSpiffeId(rest);
    if (id.ok()) {
      ORGTRAIL_FUZZ_CHECK(id->spiffe_id == rest);
      auto same = orgtrail::ParseSpiffeId(rest, id->trust_domain);
      ORGTRAIL_FUZZ_CHECK(same.ok() && same->role == id->role && same->name == id->name);
      (void)orgtrail::RoleName(id->role);
    }
    (void)orgtrail::ParseSpiffeId(rest, "example.org");
    return 0;
  }
  (void)orgtrail::IdentityFromCertificatePem(rest, "example.org");
  (void)orgtrail::CertificateFingerprint(rest);
  (void)orgtrail::VerifyCertificateChain(rest, *ca_pem);
  return 0;
}
