// Organization PKI on OpenSSL 3.0: key generation, CA and SVID leaf
// certificates, atomic file writes. See pki.h for the contract.
#include "orgtrail/common/pki.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <cstdio>
#include <memory>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace orgtrail {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMaxValidityDays = 36500;
constexpr size_t kMaxSanLength = 2048;
constexpr size_t kMaxSans = 64;
constexpr size_t kMaxPemBytes = 1 << 20;
constexpr size_t kMaxReadFileBytes = size_t{256} << 20;

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
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  std::string text = code == 0 ? "unknown OpenSSL error" : ERR_error_string(code, nullptr);
  ERR_clear_error();
  return text;
}

Status OpenSslFailure(std::string_view what) {
  return absl::InternalError(std::string(what) + ": " + OpenSslError());
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

Status SetValidity(X509* cert, int64_t not_before_us, int64_t validity_days) {
  ORGTRAIL_RETURN_IF_ERROR(CheckValidity(not_before_us, validity_days));
  int64_t start_us = not_before_us != 0 ? not_before_us : NowMicros() - 3600 * kMicrosPerSecond;
  time_t start = static_cast<time_t>(start_us / kMicrosPerSecond);
  time_t end = static_cast<time_t>(start + validity_days * kSecondsPerDay);
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

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  return absl::UnavailableError(std::string(what) + " '" + path + "': " + std::strerror(err));
}

Status WriteAll(int fd, std::string_view contents, const std::string& path) {
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("writing", path, errno);
    }
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

Status FsyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync of directory", dir, err);
  return absl::OkStatus();
}

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

std::string NameToText(X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
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
  ORGTRAIL_RETURN_IF_ERROR(SetValidity(cert.get(), options.not_before_us, options.validity_days));
  ORGTRAIL_RETURN_IF_ERROR(SetSubject(cert.get(), options.common_name, ""));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get())) != 1 ||
      X509_set_pubkey(cert.get(), key->get()) != 1) {
    return OpenSslFailure("issuer/public key");
  }
  ORGTRAIL_RETURN_IF_ERROR(AddLeafExtensions(cert.get(), ca_cert->get(), key->get(), options));
  ORGTRAIL_RETURN_IF_ERROR(SignCertificate(cert.get(), ca_key->get()));
  return ToPem(key->get(), cert.get());
}

Status WriteKeyAndCert(const KeyAndCert& kc, const std::string& key_path,
                       const std::string& cert_path) {
  if (!key_path.empty()) ORGTRAIL_RETURN_IF_ERROR(WriteFileAtomically(key_path, kc.key_pem, 0600));
  if (!cert_path.empty()) {
    ORGTRAIL_RETURN_IF_ERROR(WriteFileAtomically(cert_path, kc.cert_pem, 0644));
  }
  return absl::OkStatus();
}

StatusOr<KeyAndCert> ReadKeyAndCert(const std::string& key_path, const std::string& cert_path) {
  KeyAndCert kc;
  if (!key_path.empty()) {
    auto key = ReadFile(key_path);
    if (!key.ok()) return key.status();
    if (!ParsePrivateKeyPem(*key).ok()) {
      return absl::InvalidArgumentError("'" + key_path + "' is not a PEM private key");
    }
    kc.key_pem = std::move(*key);
  }
  if (!cert_path.empty()) {
    auto cert = ReadFile(cert_path);
    if (!cert.ok()) return cert.status();
    if (!ParseCertificatePem(*cert).ok()) {
      return absl::InvalidArgumentError("'" + cert_path + "' is not a PEM certificate");
    }
    kc.cert_pem = std::move(*cert);
  }
  return kc;
}

Status WriteFileAtomically(const std::string& path, std::string_view contents, int mode) {
  if (path.empty()) return absl::InvalidArgumentError("empty file path");
  std::string temp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("creating temporary file for", path, errno);
  Status status = absl::OkStatus();
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) status = ErrnoStatus("chmod", temp, errno);
  // Keep the owner of a file being replaced (root renewing a certificate
  // that a service user reads). Best effort: only root may give files away.
  struct stat existing;
  if (status.ok() && ::stat(path.c_str(), &existing) == 0 &&
      (existing.st_uid != ::geteuid() || existing.st_gid != ::getegid())) {
    if (::fchown(fd, existing.st_uid, existing.st_gid) != 0 && errno != EPERM) {
      status = ErrnoStatus("chown", temp, errno);
    }
  }
  if (status.ok()) status = WriteAll(fd, contents, temp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("fsync", temp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("closing", temp, errno);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("renaming to", path, errno);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return FsyncDirectory(DirectoryOf(path));
}

StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == EACCES || err == ENOTDIR) {
      return absl::InvalidArgumentError("cannot open '" + path + "': " + std::strerror(err));
    }
    return ErrnoStatus("opening", path, err);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError("'" + path + "' is not a regular file");
  }
  std::string out;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus("reading", path, err);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > kMaxReadFileBytes) {
      ::close(fd);
      return absl::InvalidArgumentError("'" + path + "' is larger than 256 MiB");
    }
  }
  ::close(fd);
  return out;
}

}  // namespace orgtrail

namespace orgtrail {

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
  out += "subject:       " + NameToText(X509_get_subject_name(x)) + "\n";
  out += "issuer:        " + NameToText(X509_get_issuer_name(x)) + "\n";
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
