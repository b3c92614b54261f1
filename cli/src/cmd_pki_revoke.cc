// orgtrailctl pki revoke: adds certificates to the organization CA's CRL.
//
//   pki revoke --dir D --cert PATH [--cert PATH...]   revoke certificate files
//   pki revoke --dir D --serial HEX [--serial HEX...] revoke by serial number
//   pki revoke --dir D --refresh                      re-sign only (new CRL, or a
//                                                     fresh nextUpdate)
//   options: --crl PATH (default D/crl.pem), --next-update-days N (default 30)
//
// The CRL (PEM, X.509 v2, common/crl.h) is signed with D/ca.key and replaced
// atomically (temporary file, fsync, rename), so a collector watching it
// (--crl-file) never reads a torn file; it refuses the listed certificates
// and closes their open ingest streams within about a second. An existing CRL
// is read first and must verify against D/ca.crt (else nothing is written):
// its entries are kept and its cRLNumber incremented. A --cert must have been
// issued by the CA in D (expired certificates may be revoked too). Exit codes
// as every `pki` subcommand: 0 done, 1 failure (I/O, a CRL or certificate that
// does not verify), 2 usage error.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "orgtrail/common/crl.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/time_util.h"
#include "pki_command.h"

namespace orgtrail::cli::pki_cli {
namespace {

class Revoke final : public PkiCommand {
 public:
  Revoke()
      : PkiCommand("revoke",
                   "revoke certificates: add them to the CA's CRL (D/crl.pem), which collectors watch (--crl-file)") {}

 protected:
  std::string Usage() const override {
    return "orgtrailctl pki revoke --dir D (--cert PATH | --serial HEX)... [--crl PATH] [--next-update-days N]\n"
           "       orgtrailctl pki revoke --dir D --refresh [--crl PATH] [--next-update-days N]";
  }
  void AddOptions(po::options_description& options) override {
    options.add_options()
        ("dir", po::value<std::string>(), "the CA directory (ca.crt, ca.key) that issued the certificates")
        ("cert", po::value<std::vector<std::string>>()->composing(),
         "a certificate file (PEM) to revoke (repeatable)")
        ("serial", po::value<std::vector<std::string>>()->composing(),
         "a serial number to revoke, hex as `orgtrailctl pki show` prints it (repeatable)")
        ("refresh", po::bool_switch(),
         "revoke nothing: write the CRL again (creates an empty one; pushes nextUpdate forward)")
        ("crl", po::value<std::string>(), "the CRL file to update (default: D/crl.pem)")
        ("next-update-days", po::value<int64_t>()->default_value(30),
         "nextUpdate of the new CRL, days from now (collectors warn once it has passed)");
  }

  Status Execute(const po::variables_map& values) override {
    ORGTRAIL_RETURN_IF_ERROR(RequireFlag(values, "dir"));
    const std::vector<std::string> certs = GetList(values, "cert");
    const std::vector<std::string> serial_flags = GetList(values, "serial");
    const bool refresh = values["refresh"].as<bool>();
    if (certs.empty() && serial_flags.empty() && !refresh) {
      return FlagError("cert", "give --cert or --serial (what to revoke), or --refresh to re-sign the CRL only");
    }
    const int64_t days = values["next-update-days"].as<int64_t>();
    if (days < 1 || days > 3650) return FlagError("next-update-days", "must be 1..3650, got " + std::to_string(days));
    std::vector<std::string> serials;
    std::vector<std::string> names;  // what each serial is, for the report ("" for a bare --serial)
    for (const std::string& text : serial_flags) {
      auto serial = NormalizeSerial(text);
      if (!serial.ok()) return WithFlag("serial", serial.status());
      serials.push_back(*serial);
      names.emplace_back();
    }
    auto ca = LoadCaDir(FlagValue(values, "dir"));
    if (!ca.ok()) return ca.status();
    for (const std::string& path : certs) {
      auto described = DescribeCert(*ca, path);
      if (!described.ok()) return described.status();
      serials.push_back(described->first);
      names.push_back(described->second);
    }

    const std::string crl_path = values.count("crl") ? FlagValue(values, "crl") : ca->dir + "/crl.pem";
    std::optional<Crl> previous;
    std::error_code ec;
    if (std::filesystem::exists(crl_path, ec)) {
      auto text = ReadFile(crl_path);
      if (!text.ok()) return absl::UnavailableError(std::string(text.status().message()));
      auto crl = ParseAndVerifyCrl(*text, ca->ca.cert_pem);
      if (!crl.ok()) {
        return absl::FailedPreconditionError("the existing CRL '" + crl_path + "' does not verify against '" +
                                             ca->dir + "/ca.crt': " + std::string(crl.status().message()) +
                                             " (nothing written; move it away to start a new CRL)");
      }
      previous = std::move(*crl);
    }
    std::set<std::string> already;
    if (previous) {
      for (const CrlEntry& e : previous->entries) already.insert(e.serial);
    }
    CrlUpdate update;
    update.add_serials = serials;
    update.next_update_days = days;
    update.now_us = NowMicros();
    auto pem = IssueCrl(ca->ca, previous ? &*previous : nullptr, update);
    if (!pem.ok()) return absl::InternalError(std::string(pem.status().message()));
    // Read back what is about to be published: it must verify and list every serial.
    auto written = ParseAndVerifyCrl(*pem, ca->ca.cert_pem);
    if (!written.ok()) return absl::InternalError("the new CRL does not verify: " + std::string(written.status().message()));
    Status stored = WriteFileAtomically(crl_path, *pem, 0644);
    if (!stored.ok()) return absl::UnavailableError(std::string(stored.message()));

    for (size_t i = 0; i < serials.size(); ++i) {
      std::printf("%s serial %s%s\n", already.count(serials[i]) ? "already revoked:" : "revoked:",
                  serials[i].c_str(), names[i].empty() ? "" : ("  " + names[i]).c_str());
    }
    std::printf("CRL %s\n  number:      %llu\n  entries:     %zu\n  next update: %s\n", crl_path.c_str(),
                static_cast<unsigned long long>(written->number), written->entries.size(),
                FormatRfc3339Seconds(written->next_update_us).c_str());
    std::printf("collectors started with --crl-file %s refuse these certificates once they re-read it (about 1 s)\n",
                crl_path.c_str());
    return absl::OkStatus();
  }

 private:
  // (serial, "<SPIFFE ID> sha256 <fingerprint>") of a certificate the CA issued.
  static StatusOr<std::pair<std::string, std::string>> DescribeCert(const CaDir& ca, const std::string& path) {
    auto pem = ReadFile(path);
    if (!pem.ok()) return WithFlag("cert", pem.status());
    auto options = CertificateOptionsFromPem(*pem);
    if (!options.ok()) return WithFlag("cert", Status(options.status().code(), "'" + path + "': " +
                                                      std::string(options.status().message())));
    if (options->is_ca) return FlagError("cert", "'" + path + "' is a CA certificate; revoke leaf certificates only");
    if (!IssuedBy(*pem, ca.ca.cert_pem, *options)) {
      return FlagError("cert", "'" + path + "' was not issued by the CA in '" + ca.dir + "'");
    }
    auto serial = CertificateSerial(*pem);
    if (!serial.ok()) return WithFlag("cert", serial.status());
    auto fingerprint = CertificateFingerprint(*pem);
    std::string name = options->uri_sans.empty() ? path : options->uri_sans.front();
    if (fingerprint.ok()) name += " sha256 " + *fingerprint;
    return std::make_pair(*serial, name);
  }
};

}  // namespace

std::unique_ptr<PkiCommand> MakeRevokeCommand() { return std::make_unique<Revoke>(); }

}  // namespace orgtrail::cli::pki_cli
