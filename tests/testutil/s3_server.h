// S3TestServer: a real S3 server for tests, a throwaway single-node Ceph RADOS Gateway run by
// tests/scripts/s3_test_server.sh (monitor + in-memory OSD + radosgw on 127.0.0.1, its own folder
// and ports, a generated access key). Stopping it (destructor or Stop) kills the daemons by PID
// and deletes the folder; if the test process dies first, the script's watcher does it.
//
// S3ServerTest is the GoogleTest fixture: the first test that needs the server starts it, later
// tests in the same binary reuse it, and it stops when the binary exits. When
// ORGTRAIL_S3_TEST_SERVER_DIR names a running server's folder (ctest starts one for the whole
// run: tests/CMakeLists.txt, fixture s3_server), that server is used and never stopped here.
// Tests are skipped, with a message saying what to install, ONLY if the Ceph packages are
// missing; any other start failure fails the test with the script's output.
// Each test should use its own bucket (UniqueBucketName).
//
// Not thread-safe: used from the test's main thread.
#ifndef ORGTRAIL_TESTS_TESTUTIL_S3_SERVER_H_
#define ORGTRAIL_TESTS_TESTUTIL_S3_SERVER_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "orgtrail/common/status.h"

namespace orgtrail::testutil {

class S3TestServer {
 public:
  // FAILED_PRECONDITION (message names the packages) if Ceph is not installed; UNAVAILABLE with
  // the script's output if the start failed.
  static StatusOr<std::unique_ptr<S3TestServer>> Start();
  // Wraps a server that someone else started in `dir` (not stopped by this object).
  static StatusOr<std::unique_ptr<S3TestServer>> Attach(const std::string& dir);

  ~S3TestServer();
  S3TestServer(const S3TestServer&) = delete;
  S3TestServer& operator=(const S3TestServer&) = delete;

  // Stops the daemons and deletes the folder (only for a server this object started).
  Status Stop();

  const std::string& endpoint() const { return endpoint_; }       // http://127.0.0.1:PORT
  const std::string& dir() const { return dir_; }
  std::string credentials_file() const { return dir_ + "/credentials"; }  // AWS shared file, [default]
  const std::string& access_key_id() const { return access_key_id_; }
  const std::string& secret_access_key() const { return secret_access_key_; }

  // The server for this test binary (see the header comment), started on first use.
  static StatusOr<S3TestServer*> ForThisProcess();

 private:
  S3TestServer() = default;
  Status ReadState();

  std::string dir_;
  std::string parent_;  // temporary parent folder of dir_ when we own it
  std::string endpoint_;
  std::string access_key_id_;
  std::string secret_access_key_;
  bool owned_ = false;
};

// A bucket name no other test uses: "<prefix>-<random hex>".
std::string UniqueBucketName(const std::string& prefix = "test");

class S3ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  S3TestServer& server() { return *server_; }

 private:
  S3TestServer* server_ = nullptr;
};

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_S3_SERVER_H_
