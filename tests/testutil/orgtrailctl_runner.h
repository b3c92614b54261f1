// Runs the real orgtrailctl binary against a collector with an mTLS identity,
// waits for it, and returns its exit code and output. For integration tests
// that check what an operator sees. Not thread-safe (one Subprocess each call).
#ifndef ORGTRAIL_TESTS_TESTUTIL_ORGTRAILCTL_RUNNER_H_
#define ORGTRAIL_TESTS_TESTUTIL_ORGTRAILCTL_RUNNER_H_

#include <chrono>
#include <string>
#include <vector>

#include "orgtrail/common/tls.h"

namespace orgtrail::testutil {

struct CtlResult {
  int exit_code = -1;  // -1: could not start, or killed after the timeout
  std::string out, err;
};

// orgtrailctl <args> --collector <target> --ca/--cert/--key of `tls` --tls-server-name localhost.
// Its stdout/stderr files go to log_dir/<name>.{stdout,stderr}.
CtlResult RunOrgtrailctl(std::vector<std::string> args, const std::string& target, const TlsFiles& tls,
                         const std::string& log_dir, const std::string& name,
                         std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_ORGTRAILCTL_RUNNER_H_
