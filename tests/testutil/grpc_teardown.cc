// A GoogleTest environment that shuts gRPC down synchronously after the last
// test of a binary, so gRPC's executor threads exit before LeakSanitizer runs.
//
// Why: OpenSSL keeps a per-thread error queue that it frees when the thread
// exits. gRPC's executor and event-engine threads live until grpc_shutdown;
// at process exit they may still be running, and LeakSanitizer then reports
// their error queues (and the strings in them) as leaks, depending on timing.
// That made TlsTest.* fail about one run in four under ASan. Shutting down
// first makes the check meaningful: what it reports after this is ours.
// Our synchronous shutdown is not always the last one: gRPC may still hold a
// reference of its own (a channel or credentials object whose destruction
// finishes on an executor thread). That thread then drops the last reference
// and gRPC cleans up on a detached thread, which raced with process exit:
// LeakSanitizer reported ~13 KB of OpenSSL objects in 1 run of 10 of
// TlsTest.ClientCertificateRotatesWithoutNewCredentials, exactly in the runs
// where gRPC was still initialized after grpc_shutdown_blocking. So the
// teardown also waits (bounded) until gRPC reports itself uninitialized.
// Linked into every test binary through orgtrail_testutil (an OBJECT library,
// so this registration is not dropped by the linker).
#include <grpc/grpc.h>
#include <cstdio>
#include <chrono>
#include <thread>
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
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (grpc_is_initialized() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (grpc_is_initialized()) {
      std::fprintf(stderr, "grpc_teardown: gRPC still initialized 30 s after the last test "
                           "(a channel, server or credentials object outlived its test?)\n");
    }
  }
};

[[maybe_unused]] ::testing::Environment* const kGrpcTeardown =
    ::testing::AddGlobalTestEnvironment(new GrpcTeardownEnvironment);

}  // namespace
}  // namespace orgtrail::testutil
