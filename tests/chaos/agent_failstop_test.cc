// Regression test for a chaos-run finding: after one failed fsync of its
// spool, the agent kept running with RocksDB in a sticky background error —
// every later spool write failed ("sealing failed" thousands of times a
// second), /healthz said ok, the generator and the batcher spun forever and
// nothing more was ever delivered. Now the agent fail-stops: it exits 1 so its
// supervisor restarts it, and RocksDB recovers the spool from its WAL.
//
// Drives the real orgtrail-agent with the chaos fault shim preloaded (fsync of
// spool files fails with EIO once armed).
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "testutil/net.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

using testutil::Subprocess;
using testutil::SubprocessOptions;

void WriteControl(const std::string& path, const std::string& mode) {
  std::ofstream(path + ".tmp", std::ios::trunc) << mode << "\n";
  std::rename((path + ".tmp").c_str(), path.c_str());
}

SubprocessOptions AgentOptions(const testutil::TempDir& dir, const TlsFiles& tls, const std::string& control,
                               const std::string& name) {
  SubprocessOptions sub;
  sub.binary = ORGTRAIL_BINARY_DIR "/agent/orgtrail-agent";
  sub.log_dir = dir.path();
  sub.name = name;
  // No collector: nothing listens on the port (FreePort's one right use).
  sub.args = {"--collector=127.0.0.1:" + std::to_string(testutil::FreePort()), "--ca=" + tls.ca_cert_path,
              "--cert=" + tls.cert_path, "--key=" + tls.key_path, "--spool-dir=" + dir.Join("spool"),
              "--ops-listen=127.0.0.1:0", "--generator-rate=200",
              "--generator-seed=3", "--batch-max-age=50ms"};
  sub.env = {{"LD_PRELOAD", ORGTRAIL_CHAOS_SHIM_PATH},
             {"ORGTRAIL_CHAOS_SHIM_CONTROL", control},
             {"ORGTRAIL_CHAOS_SHIM_PREFIX", dir.Join("spool")}};
  return sub;
}

TEST(AgentFailStop, ExitsAfterSpoolSyncFailureAndRestartsCleanly) {
  testutil::TempDir dir("agent-failstop");
  testutil::TestPki pki(dir.MakeSubdir("pki"));
  ASSERT_TRUE(pki.ok());
  TlsFiles tls = pki.Agent("111111111111", "us-east-1", "a1");
  const std::string control = dir.Join("shim.ctl");
  WriteControl(control, "none");
  auto agent = Subprocess::Start(AgentOptions(dir, tls, control, "agent-1"));
  ASSERT_TRUE(agent.ok()) << agent.status();
  int ops_port = 0;
  ASSERT_TRUE(testutil::WaitFor([&] {
    ops_port = testutil::PortFromLog((*agent)->ReadStderr(), "agent starting", "ops_port").value_or(0);
    return ops_port != 0 || !(*agent)->Running();
  }, std::chrono::seconds(60))) << (*agent)->ReadLog();
  // Running and spooling generated events.
  ASSERT_TRUE(testutil::WaitFor(
      [&] {
        auto r = testutil::HttpGet("127.0.0.1", ops_port, "/healthz", std::chrono::milliseconds(1000));
        return r.ok() && r->body.find("\"pending_events\":0") == std::string::npos;
      },
      std::chrono::seconds(60)))
      << (*agent)->ReadLog();

  WriteControl(control, "fsync_eio");  // the disk starts failing syncs
  auto status = (*agent)->Wait(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "agent still running 30 s after its spool failed: " << (*agent)->ReadStderr().substr(0, 3000);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << (*agent)->DescribeExit();
  EXPECT_NE((*agent)->ReadStderr().find("fail-stop"), std::string::npos);

  // The disk is healthy again: the restarted agent opens the spool and runs.
  WriteControl(control, "none");
  auto again = Subprocess::Start(AgentOptions(dir, tls, control, "agent-2"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(testutil::WaitFor(
      [&] {
        const int port = testutil::PortFromLog((*again)->ReadStderr(), "agent starting", "ops_port").value_or(0);
        if (port == 0) return false;
        auto r = testutil::HttpGet("127.0.0.1", port, "/healthz", std::chrono::milliseconds(1000));
        return r.ok() && r->status == 200;
      },
      std::chrono::seconds(60)))
      << (*again)->ReadLog();
  EXPECT_TRUE((*again)->Running()) << (*again)->ReadLog();
  (*again)->Stop();
}

}  // namespace
}  // namespace orgtrail
