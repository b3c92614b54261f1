// common/identity.h: SPIFFE ID parsing and X.509-SVID checks on certificates
// generated at test time (testutil::TestPki).
#include "orgtrail/common/identity.h"

#include <chrono>

#include <gtest/gtest.h>

#include "orgtrail/common/pki.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using testutil::TempDir;
using testutil::TestPki;

std::string Pem(const TlsFiles& files) {
  auto pem = ReadFile(files.cert_path);
  EXPECT_TRUE(pem.ok()) << pem.status();
  return pem.ok() ? *pem : "";
}

class IdentityCertTest : public ::testing::Test {
 protected:
  IdentityCertTest() : pki_(dir_.Join("pki")) {}
  TempDir dir_;
  TestPki pki_;
};

TEST_F(IdentityCertTest, ValidAgent) {
  auto id = IdentityFromCertificatePem(Pem(pki_.Agent("123456789012", "eu-central-1", "a-1")), "example.org");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->role, Role::kAgent);
  EXPECT_EQ(id->spiffe_id, "spiffe://example.org/account/123456789012/region/eu-central-1/agent/a-1");
  EXPECT_EQ(id->trust_domain, "example.org");
  EXPECT_EQ(id->account_id, "123456789012");
  EXPECT_EQ(id->region, "eu-central-1");
  EXPECT_EQ(id->name, "a-1");
  EXPECT_TRUE(id->may_ingest());
  EXPECT_FALSE(id->may_query());
  EXPECT_FALSE(id->may_administer());
}

TEST_F(IdentityCertTest, ValidAuditorAdminAccountAdminCollector) {
  auto auditor = IdentityFromCertificatePem(Pem(pki_.Auditor("alice")), "example.org");
  ASSERT_TRUE(auditor.ok()) << auditor.status();
  EXPECT_EQ(auditor->role, Role::kAuditor);
  EXPECT_EQ(auditor->name, "alice");
  EXPECT_TRUE(auditor->may_query());
  EXPECT_FALSE(auditor->may_ingest());
  EXPECT_FALSE(auditor->may_administer());

  auto admin = IdentityFromCertificatePem(Pem(pki_.Admin("root")), "example.org");
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->role, Role::kAdmin);
  EXPECT_TRUE(admin->may_administer());
  EXPECT_FALSE(admin->may_ingest());
  EXPECT_FALSE(admin->may_query());

  auto account_admin = IdentityFromCertificatePem(Pem(pki_.AccountAdmin("222222222222", "ops")), "example.org");
  ASSERT_TRUE(account_admin.ok()) << account_admin.status();
  EXPECT_EQ(account_admin->role, Role::kAccountAdmin);
  EXPECT_EQ(account_admin->account_id, "222222222222");
  EXPECT_TRUE(account_admin->may_administer());

  auto collector = IdentityFromCertificatePem(Pem(pki_.Collector("main")), "example.org");
  ASSERT_TRUE(collector.ok()) << collector.status();
  EXPECT_EQ(collector->role, Role::kCollector);
  EXPECT_EQ(collector->name, "main");
  EXPECT_FALSE(collector->may_ingest());
}

void ExpectRefused(const TlsFiles& files, absl::StatusCode code, const std::string& needle) {
  std::string pem = Pem(files);
  ASSERT_FALSE(pem.empty());
  auto id = IdentityFromCertificatePem(pem, "example.org");
  ASSERT_FALSE(id.ok()) << files.cert_path << " accepted as " << id->spiffe_id;
  EXPECT_EQ(id.status().code(), code) << id.status();
  EXPECT_NE(id.status().message().find(needle), std::string::npos) << id.status();
}

TEST_F(IdentityCertTest, HostileCertificatesAreRefusedWithClearErrors) {
  ExpectRefused(pki_.TwoUriSans(), absl::StatusCode::kInvalidArgument, "exactly one URI SAN");
  ExpectRefused(pki_.NoUriSan(), absl::StatusCode::kInvalidArgument, "exactly one URI SAN");
  ExpectRefused(pki_.CaLeaf(), absl::StatusCode::kInvalidArgument, "CA:TRUE");
  ExpectRefused(pki_.NonSpiffeUri(), absl::StatusCode::kInvalidArgument, "spiffe://");
  ExpectRefused(pki_.ElevenDigitAccount(), absl::StatusCode::kInvalidArgument, "12 digits");
  ExpectRefused(pki_.OtherTrustDomain(), absl::StatusCode::kPermissionDenied, "trust domain");
  ExpectRefused(pki_.Expired(), absl::StatusCode::kUnauthenticated, "expired");
  ExpectRefused(pki_.NoDigitalSignature(), absl::StatusCode::kInvalidArgument, "digitalSignature");
}

TEST_F(IdentityCertTest, OtherTrustDomainIsAcceptedWhenNoneIsExpected) {
  auto id = IdentityFromCertificatePem(Pem(pki_.OtherTrustDomain()), "");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->trust_domain, "evil.example");
}

TEST_F(IdentityCertTest, NotYetValidIsUnauthenticated) {
  CertOptions options = pki_.AgentOptions("111111111111", "us-east-1", "future");
  auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  options.not_before_us = now_us + int64_t{5} * 86400 * 1000000;
  auto id = IdentityFromCertificatePem(Pem(pki_.Issue("future", options)), "example.org");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnauthenticated) << id.status();
  // With an explicit clock inside the window it is fine.
  auto later = IdentityFromCertificatePem(Pem(pki_.Issue("future", options)), "example.org",
                                          options.not_before_us + 1000000);
  EXPECT_TRUE(later.ok()) << later.status();
}

TEST_F(IdentityCertTest, ChainVerificationAndFingerprint) {
  std::string ca = Pem(TlsFiles{pki_.ca_cert_path(), pki_.ca_cert_path(), ""});
  std::string agent = Pem(pki_.Agent("111111111111", "us-east-1"));
  EXPECT_TRUE(VerifyCertificateChain(agent, ca).ok());
  Status foreign = VerifyCertificateChain(Pem(pki_.FromOtherCa()), ca);
  EXPECT_EQ(foreign.code(), absl::StatusCode::kUnauthenticated) << foreign;
  EXPECT_EQ(VerifyCertificateChain(Pem(pki_.Expired()), ca).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyCertificateChain("garbage", ca).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCertificateChain(agent, "").code(), absl::StatusCode::kInvalidArgument);

  auto fp = CertificateFingerprint(agent);
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(fp->size(), 64u);
  EXPECT_EQ(fp->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(*fp, *CertificateFingerprint(ca));
  EXPECT_FALSE(CertificateFingerprint("not pem").ok());
}

TEST(IdentityPemTest, MalformedPemNeverCrashes) {
  for (const std::string& pem :
       {std::string(), std::string("garbage"), std::string("-----BEGIN CERTIFICATE-----\n"),
        std::string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        std::string(2 << 20, 'A'), std::string(1000, '\0')}) {
    auto id = IdentityFromCertificatePem(pem);
    EXPECT_FALSE(id.ok());
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << id.status();
  }
}

TEST(SpiffeIdTest, ParsesEveryShape) {
  auto agent = ParseSpiffeId("spiffe://example.org/account/111111111111/region/us-gov-west-1/agent/A_b.c-1");
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_EQ(agent->role, Role::kAgent);
  EXPECT_EQ(agent->region, "us-gov-west-1");
  EXPECT_EQ(agent->name, "A_b.c-1");
  auto account_admin = ParseSpiffeId("spiffe://example.org/account/111111111111/admin/ops");
  ASSERT_TRUE(account_admin.ok());
  EXPECT_EQ(account_admin->role, Role::kAccountAdmin);
  EXPECT_EQ(ParseSpiffeId("spiffe://example.org/auditor/bob")->role, Role::kAuditor);
  EXPECT_EQ(ParseSpiffeId("spiffe://example.org/admin/root")->role, Role::kAdmin);
  EXPECT_EQ(ParseSpiffeId("spiffe://my-org.example_1/collector/c1")->role, Role::kCollector);
  EXPECT_EQ(ParseSpiffeId("spiffe://example.org/admin/" + std::string(64, 'n'))->name.size(), 64u);
  EXPECT_EQ(RoleName(Role::kAgent), "agent");
  EXPECT_EQ(RoleName(Role::kAccountAdmin), "account-admin");
  EXPECT_EQ(RoleName(Role::kCollector), "collector");
}

TEST(SpiffeIdTest, TrustDomainMismatchIsPermissionDenied) {
  auto id = ParseSpiffeId("spiffe://other.org/auditor/bob", "example.org");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(ParseSpiffeId("spiffe://example.org/auditor/bob", "example.org").ok());
}

TEST(SpiffeIdTest, MalformedIdsAreInvalidArgument) {
  const std::string kAgent = "/account/111111111111/region/us-east-1/agent/a1";
  const std::vector<std::string> bad = {
      "",
      "spiffe://",
      "spiffe://example.org",
      "spiffe://example.org/",
      "spiffe:///auditor/bob",
      "SPIFFE://example.org/auditor/bob",
      "Spiffe://example.org/auditor/bob",
      "https://example.org/auditor/bob",
      "spiffe:/example.org/auditor/bob",
      "spiffe://Example.org/auditor/bob",
      "spiffe://example.org:443/auditor/bob",
      "spiffe://user@example.org/auditor/bob",
      "spiffe://example.org/auditor/bob/",
      "spiffe://example.org//auditor/bob",
      "spiffe://example.org/auditor/..",
      "spiffe://example.org/auditor/.",
      "spiffe://example.org/account/111111111111/region/us-east-1/agent/../../admin/root",
      "spiffe://example.org/auditor/b%6Fb",
      "spiffe://example.org/auditor/%2e%2e",
      "spiffe://example.org/auditor/bob?x=1",
      "spiffe://example.org/auditor/bob#frag",
      "spiffe://example.org/auditor/b ob",
      std::string("spiffe://example.org/auditor/b\0ob", 33),
      "spiffe://example.org/auditor/b\xc3\xa9",
      "spiffe://example.org/auditor/" + std::string(65, 'a'),
      "spiffe://example.org/auditor",
      "spiffe://example.org/auditor/bob/extra",
      "spiffe://example.org/root/bob",
      "spiffe://example.org/account/11111111111/region/us-east-1/agent/a1",
      "spiffe://example.org/account/1111111111111/region/us-east-1/agent/a1",
      "spiffe://example.org/account/11111111111a/region/us-east-1/agent/a1",
      "spiffe://example.org/account/111111111111/region/us-east-1/extra/agent/a1",
      "spiffe://example.org/account/111111111111/region/us-east-1/agent",
      "spiffe://example.org/account/111111111111/region/US-EAST-1/agent/a1",
      "spiffe://example.org/account/111111111111/region/useast1/agent/a1",
      "spiffe://example.org/account/111111111111/region/us-east-/agent/a1",
      "spiffe://example.org/account/111111111111/region/us--1/agent/a1",
      "spiffe://example.org/account/111111111111/region/us-east-123/agent/a1",
      "spiffe://example.org/account/111111111111/region/x-east-1/agent/a1",
      "spiffe://example.org/account/111111111111/admin",
      "spiffe://example.org/account/111111111111/auditor/bob",
      "spiffe://" + std::string(300, 'a') + "/auditor/bob",
      "spiffe://example.org" + kAgent + std::string(3000, 'a'),
      "spiffe://example.org/" + std::string(1 << 20, '/'),
  };
  for (const std::string& uri : bad) {
    auto id = ParseSpiffeId(uri);
    EXPECT_FALSE(id.ok()) << "accepted: " << uri.substr(0, 120);
    if (!id.ok()) {
      EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << uri.substr(0, 120);
      EXPECT_LT(id.status().message().size(), 1024u) << "error message echoes huge input";
    }
  }
  // The region "us-east-1/extra" makes the path one segment too long.
  EXPECT_FALSE(ParseSpiffeId("spiffe://example.org/account/111111111111/region/us-east-1/extra/agent/a1").ok());
}

}  // namespace
}  // namespace orgtrail
