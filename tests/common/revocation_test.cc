// common/revocation.h: the deny-list format (fingerprints in the forms tools
// print them, SPIFFE IDs, comments) and its refusals (malformed, oversized,
// hostile input, with the line named); the facts a certificate is matched
// by; RevocationList matching by CRL (issuer and serial), fingerprint and
// SPIFFE ID.
#include "orgtrail/common/revocation.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail {
namespace {

constexpr char kAgent[] = "spiffe://example.org/account/111111111111/region/us-east-1/agent/a1";
const std::string kFingerprint =
    "b258864790d07d5158c0062f0b707e05ee022f81b76aad61e0537ed6d6a23b91";

std::string Colons(const std::string& hex, bool upper) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += ':';
    for (size_t j = i; j < i + 2; ++j) out += upper ? static_cast<char>(std::toupper(hex[j])) : hex[j];
  }
  return out;
}

TEST(DenyListTest, AcceptsFingerprintsAndSpiffeIdsWithComments) {
  const std::string text = "# deny list\n"
                           "\n"
                           "   " + std::string(kAgent) + "   # stolen laptop\r\n"
                           "\t" + kFingerprint + "\n"
                           "sha256:" + Colons(kFingerprint, true) + "\n"  // the same certificate
                           "SHA256:" + std::string(64, 'A') + "\n"
                           "spiffe://example.org/auditor/mallory#no space before the comment\n"
                           "spiffe://other.example/admin/root";  // no final newline
  auto list = ParseDenyList(text);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->fingerprints, (std::set<std::string>{kFingerprint, std::string(64, 'a')}));
  EXPECT_EQ(list->spiffe_ids, (std::set<std::string>{kAgent, "spiffe://example.org/auditor/mallory",
                                                     "spiffe://other.example/admin/root"}));
  EXPECT_TRUE(ParseDenyList("").ok());
  EXPECT_TRUE(ParseDenyList("\n\n# only comments\n   \n").ok());
}

TEST(DenyListTest, RefusesTheWholeFileNamingTheLine) {
  struct Case {
    std::string text;
    const char* expect;
  };
  const Case cases[] = {
      {"ok-looking\n", "line 1"},
      {std::string(kAgent) + "\n" + kFingerprint.substr(1) + "\n", "line 2"},        // 63 digits
      {kFingerprint + "0\n", "line 1"},                                                 // 65 digits
      {Colons(kFingerprint, false).substr(1) + "\n", "line 1"},                         // a misplaced colon
      {std::string(kFingerprint).replace(10, 1, "g") + "\n", "line 1"},                 // not hex
      {"SPIFFE://example.org/admin/root\n", "lowercase"},                               // scheme case
      {"spiffe://example.org/nonsense/x\n", "line 1"},                                  // unknown shape
      {"spiffe://Example.org/admin/root\n", "line 1"},
      {std::string(kAgent) + " " + kFingerprint + "\n", "one entry per line"},
      {"\n\n" + std::string(kAgent) + std::string(1, '\0') + "\n", "line 3: control character"},
      {std::string(kAgent) + "\x1b[31m\n", "control character"},
      {std::string(kAgent) + "\x7f\n", "control character"},
      {"# " + std::string(kMaxDenyListLineBytes, 'x') + "\n", "longer than"},
      {std::string(kMaxDenyListBytes + 1, '\n'), "larger than"},
      {"spiffe://example.org/admin/" + std::string(3000, 'a') + "\n", "line 1"},
      {"\xef\xbb\xbf" + std::string(kAgent) + "\n", "line 1"},  // a UTF-8 BOM is not an entry
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text.substr(0, 120));
    auto list = ParseDenyList(c.text);
    ASSERT_FALSE(list.ok());
    EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(list.status().message().find(c.expect), std::string::npos) << list.status();
  }
}

TEST(DenyListTest, EntryCapAndHostileInputNeverCrash) {
  std::string many;
  for (size_t i = 0; i <= kMaxDenyListEntries; ++i) {
    char line[80];
    std::snprintf(line, sizeof(line), "%064zx\n", i);
    many += line;
  }
  auto capped = ParseDenyList(many);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.status().message().find("more than"), std::string::npos) << capped.status();
  many.resize(many.size() - 65);  // exactly the cap
  auto full = ParseDenyList(many);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->fingerprints.size(), kMaxDenyListEntries);

  std::mt19937 rng(14);
  const std::string alphabet = "spife:/#0123456789abcdefABCDEF\n\r\t .-_\x01\x80\xff";
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 300, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    auto list = ParseDenyList(text);
    if (list.ok()) {
      for (const auto& fp : list->fingerprints) EXPECT_EQ(fp.size(), 64u);
      for (const auto& id : list->spiffe_ids) EXPECT_TRUE(ParseSpiffeId(id).ok()) << id;
    }
  }
}

class RevocationListTest : public ::testing::Test {
 protected:
  RevocationListTest() {
    CaOptions ca_options;
    ca_options.trust_domain = "example.org";
    ca_ = *CreateCa(ca_options);
    CertOptions options;
    options.uri_sans = {kAgent};
    options.not_after_us = NowMicros() + 600'000'000;
    leaf_ = *IssueCertificate(ca_, options);
    auto subject = RevocationSubjectFromPem(leaf_.cert_pem);
    EXPECT_TRUE(subject.ok()) << subject.status();
    subject_ = *subject;
  }
  KeyAndCert ca_;
  KeyAndCert leaf_;
  RevocationSubject subject_;
};

TEST_F(RevocationListTest, SubjectCarriesWhatTheListMatches) {
  EXPECT_EQ(subject_.spiffe_id, kAgent);
  EXPECT_EQ(subject_.fingerprint, *CertificateFingerprint(leaf_.cert_pem));
  EXPECT_EQ(subject_.serial, *CertificateSerial(leaf_.cert_pem));
  EXPECT_NE(subject_.issuer.find("example.org"), std::string::npos);
  EXPECT_NEAR(static_cast<double>(subject_.not_after_us), static_cast<double>(NowMicros() + 600'000'000), 5e6);
  EXPECT_FALSE(RevocationSubjectFromPem("nope").ok());
}

TEST_F(RevocationListTest, MatchesByCrlFingerprintOrSpiffeId) {
  EXPECT_FALSE(RevocationList().Check(subject_).has_value());

  CrlUpdate update;
  update.add_serials = {subject_.serial};
  auto crl = ParseAndVerifyCrl(*IssueCrl(ca_, nullptr, update), ca_.cert_pem);
  ASSERT_TRUE(crl.ok()) << crl.status();
  RevocationList by_crl(&*crl, DenyList{});
  auto why = by_crl.Check(subject_);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find(subject_.serial), std::string::npos) << *why;
  EXPECT_EQ(by_crl.crl_entries(), 1u);
  // The same serial from another issuer is another certificate.
  RevocationSubject other_issuer = subject_;
  other_issuer.issuer = "CN=another CA";
  EXPECT_FALSE(by_crl.Check(other_issuer).has_value());

  auto by_fp = ParseDenyList(subject_.fingerprint + "\n");
  ASSERT_TRUE(by_fp.ok());
  auto fp_why = RevocationList(nullptr, *by_fp).Check(subject_);
  ASSERT_TRUE(fp_why.has_value());
  EXPECT_NE(fp_why->find("deny list"), std::string::npos);
  // A renewed certificate of the same identity is not denied by the old fingerprint...
  RevocationSubject renewed = subject_;
  renewed.fingerprint = std::string(64, '0');
  renewed.serial = "1";
  EXPECT_FALSE(RevocationList(nullptr, *by_fp).Check(renewed).has_value());
  // ... but is by its SPIFFE ID.
  auto by_id = ParseDenyList(std::string(kAgent) + "\n");
  ASSERT_TRUE(by_id.ok());
  EXPECT_TRUE(RevocationList(nullptr, *by_id).Check(renewed).has_value());
  RevocationSubject no_uri = renewed;
  no_uri.spiffe_id.clear();
  EXPECT_FALSE(RevocationList(nullptr, *by_id).Check(no_uri).has_value());
}

}  // namespace
}  // namespace orgtrail
