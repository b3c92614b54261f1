// The chaos run's outcome and its renderings (see report.h).
#include "report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "chaos_log.h"

namespace orgtrail::chaos {

void Finish(RunResult* r) {
  r->not_recovered = r->without_effect = r->rogue_violations = 0;
  int liveness = 0;
  for (const auto& f : r->records) {
    if (f.recovery_s < 0) ++r->not_recovered;
    if (!f.took_effect) ++r->without_effect;
    if (f.violation) ++r->rogue_violations;
    if (f.liveness_restart) ++liveness;
  }
  r->liveness_restarts = std::max(r->liveness_restarts, liveness);
  // Every fault must take effect and be recovered from within its bound, by the cluster itself
  // or by the supervisor restarting a process that fail-stopped by design; a live process the
  // harness had to restart because it was stuck is a failure, not a note.
  r->pass = r->lost == 0 && r->duplicated == 0 && r->rogue_stored == 0 && r->unexplained == 0 &&
            r->high_water_mismatches == 0 && r->rogue_violations == 0 && r->store_consistent &&
            r->validate_failures == 0 && r->validate_runs > 0 && r->quiet && r->not_recovered == 0 &&
            r->without_effect == 0 && r->liveness_restarts == 0 && r->stop_failures.empty() &&
            r->sanitizer_reports.empty();
}

std::string SummaryTable(const RunResult& r) {
  std::map<std::string, int> by_kind;
  std::map<std::string, std::vector<double>> recovery_by_kind;
  std::map<std::string, int> attempts_by_kind;
  for (const auto& f : r.records) {
    ++by_kind[f.kind];
    attempts_by_kind[f.kind] += f.attempts;
    if (f.recovery_s >= 0) recovery_by_kind[f.kind].push_back(f.recovery_s);
  }
  std::ostringstream t;
  t << "\norgtrail chaos run: seed " << r.seed << ", " << r.records.size() << " faults over " << by_kind.size()
    << " kinds, " << static_cast<int>(r.total_s) << " s\n\n";
  t << "fault kind                  count  tries  recovery s (min / median / max)\n";
  for (const auto& [kind, count] : by_kind) {
    auto v = recovery_by_kind[kind];
    std::sort(v.begin(), v.end());
    char line[200];
    if (v.empty()) {
      std::snprintf(line, sizeof(line), "%-26s %6d %6d  not recovered within bound\n", kind.c_str(), count,
                    attempts_by_kind[kind]);
    } else {
      std::snprintf(line, sizeof(line), "%-26s %6d %6d  %6.2f / %6.2f / %6.2f%s\n", kind.c_str(), count,
                    attempts_by_kind[kind], v.front(), v[v.size() / 2], v.back(),
                    static_cast<int>(v.size()) < count ? "  (some not recovered)" : "");
    }
    t << line;
  }
  t << "\nevents accepted by sources: " << r.accepted << " (";
  for (const auto& [s, n] : r.accepted_by_source) t << s << " " << n << ", ";
  t << "unanswered PutEvents " << r.unanswered << ")\n";
  t << "events stored:              " << r.stored << " (ledger stored exactly once " << r.stored_ok
    << ", unanswered-but-stored " << r.unanswered_stored << ")\n";
  t << "lost:                       " << r.lost;
  bool first = true;
  for (const auto& [s, n] : r.lost_by_source) {
    t << (first ? " (" : ", ") << s << " " << n;
    first = false;
  }
  t << (r.lost_by_source.empty() ? "" : ")") << "\n";
  t << "duplicated:                 " << r.duplicated << "\n";
  t << "rogue events sent/stored:   " << r.rogue_sent << " / " << r.rogue_stored << "\n";
  t << "stored, no source accepted: " << r.unexplained << "\n";
  t << "PutEvents refused by agent: " << r.put_events_refused << ", calls failed (retried) " << r.put_calls_failed
    << "\n";
  t << "collector batches refused:  " << r.collector_batches_refused << " (collector metric)\n";
  t << "high-water == agent acked:  " << (r.high_water_mismatches == 0 ? "yes" : "NO") << " (";
  for (const auto& h : r.high_water) t << h.agent << " " << h.collector << "/" << h.agent_acked << " ";
  t << ")\n";
  t << "store column families agree: " << (r.store_consistent ? "yes" : "NO") << " (events " << r.stored
    << ", event_ids " << r.event_ids << ", commits " << r.commits << ")\n";
  t << "validate-logs:              " << r.validate_runs - r.validate_failures << "/" << r.validate_runs
    << " passed\n";
  t << "quiescence:                 " << (r.quiet ? "reached" : "NOT reached: " + r.quiesce_state) << " in "
    << r.quiesce_s << " s\n";
  t << "faults not recovered within " << r.recovery_bound_s << " s: " << r.not_recovered
    << "; stuck agents restarted by the liveness probe: " << r.liveness_restarts
    << "; faults without effect after every try: " << r.without_effect << "\n";
  t << "graceful stops:             " << (r.stop_failures.empty() ? "all clean" : "FAILED") << "\n";
  t << "sanitizer reports:          " << r.sanitizer_reports.size() << "\n";
  for (const auto& e : r.lost_examples) t << "  lost: " << e << "\n";
  for (const auto& e : r.dup_examples) t << "  duplicated: " << e << "\n";
  for (const auto& e : r.rogue_examples) t << "  rogue stored: " << e << "\n";
  for (const auto& e : r.unexplained_examples) t << "  unexplained: " << e << "\n";
  for (const auto& e : r.stop_failures) t << "  stop failed: " << e.substr(0, 400) << "\n";
  for (const auto& e : r.sanitizer_reports) t << "  sanitizer: " << e.substr(0, 400) << "\n";
  for (const auto& f : r.records) {
    if (!f.took_effect) t << "  no effect: fault " << f.index << " " << f.kind << " after " << f.attempts << " tries: "
                          << f.detail.substr(0, 300) << "\n";
  }
  if (!r.validate_detail.empty()) t << "validate-logs failures:\n" << r.validate_detail;
  for (const auto& n : r.notes) t << "  note: " << n.substr(0, 400) << "\n";
  t << "\nRESULT: " << (r.pass ? "PASS" : "FAIL") << "\n";
  return t.str();
}

std::string JsonReport(const RunResult& r) {
  std::map<std::string, int> by_kind;
  for (const auto& f : r.records) ++by_kind[f.kind];
  std::ostringstream j;
  auto list = [&j](const std::vector<std::string>& items) {
    j << "[";
    for (size_t k = 0; k < items.size(); ++k) j << (k ? ", " : "") << "\"" << JsonEscape(items[k].substr(0, 600)) << "\"";
    j << "]";
  };
  j << "{\n  \"seed\": " << r.seed << ",\n  \"mode\": \"" << r.mode << "\",\n  \"pass\": "
    << (r.pass ? "true" : "false") << ",\n  \"duration_s\": " << r.total_s
    << ",\n  \"faults_total\": " << r.records.size() << ",\n  \"faults_by_kind\": {";
  bool first = true;
  for (const auto& [kind, count] : by_kind) {
    j << (first ? "" : ", ") << "\"" << kind << "\": " << count;
    first = false;
  }
  j << "},\n  \"events\": {\"accepted\": " << r.accepted << ", \"accepted_by_source\": {";
  first = true;
  for (const auto& [s, n] : r.accepted_by_source) {
    j << (first ? "" : ", ") << "\"" << s << "\": " << n;
    first = false;
  }
  j << "}, \"unanswered\": " << r.unanswered << ", \"unanswered_stored\": " << r.unanswered_stored
    << ", \"stored\": " << r.stored << ", \"stored_exactly_once\": " << r.stored_ok << ", \"lost\": " << r.lost
    << ", \"duplicated\": " << r.duplicated << ", \"unexplained\": " << r.unexplained
    << ", \"rogue_sent\": " << r.rogue_sent << ", \"rogue_stored\": " << r.rogue_stored
    << ", \"refused_by_collector_batches\": " << r.collector_batches_refused
    << ", \"put_events_refused\": " << r.put_events_refused << "},\n";
  j << "  \"high_water\": [";
  first = true;
  for (const auto& h : r.high_water) {
    j << (first ? "" : ", ") << "{\"agent\": \"" << h.agent << "\", \"collector\": " << h.collector
      << ", \"agent_acked\": " << h.agent_acked << "}";
    first = false;
  }
  j << "],\n  \"store_consistent\": " << (r.store_consistent ? "true" : "false")
    << ",\n  \"validate_logs\": {\"runs\": " << r.validate_runs << ", \"failures\": " << r.validate_failures
    << "},\n  \"liveness_restarts\": " << r.liveness_restarts << ",\n  \"faults_without_effect\": "
    << r.without_effect << ",\n  \"quiescence\": {\"reached\": " << (r.quiet ? "true" : "false")
    << ", \"seconds\": " << r.quiesce_s << "},\n  \"stop_failures\": ";
  list(r.stop_failures);
  j << ",\n  \"sanitizer_reports\": ";
  list(r.sanitizer_reports);
  j << ",\n  \"faults\": [\n";
  for (size_t k = 0; k < r.records.size(); ++k) {
    const auto& f = r.records[k];
    j << "    {\"n\": " << f.index << ", \"kind\": \"" << f.kind << "\", \"target\": \"" << JsonEscape(f.target)
      << "\", \"at_s\": " << f.at_s << ", \"duration_s\": " << f.duration_s << ", \"recovery_s\": " << f.recovery_s
      << ", \"attempts\": " << f.attempts << ", \"took_effect\": " << (f.took_effect ? "true" : "false")
      << ", \"supervisor_restart\": " << (f.restarted ? "true" : "false") << ", \"violation\": "
      << (f.violation ? "true" : "false") << ", \"detail\": \"" << JsonEscape(f.detail.substr(0, 500)) << "\"}"
      << (k + 1 < r.records.size() ? "," : "") << "\n";
  }
  j << "  ],\n  \"notes\": ";
  list(r.notes);
  j << "\n}\n";
  return j.str();
}

}  // namespace orgtrail::chaos
