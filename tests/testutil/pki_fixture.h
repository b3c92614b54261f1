// TestPki: an organization CA created at test time in a directory, and the
// certificates tests hand to binaries (as ca/cert/key file paths in a
// TlsFiles): collector, agents, auditors, admins, and hostile variants that
// must be refused. Built on common/pki.h (real OpenSSL certificates).
//
// Errors: the constructor and the issuing methods record a GoogleTest
// failure (ADD_FAILURE) and return empty paths when OpenSSL or the disk
// fails; TryIssue returns the status instead. Not thread-safe.
//
// Files: <dir>/ca.crt, <dir>/ca.key, and <dir>/<stem>.crt / <stem>.key per
// certificate. Issuing the same stem again replaces the files atomically
// (that is how rotation tests rotate).
#ifndef ORGTRAIL_TESTS_TESTUTIL_PKI_FIXTURE_H_
#define ORGTRAIL_TESTS_TESTUTIL_PKI_FIXTURE_H_

#include <memory>
#include <string>
#include <string_view>

#include "orgtrail/common/pki.h"
#include "orgtrail/common/status.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::testutil {

std::string AgentSpiffeId(std::string_view trust_domain, std::string_view account,
                          std::string_view region, std::string_view name);

class TestPki {
 public:
  explicit TestPki(std::string dir, std::string trust_domain = "example.org");

  const std::string& dir() const { return dir_; }
  const std::string& trust_domain() const { return trust_domain_; }
  const std::string& ca_cert_path() const { return ca_cert_path_; }
  const KeyAndCert& ca() const { return ca_; }
  bool ok() const { return status_.ok(); }

  // Issues <stem>.crt/.key signed by this CA with the given options.
  StatusOr<TlsFiles> TryIssue(std::string_view stem, const CertOptions& options);
  TlsFiles Issue(std::string_view stem, const CertOptions& options);

  // Valid identities.
  // spiffe://<td>/collector/<name>, DNS localhost, IP 127.0.0.1, server+client auth.
  TlsFiles Collector(std::string_view name = "main");
  TlsFiles Agent(std::string_view account, std::string_view region, std::string_view name = "a1");
  TlsFiles Auditor(std::string_view name = "alice");
  TlsFiles Admin(std::string_view name = "root");
  TlsFiles AccountAdmin(std::string_view account, std::string_view name = "ops");

  // Hostile variants (all client certificates signed by this CA unless said).
  TlsFiles TwoUriSans();          // agent ID plus a second spiffe URI
  TlsFiles CaLeaf();              // valid agent ID, basicConstraints CA:TRUE
  TlsFiles NonSpiffeUri();        // https://example.org/agent
  TlsFiles ElevenDigitAccount();  // .../account/11111111111/...
  TlsFiles OtherTrustDomain();    // spiffe://evil.example/... agent
  TlsFiles Expired();             // valid agent ID, expired 9 days ago
  TlsFiles NoDigitalSignature();  // valid agent ID, keyUsage without digitalSignature
  TlsFiles NoUriSan();            // only a DNS SAN
  // A valid-looking agent certificate signed by another CA (ca_cert_path in
  // the result is still THIS organization's CA, for verifying the server).
  TlsFiles FromOtherCa();
  // The other CA's certificate path (created on first use).
  std::string OtherCaCertPath();

  // Option sets the methods above use, for tests that tweak one field.
  CertOptions CollectorOptions(std::string_view name) const;
  CertOptions AgentOptions(std::string_view account, std::string_view region,
                           std::string_view name) const;

 private:
  TlsFiles Must(std::string_view stem, StatusOr<TlsFiles> files);
  Status EnsureOtherCa();

  std::string dir_;
  std::string trust_domain_;
  std::string ca_cert_path_;
  KeyAndCert ca_;
  KeyAndCert other_ca_;
  std::string other_ca_cert_path_;
  Status status_;
};

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_PKI_FIXTURE_H_
