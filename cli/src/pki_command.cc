// The frame and helpers of `orgtrailctl pki` subcommands; see pki_command.h.
#include "pki_command.h"

#include <filesystem>

#include "orgtrail/common/identity.h"

namespace orgtrail::cli::pki_cli {

std::vector<std::string> GetList(const po::variables_map& values, const char* name) {
  return values.count(name) ? values[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

Status FlagError(std::string_view flag, std::string_view what) {
  return absl::InvalidArgumentError("--" + std::string(flag) + ": " + std::string(what));
}

// Prefixes a lower-level error with the flag it came from, keeping its code.
Status WithFlag(std::string_view flag, const Status& status) {
  if (status.ok()) return status;
  return Status(status.code(), "--" + std::string(flag) + ": " + std::string(status.message()));
}

Status RequireFlag(const po::variables_map& values, const char* name) {
  if (FlagValue(values, name).empty()) return FlagError(name, "is required");
  return absl::OkStatus();
}

StatusOr<CaDir> LoadCaDir(const std::string& dir) {
  if (dir.empty()) return FlagError("dir", "is required");
  if (!std::filesystem::is_directory(dir)) {
    return FlagError("dir", "'" + dir + "' is not a directory (create a CA with `orgtrailctl pki init-ca`)");
  }
  auto ca = ReadKeyAndCert(dir + "/ca.key", dir + "/ca.crt");
  if (!ca.ok()) return WithFlag("dir", ca.status());
  auto domain = CaTrustDomain(ca->cert_pem);
  if (!domain.ok()) return WithFlag("dir", domain.status());
  return CaDir{dir, std::move(*ca), std::move(*domain)};
}

bool IssuedBy(const std::string& cert_pem, const std::string& ca_pem, const CertOptions& current) {
  const int64_t candidates[] = {0, current.not_before_us + kMicrosPerSecond,
                                current.not_before_us + current.validity_days * 86400 * kMicrosPerSecond -
                                    kMicrosPerSecond};
  for (int64_t at : candidates) {
    if (VerifyCertificateChain(cert_pem, ca_pem, at).ok()) return true;
  }
  return false;
}

}  // namespace orgtrail::cli::pki_cli
