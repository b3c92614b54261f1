#include "testutil/s3_server.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "orgtrail/common/str_cat.h"
#include "testutil/subprocess.h"

namespace orgtrail::testutil {
namespace {

const char kScript[] = ORGTRAIL_SOURCE_DIR "/tests/scripts/s3_test_server.sh";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the script with `args`; returns its exit code (-1 if it did not finish) and its output.
int RunScript(const std::vector<std::string>& args, const std::string& log_dir, std::string* output) {
  SubprocessOptions options;
  // The script's watcher stops the server if this process dies without stopping it.
  options.env["ORGTRAIL_S3_OWNER_PID"] = std::to_string(::getpid());
  options.binary = kScript;
  options.args = args;
  options.log_dir = log_dir;
  options.name = "s3_test_server-" + args[0];
  auto process = Subprocess::Start(options);
  if (!process.ok()) {
    *output = std::string(process.status().message());
    return -1;
  }
  // The script bounds each of its waits; this is only a backstop.
  std::optional<int> status = (*process)->Wait(std::chrono::minutes(10));
  if (!status.has_value()) (*process)->Stop(std::chrono::seconds(1));
  *output = (*process)->ReadLog();
  if (!status.has_value() || !WIFEXITED(*status)) return -1;
  return WEXITSTATUS(*status);
}

}  // namespace

StatusOr<std::unique_ptr<S3TestServer>> S3TestServer::Start() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/orgtrail-s3-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return absl::UnavailableError("mkdtemp failed");
  std::unique_ptr<S3TestServer> server(new S3TestServer());
  server->parent_ = pattern;
  server->dir_ = pattern + "/server";
  std::string output;
  const int check = RunScript({"check"}, pattern, &output);
  if (check == 3) {
    std::filesystem::remove_all(pattern);
    return absl::FailedPreconditionError(StrCat(
        "the Ceph packages for the test S3 server are not installed (scripts/bootstrap.sh "
        "installs ceph-mon ceph-osd radosgw): ", std::string(absl::StripAsciiWhitespace(output))));
  }
  const int rc = RunScript({"start", server->dir_}, pattern, &output);
  if (rc != 0) {
    std::string stop_output;
    RunScript({"stop", server->dir_}, pattern, &stop_output);
    std::filesystem::remove_all(pattern);
    return absl::UnavailableError(StrCat("s3_test_server.sh start failed (exit ", rc, "): ", output));
  }
  server->owned_ = true;
  ORGTRAIL_RETURN_IF_ERROR(server->ReadState());
  return server;
}

StatusOr<std::unique_ptr<S3TestServer>> S3TestServer::Attach(const std::string& dir) {
  std::unique_ptr<S3TestServer> server(new S3TestServer());
  server->dir_ = dir;
  ORGTRAIL_RETURN_IF_ERROR(server->ReadState());
  return server;
}

Status S3TestServer::ReadState() {
  endpoint_ = std::string(absl::StripAsciiWhitespace(ReadFile(dir_ + "/endpoint")));
  if (endpoint_.empty()) return absl::FailedPreconditionError(StrCat(dir_, "/endpoint is missing or empty"));
  std::istringstream env(ReadFile(dir_ + "/env"));
  std::string line;
  while (std::getline(env, line)) {
    if (absl::StartsWith(line, "export AWS_ACCESS_KEY_ID=")) access_key_id_ = line.substr(25);
    if (absl::StartsWith(line, "export AWS_SECRET_ACCESS_KEY=")) secret_access_key_ = line.substr(29);
  }
  if (access_key_id_.empty() || secret_access_key_.empty()) {
    return absl::FailedPreconditionError(StrCat(dir_, "/env lacks the access key"));
  }
  return absl::OkStatus();
}

Status S3TestServer::Stop() {
  if (!owned_) return absl::OkStatus();
  owned_ = false;
  std::string output;
  const int rc = RunScript({"stop", dir_}, parent_, &output);
  std::error_code ignored;
  std::filesystem::remove_all(parent_, ignored);
  if (rc != 0) return absl::UnavailableError(StrCat("s3_test_server.sh stop failed: ", output));
  return absl::OkStatus();
}

S3TestServer::~S3TestServer() {
  Status s = Stop();
  if (!s.ok()) std::fprintf(stderr, "S3TestServer: %s\n", std::string(s.message()).c_str());
}

StatusOr<S3TestServer*> S3TestServer::ForThisProcess() {
  // One per test binary, stopped at exit (function-local statics are destroyed then).
  static StatusOr<std::unique_ptr<S3TestServer>> server = [] {
    const char* shared = std::getenv("ORGTRAIL_S3_TEST_SERVER_DIR");
    if (shared != nullptr && *shared != '\0' &&
        std::filesystem::exists(std::string(shared) + "/endpoint")) {
      return Attach(shared);
    }
    return Start();
  }();
  if (!server.ok()) return server.status();
  return server->get();
}

std::string UniqueBucketName(const std::string& prefix) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
  return StrCat(prefix, "-", hex);
}

void S3ServerTest::SetUp() {
  auto server = S3TestServer::ForThisProcess();
  if (!server.ok()) {
    if (server.status().code() == absl::StatusCode::kFailedPrecondition &&
        absl::StrContains(server.status().message(), "not installed")) {
      GTEST_SKIP() << server.status().message();
    }
    FAIL() << "could not start the test S3 server: " << server.status().message();
  }
  server_ = *server;
}

}  // namespace orgtrail::testutil
