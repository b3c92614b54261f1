// common/pki.h: CA and leaf certificates checked with OpenSSL directly,
// atomic file writes, and refusal of bad options.
#include "orgtrail/common/pki.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "orgtrail/common/identity.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using testutil::TempDir;

struct X509Free { void operator()(X509* x) const { X509_free(x); } };
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr Parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(cert);
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> SansOfType(X509* cert, int type) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* gen = sk_GENERAL_NAME_value(names, i);
    if (gen->type != type) continue;
    ASN1_STRING* s = type == GEN_IPADD ? gen->d.iPAddress : gen->d.ia5;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

KeyAndCert MakeCa(KeyType type = KeyType::kEcdsaP256) {
  CaOptions options;
  options.trust_domain = "example.org";
  options.key_type = type;
  auto ca = CreateCa(options);
  EXPECT_TRUE(ca.ok()) << ca.status();
  return ca.ok() ? *ca : KeyAndCert{};
}

CertOptions AgentOptions() {
  CertOptions options;
  options.uri_sans = {"spiffe://example.org/account/111111111111/region/us-east-1/agent/a1"};
  options.common_name = "agent a1";
  return options;
}

TEST(PkiTest, CaIsACriticalCaWithCertSignAndSelfSigned) {
  KeyAndCert ca = MakeCa();
  EXPECT_NE(ca.key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);  // PKCS#8
  X509Ptr cert = Parse(ca.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  int critical = -1;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert.get(), NID_basic_constraints, &critical, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_TRUE(bc->ca);
  EXPECT_EQ(critical, 1);
  BASIC_CONSTRAINTS_free(bc);
  uint32_t usage = X509_get_key_usage(cert.get());
  EXPECT_TRUE(usage & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(usage & KU_CRL_SIGN);
  EXPECT_EQ(X509_check_issued(cert.get(), cert.get()), X509_V_OK);
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  EXPECT_TRUE(VerifyCertificateChain(ca.cert_pem, ca.cert_pem).ok());
}

TEST(PkiTest, LeafHasSansUsagesKeyIdsAndChainsToCa) {
  KeyAndCert ca = MakeCa();
  CertOptions options;
  options.uri_sans = {"spiffe://example.org/collector/main"};
  options.dns_sans = {"localhost", "collector.example.org"};
  options.ip_sans = {"127.0.0.1", "::1"};
  options.server_auth = true;
  options.client_auth = true;
  options.validity_days = 30;
  auto leaf = IssueCertificate(ca, options);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  X509Ptr cert = Parse(leaf->cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(SansOfType(cert.get(), GEN_URI), options.uri_sans);
  EXPECT_EQ(SansOfType(cert.get(), GEN_DNS), options.dns_sans);
  auto ips = SansOfType(cert.get(), GEN_IPADD);
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_EQ(ips[0], std::string("\x7f\x00\x00\x01", 4));
  EXPECT_EQ(ips[1].size(), 16u);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN);
  uint32_t eku = X509_get_extended_key_usage(cert.get());
  EXPECT_TRUE(eku & XKU_SSL_SERVER);
  EXPECT_TRUE(eku & XKU_SSL_CLIENT);
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  X509Ptr ca_cert = Parse(ca.cert_pem);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert.get());
  ASSERT_NE(aki, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca_cert.get())), 0);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  // Validity ~ now-1h .. +30 days.
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())), 1);
  EXPECT_EQ(days, 30);
  EXPECT_TRUE(VerifyCertificateChain(leaf->cert_pem, ca.cert_pem).ok());
  auto id = IdentityFromCertificatePem(leaf->cert_pem, "example.org");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->role, Role::kCollector);
}

TEST(PkiTest, ClientOnlyLeafHasOnlyClientAuth) {
  KeyAndCert ca = MakeCa();
  auto leaf = IssueCertificate(ca, AgentOptions());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  X509Ptr cert = Parse(leaf->cert_pem);
  uint32_t eku = X509_get_extended_key_usage(cert.get());
  EXPECT_TRUE(eku & XKU_SSL_CLIENT);
  EXPECT_FALSE(eku & XKU_SSL_SERVER);
}

TEST(PkiTest, SerialsAreRandomAndPositive) {
  KeyAndCert ca = MakeCa();
  auto a = IssueCertificate(ca, AgentOptions());
  auto b = IssueCertificate(ca, AgentOptions());
  ASSERT_TRUE(a.ok() && b.ok());
  X509Ptr ca_cert = Parse(a->cert_pem), cb = Parse(b->cert_pem);
  const ASN1_INTEGER* sa = X509_get0_serialNumber(ca_cert.get());
  const ASN1_INTEGER* sb = X509_get0_serialNumber(cb.get());
  EXPECT_NE(ASN1_INTEGER_cmp(sa, sb), 0);
  EXPECT_GE(ASN1_STRING_length(sa), 15);
  EXPECT_LE(ASN1_STRING_length(sa), 20);
  EXPECT_EQ(ASN1_STRING_type(sa), V_ASN1_INTEGER);  // not V_ASN1_NEG_INTEGER
}

TEST(PkiTest, EveryKeyTypeIssuesAndVerifies) {
  for (KeyType ca_type : {KeyType::kEcdsaP256, KeyType::kEd25519, KeyType::kRsa2048}) {
    KeyAndCert ca = MakeCa(ca_type);
    for (KeyType leaf_type : {KeyType::kEcdsaP256, KeyType::kEd25519, KeyType::kRsa2048}) {
      CertOptions options = AgentOptions();
      options.key_type = leaf_type;
      options.server_auth = true;
      auto leaf = IssueCertificate(ca, options);
      ASSERT_TRUE(leaf.ok()) << leaf.status();
      EXPECT_TRUE(VerifyCertificateChain(leaf->cert_pem, ca.cert_pem).ok());
      EXPECT_TRUE(IdentityFromCertificatePem(leaf->cert_pem).ok());
    }
  }
}

TEST(PkiTest, ExpiredCertificateFailsChainVerification) {
  CaOptions ca_options;
  ca_options.trust_domain = "example.org";
  ca_options.not_before_us = NowUs() - int64_t{30} * 86400 * 1000000;
  auto ca_or = CreateCa(ca_options);
  ASSERT_TRUE(ca_or.ok()) << ca_or.status();
  const KeyAndCert& ca = *ca_or;
  CertOptions options = AgentOptions();
  options.not_before_us = NowUs() - int64_t{10} * 86400 * 1000000;
  options.validity_days = 1;
  auto leaf = IssueCertificate(ca, options);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  Status status = VerifyCertificateChain(leaf->cert_pem, ca.cert_pem);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  // ... but it was valid at the time it was issued for (the CA is 30 days old).
  EXPECT_TRUE(VerifyCertificateChain(leaf->cert_pem, ca.cert_pem, options.not_before_us + 3600 * int64_t{1000000}).ok());
}

TEST(PkiTest, BadOptionsAreInvalidArgument) {
  KeyAndCert ca = MakeCa();
  auto expect_invalid = [&](const CertOptions& options, const char* what) {
    auto leaf = IssueCertificate(ca, options);
    EXPECT_EQ(leaf.status().code(), absl::StatusCode::kInvalidArgument) << what << ": " << leaf.status();
  };
  CertOptions o = AgentOptions();
  o.ip_sans = {"not-an-ip"};
  expect_invalid(o, "bad ip");
  o = AgentOptions();
  o.ip_sans = {"127.0.0.1, DNS:evil"};
  expect_invalid(o, "ip injection");
  o = AgentOptions();
  o.validity_days = 0;
  expect_invalid(o, "zero validity");
  o.validity_days = -5;
  expect_invalid(o, "negative validity");
  o.validity_days = 1000000;
  expect_invalid(o, "huge validity");
  o = AgentOptions();
  o.uri_sans = {std::string("spiffe://example.org/admin/a\0b", 30)};
  expect_invalid(o, "NUL in URI");
  o = AgentOptions();
  o.uri_sans = {"spiffe://example.org/admin/" + std::string(5000, 'a')};
  expect_invalid(o, "oversized URI");
  o = AgentOptions();
  o.dns_sans = std::vector<std::string>(100, "a.example.org");
  expect_invalid(o, "too many SANs");
  o = AgentOptions();
  o.dns_sans = {""};
  expect_invalid(o, "empty DNS");
  o = AgentOptions();
  o.common_name = std::string(65, 'x');
  expect_invalid(o, "long CN");
  o = AgentOptions();
  o.not_before_us = -1;
  expect_invalid(o, "negative not_before");
}

TEST(PkiTest, BadCaIsInvalidArgument) {
  KeyAndCert ca = MakeCa();
  KeyAndCert other = MakeCa();
  KeyAndCert mismatched{other.key_pem, ca.cert_pem};
  EXPECT_EQ(IssueCertificate(mismatched, AgentOptions()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueCertificate(KeyAndCert{"garbage", ca.cert_pem}, AgentOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueCertificate(KeyAndCert{ca.key_pem, "garbage"}, AgentOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueCertificate(KeyAndCert{}, AgentOptions()).status().code(), absl::StatusCode::kInvalidArgument);
  auto leaf = IssueCertificate(ca, AgentOptions());
  ASSERT_TRUE(leaf.ok());
  auto from_leaf = IssueCertificate(*leaf, AgentOptions());  // a non-CA cannot issue
  EXPECT_EQ(from_leaf.status().code(), absl::StatusCode::kInvalidArgument) << from_leaf.status();

  for (const char* domain : {"", "Example.org", "example.org:443", "a/b", "ex ample"}) {
    CaOptions options;
    options.trust_domain = domain;
    EXPECT_EQ(CreateCa(options).status().code(), absl::StatusCode::kInvalidArgument) << domain;
  }
}

TEST(PkiTest, WriteFileAtomicallyReplacesWithModeAndLeavesNoTempFiles) {
  TempDir dir;
  std::string path = dir.Join("key.pem");
  ASSERT_TRUE(WriteFileAtomically(path, "first", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second", 0600).ok());
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "second");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(WriteFileAtomically(dir.Join("cert.pem"), "c", 0644).ok());
  ASSERT_EQ(::stat(dir.Join("cert.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2);
  ASSERT_TRUE(WriteFileAtomically(dir.Join("empty"), "", 0644).ok());
  EXPECT_EQ(*ReadFile(dir.Join("empty")), "");
}

TEST(PkiTest, WriteFileAtomicallyKeepsTheOwnerOfAReplacedFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  TempDir dir;
  std::string path = dir.Join("service.key");
  ASSERT_TRUE(WriteFileAtomically(path, "old", 0600).ok());
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  ASSERT_TRUE(WriteFileAtomically(path, "new", 0600).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFile(path), "new");
}

TEST(PkiTest, FileErrorsAreClear) {
  TempDir dir;
  Status status = WriteFileAtomically(dir.Join("missing/dir/file"), "x", 0600);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("missing/dir/file"), std::string::npos) << status;
  EXPECT_FALSE(WriteFileAtomically("", "x", 0600).ok());
  auto missing = ReadFile(dir.Join("nope"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  EXPECT_EQ(ReadFile(dir.path()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PkiTest, KeyAndCertRoundTripAndGarbageFiles) {
  TempDir dir;
  KeyAndCert ca = MakeCa();
  auto leaf = IssueCertificate(ca, AgentOptions());
  ASSERT_TRUE(leaf.ok());
  ASSERT_TRUE(WriteKeyAndCert(*leaf, dir.Join("a.key"), dir.Join("a.crt")).ok());
  auto back = ReadKeyAndCert(dir.Join("a.key"), dir.Join("a.crt"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->key_pem, leaf->key_pem);
  EXPECT_EQ(back->cert_pem, leaf->cert_pem);
  ASSERT_TRUE(WriteFileAtomically(dir.Join("junk"), std::string(10000, '\xff'), 0644).ok());
  EXPECT_EQ(ReadKeyAndCert(dir.Join("junk"), "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadKeyAndCert("", dir.Join("junk")).status().code(), absl::StatusCode::kInvalidArgument);
  // Key and certificate swapped.
  EXPECT_FALSE(ReadKeyAndCert(dir.Join("a.crt"), dir.Join("a.key")).ok());
}

TEST(PkiTest, CertificateOptionsRoundTripForRenewal) {
  KeyAndCert ca = MakeCa();
  CertOptions options;
  options.uri_sans = {"spiffe://example.org/collector/main"};
  options.dns_sans = {"localhost"};
  options.ip_sans = {"127.0.0.1", "::1"};
  options.common_name = "collector main";
  options.server_auth = true;
  options.validity_days = 90;
  options.key_type = KeyType::kEd25519;
  auto leaf = IssueCertificate(ca, options);
  ASSERT_TRUE(leaf.ok());
  auto back = CertificateOptionsFromPem(leaf->cert_pem);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->uri_sans, options.uri_sans);
  EXPECT_EQ(back->dns_sans, options.dns_sans);
  EXPECT_EQ(back->ip_sans, (std::vector<std::string>{"127.0.0.1", "0:0:0:0:0:0:0:1"}));
  EXPECT_EQ(back->common_name, "collector main");
  EXPECT_TRUE(back->server_auth);
  EXPECT_TRUE(back->client_auth);
  EXPECT_FALSE(back->is_ca);
  EXPECT_TRUE(back->digital_signature);
  EXPECT_EQ(back->validity_days, 90);
  EXPECT_EQ(back->key_type, KeyType::kEd25519);
  // Re-issuing from the read-back options gives the same names.
  back->not_before_us = 0;
  auto again = IssueCertificate(ca, *back);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(CertificateOptionsFromPem(again->cert_pem)->ip_sans, back->ip_sans);

  EXPECT_EQ(CertificateOptionsFromPem("junk").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PkiTest, CaTrustDomainAndDescription) {
  KeyAndCert ca = MakeCa();
  auto domain = CaTrustDomain(ca.cert_pem);
  ASSERT_TRUE(domain.ok()) << domain.status();
  EXPECT_EQ(*domain, "example.org");
  auto text = DescribeCertificate(ca.cert_pem);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("CA:            yes"), std::string::npos) << *text;
  EXPECT_NE(text->find("keyCertSign"), std::string::npos);
  auto leaf = IssueCertificate(ca, AgentOptions());
  ASSERT_TRUE(leaf.ok());
  text = DescribeCertificate(leaf->cert_pem);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("URI SAN:       spiffe://example.org/account/111111111111/region/us-east-1/agent/a1"),
            std::string::npos) << *text;
  EXPECT_NE(text->find("sha256:"), std::string::npos);
  EXPECT_FALSE(DescribeCertificate("").ok());
  EXPECT_FALSE(CaTrustDomain("").ok());
}

}  // namespace
}  // namespace orgtrail
