// Revocation files (common/revocation.h, common/crl.h): the collector reads
// --deny-list-file and --crl-file at startup and on every change. Mode by the
// first byte (low 3 bits):
//   0..3: ParseDenyList on the rest; what it accepts is well formed and
//         parses again, written back one entry per line, to the same list;
//         RevocationList::Check on it;
//   4:    ParseAndVerifyCrl on the rest as the PEM file, against a CA made at
//         start-up (almost always a signature failure: the parsing before it);
//   5:    the rest as DER, wrapped in PEM;
//   6:    the rest as DER, re-signed by the start-up CA (so the extension and
//         entry checks after the signature run on fuzzed CRL contents);
//   7:    the rest as lines of serials: NormalizeSerial on each; when all are
//         good, IssueCrl then ParseAndVerifyCrl must list exactly them.
#include <cstdint>
#include <set>
#include <string>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fuzz_util.h"
#include "orgtrail/common/crl.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/revocation.h"

namespace {

struct Fixture {
  orgtrail::KeyAndCert ca;
  X509* ca_cert = nullptr;
  EVP_PKEY* ca_key = nullptr;
};

Fixture* MakeFixture() {
  orgtrail::CaOptions options;
  options.trust_domain = "example.org";
  auto ca = orgtrail::CreateCa(options);
  if (!ca.ok()) std::abort();
  auto* f = new Fixture{*ca};
  BIO* bio = BIO_new_mem_buf(f->ca.cert_pem.data(), static_cast<int>(f->ca.cert_pem.size()));
  f->ca_cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  bio = BIO_new_mem_buf(f->ca.key_pem.data(), static_cast<int>(f->ca.key_pem.size()));
  f->ca_key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (f->ca_cert == nullptr || f->ca_key == nullptr) std::abort();
  return f;
}

std::string DerToPem(std::string_view der) {
  std::string b64 = orgtrail::Base64Encode(der);
  std::string pem = "-----BEGIN X509 CRL-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END X509 CRL-----\n";
}

void CheckCrl(const orgtrail::StatusOr<orgtrail::Crl>& crl) {
  if (!crl.ok()) return;
  std::string previous;
  for (const auto& entry : crl->entries) {
    ORGTRAIL_FUZZ_CHECK(!entry.serial.empty() && entry.serial.size() <= 65);
    ORGTRAIL_FUZZ_CHECK(previous.empty() || previous < entry.serial);  // sorted, unique
    previous = entry.serial;
  }
  ORGTRAIL_FUZZ_CHECK(crl->entries.size() <= orgtrail::kMaxCrlEntries);
  orgtrail::RevocationList list(&*crl, orgtrail::DenyList{});
  ORGTRAIL_FUZZ_CHECK(list.crl_entries() == crl->entries.size());
}

// The harness's own OpenSSL calls (mode 6) leave entries, with strings OpenSSL allocates, on the
// thread's error queue; the product clears the queue before its calls (crl.cc). Cleared after
// every input so that each input frees what it allocates: otherwise libFuzzer sees more mallocs
// than frees, runs a full LeakSanitizer pass after such inputs (85% of the time in a profile, 1,200
// exec/s instead of 15,000) and, after 1,000 of them, turns per-input leak detection off.
struct ClearOpenSslErrors {
  ~ClearOpenSslErrors() { ERR_clear_error(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = MakeFixture();
  const ClearOpenSslErrors clear_errors;
  if (size == 0 || size > 64 * 1024) return 0;
  const std::string_view rest = orgtrail::fuzz::AsView(data + 1, size - 1);
  const int mode = data[0] & 7;
  if (mode <= 3) {
    auto list = orgtrail::ParseDenyList(rest);
    if (!list.ok()) return 0;
    std::string again;
    for (const auto& fp : list->fingerprints) {
      ORGTRAIL_FUZZ_CHECK(fp.size() == 64 && fp.find_first_not_of("0123456789abcdef") == std::string::npos);
      again += fp + "\n";
    }
    for (const auto& id : list->spiffe_ids) {
      ORGTRAIL_FUZZ_CHECK(orgtrail::ParseSpiffeId(id).ok());
      again += id + "\n";
    }
    auto reparsed = orgtrail::ParseDenyList(again);
    ORGTRAIL_FUZZ_CHECK(reparsed.ok() && reparsed->fingerprints == list->fingerprints &&
                        reparsed->spiffe_ids == list->spiffe_ids);
    orgtrail::RevocationList revocation(nullptr, *list);
    orgtrail::RevocationSubject subject;
    subject.spiffe_id = list->spiffe_ids.empty() ? "" : *list->spiffe_ids.begin();
    subject.fingerprint = list->fingerprints.empty() ? "" : *list->fingerprints.begin();
    ORGTRAIL_FUZZ_CHECK(revocation.Check(subject).has_value() == (!subject.spiffe_id.empty() || !subject.fingerprint.empty()));
    return 0;
  }
  if (mode == 4) {
    CheckCrl(orgtrail::ParseAndVerifyCrl(rest, fixture->ca.cert_pem));
    return 0;
  }
  if (mode == 5) {
    CheckCrl(orgtrail::ParseAndVerifyCrl(DerToPem(rest), fixture->ca.cert_pem));
    return 0;
  }
  if (mode == 6) {
    const unsigned char* p = data + 1;
    X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(size - 1));
    if (crl == nullptr) return 0;
    std::string pem;
    if (X509_CRL_set_issuer_name(crl, X509_get_subject_name(fixture->ca_cert)) == 1 &&
        X509_CRL_sign(crl, fixture->ca_key, EVP_sha256()) > 0) {
      BIO* out = BIO_new(BIO_s_mem());
      if (PEM_write_bio_X509_CRL(out, crl) == 1) {
        char* bytes = nullptr;
        long len = BIO_get_mem_data(out, &bytes);
        pem.assign(bytes, static_cast<size_t>(len));
      }
      BIO_free(out);
    }
    X509_CRL_free(crl);
    if (!pem.empty()) CheckCrl(orgtrail::ParseAndVerifyCrl(pem, fixture->ca.cert_pem));
    return 0;
  }
  // mode 7: serials.
  std::set<std::string> serials;
  std::string_view text = rest;
  while (!text.empty() && serials.size() < 16) {
    const size_t end = text.find('\n');
    auto serial = orgtrail::NormalizeSerial(text.substr(0, end));
    if (!serial.ok()) return 0;
    ORGTRAIL_FUZZ_CHECK(orgtrail::NormalizeSerial(*serial).ok() && *orgtrail::NormalizeSerial(*serial) == *serial);
    serials.insert(*serial);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  orgtrail::CrlUpdate update;
  update.add_serials.assign(serials.begin(), serials.end());
  auto pem = orgtrail::IssueCrl(fixture->ca, nullptr, update);
  ORGTRAIL_FUZZ_CHECK(pem.ok());
  auto crl = orgtrail::ParseAndVerifyCrl(*pem, fixture->ca.cert_pem);
  ORGTRAIL_FUZZ_CHECK(crl.ok() && crl->entries.size() == serials.size());
  for (const auto& entry : crl->entries) ORGTRAIL_FUZZ_CHECK(serials.count(entry.serial) == 1);
  return 0;
}
