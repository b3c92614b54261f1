// Revocation: which client certificates the collector refuses although they
// chain to the organization CA and are inside their validity window. Two
// sources, either or both:
//   - the CA's CRL (crl.h): certificates by (issuer, serial number);
//   - a deny list, a text file the operator edits, one entry per line:
//       a certificate SHA-256 fingerprint: 64 hex digits, either case, with
//         or without ':' between bytes (as `orgtrailctl pki show` and
//         `openssl x509 -fingerprint -sha256` print it), optional "sha256:"
//         prefix: that one certificate;
//       a SPIFFE ID (identity.h shapes): every certificate naming it.
//     '#' starts a comment (to the end of the line; SPIFFE IDs cannot hold
//     '#'); blank lines and surrounding whitespace are ignored.
//
// ParseDenyList refuses the whole file (INVALID_ARGUMENT "line N: ...") on
// any line it does not understand, a control character or NUL, a line over
// kMaxDenyListLineBytes, more than kMaxDenyListEntries entries or more than
// kMaxDenyListBytes in all: a typo must not silently let a stolen key in.
//
// RevocationList is an immutable snapshot of both; share it as
// std::shared_ptr<const RevocationList>. Thread-safe (const methods only).
#ifndef ORGTRAIL_COMMON_REVOCATION_H_
#define ORGTRAIL_COMMON_REVOCATION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "orgtrail/common/crl.h"
#include "orgtrail/common/status.h"

namespace orgtrail {

constexpr size_t kMaxDenyListBytes = 16u << 20;
constexpr size_t kMaxDenyListLineBytes = 4096;
constexpr size_t kMaxDenyListEntries = 100'000;

// What a presented certificate is matched by.
struct RevocationSubject {
  std::string issuer;       // RFC 2253 text, as Crl::issuer
  std::string serial;       // canonical (crl.h)
  std::string fingerprint;  // lowercase hex SHA-256 of the DER
  std::string spiffe_id;    // its single URI SAN ("" if none or several)
  int64_t not_after_us = 0;
};
// INVALID_ARGUMENT if the text is not a PEM certificate.
StatusOr<RevocationSubject> RevocationSubjectFromPem(std::string_view cert_pem);

struct DenyList {
  std::set<std::string> fingerprints;  // 64 lowercase hex digits
  std::set<std::string> spiffe_ids;
};
StatusOr<DenyList> ParseDenyList(std::string_view text);

// Why a caller's certificate (its PEM, as PeerCertificatePem returns it) is
// revoked, or nullopt. The collector hands one to its Query and Admin
// services; an empty std::function means revocation is not configured.
using RevocationCheck = std::function<std::optional<std::string>(const std::string& cert_pem)>;

class RevocationList {
 public:
  RevocationList() = default;  // nothing revoked
  // crl may be null (no CRL configured).
  RevocationList(const Crl* crl, DenyList deny);

  // Why the certificate is revoked ("certificate serial 1f.. is revoked by the
  // CRL (number 3)", "SPIFFE ID ... is in the deny list", ...), or nullopt.
  std::optional<std::string> Check(const RevocationSubject& subject) const;

  size_t crl_entries() const { return serials_.size(); }
  uint64_t crl_number() const { return crl_number_; }
  size_t denied_fingerprints() const { return deny_.fingerprints.size(); }
  size_t denied_spiffe_ids() const { return deny_.spiffe_ids.size(); }

 private:
  std::set<std::pair<std::string, std::string>> serials_;  // (issuer, serial)
  uint64_t crl_number_ = 0;
  DenyList deny_;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_REVOCATION_H_
