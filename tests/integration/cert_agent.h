// CertAgent: a real orgtrail-agent started with a given certificate (several
// processes may share one, as a cloned VM would), its PutEvents API on a
// loopback port, and its /metrics. For the ingest fencing and limits tests.
// Not thread-safe; the process is SIGKILLed when the CertAgent is destroyed.
#ifndef ORGTRAIL_TESTS_INTEGRATION_CERT_AGENT_H_
#define ORGTRAIL_TESTS_INTEGRATION_CERT_AGENT_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "orgtrail/common/tls.h"
#include "orgtrail/v1/agent_api.grpc.pb.h"
#include "testutil/net.h"
#include "testutil/subprocess.h"
#include "testutil/wait_for.h"

namespace orgtrail::testutil {

struct CertAgent {
  std::unique_ptr<Subprocess> process;
  int ops_port = 0;
  int api_port = 0;

  // Starts the agent and waits for its /healthz.
  static CertAgent Start(const std::string& collector, const TlsFiles& tls, const std::string& spool_dir,
                         const std::string& log_dir, const std::string& name) {
    CertAgent agent;
    SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/agent/orgtrail-agent";
    o.args = {"--collector", collector, "--ca", tls.ca_cert_path, "--cert", tls.cert_path, "--key", tls.key_path,
              "--spool-dir", spool_dir, "--ops-listen", "127.0.0.1:0",
              "--api-listen", "127.0.0.1:0", "--batch-max-age", "50ms"};
    o.log_dir = log_dir;
    o.name = "agent-" + name;
    auto started = Subprocess::Start(o);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return agent;
    agent.process = std::move(*started);
    // "agent starting" is logged once every listener accepts connections; the ports are the
    // kernel's choice, read back from the log.
    EXPECT_TRUE(WaitFor([&] {
      return PortFromLog(agent.process->ReadStderr(), "agent starting", "ops_port").has_value() ||
             !agent.process->Running();
    }, std::chrono::seconds(60)));
    EXPECT_TRUE(agent.process->Running()) << agent.process->ReadLog();
    agent.ops_port = PortFromLog(agent.process->ReadStderr(), "agent starting", "ops_port").value_or(0);
    agent.api_port =
        PortFromLog(agent.process->ReadStderr(), "local PutEvents API listening", "tcp_port").value_or(0);
    return agent;
  }

  double Metric(const std::string& series) const {
    auto r = HttpGet("127.0.0.1", ops_port, "/metrics", std::chrono::seconds(5));
    if (!r.ok() || r->status != 200) return -1;
    return PrometheusValue(r->body, series);
  }
  // Every accepted event is in a batch the collector acknowledged.
  bool Drained() const {
    return Metric("orgtrail_agent_spool_batches") == 0 && Metric("orgtrail_agent_spool_events{state=\"pending\"}") == 0;
  }

  std::unique_ptr<v1::AgentApi::Stub> Api() const {
    return v1::AgentApi::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(api_port), grpc::InsecureChannelCredentials()));
  }
};

// A management event of account 111122223333 in eu-west-1 with the given eventID.
inline std::string CertAgentEvent(const std::string& id) {
  return R"({"eventVersion":"1.09","eventID":")" + id +
         R"(","eventTime":"2026-03-01T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","readOnly":false,"awsRegion":"eu-west-1","recipientAccountId":"111122223333","eventCategory":"Management","eventType":"AwsApiCall"})";
}

// `calls` PutEvents calls of `per_call` events with eventIDs "<prefix8>-0000-4000-8000-<n>";
// returns the eventIDs answered OK (what the agent acknowledged to its source).
inline std::vector<std::string> PutEventsRounds(v1::AgentApi::Stub* api, const std::string& prefix, int calls,
                                                int per_call) {
  std::vector<std::string> acked;
  for (int c = 0; c < calls; ++c) {
    v1::PutEventsRequest request;
    for (int i = 0; i < per_call; ++i) {
      char id[64];
      std::snprintf(id, sizeof(id), "%s-0000-4000-8000-%012d", prefix.c_str(), c * per_call + i);
      auto* e = request.add_audit_events();
      e->set_id(std::to_string(i));
      e->set_event_data(CertAgentEvent(id));
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::PutEventsResponse response;
    if (!api->PutEvents(&ctx, request, &response).ok()) continue;  // not acknowledged: not owed
    for (const auto& ok : response.successful()) acked.push_back(ok.event_id());
  }
  return acked;
}

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_INTEGRATION_CERT_AGENT_H_
