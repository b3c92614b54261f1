// Organization PKI: reading certificates back: the CertOptions a
// certificate was issued with (for renewal), a CA's trust domain, and the
// human-readable description `orgtrailctl pki show` prints. See pki.h for the
// contract.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "orgtrail/common/pki.h"
#include "pki_internal.h"

namespace orgtrail {
namespace {

using pki_internal::BioPtr;
using pki_internal::BnPtr;
using pki_internal::CheckTrustDomain;
using pki_internal::kMicrosPerSecond;
using pki_internal::kSecondsPerDay;
using pki_internal::ParseCertificatePem;

// Seconds since the epoch of an ASN1_TIME.
int64_t Asn1TimeToUnix(const ASN1_TIME* time) {
  struct tm tm_value;
  if (ASN1_TIME_to_tm(time, &tm_value) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm_value));
}

std::string Asn1TimeToText(const ASN1_TIME* time) {
  time_t t = static_cast<time_t>(Asn1TimeToUnix(time));
  struct tm tm_value;
  gmtime_r(&t, &tm_value);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm_value);
  return buffer;
}

std::string IpToText(const ASN1_OCTET_STRING* ip) {
  char buffer[64] = {0};
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  if (len == 4) {
    std::snprintf(buffer, sizeof(buffer), "%u.%u.%u.%u", data[0], data[1], data[2], data[3]);
    return buffer;
  }
  if (len == 16) {
    std::string out;
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buffer, sizeof(buffer), "%s%x", i == 0 ? "" : ":", (data[i] << 8) | data[i + 1]);
      out += buffer;
    }
    return out;
  }
  return "<bad IP>";
}

std::string Ia5ToText(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

void ReadSubjectAltNames(X509* cert, CertOptions* options) {
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names, i);
    if (gen->type == GEN_URI) options->uri_sans.push_back(Ia5ToText(gen->d.uniformResourceIdentifier));
    if (gen->type == GEN_DNS) options->dns_sans.push_back(Ia5ToText(gen->d.dNSName));
    if (gen->type == GEN_IPADD) options->ip_sans.push_back(IpToText(gen->d.iPAddress));
  }
  GENERAL_NAMES_free(names);
}

std::string SubjectAttribute(X509_NAME* name, int nid) {
  char buffer[256] = {0};
  int len = X509_NAME_get_text_by_NID(name, nid, buffer, sizeof(buffer));
  return len > 0 ? std::string(buffer, static_cast<size_t>(len)) : "";
}

StatusOr<KeyType> KeyTypeOf(EVP_PKEY* key) {
  switch (EVP_PKEY_get_id(key)) {
    case EVP_PKEY_EC: return KeyType::kEcdsaP256;
    case EVP_PKEY_ED25519: return KeyType::kEd25519;
    case EVP_PKEY_RSA: return KeyType::kRsa2048;
    default: return absl::InvalidArgumentError("unsupported public key type");
  }
}

const char* KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256: return "ECDSA P-256";
    case KeyType::kEd25519: return "Ed25519";
    case KeyType::kRsa2048: return "RSA";
  }
  return "unknown";
}

}  // namespace

StatusOr<CertOptions> CertificateOptionsFromPem(std::string_view cert_pem) {
  auto cert = ParseCertificatePem(cert_pem);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  CertOptions options;
  ReadSubjectAltNames(x, &options);
  options.common_name = SubjectAttribute(X509_get_subject_name(x), NID_commonName);
  int64_t not_before = Asn1TimeToUnix(X509_get0_notBefore(x));
  int64_t not_after = Asn1TimeToUnix(X509_get0_notAfter(x));
  options.not_before_us = not_before * kMicrosPerSecond;
  options.validity_days = std::max<int64_t>(1, (not_after - not_before) / kSecondsPerDay);
  options.is_ca = X509_check_ca(x) != 0;
  uint32_t usage = X509_get_key_usage(x);
  options.digital_signature = usage == UINT32_MAX || (usage & KU_DIGITAL_SIGNATURE) != 0;
  uint32_t eku = X509_get_extended_key_usage(x);
  bool has_eku = (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) != 0;
  options.server_auth = has_eku && (eku & XKU_SSL_SERVER) != 0;
  options.client_auth = has_eku && (eku & XKU_SSL_CLIENT) != 0;
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (key == nullptr) return absl::InvalidArgumentError("certificate has no readable public key");
  auto type = KeyTypeOf(key);
  if (!type.ok()) return type.status();
  options.key_type = *type;
  return options;
}

StatusOr<std::string> CaTrustDomain(std::string_view ca_cert_pem) {
  auto options = CertificateOptionsFromPem(ca_cert_pem);
  if (!options.ok()) return options.status();
  constexpr std::string_view kScheme = "spiffe://";
  for (const auto& uri : options->uri_sans) {
    if (uri.compare(0, kScheme.size(), kScheme) != 0) continue;
    std::string domain = uri.substr(kScheme.size());
    if (!domain.empty() && domain.back() == '/') domain.pop_back();
    if (CheckTrustDomain(domain).ok()) return domain;
  }
  auto cert = ParseCertificatePem(ca_cert_pem);
  std::string org = SubjectAttribute(X509_get_subject_name(cert->get()), NID_organizationName);
  if (CheckTrustDomain(org).ok()) return org;
  return absl::InvalidArgumentError("the CA certificate names no trust domain (no spiffe:// URI SAN)");
}

StatusOr<std::string> DescribeCertificate(std::string_view cert_pem) {
  auto cert = ParseCertificatePem(cert_pem);
  if (!cert.ok()) return cert.status();
  auto options = CertificateOptionsFromPem(cert_pem);
  if (!options.ok()) return options.status();
  X509* x = cert->get();
  std::string out;
  out += "subject:       " + pki_internal::NameToText(X509_get_subject_name(x)) + "\n";
  out += "issuer:        " + pki_internal::NameToText(X509_get_issuer_name(x)) + "\n";
  BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  char* serial_hex = serial ? BN_bn2hex(serial.get()) : nullptr;
  out += "serial:        " + std::string(serial_hex != nullptr ? serial_hex : "?") + "\n";
  OPENSSL_free(serial_hex);
  out += "not before:    " + Asn1TimeToText(X509_get0_notBefore(x)) + "\n";
  out += "not after:     " + Asn1TimeToText(X509_get0_notAfter(x)) + "\n";
  out += std::string("key:           ") + KeyTypeName(options->key_type) + "\n";
  out += std::string("CA:            ") + (options->is_ca ? "yes" : "no") + "\n";
  for (const auto& uri : options->uri_sans) out += "URI SAN:       " + uri + "\n";
  for (const auto& dns : options->dns_sans) out += "DNS SAN:       " + dns + "\n";
  for (const auto& ip : options->ip_sans) out += "IP SAN:        " + ip + "\n";
  std::string usages;
  uint32_t usage = X509_get_key_usage(x);
  if (usage != UINT32_MAX) {
    if (usage & KU_DIGITAL_SIGNATURE) usages += " digitalSignature";
    if (usage & KU_KEY_ENCIPHERMENT) usages += " keyEncipherment";
    if (usage & KU_KEY_AGREEMENT) usages += " keyAgreement";
    if (usage & KU_KEY_CERT_SIGN) usages += " keyCertSign";
    if (usage & KU_CRL_SIGN) usages += " cRLSign";
  }
  out += "key usage:    " + (usages.empty() ? std::string(" (none)") : usages) + "\n";
  std::string ekus;
  if (options->server_auth) ekus += " serverAuth";
  if (options->client_auth) ekus += " clientAuth";
  out += "extended use: " + (ekus.empty() ? std::string(" (none)") : ekus) + "\n";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(x, EVP_sha256(), digest, &length) == 1) {
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
      hex += kHex[digest[i] >> 4];
      hex += kHex[digest[i] & 15];
    }
    out += "sha256:        " + hex + "\n";
  }
  return out;
}

}  // namespace orgtrail
