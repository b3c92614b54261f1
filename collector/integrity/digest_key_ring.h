// The collector's RSA-2048 digest signing keys and the ListPublicKeys view of
// them. Keys live in <data-dir>/digest-keys/key-<validityStartUs>.pem (PKCS#8,
// mode 0600). A key is valid from its start until the next key's start; the
// newest key (open-ended) signs. Rotate() adds a new key; old keys are kept,
// so digests signed with them stay verifiable.
//
// Fingerprint = lowercase hex MD5 of the PKCS#1 RSAPublicKey DER, as CloudTrail.
// The export carries the list as AWSLogs/<org>/public-keys.json:
//   {"PublicKeyList":[{"Value":"<base64 DER>","ValidityStartTime":"...Z",
//     "ValidityEndTime":"...Z"|null,"Fingerprint":"<32 hex>"}]}
//
// Thread-safe (a mutex guards the key list). Errors: UNAVAILABLE for I/O,
// DATA_LOSS for an unreadable key file, INTERNAL for OpenSSL failures.
#ifndef ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_KEY_RING_H_
#define ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_KEY_RING_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "orgtrail/common/signer.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct DigestPublicKey {
  std::string der_pkcs1;  // RSAPublicKey DER
  std::string fingerprint;
  int64_t validity_start_us = 0;
  std::optional<int64_t> validity_end_us;  // nullopt = current key
};

class DigestKeyRing {
 public:
  // Loads every key under dir; creates dir and a first key (valid from
  // now_us) if there is none.
  static StatusOr<std::unique_ptr<DigestKeyRing>> Open(const std::string& dir, int64_t now_us);

  // Signs message with the current key: SHA256withRSA, hex-encoded.
  // *fingerprint receives the signing key's fingerprint.
  StatusOr<std::string> SignHex(std::string_view message, std::string* fingerprint) const;
  std::string CurrentFingerprint() const;

  // Creates a new current key valid from now_us (must be after the current
  // key's start).
  Status Rotate(int64_t now_us);

  // Keys whose validity window overlaps [start_us, end_us]; 0 = unbounded.
  std::vector<DigestPublicKey> ListPublicKeys(int64_t start_us = 0, int64_t end_us = 0) const;
  std::string PublicKeysJson() const;

 private:
  struct Key {
    DigestPublicKey pub;
    std::unique_ptr<Signer> signer;
  };
  explicit DigestKeyRing(std::string dir) : dir_(std::move(dir)) {}
  Status LoadKeyFile(const std::string& path, int64_t start_us);
  Status CreateKeyLocked(int64_t start_us);
  void FixValidityLocked();

  std::string dir_;
  mutable std::mutex mu_;
  std::vector<Key> keys_;  // ascending validity start
};

// Fingerprint of an RSA public key given as PKCS#1 or SPKI DER.
std::string DigestKeyFingerprint(std::string_view der);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_KEY_RING_H_
