// Harness: one chaos run. It starts a ChaosCluster (PKI, collector, five agents behind fault
// proxies), feeds it (Workload), injects faults from a seeded schedule (every kind at least once;
// a fault counts only once it took effect: it is repeated until it does, or the run fails),
// waits for quiescence and checks the store against the ledger (README.md, this folder).
//
// Not thread-safe: Run() drives everything from the calling thread.
#ifndef ORGTRAIL_TESTS_CHAOS_HARNESS_H_
#define ORGTRAIL_TESTS_CHAOS_HARNESS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster.h"
#include "ledger.h"
#include "rogue.h"

namespace orgtrail::chaos {

using Clock = std::chrono::steady_clock;
inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Every fault kind, in a fixed order (the schedule shuffles them).
const std::vector<std::string>& AllKinds();

struct ChaosOptions {
  uint64_t seed = 1;
  int faults = 30;
  bool quick = false;
  bool soak = false;
  std::vector<std::string> kinds;  // empty = AllKinds()
  std::string out;
  bool keep_dir = false;
  std::string binary_dir;
  std::string shim;
  int generator_limit = 1500;
  double recovery_bound_s = 45;
  int min_gap_ms = 200;
  int max_gap_ms = 1200;
  int min_fault_ms = 600;
  int max_fault_ms = 2000;
  int max_attempts = 5;  // a fault that did not take effect is repeated up to this many times
};

struct FaultRecord {
  int index = 0;
  std::string kind;
  std::string target;
  std::string detail;
  double at_s = 0;          // since the run started
  double duration_s = 0;    // how long the fault was in force
  double recovery_s = -1;   // fault end -> cluster healthy again (-1: not within the bound)
  int attempts = 1;         // injections until it took effect
  bool took_effect = false; // the fault's effect was observed (see faults.cc); false fails the run
  bool restarted = false;   // the supervisor (harness) had to restart a process
  bool liveness_restart = false;  // ... one that was alive but stuck (a failure, not a design)
  bool violation = false;   // a rogue message was accepted
};

class Harness {
 public:
  Harness(ChaosOptions options, std::string dir) : o_(std::move(options)), dir_(std::move(dir)), rng_(o_.seed) {}

  // 0 every invariant held, 1 a violation, 2 setup error.
  int Run();

 private:
  // What one injection touched, for the recovery wait.
  struct Injection {
    std::vector<size_t> affected;       // agents that must recover (empty: the collector only)
    std::vector<AgentHealth> before;    // their health before the fault (empty: taken after)
  };

  std::vector<AgentSpec> Specs() const;
  std::vector<std::string> Schedule();
  FaultRecord Inject(const std::string& kind);
  // One attempt at `kind`; fills r and *inj; true when the fault took effect.
  bool InjectOnce(const std::string& kind, FaultRecord* r, Injection* inj);
  bool InjectCollectorProcessFault(const std::string& kind, FaultRecord* r);
  bool InjectAgentProcessFault(const std::string& kind, FaultRecord* r, Injection* inj);
  bool InjectProxyFault(const std::string& kind, FaultRecord* r, Injection* inj);
  bool InjectCollectorDiskFault(const std::string& kind, FaultRecord* r);
  bool InjectAgentDiskFault(const std::string& kind, FaultRecord* r, Injection* inj);
  bool InjectPowerLoss(const std::string& kind, FaultRecord* r, Injection* inj);
  bool InjectRogue(const std::string& kind, FaultRecord* r, Injection* inj);
  void NoteStatus(const std::string& kind, const Status& s, FaultRecord* r);

  double WaitRecovered(const std::vector<size_t>& agents, const std::vector<AgentHealth>& before);
  size_t PickAgent() { return rng_() % cluster_->agents().size(); }
  int RandMs(int lo, int hi) { return lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1)); }
  void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
  std::vector<size_t> AllAgents() const;
  std::vector<AgentHealth> Snapshot();
  Status RestartCollector(const std::vector<std::string>& extra = {});
  Status RestartAgent(size_t i, int64_t skew);
  std::string CorruptSpool(size_t i, bool* corrupted);
  bool Quiesce(double timeout_s, std::string* why);
  // Agents that are up but whose acked sequence did not move past `before`
  // while they hold sealed batches are restarted (kill -9), counted and noted.
  bool RestartStuck(const std::vector<size_t>& agents, const std::vector<AgentHealth>& before,
                    const std::string& context);
  // Sanitizer reports in any process log of the run (sanitizer builds); one line each.
  std::vector<std::string> SanitizerReports() const;

  int stuck_restarts_ = 0;
  ChaosOptions o_;
  std::string dir_;
  std::mt19937_64 rng_;
  std::unique_ptr<ChaosCluster> cluster_;
  Ledger ledger_;
  RogueContext rogue_;
  uint64_t rogue_counter_ = 0;
  Clock::time_point start_;
  std::vector<std::string> notes_;
};

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_HARNESS_H_
