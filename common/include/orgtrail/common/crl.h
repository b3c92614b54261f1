// X.509 certificate revocation lists (RFC 5280 section 5) of the organization
// CA, through OpenSSL: reading and verifying one (the collector's --crl-file),
// and issuing or extending one (`orgtrailctl pki revoke`).
//
// Serial numbers are compared as canonical text: lowercase hexadecimal with no
// leading zeros ("0" for zero, a leading '-' for a negative serial), the form
// CertificateSerial returns. NormalizeSerial turns what an operator types
// (upper or lower case, optional "0x", optional ':' between bytes, as
// `orgtrailctl pki show` and `openssl x509 -serial` print them) into it.
//
// ParseAndVerifyCrl accepts only what it fully understands, so a CRL that
// would mean something else to another reader is refused rather than half
// applied: one PEM "X509 CRL" block of at most kMaxCrlBytes, signed by a
// certificate of the CA bundle whose subject is the CRL's issuer (and that may
// sign CRLs), with no delta-CRL indicator, no critical extension other than
// the ones below, no entry with a critical extension, at most kMaxCrlEntries
// entries, serials of at most 32 bytes. Everything else is INVALID_ARGUMENT
// with a message naming what is wrong. A CRL past its nextUpdate is still
// returned (the caller decides; next_update_us tells it).
//
// IssueCrl signs with the CA key (ECDSA/RSA with SHA-256, Ed25519 pure), sets
// thisUpdate = now, nextUpdate = now + next_update_days, cRLNumber = the
// previous CRL's + 1, an authority key identifier, and keeps every entry of
// the previous CRL (with its revocation date). Adding a serial that is already
// listed changes nothing but the dates and the number.
//
// Pure functions; thread-safe.
#ifndef ORGTRAIL_COMMON_CRL_H_
#define ORGTRAIL_COMMON_CRL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/pki.h"
#include "orgtrail/common/status.h"

namespace orgtrail {

constexpr size_t kMaxCrlBytes = 32u << 20;
constexpr size_t kMaxCrlEntries = 1'000'000;

struct CrlEntry {
  std::string serial;         // canonical (see above)
  int64_t revoked_at_us = 0;  // revocationDate
};

struct Crl {
  std::string issuer;           // RFC 2253 text of the issuer name
  int64_t this_update_us = 0;
  int64_t next_update_us = 0;   // 0: the CRL has no nextUpdate
  uint64_t number = 0;          // cRLNumber, 0 if absent
  std::vector<CrlEntry> entries;  // sorted by serial, no duplicates
};

// Parses a PEM CRL and verifies it against the CA bundle (PEM certificates).
StatusOr<Crl> ParseAndVerifyCrl(std::string_view crl_pem, std::string_view ca_bundle_pem);

struct CrlUpdate {
  std::vector<std::string> add_serials;  // canonical or any form NormalizeSerial takes
  int64_t now_us = 0;                    // 0 = now
  int64_t next_update_days = 30;         // 1..3650
};

// A new PEM CRL signed by `ca` (its key and certificate) holding the entries
// of `previous` (may be null: a first, possibly empty, CRL) plus the update's
// serials. `previous` must have been verified against ca.cert_pem.
StatusOr<std::string> IssueCrl(const KeyAndCert& ca, const Crl* previous, const CrlUpdate& update);

// Canonical serial from operator text (optional "serial=" or "0x" prefix,
// optional ':' between digit groups); INVALID_ARGUMENT unless what is left is
// hexadecimal of at most 32 significant bytes.
StatusOr<std::string> NormalizeSerial(std::string_view text);
// The canonical serial of a PEM certificate.
StatusOr<std::string> CertificateSerial(std::string_view cert_pem);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_CRL_H_
