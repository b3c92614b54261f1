// Peer identities from X.509 certificates, following the SPIFFE X.509-SVID
// rules: exactly one URI SAN, leaf not a CA, key usage with
// digitalSignature, inside its validity window.
//
// Accepted SPIFFE ID shapes (org = trust domain):
//   spiffe://<org>/account/<12 digits>/region/<region>/agent/<name>  -> kAgent
//   spiffe://<org>/account/<12 digits>/admin/<name>                  -> kAccountAdmin
//   spiffe://<org>/auditor/<name>                                    -> kAuditor
//   spiffe://<org>/admin/<name>                                      -> kAdmin
//   spiffe://<org>/collector/<name>                                  -> kCollector
// Names: 1-64 of [A-Za-z0-9._-]. Anything else is INVALID_ARGUMENT with a
// message saying what is wrong; a certificate outside its validity window is
// UNAUTHENTICATED. Pure functions; thread-safe.
#ifndef ORGTRAIL_COMMON_IDENTITY_H_
#define ORGTRAIL_COMMON_IDENTITY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail {

enum class Role { kAgent, kAccountAdmin, kAuditor, kAdmin, kCollector };
std::string_view RoleName(Role role);

struct Identity {
  Role role = Role::kAgent;
  std::string spiffe_id;     // the full URI
  std::string trust_domain;  // <org>
  std::string account_id;    // agents and account admins
  std::string region;        // agents
  std::string name;

  bool may_ingest() const { return role == Role::kAgent; }
  bool may_query() const { return role == Role::kAuditor; }
  bool may_administer() const { return role == Role::kAdmin || role == Role::kAccountAdmin; }
};

// Parses a SPIFFE ID. If expected_trust_domain is non-empty the trust domain
// must equal it (PERMISSION_DENIED otherwise).
StatusOr<Identity> ParseSpiffeId(std::string_view uri, std::string_view expected_trust_domain = "");

// Full SVID checks on a PEM certificate (chain verification against the CA is
// done by TLS or by VerifyCertificateChain). now_us = 0 means "now".
StatusOr<Identity> IdentityFromCertificatePem(std::string_view pem,
                                              std::string_view expected_trust_domain = "",
                                              int64_t now_us = 0);

// Verifies that the PEM leaf certificate chains to the PEM CA bundle and is
// within its validity window (UNAUTHENTICATED otherwise).
Status VerifyCertificateChain(std::string_view leaf_pem, std::string_view ca_pem,
                              int64_t now_us = 0);

// Lowercase hex SHA-256 of the certificate's DER.
StatusOr<std::string> CertificateFingerprint(std::string_view pem);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_IDENTITY_H_
