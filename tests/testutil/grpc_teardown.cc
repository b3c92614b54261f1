// A GoogleTest environment that shuts gRPC down synchronously after the last
// test of a binary, so gRPC's executor threads exit before LeakSanitizer runs.
//
// Why: OpenSSL keeps a per-thread error queue that it frees when the thread
// exits. gRPC's executor and event-engine threads live until grpc_shutdown;
// at process exit they may still be running, and LeakSanitizer then reports
// their error queues (and the strings in them) as leaks, depending on timing.
// That made TlsTest.* fail about one run in four under ASan. Shutting down
// first makes the check meaningful: what it reports after this is ours.
// Linked into every test binary through orgtrail_testutil (an OBJECT library,
// so this registration is not dropped by the linker).
#include <grpc/grpc.h>
#include <gtest/gtest.h>

namespace orgtrail::testutil {
namespace {

class GrpcTeardownEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    // One reference of our own, released synchronously: when no channel or server is
    // left, this is the last one and gRPC's threads are joined before returning.
    grpc_init();
    grpc_shutdown_blocking();
  }
};

[[maybe_unused]] ::testing::Environment* const kGrpcTeardown =
    ::testing::AddGlobalTestEnvironment(new GrpcTeardownEnvironment);

}  // namespace
}  // namespace orgtrail::testutil
