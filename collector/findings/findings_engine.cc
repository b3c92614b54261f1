#include "collector/findings/findings_engine.h"

#include <chrono>

#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {

FindingsEngine::FindingsEngine(EventStore* store, const detections::RuleSet* rules,
                               std::map<std::string, std::string> rule_files, Logger* logger,
                               MetricsRegistry* metrics, FindingsEngineOptions options)
    : store_(store), rules_(rules), logger_(logger), metrics_(metrics), options_(options), log_(store),
      matcher_(rules, std::move(rule_files)) {
  evaluated_ = metrics->GetCounter("orgtrail_findings_events_evaluated_total",
                                   "Stored events the Sigma rules were run on");
}

FindingsEngine::~FindingsEngine() { Stop(); }

Status FindingsEngine::Start() {
  feed_ = std::make_unique<CommitFeed>(store_);
  // The correlation windows open at the cursor (stored with it); a removed correlation's are dropped.
  size_t windows = 0;
  ORGTRAIL_RETURN_IF_ERROR(log_.ForEachWindow([&](detections::WindowUpdate&& w) {
    windows += matcher_.correlations()->RestoreWindow(w.correlation_id, w.group_json, std::move(w.entries)) ? 1 : 0;
  }));
  if (log_.HasCursor()) {
    auto cursor = log_.Cursor();
    if (!cursor.ok()) return cursor.status();
    cursor_ = *cursor;
  } else {
    // First start: from the store's last commit on (a retro-hunt covers what came before).
    cursor_ = store_->last_commit_index();
    ORGTRAIL_RETURN_IF_ERROR(log_.Append({}, cursor_));
  }
  EventStore* store = store_;
  std::atomic<uint64_t>* cursor = &cursor_;
  metrics_->AddGaugeCallback("orgtrail_findings_lag_commits", "Stored events the Sigma rules have not run on yet",
                             [store, cursor] {
                               const uint64_t last = store->last_commit_index();
                               const uint64_t done = cursor->load();
                               return std::vector<std::pair<MetricLabels, double>>{
                                   {{}, static_cast<double>(last > done ? last - done : 0)}};
                             });
  logger_->Info("sigma rules running on stored events",
                {{"rules", static_cast<uint64_t>(rules_->size())},
                 {"correlations", static_cast<uint64_t>(rules_->correlations().size())},
                 {"open_windows", static_cast<uint64_t>(windows)},
                 {"cursor", cursor_.load()}});
  thread_ = std::thread([this] { Run(); });
  return Status();
}

void FindingsEngine::Stop() {
  stop_ = true;
  if (feed_) feed_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

std::string FindingsEngine::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

void FindingsEngine::Fail(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = "findings: " + status.ToString();
  }
  logger_->Error("sigma findings stopped: cannot record findings", {{"error", status.ToString()},
                                                                    {"cursor", cursor_.load()}});
}

void FindingsEngine::Run() {
  while (!stop_) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.idle_wait_us);
    const uint64_t last = feed_->WaitBeyond(cursor_, deadline);
    if (stop_) break;
    if (last > cursor_ && !ProcessThrough(last)) return;
  }
}

bool FindingsEngine::ProcessThrough(uint64_t last) {
  detections::RecordParser parser;
  while (cursor_ < last && !stop_) {
    std::vector<v1::Finding> findings;
    uint64_t done = cursor_;
    size_t events = 0;
    auto it = store_->NewCommitIterator(cursor_ + 1);
    for (; it->Valid() && it->commit_index() <= last && events < options_.max_events_per_write; it->Next()) {
      done = it->commit_index();
      ++events;
      auto stored = store_->GetEventByKey(it->event_key());
      if (!stored.ok()) {
        Fail(stored.status());
        return false;
      }
      if (!stored->has_value()) continue;  // removed by retention meanwhile
      const StoredEvent& event = **stored;
      auto record = parser.Parse(event.raw_json);
      if (!record.ok()) continue;  // the collector stored it, so it is JSON; a record too deep for the rules
      matcher_.Match(event, *record, NowMicros(), &findings);
    }
    if (!it->status().ok()) {
      Fail(it->status());
      return false;
    }
    if (done == cursor_) return true;  // nothing readable yet beyond the cursor
    if (Status s = log_.Append(findings, done, matcher_.correlations()->TakeChangedWindows()); !s.ok()) {
      Fail(s);
      return false;
    }
    for (const v1::Finding& f : findings) {
      metrics_->GetCounter("orgtrail_findings_total", "Findings recorded, by Sigma rule and level",
                           {{"rule", f.rule_id()}, {"level", f.level()}})
          ->Increment();
    }
    evaluated_->Increment(events);
    cursor_ = done;
  }
  return true;
}

}  // namespace orgtrail::collector
