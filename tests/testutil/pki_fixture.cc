#include "testutil/pki_fixture.h"

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

namespace orgtrail::testutil {
namespace {

constexpr char kAccount[] = "111111111111";
constexpr char kRegion[] = "us-east-1";

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string AgentSpiffeId(std::string_view trust_domain, std::string_view account,
                          std::string_view region, std::string_view name) {
  return "spiffe://" + std::string(trust_domain) + "/account/" + std::string(account) +
         "/region/" + std::string(region) + "/agent/" + std::string(name);
}

TestPki::TestPki(std::string dir, std::string trust_domain)
    : dir_(std::move(dir)), trust_domain_(std::move(trust_domain)) {
  std::error_code ignored;
  std::filesystem::create_directories(dir_, ignored);
  ca_cert_path_ = dir_ + "/ca.crt";
  CaOptions options;
  options.trust_domain = trust_domain_;
  auto ca = CreateCa(options);
  if (!ca.ok()) {
    status_ = ca.status();
  } else {
    ca_ = std::move(*ca);
    status_ = WriteKeyAndCert(ca_, dir_ + "/ca.key", ca_cert_path_);
  }
  if (!status_.ok()) ADD_FAILURE() << "TestPki: creating the CA in " << dir_ << ": " << status_;
}

StatusOr<TlsFiles> TestPki::TryIssue(std::string_view stem, const CertOptions& options) {
  if (!status_.ok()) return status_;
  auto kc = IssueCertificate(ca_, options);
  if (!kc.ok()) return kc.status();
  TlsFiles files;
  files.ca_cert_path = ca_cert_path_;
  files.cert_path = dir_ + "/" + std::string(stem) + ".crt";
  files.key_path = dir_ + "/" + std::string(stem) + ".key";
  ORGTRAIL_RETURN_IF_ERROR(WriteKeyAndCert(*kc, files.key_path, files.cert_path));
  return files;
}

TlsFiles TestPki::Must(std::string_view stem, StatusOr<TlsFiles> files) {
  if (!files.ok()) {
    ADD_FAILURE() << "TestPki: issuing " << stem << ": " << files.status();
    return TlsFiles{};
  }
  return *files;
}

TlsFiles TestPki::Issue(std::string_view stem, const CertOptions& options) {
  return Must(stem, TryIssue(stem, options));
}

CertOptions TestPki::CollectorOptions(std::string_view name) const {
  CertOptions options;
  options.uri_sans = {"spiffe://" + trust_domain_ + "/collector/" + std::string(name)};
  options.dns_sans = {"localhost"};
  options.ip_sans = {"127.0.0.1"};
  options.common_name = "collector " + std::string(name);
  options.server_auth = true;
  options.client_auth = true;
  return options;
}

CertOptions TestPki::AgentOptions(std::string_view account, std::string_view region,
                                  std::string_view name) const {
  CertOptions options;
  options.uri_sans = {AgentSpiffeId(trust_domain_, account, region, name)};
  options.common_name = "agent " + std::string(name);
  options.client_auth = true;
  return options;
}

TlsFiles TestPki::Collector(std::string_view name) {
  return Issue("collector-" + std::string(name), CollectorOptions(name));
}

TlsFiles TestPki::Agent(std::string_view account, std::string_view region, std::string_view name) {
  std::string stem = "agent-" + std::string(account) + "-" + std::string(region) + "-" +
                     std::string(name);
  return Issue(stem, AgentOptions(account, region, name));
}

TlsFiles TestPki::Auditor(std::string_view name) {
  CertOptions options;
  options.uri_sans = {"spiffe://" + trust_domain_ + "/auditor/" + std::string(name)};
  options.common_name = "auditor " + std::string(name);
  return Issue("auditor-" + std::string(name), options);
}

TlsFiles TestPki::Admin(std::string_view name) {
  CertOptions options;
  options.uri_sans = {"spiffe://" + trust_domain_ + "/admin/" + std::string(name)};
  options.common_name = "admin " + std::string(name);
  return Issue("admin-" + std::string(name), options);
}

TlsFiles TestPki::AccountAdmin(std::string_view account, std::string_view name) {
  CertOptions options;
  options.uri_sans = {"spiffe://" + trust_domain_ + "/account/" + std::string(account) +
                      "/admin/" + std::string(name)};
  options.common_name = "account admin " + std::string(name);
  return Issue("account-admin-" + std::string(account) + "-" + std::string(name), options);
}

TlsFiles TestPki::TwoUriSans() {
  CertOptions options = AgentOptions(kAccount, kRegion, "two-uris");
  options.uri_sans.push_back("spiffe://" + trust_domain_ + "/admin/root");
  return Issue("hostile-two-uri-sans", options);
}

TlsFiles TestPki::CaLeaf() {
  CertOptions options = AgentOptions(kAccount, kRegion, "ca-leaf");
  options.is_ca = true;
  return Issue("hostile-ca-leaf", options);
}

TlsFiles TestPki::NonSpiffeUri() {
  CertOptions options = AgentOptions(kAccount, kRegion, "non-spiffe");
  options.uri_sans = {"https://" + trust_domain_ + "/account/111111111111/region/us-east-1/agent/a1"};
  return Issue("hostile-non-spiffe-uri", options);
}

TlsFiles TestPki::ElevenDigitAccount() {
  return Issue("hostile-eleven-digit-account", AgentOptions("11111111111", kRegion, "short"));
}

TlsFiles TestPki::OtherTrustDomain() {
  CertOptions options = AgentOptions(kAccount, kRegion, "foreign");
  options.uri_sans = {AgentSpiffeId("evil.example", kAccount, kRegion, "foreign")};
  return Issue("hostile-other-trust-domain", options);
}

TlsFiles TestPki::Expired() {
  CertOptions options = AgentOptions(kAccount, kRegion, "expired");
  options.not_before_us = NowMicros() - int64_t{10} * 86400 * 1000000;
  options.validity_days = 1;
  return Issue("hostile-expired", options);
}

TlsFiles TestPki::NoDigitalSignature() {
  CertOptions options = AgentOptions(kAccount, kRegion, "no-digital-signature");
  options.digital_signature = false;
  return Issue("hostile-no-digital-signature", options);
}

TlsFiles TestPki::NoUriSan() {
  CertOptions options = AgentOptions(kAccount, kRegion, "no-uri");
  options.uri_sans.clear();
  options.dns_sans = {"agent.example.org"};
  return Issue("hostile-no-uri-san", options);
}

Status TestPki::EnsureOtherCa() {
  if (!other_ca_cert_path_.empty()) return absl::OkStatus();
  CaOptions options;
  options.trust_domain = trust_domain_;  // same name, different key: must still be refused
  options.common_name = "impostor CA";
  auto ca = CreateCa(options);
  if (!ca.ok()) return ca.status();
  other_ca_ = std::move(*ca);
  std::string path = dir_ + "/other-ca.crt";
  ORGTRAIL_RETURN_IF_ERROR(WriteKeyAndCert(other_ca_, dir_ + "/other-ca.key", path));
  other_ca_cert_path_ = path;
  return absl::OkStatus();
}

std::string TestPki::OtherCaCertPath() {
  Status status = EnsureOtherCa();
  if (!status.ok()) ADD_FAILURE() << "TestPki: other CA: " << status;
  return other_ca_cert_path_;
}

TlsFiles TestPki::FromOtherCa() {
  Status status = EnsureOtherCa();
  if (!status.ok()) return Must("hostile-other-ca", status);
  auto kc = IssueCertificate(other_ca_, AgentOptions(kAccount, kRegion, "impostor"));
  if (!kc.ok()) return Must("hostile-other-ca", kc.status());
  TlsFiles files;
  files.ca_cert_path = ca_cert_path_;
  files.cert_path = dir_ + "/hostile-other-ca.crt";
  files.key_path = dir_ + "/hostile-other-ca.key";
  status = WriteKeyAndCert(*kc, files.key_path, files.cert_path);
  if (!status.ok()) return Must("hostile-other-ca", status);
  return files;
}

}  // namespace orgtrail::testutil
