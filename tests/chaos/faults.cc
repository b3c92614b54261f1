// Harness: injecting one fault and proving it took effect (see harness.h and README.md).
//
// Each kind has an observable effect; an attempt without it (a disk fault that hit no write, a
// network fault while no connection was open, a power cut with nothing unsynced, a fail-stop that
// did not happen, an inconclusive rogue run) is repeated, up to ChaosOptions::max_attempts, and
// a fault that never took effect fails the run.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>

#include "chaos_log.h"
#include "harness.h"
#include "testutil/wait_for.h"

namespace orgtrail::chaos {

const std::vector<std::string>& AllKinds() {
  static const std::vector<std::string> kinds = {
      "collector_kill9",     "collector_stop_cont", "agent_kill9",        "agent_stop_cont",
      "proxy_drop",          "proxy_delay",         "proxy_bandwidth",    "proxy_reset",
      "proxy_partition",     "proxy_half_open",     "collector_fsync_fail", "collector_disk_full",
      "collector_write_eio", "agent_fsync_eio",     "agent_disk_full",    "agent_write_eio",
      "agent_clock_skew",    "agent_spool_corrupt", "collector_power_loss", "agent_power_loss",
      "rogue_wrong_account", "rogue_impersonate",   "rogue_replay_foreign", "rogue_forged_signature",
      "rogue_replay_own",    "rogue_flood_tiny",    "rogue_flood_oversized", "rogue_poison",
      "rogue_shared_identity"};
  return kinds;
}

void Harness::NoteStatus(const std::string& kind, const Status& s, FaultRecord* r) {
  if (s.ok()) return;
  r->detail += " [" + s.ToString().substr(0, 300) + "]";
  notes_.push_back(kind + ": " + s.ToString().substr(0, 600));
}

FaultRecord Harness::Inject(const std::string& kind) {
  FaultRecord r;
  r.kind = kind;
  r.at_s = Seconds(Clock::now() - start_);
  Injection inj;
  for (r.attempts = 1;; ++r.attempts) {
    inj = Injection{AllAgents(), {}};
    r.detail.clear();
    const auto t0 = Clock::now();
    r.took_effect = InjectOnce(kind, &r, &inj);
    r.duration_s = Seconds(Clock::now() - t0);
    if (r.took_effect || r.attempts >= o_.max_attempts) break;
    Log("fault without effect; repeating", "\"kind\":\"" + kind + "\",\"attempt\":" + std::to_string(r.attempts) +
                                               ",\"detail\":\"" + JsonEscape(r.detail.substr(0, 300)) + "\"");
    // Let the cluster settle (as after any fault) before the next try.
    WaitRecovered(inj.affected, inj.before.empty() ? Snapshot() : inj.before);
    Sleep(RandMs(o_.min_gap_ms, o_.max_gap_ms));
  }
  if (!r.took_effect) notes_.push_back("NO EFFECT " + kind + " after " + std::to_string(r.attempts) + " tries");
  if (inj.before.empty()) inj.before = Snapshot();
  r.recovery_s = WaitRecovered(inj.affected, inj.before);
  if (r.recovery_s < 0) {
    // Not recovered within the bound: the supervisor restarts what is dead,
    // and (a liveness probe) what is alive but stuck.
    NoteStatus(kind, cluster_->EnsureAllRunning(), &r);
    notes_.push_back(kind + " (" + r.target + "): not recovered within " + std::to_string(o_.recovery_bound_s) + " s");
    const bool stuck = RestartStuck(inj.affected, inj.before, kind);
    r.liveness_restart = r.liveness_restart || stuck;
    r.restarted = stuck || r.restarted;
  }
  return r;
}

bool Harness::InjectOnce(const std::string& kind, FaultRecord* r, Injection* inj) {
  if (kind == "collector_kill9" || kind == "collector_stop_cont") return InjectCollectorProcessFault(kind, r);
  if (kind.rfind("proxy_", 0) == 0) return InjectProxyFault(kind, r, inj);
  if (kind == "collector_fsync_fail" || kind == "collector_disk_full" || kind == "collector_write_eio") {
    return InjectCollectorDiskFault(kind, r);
  }
  if (kind == "agent_fsync_eio" || kind == "agent_disk_full" || kind == "agent_write_eio") {
    return InjectAgentDiskFault(kind, r, inj);
  }
  if (kind.find("power_loss") != std::string::npos) return InjectPowerLoss(kind, r, inj);
  if (kind.rfind("rogue_", 0) == 0) return InjectRogue(kind, r, inj);
  return InjectAgentProcessFault(kind, r, inj);
}

bool Harness::InjectCollectorProcessFault(const std::string& kind, FaultRecord* r) {
  r->target = "collector";
  const bool was_running = cluster_->CollectorRunning();
  if (kind == "collector_kill9") {
    NoteStatus(kind, RestartCollector(), r);
  } else {
    cluster_->KillCollector(SIGSTOP);
    Sleep(RandMs(o_.min_fault_ms, o_.max_fault_ms));
    cluster_->KillCollector(SIGCONT);
  }
  if (!was_running) r->detail += "collector was not running";
  return was_running;
}

bool Harness::InjectAgentProcessFault(const std::string& kind, FaultRecord* r, Injection* inj) {
  size_t i = PickAgent();
  if (kind == "agent_spool_corrupt") {
    // Only agents whose sources can deliver again (files, generator): what a
    // destroyed spool held of a PutEvents agent is gone by design (README).
    std::vector<size_t> redeliverable;
    for (size_t k = 0; k < cluster_->agents().size(); ++k) {
      if (!cluster_->agents()[k].put_events) redeliverable.push_back(k);
    }
    i = redeliverable[rng_() % redeliverable.size()];
  }
  r->target = cluster_->agents()[i].name;
  inj->affected = {i};
  const bool was_running = cluster_->AgentRunning(i);
  bool effect = was_running;
  if (kind == "agent_kill9") {
    NoteStatus(kind, RestartAgent(i, 0), r);
  } else if (kind == "agent_stop_cont") {
    cluster_->KillAgent(i, SIGSTOP);
    Sleep(RandMs(o_.min_fault_ms, o_.max_fault_ms));
    cluster_->KillAgent(i, SIGCONT);
  } else if (kind == "agent_clock_skew") {
    int64_t skew = static_cast<int64_t>(300 + rng_() % 7000) * ((rng_() % 2) ? 1 : -1);
    r->detail = "wall clock skewed by " + std::to_string(skew) + " s until the agent's next restart";
    Status s = RestartAgent(i, skew);
    if (!s.ok() && s.ToString().find("not yet valid") != std::string::npos) {
      // Defined: an agent whose clock is before its certificate's notBefore
      // refuses to start ("certificate is not yet valid"). The operator fixes
      // the clock (NTP) and starts it again.
      r->detail += "; agent refused to start (certificate not yet valid at its clock); clock fixed, restarted";
      s = cluster_->StartAgent(i, 0);
    }
    NoteStatus(kind, s, r);
  } else {
    cluster_->KillAgent(i, SIGKILL);
    bool corrupted = false;
    r->detail = CorruptSpool(i, &corrupted);
    effect = corrupted;
    // Defined behaviour: the agent refuses to run on a corrupted spool (DATA_LOSS, exit 1) when
    // RocksDB notices, at open or later at a write; the supervisor then follows the operator's
    // procedure (ChaosCluster::StartAgent): the spool moved aside, a fresh one.
    const int replaced = cluster_->spools_replaced(i);
    Status s = cluster_->StartAgent(i, 0);
    if (cluster_->spools_replaced(i) > replaced) {
      r->detail += "; agent refused to start (DATA_LOSS); operator moved the spool aside, fresh spool";
      r->restarted = true;
    } else if (s.ok()) {
      r->detail += "; agent started on it (damage not read yet: a later refusal gets the same procedure)";
    }
    NoteStatus(kind, s, r);
  }
  if (!was_running) r->detail += "; agent was not running";
  return effect;
}

bool Harness::InjectProxyFault(const std::string& kind, FaultRecord* r, Injection* inj) {
  const bool all = kind == "proxy_partition" ? (rng_() % 2 == 0) : false;
  std::vector<size_t> targets = all ? AllAgents() : std::vector<size_t>{PickAgent()};
  inj->affected = targets;
  r->target = all ? "all agents" : cluster_->agents()[targets[0]].name;
  ProxyMode mode = ProxyMode::kPass;
  int64_t param = 0;
  if (kind == "proxy_drop") mode = ProxyMode::kDrop;
  if (kind == "proxy_delay") {
    mode = ProxyMode::kDelay;
    param = RandMs(100, 800);
    r->detail = std::to_string(param) + " ms";
  }
  if (kind == "proxy_bandwidth") {
    mode = ProxyMode::kBandwidth;
    param = RandMs(2000, 20000);
    r->detail = std::to_string(param) + " B/s";
  }
  if (kind == "proxy_reset") mode = ProxyMode::kReset;
  if (kind == "proxy_partition") mode = ProxyMode::kPartition;
  if (kind == "proxy_half_open") mode = ProxyMode::kHalfOpen;
  uint64_t applied_before = 0;
  for (size_t i : targets) applied_before += cluster_->proxy(i)->faults_applied();
  for (size_t i : targets) cluster_->proxy(i)->SetMode(mode, param);
  Sleep(mode == ProxyMode::kReset ? 100 : RandMs(o_.min_fault_ms, o_.max_fault_ms));
  for (size_t i : targets) cluster_->proxy(i)->SetMode(ProxyMode::kPass);
  uint64_t applied = 0;
  for (size_t i : targets) applied += cluster_->proxy(i)->faults_applied();
  applied -= applied_before;
  r->detail += (r->detail.empty() ? "" : "; ") + std::to_string(applied) + " chunks/connections affected";
  return applied > 0;
}

bool Harness::InjectCollectorDiskFault(const std::string& kind, FaultRecord* r) {
  r->target = "collector";
  if (kind == "collector_fsync_fail") {
    const int after = RandMs(3, 40);
    r->detail = "--test-fail-sync-after=" + std::to_string(after);
    NoteStatus(kind, RestartCollector({"--test-fail-sync-after=" + std::to_string(after)}), r);
    const bool failed = testutil::WaitFor([&] { return !cluster_->CollectorHealthy(); }, std::chrono::seconds(8),
                                          std::chrono::milliseconds(100));
    r->detail += failed ? "; fail-stop observed" : "; no fail-stop within 8 s (too few syncs)";
    NoteStatus(kind, RestartCollector(), r);
    r->restarted = true;
    return failed;
  }
  const std::string mode = kind == "collector_disk_full" ? "write_enospc" : "write_eio";
  cluster_->ResetShimFired("collector");
  NoteStatus(kind, cluster_->ArmShim("collector", mode), r);
  Sleep(RandMs(o_.min_fault_ms, o_.max_fault_ms));
  NoteStatus(kind, cluster_->ArmShim("collector", "none"), r);
  const int64_t fired = cluster_->ShimFired("collector");
  // A failed durable write puts the collector into fail-stop by design: the
  // supervisor restarts it. Otherwise it must carry on by itself.
  if (!testutil::WaitFor([&] { return cluster_->CollectorHealthy(); }, std::chrono::seconds(2))) {
    r->detail = "fail-stop; supervisor restart";
    NoteStatus(kind, RestartCollector(), r);
    r->restarted = true;
  } else {
    r->detail = "no fail-stop";
  }
  r->detail += "; " + std::to_string(fired) + " writes/syncs failed";
  return fired > 0;
}

bool Harness::InjectAgentDiskFault(const std::string& kind, FaultRecord* r, Injection* inj) {
  const size_t i = PickAgent();
  const std::string name = cluster_->agents()[i].name;
  r->target = name;
  inj->affected = {i};
  const std::string mode =
      kind == "agent_fsync_eio" ? "fsync_eio" : kind == "agent_disk_full" ? "write_enospc" : "write_eio";
  cluster_->ResetShimFired(name);
  NoteStatus(kind, cluster_->ArmShim(name, mode), r);
  Sleep(RandMs(o_.min_fault_ms, o_.max_fault_ms));
  NoteStatus(kind, cluster_->ArmShim(name, "none"), r);
  const int64_t fired = cluster_->ShimFired(name);
  inj->before = Snapshot();
  // The agent must resume by itself, or exit so its supervisor restarts it.
  const bool resumed = testutil::WaitFor(
      [&] {
        AgentHealth h = cluster_->Health(i);
        return !cluster_->AgentRunning(i) ||
               (h.up && h.connected && (h.sealed_batches == 0 || h.acked_sequence > inj->before[i].acked_sequence) &&
                h.pending_events < 50);
      },
      std::chrono::seconds(8), std::chrono::milliseconds(100));
  if (!cluster_->AgentRunning(i)) {
    r->detail = "agent exited (fail-stop); supervisor restart";
    NoteStatus(kind, cluster_->StartAgent(i, 0), r);
    r->restarted = true;
  } else if (!resumed) {
    r->detail = "agent still running but not making progress 8 s after the disk recovered; supervisor restart";
    notes_.push_back(kind + " on " + r->target + ": " + r->detail);
    NoteStatus(kind, RestartAgent(i, 0), r);
    r->restarted = true;
    r->liveness_restart = true;
  } else {
    r->detail = "agent resumed by itself";
  }
  r->detail += "; " + std::to_string(fired) + " writes/syncs failed";
  return fired > 0;
}

// A power cut: the process is stopped at moments until a cut would drop unsynced bytes of its
// database (its WAL, tables or manifest; RocksDB's info LOG does not count), then SIGKILLed,
// everything it did not sync is dropped (faultenv::ApplyPowerLoss), and it is started again.
// Nothing it acknowledged may be missing afterwards: the end-of-run checks decide.
bool Harness::InjectPowerLoss(const std::string& kind, FaultRecord* r, Injection* inj) {
  const bool collector = kind == "collector_power_loss";
  const size_t i = collector ? 0 : PickAgent();
  const std::string process = collector ? "collector" : cluster_->agent_process(i);
  r->target = process;
  if (!collector) inj->affected = {i};
  auto send = [&](int sig) { collector ? cluster_->KillCollector(sig) : cluster_->KillAgent(i, sig); };
  int probes = 0;
  for (; probes < 200; ++probes) {
    send(SIGSTOP);
    auto preview = cluster_->PreviewPowerCut(process);
    if (preview.ok() && preview->data_bytes_dropped > 0) break;
    send(SIGCONT);
    Sleep(RandMs(2, 40));
  }
  send(SIGKILL);
  auto outcome = cluster_->PowerCut(process);
  if (!outcome.ok()) {
    NoteStatus(kind, outcome.status(), r);
  } else {
    r->detail = "after " + std::to_string(probes + 1) + " probes: " + outcome->ToString();
  }
  NoteStatus(kind, collector ? cluster_->StartCollector() : cluster_->StartAgent(i, 0), r);
  return outcome.ok() && outcome->data_bytes_dropped > 0;
}

bool Harness::InjectRogue(const std::string& kind, FaultRecord* r, Injection* inj) {
  r->target = "collector";
  inj->affected.clear();  // rogue clients talk to the collector only: its health is the recovery
  rogue_.target = cluster_->collector_target();
  RogueOutcome out = RunRogue(kind.substr(6), rogue_, &ledger_, &rogue_counter_);
  r->detail = "sent " + std::to_string(out.sent) + ", refused " + std::to_string(out.refused) +
              (out.legit_acked ? ", valid acked " + std::to_string(out.legit_acked) : "") +
              (out.inconclusive ? ", INCONCLUSIVE" : "") + "; " + out.detail;
  r->violation = r->violation || !out.all_refused;
  if (!out.all_refused) notes_.push_back("VIOLATION " + kind + ": " + out.detail);
  return !out.inconclusive;
}

std::string Harness::CorruptSpool(size_t i, bool* corrupted) {
  *corrupted = false;
  // Flip bytes in the middle of the newest WAL or table file of the spool.
  const std::string dir = cluster_->spool_dir(i);
  std::vector<std::string> candidates;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      auto ends = [&](const char* s) {
        return name.size() > std::strlen(s) && name.compare(name.size() - std::strlen(s), std::strlen(s), s) == 0;
      };
      if (ends(".log") || ends(".sst")) candidates.push_back(name);
    }
    ::closedir(d);
  }
  if (candidates.empty()) return "no spool file to corrupt";
  std::sort(candidates.begin(), candidates.end());
  const std::string name = candidates[rng_() % candidates.size()];
  const std::string path = dir + "/" + name;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_size < 64) return "spool file " + name + " too small to corrupt";
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  std::string offsets;
  for (int k = 0; k < 4; ++k) {
    const std::streamoff off = static_cast<std::streamoff>(16 + rng_() % static_cast<uint64_t>(st.st_size - 32));
    f.seekg(off);
    char c = 0;
    f.get(c);
    f.seekp(off);
    f.put(static_cast<char>(c ^ 0x5a));
    offsets += std::to_string(off) + " ";
  }
  *corrupted = static_cast<bool>(f);
  return name + " (" + std::to_string(st.st_size) + " bytes) at offsets " + offsets;
}

}  // namespace orgtrail::chaos
