// The revocation list: deny-list parsing, the facts a certificate is matched
// by, and the immutable snapshot. See revocation.h for the contract.
#include "orgtrail/common/revocation.h"

#include <cctype>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "orgtrail/common/identity.h"
#include "pki_internal.h"

namespace orgtrail {
namespace {

using pki_internal::BioPtr;
using pki_internal::GeneralNamesPtr;
using pki_internal::kMicrosPerSecond;
using pki_internal::ParseCertificatePem;

constexpr size_t kFingerprintHexDigits = 64;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// 64 hex digits, optionally "sha256:" first and ':' between bytes; "" if not one.
std::string ParseFingerprint(std::string_view text) {
  if (StartsWithNoCase(text, "sha256:")) text.remove_prefix(7);
  std::string hex;
  size_t group = 0;
  bool colons = text.find(':') != std::string_view::npos;
  for (char c : text) {
    if (c == ':') {
      if (group != 2) return "";
      group = 0;
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ++group;
    if (colons && group > 2) return "";
  }
  if (hex.size() != kFingerprintHexDigits || (colons && group != 2)) return "";
  return hex;
}

std::string SingleUri(X509* cert) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  ERR_clear_error();
  if (!names) return "";
  std::string uri;
  int count = 0;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names.get(), i);
    if (gen->type != GEN_URI) continue;
    ++count;
    const ASN1_IA5STRING* value = gen->d.uniformResourceIdentifier;
    uri.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
               static_cast<size_t>(ASN1_STRING_length(value)));
  }
  return count == 1 ? uri : "";
}

}  // namespace

StatusOr<RevocationSubject> RevocationSubjectFromPem(std::string_view cert_pem) {
  auto cert = ParseCertificatePem(cert_pem);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  RevocationSubject subject;
  subject.issuer = pki_internal::NameToText(X509_get_issuer_name(x));
  auto serial = CertificateSerial(cert_pem);
  if (!serial.ok()) return serial.status();
  subject.serial = std::move(*serial);
  auto fingerprint = CertificateFingerprint(cert_pem);
  if (!fingerprint.ok()) return fingerprint.status();
  subject.fingerprint = std::move(*fingerprint);
  subject.spiffe_id = SingleUri(x);
  struct tm tm_value;
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm_value) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("certificate notAfter does not parse");
  }
  subject.not_after_us = static_cast<int64_t>(timegm(&tm_value)) * kMicrosPerSecond;
  return subject;
}

StatusOr<DenyList> ParseDenyList(std::string_view text) {
  if (text.size() > kMaxDenyListBytes) {
    return absl::InvalidArgumentError("deny list larger than " + std::to_string(kMaxDenyListBytes >> 20) + " MiB");
  }
  DenyList list;
  size_t line_number = 0;
  size_t entries = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    auto error = [&](const std::string& what) {
      return absl::InvalidArgumentError("line " + std::to_string(line_number) + ": " + what);
    };
    if (line.size() > kMaxDenyListLineBytes) {
      return error("longer than " + std::to_string(kMaxDenyListLineBytes) + " bytes");
    }
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f) return error("control character or NUL");
    }
    const size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    if (line.find_first_of(" \t") != std::string_view::npos) {
      return error("one entry per line (found whitespace inside '" + std::string(line.substr(0, 100)) + "')");
    }
    if (++entries > kMaxDenyListEntries) {
      return error("more than " + std::to_string(kMaxDenyListEntries) + " entries");
    }
    if (StartsWithNoCase(line, "spiffe:")) {
      auto id = ParseSpiffeId(line);
      if (!id.ok()) return error(std::string(id.status().message()));
      list.spiffe_ids.insert(id->spiffe_id);
      continue;
    }
    std::string fingerprint = ParseFingerprint(line);
    if (fingerprint.empty()) {
      return error("'" + std::string(line.substr(0, 100)) +
                   "' is neither a SHA-256 certificate fingerprint (64 hex digits) nor a SPIFFE ID");
    }
    list.fingerprints.insert(std::move(fingerprint));
  }
  return list;
}

RevocationList::RevocationList(const Crl* crl, DenyList deny) : deny_(std::move(deny)) {
  if (crl == nullptr) return;
  crl_number_ = crl->number;
  for (const CrlEntry& e : crl->entries) serials_.emplace(crl->issuer, e.serial);
}

std::optional<std::string> RevocationList::Check(const RevocationSubject& subject) const {
  if (serials_.count({subject.issuer, subject.serial}) != 0) {
    return "certificate serial " + subject.serial + " is revoked by the CRL (number " + std::to_string(crl_number_) +
           ")";
  }
  if (deny_.fingerprints.count(subject.fingerprint) != 0) {
    return "certificate sha256 " + subject.fingerprint + " is in the deny list";
  }
  if (!subject.spiffe_id.empty() && deny_.spiffe_ids.count(subject.spiffe_id) != 0) {
    return "SPIFFE ID " + subject.spiffe_id + " is in the deny list";
  }
  return std::nullopt;
}

}  // namespace orgtrail
