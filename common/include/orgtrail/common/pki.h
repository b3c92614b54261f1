// Organization PKI through OpenSSL's API: an organization CA and SPIFFE
// X.509-SVID certificates for collectors, agents, auditors and admins.
// Used by `orgtrailctl pki`, the local cluster and tests (which generate their
// certificates at run time). Private keys are written with mode 0600 and
// every file is replaced atomically (write to a temporary name, fsync,
// rename), so a FileWatcherCertificateProvider never sees a torn file.
// Functions are thread-safe; errors are INVALID_ARGUMENT (bad input) or
// UNAVAILABLE/INTERNAL (I/O, OpenSSL).
#ifndef ORGTRAIL_COMMON_PKI_H_
#define ORGTRAIL_COMMON_PKI_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/status.h"

namespace orgtrail {

enum class KeyType { kEcdsaP256, kEd25519, kRsa2048 };

struct KeyAndCert {
  std::string key_pem;   // PKCS#8
  std::string cert_pem;
};

struct CaOptions {
  std::string trust_domain;  // the organization, e.g. "example.org"
  std::string common_name = "orgtrail organization CA";
  int64_t not_before_us = 0;     // 0 = now - 1 h
  int64_t validity_days = 3650;
  KeyType key_type = KeyType::kEcdsaP256;
};

struct CertOptions {
  std::vector<std::string> uri_sans;  // normally exactly one SPIFFE ID
  std::vector<std::string> dns_sans;
  std::vector<std::string> ip_sans;
  std::string common_name;
  int64_t not_before_us = 0;  // 0 = now - 1 h
  int64_t validity_days = 365;
  // > 0: notAfter exactly (short-lived certificates, expiry tests); it must
  // be after notBefore and replaces validity_days.
  int64_t not_after_us = 0;
  bool is_ca = false;                 // tests: a CA=true leaf
  bool digital_signature = true;      // key usage
  bool server_auth = false;           // extended key usage
  bool client_auth = true;
  KeyType key_type = KeyType::kEcdsaP256;
};

StatusOr<KeyAndCert> CreateCa(const CaOptions& options);
StatusOr<KeyAndCert> IssueCertificate(const KeyAndCert& ca, const CertOptions& options);

// Writes key (0600) and cert (0644) atomically. Either path may be empty to skip it.
Status WriteKeyAndCert(const KeyAndCert& kc, const std::string& key_path,
                       const std::string& cert_path);
StatusOr<KeyAndCert> ReadKeyAndCert(const std::string& key_path, const std::string& cert_path);

// What a certificate says, as the CertOptions that would issue it again:
// SANs, common name, CA flag, digitalSignature, server/client auth, key type,
// not_before_us and validity_days. Used to renew a certificate with the same
// names. INVALID_ARGUMENT if the text is not a PEM certificate.
StatusOr<CertOptions> CertificateOptionsFromPem(std::string_view cert_pem);
// The trust domain of an organization CA made by CreateCa (from its URI SAN
// spiffe://<trust domain>, else its O= attribute). INVALID_ARGUMENT if none.
StatusOr<std::string> CaTrustDomain(std::string_view ca_cert_pem);
// Multi-line human-readable description (subject, issuer, serial, validity,
// SANs, usages, SHA-256 fingerprint) for `orgtrailctl pki show`.
StatusOr<std::string> DescribeCertificate(std::string_view cert_pem);

// Atomic file replacement with the given mode (temp file, fsync, rename, fsync dir).
// Replacing an existing file keeps its owner and group when the caller may
// set them (root), so a renewed key stays readable by the service user.
Status WriteFileAtomically(const std::string& path, std::string_view contents, int mode);
StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_PKI_H_
