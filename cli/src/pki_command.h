// The frame of every `orgtrailctl pki <subcommand>` (cmd_pki.cc,
// cmd_pki_revoke.cc): PkiCommand parses the subcommand's flags
// (ParseCommandLine: --help, usage errors naming the flag) and maps the
// Status of Execute to the exit code: 0 done, 2 INVALID_ARGUMENT (a usage
// error, with a pointer to --help), 1 anything else (I/O, a bad
// certificate). Also the flag helpers and the CA directory (D/ca.crt,
// D/ca.key) the subcommands share. Not thread-safe (one command per process).
#ifndef ORGTRAIL_CLI_PKI_COMMAND_H_
#define ORGTRAIL_CLI_PKI_COMMAND_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "orgtrail/common/config.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/status.h"
#include "command_util.h"

namespace orgtrail::cli::pki_cli {

namespace po = boost::program_options;

constexpr int64_t kMicrosPerSecond = 1000000;

// A usage error (exit 2) or a runtime failure (exit 1) with its message.
struct CommandError {
  int exit_code;
  std::string message;
};

class PkiCommand {
 public:
  PkiCommand(std::string name, std::string summary) : name_(std::move(name)), summary_(std::move(summary)) {}
  virtual ~PkiCommand() = default;

  const std::string& name() const { return name_; }
  const std::string& summary() const { return summary_; }

  int Run(int argc, const char* const* argv) {
    po::options_description options("Options");
    AddOptions(options);
    po::positional_options_description positional;
    AddPositional(positional);
    po::variables_map values;
    BinaryInfo info{"orgtrailctl pki " + name_, summary_, Usage()};
    auto outcome = ParseCommandLine(argc, argv, info, options, &values, {}, &positional);
    if (!outcome.ok()) return Fail({kExitUsage, std::string(outcome.status().message())});
    if (*outcome == ParseOutcome::kExitSuccess) return kExitOk;
    Status status = Execute(values);
    if (!status.ok()) {
      int code = status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
      return Fail({code, std::string(status.message())});
    }
    return kExitOk;
  }

 protected:
  virtual std::string Usage() const = 0;
  virtual void AddOptions(po::options_description& options) = 0;
  virtual void AddPositional(po::positional_options_description&) {}
  virtual Status Execute(const po::variables_map& values) = 0;

 private:
  int Fail(const CommandError& error) {
    std::fprintf(stderr, "orgtrailctl pki %s: %s\n", name_.c_str(), error.message.c_str());
    if (error.exit_code == kExitUsage) {
      std::fprintf(stderr, "see: orgtrailctl pki %s --help\n", name_.c_str());
    }
    return error.exit_code;
  }

  std::string name_;
  std::string summary_;
};

// ---- flag values and checks -------------------------------------------

std::vector<std::string> GetList(const po::variables_map& values, const char* name);
// INVALID_ARGUMENT "--<flag>: <what>".
Status FlagError(std::string_view flag, std::string_view what);
// Prefixes a lower-level error with the flag it came from, keeping its code.
Status WithFlag(std::string_view flag, const Status& status);
Status RequireFlag(const po::variables_map& values, const char* name);

// ---- the CA directory ---------------------------------------------------

struct CaDir {
  std::string dir;
  KeyAndCert ca;
  std::string trust_domain;
};

// D/ca.crt and D/ca.key, and the CA's trust domain (errors name --dir).
StatusOr<CaDir> LoadCaDir(const std::string& dir);

// True if `cert_pem` was signed by `ca_pem`, judged at a time inside the
// certificate's own validity (an expired certificate can still be renewed
// or revoked).
bool IssuedBy(const std::string& cert_pem, const std::string& ca_pem, const CertOptions& current);

// `pki revoke` (cmd_pki_revoke.cc).
std::unique_ptr<PkiCommand> MakeRevokeCommand();

}  // namespace orgtrail::cli::pki_cli

#endif  // ORGTRAIL_CLI_PKI_COMMAND_H_
