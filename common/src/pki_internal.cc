// Private helpers shared by the PKI files (see pki_internal.h).
#include "pki_internal.h"

#include <string>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace orgtrail::pki_internal {
namespace {

constexpr size_t kMaxPemBytes = 1 << 20;

}  // namespace

// The last OpenSSL error as text (and clears the queue).
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  std::string text = code == 0 ? "unknown OpenSSL error" : ERR_error_string(code, nullptr);
  ERR_clear_error();
  return text;
}

Status OpenSslFailure(std::string_view what) {
  return absl::InternalError(std::string(what) + ": " + OpenSslError());
}

StatusOr<PkeyPtr> ParsePrivateKeyPem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return absl::InvalidArgumentError("private key PEM too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a PEM private key");
  }
  return PkeyPtr(key);
}

StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return absl::InvalidArgumentError("certificate PEM too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* cert = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a PEM certificate");
  }
  return X509Ptr(cert);
}

StatusOr<std::vector<X509Ptr>> ParseCertificateBundle(std::string_view pem, std::string_view what,
                                                      size_t max_bytes) {
  if (pem.size() > max_bytes) return absl::InvalidArgumentError(std::string(what) + " too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> certs;
  while (bio) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    certs.emplace_back(cert);
  }
  ERR_clear_error();
  if (certs.empty()) return absl::InvalidArgumentError(std::string(what) + ": no PEM certificate");
  return certs;
}

std::string NameToText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Status CheckTrustDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 255) {
    return absl::InvalidArgumentError("trust domain must be 1-255 characters");
  }
  for (char c : domain) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) {
      return absl::InvalidArgumentError("trust domain '" + std::string(domain) +
                                        "' may only contain [a-z0-9._-]");
    }
  }
  return absl::OkStatus();
}

}  // namespace orgtrail::pki_internal
