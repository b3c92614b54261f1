// Digital signatures through OpenSSL EVP only.
//
// Key types and algorithm names:
//   EC P-256  -> "ECDSA_P256_SHA256" (DER-encoded ECDSA signature over SHA-256)
//   Ed25519   -> "ED25519"
//   RSA       -> "SHA256withRSA"      (PKCS#1 v1.5, as CloudTrail digests)
// Signer and Verifier are immutable after creation and safe to share between
// threads (each call uses its own EVP_MD_CTX). Errors: INVALID_ARGUMENT for
// unreadable keys or unsupported key types; Verify returns
// UNAUTHENTICATED("signature verification failed") on a bad signature.
#ifndef ORGTRAIL_COMMON_SIGNER_H_
#define ORGTRAIL_COMMON_SIGNER_H_

#include <memory>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail {

class Signer {
 public:
  static StatusOr<std::unique_ptr<Signer>> FromPrivateKeyPem(std::string_view pem);
  static StatusOr<std::unique_ptr<Signer>> FromPrivateKeyFile(const std::string& path);
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  StatusOr<std::string> Sign(std::string_view message) const;
  const std::string& algorithm() const { return algorithm_; }
  // SubjectPublicKeyInfo DER of the matching public key.
  std::string PublicKeyDer() const;

 private:
  Signer(void* pkey, std::string algorithm);
  void* pkey_;  // EVP_PKEY*
  std::string algorithm_;
};

class Verifier {
 public:
  // From a PEM certificate (its public key), a PEM public key, or DER
  // SubjectPublicKeyInfo / PKCS#1 RSAPublicKey.
  static StatusOr<std::unique_ptr<Verifier>> FromCertificatePem(std::string_view pem);
  static StatusOr<std::unique_ptr<Verifier>> FromPublicKeyPem(std::string_view pem);
  static StatusOr<std::unique_ptr<Verifier>> FromPublicKeyDer(std::string_view der);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // `algorithm` must match the key type (see above) or verification fails.
  Status Verify(std::string_view message, std::string_view signature,
                std::string_view algorithm) const;
  const std::string& algorithm() const { return algorithm_; }

 private:
  Verifier(void* pkey, std::string algorithm);
  void* pkey_;  // EVP_PKEY*
  std::string algorithm_;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_SIGNER_H_
