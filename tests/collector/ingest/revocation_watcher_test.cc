// RevocationWatcher: refuses to open on a missing, oversized or malformed
// file; on reload applies what changed, keeps the last good CRL or deny list
// when a new one does not load (counting each distinct failure once), treats
// the two files independently, re-verifies the CRL when the CA bundle
// changes, and calls its listener from its own thread.
#include "collector/ingest/revocation_watcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "orgtrail/common/crl.h"
#include "orgtrail/common/pki.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

class RevocationWatcherTest : public ::testing::Test {
 protected:
  RevocationWatcherTest() : dir_("revocation-watcher"), pki_(dir_.MakeSubdir("pki")) {
    agent_ = pki_.Agent("111111111111", "us-east-1", "a1");
    auto pem = ReadFile(agent_.cert_path);
    EXPECT_TRUE(pem.ok());
    auto subject = RevocationSubjectFromPem(*pem);
    EXPECT_TRUE(subject.ok());
    subject_ = *subject;
    files_.crl_path = dir_.Join("crl.pem");
    files_.deny_list_path = dir_.Join("deny.txt");
    files_.ca_path = pki_.ca_cert_path();
    files_.poll_interval_us = 20'000;
    WriteCrl({});
    Write(files_.deny_list_path, "");
  }

  void Write(const std::string& path, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomically(path, text, 0644).ok());
  }
  void WriteCrl(const std::vector<std::string>& serials, const KeyAndCert* ca = nullptr) {
    CrlUpdate update;
    update.add_serials = serials;
    auto pem = IssueCrl(ca != nullptr ? *ca : pki_.ca(), nullptr, update);
    ASSERT_TRUE(pem.ok()) << pem.status();
    Write(files_.crl_path, *pem);
  }
  StatusOr<std::unique_ptr<RevocationWatcher>> Open() { return RevocationWatcher::Open(files_, &logger_, &metrics_); }
  uint64_t Errors(const std::string& file) {
    return metrics_.GetCounter("orgtrail_collector_revocation_reload_errors_total", "", {{"file", file}})->value();
  }
  bool Revoked(const RevocationWatcher& w) { return w.Current()->Check(subject_).has_value(); }

  testutil::TempDir dir_;
  testutil::TestPki pki_;
  TlsFiles agent_;
  RevocationSubject subject_;
  RevocationFiles files_;
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
};

TEST_F(RevocationWatcherTest, OpenRefusesMissingMalformedOrForeignFiles) {
  ASSERT_TRUE(Open().ok());
  struct Case {
    const char* what;
    std::string crl;   // "" = leave the good one
    std::string deny;  // "" = leave the empty one
    const char* expect;
  };
  auto other_ca = CreateCa(CaOptions{"example.org"});
  ASSERT_TRUE(other_ca.ok());
  CrlUpdate update;
  auto foreign = IssueCrl(*other_ca, nullptr, update);
  ASSERT_TRUE(foreign.ok());
  const Case cases[] = {
      {"garbage CRL", "hello\n", "", "--crl-file"},
      {"CRL signed by another CA", *foreign, "", "--crl-file"},
      {"certificate instead of a CRL", pki_.ca().cert_pem, "", "--crl-file"},
      {"oversized CRL", std::string(kMaxCrlBytes + 1, 'A'), "", "larger than"},
      {"bad deny line", "", "spiffe://example.org/account/111111111111/region/us-east-1/agent/a1\nnope\n", "line 2"},
      {"oversized deny list", "", std::string(kMaxDenyListBytes + 1, '#'), "--deny-list-file"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    WriteCrl({});
    Write(files_.deny_list_path, "");
    if (!c.crl.empty()) Write(files_.crl_path, c.crl);
    if (!c.deny.empty()) Write(files_.deny_list_path, c.deny);
    auto w = Open();
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(w.status().message().find(c.expect), std::string::npos) << w.status();
  }
  WriteCrl({});
  RevocationFiles missing = files_;
  missing.deny_list_path = dir_.Join("does-not-exist");
  auto w = RevocationWatcher::Open(missing, &logger_, &metrics_);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(w.status().message().find("does-not-exist"), std::string::npos) << w.status();
  RevocationFiles directory = files_;
  directory.crl_path = dir_.path();
  EXPECT_FALSE(RevocationWatcher::Open(directory, &logger_, &metrics_).ok());
  RevocationFiles no_ca = files_;
  no_ca.ca_path.clear();
  EXPECT_FALSE(RevocationWatcher::Open(no_ca, &logger_, &metrics_).ok());
}

TEST_F(RevocationWatcherTest, ReloadAppliesChangesAndKeepsTheLastGoodPart) {
  auto w = Open();
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_FALSE(Revoked(**w));
  EXPECT_FALSE((*w)->Poll());  // nothing changed

  WriteCrl({subject_.serial});
  EXPECT_TRUE((*w)->Poll());
  EXPECT_TRUE(Revoked(**w));

  // A broken CRL: counted once, however often it is polled; the last good one stays.
  Write(files_.crl_path, "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
  EXPECT_FALSE((*w)->Poll());
  EXPECT_FALSE((*w)->Poll());
  EXPECT_TRUE(Revoked(**w));
  EXPECT_EQ(Errors("crl"), 1u);
  // Meanwhile a good deny list change still applies.
  Write(files_.deny_list_path, "spiffe://example.org/auditor/mallory\n");
  EXPECT_TRUE((*w)->Poll());
  EXPECT_EQ((*w)->Current()->denied_spiffe_ids(), 1u);
  EXPECT_TRUE(Revoked(**w));
  // The CRL file disappears: another failure, the list stays.
  ASSERT_EQ(::unlink(files_.crl_path.c_str()), 0);
  EXPECT_FALSE((*w)->Poll());
  EXPECT_EQ(Errors("crl"), 2u);
  EXPECT_TRUE(Revoked(**w));
  // A good CRL again: the certificate is no longer listed.
  WriteCrl({"abcdef"});
  EXPECT_TRUE((*w)->Poll());
  EXPECT_FALSE(Revoked(**w));
  EXPECT_EQ((*w)->Current()->crl_entries(), 1u);

  // A broken deny list keeps the last good one.
  Write(files_.deny_list_path, std::string("spiffe://example.org/auditor/x\n\0\n", 33));
  EXPECT_FALSE((*w)->Poll());
  EXPECT_EQ(Errors("deny_list"), 1u);
  EXPECT_EQ((*w)->Current()->denied_spiffe_ids(), 1u);
  // Denying the certificate by fingerprint.
  Write(files_.deny_list_path, "# the stolen key\n" + subject_.fingerprint + "\n");
  EXPECT_TRUE((*w)->Poll());
  EXPECT_TRUE(Revoked(**w));
  EXPECT_EQ(Errors("deny_list"), 1u);
}

TEST_F(RevocationWatcherTest, CaChangeReverifiesTheCrl) {
  WriteCrl({subject_.serial});
  auto w = Open();
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(Revoked(**w));
  // The CA bundle is replaced by another CA: the same CRL no longer verifies; it is kept.
  testutil::TestPki other(dir_.MakeSubdir("other"));
  ASSERT_TRUE(WriteFileAtomically(files_.ca_path, other.ca().cert_pem, 0644).ok());
  EXPECT_FALSE((*w)->Poll());
  EXPECT_EQ(Errors("crl"), 1u);
  EXPECT_TRUE(Revoked(**w));
  // A bundle of both CAs (a CA rotation): it verifies again (nothing changes in the list).
  ASSERT_TRUE(WriteFileAtomically(files_.ca_path, other.ca().cert_pem + pki_.ca().cert_pem, 0644).ok());
  (void)(*w)->Poll();
  EXPECT_TRUE(Revoked(**w));
  EXPECT_EQ(Errors("crl"), 1u);
}

TEST_F(RevocationWatcherTest, ThreadCallsTheListenerWithEachNewList) {
  auto w = Open();
  ASSERT_TRUE(w.ok()) << w.status();
  std::mutex mu;
  std::shared_ptr<const RevocationList> seen;
  std::atomic<int> calls{0};
  (*w)->Start([&](std::shared_ptr<const RevocationList> list) {
    std::lock_guard<std::mutex> lock(mu);
    seen = std::move(list);
    ++calls;
  });
  Write(files_.deny_list_path, subject_.fingerprint + "\n");
  ASSERT_TRUE(testutil::WaitFor([&] { return calls.load() >= 1; }, std::chrono::seconds(10)));
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_TRUE(seen);
    EXPECT_TRUE(seen->Check(subject_).has_value());
  }
  (*w)->Stop();
  EXPECT_EQ(metrics_.GetCounter("orgtrail_collector_revocation_reloads_total", "")->value(),
            static_cast<uint64_t>(calls.load()));
}

}  // namespace
}  // namespace orgtrail::collector
