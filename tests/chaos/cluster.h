// ChaosCluster: the real orgtrail organization a chaos run breaks: its own
// PKI (TestPki), one orgtrail-collector, N orgtrail-agent processes, each
// agent behind its own FaultProxy, every process started with the fault
// shim preloaded (inactive until armed through its control file). The
// cluster restarts processes on request (the harness plays the supervisor)
// and reads their /healthz and /metrics.
//
// Layout under dir: pki/, collector/ (data), export/, agents/<name>/spool,
// inbox/<name>/, logs/, ctl/<process>.ctl (shim control files; the shim
// writes ctl/<process>.ctl.fired), powerloss/<process>.journal (every daemon
// runs with --test-power-loss-journal, so any kill -9 can become a power cut).
//
// Not thread-safe: the harness's main thread drives it (Subprocess children
// die with the thread that started them).
#ifndef ORGTRAIL_TESTS_CHAOS_CLUSTER_H_
#define ORGTRAIL_TESTS_CHAOS_CLUSTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fault_proxy.h"
#include "faultenv/power_loss_journal.h"
#include "orgtrail/common/status.h"
#include "orgtrail/common/tls.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"

namespace orgtrail::chaos {

struct AgentSpec {
  std::string name;
  std::string account;
  std::string region;
  bool file_source = false;
  bool put_events = false;
  uint64_t generator_seed = 0;   // 0 = no generator
  int64_t generator_limit = 0;
  double generator_rate = 0;
};

struct AgentHealth {
  bool up = false;
  bool connected = false;
  uint64_t acked_sequence = 0;
  uint64_t pending_events = 0;
  uint64_t sealed_batches = 0;
};

class ChaosCluster {
 public:
  ChaosCluster(std::string dir, std::string binary_dir, std::string shim_path, std::vector<AgentSpec> agents);
  ~ChaosCluster();

  Status Init();  // PKI, folders, proxies
  const std::string& dir() const { return dir_; }
  testutil::TestPki& pki() { return *pki_; }
  const std::vector<AgentSpec>& agents() const { return specs_; }
  const TlsFiles& agent_tls(size_t i) const { return agent_tls_[i]; }
  std::string agent_id(size_t i) const;
  std::string inbox(size_t i) const { return dir_ + "/inbox/" + specs_[i].name; }
  std::string spool_dir(size_t i) const { return dir_ + "/agents/" + specs_[i].name + "/spool"; }
  int api_port(size_t i) const { return api_ports_[i]; }
  FaultProxy* proxy(size_t i) { return proxies_[i].get(); }
  std::string export_root() const { return dir_ + "/export"; }
  std::string collector_data() const { return dir_ + "/collector"; }
  const std::string& binary_dir() const { return binary_dir_; }

  // ---- collector
  Status StartCollector(const std::vector<std::string>& extra_args = {});
  void KillCollector(int signal);  // SIGKILL reaps it; SIGSTOP/SIGCONT pause it
  Status StopCollectorGracefully();
  bool CollectorRunning();
  bool CollectorHealthy();
  std::string collector_target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  int collector_http_port() const { return http_port_; }
  std::string CollectorMetrics();

  // ---- agents
  // Starts agent i. An agent that refuses to start because its spool is damaged (DATA_LOSS: RocksDB
  // found corruption at open or at its first write) gets the operator's procedure (README,
  // "Corrupted spool"): the spool is moved aside and the agent started on a fresh one, counted in
  // spools_replaced(i).
  Status StartAgent(size_t i, int64_t clock_skew_seconds = 0);
  int spools_replaced(size_t i) const { return spools_replaced_[i]; }
  void KillAgent(size_t i, int signal);
  bool AgentRunning(size_t i);
  AgentHealth Health(size_t i);
  std::string AgentMetrics(size_t i);
  int64_t agent_skew(size_t i) const { return skews_[i]; }

  // ---- shim (write/fsync faults): "none" | "fsync_eio" | "write_eio" | "write_enospc"
  Status ArmShim(const std::string& process, const std::string& mode);  // "collector" or an agent name
  // Failures the shim injected into `process` since its last start or ResetShimFired.
  int64_t ShimFired(const std::string& process) const;
  void ResetShimFired(const std::string& process) const;

  // ---- power loss: after a SIGKILL of `process` and before its restart, drops every byte it
  // wrote and did not sync (faultenv::ApplyPowerLoss over its journal).
  StatusOr<faultenv::PowerLossOutcome> PowerCut(const std::string& process);
  // What a power cut of `process` would drop now (nothing changes).
  StatusOr<faultenv::PowerLossOutcome> PreviewPowerCut(const std::string& process) const {
    return faultenv::PreviewPowerLoss(JournalPath(process));
  }
  std::string agent_process(size_t i) const { return specs_[i].name; }

  // Restarts every process that is not running (the supervisor's job).
  Status EnsureAllRunning();
  // SIGTERM to every agent; an error names each one that did not exit with status 0 in time.
  Status StopAgentsGracefully();
  void StopAll();
  int collector_starts() const { return collector_starts_; }

 private:
  std::map<std::string, std::string> ShimEnv(const std::string& process, const std::string& prefix,
                                             int64_t skew) const;
  std::string JournalPath(const std::string& process) const { return dir_ + "/powerloss/" + process + ".journal"; }

  std::string dir_;
  std::string binary_dir_;
  std::string shim_path_;
  std::vector<AgentSpec> specs_;
  std::unique_ptr<testutil::TestPki> pki_;
  TlsFiles collector_tls_;
  std::vector<TlsFiles> agent_tls_;
  std::vector<std::unique_ptr<FaultProxy>> proxies_;
  std::vector<int> ops_ports_;
  std::vector<int> api_ports_;
  std::vector<int64_t> skews_;
  std::unique_ptr<testutil::Subprocess> collector_;
  std::vector<std::unique_ptr<testutil::Subprocess>> agent_procs_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  int collector_starts_ = 0;
  std::vector<int> agent_starts_;
  std::vector<int> spools_replaced_;
  Status StartAgentOnce(size_t i, int64_t clock_skew_seconds);
};

// The value of one Prometheus sample line "name{labels} value" (or "name value").
std::optional<double> MetricSample(const std::string& body, const std::string& sample);

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_CLUSTER_H_
