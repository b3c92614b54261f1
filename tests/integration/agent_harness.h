// AgentHarness: the real collector and real agents on loopback for the agent
// integration tests (tests/integration/agent_*_test.cc). A fresh temp dir, a
// test PKI generated at run time, ports chosen free at run time, and every
// process killed when the harness is destroyed. Not thread-safe.
#ifndef ORGTRAIL_TESTS_INTEGRATION_AGENT_HARNESS_H_
#define ORGTRAIL_TESTS_INTEGRATION_AGENT_HARNESS_H_

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "orgtrail/common/tls.h"
#include "orgtrail/v1/admin.grpc.pb.h"
#include "orgtrail/v1/agent_api.grpc.pb.h"
#include "orgtrail/v1/query.grpc.pb.h"
#include "testutil/net.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::testutil {

struct AgentProcess {
  std::unique_ptr<Subprocess> process;
  std::string name;
  std::string spool_dir;
  int ops_port = 0;
  int api_port = 0;
  TlsFiles tls;
};

class AgentHarness {
 public:
  AgentHarness() : dir_("orgtrail-agent-it"), pki_(dir_.Join("pki")) {
    collector_tls_ = pki_.Collector("main");
    admin_tls_ = pki_.Admin("root");
    auditor_tls_ = pki_.Auditor("alice");
  }
  ~AgentHarness() {
    for (auto& [name, agent] : agents_) {
      if (agent.process) agent.process->Kill(SIGKILL);
    }
    if (collector_) collector_->Kill(SIGKILL);
  }

  TempDir& dir() { return dir_; }
  TestPki& pki() { return pki_; }
  std::string collector_address() const { return "127.0.0.1:" + std::to_string(collector_port_); }

  // extra_args: more collector flags (e.g. --allowed-regions). The first start listens on ports
  // the kernel chooses (read back from the log); restarts keep them, so agents find it again.
  void StartCollector(const std::vector<std::string>& extra_args = {}) {
    SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/collector/orgtrail-collector";
    o.args = {"--listen", collector_address(),
              "--http-listen", "127.0.0.1:" + std::to_string(collector_http_port_),
              "--data-dir", dir_.Join("collector-data"),
              "--ca", collector_tls_.ca_cert_path, "--cert", collector_tls_.cert_path,
              "--key", collector_tls_.key_path, "--trust-domain", pki_.trust_domain()};
    o.args.insert(o.args.end(), extra_args.begin(), extra_args.end());
    o.log_dir = dir_.path();
    o.name = "collector-" + std::to_string(++collector_starts_);
    auto started = Subprocess::Start(o);
    ASSERT_TRUE(started.ok()) << started.status();
    collector_ = std::move(*started);
    ASSERT_TRUE(WaitFor([&] {
      return PortFromLog(collector_->ReadStderr(), "collector listening", "http_port").has_value() ||
             !collector_->Running();
    }, std::chrono::seconds(60)));
    ASSERT_TRUE(collector_->Running()) << collector_->ReadLog();
    collector_port_ = PortFromLog(collector_->ReadStderr(), "collector listening", "grpc_port").value_or(0);
    collector_http_port_ = PortFromLog(collector_->ReadStderr(), "collector listening", "http_port").value_or(0);
    ASSERT_TRUE(WaitFor([&] {
      auto r = HttpGet("127.0.0.1", collector_http_port_, "/healthz", std::chrono::seconds(2));
      return (r.ok() && r->status == 200) || !collector_->Running();
    }, std::chrono::seconds(60)));
    ASSERT_TRUE(collector_->Running()) << collector_->ReadLog();
    ASSERT_TRUE(WaitFor([&] { return PortAcceptsConnections("127.0.0.1", collector_port_); },
                        std::chrono::seconds(60)));
  }

  void StopCollector() {
    if (collector_) {
      collector_->Stop(std::chrono::seconds(30));
      collector_.reset();
    }
  }
  // Crash-stop: SIGKILL, no drain.
  void KillCollector() {
    if (collector_) {
      collector_->Kill(SIGKILL);
      collector_->Wait(std::chrono::seconds(30));
      collector_.reset();
    }
  }
  Subprocess* collector() { return collector_.get(); }

  // Starts (or restarts, keeping its spool) an agent. Its ops endpoint listens on a port the kernel
  // chooses (read back from its log, as is the PutEvents port of an `--api-listen 127.0.0.1:0`).
  AgentProcess* StartAgent(const std::string& name, const std::string& account,
                           const std::string& region, std::vector<std::string> extra_args) {
    // An agent started before the collector must know its address already: the one place a
    // port is reserved ahead (FreePort); the collector then listens on it.
    if (collector_port_ == 0) collector_port_ = FreePort();
    AgentProcess& agent = agents_[name];
    if (agent.name.empty()) {
      agent.name = name;
      agent.spool_dir = dir_.Join("spool-" + name);
      agent.tls = pki_.Agent(account, region, name);
      agent_args_[name] = extra_args;
    }
    SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/agent/orgtrail-agent";
    o.args = {"--collector", collector_address(), "--ca", agent.tls.ca_cert_path,
              "--cert", agent.tls.cert_path, "--key", agent.tls.key_path,
              "--spool-dir", agent.spool_dir,
              "--ops-listen", "127.0.0.1:0",
              "--tls-refresh-seconds", "1"};
    for (auto& a : extra_args) o.args.push_back(a);
    o.log_dir = dir_.path();
    o.name = "agent-" + name + "-" + std::to_string(++agent_starts_[name]);
    auto started = Subprocess::Start(o);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return &agent;
    agent.process = std::move(*started);
    // "agent starting" is logged once every listener (ops last) accepts connections.
    const bool up = WaitFor([&] {
      return PortFromLog(agent.process->ReadStderr(), "agent starting", "ops_port").has_value() ||
             !agent.process->Running();
    }, std::chrono::seconds(60));
    EXPECT_TRUE(up && agent.process->Running()) << agent.process->ReadLog();
    const std::string log = agent.process->ReadStderr();
    agent.ops_port = PortFromLog(log, "agent starting", "ops_port").value_or(0);
    agent.api_port = PortFromLog(log, "local PutEvents API listening", "tcp_port").value_or(0);
    return &agent;
  }

  // A metric value from the agent's /metrics ("name{labels}" exactly as
  // rendered, or the bare name); -1 if absent or unreachable.
  double AgentMetric(const AgentProcess& agent, const std::string& series) {
    auto r = HttpGet("127.0.0.1", agent.ops_port, "/metrics", std::chrono::seconds(5));
    if (!r.ok() || r->status != 200) return -1;
    return PrometheusValue(r->body, series);
  }
  double CollectorMetric(const std::string& series) {
    auto r = HttpGet("127.0.0.1", collector_http_port_, "/metrics", std::chrono::seconds(5));
    if (!r.ok() || r->status != 200) return -1;
    return PrometheusValue(r->body, series);
  }

  std::shared_ptr<grpc::Channel> Channel(const TlsFiles& tls) {
    auto creds = MakeChannelCredentials(tls);
    EXPECT_TRUE(creds.ok()) << creds.status();
    return grpc::CreateChannel(collector_address(), *creds);
  }
  std::unique_ptr<v1::Admin::Stub> Admin() { return v1::Admin::NewStub(Channel(admin_tls_)); }
  std::unique_ptr<v1::Query::Stub> Query() { return v1::Query::NewStub(Channel(auditor_tls_)); }

  // Events of agents durably stored at the collector (Admin GetStatus, without the collector's
  // self-audit records of the test's own status calls and queries); -1 on error.
  int64_t EventsStored() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetStatusResponse response;
    auto status = Admin()->GetStatus(&ctx, v1::GetStatusRequest(), &response);
    if (!status.ok()) return -1;
    return static_cast<int64_t>(response.events_stored() - response.self_audit_events_stored());
  }
  bool WaitForStored(int64_t expected, std::chrono::seconds timeout) {
    return WaitFor([&] { return EventsStored() >= expected; }, timeout, std::chrono::milliseconds(250));
  }

  // The stored record of an event, byte for byte (Query GetEvent).
  StatusOr<std::string> StoredRecord(const std::string& event_id,
                                     v1::Query::Stub* stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetEventRequest request;
    request.set_event_id(event_id);
    v1::GetEventResponse response;
    auto status = stub->GetEvent(&ctx, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response.event().raw_json();
  }

  // Local PutEvents over the agent's loopback TCP API.
  std::unique_ptr<v1::AgentApi::Stub> AgentApi(const AgentProcess& agent) {
    return v1::AgentApi::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(agent.api_port), grpc::InsecureChannelCredentials()));
  }

  const TlsFiles& admin_tls() const { return admin_tls_; }

 private:
  TempDir dir_;
  TestPki pki_;
  TlsFiles collector_tls_;
  TlsFiles admin_tls_;
  TlsFiles auditor_tls_;
  int collector_port_ = 0;
  int collector_http_port_ = 0;
  int collector_starts_ = 0;
  std::unique_ptr<Subprocess> collector_;
  std::map<std::string, AgentProcess> agents_;
  std::map<std::string, std::vector<std::string>> agent_args_;
  std::map<std::string, int> agent_starts_;
};

// One PutEvents call with (id, JSON) pairs, 10 s deadline; a failed call fails the test.
inline v1::PutEventsResponse PutAgentEvents(v1::AgentApi::Stub* api,
                                            const std::vector<std::pair<std::string, std::string>>& events) {
  v1::PutEventsRequest request;
  for (const auto& [id, json] : events) {
    auto* e = request.add_audit_events();
    e->set_id(id);
    e->set_event_data(json);
  }
  v1::PutEventsResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto status = api->PutEvents(&ctx, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_INTEGRATION_AGENT_HARNESS_H_
