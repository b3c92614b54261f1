// X.509 CRLs of the organization CA on OpenSSL 3.0: parse and verify, issue
// and extend. See crl.h for the contract.
#include "orgtrail/common/crl.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "orgtrail/common/time_util.h"
#include "pki_internal.h"

namespace orgtrail {
namespace {

using pki_internal::BioPtr;
using pki_internal::BnPtr;
using pki_internal::ExtensionPtr;
using pki_internal::kMicrosPerSecond;
using pki_internal::kSecondsPerDay;
using pki_internal::NameToText;
using pki_internal::OpenSslFailure;
using pki_internal::ParseCertificatePem;
using pki_internal::ParsePrivateKeyPem;
using pki_internal::X509Ptr;

struct CrlFree { void operator()(X509_CRL* c) const { X509_CRL_free(c); } };
struct RevokedFree { void operator()(X509_REVOKED* r) const { X509_REVOKED_free(r); } };
struct Asn1IntegerFree { void operator()(ASN1_INTEGER* i) const { ASN1_INTEGER_free(i); } };
struct Asn1TimeFree { void operator()(ASN1_TIME* t) const { ASN1_TIME_free(t); } };
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, RevokedFree>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Asn1IntegerFree>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Asn1TimeFree>;

constexpr size_t kMaxCaBundleBytes = 4u << 20;
constexpr size_t kMaxSerialBytes = 32;
constexpr size_t kMaxSerialHexDigits = 2 * kMaxSerialBytes;
constexpr int64_t kMaxNextUpdateDays = 3650;
constexpr std::string_view kCrlBegin = "-----BEGIN X509 CRL-----";

// Seconds since the epoch; false if the time does not parse.
bool Asn1TimeToMicros(const ASN1_TIME* time, int64_t* out) {
  struct tm tm_value;
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm_value) != 1) {
    ERR_clear_error();
    return false;
  }
  *out = static_cast<int64_t>(timegm(&tm_value)) * kMicrosPerSecond;
  return true;
}

// Lowercase hex without leading zeros ("0" for zero; '-' prefix if negative).
std::string CanonicalHex(std::string hex) {
  bool negative = !hex.empty() && hex.front() == '-';
  if (negative) hex.erase(0, 1);
  size_t first = hex.find_first_not_of('0');
  hex = first == std::string::npos ? "0" : hex.substr(first);
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (negative && hex != "0") hex.insert(0, "-");
  return hex;
}

StatusOr<std::string> SerialFromAsn1(const ASN1_INTEGER* serial) {
  if (serial == nullptr) return absl::InvalidArgumentError("missing serial number");
  if (static_cast<size_t>(ASN1_STRING_length(serial)) > kMaxSerialBytes) {
    return absl::InvalidArgumentError("serial number longer than " + std::to_string(kMaxSerialBytes) + " bytes");
  }
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    ERR_clear_error();
    return absl::InvalidArgumentError("unreadable serial number");
  }
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return OpenSslFailure("serial number");
  std::string text(hex);
  OPENSSL_free(hex);
  return CanonicalHex(std::move(text));
}

// A CA certificate of the bundle that issued and signed `crl`.
Status VerifySignature(X509_CRL* crl, std::string_view ca_bundle_pem) {
  auto bundle = pki_internal::ParseCertificateBundle(ca_bundle_pem, "CA bundle", kMaxCaBundleBytes);
  if (!bundle.ok()) return bundle.status();
  const X509_NAME* issuer = X509_CRL_get_issuer(crl);
  bool issuer_known = false;
  for (const X509Ptr& ca : *bundle) {
    if (X509_NAME_cmp(X509_get_subject_name(ca.get()), issuer) != 0) continue;
    issuer_known = true;
    if (X509_check_ca(ca.get()) == 0) continue;
    const uint32_t usage = X509_get_key_usage(ca.get());
    if (usage != UINT32_MAX && (usage & KU_CRL_SIGN) == 0) continue;
    EVP_PKEY* key = X509_get0_pubkey(ca.get());
    if (key != nullptr && X509_CRL_verify(crl, key) == 1) return absl::OkStatus();
    ERR_clear_error();
  }
  ERR_clear_error();
  if (!issuer_known) {
    return absl::InvalidArgumentError("the CRL's issuer '" + NameToText(issuer).substr(0, 200) +
                                      "' is not a certificate of the CA bundle");
  }
  return absl::InvalidArgumentError("the CRL's signature does not verify with the CA's key (or the CA may not sign CRLs)");
}

// Extensions this reader understands; anything else critical is refused.
Status CheckCrlExtensions(X509_CRL* crl) {
  const int count = X509_CRL_get_ext_count(crl);
  for (int i = 0; i < count; ++i) {
    X509_EXTENSION* ext = X509_CRL_get_ext(crl, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_delta_crl) return absl::InvalidArgumentError("delta CRLs are not supported");
    if (nid == NID_issuing_distribution_point) {
      return absl::InvalidArgumentError("CRLs with an issuing distribution point (partial or indirect) are not supported");
    }
    const bool known = nid == NID_crl_number || nid == NID_authority_key_identifier;
    if (X509_EXTENSION_get_critical(ext) && !known) {
      return absl::InvalidArgumentError("the CRL has an unsupported critical extension");
    }
  }
  return absl::OkStatus();
}

StatusOr<std::vector<CrlEntry>> ReadEntries(X509_CRL* crl) {
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  const int count = revoked == nullptr ? 0 : sk_X509_REVOKED_num(revoked);
  if (static_cast<size_t>(count) > kMaxCrlEntries) {
    return absl::InvalidArgumentError("the CRL has more than " + std::to_string(kMaxCrlEntries) + " entries");
  }
  std::map<std::string, int64_t> by_serial;
  for (int i = 0; i < count; ++i) {
    X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    for (int e = 0; e < X509_REVOKED_get_ext_count(entry); ++e) {
      if (X509_EXTENSION_get_critical(X509_REVOKED_get_ext(entry, e))) {
        return absl::InvalidArgumentError("CRL entry " + std::to_string(i) + " has a critical extension");
      }
    }
    auto serial = SerialFromAsn1(X509_REVOKED_get0_serialNumber(entry));
    if (!serial.ok()) {
      return absl::InvalidArgumentError("CRL entry " + std::to_string(i) + ": " + std::string(serial.status().message()));
    }
    int64_t at = 0;
    if (!Asn1TimeToMicros(X509_REVOKED_get0_revocationDate(entry), &at)) {
      return absl::InvalidArgumentError("CRL entry " + std::to_string(i) + ": unreadable revocation date");
    }
    auto [it, inserted] = by_serial.emplace(std::move(*serial), at);
    if (!inserted) it->second = std::min(it->second, at);
  }
  std::vector<CrlEntry> entries;
  entries.reserve(by_serial.size());
  for (auto& [serial, at] : by_serial) entries.push_back(CrlEntry{serial, at});
  return entries;
}

StatusOr<CrlPtr> ParseCrlPem(std::string_view pem) {
  if (pem.size() > kMaxCrlBytes) {
    return absl::InvalidArgumentError("CRL larger than " + std::to_string(kMaxCrlBytes >> 20) + " MiB");
  }
  const size_t first = pem.find(kCrlBegin);
  if (first == std::string_view::npos) return absl::InvalidArgumentError("not a PEM X509 CRL (no '-----BEGIN X509 CRL-----')");
  if (pem.find(kCrlBegin, first + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError("more than one CRL in the file");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509_CRL* crl = bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (crl == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the X509 CRL block does not parse (bad base64 or DER)");
  }
  return CrlPtr(crl);
}

Status SetTime(ASN1_TIME** slot_owner, int64_t seconds) {
  *slot_owner = ASN1_TIME_set(nullptr, static_cast<time_t>(seconds));
  if (*slot_owner == nullptr) return OpenSslFailure("CRL time");
  return absl::OkStatus();
}

Status AddRevoked(X509_CRL* crl, const std::string& serial, int64_t revoked_at_us) {
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, serial.c_str()) == 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError("bad serial '" + serial.substr(0, 80) + "'");
  }
  BnPtr bn(raw);
  RevokedPtr entry(X509_REVOKED_new());
  Asn1IntegerPtr number(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  ASN1_TIME* at = nullptr;
  ORGTRAIL_RETURN_IF_ERROR(SetTime(&at, revoked_at_us / kMicrosPerSecond));
  Asn1TimePtr at_owner(at);
  if (!entry || !number || X509_REVOKED_set_serialNumber(entry.get(), number.get()) != 1 ||
      X509_REVOKED_set_revocationDate(entry.get(), at) != 1) {
    return OpenSslFailure("CRL entry");
  }
  if (X509_CRL_add0_revoked(crl, entry.get()) != 1) return OpenSslFailure("CRL entry");
  entry.release();  // owned by the CRL
  return absl::OkStatus();
}

}  // namespace

StatusOr<std::string> NormalizeSerial(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() > 7 && (text.substr(0, 7) == "serial=" || text.substr(0, 7) == "SERIAL=")) text.remove_prefix(7);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  std::string hex;
  size_t group = 0;
  for (char c : text) {
    if (c == ':') {
      if (group == 0) return absl::InvalidArgumentError("serial: misplaced ':'");
      group = 0;
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("serial: not hexadecimal: '" + std::string(text.substr(0, 80)) + "'");
    }
    hex += c;
    ++group;
  }
  if (hex.empty() || group == 0) return absl::InvalidArgumentError("serial: empty or ends with ':'");
  std::string canonical = CanonicalHex(std::move(hex));
  if (canonical.size() > kMaxSerialHexDigits) {
    return absl::InvalidArgumentError("serial: longer than " + std::to_string(kMaxSerialBytes) + " bytes");
  }
  return canonical;
}

StatusOr<std::string> CertificateSerial(std::string_view cert_pem) {
  auto cert = ParseCertificatePem(cert_pem);
  if (!cert.ok()) return cert.status();
  return SerialFromAsn1(X509_get0_serialNumber(cert->get()));
}

StatusOr<Crl> ParseAndVerifyCrl(std::string_view crl_pem, std::string_view ca_bundle_pem) {
  auto crl = ParseCrlPem(crl_pem);
  if (!crl.ok()) return crl.status();
  X509_CRL* x = crl->get();
  if (X509_CRL_get_version(x) > 1) return absl::InvalidArgumentError("unknown CRL version");
  // The signature first: nothing of an unverified CRL is interpreted.
  ORGTRAIL_RETURN_IF_ERROR(VerifySignature(x, ca_bundle_pem));
  ORGTRAIL_RETURN_IF_ERROR(CheckCrlExtensions(x));
  Crl out;
  out.issuer = NameToText(X509_CRL_get_issuer(x));
  if (!Asn1TimeToMicros(X509_CRL_get0_lastUpdate(x), &out.this_update_us)) {
    return absl::InvalidArgumentError("the CRL's thisUpdate does not parse");
  }
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(x);
  if (next != nullptr && !Asn1TimeToMicros(next, &out.next_update_us)) {
    return absl::InvalidArgumentError("the CRL's nextUpdate does not parse");
  }
  int critical = 0;
  Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(x, NID_crl_number, &critical, nullptr)));
  if (number) {
    uint64_t value = 0;
    if (ASN1_INTEGER_get_uint64(&value, number.get()) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError("the CRL number is not a 64-bit unsigned integer");
    }
    out.number = value;
  } else if (critical != -1) {  // present but malformed, or more than once
    ERR_clear_error();
    return absl::InvalidArgumentError("the CRL number extension does not parse");
  }
  auto entries = ReadEntries(x);
  if (!entries.ok()) return entries.status();
  out.entries = std::move(*entries);
  return out;
}

StatusOr<std::string> IssueCrl(const KeyAndCert& ca, const Crl* previous, const CrlUpdate& update) {
  if (update.next_update_days < 1 || update.next_update_days > kMaxNextUpdateDays) {
    return absl::InvalidArgumentError("next update must be 1.." + std::to_string(kMaxNextUpdateDays) + " days");
  }
  auto key = ParsePrivateKeyPem(ca.key_pem);
  if (!key.ok()) return absl::InvalidArgumentError("CA key: " + std::string(key.status().message()));
  auto cert = ParseCertificatePem(ca.cert_pem);
  if (!cert.ok()) return absl::InvalidArgumentError("CA certificate: " + std::string(cert.status().message()));
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CA key does not match the CA certificate");
  }
  if (X509_check_ca(cert->get()) == 0) return absl::InvalidArgumentError("the issuing certificate is not a CA");
  const int64_t now_us = update.now_us != 0 ? update.now_us : NowMicros();

  std::map<std::string, int64_t> entries;
  if (previous != nullptr) {
    for (const CrlEntry& e : previous->entries) entries.emplace(e.serial, e.revoked_at_us);
  }
  for (const std::string& text : update.add_serials) {
    auto serial = NormalizeSerial(text);
    if (!serial.ok()) return serial.status();
    entries.emplace(*serial, now_us);  // an already revoked serial keeps its date
  }
  if (entries.size() > kMaxCrlEntries) {
    return absl::InvalidArgumentError("a CRL may hold at most " + std::to_string(kMaxCrlEntries) + " entries");
  }

  CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(cert->get())) != 1) {
    return OpenSslFailure("new CRL");
  }
  ASN1_TIME* this_update = nullptr;
  ORGTRAIL_RETURN_IF_ERROR(SetTime(&this_update, now_us / kMicrosPerSecond));
  Asn1TimePtr this_owner(this_update);
  ASN1_TIME* next_update = nullptr;
  ORGTRAIL_RETURN_IF_ERROR(SetTime(&next_update, now_us / kMicrosPerSecond + update.next_update_days * kSecondsPerDay));
  Asn1TimePtr next_owner(next_update);
  if (X509_CRL_set1_lastUpdate(crl.get(), this_update) != 1 || X509_CRL_set1_nextUpdate(crl.get(), next_update) != 1) {
    return OpenSslFailure("CRL dates");
  }
  for (const auto& [serial, at] : entries) ORGTRAIL_RETURN_IF_ERROR(AddRevoked(crl.get(), serial, at));
  if (X509_CRL_sort(crl.get()) != 1) return OpenSslFailure("sorting the CRL");

  Asn1IntegerPtr number(ASN1_INTEGER_new());
  const uint64_t next_number = (previous != nullptr ? previous->number : 0) + 1;
  if (!number || ASN1_INTEGER_set_uint64(number.get(), next_number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("CRL number");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert->get(), nullptr, nullptr, crl.get(), 0);
  ExtensionPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1) return OpenSslFailure("CRL authority key identifier");

  const EVP_MD* md = EVP_PKEY_get_id(key->get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_CRL_sign(crl.get(), key->get(), md) <= 0) return OpenSslFailure("signing the CRL");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) return OpenSslFailure("writing the CRL PEM");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace orgtrail
