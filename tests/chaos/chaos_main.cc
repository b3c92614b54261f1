// orgtrail-chaos: breaks a real orgtrail organization on purpose and checks,
// in numbers, that nothing was lost, duplicated or forged.
//
// It starts its own PKI, a collector and five agents (file sources,
// PutEvents API, generator) on 127.0.0.1, each agent behind a fault-injecting
// TCP proxy, feeds them events while it injects faults from a seeded
// schedule (every kind at least once), then waits for quiescence and checks
// the collector's store against the ledger of every event a source accepted.
// README.md (this folder) explains each fault and what "survived" means.
//
// Exit status: 0 all invariants held, 1 a violation was found, 2 usage or
// setup error.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "cluster.h"
#include "ledger.h"
#include "orgtrail/agent/intake.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/time_util.h"
#include "rogue.h"
#include "store_reader.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"
#include "workload.h"

namespace po = boost::program_options;
using namespace orgtrail;         // NOLINT
using namespace orgtrail::chaos;  // NOLINT

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// One line of JSON progress on stderr (the harness's own log).
void Log(const std::string& msg, const std::string& fields = "") {
  std::cerr << "{\"ts\":\"" << FormatRfc3339Seconds(NowMicros()) << "\",\"component\":\"chaos\",\"msg\":\""
            << JsonEscape(msg) << "\"" << (fields.empty() ? "" : "," + fields) << "}" << std::endl;
}

const std::vector<std::string>& AllKinds() {
  static const std::vector<std::string> kinds = {
      "collector_kill9",     "collector_stop_cont", "agent_kill9",        "agent_stop_cont",
      "proxy_drop",          "proxy_delay",         "proxy_bandwidth",    "proxy_reset",
      "proxy_partition",     "proxy_half_open",     "collector_fsync_fail", "collector_disk_full",
      "collector_write_eio", "agent_fsync_eio",     "agent_disk_full",    "agent_write_eio",
      "agent_clock_skew",    "agent_spool_corrupt", "rogue_wrong_account", "rogue_impersonate",
      "rogue_replay_foreign", "rogue_forged_signature", "rogue_replay_own", "rogue_flood_tiny",
      "rogue_flood_oversized", "rogue_poison", "rogue_shared_identity"};
  return kinds;
}

struct FaultRecord {
  int index = 0;
  std::string kind;
  std::string target;
  std::string detail;
  double at_s = 0;          // since the run started
  double duration_s = 0;    // how long the fault was in force
  double recovery_s = -1;   // fault end -> cluster healthy again (-1: not within the bound)
  bool restarted = false;   // the supervisor (harness) had to restart a process
  bool liveness_restart = false;  // ... one that was alive but stuck (a failure, not a design)
  bool violation = false;   // a rogue message was accepted
};

struct Options {
  uint64_t seed = 1;
  int faults = 30;
  bool quick = false;
  bool soak = false;
  std::string out;
  bool keep_dir = false;
  std::string binary_dir = ORGTRAIL_BINARY_DIR;
  std::string shim = ORGTRAIL_CHAOS_SHIM_PATH;
  int generator_limit = 1500;
  double recovery_bound_s = 45;
  int min_gap_ms = 200;
  int max_gap_ms = 1200;
  int min_fault_ms = 600;
  int max_fault_ms = 2000;
};

// The IDs the generator of an agent produces and its intake accepts, exactly
// as GeneratorSource does (same options, same intake checks).
std::set<std::string> GeneratorIds(const AgentSpec& spec) {
  GeneratorOptions g;
  g.seed = spec.generator_seed;
  g.account_id = spec.account;
  g.region = spec.region;
  g.use_wall_clock = true;
  EventGenerator generator(g);
  MetricsRegistry metrics;
  agent::IntakeOptions io;
  io.account_id = spec.account;
  io.region = spec.region;
  agent::EventIntake intake(io, &metrics);
  EventExtractor extractor;
  std::set<std::string> ids;
  for (int64_t i = 0; i < spec.generator_limit; ++i) {
    auto event = intake.Prepare(generator.NextJson(), &extractor);
    if (event.ok() && intake.Selected(*event)) ids.insert(event->event_id());
  }
  return ids;
}

class Harness {
 public:
  Harness(Options options, std::string dir) : o_(std::move(options)), dir_(std::move(dir)), rng_(o_.seed) {}

  int Run();

 private:
  std::vector<AgentSpec> Specs() const;
  std::vector<std::string> Schedule();
  FaultRecord Inject(const std::string& kind);
  double WaitRecovered(const std::vector<size_t>& agents, const std::vector<AgentHealth>& before);
  size_t PickAgent() { return rng_() % cluster_->agents().size(); }
  int RandMs(int lo, int hi) { return lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1)); }
  void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
  std::vector<size_t> AllAgents() const {
    std::vector<size_t> v;
    for (size_t i = 0; i < cluster_->agents().size(); ++i) v.push_back(i);
    return v;
  }
  std::vector<AgentHealth> Snapshot() {
    std::vector<AgentHealth> v;
    for (size_t i = 0; i < cluster_->agents().size(); ++i) v.push_back(cluster_->Health(i));
    return v;
  }
  Status RestartCollector(const std::vector<std::string>& extra = {}) {
    cluster_->KillCollector(SIGKILL);
    return cluster_->StartCollector(extra);
  }
  Status RestartAgent(size_t i, int64_t skew) {
    cluster_->KillAgent(i, SIGKILL);
    return cluster_->StartAgent(i, skew);
  }
  std::string CorruptSpool(size_t i);
  bool Quiesce(double timeout_s, std::string* why);
  // Agents that are up but whose acked sequence did not move past `before`
  // while they hold sealed batches are restarted (kill -9), counted and noted.
  bool RestartStuck(const std::vector<size_t>& agents, const std::vector<AgentHealth>& before,
                    const std::string& context);
  int stuck_restarts_ = 0;

  Options o_;
  std::string dir_;
  std::mt19937_64 rng_;
  std::unique_ptr<ChaosCluster> cluster_;
  Ledger ledger_;
  RogueContext rogue_;
  uint64_t rogue_counter_ = 0;
  Clock::time_point start_;
  std::vector<std::string> notes_;
};

std::vector<AgentSpec> Harness::Specs() const {
  std::vector<AgentSpec> specs(5);
  specs[0] = {"a-use1", "111111111111", "us-east-1", true, false, 0, 0, 0};
  specs[1] = {"a-euw1", "111111111111", "eu-west-1", true, false, 0, 0, 0};
  specs[2] = {"b-use1", "222222222222", "us-east-1", true, true, 0, 0, 0};
  specs[3] = {"b-euw1", "222222222222", "eu-west-1", true, true, 0, 0, 0};
  specs[4] = {"c-use1", "333333333333", "us-east-1", false, false, o_.seed * 31 + 7, o_.generator_limit, 150};
  return specs;
}

std::vector<std::string> Harness::Schedule() {
  std::vector<std::string> kinds = AllKinds();
  std::shuffle(kinds.begin(), kinds.end(), rng_);
  while (static_cast<int>(kinds.size()) < o_.faults) kinds.push_back(AllKinds()[rng_() % AllKinds().size()]);
  // Every kind at least once: the first |kinds| are a permutation; the rest random.
  return kinds;
}

double Harness::WaitRecovered(const std::vector<size_t>& agents, const std::vector<AgentHealth>& before) {
  const auto t0 = Clock::now();
  bool ok = testutil::WaitFor(
      [&] {
        if (!cluster_->CollectorHealthy()) return false;
        for (size_t i : agents) {
          AgentHealth h = cluster_->Health(i);
          if (!h.up || !h.connected) return false;
          if (h.sealed_batches > 0 && h.acked_sequence <= before[i].acked_sequence) return false;
        }
        return true;
      },
      std::chrono::milliseconds(static_cast<int64_t>(o_.recovery_bound_s * 1000)), std::chrono::milliseconds(100));
  return ok ? Seconds(Clock::now() - t0) : -1;
}

std::string Harness::CorruptSpool(size_t i) {
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
  return name + " (" + std::to_string(st.st_size) + " bytes) at offsets " + offsets;
}

FaultRecord Harness::Inject(const std::string& kind) {
  FaultRecord r;
  r.kind = kind;
  r.at_s = Seconds(Clock::now() - start_);
  std::vector<size_t> affected = AllAgents();
  std::vector<AgentHealth> before;
  const int hold = RandMs(o_.min_fault_ms, o_.max_fault_ms);
  const auto t0 = Clock::now();
  auto done = [&] { r.duration_s = Seconds(Clock::now() - t0); };
  auto note_status = [&](const Status& s) {
    if (!s.ok()) {
      r.detail += " [" + s.ToString().substr(0, 300) + "]";
      notes_.push_back(kind + ": " + s.ToString().substr(0, 600));
    }
  };

  if (kind == "collector_kill9") {
    r.target = "collector";
    note_status(RestartCollector());
    done();
  } else if (kind == "collector_stop_cont") {
    r.target = "collector";
    cluster_->KillCollector(SIGSTOP);
    Sleep(hold);
    cluster_->KillCollector(SIGCONT);
    done();
  } else if (kind == "agent_kill9" || kind == "agent_stop_cont" || kind == "agent_clock_skew" ||
             kind == "agent_spool_corrupt") {
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
    r.target = cluster_->agents()[i].name;
    affected = {i};
    if (kind == "agent_kill9") {
      note_status(RestartAgent(i, 0));
    } else if (kind == "agent_stop_cont") {
      cluster_->KillAgent(i, SIGSTOP);
      Sleep(hold);
      cluster_->KillAgent(i, SIGCONT);
    } else if (kind == "agent_clock_skew") {
      int64_t skew = static_cast<int64_t>(300 + rng_() % 7000) * ((rng_() % 2) ? 1 : -1);
      r.detail = "wall clock skewed by " + std::to_string(skew) + " s until the agent's next restart";
      Status s = RestartAgent(i, skew);
      if (!s.ok() && s.ToString().find("not yet valid") != std::string::npos) {
        // Defined: an agent whose clock is before its certificate's notBefore
        // refuses to start ("certificate is not yet valid"). The operator fixes
        // the clock (NTP) and starts it again.
        r.detail += "; agent refused to start (certificate not yet valid at its clock); clock fixed, restarted";
        s = cluster_->StartAgent(i, 0);
      }
      note_status(s);
    } else {
      cluster_->KillAgent(i, SIGKILL);
      r.detail = CorruptSpool(i);
      Status s = cluster_->StartAgent(i, 0);
      if (!s.ok() && s.ToString().find("cannot open spool") != std::string::npos &&
          s.ToString().find("DATA_LOSS") != std::string::npos) {
        // Defined behaviour: the agent refuses to start on a corrupted spool
        // (DATA_LOSS, exit 1) rather than run on damaged state. The operator
        // moves the spool aside and starts it fresh; its sources deliver again
        // from their beginning and the collector deduplicates by eventID.
        r.detail += "; agent refused to start (DATA_LOSS); operator moved the spool aside, fresh spool";
        const std::string aside = cluster_->spool_dir(i) + ".corrupt-" + std::to_string(r.at_s);
        if (std::rename(cluster_->spool_dir(i).c_str(), aside.c_str()) != 0) {
          note_status(absl::InternalError("cannot move the spool aside"));
        }
        r.restarted = true;
        s = cluster_->StartAgent(i, 0);
      } else if (s.ok()) {
        r.detail += "; agent started on it";
      }
      note_status(s);
    }
    done();
  } else if (kind.rfind("proxy_", 0) == 0) {
    const bool all = kind == "proxy_partition" ? (rng_() % 2 == 0) : false;
    std::vector<size_t> targets = all ? AllAgents() : std::vector<size_t>{PickAgent()};
    affected = targets;
    r.target = all ? "all agents" : cluster_->agents()[targets[0]].name;
    ProxyMode mode = ProxyMode::kPass;
    int64_t param = 0;
    if (kind == "proxy_drop") mode = ProxyMode::kDrop;
    if (kind == "proxy_delay") { mode = ProxyMode::kDelay; param = RandMs(100, 800); r.detail = std::to_string(param) + " ms"; }
    if (kind == "proxy_bandwidth") { mode = ProxyMode::kBandwidth; param = RandMs(2000, 20000); r.detail = std::to_string(param) + " B/s"; }
    if (kind == "proxy_reset") mode = ProxyMode::kReset;
    if (kind == "proxy_partition") mode = ProxyMode::kPartition;
    if (kind == "proxy_half_open") mode = ProxyMode::kHalfOpen;
    for (size_t i : targets) cluster_->proxy(i)->SetMode(mode, param);
    Sleep(mode == ProxyMode::kReset ? 100 : hold);
    for (size_t i : targets) cluster_->proxy(i)->SetMode(ProxyMode::kPass);
    done();
  } else if (kind == "collector_fsync_fail") {
    r.target = "collector";
    const int after = RandMs(3, 40);
    r.detail = "--test-fail-sync-after=" + std::to_string(after);
    note_status(RestartCollector({"--test-fail-sync-after=" + std::to_string(after)}));
    bool failed = testutil::WaitFor([&] { return !cluster_->CollectorHealthy(); }, std::chrono::seconds(8),
                                    std::chrono::milliseconds(100));
    r.detail += failed ? "; fail-stop observed" : "; no fail-stop within 8 s (too few syncs)";
    note_status(RestartCollector());
    r.restarted = true;
    done();
  } else if (kind == "collector_disk_full" || kind == "collector_write_eio") {
    r.target = "collector";
    const std::string mode = kind == "collector_disk_full" ? "write_enospc" : "write_eio";
    note_status(cluster_->ArmShim("collector", mode));
    Sleep(hold);
    note_status(cluster_->ArmShim("collector", "none"));
    done();
    // A failed durable write puts the collector into fail-stop by design: the
    // supervisor restarts it. Otherwise it must carry on by itself.
    if (!testutil::WaitFor([&] { return cluster_->CollectorHealthy(); }, std::chrono::seconds(2))) {
      r.detail = "fail-stop; supervisor restart";
      note_status(RestartCollector());
      r.restarted = true;
    } else {
      r.detail = "no fail-stop (no write hit the disk while armed, or it recovered)";
    }
  } else if (kind == "agent_fsync_eio" || kind == "agent_disk_full" || kind == "agent_write_eio") {
    const size_t i = PickAgent();
    r.target = cluster_->agents()[i].name;
    affected = {i};
    const std::string mode =
        kind == "agent_fsync_eio" ? "fsync_eio" : kind == "agent_disk_full" ? "write_enospc" : "write_eio";
    note_status(cluster_->ArmShim(cluster_->agents()[i].name, mode));
    Sleep(hold);
    note_status(cluster_->ArmShim(cluster_->agents()[i].name, "none"));
    done();
    before = Snapshot();
    // The agent must resume by itself, or exit so its supervisor restarts it.
    bool resumed = testutil::WaitFor(
        [&] {
          AgentHealth h = cluster_->Health(i);
          return !cluster_->AgentRunning(i) ||
                 (h.up && h.connected && (h.sealed_batches == 0 || h.acked_sequence > before[i].acked_sequence) &&
                  h.pending_events < 50);
        },
        std::chrono::seconds(8), std::chrono::milliseconds(100));
    if (!cluster_->AgentRunning(i)) {
      r.detail = "agent exited (fail-stop); supervisor restart";
      note_status(cluster_->StartAgent(i, 0));
      r.restarted = true;
    } else if (!resumed) {
      r.detail = "agent still running but not making progress 8 s after the disk recovered; supervisor restart";
      notes_.push_back(kind + " on " + r.target + ": " + r.detail);
      note_status(RestartAgent(i, 0));
      r.restarted = true;
      r.liveness_restart = true;
    } else {
      r.detail = "agent resumed by itself";
    }
  } else if (kind.rfind("rogue_", 0) == 0) {
    r.target = "collector";
    affected.clear();  // rogue clients talk to the collector only: its health is the recovery
    rogue_.target = cluster_->collector_target();
    RogueOutcome out = RunRogue(kind.substr(6), rogue_, &ledger_, &rogue_counter_);
    r.detail = "sent " + std::to_string(out.sent) + ", refused " + std::to_string(out.refused) +
               (out.legit_acked ? ", valid acked " + std::to_string(out.legit_acked) : "") +
               (out.inconclusive ? ", INCONCLUSIVE" : "") + "; " + out.detail;
    r.violation = !out.all_refused;
    if (r.violation) notes_.push_back("VIOLATION " + kind + ": " + out.detail);
    done();
  }
  if (before.empty()) before = Snapshot();
  r.recovery_s = WaitRecovered(affected, before);
  if (r.recovery_s < 0) {
    // Not recovered within the bound: the supervisor restarts what is dead,
    // and (a liveness probe) what is alive but stuck.
    Status s = cluster_->EnsureAllRunning();
    note_status(s);
    notes_.push_back(kind + " (" + r.target + "): not recovered within " + std::to_string(o_.recovery_bound_s) + " s");
    const bool stuck = RestartStuck(affected, before, kind);
    r.liveness_restart = r.liveness_restart || stuck;
    r.restarted = stuck || r.restarted;
  }
  return r;
}

bool Harness::RestartStuck(const std::vector<size_t>& agents, const std::vector<AgentHealth>& before,
                           const std::string& context) {
  bool any = false;
  for (size_t i : agents) {
    AgentHealth h = cluster_->Health(i);
    if (!h.up || h.sealed_batches == 0 || h.acked_sequence > before[i].acked_sequence) continue;
    ++stuck_restarts_;
    notes_.push_back("LIVENESS after " + context + ": agent " + cluster_->agents()[i].name + " " +
                     (h.connected ? "says connected" : "not connected") + " with " +
                     std::to_string(h.sealed_batches) + " sealed batches and acked sequence stuck at " +
                     std::to_string(h.acked_sequence) + "; supervisor liveness restart (kill -9)");
    Status s = RestartAgent(i, 0);
    if (!s.ok()) notes_.push_back("liveness restart failed: " + s.ToString());
    any = true;
  }
  return any;
}

bool Harness::Quiesce(double timeout_s, std::string* why) {
  const size_t expected = ledger_.accepted().size();
  double last_stored = -1;
  auto stable_since = Clock::now();
  bool ok = testutil::WaitFor(
      [&] {
        for (size_t i = 0; i < cluster_->agents().size(); ++i) {
          AgentHealth h = cluster_->Health(i);
          if (!h.up || h.pending_events != 0 || h.sealed_batches != 0) {
            *why = "agent " + cluster_->agents()[i].name + " pending " + std::to_string(h.pending_events) +
                   " sealed " + std::to_string(h.sealed_batches) + (h.up ? "" : " (down)");
            return false;
          }
        }
        auto stored = MetricSample(cluster_->CollectorMetrics(), "orgtrail_collector_events_in_store");
        if (!stored) {
          *why = "collector metrics unavailable";
          return false;
        }
        if (*stored != last_stored) {
          last_stored = *stored;
          stable_since = Clock::now();
        }
        *why = "stored " + std::to_string(static_cast<uint64_t>(*stored)) + " of at least " + std::to_string(expected);
        // Stable for 3 s with every spool empty (files may still be being read
        // if the count is short of the ledger: then wait for 10 s of stability).
        const double stable = Seconds(Clock::now() - stable_since);
        return (*stored >= static_cast<double>(expected) && stable >= 3) || stable >= 10;
      },
      std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)), std::chrono::milliseconds(250));
  return ok;
}

int Harness::Run() {
  start_ = Clock::now();
  cluster_ = std::make_unique<ChaosCluster>(dir_, o_.binary_dir, o_.shim, Specs());
  if (Status s = cluster_->Init(); !s.ok()) {
    Log("setup failed", "\"error\":\"" + JsonEscape(s.ToString()) + "\"");
    return 2;
  }
  TlsFiles rogue_tls = cluster_->pki().Agent("999999999999", "us-east-1", "rogue");
  rogue_ = RogueContext{"", rogue_tls, testutil::AgentSpiffeId("example.org", "999999999999", "us-east-1", "rogue"),
                        "999999999999", "us-east-1", cluster_->agent_tls(2), cluster_->agent_id(2),
                        cluster_->agents()[2].account, cluster_->agents()[2].region, o_.seed};
  if (Status s = cluster_->StartCollector(); !s.ok()) {
    Log("collector did not start", "\"error\":\"" + JsonEscape(s.ToString()) + "\"");
    return 2;
  }
  for (size_t i = 0; i < cluster_->agents().size(); ++i) {
    if (Status s = cluster_->StartAgent(i); !s.ok()) {
      Log("agent did not start", "\"error\":\"" + JsonEscape(s.ToString()) + "\"");
      return 2;
    }
  }
  // Generator ledger: every record the generator produces and its intake takes.
  std::set<std::string> generator_ids;
  for (const auto& spec : cluster_->agents()) {
    if (spec.generator_seed == 0) continue;
    for (const auto& id : GeneratorIds(spec)) {
      generator_ids.insert(id);
      ledger_.Accept(id, "generator");
    }
  }
  WorkloadOptions wo;
  wo.seed = o_.seed;
  Workload workload(cluster_.get(), &ledger_, wo);
  workload.Start();
  Log("cluster up", "\"dir\":\"" + JsonEscape(dir_) + "\",\"faults\":" + std::to_string(o_.faults) +
                        ",\"seed\":" + std::to_string(o_.seed));
  Sleep(1500);

  std::vector<FaultRecord> records;
  const std::vector<std::string> schedule = Schedule();
  for (size_t k = 0; k < schedule.size(); ++k) {
    if (Status s = cluster_->EnsureAllRunning(); !s.ok()) {
      notes_.push_back("supervisor restart before fault " + std::to_string(k + 1) + " failed: " + s.ToString());
    }
    Sleep(RandMs(o_.min_gap_ms, o_.max_gap_ms));
    FaultRecord r = Inject(schedule[k]);
    r.index = static_cast<int>(k + 1);
    Log("fault", "\"n\":" + std::to_string(r.index) + ",\"kind\":\"" + r.kind + "\",\"target\":\"" +
                     JsonEscape(r.target) + "\",\"recovery_s\":" + std::to_string(r.recovery_s) + ",\"detail\":\"" +
                     JsonEscape(r.detail.substr(0, 300)) + "\"");
    records.push_back(std::move(r));
  }

  // ---- the end: stop feeding, heal everything, wait for quiescence
  Log("faults done; flushing");
  workload.Stop(std::chrono::seconds(60));
  for (size_t i = 0; i < cluster_->agents().size(); ++i) {
    cluster_->proxy(i)->SetMode(ProxyMode::kPass);
    (void)cluster_->ArmShim(cluster_->agents()[i].name, "none");
    cluster_->KillAgent(i, SIGCONT);
  }
  (void)cluster_->ArmShim("collector", "none");
  cluster_->KillCollector(SIGCONT);
  if (!cluster_->CollectorHealthy()) {
    notes_.push_back("collector unhealthy at the end: restarted");
    (void)RestartCollector();
  }
  if (Status s = cluster_->EnsureAllRunning(); !s.ok()) notes_.push_back("final restart: " + s.ToString());
  {
    // Liveness before quiescence: every agent must make progress on its own.
    const std::vector<AgentHealth> before = Snapshot();
    if (WaitRecovered(AllAgents(), before) < 0) RestartStuck(AllAgents(), before, "the last fault");
  }
  std::string why;
  const auto q0 = Clock::now();
  const bool quiet = Quiesce(o_.quick ? 120 : 300, &why);
  const double quiesce_s = Seconds(Clock::now() - q0);
  Log("quiescence", std::string("\"reached\":") + (quiet ? "true" : "false") + ",\"state\":\"" + JsonEscape(why) + "\"");

  // ---- high-water marks: collector vs agents
  const std::string collector_metrics = cluster_->CollectorMetrics();
  struct Hw { std::string agent; double collector = -1; double agent_acked = -1; };
  std::vector<Hw> hws;
  int hw_mismatch = 0;
  for (size_t i = 0; i < cluster_->agents().size(); ++i) {
    Hw h;
    h.agent = cluster_->agents()[i].name;
    auto c = MetricSample(collector_metrics,
                          "orgtrail_collector_agent_high_water_sequence{agent=\"" + cluster_->agent_id(i) + "\"}");
    auto a = MetricSample(cluster_->AgentMetrics(i), "orgtrail_agent_acked_sequence");
    h.collector = c ? *c : -1;
    h.agent_acked = a ? *a : -1;
    if (h.collector < 0 || h.collector != h.agent_acked) ++hw_mismatch;
    hws.push_back(h);
  }
  const double refused_metric_total = [&] {
    double sum = 0;
    std::istringstream in(collector_metrics);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("orgtrail_collector_batches_refused_total", 0) == 0 ||
          line.rfind("orgtrail_collector_batches_rejected_total", 0) == 0) {
        sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
      }
    }
    return sum;
  }();

  // ---- validate-logs over the export, per account and region that exported
  int validate_runs = 0, validate_failures = 0;
  std::string validate_detail;
  {
    std::set<std::pair<std::string, std::string>> partitions;
    for (const auto& spec : cluster_->agents()) partitions.insert({spec.account, spec.region});
    // Give the exporter and digests a moment to cover the last events.
    Sleep(4000);
    for (const auto& [account, region] : partitions) {
      testutil::SubprocessOptions sub;
      sub.binary = o_.binary_dir + "/cli/orgtrailctl";
      sub.log_dir = dir_ + "/logs";
      sub.name = "validate-" + account + "-" + region;
      sub.args = {"validate-logs", "--export-root", cluster_->export_root(), "--trail-arn",
                  "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail", "--start-time",
                  FormatRfc3339Seconds(NowMicros() - 3600LL * 1000000 * 3), "--account-id", account, "--region", region};
      auto p = testutil::Subprocess::Start(sub);
      if (!p.ok()) continue;
      auto st = (*p)->Wait(std::chrono::seconds(120));
      ++validate_runs;
      if (!st || !WIFEXITED(*st) || WEXITSTATUS(*st) != 0) {
        ++validate_failures;
        validate_detail += account + "/" + region + ": " + (*p)->ReadLog().substr(0, 400) + "\n";
      }
    }
  }

  // ---- the store, read independently of the collector
  Status stopped = cluster_->StopCollectorGracefully();
  if (!stopped.ok()) notes_.push_back(stopped.ToString());
  auto snap = ReadStore(cluster_->collector_data() + "/db");
  cluster_->StopAll();
  if (!snap.ok()) {
    Log("cannot read the store", "\"error\":\"" + JsonEscape(snap.status().ToString()) + "\"");
    return 2;
  }
  const auto accepted = ledger_.accepted();
  const auto maybe = ledger_.maybe();
  const auto rogue = ledger_.rogue();
  uint64_t stored_ok = 0, lost = 0, duplicated = 0, maybe_stored = 0, rogue_stored = 0, unexplained = 0;
  std::map<std::string, uint64_t> lost_by_source;
  std::vector<std::string> lost_examples, dup_examples, rogue_examples, unexplained_examples;
  for (const auto& [id, source] : accepted) {
    auto it = snap->copies.find(id);
    const uint64_t n = it == snap->copies.end() ? 0 : it->second;
    if (n == 1) ++stored_ok;
    if (n == 0) {
      ++lost;
      ++lost_by_source[source];
      if (lost_examples.size() < 10) lost_examples.push_back(id + " (" + source + ")");
    }
    if (n > 1) { ++duplicated; if (dup_examples.size() < 10) dup_examples.push_back(id); }
  }
  for (const auto& [id, n] : snap->copies) {
    if (accepted.count(id)) continue;
    if (rogue.count(id)) { ++rogue_stored; if (rogue_examples.size() < 10) rogue_examples.push_back(id); continue; }
    if (maybe.count(id)) {
      ++maybe_stored;
      if (n > 1) { ++duplicated; if (dup_examples.size() < 10) dup_examples.push_back(id); }
      continue;
    }
    ++unexplained;
    if (unexplained_examples.size() < 10) unexplained_examples.push_back(id);
  }
  const bool store_consistent = snap->events == snap->event_ids && snap->events == snap->commits && snap->undecodable == 0;
  int rogue_violations = 0;
  std::map<std::string, int> by_kind;
  std::map<std::string, std::vector<double>> recovery_by_kind;
  int not_recovered = 0;
  for (const auto& r : records) {
    ++by_kind[r.kind];
    if (r.violation) ++rogue_violations;
    if (r.recovery_s >= 0) recovery_by_kind[r.kind].push_back(r.recovery_s); else ++not_recovered;
  }
  int liveness_restarts = 0;
  for (const auto& r : records) liveness_restarts += r.liveness_restart ? 1 : 0;
  // Every fault must be recovered from within its bound, by the cluster itself or by the
  // supervisor restarting a process that fail-stopped by design; a live process the
  // harness had to restart because it was stuck is a failure, not a note.
  const bool pass = lost == 0 && duplicated == 0 && rogue_stored == 0 && unexplained == 0 && hw_mismatch == 0 &&
                    rogue_violations == 0 && store_consistent && validate_failures == 0 && quiet &&
                    not_recovered == 0 && liveness_restarts == 0;
  const double total_s = Seconds(Clock::now() - start_);

  // ---- summary table
  std::ostringstream t;
  t << "\norgtrail chaos run: seed " << o_.seed << ", " << records.size() << " faults over " << by_kind.size()
    << " kinds, " << static_cast<int>(total_s) << " s\n\n";
  t << "fault kind                  count  recovery s (min / median / max)\n";
  for (const auto& [kind, count] : by_kind) {
    auto v = recovery_by_kind[kind];
    std::sort(v.begin(), v.end());
    char line[160];
    if (v.empty()) {
      std::snprintf(line, sizeof(line), "%-26s %6d  not recovered within bound\n", kind.c_str(), count);
    } else {
      std::snprintf(line, sizeof(line), "%-26s %6d  %6.2f / %6.2f / %6.2f%s\n", kind.c_str(), count, v.front(),
                    v[v.size() / 2], v.back(), static_cast<int>(v.size()) < count ? "  (some not recovered)" : "");
    }
    t << line;
  }
  const auto by_source = ledger_.AcceptedBySource();
  t << "\nevents accepted by sources: " << accepted.size() << " (";
  for (const auto& [s, n] : by_source) t << s << " " << n << ", ";
  t << "unanswered PutEvents " << maybe.size() << ")\n";
  t << "events stored:              " << snap->events << " (ledger stored exactly once " << stored_ok
    << ", unanswered-but-stored " << maybe_stored << ")\n";
  t << "lost:                       " << lost;
  for (const auto& [s, n] : lost_by_source) t << (s == lost_by_source.begin()->first ? " (" : ", ") << s << " " << n;
  t << (lost_by_source.empty() ? "" : ")") << "\n";
  t << "duplicated:                 " << duplicated << "\n";
  t << "rogue events sent/stored:   " << rogue.size() << " / " << rogue_stored << "\n";
  t << "stored, no source accepted: " << unexplained << "\n";
  t << "PutEvents refused by agent: " << workload.put_events_refused() << ", calls failed (retried) "
    << workload.put_calls_failed() << "\n";
  t << "collector batches refused:  " << refused_metric_total << " (collector metric)\n";
  t << "high-water == agent acked:  " << (hw_mismatch == 0 ? "yes" : "NO") << " (";
  for (const auto& h : hws) t << h.agent << " " << h.collector << "/" << h.agent_acked << " ";
  t << ")\n";
  t << "store column families agree: " << (store_consistent ? "yes" : "NO") << " (events " << snap->events
    << ", event_ids " << snap->event_ids << ", commits " << snap->commits << ")\n";
  t << "validate-logs:              " << validate_runs - validate_failures << "/" << validate_runs << " passed\n";
  t << "quiescence:                 " << (quiet ? "reached" : "NOT reached: " + why) << " in " << quiesce_s << " s\n";
  t << "faults not recovered within " << o_.recovery_bound_s << " s: " << not_recovered
    << "; stuck agents restarted by the liveness probe: " << stuck_restarts_ << "\n";
  for (const auto& e : lost_examples) t << "  lost: " << e << "\n";
  for (const auto& e : dup_examples) t << "  duplicated: " << e << "\n";
  for (const auto& e : rogue_examples) t << "  rogue stored: " << e << "\n";
  for (const auto& e : unexplained_examples) t << "  unexplained: " << e << "\n";
  if (!validate_detail.empty()) t << "validate-logs failures:\n" << validate_detail;
  for (const auto& n : notes_) t << "  note: " << n.substr(0, 400) << "\n";
  t << "\nRESULT: " << (pass ? "PASS" : "FAIL") << "\n";
  std::cout << t.str() << std::flush;

  // ---- JSON report
  if (!o_.out.empty()) {
    std::ofstream j(o_.out, std::ios::trunc);
    j << "{\n  \"seed\": " << o_.seed << ",\n  \"mode\": \"" << (o_.quick ? "quick" : o_.soak ? "soak" : "custom")
      << "\",\n  \"pass\": " << (pass ? "true" : "false") << ",\n  \"duration_s\": " << total_s
      << ",\n  \"faults_total\": " << records.size() << ",\n  \"faults_by_kind\": {";
    bool first = true;
    for (const auto& [kind, count] : by_kind) { j << (first ? "" : ", ") << "\"" << kind << "\": " << count; first = false; }
    j << "},\n  \"events\": {\"accepted\": " << accepted.size() << ", \"accepted_by_source\": {";
    first = true;
    for (const auto& [s, n] : by_source) { j << (first ? "" : ", ") << "\"" << s << "\": " << n; first = false; }
    j << "}, \"unanswered\": " << maybe.size() << ", \"unanswered_stored\": " << maybe_stored
      << ", \"stored\": " << snap->events << ", \"stored_exactly_once\": " << stored_ok << ", \"lost\": " << lost
      << ", \"duplicated\": " << duplicated << ", \"unexplained\": " << unexplained
      << ", \"rogue_sent\": " << rogue.size() << ", \"rogue_stored\": " << rogue_stored
      << ", \"refused_by_collector_batches\": " << refused_metric_total
      << ", \"put_events_refused\": " << workload.put_events_refused() << "},\n";
    j << "  \"high_water\": [";
    first = true;
    for (const auto& h : hws) {
      j << (first ? "" : ", ") << "{\"agent\": \"" << h.agent << "\", \"collector\": " << h.collector
        << ", \"agent_acked\": " << h.agent_acked << "}";
      first = false;
    }
    j << "],\n  \"store_consistent\": " << (store_consistent ? "true" : "false")
      << ",\n  \"validate_logs\": {\"runs\": " << validate_runs << ", \"failures\": " << validate_failures
      << "},\n  \"liveness_restarts\": " << stuck_restarts_ << ",\n  \"quiescence\": {\"reached\": " << (quiet ? "true" : "false") << ", \"seconds\": " << quiesce_s
      << "},\n  \"faults\": [\n";
    for (size_t k = 0; k < records.size(); ++k) {
      const auto& r = records[k];
      j << "    {\"n\": " << r.index << ", \"kind\": \"" << r.kind << "\", \"target\": \"" << JsonEscape(r.target)
        << "\", \"at_s\": " << r.at_s << ", \"duration_s\": " << r.duration_s << ", \"recovery_s\": " << r.recovery_s
        << ", \"supervisor_restart\": " << (r.restarted ? "true" : "false") << ", \"violation\": "
        << (r.violation ? "true" : "false") << ", \"detail\": \"" << JsonEscape(r.detail.substr(0, 500)) << "\"}"
        << (k + 1 < records.size() ? "," : "") << "\n";
    }
    j << "  ],\n  \"notes\": [";
    for (size_t k = 0; k < notes_.size(); ++k) j << (k ? ", " : "") << "\"" << JsonEscape(notes_[k].substr(0, 600)) << "\"";
    j << "]\n}\n";
  }
  return pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc(
      "orgtrail-chaos: break a real orgtrail cluster (collector + 5 agents behind fault proxies) on "
      "purpose and check that nothing was lost, duplicated or forged.\n\nusage: orgtrail-chaos [--quick | --soak] "
      "[options]\n\noptions");
  desc.add_options()
      ("help,h", "print this help and exit")
      ("quick", "CI mode: fixed seed 20261121, 30 faults, short holds (< 3 min)")
      ("soak", "soak mode: 200 faults (override with --faults), any seed")
      ("seed", po::value<uint64_t>(), "schedule seed (default: 20261121 for --quick, time-based otherwise)")
      ("faults", po::value<int>(), "number of faults (at least one of each kind; default 30, soak 200)")
      ("out", po::value<std::string>()->default_value(""), "write the JSON report here")
      ("keep-dir", "keep the run's folder (PKI, data, logs) and print its path")
      ("binary-dir", po::value<std::string>()->default_value(ORGTRAIL_BINARY_DIR), "build folder with collector/, agent/, cli/")
      ("shim", po::value<std::string>()->default_value(ORGTRAIL_CHAOS_SHIM_PATH), "the fault shim shared library")
      ("generator-limit", po::value<int>()->default_value(1500), "records the generator agent produces");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "orgtrail-chaos: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\nFaults: see tests/chaos/README.md. Exit status: 0 pass, 1 invariant violated, 2 setup error.\n";
    return 0;
  }
  Options o;
  o.quick = vm.count("quick") > 0;
  o.soak = vm.count("soak") > 0;
  if (o.quick && o.soak) {
    std::cerr << "orgtrail-chaos: --quick and --soak exclude each other\n";
    return 2;
  }
  o.seed = o.quick ? 20261121 : static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  if (vm.count("seed")) o.seed = vm["seed"].as<uint64_t>();
  o.faults = o.soak ? 200 : 30;
  if (vm.count("faults")) o.faults = vm["faults"].as<int>();
  if (o.faults < 1 || o.faults > 100000) {
    std::cerr << "orgtrail-chaos: --faults must be between 1 and 100000\n";
    return 2;
  }
  o.out = vm["out"].as<std::string>();
  o.keep_dir = vm.count("keep-dir") > 0;
  o.binary_dir = vm["binary-dir"].as<std::string>();
  o.shim = vm["shim"].as<std::string>();
  o.generator_limit = vm["generator-limit"].as<int>();
  if (o.quick) {
    o.min_gap_ms = 100;
    o.max_gap_ms = 600;
    o.min_fault_ms = 400;
    o.max_fault_ms = 1200;
    o.recovery_bound_s = 40;
  }
  for (const std::string& bin : {o.binary_dir + "/collector/orgtrail-collector", o.binary_dir + "/agent/orgtrail-agent",
                                 o.binary_dir + "/cli/orgtrailctl", o.shim}) {
    if (::access(bin.c_str(), R_OK) != 0) {
      std::cerr << "orgtrail-chaos: missing " << bin << " (build the targets first)\n";
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  if (o.keep_dir) ::setenv("ORGTRAIL_KEEP_TEST_DIRS", "1", 1);
  testutil::TempDir dir("orgtrail-chaos");
  if (o.keep_dir) std::cerr << "orgtrail-chaos: run folder " << dir.path() << "\n";
  Harness harness(o, dir.path());
  return harness.Run();
}
