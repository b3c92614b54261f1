// `orgtrailctl pki` as an operator runs it: the real binary, real files.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/tls.h"
#include "testutil/pki_fixture.h"
#include "pki_cli_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using testutil::TempDir;

class PkiCliTest : public PkiCliFixture {
 protected:
  void InitCa() {
    RunResult r = Ctl({"init-ca", "--dir", Ca(), "--org", "example.org"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static int Mode(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  }

  static StatusOr<Identity> IdentityOf(const std::string& cert_path) {
    auto pem = ReadFile(cert_path);
    if (!pem.ok()) return pem.status();
    return IdentityFromCertificatePem(*pem, "example.org");
  }

  Status ChainsToCa(const std::string& cert_path) {
    auto pem = ReadFile(cert_path);
    auto ca = ReadFile(CaFile("ca.crt"));
    if (!pem.ok() || !ca.ok()) return absl::NotFoundError("missing file");
    return VerifyCertificateChain(*pem, *ca);
  }
};

TEST_F(PkiCliTest, InitCaAndIssueEveryRole) {
  InitCa();
  EXPECT_EQ(Mode(CaFile("ca.key")), 0600);
  EXPECT_EQ(Mode(CaFile("ca.crt")), 0644);
  EXPECT_EQ(Mode(Ca()), 0700);

  RunResult r = Ctl({"issue-collector", "--dir", Ca(), "--name", "main", "--dns", "localhost", "--ip", "127.0.0.1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("spiffe://example.org/collector/main"), std::string::npos) << r.out;
  auto collector = IdentityOf(CaFile("collector-main.crt"));
  ASSERT_TRUE(collector.ok()) << collector.status();
  EXPECT_EQ(collector->role, Role::kCollector);
  auto collector_options = CertificateOptionsFromPem(*ReadFile(CaFile("collector-main.crt")));
  ASSERT_TRUE(collector_options.ok());
  EXPECT_EQ(collector_options->dns_sans, std::vector<std::string>{"localhost"});
  EXPECT_EQ(collector_options->ip_sans, std::vector<std::string>{"127.0.0.1"});
  EXPECT_TRUE(collector_options->server_auth);
  EXPECT_TRUE(collector_options->client_auth);

  r = Ctl({"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name", "a1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string agent_cert = CaFile("agent-111111111111-us-east-1-a1.crt");
  auto agent = IdentityOf(agent_cert);
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_EQ(agent->role, Role::kAgent);
  EXPECT_EQ(agent->account_id, "111111111111");
  EXPECT_EQ(agent->region, "us-east-1");
  EXPECT_EQ(agent->name, "a1");
  EXPECT_EQ(Mode(CaFile("agent-111111111111-us-east-1-a1.key")), 0600);
  EXPECT_TRUE(ChainsToCa(agent_cert).ok());

  r = Ctl({"issue-auditor", "--dir", Ca(), "--name", "alice"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(IdentityOf(CaFile("auditor-alice.crt"))->role, Role::kAuditor);
  r = Ctl({"issue-admin", "--dir", Ca(), "--name", "root"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(IdentityOf(CaFile("admin-root.crt"))->role, Role::kAdmin);
  r = Ctl({"issue-admin", "--dir", Ca(), "--name", "ops", "--account", "222222222222"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto account_admin = IdentityOf(CaFile("admin-222222222222-ops.crt"));
  ASSERT_TRUE(account_admin.ok());
  EXPECT_EQ(account_admin->role, Role::kAccountAdmin);
  EXPECT_EQ(account_admin->account_id, "222222222222");

  // Explicit output paths and an Ed25519 key.
  r = Ctl({"issue-agent", "--dir", Ca(), "--account", "333333333333", "--region", "eu-west-1", "--name", "x",
           "--key-type", "ed25519", "--out-cert", dir_.Join("x.crt"), "--out-key", dir_.Join("x.key")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Mode(dir_.Join("x.key")), 0600);
  EXPECT_EQ(CertificateOptionsFromPem(*ReadFile(dir_.Join("x.crt")))->key_type, KeyType::kEd25519);
}

TEST_F(PkiCliTest, InitCaRefusesToOverwriteWithoutForce) {
  InitCa();
  std::string before = *ReadFile(CaFile("ca.crt"));
  RunResult r = Ctl({"init-ca", "--dir", Ca(), "--org", "example.org"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(*ReadFile(CaFile("ca.crt")), before);
  r = Ctl({"init-ca", "--dir", Ca(), "--org", "example.org", "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(*ReadFile(CaFile("ca.crt")), before);
}

TEST_F(PkiCliTest, RenewKeepsNamesAndReplacesKeyAndCertificate) {
  InitCa();
  ASSERT_EQ(Ctl({"issue-collector", "--dir", Ca(), "--dns", "localhost", "--dns", "collector.example.org",
                 "--ip", "127.0.0.1"}).exit_code, 0);
  std::string cert = CaFile("collector-main.crt"), key = CaFile("collector-main.key");
  std::string old_cert = *ReadFile(cert), old_key = *ReadFile(key);
  RunResult r = Ctl({"renew", "--dir", Ca(), "--cert", cert, "--key", key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string new_cert = *ReadFile(cert), new_key = *ReadFile(key);
  EXPECT_NE(new_cert, old_cert);
  EXPECT_NE(new_key, old_key);
  EXPECT_EQ(Mode(key), 0600);
  auto before = CertificateOptionsFromPem(old_cert);
  auto after = CertificateOptionsFromPem(new_cert);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(after->uri_sans, before->uri_sans);
  EXPECT_EQ(after->dns_sans, before->dns_sans);
  EXPECT_EQ(after->ip_sans, before->ip_sans);
  EXPECT_EQ(after->server_auth, before->server_auth);
  EXPECT_TRUE(ChainsToCa(cert).ok());
  // The new key matches the new certificate (MakeServerCredentials checks).
  TlsFiles files{CaFile("ca.crt"), cert, key, 1};
  auto creds = MakeServerCredentials(files);
  EXPECT_TRUE(creds.ok()) << creds.status();
  // No temporary files left behind.
  for (const auto& entry : std::filesystem::directory_iterator(Ca())) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST_F(PkiCliTest, RenewWorksOnAnExpiredCertificate) {
  // A CA made 30 days ago (through the library) and an agent certificate of
  // it that expired 9 days ago.
  const int64_t day_us = int64_t{86400} * 1000000;
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  CaOptions ca_options;
  ca_options.trust_domain = "example.org";
  ca_options.not_before_us = now_us - 30 * day_us;
  auto ca = CreateCa(ca_options);
  ASSERT_TRUE(ca.ok());
  std::filesystem::create_directories(Ca());
  ASSERT_TRUE(WriteKeyAndCert(*ca, CaFile("ca.key"), CaFile("ca.crt")).ok());
  CertOptions options;
  options.uri_sans = {"spiffe://example.org/account/111111111111/region/us-east-1/agent/old"};
  options.not_before_us = now_us - 10 * day_us;
  options.validity_days = 1;
  auto issued = IssueCertificate(*ca, options);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(WriteKeyAndCert(*issued, dir_.Join("old.key"), dir_.Join("old.crt")).ok());
  ASSERT_EQ(IdentityOf(dir_.Join("old.crt")).status().code(), absl::StatusCode::kUnauthenticated);

  RunResult r = Ctl({"renew", "--dir", Ca(), "--cert", dir_.Join("old.crt"), "--key", dir_.Join("old.key"),
                     "--validity-days", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto after = CertificateOptionsFromPem(*ReadFile(dir_.Join("old.crt")));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->validity_days, 30);
  EXPECT_EQ(after->uri_sans, options.uri_sans);
  auto id = IdentityOf(dir_.Join("old.crt"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->name, "old");
  EXPECT_TRUE(ChainsToCa(dir_.Join("old.crt")).ok());
}

TEST_F(PkiCliTest, RenewRefusesForeignSwappedOrCaCertificates) {
  InitCa();
  testutil::TestPki other(dir_.Join("other"));
  TlsFiles foreign = other.Agent("111111111111", "us-east-1");
  std::string before = *ReadFile(foreign.cert_path);
  RunResult r = Ctl({"renew", "--dir", Ca(), "--cert", foreign.cert_path, "--key", foreign.key_path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--cert"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not issued by"), std::string::npos) << r.err;
  EXPECT_EQ(*ReadFile(foreign.cert_path), before);

  ASSERT_EQ(Ctl({"issue-auditor", "--dir", Ca(), "--name", "bob"}).exit_code, 0);
  std::string cert = CaFile("auditor-bob.crt"), key = CaFile("auditor-bob.key");
  std::string cert_before = *ReadFile(cert), key_before = *ReadFile(key);
  r = Ctl({"renew", "--dir", Ca(), "--cert", key, "--key", cert});  // swapped
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(*ReadFile(cert), cert_before);
  EXPECT_EQ(*ReadFile(key), key_before);

  r = Ctl({"renew", "--dir", Ca(), "--cert", CaFile("ca.crt"), "--key", CaFile("ca.key")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CA certificate"), std::string::npos) << r.err;
}

TEST_F(PkiCliTest, ShowDescribesAndVerifies) {
  InitCa();
  ASSERT_EQ(Ctl({"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-west-2"}).exit_code, 0);
  std::string cert = CaFile("agent-111111111111-us-west-2-a1.crt");
  RunResult r = Ctl({"show", cert, "--ca", CaFile("ca.crt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("identity:      agent account=111111111111 region=us-west-2 name=a1"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("chain:         OK"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("digitalSignature"), std::string::npos);

  testutil::TestPki other(dir_.Join("other"));
  r = Ctl({"show", cert, "--ca", other.ca_cert_path()});
  EXPECT_EQ(r.exit_code, 1) << r.out;

  r = Ctl({"show", CaFile("ca.crt")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("identity:      none"), std::string::npos) << r.out;

  ASSERT_TRUE(WriteFileAtomically(dir_.Join("garbage.crt"), std::string(70000, 'Z'), 0644).ok());
  r = Ctl({"show", dir_.Join("garbage.crt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a PEM certificate"), std::string::npos) << r.err;
  r = Ctl({"show", dir_.Join("missing.crt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.crt"), std::string::npos) << r.err;
  r = Ctl({"show"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(PkiCliTest, HelpForEverySubcommand) {
  RunResult r = Ctl({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* sub : {"init-ca", "issue-collector", "issue-agent", "issue-auditor", "issue-admin", "renew", "revoke", "show"}) {
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
    RunResult help = Ctl({sub, "--help"});
    EXPECT_EQ(help.exit_code, 0) << sub << ": " << help.err;
    EXPECT_NE(help.out.find(std::string("orgtrailctl pki ") + sub), std::string::npos) << help.out;
  }
  EXPECT_EQ(Ctl({}).exit_code, 2);
  r = Ctl({"no-such-subcommand"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown subcommand"), std::string::npos);
}

// Every bad flag is a usage error (exit 2) naming the flag, and writes nothing.
TEST_F(PkiCliTest, BadFlagsAreClearUsageErrors) {
  InitCa();
  const std::string huge(100000, 'a');
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {{"init-ca", "--org", "example.org"}, "--dir"},
      {{"init-ca", "--dir", dir_.Join("ca2")}, "--org"},
      {{"init-ca", "--dir", dir_.Join("ca2"), "--org", "Example.ORG"}, "--org"},
      {{"init-ca", "--dir", dir_.Join("ca2"), "--org", "example.org/x"}, "--org"},
      {{"init-ca", "--dir", dir_.Join("ca2"), "--org", huge}, "--org"},
      {{"init-ca", "--dir", dir_.Join("ca2"), "--org", "example.org", "--validity-days", "0"}, "--validity-days"},
      {{"init-ca", "--dir", dir_.Join("ca2"), "--org", "example.org", "--validity-days", "abc"}, "validity-days"},
      {{"init-ca", "--dir", dir_.Join("ca2"), "--org", "example.org", "--key-type", "dsa"}, "--key-type"},
      {{"issue-agent", "--account", "111111111111", "--region", "us-east-1"}, "--dir"},
      {{"issue-agent", "--dir", dir_.Join("nope"), "--account", "111111111111", "--region", "us-east-1"}, "--dir"},
      {{"issue-agent", "--dir", Ca(), "--region", "us-east-1"}, "--account"},
      {{"issue-agent", "--dir", Ca(), "--account", "11111111111", "--region", "us-east-1"}, "--account"},
      {{"issue-agent", "--dir", Ca(), "--account", "1111111111111", "--region", "us-east-1"}, "--account"},
      {{"issue-agent", "--dir", Ca(), "--account", "11111111111x", "--region", "us-east-1"}, "--account"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111"}, "--region"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1/extra"}, "--region"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "US-EAST-1"}, "--region"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", huge}, "--region"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name", "../x"}, "--name"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name", ".."}, "--name"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name", std::string(65, 'n')}, "--name"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--name", "a%2e"}, "--name"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--key-type", "rsa2048"}, "--key-type"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--validity-days", "-3"}, "--validity-days"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--validity-days", "99999999999999999999999"}, "validity-days"},
      {{"issue-agent", "--dir", Ca(), "--account", "111111111111", "--region", "us-east-1", "--bogus"}, "--bogus"},
      {{"issue-collector", "--dir", Ca()}, "--dns"},
      {{"issue-collector", "--dir", Ca(), "--ip", "300.1.1.1"}, "--ip"},
      {{"issue-collector", "--dir", Ca(), "--ip", "127.0.0.1, DNS:evil.example"}, "--ip"},
      {{"issue-collector", "--dir", Ca(), "--dns", "a b"}, "--dns"},
      {{"issue-collector", "--dir", Ca(), "--dns", "x,URI:spiffe://example.org/admin/root"}, "--dns"},
      {{"issue-collector", "--dir", Ca(), "--dns", huge}, "--dns"},
      {{"issue-auditor", "--dir", Ca()}, "--name"},
      {{"issue-auditor", "--dir", Ca(), "--name", "a/b"}, "--name"},
      {{"issue-admin", "--dir", Ca(), "--name", "x", "--account", "12"}, "--account"},
      {{"renew", "--dir", Ca(), "--key", CaFile("ca.key")}, "--cert"},
      {{"renew", "--dir", Ca(), "--cert", CaFile("ca.crt")}, "--key"},
      {{"renew", "--dir", Ca(), "--cert", dir_.Join("missing.crt"), "--key", CaFile("ca.key")}, "--cert"},
  };
  auto count_files = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (e.path().string().find("/logs/") == std::string::npos) ++n;
    }
    return n;
  };
  const int files_before = count_files();
  for (const Case& c : cases) {
    RunResult r = Ctl(c.args);
    std::string shown = c.args[0] + " ... " + c.flag;
    EXPECT_EQ(r.exit_code, 2) << shown << "\nstdout: " << r.out << "\nstderr: " << r.err.substr(0, 500);
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << shown << ": " << r.err.substr(0, 500);
    EXPECT_LT(r.err.size(), 2000u) << shown << ": error echoes huge input";
  }
  EXPECT_EQ(count_files(), files_before) << "a refused command wrote files";
}

}  // namespace
}  // namespace orgtrail
