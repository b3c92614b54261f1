// `orgtrailctl pki revoke` and `pki issue-* --validity-seconds` as an
// operator runs them: the real binary, real files. The CRL it writes verifies
// against the CA and lists what was revoked; a second run keeps the first
// run's entries; a CRL it cannot verify is never overwritten; bad flags are
// usage errors that write nothing.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "orgtrail/common/crl.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/revocation.h"
#include "orgtrail/common/time_util.h"
#include "pki_cli_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using testutil::TempDir;

class PkiRevokeCliTest : public PkiCliFixture {
 protected:
  void SetUp() override {
    RunResult r = Ctl({"init-ca", "--dir", Ca(), "--org", "example.org"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Ctl({"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name", "a1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Ctl({"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name", "a2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string Agent(const std::string& name) const { return Ca() + "/agent-111111111111-us-east-1-" + name + ".crt"; }
  StatusOr<Crl> ReadCrl(const std::string& path) {
    auto pem = ReadFile(path);
    if (!pem.ok()) return pem.status();
    return ParseAndVerifyCrl(*pem, *ReadFile(Ca() + "/ca.crt"));
  }
  RevocationSubject Subject(const std::string& cert_path) {
    auto subject = RevocationSubjectFromPem(*ReadFile(cert_path));
    EXPECT_TRUE(subject.ok()) << subject.status();
    return subject.ok() ? *subject : RevocationSubject{};
  }
};

TEST_F(PkiRevokeCliTest, RevokeWritesAVerifiedCrlAndExtendsIt) {
  RunResult r = Ctl({"revoke", "--dir", Ca(), "--cert", Agent("a1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const RevocationSubject a1 = Subject(Agent("a1"));
  const RevocationSubject a2 = Subject(Agent("a2"));
  EXPECT_NE(r.out.find("revoked: serial " + a1.serial), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(a1.spiffe_id), std::string::npos) << r.out;
  auto crl = ReadCrl(Ca() + "/crl.pem");
  ASSERT_TRUE(crl.ok()) << crl.status();
  EXPECT_EQ(crl->number, 1u);
  RevocationList list(&*crl, DenyList{});
  EXPECT_TRUE(list.Check(a1).has_value());
  EXPECT_FALSE(list.Check(a2).has_value());
  struct stat st;
  ASSERT_EQ(::stat((Ca() + "/crl.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  // Again, by serial in the form `pki show` prints, into the same CRL: both are listed.
  std::string upper = a2.serial;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  r = Ctl({"revoke", "--dir", Ca(), "--serial", upper, "--next-update-days", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  crl = ReadCrl(Ca() + "/crl.pem");
  ASSERT_TRUE(crl.ok()) << crl.status();
  EXPECT_EQ(crl->number, 2u);
  EXPECT_EQ(crl->entries.size(), 2u);
  EXPECT_EQ(crl->next_update_us - crl->this_update_us, int64_t{3} * 86400 * 1000000);
  RevocationList both(&*crl, DenyList{});
  EXPECT_TRUE(both.Check(a1).has_value());
  EXPECT_TRUE(both.Check(a2).has_value());

  // Revoking again changes nothing but the number; --refresh re-signs only.
  r = Ctl({"revoke", "--dir", Ca(), "--cert", Agent("a1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("already revoked"), std::string::npos) << r.out;
  r = Ctl({"revoke", "--dir", Ca(), "--refresh"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  crl = ReadCrl(Ca() + "/crl.pem");
  ASSERT_TRUE(crl.ok());
  EXPECT_EQ(crl->number, 4u);
  EXPECT_EQ(crl->entries.size(), 2u);

  // --crl elsewhere, starting empty.
  r = Ctl({"revoke", "--dir", Ca(), "--crl", dir_.Join("elsewhere.pem"), "--refresh"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto elsewhere = ReadCrl(dir_.Join("elsewhere.pem"));
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  EXPECT_TRUE(elsewhere->entries.empty());
}

TEST_F(PkiRevokeCliTest, NeverOverwritesACrlItCannotVerify) {
  const std::string crl_path = Ca() + "/crl.pem";
  ASSERT_TRUE(WriteFileAtomically(crl_path, "precious operator data\n", 0644).ok());
  RunResult r = Ctl({"revoke", "--dir", Ca(), "--cert", Agent("a1")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("does not verify"), std::string::npos) << r.err;
  EXPECT_EQ(*ReadFile(crl_path), "precious operator data\n");
  // A CRL of another CA is not extended either.
  RunResult other = Ctl({"init-ca", "--dir", dir_.Join("other"), "--org", "example.org"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  ASSERT_EQ(Ctl({"revoke", "--dir", dir_.Join("other"), "--refresh"}).exit_code, 0);
  const std::string foreign = *ReadFile(dir_.Join("other") + "/crl.pem");
  ASSERT_TRUE(WriteFileAtomically(crl_path, foreign, 0644).ok());
  r = Ctl({"revoke", "--dir", Ca(), "--cert", Agent("a1")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(*ReadFile(crl_path), foreign);
  // A certificate of another CA cannot be revoked here.
  ASSERT_TRUE(::unlink(crl_path.c_str()) == 0);
  RunResult foreign_cert =
      Ctl({"issue-agent", "--dir", dir_.Join("other"), "--account", "111111111111", "--region", "us-east-1"});
  ASSERT_EQ(foreign_cert.exit_code, 0);
  r = Ctl({"revoke", "--dir", Ca(), "--cert", dir_.Join("other") + "/agent-111111111111-us-east-1-a1.crt"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("was not issued by the CA"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(crl_path));
}

TEST_F(PkiRevokeCliTest, BadFlagsAreUsageErrorsThatWriteNothing) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const Case cases[] = {
      {{"revoke", "--dir", Ca()}, "--cert"},
      {{"revoke", "--cert", Agent("a1")}, "--dir"},
      {{"revoke", "--dir", Ca(), "--serial", "xyz"}, "--serial"},
      {{"revoke", "--dir", Ca(), "--serial", std::string(100000, '1')}, "--serial"},
      {{"revoke", "--dir", Ca(), "--serial", "1", "--next-update-days", "0"}, "--next-update-days"},
      {{"revoke", "--dir", Ca(), "--cert", dir_.Join("missing.crt")}, "--cert"},
      {{"revoke", "--dir", Ca(), "--cert", Ca() + "/ca.crt"}, "CA certificate"},
      {{"revoke", "--dir", dir_.Join("no-ca"), "--serial", "1"}, "--dir"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name", "x",
        "--validity-seconds", "0"},
       "--validity-seconds"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args.back().substr(0, 80));
    RunResult r = Ctl(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(Ca() + "/crl.pem"));
  EXPECT_FALSE(std::filesystem::exists(Ca() + "/agent-111111111111-us-east-1-x.crt"));
}

TEST_F(PkiRevokeCliTest, ValiditySecondsIssuesAShortLivedCertificate) {
  const int64_t before = NowMicros();
  RunResult r = Ctl({"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name",
                     "short", "--validity-seconds", "90"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const RevocationSubject short_lived = Subject(Agent("short"));
  EXPECT_GE(short_lived.not_after_us, before / 1000000 * 1000000 + 90'000'000);
  EXPECT_LE(short_lived.not_after_us, NowMicros() + 90'000'000);
  // Renewing it keeps a day's validity (the renewal default), not 90 s.
  r = Ctl({"renew", "--dir", Ca(), "--cert", Agent("short"), "--key",
           Ca() + "/agent-111111111111-us-east-1-short.key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(Subject(Agent("short")).not_after_us, NowMicros() + 3600'000'000LL);
}

}  // namespace
}  // namespace orgtrail
