// Harness: the run itself, from the cluster's start to the checks (see harness.h).
#include "harness.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "chaos_log.h"
#include "orgtrail/agent/intake.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/time_util.h"
#include "report.h"
#include "store_reader.h"
#include "testutil/sanitizer_report.h"
#include "testutil/subprocess.h"
#include "testutil/wait_for.h"
#include "workload.h"

namespace orgtrail::chaos {
namespace {

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

}  // namespace

std::vector<size_t> Harness::AllAgents() const {
  std::vector<size_t> v;
  for (size_t i = 0; i < cluster_->agents().size(); ++i) v.push_back(i);
  return v;
}

std::vector<AgentHealth> Harness::Snapshot() {
  std::vector<AgentHealth> v;
  for (size_t i = 0; i < cluster_->agents().size(); ++i) v.push_back(cluster_->Health(i));
  return v;
}

Status Harness::RestartCollector(const std::vector<std::string>& extra) {
  cluster_->KillCollector(SIGKILL);
  return cluster_->StartCollector(extra);
}

Status Harness::RestartAgent(size_t i, int64_t skew) {
  cluster_->KillAgent(i, SIGKILL);
  return cluster_->StartAgent(i, skew);
}

std::vector<std::string> Harness::SanitizerReports() const {
  std::vector<std::string> reports;
  const std::string logs = dir_ + "/logs";
  DIR* d = ::opendir(logs.c_str());
  if (d == nullptr) return reports;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(logs + "/" + e->d_name);
    std::stringstream text;
    text << in.rdbuf();
    if (auto report = testutil::FindSanitizerReport(text.str())) {
      reports.push_back(std::string(e->d_name) + ": " + report->substr(0, 1500));
    }
  }
  ::closedir(d);
  return reports;
}

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
  const std::vector<std::string>& all = o_.kinds.empty() ? AllKinds() : o_.kinds;
  std::vector<std::string> kinds = all;
  std::shuffle(kinds.begin(), kinds.end(), rng_);
  while (static_cast<int>(kinds.size()) < o_.faults) kinds.push_back(all[rng_() % all.size()]);
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
                   " sealed " + std::to_string(h.sealed_batches) + " acked sequence " +
                   std::to_string(h.acked_sequence) + (h.up ? (h.connected ? " (connected)" : " (not connected)")
                                                            : " (down)");
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
                     JsonEscape(r.target) + "\",\"took_effect\":" + (r.took_effect ? "true" : "false") +
                     ",\"attempts\":" + std::to_string(r.attempts) + ",\"recovery_s\":" +
                     std::to_string(r.recovery_s) + ",\"detail\":\"" + JsonEscape(r.detail.substr(0, 300)) + "\"");
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

  RunResult res;
  // ---- high-water marks: collector vs agents
  const std::string collector_metrics = cluster_->CollectorMetrics();
  for (size_t i = 0; i < cluster_->agents().size(); ++i) {
    HighWater h;
    h.agent = cluster_->agents()[i].name;
    auto c = MetricSample(collector_metrics,
                          "orgtrail_collector_agent_high_water_sequence{agent=\"" + cluster_->agent_id(i) + "\"}");
    auto a = MetricSample(cluster_->AgentMetrics(i), "orgtrail_agent_acked_sequence");
    h.collector = c ? *c : -1;
    h.agent_acked = a ? *a : -1;
    if (h.collector < 0 || h.collector != h.agent_acked) ++res.high_water_mismatches;
    res.high_water.push_back(h);
  }
  res.collector_batches_refused = [&] {
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
      ++res.validate_runs;
      if (!p.ok()) {  // a launch that failed proves nothing: it fails the run
        ++res.validate_failures;
        res.validate_detail += account + "/" + region + ": cannot start orgtrailctl: " + p.status().ToString() + "\n";
        continue;
      }
      auto st = (*p)->Wait(std::chrono::seconds(120));
      if (!st || !WIFEXITED(*st) || WEXITSTATUS(*st) != 0) {
        ++res.validate_failures;
        res.validate_detail += account + "/" + region + ": " + (*p)->ReadLog().substr(0, 400) + "\n";
      }
    }
  }

  // ---- the store, read independently of the collector
  // Every daemon stops gracefully (LeakSanitizer runs at exit in sanitizer builds); one that
  // does not fails the run.
  if (Status s = cluster_->StopAgentsGracefully(); !s.ok()) res.stop_failures.push_back(s.ToString());
  if (Status s = cluster_->StopCollectorGracefully(); !s.ok()) res.stop_failures.push_back(s.ToString());
  auto snap = ReadStore(cluster_->collector_data() + "/db");
  cluster_->StopAll();
  res.sanitizer_reports = SanitizerReports();
  if (!snap.ok()) {
    Log("cannot read the store", "\"error\":\"" + JsonEscape(snap.status().ToString()) + "\"");
    return 2;
  }
  const auto accepted = ledger_.accepted();
  const auto maybe = ledger_.maybe();
  const auto rogue = ledger_.rogue();
  for (const auto& [id, source] : accepted) {
    auto it = snap->copies.find(id);
    const uint64_t n = it == snap->copies.end() ? 0 : it->second;
    if (n == 1) ++res.stored_ok;
    if (n == 0) {
      ++res.lost;
      ++res.lost_by_source[source];
      if (res.lost_examples.size() < 10) res.lost_examples.push_back(id + " (" + source + ")");
    }
    if (n > 1) { ++res.duplicated; if (res.dup_examples.size() < 10) res.dup_examples.push_back(id); }
  }
  for (const auto& [id, n] : snap->copies) {
    if (accepted.count(id)) continue;
    if (rogue.count(id)) { ++res.rogue_stored; if (res.rogue_examples.size() < 10) res.rogue_examples.push_back(id); continue; }
    if (maybe.count(id)) {
      ++res.unanswered_stored;
      if (n > 1) { ++res.duplicated; if (res.dup_examples.size() < 10) res.dup_examples.push_back(id); }
      continue;
    }
    ++res.unexplained;
    if (res.unexplained_examples.size() < 10) res.unexplained_examples.push_back(id);
  }
  res.store_consistent =
      snap->events == snap->event_ids && snap->events == snap->commits && snap->undecodable == 0;
  res.seed = o_.seed;
  res.mode = o_.quick ? "quick" : o_.soak ? "soak" : "custom";
  res.recovery_bound_s = o_.recovery_bound_s;
  res.records = std::move(records);
  res.accepted_by_source = ledger_.AcceptedBySource();
  res.accepted = accepted.size();
  res.unanswered = maybe.size();
  res.stored = snap->events;
  res.event_ids = snap->event_ids;
  res.commits = snap->commits;
  res.rogue_sent = rogue.size();
  res.put_events_refused = workload.put_events_refused();
  res.put_calls_failed = workload.put_calls_failed();
  res.quiet = quiet;
  res.quiesce_state = why;
  res.quiesce_s = quiesce_s;
  res.liveness_restarts = stuck_restarts_;
  res.notes = notes_;
  res.total_s = Seconds(Clock::now() - start_);
  Finish(&res);
  std::cout << SummaryTable(res) << std::flush;
  if (!o_.out.empty()) {
    std::ofstream j(o_.out, std::ios::trunc);
    j << JsonReport(res);
  }
  return res.pass ? 0 : 1;
}

}  // namespace orgtrail::chaos
