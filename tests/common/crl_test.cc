// common/crl.h: CRLs issued and extended by IssueCrl read back by OpenSSL
// and by ParseAndVerifyCrl; refusal of CRLs from another CA, tampered,
// oversized, several in one file, or with extensions that would change their
// meaning (delta, issuing distribution point, unknown critical), built and
// signed with OpenSSL directly; serial normalization.
#include "orgtrail/common/crl.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <memory>
#include <string>

#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail {
namespace {

KeyAndCert MakeCa(KeyType type = KeyType::kEcdsaP256, const std::string& name = "orgtrail organization CA") {
  CaOptions options;
  options.trust_domain = "example.org";
  options.common_name = name;
  options.key_type = type;
  auto ca = CreateCa(options);
  EXPECT_TRUE(ca.ok()) << ca.status();
  return ca.ok() ? *ca : KeyAndCert{};
}

KeyAndCert Leaf(const KeyAndCert& ca) {
  CertOptions options;
  options.uri_sans = {"spiffe://example.org/account/111111111111/region/us-east-1/agent/a1"};
  auto leaf = IssueCertificate(ca, options);
  EXPECT_TRUE(leaf.ok()) << leaf.status();
  return leaf.ok() ? *leaf : KeyAndCert{};
}

// A CRL built and signed with OpenSSL directly, after `mutate` had its say.
std::string CustomCrl(const KeyAndCert& ca, const std::function<void(X509_CRL*, X509*)>& mutate) {
  BIO* bio = BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  bio = BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(cert));
  ASN1_TIME* now = ASN1_TIME_set(nullptr, time(nullptr));
  X509_CRL_set1_lastUpdate(crl, now);
  ASN1_TIME_free(now);
  mutate(crl, cert);
  X509_CRL_sign(crl, key, EVP_sha256());
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_CRL(out, crl);
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(out);
  X509_CRL_free(crl);
  EVP_PKEY_free(key);
  X509_free(cert);
  return pem;
}

void AddExtension(X509_CRL* crl, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, nullptr, nullptr, crl, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << OBJ_nid2sn(nid) << "=" << value;
  X509_CRL_add_ext(crl, ext, -1);
  X509_EXTENSION_free(ext);
}

TEST(CrlTest, IssuedCrlVerifiesAndListsTheSerials) {
  for (KeyType type : {KeyType::kEcdsaP256, KeyType::kEd25519, KeyType::kRsa2048}) {
    SCOPED_TRACE(static_cast<int>(type));
    KeyAndCert ca = MakeCa(type);
    KeyAndCert leaf = Leaf(ca);
    auto serial = CertificateSerial(leaf.cert_pem);
    ASSERT_TRUE(serial.ok()) << serial.status();
    CrlUpdate update;
    update.add_serials = {*serial, "0x00FF", "0a:0B"};
    update.now_us = NowMicros();
    auto pem = IssueCrl(ca, nullptr, update);
    ASSERT_TRUE(pem.ok()) << pem.status();
    auto crl = ParseAndVerifyCrl(*pem, ca.cert_pem);
    ASSERT_TRUE(crl.ok()) << crl.status();
    EXPECT_EQ(crl->number, 1u);
    ASSERT_EQ(crl->entries.size(), 3u);
    std::vector<std::string> serials;
    for (const auto& e : crl->entries) serials.push_back(e.serial);
    EXPECT_NE(std::find(serials.begin(), serials.end(), *serial), serials.end());
    EXPECT_NE(std::find(serials.begin(), serials.end(), "ff"), serials.end());
    EXPECT_NE(std::find(serials.begin(), serials.end(), "a0b"), serials.end());
    EXPECT_EQ(crl->next_update_us - crl->this_update_us, int64_t{30} * 86400 * 1000000);
    EXPECT_NE(crl->issuer.find("example.org"), std::string::npos) << crl->issuer;
  }
}

TEST(CrlTest, ExtendingKeepsEntriesAndDatesAndIncrementsTheNumber) {
  KeyAndCert ca = MakeCa();
  CrlUpdate first;
  first.add_serials = {"1", "2"};
  first.now_us = NowMicros() - 3600'000'000LL;
  auto pem = IssueCrl(ca, nullptr, first);
  ASSERT_TRUE(pem.ok());
  auto crl = ParseAndVerifyCrl(*pem, ca.cert_pem);
  ASSERT_TRUE(crl.ok());
  CrlUpdate second;
  second.add_serials = {"2", "3"};
  second.next_update_days = 7;
  auto pem2 = IssueCrl(ca, &*crl, second);
  ASSERT_TRUE(pem2.ok());
  auto crl2 = ParseAndVerifyCrl(*pem2, ca.cert_pem);
  ASSERT_TRUE(crl2.ok()) << crl2.status();
  EXPECT_EQ(crl2->number, 2u);
  ASSERT_EQ(crl2->entries.size(), 3u);
  EXPECT_EQ(crl2->entries[1].serial, "2");
  EXPECT_EQ(crl2->entries[1].revoked_at_us, crl->entries[1].revoked_at_us);  // its first revocation date
  EXPECT_GT(crl2->entries[2].revoked_at_us, crl->entries[1].revoked_at_us);
  EXPECT_EQ(crl2->next_update_us - crl2->this_update_us, int64_t{7} * 86400 * 1000000);
  // An empty CRL (pki revoke --refresh on a new CA).
  auto empty = IssueCrl(ca, nullptr, CrlUpdate{});
  ASSERT_TRUE(empty.ok());
  auto parsed = ParseAndVerifyCrl(*empty, ca.cert_pem);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->entries.empty());
}

TEST(CrlTest, RefusesCrlsItCannotTrustOrFullyUnderstand) {
  KeyAndCert ca = MakeCa();
  KeyAndCert impostor = MakeCa();  // same name, another key
  KeyAndCert other_name = MakeCa(KeyType::kEcdsaP256, "another CA");
  CrlUpdate update;
  update.add_serials = {"1f"};
  auto good = IssueCrl(ca, nullptr, update);
  ASSERT_TRUE(good.ok());
  auto forged = IssueCrl(impostor, nullptr, update);
  ASSERT_TRUE(forged.ok());
  auto foreign = IssueCrl(other_name, nullptr, update);
  ASSERT_TRUE(foreign.ok());
  std::string tampered = *good;
  tampered[tampered.find("-----END") - 10] ^= 1;
  struct Case {
    const char* what;
    std::string pem;
    const char* expect;
  };
  const Case cases[] = {
      {"empty", "", "not a PEM X509 CRL"},
      {"garbage", "\x01\x02 hello \xff", "not a PEM X509 CRL"},
      {"certificate", ca.cert_pem, "not a PEM X509 CRL"},
      {"bad base64", "-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n", "does not parse"},
      {"truncated", good->substr(0, good->size() / 2), "does not parse"},
      {"two CRLs", *good + *good, "more than one"},
      {"same-name CA, other key", *forged, "signature does not verify"},
      {"other CA", *foreign, "is not a certificate of the CA bundle"},
      {"tampered", tampered, ""},
      {"oversized", std::string(kMaxCrlBytes + 1, '-'), "larger than"},
      {"delta CRL", CustomCrl(ca, [](X509_CRL* crl, X509*) {
         ASN1_INTEGER* base = ASN1_INTEGER_new();
         ASN1_INTEGER_set(base, 1);
         X509_CRL_add1_ext_i2d(crl, NID_delta_crl, base, 1, 0);
         ASN1_INTEGER_free(base);
       }), "delta"},
      {"issuing distribution point", CustomCrl(ca, [](X509_CRL* crl, X509* issuer) {
         AddExtension(crl, issuer, NID_issuing_distribution_point, "critical,onlyuser:TRUE");
       }), "distribution point"},
      {"unknown critical extension", CustomCrl(ca, [](X509_CRL* crl, X509* issuer) {
         AddExtension(crl, issuer, NID_subject_alt_name, "critical,DNS:example.org");
       }), "critical extension"},
      {"critical entry extension", CustomCrl(ca, [](X509_CRL* crl, X509*) {
         X509_REVOKED* r = X509_REVOKED_new();
         ASN1_INTEGER* serial = ASN1_INTEGER_new();
         ASN1_INTEGER_set(serial, 7);
         X509_REVOKED_set_serialNumber(r, serial);
         ASN1_TIME* at = ASN1_TIME_set(nullptr, time(nullptr));
         X509_REVOKED_set_revocationDate(r, at);
         ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
         ASN1_ENUMERATED_set(reason, 1);
         X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 1, 0);
         ASN1_ENUMERATED_free(reason);
         ASN1_TIME_free(at);
         ASN1_INTEGER_free(serial);
         X509_CRL_add0_revoked(crl, r);
       }), "critical extension"},
      {"serial over 32 bytes", CustomCrl(ca, [](X509_CRL* crl, X509*) {
         X509_REVOKED* r = X509_REVOKED_new();
         BIGNUM* bn = nullptr;
         BN_hex2bn(&bn, std::string(80, '7').c_str());
         ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
         X509_REVOKED_set_serialNumber(r, serial);
         ASN1_TIME* at = ASN1_TIME_set(nullptr, time(nullptr));
         X509_REVOKED_set_revocationDate(r, at);
         ASN1_TIME_free(at);
         ASN1_INTEGER_free(serial);
         BN_free(bn);
         X509_CRL_add0_revoked(crl, r);
       }), "longer than 32 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto crl = ParseAndVerifyCrl(c.pem, ca.cert_pem);
    ASSERT_FALSE(crl.ok());
    EXPECT_EQ(crl.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(crl.status().message().find(c.expect), std::string::npos) << crl.status();
  }
  // A plain CRL built the same way (no extension, no nextUpdate) is fine.
  auto plain = ParseAndVerifyCrl(CustomCrl(ca, [](X509_CRL*, X509*) {}), ca.cert_pem);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->next_update_us, 0);
  EXPECT_EQ(plain->number, 0u);
  // The CA bundle may hold several CAs; the CRL's issuer is found among them.
  EXPECT_TRUE(ParseAndVerifyCrl(*good, other_name.cert_pem + ca.cert_pem).ok());
  EXPECT_FALSE(ParseAndVerifyCrl(*good, "not a bundle").ok());
}

TEST(CrlTest, IssueRefusesBadInput) {
  KeyAndCert ca = MakeCa();
  KeyAndCert other = MakeCa();
  CrlUpdate update;
  update.add_serials = {"xyz"};
  EXPECT_EQ(IssueCrl(ca, nullptr, update).status().code(), absl::StatusCode::kInvalidArgument);
  update.add_serials = {};
  update.next_update_days = 0;
  EXPECT_EQ(IssueCrl(ca, nullptr, update).status().code(), absl::StatusCode::kInvalidArgument);
  update.next_update_days = 30;
  KeyAndCert mismatched{other.key_pem, ca.cert_pem};
  EXPECT_EQ(IssueCrl(mismatched, nullptr, update).status().code(), absl::StatusCode::kInvalidArgument);
  KeyAndCert leaf = Leaf(ca);
  EXPECT_EQ(IssueCrl(leaf, nullptr, update).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CrlTest, NormalizeSerial) {
  EXPECT_EQ(*NormalizeSerial("7D7170D42FB916C38C96A48356E128D7"), "7d7170d42fb916c38c96a48356e128d7");
  EXPECT_EQ(*NormalizeSerial("  serial=0A0B\n"), "a0b");
  EXPECT_EQ(*NormalizeSerial("0x00ff"), "ff");
  EXPECT_EQ(*NormalizeSerial("0a:0b:0c"), "a0b0c");
  EXPECT_EQ(*NormalizeSerial("0000"), "0");
  EXPECT_EQ(*NormalizeSerial(std::string(64, 'f')), std::string(64, 'f'));
  EXPECT_EQ(*NormalizeSerial("00" + std::string(64, 'f')), std::string(64, 'f'));
  for (const char* bad : {"", "0x", ":", "0a:", ":0a", "0a::0b", "-1", "12 34", "g1", "0a0b\x01"}) {
    EXPECT_FALSE(NormalizeSerial(bad).ok()) << bad;
  }
  EXPECT_FALSE(NormalizeSerial(std::string(65, 'f')).ok());
  EXPECT_FALSE(NormalizeSerial(std::string(100000, '1')).ok());
}

TEST(CrlTest, CertificateSerialMatchesWhatPkiShowPrints) {
  KeyAndCert ca = MakeCa();
  KeyAndCert leaf = Leaf(ca);
  auto serial = CertificateSerial(leaf.cert_pem);
  ASSERT_TRUE(serial.ok());
  auto text = DescribeCertificate(leaf.cert_pem);
  ASSERT_TRUE(text.ok());
  const size_t at = text->find("serial:");
  ASSERT_NE(at, std::string::npos);
  const std::string shown = text->substr(at + 7, text->find('\n', at) - at - 7);
  EXPECT_EQ(*NormalizeSerial(shown), *serial);
  EXPECT_FALSE(CertificateSerial("not a certificate").ok());
}

}  // namespace
}  // namespace orgtrail
