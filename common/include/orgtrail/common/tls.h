// gRPC mutual-TLS credentials from PEM files, with certificate rotation
// without restart (grpc::experimental::FileWatcherCertificateProvider), and
// reading the authenticated peer's identity from a server context.
// Thread-safe. Missing/unreadable files are INVALID_ARGUMENT naming the file.
#ifndef ORGTRAIL_COMMON_TLS_H_
#define ORGTRAIL_COMMON_TLS_H_

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include "orgtrail/common/identity.h"
#include "orgtrail/common/status.h"

namespace orgtrail {

struct TlsFiles {
  std::string ca_cert_path;
  std::string cert_path;
  std::string key_path;
  int refresh_interval_seconds = 5;  // how often the files are re-read
};

// Server side: client certificates required and verified against the CA.
StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const TlsFiles& files);

// Client side: verifies the server against the CA and its DNS/IP SAN.
StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const TlsFiles& files);

// The authenticated peer of an RPC: its leaf certificate (PEM) parsed with the
// SVID rules. UNAUTHENTICATED when there is no verified client certificate.
StatusOr<Identity> PeerIdentity(const grpc::ServerContextBase& context,
                                std::string_view expected_trust_domain);
// The peer's leaf certificate PEM (empty if none).
std::string PeerCertificatePem(const grpc::ServerContextBase& context);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_TLS_H_
