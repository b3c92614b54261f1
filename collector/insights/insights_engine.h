// InsightsEngine: CloudTrail Insights in the collector. Follows the store's commit order
// (CommitFeed + NewCommitIterator) from a durable cursor on its own thread, feeds every stored
// management event (not the collector's own records, not data events) to an InsightDetector, and
// stores each Insight record it reports through the CollectorSender: in the account and region
// it is about, as the collector's signed batch, so it is indexed (lookup-events
// --event-category insight), exported, digested and provable like any event.
//
// Exactly once: a round's records are stored before the cursor and the detector's state move,
// and those two are written together in one synced write (metadata insights/cursor and the
// detector's entries that changed in the round: insights/newest, insights/k/<api>/h and
// insights/k/<api>/m/<minute>, so the write grows with what changed, not with the baseline). A crash in between replays the round from the old cursor and state, which
// reports the same records with the same eventIDs; the store keeps one of each. The first start
// on a store that already holds events begins at its last commit. Minutes close as the newest
// event time seen advances (a replay closes the same minutes). A failed store or send stops the
// engine (failure() says why); the next start resumes at the cursor. While no trail asks for
// Insights (options.types) the engine reads nothing and writes nothing.
// Metrics: orgtrail_insights_records_total{type,state}, orgtrail_insights_lag_commits.
// Thread safety: Start/Stop from one thread; cursor(), failure() from any.
#ifndef ORGTRAIL_COLLECTOR_INSIGHTS_INSIGHTS_ENGINE_H_
#define ORGTRAIL_COLLECTOR_INSIGHTS_INSIGHTS_ENGINE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "collector/insights/insight_detector.h"
#include "collector/selfaudit/collector_sender.h"
#include "collector/store/commit_follower.h"
#include "collector/store/store.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/v1/admin.pb.h"

namespace orgtrail::collector {

// The Insights types the trails ask for (put-insight-selectors on a logging trail).
struct InsightTypes {
  bool api_call_rate = false;
  bool api_error_rate = false;
  bool any() const { return api_call_rate || api_error_rate; }
};

// The union of the insight selectors of the trails that are logging.
InsightTypes InsightTypesOf(const v1::TrailConfig& config);

struct InsightsEngineOptions {
  InsightOptions detector;  // its api_call_rate / api_error_rate are replaced by `types`
  // Asked before each round; while it answers none, stored events are passed over unread and the
  // cursor moves in memory only (no synced write), so Insights cost nothing when no trail has them.
  // Empty = the detector's own types, always.
  std::function<InsightTypes()> types;
  size_t max_events_per_round = 4096;  // events fed per synced state write
  int64_t idle_wait_us = 1'000'000;    // longest wait for new commits before re-checking stop
};

class InsightsEngine {
 public:
  // store and sender must outlive the engine.
  InsightsEngine(EventStore* store, CollectorSender* sender, Logger* logger, MetricsRegistry* metrics,
                 InsightsEngineOptions options = {});
  ~InsightsEngine();
  InsightsEngine(const InsightsEngine&) = delete;
  InsightsEngine& operator=(const InsightsEngine&) = delete;

  // Reads (or, first time, records) the cursor and state, and starts the thread.
  Status Start();
  void Stop();

  uint64_t cursor() const { return follower_.cursor(); }
  std::string failure() const { return follower_.failure(); }

 private:
  // Feeds commits (cursor, last] in rounds, each stored and written with its cursor; an error stops.
  Status ProcessThrough(uint64_t last);
  Status StoreRecords(const std::vector<InsightEvent>& events);
  Status WriteCursor(uint64_t cursor);

  EventStore* store_;
  CollectorSender* sender_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  InsightsEngineOptions options_;
  InsightDetector detector_;  // the engine thread's after Start()
  CommitFollower follower_;   // last: stopped first
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INSIGHTS_INSIGHTS_ENGINE_H_
