// The outcome of a chaos run: every figure the checks produce, whether the run passed, and its
// two renderings (the summary table on stdout, the JSON report for CI). Plain data.
#ifndef ORGTRAIL_TESTS_CHAOS_REPORT_H_
#define ORGTRAIL_TESTS_CHAOS_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness.h"

namespace orgtrail::chaos {

struct HighWater {
  std::string agent;
  double collector = -1;    // the collector's high-water sequence for the agent
  double agent_acked = -1;  // what the agent says was acknowledged
};

struct RunResult {
  uint64_t seed = 0;
  std::string mode;  // quick | soak | custom
  double total_s = 0;
  double recovery_bound_s = 0;
  std::vector<FaultRecord> records;

  // The ledger against the store.
  std::map<std::string, uint64_t> accepted_by_source;
  uint64_t accepted = 0, unanswered = 0;
  uint64_t stored = 0, event_ids = 0, commits = 0;
  bool store_consistent = false;
  uint64_t stored_ok = 0, lost = 0, duplicated = 0, unanswered_stored = 0;
  uint64_t rogue_sent = 0, rogue_stored = 0, unexplained = 0;
  std::map<std::string, uint64_t> lost_by_source;
  std::vector<std::string> lost_examples, dup_examples, rogue_examples, unexplained_examples;
  uint64_t put_events_refused = 0, put_calls_failed = 0;
  double collector_batches_refused = 0;

  std::vector<HighWater> high_water;
  int high_water_mismatches = 0;
  int validate_runs = 0, validate_failures = 0;
  std::string validate_detail;
  bool quiet = false;
  std::string quiesce_state;
  double quiesce_s = 0;
  int liveness_restarts = 0;
  std::vector<std::string> stop_failures;       // graceful stops that failed (each fails the run)
  std::vector<std::string> sanitizer_reports;  // in any process log (each fails the run)
  std::vector<std::string> notes;

  // Derived by Finish().
  int not_recovered = 0, without_effect = 0, rogue_violations = 0;
  bool pass = false;
};

// Computes the derived fields and `pass`.
void Finish(RunResult* result);
std::string SummaryTable(const RunResult& result);
std::string JsonReport(const RunResult& result);

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_REPORT_H_
