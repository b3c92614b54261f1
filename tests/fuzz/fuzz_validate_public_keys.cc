// The public keys file `orgtrailctl validate-logs` reads from the export
// (AWSLogs/<org>/public-keys.json, cli/src/validate_public_keys.h):
// LoadPublicKeys on the input (the file's text), then KeysOverlapping, and
// every key's DER through Verifier::FromPublicKeyDer as the digest check does.
#include <cstdint>
#include <map>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/common/signer.h"
#include "validate_public_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  std::map<std::string, orgtrail::cli::validate_logs::PublicKey> keys;
  std::string error;
  if (!orgtrail::cli::validate_logs::LoadPublicKeys(std::string(orgtrail::fuzz::AsView(data, size)),
                                                    "public-keys.json", &keys, &error)) {
    ORGTRAIL_FUZZ_CHECK(!error.empty());
    return 0;
  }
  auto overlapping = orgtrail::cli::validate_logs::KeysOverlapping(keys, 1767225600000000, 1767229200000000);
  ORGTRAIL_FUZZ_CHECK(overlapping.size() <= keys.size());
  for (const auto& [fingerprint, key] : overlapping) {
    (void)orgtrail::Verifier::FromPublicKeyDer(key.der);
  }
  return 0;
}
