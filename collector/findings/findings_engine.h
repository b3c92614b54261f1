// FindingsEngine: runs the loaded Sigma rules (detections/rule_set.h) on every event the
// collector stores, after its durable commit, and records one finding per (event, matching rule)
// and one per Sigma correlation an event completes, in the FindingsLog, exactly once across
// restarts (the correlations' open windows are stored with the cursor they belong to).
//
// It follows the store's commit order (CommitFeed + NewCommitIterator) on its own thread from
// the log's cursor; each group of events is matched, then its findings and the new cursor are
// written in one write (durable with the store's next synced write, see findings_log.h). A crash
// before it is durable re-matches the same events and rewrites the same keys; nothing is skipped. The first start on a store that already
// holds events begins at its last commit (history is for a retro-hunt, not for streaming) and
// records that cursor at once. A failed write stops the engine (failure() says why; /readyz
// shows it); nothing after it is skipped, the next start resumes at the cursor.
// Findings are stored with their rule's fields by reference (FindingsLog's rule table, written
// at Start); readers of the log get them filled back.
// Metrics: orgtrail_findings_total{rule,level}, orgtrail_findings_events_evaluated_total,
// orgtrail_findings_lag_commits (commits stored but not yet matched).
// Thread safety: Start/Stop from one thread; cursor(), failure() from any.
#ifndef ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_ENGINE_H_
#define ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_ENGINE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/findings/finding_fields.h"
#include "collector/findings/findings_log.h"
#include "collector/store/commit_follower.h"
#include "collector/store/store.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/detections/record.h"
#include "orgtrail/detections/rule_set.h"

namespace orgtrail::collector {

struct FindingsEngineOptions {
  size_t max_events_per_write = 4096;  // events matched per findings write
  int64_t idle_wait_us = 1'000'000;     // longest wait for new commits before re-checking stop
};

class FindingsEngine {
 public:
  // rules: loaded rule set (not owned; must outlive the engine); rule_files maps rule id -> file.
  FindingsEngine(EventStore* store, const detections::RuleSet* rules, std::map<std::string, std::string> rule_files,
                 Logger* logger, MetricsRegistry* metrics, FindingsEngineOptions options = {});
  ~FindingsEngine();
  FindingsEngine(const FindingsEngine&) = delete;
  FindingsEngine& operator=(const FindingsEngine&) = delete;

  // Reads (or, first time, records) the cursor and starts the thread. Call after the store is
  // open and before ingest starts.
  Status Start();
  void Stop();

  uint64_t cursor() const { return follower_.cursor(); }
  // "" while healthy; else why the engine stopped.
  std::string failure() const { return follower_.failure(); }

 private:
  // Matches commits (cursor, last] in groups, each written with its cursor; an error stops.
  Status ProcessThrough(uint64_t last);

  EventStore* store_;
  const detections::RuleSet* rules_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  FindingsEngineOptions options_;
  FindingsLog log_;
  FindingMatcher matcher_;  // owned by the engine's thread after Start()
  detections::RecordParser parser_;  // the engine's thread's; its buffers are reused across rounds
  std::vector<char> arena_block_ = std::vector<char>(1 << 20);  // each round's arena starts here
  Counter* evaluated_;
  std::map<std::string, Counter*> findings_of_rule_;  // orgtrail_findings_total by rule id
  CommitFollower follower_;  // last: stopped first
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_ENGINE_H_
