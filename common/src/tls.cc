// gRPC mutual-TLS credentials with file-watched (rotatable) certificates, and
// the authenticated peer's identity. See tls.h for the contract.
#include "orgtrail/common/tls.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "orgtrail/common/pki.h"

namespace orgtrail {
namespace {

constexpr char kPemCertProperty[] = GRPC_X509_PEM_CERT_PROPERTY_NAME;
constexpr int kMaxRefreshSeconds = 86400;

struct BioFree { void operator()(BIO* b) const { BIO_free_all(b); } };
struct X509Free { void operator()(X509* x) const { X509_free(x); } };
struct PkeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };

// Reads and parses the three files up front so a misconfiguration is a clear
// startup error naming the file, not a silent handshake failure later.
Status CheckTlsFiles(const TlsFiles& files) {
  if (files.ca_cert_path.empty()) return absl::InvalidArgumentError("TLS: no CA certificate file given");
  if (files.cert_path.empty()) return absl::InvalidArgumentError("TLS: no certificate file given");
  if (files.key_path.empty()) return absl::InvalidArgumentError("TLS: no private key file given");
  if (files.refresh_interval_seconds <= 0 || files.refresh_interval_seconds > kMaxRefreshSeconds) {
    return absl::InvalidArgumentError("TLS: refresh interval must be 1..86400 seconds");
  }
  auto read = [](const std::string& path) -> StatusOr<std::string> {
    auto text = ReadFile(path);
    if (!text.ok()) return absl::InvalidArgumentError("TLS: " + std::string(text.status().message()));
    return text;
  };
  auto ca = read(files.ca_cert_path);
  if (!ca.ok()) return ca.status();
  auto cert = read(files.cert_path);
  if (!cert.ok()) return cert.status();
  auto key = read(files.key_path);
  if (!key.ok()) return key.status();

  std::unique_ptr<BIO, BioFree> ca_bio(BIO_new_mem_buf(ca->data(), static_cast<int>(ca->size())));
  std::unique_ptr<X509, X509Free> ca_cert(
      PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new_mem_buf(cert->data(), static_cast<int>(cert->size())));
  std::unique_ptr<X509, X509Free> leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<BIO, BioFree> key_bio(BIO_new_mem_buf(key->data(), static_cast<int>(key->size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!ca_cert) return absl::InvalidArgumentError("TLS: '" + files.ca_cert_path + "' is not a PEM certificate");
  if (!leaf) return absl::InvalidArgumentError("TLS: '" + files.cert_path + "' is not a PEM certificate");
  if (!pkey) return absl::InvalidArgumentError("TLS: '" + files.key_path + "' is not a PEM private key");
  if (X509_check_private_key(leaf.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("TLS: key '" + files.key_path +
                                      "' does not match certificate '" + files.cert_path + "'");
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> MakeProvider(
    const TlsFiles& files) {
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_path, files.cert_path, files.ca_cert_path,
      static_cast<unsigned int>(files.refresh_interval_seconds));
}

}  // namespace

StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const TlsFiles& files) {
  ORGTRAIL_RETURN_IF_ERROR(CheckTlsFiles(files));
  grpc::experimental::TlsServerCredentialsOptions options(MakeProvider(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  auto credentials = grpc::experimental::TlsServerCredentials(options);
  if (!credentials) return absl::InternalError("TLS: gRPC refused the server credentials");
  return credentials;
}

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const TlsFiles& files) {
  ORGTRAIL_RETURN_IF_ERROR(CheckTlsFiles(files));
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(MakeProvider(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  options.set_check_call_host(true);
  auto credentials = grpc::experimental::TlsCredentials(options);
  if (!credentials) return absl::InternalError("TLS: gRPC refused the channel credentials");
  return credentials;
}

std::string PeerCertificatePem(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth) return "";
  std::vector<grpc::string_ref> values = auth->FindPropertyValues(kPemCertProperty);
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

StatusOr<Identity> PeerIdentity(const grpc::ServerContextBase& context,
                                std::string_view expected_trust_domain) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  // With GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY a client
  // certificate present on a TLS transport has been verified against the CA.
  if (!auth) return absl::UnauthenticatedError("no verified client certificate");
  std::vector<grpc::string_ref> security =
      auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  std::string type = security.empty() ? "" : std::string(security.front().data(), security.front().size());
  if (type != GRPC_TLS_TRANSPORT_SECURITY_TYPE && type != GRPC_SSL_TRANSPORT_SECURITY_TYPE) {
    return absl::UnauthenticatedError("connection is not TLS");
  }
  std::string pem = PeerCertificatePem(context);
  if (pem.empty()) return absl::UnauthenticatedError("no verified client certificate");
  auto identity = IdentityFromCertificatePem(pem, expected_trust_domain);
  if (!identity.ok() && identity.status().code() == absl::StatusCode::kInvalidArgument) {
    // The certificate chains to our CA but is not a usable SVID: an
    // authorization failure for the caller, not bad request data.
    return absl::PermissionDeniedError("client certificate: " +
                                       std::string(identity.status().message()));
  }
  return identity;
}

}  // namespace orgtrail
