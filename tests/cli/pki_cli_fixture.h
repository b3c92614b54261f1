// PkiCliFixture: runs the real `orgtrailctl pki ...` in a fresh temporary folder (the CA lives
// in <tmp>/ca, each run's output in <tmp>/logs), for the tests of tests/cli/pki_*_test.cc.
// Not thread-safe (one Subprocess per call).
#ifndef ORGTRAIL_TESTS_CLI_PKI_CLI_FIXTURE_H_
#define ORGTRAIL_TESTS_CLI_PKI_CLI_FIXTURE_H_

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class PkiCliFixture : public ::testing::Test {
 protected:
  // orgtrailctl pki <args>: its exit code and output (exit_code -1 if it could not run in 60 s).
  RunResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), "pki");
    testutil::SubprocessOptions options;
    options.binary = ORGTRAIL_BINARY_DIR "/cli/orgtrailctl";
    options.args = args;
    options.log_dir = logs_;
    options.name = "orgtrailctl-" + std::to_string(runs_++);
    auto proc = testutil::Subprocess::Start(options);
    RunResult result;
    EXPECT_TRUE(proc.ok()) << proc.status();
    if (!proc.ok()) return result;
    if (!(*proc)->Wait(std::chrono::seconds(60)).has_value()) {
      ADD_FAILURE() << "orgtrailctl did not finish: " << (*proc)->ReadLog();
      return result;
    }
    result.exit_code = (*proc)->ExitCode();
    result.out = (*proc)->ReadStdout();
    result.err = (*proc)->ReadStderr();
    return result;
  }

  std::string Ca() const { return dir_.Join("ca"); }
  std::string CaFile(const std::string& name) const { return Ca() + "/" + name; }

  testutil::TempDir dir_;
  std::string logs_ = dir_.MakeSubdir("logs");
  int runs_ = 0;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_TESTS_CLI_PKI_CLI_FIXTURE_H_
