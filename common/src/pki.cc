// Organization PKI on OpenSSL 3.0: key generation, CA and SVID leaf
// certificates. See pki.h for the contract. Key and certificate files are in
// pki_files.cc, reading certificates back in pki_inspect.cc, the helpers they
// share in pki_internal.h.
#include "orgtrail/common/pki.h"

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "orgtrail/common/time_util.h"
#include "pki_internal.h"

namespace orgtrail {
namespace {

using pki_internal::BioPtr;
using pki_internal::BnPtr;
using pki_internal::CheckTrustDomain;
using pki_internal::ExtensionPtr;
using pki_internal::GeneralNamesPtr;
using pki_internal::kMicrosPerSecond;
using pki_internal::kSecondsPerDay;
using pki_internal::OpenSslFailure;
using pki_internal::ParseCertificatePem;
using pki_internal::ParsePrivateKeyPem;
using pki_internal::PkeyPtr;
using pki_internal::X509Ptr;

constexpr int64_t kMaxValidityDays = 36500;
constexpr size_t kMaxSanLength = 2048;
constexpr size_t kMaxSans = 64;


StatusOr<PkeyPtr> GenerateKey(KeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::kEcdsaP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeyType::kRsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
  }
  if (key == nullptr) return OpenSslFailure("key generation");
  return PkeyPtr(key);
}

// Ed25519 signs without a separate digest.
const EVP_MD* SigningDigest(EVP_PKEY* key) {
  return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

bool IsRsa(EVP_PKEY* key) { return EVP_PKEY_get_id(key) == EVP_PKEY_RSA; }

StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslFailure("writing private key PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

StatusOr<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslFailure("writing certificate PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// A random positive 127-bit serial number (RFC 5280: at most 20 octets).
Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslFailure("random serial");
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;  // never zero, never a shorter encoding surprise
  BnPtr bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslFailure("serial number");
  }
  return absl::OkStatus();
}

Status CheckValidity(int64_t not_before_us, int64_t validity_days) {
  if (validity_days <= 0 || validity_days > kMaxValidityDays) {
    return absl::InvalidArgumentError("validity_days must be in 1.." +
                                      std::to_string(kMaxValidityDays) + ", got " +
                                      std::to_string(validity_days));
  }
  if (not_before_us < 0) return absl::InvalidArgumentError("not_before_us must not be negative");
  return absl::OkStatus();
}

// not_after_us > 0 sets notAfter exactly instead of notBefore + validity_days.
Status SetValidity(X509* cert, int64_t not_before_us, int64_t validity_days, int64_t not_after_us = 0) {
  ORGTRAIL_RETURN_IF_ERROR(CheckValidity(not_before_us, validity_days));
  int64_t start_us = not_before_us != 0 ? not_before_us : NowMicros() - 3600 * kMicrosPerSecond;
  time_t start = static_cast<time_t>(start_us / kMicrosPerSecond);
  time_t end = static_cast<time_t>(start + validity_days * kSecondsPerDay);
  if (not_after_us > 0) {
    end = static_cast<time_t>(not_after_us / kMicrosPerSecond);
    if (end <= start) return absl::InvalidArgumentError("not_after_us must be after notBefore");
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert), start) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), end) == nullptr) {
    return OpenSslFailure("validity");
  }
  return absl::OkStatus();
}

Status CheckText(std::string_view what, std::string_view text) {
  if (text.size() > kMaxSanLength) {
    return absl::InvalidArgumentError(std::string(what) + " longer than " +
                                      std::to_string(kMaxSanLength) + " bytes");
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(std::string(what) +
                                        " contains a control or non-ASCII character");
    }
  }
  return absl::OkStatus();
}

Status SetSubject(X509* cert, std::string_view common_name, std::string_view organization) {
  ORGTRAIL_RETURN_IF_ERROR(CheckText("common name", common_name));
  ORGTRAIL_RETURN_IF_ERROR(CheckText("organization", organization));
  if (common_name.size() > 64) return absl::InvalidArgumentError("common name longer than 64 bytes");
  X509_NAME* name = X509_get_subject_name(cert);
  auto add = [name](const char* field, std::string_view value) {
    if (value.empty()) return true;
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  if (!add("O", organization) || !add("CN", common_name)) return OpenSslFailure("subject name");
  return absl::OkStatus();
}

// Adds an extension given in OpenSSL's config syntax (values here are fixed
// strings, never user input).
Status AddConfExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslFailure(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return absl::OkStatus();
}

Status AppendIa5Name(GENERAL_NAMES* names, int type, std::string_view value) {
  GENERAL_NAME* gen = GENERAL_NAME_new();
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  if (gen == nullptr || ia5 == nullptr ||
      ASN1_STRING_set(ia5, value.data(), static_cast<int>(value.size())) != 1) {
    GENERAL_NAME_free(gen);
    ASN1_IA5STRING_free(ia5);
    return OpenSslFailure("subject alternative name");
  }
  GENERAL_NAME_set0_value(gen, type, ia5);
  if (sk_GENERAL_NAME_push(names, gen) == 0) {
    GENERAL_NAME_free(gen);
    return OpenSslFailure("subject alternative name");
  }
  return absl::OkStatus();
}

Status AppendIpName(GENERAL_NAMES* names, const std::string& ip) {
  ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
  if (octets == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not an IP address: '" + ip + "'");
  }
  GENERAL_NAME* gen = GENERAL_NAME_new();
  if (gen == nullptr) {
    ASN1_OCTET_STRING_free(octets);
    return OpenSslFailure("subject alternative name");
  }
  GENERAL_NAME_set0_value(gen, GEN_IPADD, octets);
  if (sk_GENERAL_NAME_push(names, gen) == 0) {
    GENERAL_NAME_free(gen);
    return OpenSslFailure("subject alternative name");
  }
  return absl::OkStatus();
}

Status AddSubjectAltNames(X509* cert, const CertOptions& options) {
  size_t total = options.uri_sans.size() + options.dns_sans.size() + options.ip_sans.size();
  if (total == 0) return absl::OkStatus();
  if (total > kMaxSans) {
    return absl::InvalidArgumentError("more than " + std::to_string(kMaxSans) +
                                      " subject alternative names");
  }
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslFailure("subject alternative names");
  for (const auto& uri : options.uri_sans) {
    ORGTRAIL_RETURN_IF_ERROR(CheckText("URI SAN", uri));
    if (uri.empty()) return absl::InvalidArgumentError("empty URI SAN");
    ORGTRAIL_RETURN_IF_ERROR(AppendIa5Name(names.get(), GEN_URI, uri));
  }
  for (const auto& dns : options.dns_sans) {
    ORGTRAIL_RETURN_IF_ERROR(CheckText("DNS SAN", dns));
    if (dns.empty() || dns.size() > 253) return absl::InvalidArgumentError("bad DNS SAN length");
    ORGTRAIL_RETURN_IF_ERROR(AppendIa5Name(names.get(), GEN_DNS, dns));
  }
  for (const auto& ip : options.ip_sans) {
    ORGTRAIL_RETURN_IF_ERROR(CheckText("IP SAN", ip));
    ORGTRAIL_RETURN_IF_ERROR(AppendIpName(names.get(), ip));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("subject alternative names");
  }
  return absl::OkStatus();
}

std::string LeafKeyUsage(const CertOptions& options, EVP_PKEY* key) {
  std::string usage = "critical";
  if (options.digital_signature) usage += ",digitalSignature";
  if (IsRsa(key) && options.server_auth) usage += ",keyEncipherment";
  if (!options.digital_signature && !IsRsa(key)) usage += ",keyAgreement";
  if (!options.digital_signature && IsRsa(key) && !options.server_auth) usage += ",keyEncipherment";
  if (options.is_ca) usage += ",keyCertSign,cRLSign";
  return usage;
}

Status AddLeafExtensions(X509* cert, X509* issuer, EVP_PKEY* key, const CertOptions& options) {
  ORGTRAIL_RETURN_IF_ERROR(AddConfExtension(
      cert, issuer, NID_basic_constraints, options.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  std::string key_usage = LeafKeyUsage(options, key);
  ORGTRAIL_RETURN_IF_ERROR(AddConfExtension(cert, issuer, NID_key_usage, key_usage.c_str()));
  std::string eku;
  if (options.server_auth) eku = "serverAuth";
  if (options.client_auth) eku += eku.empty() ? "clientAuth" : ",clientAuth";
  if (!eku.empty()) {
    ORGTRAIL_RETURN_IF_ERROR(AddConfExtension(cert, issuer, NID_ext_key_usage, eku.c_str()));
  }
  ORGTRAIL_RETURN_IF_ERROR(AddConfExtension(cert, issuer, NID_subject_key_identifier, "hash"));
  ORGTRAIL_RETURN_IF_ERROR(
      AddConfExtension(cert, issuer, NID_authority_key_identifier, "keyid:always"));
  return AddSubjectAltNames(cert, options);
}

Status SignCertificate(X509* cert, EVP_PKEY* signing_key) {
  if (X509_sign(cert, signing_key, SigningDigest(signing_key)) <= 0) {
    return OpenSslFailure("signing certificate");
  }
  return absl::OkStatus();
}

StatusOr<KeyAndCert> ToPem(EVP_PKEY* key, X509* cert) {
  KeyAndCert out;
  auto key_pem = PrivateKeyToPem(key);
  if (!key_pem.ok()) return key_pem.status();
  auto cert_pem = CertificateToPem(cert);
  if (!cert_pem.ok()) return cert_pem.status();
  out.key_pem = std::move(*key_pem);
  out.cert_pem = std::move(*cert_pem);
  return out;
}

}  // namespace

StatusOr<KeyAndCert> CreateCa(const CaOptions& options) {
  ORGTRAIL_RETURN_IF_ERROR(CheckTrustDomain(options.trust_domain));
  ORGTRAIL_RETURN_IF_ERROR(CheckValidity(options.not_before_us, options.validity_days));
  auto key = GenerateKey(options.key_type);
  if (!key.ok()) return key.status();
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return OpenSslFailure("new certificate");
  ORGTRAIL_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  ORGTRAIL_RETURN_IF_ERROR(SetValidity(cert.get(), options.not_before_us, options.validity_days));
  ORGTRAIL_RETURN_IF_ERROR(SetSubject(cert.get(), options.common_name, options.trust_domain));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), key->get()) != 1) {
    return OpenSslFailure("CA issuer/public key");
  }
  X509* self = cert.get();
  ORGTRAIL_RETURN_IF_ERROR(AddConfExtension(self, self, NID_basic_constraints, "critical,CA:TRUE"));
  ORGTRAIL_RETURN_IF_ERROR(
      AddConfExtension(self, self, NID_key_usage, "critical,keyCertSign,cRLSign"));
  ORGTRAIL_RETURN_IF_ERROR(AddConfExtension(self, self, NID_subject_key_identifier, "hash"));
  ORGTRAIL_RETURN_IF_ERROR(
      AddConfExtension(self, self, NID_authority_key_identifier, "keyid:always"));
  std::string spiffe_root = "spiffe://" + options.trust_domain;
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslFailure("CA subject alternative name");
  ORGTRAIL_RETURN_IF_ERROR(AppendIa5Name(names.get(), GEN_URI, spiffe_root));
  if (X509_add1_ext_i2d(self, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("CA subject alternative name");
  }
  ORGTRAIL_RETURN_IF_ERROR(SignCertificate(self, key->get()));
  return ToPem(key->get(), self);
}

StatusOr<KeyAndCert> IssueCertificate(const KeyAndCert& ca, const CertOptions& options) {
  auto ca_key = ParsePrivateKeyPem(ca.key_pem);
  if (!ca_key.ok()) return absl::InvalidArgumentError("CA key: " + std::string(ca_key.status().message()));
  auto ca_cert = ParseCertificatePem(ca.cert_pem);
  if (!ca_cert.ok()) return absl::InvalidArgumentError("CA certificate: " + std::string(ca_cert.status().message()));
  if (X509_check_private_key(ca_cert->get(), ca_key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CA key does not match the CA certificate");
  }
  if (X509_check_ca(ca_cert->get()) == 0) {
    return absl::InvalidArgumentError("the issuing certificate is not a CA");
  }
  ORGTRAIL_RETURN_IF_ERROR(CheckValidity(options.not_before_us, options.validity_days));
  auto key = GenerateKey(options.key_type);
  if (!key.ok()) return key.status();
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return OpenSslFailure("new certificate");
  ORGTRAIL_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  ORGTRAIL_RETURN_IF_ERROR(
      SetValidity(cert.get(), options.not_before_us, options.validity_days, options.not_after_us));
  ORGTRAIL_RETURN_IF_ERROR(SetSubject(cert.get(), options.common_name, ""));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get())) != 1 ||
      X509_set_pubkey(cert.get(), key->get()) != 1) {
    return OpenSslFailure("issuer/public key");
  }
  ORGTRAIL_RETURN_IF_ERROR(AddLeafExtensions(cert.get(), ca_cert->get(), key->get(), options));
  ORGTRAIL_RETURN_IF_ERROR(SignCertificate(cert.get(), ca_key->get()));
  return ToPem(key->get(), cert.get());
}

}  // namespace orgtrail
