// Regression test for a chaos-run finding (soak, seed 7): after a half-open
// connection (the collector side gone, the agent's side open and silently
// swallowing what it sends) an agent stayed "connected" with batches in flight
// and its acked sequence stuck until gRPC keepalive gave up (~30 s) — once, not
// at all, until a liveness probe restarted it. Now the agent reopens the stream
// when batches are in flight and the collector was silent for --ack-timeout-ms.
//
// Real collector, real agent, the chaos harness's FaultProxy between them.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fault_proxy.h"
#include "testutil/net.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

using testutil::Subprocess;
using testutil::SubprocessOptions;

constexpr int kEvents = 2000;

// A metric's value from an ops endpoint's /metrics; -1 if absent or unreachable.
double Metric(int port, const std::string& series) {
  auto r = testutil::HttpGet("127.0.0.1", port, "/metrics", std::chrono::milliseconds(2000));
  if (!r.ok() || r->status != 200) return -1;
  return testutil::PrometheusValue(r->body, series);
}

TEST(AgentHalfOpen, SilentCollectorWithBatchesInFlightReopensTheStream) {
  testutil::TempDir dir("agent-half-open");
  testutil::TestPki pki(dir.MakeSubdir("pki"));
  ASSERT_TRUE(pki.ok());
  const TlsFiles collector_tls = pki.Collector();
  const TlsFiles agent_tls = pki.Agent("111111111111", "us-east-1", "a1");

  SubprocessOptions c;
  c.binary = ORGTRAIL_BINARY_DIR "/collector/orgtrail-collector";
  c.args = {"--listen=127.0.0.1:0", "--http-listen=127.0.0.1:0",
            "--data-dir=" + dir.Join("collector"), "--ca=" + collector_tls.ca_cert_path,
            "--cert=" + collector_tls.cert_path, "--key=" + collector_tls.key_path,
            "--trust-domain=" + pki.trust_domain()};
  c.log_dir = dir.path();
  c.name = "collector";
  auto collector = Subprocess::Start(c);
  ASSERT_TRUE(collector.ok()) << collector.status();
  int grpc_port = 0;
  int http_port = 0;
  ASSERT_TRUE(testutil::WaitFor([&] {
    const std::string log = (*collector)->ReadStderr();
    grpc_port = testutil::PortFromLog(log, "collector listening", "grpc_port").value_or(0);
    http_port = testutil::PortFromLog(log, "collector listening", "http_port").value_or(0);
    return (grpc_port != 0 && http_port != 0) || !(*collector)->Running();
  }, std::chrono::seconds(60))) << (*collector)->ReadLog();
  ASSERT_TRUE((*collector)->Running()) << (*collector)->ReadLog();

  auto proxy = chaos::FaultProxy::Start(grpc_port);
  ASSERT_TRUE(proxy.ok()) << proxy.status();

  SubprocessOptions a;
  a.binary = ORGTRAIL_BINARY_DIR "/agent/orgtrail-agent";
  a.args = {"--collector=127.0.0.1:" + std::to_string((*proxy)->port()), "--ca=" + agent_tls.ca_cert_path,
            "--cert=" + agent_tls.cert_path, "--key=" + agent_tls.key_path, "--spool-dir=" + dir.Join("spool"),
            "--ops-listen=127.0.0.1:0", "--generator-rate=200",
            "--generator-limit=" + std::to_string(kEvents), "--generator-seed=5", "--batch-max-age=50ms",
            "--ack-timeout-ms=2000"};
  a.log_dir = dir.path();
  a.name = "agent";
  auto agent = Subprocess::Start(a);
  ASSERT_TRUE(agent.ok()) << agent.status();
  int ops_port = 0;
  ASSERT_TRUE(testutil::WaitFor([&] {
    ops_port = testutil::PortFromLog((*agent)->ReadStderr(), "agent starting", "ops_port").value_or(0);
    return ops_port != 0 || !(*agent)->Running();
  }, std::chrono::seconds(60))) << (*agent)->ReadLog();
  // Delivering through the proxy.
  ASSERT_TRUE(testutil::WaitFor([&] { return Metric(ops_port, "orgtrail_agent_batches_acked_total") >= 3; },
                                std::chrono::seconds(60)))
      << (*agent)->ReadLog();

  // The connection goes half-open while the generator keeps producing; new connections pass
  // again a moment later, but the old one is never revived.
  (*proxy)->SetMode(chaos::ProxyMode::kHalfOpen);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  (*proxy)->SetMode(chaos::ProxyMode::kPass);

  // Everything arrives, well before gRPC keepalive (20 s + 10 s) would have noticed, and the
  // agent says why it reconnected.
  EXPECT_TRUE(testutil::WaitFor(
      [&] { return Metric(http_port, "orgtrail_collector_events_in_store") >= kEvents; }, std::chrono::seconds(25)))
      << "stored " << Metric(http_port, "orgtrail_collector_events_in_store") << " of " << kEvents << "\n"
      << (*agent)->ReadLog();
  EXPECT_GE(Metric(ops_port, "orgtrail_agent_ack_timeouts_total"), 1) << (*agent)->ReadLog();
  EXPECT_EQ(Metric(http_port, "orgtrail_collector_events_in_store"), kEvents);
  EXPECT_NE((*agent)->ReadLog().find("no ack from the collector"), std::string::npos);

  (*agent)->Stop();
  (*proxy)->Stop();
  (*collector)->Stop();
}

}  // namespace
}  // namespace orgtrail
