// orgtrailctl pki: the organization's certificate authority on disk.
//
//   pki init-ca          --dir D --org example.org
//   pki issue-collector  --dir D --name main --dns localhost --ip 127.0.0.1
//   pki issue-agent      --dir D --account 111111111111 --region us-east-1 --name a1
//   pki issue-auditor    --dir D --name alice
//   pki issue-admin      --dir D --name root [--account A]
//   pki renew            --dir D --cert P --key P
//   pki revoke           --dir D (--cert P | --serial HEX)... [--crl D/crl.pem]   (cmd_pki_revoke.cc)
//   pki show             P [--ca D/ca.crt]
//
// The CA lives in D/ca.crt and D/ca.key; issued certificates default to
// D/<role>-<...>.crt/.key. Every file is written atomically (temporary file,
// fsync, rename), private keys with mode 0600, so `renew` rotates the files a
// running collector or agent watches without restarting it. Exit codes: 0
// done, 1 failure while running (I/O, bad certificate), 2 usage error (the
// message names the flag).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "orgtrail/common/config.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "pki_command.h"

namespace orgtrail::cli {
namespace {

using pki_cli::CaDir;
using pki_cli::FlagError;
using pki_cli::GetList;
using pki_cli::IssuedBy;
using pki_cli::kMicrosPerSecond;
using pki_cli::LoadCaDir;
using pki_cli::PkiCommand;
using pki_cli::RequireFlag;
using pki_cli::WithFlag;
namespace po = boost::program_options;

// ---- flag checks ------------------------------------------------------

Status CheckName(std::string_view flag, std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name != "." && name != "..";
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return FlagError(flag, "must be 1-64 of [A-Za-z0-9._-], got '" + std::string(name.substr(0, 80)) + "'");
  }
  return absl::OkStatus();
}

Status CheckDnsName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 253 && name.front() != '.' && name.front() != '-';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '*');
  }
  if (!ok) return FlagError("dns", "not a DNS name: '" + std::string(name.substr(0, 80)) + "'");
  return absl::OkStatus();
}

Status CheckIpAddress(const std::string& ip) {
  unsigned char buffer[sizeof(struct in6_addr)];
  if (::inet_pton(AF_INET, ip.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, ip.c_str(), buffer) == 1) {
    return absl::OkStatus();
  }
  return FlagError("ip", "not an IPv4 or IPv6 address: '" + ip.substr(0, 80) + "'");
}

StatusOr<KeyType> ParseKeyType(const std::string& text) {
  if (text == "ecdsa-p256") return KeyType::kEcdsaP256;
  if (text == "ed25519") return KeyType::kEd25519;
  if (text == "rsa2048") return KeyType::kRsa2048;
  return FlagError("key-type", "expected ecdsa-p256, ed25519 or rsa2048, got '" + text.substr(0, 40) + "'");
}

Status CheckValidityDays(int64_t days) {
  if (days <= 0 || days > 36500) {
    return FlagError("validity-days", "must be 1..36500, got " + std::to_string(days));
  }
  return absl::OkStatus();
}

// Where an issued certificate goes: --out-cert/--out-key or D/<stem>.crt/.key.
struct OutputPaths {
  std::string cert;
  std::string key;
};

OutputPaths ResolveOutputs(const po::variables_map& values, const std::string& dir, const std::string& stem) {
  OutputPaths out;
  out.cert = FlagValue(values, "out-cert");
  out.key = FlagValue(values, "out-key");
  if (out.cert.empty()) out.cert = dir + "/" + stem + ".crt";
  if (out.key.empty()) out.key = dir + "/" + stem + ".key";
  return out;
}

Status IssueAndWrite(const CaDir& ca, const CertOptions& options, const OutputPaths& out) {
  auto issued = IssueCertificate(ca.ca, options);
  if (!issued.ok()) return issued.status();
  // The key first: a watcher that reads between the two renames sees a
  // mismatched pair for at most one refresh interval and keeps retrying.
  Status written = WriteKeyAndCert(*issued, out.key, out.cert);
  if (!written.ok()) return absl::UnavailableError(std::string(written.message()));
  auto fingerprint = CertificateFingerprint(issued->cert_pem);
  std::printf("issued %s\n  certificate: %s\n  key:         %s (mode 0600)\n  sha256:      %s\n",
              options.uri_sans.empty() ? "(no URI)" : options.uri_sans.front().c_str(),
              out.cert.c_str(), out.key.c_str(), fingerprint.ok() ? fingerprint->c_str() : "?");
  return absl::OkStatus();
}

// Validates a SPIFFE ID built from flags (the shapes identity.h accepts).
Status CheckSpiffeId(const std::string& id, const std::string& trust_domain) {
  auto parsed = ParseSpiffeId(id, trust_domain);
  if (!parsed.ok()) return absl::InvalidArgumentError(std::string(parsed.status().message()));
  return absl::OkStatus();
}

void AddIssueOptions(po::options_description& options, int64_t default_days) {
  options.add_options()
      ("dir", po::value<std::string>(), "the CA directory (holds ca.crt and ca.key)")
      ("validity-days", po::value<int64_t>()->default_value(default_days), "certificate validity in days")
      ("validity-seconds", po::value<int64_t>(),
       "instead of --validity-days: the certificate expires this many seconds from now (short-lived certificates)")
      ("key-type", po::value<std::string>()->default_value("ecdsa-p256"), "ecdsa-p256 | ed25519 | rsa2048")
      ("out-cert", po::value<std::string>(), "certificate output path (default: in --dir)")
      ("out-key", po::value<std::string>(), "private key output path, mode 0600 (default: in --dir)");
}

Status BaseOptions(const po::variables_map& values, CertOptions* options) {
  int64_t days = values["validity-days"].as<int64_t>();
  ORGTRAIL_RETURN_IF_ERROR(CheckValidityDays(days));
  auto key_type = ParseKeyType(values["key-type"].as<std::string>());
  if (!key_type.ok()) return key_type.status();
  options->validity_days = days;
  options->key_type = *key_type;
  if (values.count("validity-seconds")) {
    const int64_t seconds = values["validity-seconds"].as<int64_t>();
    if (seconds <= 0 || seconds > 36500 * int64_t{86400}) {
      return FlagError("validity-seconds", "must be 1..3153600000, got " + std::to_string(seconds));
    }
    const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
    options->not_after_us = now_us + seconds * kMicrosPerSecond;
  }
  return absl::OkStatus();
}

// ---- subcommands --------------------------------------------------------

class InitCa final : public PkiCommand {
 public:
  InitCa() : PkiCommand("init-ca", "create the organization CA (ca.crt, ca.key) in a directory") {}

 protected:
  std::string Usage() const override { return "orgtrailctl pki init-ca --dir D --org TRUST_DOMAIN [options]"; }
  void AddOptions(po::options_description& options) override {
    options.add_options()
        ("dir", po::value<std::string>(), "directory for ca.crt and ca.key (created, mode 0700)")
        ("org", po::value<std::string>(), "the organization's trust domain, e.g. example.org")
        ("validity-days", po::value<int64_t>()->default_value(3650), "CA validity in days")
        ("key-type", po::value<std::string>()->default_value("ecdsa-p256"), "ecdsa-p256 | ed25519 | rsa2048")
        ("force", po::bool_switch(), "replace an existing CA (every certificate it issued stops being trusted)");
  }
  Status Execute(const po::variables_map& values) override {
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "dir"));
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "org"));
    const std::string dir = FlagValue(values, "dir");
    CaOptions options;
    options.trust_domain = FlagValue(values, "org");
    options.validity_days = values["validity-days"].as<int64_t>();
    ORGTRAIL_RETURN_IF_ERROR(CheckValidityDays(options.validity_days));
    auto key_type = ParseKeyType(values["key-type"].as<std::string>());
    if (!key_type.ok()) return key_type.status();
    options.key_type = *key_type;
    std::error_code ec;
    if (std::filesystem::exists(dir + "/ca.key", ec) && !values["force"].as<bool>()) {
      return FlagError("dir", "'" + dir + "' already holds a CA (ca.key); use --force to replace it");
    }
    auto ca = CreateCa(options);  // validates --org before anything is created
    if (!ca.ok()) return WithFlag("org", ca.status());
    if (!std::filesystem::is_directory(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) return absl::UnavailableError("creating '" + dir + "': " + ec.message());
      ::chmod(dir.c_str(), 0700);
    }
    Status written = WriteKeyAndCert(*ca, dir + "/ca.key", dir + "/ca.crt");
    if (!written.ok()) return absl::UnavailableError(std::string(written.message()));
    std::printf("created CA for trust domain %s\n  certificate: %s/ca.crt\n  key:         %s/ca.key (mode 0600)\n",
                options.trust_domain.c_str(), dir.c_str(), dir.c_str());
    return absl::OkStatus();
  }
};

class IssueCollector final : public PkiCommand {
 public:
  IssueCollector()
      : PkiCommand("issue-collector",
                   "issue a collector certificate (server+client auth, DNS/IP SANs, spiffe://<org>/collector/<name>)") {}

 protected:
  std::string Usage() const override {
    return "orgtrailctl pki issue-collector --dir D --name NAME --dns HOST... --ip ADDR... [options]";
  }
  void AddOptions(po::options_description& options) override {
    options.add_options()
        ("name", po::value<std::string>()->default_value("main"), "collector name")
        ("dns", po::value<std::vector<std::string>>()->composing(), "DNS name agents connect to (repeatable)")
        ("ip", po::value<std::vector<std::string>>()->composing(), "IP address agents connect to (repeatable)");
    AddIssueOptions(options, 365);
  }
  Status Execute(const po::variables_map& values) override {
    const std::string name = FlagValue(values, "name");
    ORGTRAIL_RETURN_IF_ERROR(CheckName("name", name));
    CertOptions options;
    ORGTRAIL_RETURN_IF_ERROR(BaseOptions(values, &options));
    options.dns_sans = GetList(values, "dns");
    options.ip_sans = GetList(values, "ip");
    if (options.dns_sans.empty() && options.ip_sans.empty()) {
      return FlagError("dns", "give at least one --dns or --ip (the names agents connect to)");
    }
    for (const auto& dns : options.dns_sans) ORGTRAIL_RETURN_IF_ERROR(CheckDnsName(dns));
    for (const auto& ip : options.ip_sans) ORGTRAIL_RETURN_IF_ERROR(CheckIpAddress(ip));
    auto ca = LoadCaDir(FlagValue(values, "dir"));
    if (!ca.ok()) return ca.status();
    const std::string id = "spiffe://" + ca->trust_domain + "/collector/" + name;
    ORGTRAIL_RETURN_IF_ERROR(WithFlag("name", CheckSpiffeId(id, ca->trust_domain)));
    options.uri_sans = {id};
    options.common_name = "collector " + name;
    options.server_auth = true;
    options.client_auth = true;
    return IssueAndWrite(*ca, options, ResolveOutputs(values, ca->dir, "collector-" + name));
  }
};

class IssueAgent final : public PkiCommand {
 public:
  IssueAgent()
      : PkiCommand("issue-agent",
                   "issue an agent certificate (spiffe://<org>/account/<id>/region/<region>/agent/<name>)") {}

 protected:
  std::string Usage() const override {
    return "orgtrailctl pki issue-agent --dir D --account 123456789012 --region us-east-1 --name NAME [options]";
  }
  void AddOptions(po::options_description& options) override {
    options.add_options()
        ("account", po::value<std::string>(), "the agent's 12-digit AWS account id")
        ("region", po::value<std::string>(), "the agent's region, e.g. us-east-1")
        ("name", po::value<std::string>()->default_value("a1"), "agent name (unique within account+region)");
    AddIssueOptions(options, 365);
  }
  Status Execute(const po::variables_map& values) override {
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "account"));
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "region"));
    const std::string account = FlagValue(values, "account");
    const std::string region = FlagValue(values, "region");
    const std::string name = FlagValue(values, "name");
    ORGTRAIL_RETURN_IF_ERROR(CheckAccountId("--account", account));
    ORGTRAIL_RETURN_IF_ERROR(CheckRegion("--region", region));
    ORGTRAIL_RETURN_IF_ERROR(CheckName("name", name));
    CertOptions options;
    ORGTRAIL_RETURN_IF_ERROR(BaseOptions(values, &options));
    if (options.key_type == KeyType::kRsa2048) {
      return FlagError("key-type", "agents sign batches with ecdsa-p256 or ed25519 keys");
    }
    auto ca = LoadCaDir(FlagValue(values, "dir"));
    if (!ca.ok()) return ca.status();
    const std::string id = "spiffe://" + ca->trust_domain + "/account/" + account + "/region/" +
                           region + "/agent/" + name;
    ORGTRAIL_RETURN_IF_ERROR(WithFlag("region", CheckSpiffeId(id, ca->trust_domain)));
    options.uri_sans = {id};
    options.common_name = "agent " + name;
    options.client_auth = true;
    return IssueAndWrite(*ca, options,
                         ResolveOutputs(values, ca->dir, "agent-" + account + "-" + region + "-" + name));
  }
};

// issue-auditor and issue-admin: spiffe://<org>/<role>/<name> (admins may be
// scoped to one account: spiffe://<org>/account/<id>/admin/<name>).
class IssuePerson final : public PkiCommand {
 public:
  IssuePerson(std::string role, std::string summary, bool account_scope)
      : PkiCommand("issue-" + role, std::move(summary)), role_(std::move(role)), account_scope_(account_scope) {}

 protected:
  std::string Usage() const override {
    return "orgtrailctl pki " + name() + " --dir D --name NAME" + (account_scope_ ? " [--account ID]" : "") +
           " [options]";
  }
  void AddOptions(po::options_description& options) override {
    options.add_options()("name", po::value<std::string>(), ("the " + role_ + "'s name").c_str());
    if (account_scope_) {
      options.add_options()("account", po::value<std::string>(),
                            "limit the admin to this 12-digit account (account admin)");
    }
    AddIssueOptions(options, 90);
  }
  Status Execute(const po::variables_map& values) override {
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "name"));
    const std::string name = FlagValue(values, "name");
    ORGTRAIL_RETURN_IF_ERROR(CheckName("name", name));
    const std::string account = account_scope_ ? FlagValue(values, "account") : "";
    if (account_scope_ && values.count("account")) {
      ORGTRAIL_RETURN_IF_ERROR(CheckAccountId("--account", account));
    }
    CertOptions options;
    ORGTRAIL_RETURN_IF_ERROR(BaseOptions(values, &options));
    auto ca = LoadCaDir(FlagValue(values, "dir"));
    if (!ca.ok()) return ca.status();
    std::string path = account.empty() ? "/" + role_ + "/" + name : "/account/" + account + "/" + role_ + "/" + name;
    const std::string id = "spiffe://" + ca->trust_domain + path;
    ORGTRAIL_RETURN_IF_ERROR(WithFlag("name", CheckSpiffeId(id, ca->trust_domain)));
    options.uri_sans = {id};
    options.common_name = role_ + " " + name;
    options.client_auth = true;
    std::string stem = account.empty() ? role_ + "-" + name : role_ + "-" + account + "-" + name;
    return IssueAndWrite(*ca, options, ResolveOutputs(values, ca->dir, stem));
  }

 private:
  std::string role_;
  bool account_scope_;
};


class Renew final : public PkiCommand {
 public:
  Renew()
      : PkiCommand("renew",
                   "re-issue a certificate with the same names and a new key, replacing both files atomically") {}

 protected:
  std::string Usage() const override {
    return "orgtrailctl pki renew --dir D --cert PATH --key PATH [--validity-days N]";
  }
  void AddOptions(po::options_description& options) override {
    options.add_options()
        ("dir", po::value<std::string>(), "the CA directory that issued the certificate")
        ("cert", po::value<std::string>(), "the certificate to renew (replaced in place)")
        ("key", po::value<std::string>(), "its private key (replaced in place, mode 0600)")
        ("validity-days", po::value<int64_t>(), "validity of the new certificate (default: as the old one)");
  }
  Status Execute(const po::variables_map& values) override {
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "cert"));
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "key"));
    const std::string cert_path = FlagValue(values, "cert");
    const std::string key_path = FlagValue(values, "key");
    auto ca = LoadCaDir(FlagValue(values, "dir"));
    if (!ca.ok()) return ca.status();
    auto cert = ReadKeyAndCert("", cert_path);
    if (!cert.ok()) return WithFlag("cert", cert.status());
    auto key = ReadKeyAndCert(key_path, "");
    if (!key.ok()) return WithFlag("key", key.status());
    auto options = CertificateOptionsFromPem(cert->cert_pem);
    if (!options.ok()) return WithFlag("cert", options.status());
    if (options->is_ca) return FlagError("cert", "'" + cert_path + "' is a CA certificate; renew leaf certificates only");
    if (!IssuedBy(cert->cert_pem, ca->ca.cert_pem, *options)) {
      return FlagError("cert", "'" + cert_path + "' was not issued by the CA in '" + ca->dir + "'");
    }
    if (values.count("validity-days")) {
      options->validity_days = values["validity-days"].as<int64_t>();
      ORGTRAIL_RETURN_IF_ERROR(CheckValidityDays(options->validity_days));
    }
    options->not_before_us = 0;  // now - 1 h
    return IssueAndWrite(*ca, *options, OutputPaths{cert_path, key_path});
  }
};

class Show final : public PkiCommand {
 public:
  Show() : PkiCommand("show", "describe a certificate: names, validity, usages, SPIFFE identity") {}

 protected:
  std::string Usage() const override { return "orgtrailctl pki show PATH [--ca CA_CERT]"; }
  void AddOptions(po::options_description& options) override {
    options.add_options()
        ("path", po::value<std::string>(), "the certificate (PEM) to describe")
        ("ca", po::value<std::string>(), "also verify that it chains to this CA certificate");
  }
  void AddPositional(po::positional_options_description& positional) override { positional.add("path", 1); }
  Status Execute(const po::variables_map& values) override {
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "path"));
    const std::string path = FlagValue(values, "path");
    auto pem = ReadFile(path);
    if (!pem.ok()) return absl::FailedPreconditionError(std::string(pem.status().message()));
    auto text = DescribeCertificate(*pem);
    if (!text.ok()) return absl::FailedPreconditionError("'" + path + "': " + std::string(text.status().message()));
    std::printf("%s", text->c_str());
    auto id = IdentityFromCertificatePem(*pem);
    if (id.ok()) {
      std::printf("identity:      %s", std::string(RoleName(id->role)).c_str());
      if (!id->account_id.empty()) std::printf(" account=%s", id->account_id.c_str());
      if (!id->region.empty()) std::printf(" region=%s", id->region.c_str());
      std::printf(" name=%s trust-domain=%s\n", id->name.c_str(), id->trust_domain.c_str());
    } else {
      std::printf("identity:      none (%s)\n", std::string(id.status().message()).c_str());
    }
    if (!values.count("ca")) return absl::OkStatus();
    auto ca = ReadFile(FlagValue(values, "ca"));
    if (!ca.ok()) return WithFlag("ca", ca.status());
    Status chain = VerifyCertificateChain(*pem, *ca);
    std::printf("chain:         %s\n", chain.ok() ? "OK" : std::string(chain.message()).c_str());
    if (!chain.ok()) return absl::FailedPreconditionError("'" + path + "' does not verify against --ca");
    return absl::OkStatus();
  }
};

std::vector<std::unique_ptr<PkiCommand>> MakePkiCommands() {
  std::vector<std::unique_ptr<PkiCommand>> commands;
  commands.push_back(std::make_unique<InitCa>());
  commands.push_back(std::make_unique<IssueCollector>());
  commands.push_back(std::make_unique<IssueAgent>());
  commands.push_back(std::make_unique<IssuePerson>("auditor", "issue an auditor certificate (query only)", false));
  commands.push_back(std::make_unique<IssuePerson>(
      "admin", "issue an admin certificate (trail management; --account for an account admin)", true));
  commands.push_back(std::make_unique<Renew>());
  commands.push_back(pki_cli::MakeRevokeCommand());
  commands.push_back(std::make_unique<Show>());
  return commands;
}

void PrintPkiUsage(FILE* out, const std::vector<std::unique_ptr<PkiCommand>>& commands) {
  std::fprintf(out,
               "orgtrailctl pki - the organization's certificate authority (SPIFFE X.509-SVIDs)\n\n"
               "usage: orgtrailctl pki <subcommand> [options]\n"
               "       orgtrailctl pki <subcommand> --help\n\nsubcommands:\n");
  for (const auto& c : commands) std::fprintf(out, "  %-16s %s\n", c->name().c_str(), c->summary().c_str());
}

}  // namespace

int RunPki(int argc, const char* const* argv) {
  auto commands = MakePkiCommands();
  if (argc < 2) {
    PrintPkiUsage(stderr, commands);
    return kExitUsage;
  }
  const std::string sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    PrintPkiUsage(stdout, commands);
    return kExitOk;
  }
  for (const auto& c : commands) {
    if (c->name() == sub) return c->Run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "orgtrailctl pki: unknown subcommand '%s' (see orgtrailctl pki --help)\n",
               sub.substr(0, 80).c_str());
  return kExitUsage;
}

}  // namespace orgtrail::cli
