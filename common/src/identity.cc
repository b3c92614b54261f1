// SPIFFE ID parsing and X.509-SVID checks. See identity.h for the contract.
#include "orgtrail/common/identity.h"

#include <chrono>
#include <ctime>
#include <memory>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "orgtrail/common/time_util.h"
#include "pki_internal.h"

namespace orgtrail {
namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr size_t kMaxSpiffeIdLength = 2048;  // SPIFFE ID spec
constexpr size_t kMaxTrustDomainLength = 255;
constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxRegionLength = 32;
constexpr size_t kMaxPemBytes = 1 << 20;
constexpr int64_t kMicrosPerSecond = 1000000;

struct StoreFree { void operator()(X509_STORE* s) const { X509_STORE_free(s); } };
struct StoreCtxFree { void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); } };
struct StackFree { void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); } };
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct BasicConstraintsFree {
  void operator()(BASIC_CONSTRAINTS* b) const { BASIC_CONSTRAINTS_free(b); }
};

using pki_internal::BioPtr;
using pki_internal::X509Ptr;

// Quotes untrusted text for an error message: printable ASCII only, bounded.
std::string Quote(std::string_view text) {
  std::string out = "'";
  size_t shown = 0;
  for (unsigned char c : text) {
    if (shown++ == 96) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out + "'";
}

Status Invalid(std::string_view uri, std::string_view why) {
  return absl::InvalidArgumentError("SPIFFE ID " + Quote(uri) + ": " + std::string(why));
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsSpiffePathChar(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
}

bool IsValidTrustDomain(std::string_view td) {
  if (td.empty() || td.size() > kMaxTrustDomainLength) return false;
  for (char c : td) {
    if (!IsLowerAlnum(c) && c != '.' && c != '-' && c != '_') return false;
  }
  return true;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name == "." || name == "..") return false;
  for (char c : name) {
    if (!IsSpiffePathChar(c)) return false;
  }
  return true;
}

bool IsValidAccount(std::string_view account) {
  if (account.size() != 12) return false;
  for (char c : account) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// AWS region shape: <2 letters>(-<letters>)+-<1-2 digits>, e.g. us-east-1,
// us-gov-west-1, ap-southeast-2.
bool IsValidRegion(std::string_view region) {
  if (region.size() < 6 || region.size() > kMaxRegionLength) return false;
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dash = region.find('-', start);
    parts.push_back(region.substr(start, dash == std::string_view::npos ? dash : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (parts.size() < 3 || parts.front().size() != 2) return false;
  const std::string_view number = parts.back();
  if (number.empty() || number.size() > 2) return false;
  for (char c : number) {
    if (!IsDigit(c)) return false;
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i].empty()) return false;
    for (char c : parts[i]) {
      if (c < 'a' || c > 'z') return false;
    }
  }
  return true;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 1;  // skip the leading '/'
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      segments.push_back(path.substr(start));
      return segments;
    }
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

Status CheckPathSegments(std::string_view uri, const std::vector<std::string_view>& segments) {
  for (std::string_view segment : segments) {
    if (segment.empty()) return Invalid(uri, "empty path segment (double or trailing '/')");
    if (segment == "." || segment == "..") return Invalid(uri, "'.' or '..' path segment");
    for (char c : segment) {
      if (c == '%') return Invalid(uri, "percent-encoding is not allowed");
      if (!IsSpiffePathChar(c)) return Invalid(uri, "path may only contain [A-Za-z0-9._-] and '/'");
    }
  }
  return absl::OkStatus();
}

// Fills role/account/region/name from the path segments.
Status ClassifyPath(std::string_view uri, const std::vector<std::string_view>& s, Identity* id) {
  auto check_name = [&](std::string_view name) -> Status {
    if (!IsValidName(name)) return Invalid(uri, "name must be 1-64 of [A-Za-z0-9._-]");
    id->name = std::string(name);
    return absl::OkStatus();
  };
  auto check_account = [&](std::string_view account) -> Status {
    if (!IsValidAccount(account)) {
      return Invalid(uri, "account must be exactly 12 digits, got " + Quote(account));
    }
    id->account_id = std::string(account);
    return absl::OkStatus();
  };
  if (s.size() == 2 && (s[0] == "auditor" || s[0] == "admin" || s[0] == "collector")) {
    id->role = s[0] == "auditor" ? Role::kAuditor : s[0] == "admin" ? Role::kAdmin : Role::kCollector;
    return check_name(s[1]);
  }
  if (s.size() == 4 && s[0] == "account" && s[2] == "admin") {
    id->role = Role::kAccountAdmin;
    ORGTRAIL_RETURN_IF_ERROR(check_account(s[1]));
    return check_name(s[3]);
  }
  if (s.size() == 6 && s[0] == "account" && s[2] == "region" && s[4] == "agent") {
    id->role = Role::kAgent;
    ORGTRAIL_RETURN_IF_ERROR(check_account(s[1]));
    if (!IsValidRegion(s[3])) return Invalid(uri, "not a region name: " + Quote(s[3]));
    id->region = std::string(s[3]);
    return check_name(s[5]);
  }
  return Invalid(uri,
                 "unknown shape; expected /account/<12 digits>/region/<region>/agent/<name>, "
                 "/account/<12 digits>/admin/<name>, /auditor/<name>, /admin/<name> or "
                 "/collector/<name>");
}


StatusOr<X509Ptr> ParseCertificate(std::string_view pem) {
  if (pem.empty()) return absl::InvalidArgumentError("empty certificate");
  if (pem.size() > kMaxPemBytes) return absl::InvalidArgumentError("certificate PEM too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* cert = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a PEM certificate");
  }
  return X509Ptr(cert);
}

// Every certificate in a PEM bundle (at least one).
StatusOr<std::vector<X509Ptr>> ParseCertificates(std::string_view pem, std::string_view what) {
  return pki_internal::ParseCertificateBundle(pem, what, kMaxPemBytes);
}

Status CheckValidityWindow(X509* cert, int64_t now_us) {
  time_t now = static_cast<time_t>((now_us != 0 ? now_us : NowMicros()) / kMicrosPerSecond);
  if (X509_cmp_time(X509_get0_notBefore(cert), &now) >= 0) {
    return absl::UnauthenticatedError("certificate is not yet valid");
  }
  if (X509_cmp_time(X509_get0_notAfter(cert), &now) <= 0) {
    return absl::UnauthenticatedError("certificate has expired");
  }
  return absl::OkStatus();
}

// The single URI SAN of a leaf (SVID rule: exactly one).
StatusOr<std::string> SingleUriSan(X509* cert) {
  int critical = 0;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, nullptr)));
  if (!names) {
    return absl::InvalidArgumentError("certificate has no subject alternative name");
  }
  std::string uri;
  int uri_count = 0;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names.get(), i);
    if (gen->type != GEN_URI) continue;
    ++uri_count;
    const ASN1_IA5STRING* value = gen->d.uniformResourceIdentifier;
    uri.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
               static_cast<size_t>(ASN1_STRING_length(value)));
  }
  if (uri_count != 1) {
    return absl::InvalidArgumentError("certificate must have exactly one URI SAN, has " +
                                      std::to_string(uri_count));
  }
  return uri;
}

Status CheckLeafConstraints(X509* cert) {
  std::unique_ptr<BASIC_CONSTRAINTS, BasicConstraintsFree> bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr)));
  if (bc && bc->ca) return absl::InvalidArgumentError("leaf certificate has CA:TRUE");
  uint32_t usage = X509_get_key_usage(cert);
  if (usage == UINT32_MAX || (X509_get_extension_flags(cert) & EXFLAG_KUSAGE) == 0) {
    return absl::InvalidArgumentError("certificate has no key usage extension");
  }
  if ((usage & KU_DIGITAL_SIGNATURE) == 0) {
    return absl::InvalidArgumentError("certificate key usage lacks digitalSignature");
  }
  if ((usage & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0) {
    return absl::InvalidArgumentError("leaf certificate key usage has keyCertSign or cRLSign");
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAgent: return "agent";
    case Role::kAccountAdmin: return "account-admin";
    case Role::kAuditor: return "auditor";
    case Role::kAdmin: return "admin";
    case Role::kCollector: return "collector";
  }
  return "unknown";
}

StatusOr<Identity> ParseSpiffeId(std::string_view uri, std::string_view expected_trust_domain) {
  if (uri.empty()) return absl::InvalidArgumentError("SPIFFE ID is empty");
  if (uri.size() > kMaxSpiffeIdLength) {
    return absl::InvalidArgumentError("SPIFFE ID longer than 2048 bytes (" +
                                      std::to_string(uri.size()) + ")");
  }
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return Invalid(uri, "must start with 'spiffe://' (lowercase scheme)");
  }
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view trust_domain = rest.substr(0, slash);
  if (!IsValidTrustDomain(trust_domain)) {
    return Invalid(uri, "trust domain must be 1-255 of [a-z0-9._-] (no port, user or uppercase)");
  }
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return Invalid(uri, "has no path (or only '/')");
  }
  std::vector<std::string_view> segments = SplitPath(rest.substr(slash));
  ORGTRAIL_RETURN_IF_ERROR(CheckPathSegments(uri, segments));
  Identity id;
  id.spiffe_id = std::string(uri);
  id.trust_domain = std::string(trust_domain);
  ORGTRAIL_RETURN_IF_ERROR(ClassifyPath(uri, segments, &id));
  if (!expected_trust_domain.empty() && trust_domain != expected_trust_domain) {
    return absl::PermissionDeniedError("SPIFFE ID " + Quote(uri) + " is in trust domain " +
                                       Quote(trust_domain) + ", expected " +
                                       Quote(expected_trust_domain));
  }
  return id;
}

StatusOr<Identity> IdentityFromCertificatePem(std::string_view pem,
                                              std::string_view expected_trust_domain,
                                              int64_t now_us) {
  auto cert = ParseCertificate(pem);
  if (!cert.ok()) return cert.status();
  ORGTRAIL_RETURN_IF_ERROR(CheckValidityWindow(cert->get(), now_us));
  ORGTRAIL_RETURN_IF_ERROR(CheckLeafConstraints(cert->get()));
  auto uri = SingleUriSan(cert->get());
  if (!uri.ok()) return uri.status();
  return ParseSpiffeId(*uri, expected_trust_domain);
}

Status VerifyCertificateChain(std::string_view leaf_pem, std::string_view ca_pem, int64_t now_us) {
  auto chain = ParseCertificates(leaf_pem, "leaf certificate");
  if (!chain.ok()) return chain.status();
  auto roots = ParseCertificates(ca_pem, "CA bundle");
  if (!roots.ok()) return roots.status();
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return absl::InternalError("OpenSSL allocation failed");
  for (auto& root : *roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) ERR_clear_error();
  }
  for (size_t i = 1; i < chain->size(); ++i) {
    if (sk_X509_push(untrusted.get(), (*chain)[i].get()) > 0) (*chain)[i].release();
  }
  X509* leaf = (*chain)[0].get();
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("X509_STORE_CTX_init failed");
  }
  int64_t now = (now_us != 0 ? now_us : NowMicros()) / kMicrosPerSecond;
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::UnauthenticatedError(std::string("certificate chain: ") +
                                      X509_verify_cert_error_string(err));
  }
  return absl::OkStatus();
}

StatusOr<std::string> CertificateFingerprint(std::string_view pem) {
  auto cert = ParseCertificate(pem);
  if (!cert.ok()) return cert.status();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert->get(), EVP_sha256(), digest, &length) != 1) {
    ERR_clear_error();
    return absl::InternalError("certificate digest failed");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace orgtrail
