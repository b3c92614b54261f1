#include "testutil/orgtrailctl_runner.h"

#include "testutil/subprocess.h"

namespace orgtrail::testutil {

CtlResult RunOrgtrailctl(std::vector<std::string> args, const std::string& target, const TlsFiles& tls,
                         const std::string& log_dir, const std::string& name, std::chrono::seconds timeout) {
  args.insert(args.end(), {"--collector", target, "--ca", tls.ca_cert_path, "--cert", tls.cert_path, "--key",
                           tls.key_path, "--tls-server-name", "localhost"});
  SubprocessOptions options;
  options.binary = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";
  options.args = std::move(args);
  options.log_dir = log_dir;
  options.name = name;
  auto process = Subprocess::Start(options);
  CtlResult result;
  if (!process.ok()) return result;
  if (!(*process)->Wait(timeout)) (*process)->Stop(std::chrono::seconds(1));
  result.exit_code = (*process)->ExitCode();
  result.out = (*process)->ReadStdout();
  result.err = (*process)->ReadStderr();
  return result;
}

}  // namespace orgtrail::testutil
