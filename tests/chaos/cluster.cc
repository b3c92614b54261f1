// ChaosCluster (see cluster.h).
#include "cluster.h"

#include <signal.h>
#include <sys/stat.h>

#include <climits>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "testutil/net.h"
#include "testutil/wait_for.h"

namespace orgtrail::chaos {
namespace {

constexpr char kTrustDomain[] = "example.org";

uint64_t JsonNumber(const std::string& body, const std::string& key) {
  size_t at = body.find("\"" + key + "\":");
  if (at == std::string::npos) return 0;
  return std::strtoull(body.c_str() + at + key.size() + 3, nullptr, 10);
}

Status WriteText(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return absl::UnavailableError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return absl::UnavailableError("cannot rename " + tmp);
  return absl::OkStatus();
}

}  // namespace

std::optional<double> MetricSample(const std::string& body, const std::string& sample) {
  size_t at = 0;
  while ((at = body.find(sample + " ", at)) != std::string::npos) {
    if (at == 0 || body[at - 1] == '\n') return std::strtod(body.c_str() + at + sample.size() + 1, nullptr);
    at += sample.size();
  }
  return std::nullopt;
}

ChaosCluster::ChaosCluster(std::string dir, std::string binary_dir, std::string shim_path,
                           std::vector<AgentSpec> agents)
    : dir_(std::move(dir)), binary_dir_(std::move(binary_dir)), shim_path_(std::move(shim_path)),
      specs_(std::move(agents)) {}

ChaosCluster::~ChaosCluster() { StopAll(); }

std::string ChaosCluster::agent_id(size_t i) const {
  return testutil::AgentSpiffeId(kTrustDomain, specs_[i].account, specs_[i].region, specs_[i].name);
}

Status ChaosCluster::Init() {
  for (const char* sub : {"pki", "collector", "export", "agents", "inbox", "logs", "ctl", "powerloss"}) {
    ::mkdir((dir_ + "/" + sub).c_str(), 0755);
  }
  pki_ = std::make_unique<testutil::TestPki>(dir_ + "/pki", kTrustDomain);
  if (!pki_->ok()) return absl::InternalError("cannot create the test PKI");
  collector_tls_ = pki_->Collector("main");
  ORGTRAIL_RETURN_IF_ERROR(ArmShim("collector", "none"));
  for (size_t i = 0; i < specs_.size(); ++i) {
    agent_tls_.push_back(pki_->Agent(specs_[i].account, specs_[i].region, specs_[i].name));
    if (agent_tls_.back().cert_path.empty()) return absl::InternalError("cannot issue agent certificate");
    ::mkdir((dir_ + "/agents/" + specs_[i].name).c_str(), 0755);
    ::mkdir(inbox(i).c_str(), 0755);
    auto proxy = FaultProxy::Start(0);
    if (!proxy.ok()) return proxy.status();
    proxies_.push_back(std::move(*proxy));
    ops_ports_.push_back(0);  // the kernel's choice at the first start, kept across restarts
    api_ports_.push_back(0);
    skews_.push_back(0);
    agent_procs_.emplace_back();
    agent_starts_.push_back(0);
    spools_replaced_.push_back(0);
    ORGTRAIL_RETURN_IF_ERROR(ArmShim(specs_[i].name, "none"));
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> ChaosCluster::ShimEnv(const std::string& process, const std::string& prefix,
                                                         int64_t skew) const {
  std::map<std::string, std::string> env;
  env["LD_PRELOAD"] = shim_path_;
  env["ORGTRAIL_CHAOS_SHIM_CONTROL"] = dir_ + "/ctl/" + process + ".ctl";
  // The shim compares the prefix with /proc/self/fd links, which are real paths.
  char real[PATH_MAX];
  env["ORGTRAIL_CHAOS_SHIM_PREFIX"] = ::realpath(prefix.c_str(), real) != nullptr ? std::string(real) : prefix;
  if (skew != 0) env["ORGTRAIL_CHAOS_CLOCK_SKEW_SECONDS"] = std::to_string(skew);
  return env;
}

Status ChaosCluster::ArmShim(const std::string& process, const std::string& mode) {
  return WriteText(dir_ + "/ctl/" + process + ".ctl", mode + "\n");
}

int64_t ChaosCluster::ShimFired(const std::string& process) const {
  std::ifstream in(dir_ + "/ctl/" + process + ".ctl.fired");
  int64_t n = 0;
  return (in >> n) ? n : 0;
}

void ChaosCluster::ResetShimFired(const std::string& process) const {
  std::remove((dir_ + "/ctl/" + process + ".ctl.fired").c_str());
}

StatusOr<faultenv::PowerLossOutcome> ChaosCluster::PowerCut(const std::string& process) {
  bool running = process == "collector" && CollectorRunning();
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].name == process) running = AgentRunning(i);
  }
  if (running) return absl::FailedPreconditionError("power cut of " + process + " while it runs");
  return faultenv::ApplyPowerLoss(JournalPath(process));
}

Status ChaosCluster::StartCollector(const std::vector<std::string>& extra_args) {
  if (collector_ && collector_->Running()) return absl::FailedPreconditionError("collector already running");
  collector_.reset();
  ++collector_starts_;
  testutil::SubprocessOptions sub;
  sub.binary = binary_dir_ + "/collector/orgtrail-collector";
  sub.log_dir = dir_ + "/logs";
  sub.name = "collector-" + std::to_string(collector_starts_);
  sub.args = {"--listen=127.0.0.1:0", "--http-listen=127.0.0.1:0", "--data-dir=" + collector_data(),
              "--ca=" + collector_tls_.ca_cert_path, "--cert=" + collector_tls_.cert_path,
              "--key=" + collector_tls_.key_path, "--trust-domain=" + std::string(kTrustDomain),
              "--management-account-id=111111111111", "--max-event-bytes=64KiB",
              "--export-root=" + export_root(), "--export-interval=1s", "--digest-interval=2s",
              "--checkpoint-interval=1s", "--test-power-loss-journal=" + JournalPath("collector")};
  sub.args.insert(sub.args.end(), extra_args.begin(), extra_args.end());
  sub.env = ShimEnv("collector", collector_data(), 0);
  auto process = testutil::Subprocess::Start(sub);
  if (!process.ok()) return process.status();
  collector_ = std::move(*process);
  auto port_after = [](const std::string& line, const std::string& key) {
    size_t at = line.find("\"" + key + "\":");
    return at == std::string::npos ? 0 : std::atoi(line.c_str() + at + key.size() + 3);
  };
  int grpc = 0, http = 0;
  bool up = testutil::WaitFor(
      [&] {
        if (!collector_->Running()) return true;
        std::string log = collector_->ReadStderr();
        size_t at = log.find("\"collector listening\"");
        if (at == std::string::npos) return false;
        std::string line = log.substr(at, log.find('\n', at) - at);
        grpc = port_after(line, "grpc_port");
        http = port_after(line, "http_port");
        return true;
      },
      std::chrono::seconds(90), std::chrono::milliseconds(20));
  if (!up || !collector_->Running() || grpc == 0) {
    return absl::UnavailableError("collector did not start (" + collector_->DescribeExit() +
                                  "): " + collector_->ReadLog().substr(0, 2000));
  }
  grpc_port_ = grpc;
  http_port_ = http;
  for (auto& proxy : proxies_) proxy->SetUpstream(grpc_port_);
  return absl::OkStatus();
}

void ChaosCluster::KillCollector(int signal) {
  if (!collector_) return;
  collector_->Kill(signal);
  if (signal == SIGKILL) collector_->Wait(std::chrono::seconds(30));
}

Status ChaosCluster::StopCollectorGracefully() {
  if (!collector_) return absl::OkStatus();
  collector_->Kill(SIGCONT);
  int status = collector_->Stop(std::chrono::seconds(60));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError("collector did not exit cleanly: " + collector_->DescribeExit());
  }
  return absl::OkStatus();
}

bool ChaosCluster::CollectorRunning() { return collector_ && collector_->Running(); }

bool ChaosCluster::CollectorHealthy() {
  if (!CollectorRunning()) return false;
  auto r = testutil::HttpGet("127.0.0.1", http_port_, "/healthz", std::chrono::milliseconds(2000));
  return r.ok() && r->status == 200;
}

std::string ChaosCluster::CollectorMetrics() {
  auto r = testutil::HttpGet("127.0.0.1", http_port_, "/metrics", std::chrono::milliseconds(5000));
  return r.ok() && r->status == 200 ? r->body : std::string();
}

Status ChaosCluster::StartAgent(size_t i, int64_t clock_skew_seconds) {
  Status s = StartAgentOnce(i, clock_skew_seconds);
  const std::string text = s.ToString();
  if (s.ok() || text.find("DATA_LOSS") == std::string::npos ||
      (text.find("Corruption") == std::string::npos && text.find("cannot open spool") == std::string::npos)) {
    return s;
  }
  // The agent refused to run on a damaged spool, as it must. The operator moves the spool aside
  // and starts the agent fresh; its sources deliver again and the collector deduplicates.
  const std::string aside = spool_dir(i) + ".corrupt-" + std::to_string(++spools_replaced_[i]);
  if (std::rename(spool_dir(i).c_str(), aside.c_str()) != 0) {
    return absl::InternalError("cannot move the damaged spool aside: " + text);
  }
  return StartAgentOnce(i, clock_skew_seconds);
}

Status ChaosCluster::StartAgentOnce(size_t i, int64_t clock_skew_seconds) {
  auto& proc = agent_procs_[i];
  if (proc && proc->Running()) return absl::FailedPreconditionError("agent already running");
  proc.reset();
  const AgentSpec& spec = specs_[i];
  ++agent_starts_[i];
  skews_[i] = clock_skew_seconds;
  testutil::SubprocessOptions sub;
  sub.binary = binary_dir_ + "/agent/orgtrail-agent";
  sub.log_dir = dir_ + "/logs";
  sub.name = "agent-" + spec.name + "-" + std::to_string(agent_starts_[i]);
  sub.args = {"--collector=127.0.0.1:" + std::to_string(proxies_[i]->port()),
              "--ca=" + agent_tls_[i].ca_cert_path, "--cert=" + agent_tls_[i].cert_path,
              "--key=" + agent_tls_[i].key_path, "--trust-domain=" + std::string(kTrustDomain),
              "--spool-dir=" + spool_dir(i), "--spool-max-bytes=32MiB",
              "--ops-listen=127.0.0.1:" + std::to_string(ops_ports_[i]), "--batch-max-age=100ms",
              "--batch-max-events=200", "--test-power-loss-journal=" + JournalPath(spec.name)};
  if (spec.file_source) sub.args.push_back("--watch-dir=" + inbox(i));
  if (spec.put_events) sub.args.push_back("--api-listen=127.0.0.1:" + std::to_string(api_ports_[i]));
  if (spec.generator_seed != 0) {
    sub.args.push_back("--generator-seed=" + std::to_string(spec.generator_seed));
    sub.args.push_back("--generator-limit=" + std::to_string(spec.generator_limit));
    sub.args.push_back("--generator-rate=" + std::to_string(spec.generator_rate));
  }
  sub.env = ShimEnv(spec.name, spool_dir(i), clock_skew_seconds);
  auto process = testutil::Subprocess::Start(sub);
  if (!process.ok()) return process.status();
  proc = std::move(*process);
  // Up once it logged "agent starting" (every listener, ops last, accepts connections) or
  // it exited: the caller sees !AgentRunning. The ports it listens on are read back.
  testutil::WaitFor(
      [&] {
        return !proc->Running() ||
               testutil::PortFromLog(proc->ReadStderr(), "agent starting", "ops_port").has_value();
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50));
  if (!proc->Running()) {
    return absl::UnavailableError("agent " + spec.name + " exited at start (" + proc->DescribeExit() +
                                  "): " + proc->ReadStderr().substr(0, 2000));
  }
  const std::string log = proc->ReadStderr();
  ops_ports_[i] = testutil::PortFromLog(log, "agent starting", "ops_port").value_or(0);
  if (spec.put_events) {
    api_ports_[i] = testutil::PortFromLog(log, "local PutEvents API listening", "tcp_port").value_or(0);
  }
  return absl::OkStatus();
}

void ChaosCluster::KillAgent(size_t i, int signal) {
  auto& proc = agent_procs_[i];
  if (!proc) return;
  proc->Kill(signal);
  if (signal == SIGKILL) proc->Wait(std::chrono::seconds(30));
}

bool ChaosCluster::AgentRunning(size_t i) { return agent_procs_[i] && agent_procs_[i]->Running(); }

AgentHealth ChaosCluster::Health(size_t i) {
  AgentHealth h;
  if (!AgentRunning(i)) return h;
  auto r = testutil::HttpGet("127.0.0.1", ops_ports_[i], "/healthz", std::chrono::milliseconds(2000));
  if (!r.ok() || r->status != 200) return h;
  h.up = true;
  h.connected = r->body.find("\"connected\":true") != std::string::npos;
  h.acked_sequence = JsonNumber(r->body, "acked_sequence");
  h.pending_events = JsonNumber(r->body, "pending_events");
  h.sealed_batches = JsonNumber(r->body, "sealed_batches");
  return h;
}

std::string ChaosCluster::AgentMetrics(size_t i) {
  auto r = testutil::HttpGet("127.0.0.1", ops_ports_[i], "/metrics", std::chrono::milliseconds(5000));
  return r.ok() && r->status == 200 ? r->body : std::string();
}

Status ChaosCluster::EnsureAllRunning() {
  if (!CollectorRunning()) ORGTRAIL_RETURN_IF_ERROR(StartCollector());
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (!AgentRunning(i)) ORGTRAIL_RETURN_IF_ERROR(StartAgent(i, 0));  // a restart heals a skewed clock
  }
  return absl::OkStatus();
}

Status ChaosCluster::StopAgentsGracefully() {
  std::string failures;
  for (size_t i = 0; i < specs_.size(); ++i) {
    auto& proc = agent_procs_[i];
    if (!proc || !proc->Running()) continue;
    proc->Kill(SIGCONT);
    const int status = proc->Stop(std::chrono::seconds(30));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      failures += " " + specs_[i].name + " (" + proc->DescribeExit() + ")";
    }
  }
  if (failures.empty()) return absl::OkStatus();
  return absl::InternalError("agents did not stop cleanly:" + failures);
}

void ChaosCluster::StopAll() {
  for (auto& proxy : proxies_) {
    if (proxy) proxy->Stop();
  }
  for (auto& proc : agent_procs_) {
    if (proc) {
      proc->Kill(SIGCONT);
      proc->Stop(std::chrono::seconds(5));
    }
  }
  if (collector_) {
    collector_->Kill(SIGCONT);
    collector_->Stop(std::chrono::seconds(10));
  }
}

}  // namespace orgtrail::chaos
