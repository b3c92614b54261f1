// Private helpers shared by the PKI files (pki.cc: key generation and
// issuing; pki_files.cc: key and certificate files; pki_inspect.cc: reading
// certificates back): owning pointers for OpenSSL objects, OpenSSL errors as
// Status, PEM parsing with a size limit, and the trust-domain syntax check.
// Not part of the public API (see orgtrail/common/pki.h).
// Contract: OpenSslFailure returns INTERNAL "<what>: <OpenSSL error>" and
// clears OpenSSL's error queue. The PEM parsers return INVALID_ARGUMENT for
// input over 1 MiB or that is not a PEM private key / certificate (clearing
// OpenSSL's error queue). CheckTrustDomain accepts 1-255 characters of
// [a-z0-9._-]. Thread-safe.
#ifndef ORGTRAIL_COMMON_SRC_PKI_INTERNAL_H_
#define ORGTRAIL_COMMON_SRC_PKI_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "orgtrail/common/status.h"

namespace orgtrail::pki_internal {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;

struct BioFree { void operator()(BIO* b) const { BIO_free_all(b); } };
struct X509Free { void operator()(X509* x) const { X509_free(x); } };
struct PkeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };
struct NameFree { void operator()(X509_NAME* n) const { X509_NAME_free(n); } };
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct ExtensionFree { void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); } };
struct BnFree { void operator()(BIGNUM* b) const { BN_free(b); } };

using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, ExtensionFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// The last OpenSSL error as text (and clears the queue).
std::string OpenSslError();

Status OpenSslFailure(std::string_view what);

StatusOr<PkeyPtr> ParsePrivateKeyPem(std::string_view pem);

StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem);

// Every certificate of a PEM bundle (at least one). `what` names the input in errors; a bundle
// over max_bytes is refused before it is read.
StatusOr<std::vector<X509Ptr>> ParseCertificateBundle(std::string_view pem, std::string_view what,
                                                      size_t max_bytes);

// An X.509 name as RFC 2253 text ("" if OpenSSL cannot print it).
std::string NameToText(const X509_NAME* name);

Status CheckTrustDomain(std::string_view domain);

}  // namespace orgtrail::pki_internal

#endif  // ORGTRAIL_COMMON_SRC_PKI_INTERNAL_H_
