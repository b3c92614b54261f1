// InsightsEngine: the detector on the commit feed, its records through the collector's sender
// (see insights_engine.h).
#include "collector/insights/insights_engine.h"

#include <map>
#include <utility>
#include <vector>

#include "collector/store/store_keys.h"
#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/event_extractor.h"

namespace orgtrail::collector {
namespace {

constexpr char kCursorKey[] = "insights/cursor";
constexpr char kStatePrefix[] = "insights/";  // + the detector's entry names ("newest", "k/...")

std::string EncodeCursor(uint64_t v) {
  std::string out;
  PutFixed64BE(&out, v);
  return out;
}

// The call as the detector reads it; false for what Insights do not count (the collector's own
// records, Insights records, data and network-activity events).
bool ToApiCall(const v1::Event& e, ApiCall* call) {
  if (IsCollectorRecord(e) || e.event_category() == "Insight") return false;
  if (!e.event_category().empty() && e.event_category() != "Management") return false;
  if (e.has_management_event() && !e.management_event()) return false;
  call->account_id = e.recipient_account_id();
  call->region = e.aws_region();
  call->event_source = e.event_source();
  call->event_name = e.event_name();
  call->event_time_us = e.event_time_us();
  call->read_only = e.has_read_only() && e.read_only();
  call->error_code = e.error_code();
  call->user_arn = e.principal_arn();
  call->user_agent = e.user_agent();
  return true;
}

}  // namespace

InsightTypes InsightTypesOf(const v1::TrailConfig& config) {
  InsightTypes types;
  for (const v1::Trail& trail : config.trails()) {
    if (!trail.is_logging()) continue;
    for (const v1::InsightSelector& selector : trail.insight_selectors()) {
      if (selector.insight_type() == "ApiCallRateInsight") types.api_call_rate = true;
      if (selector.insight_type() == "ApiErrorRateInsight") types.api_error_rate = true;
    }
  }
  return types;
}

InsightsEngine::InsightsEngine(EventStore* store, CollectorSender* sender, Logger* logger, MetricsRegistry* metrics,
                               InsightsEngineOptions options)
    : store_(store), sender_(sender), logger_(logger), metrics_(metrics), options_(options),
      detector_(options.detector),
      follower_(store, logger, metrics,
                CommitFollowerOptions{"insights", "orgtrail_insights_lag_commits",
                                      "Stored events the Insights detector has not read yet", options.idle_wait_us}) {}

InsightsEngine::~InsightsEngine() { Stop(); }

Status InsightsEngine::Start() {
  auto stored_cursor = store_->GetMetadata(kCursorKey);
  if (!stored_cursor.ok()) return stored_cursor.status();
  uint64_t cursor = 0;
  if (stored_cursor->has_value()) {
    std::string_view bytes = **stored_cursor;
    if (!GetFixed64BE(&bytes, &cursor) || !bytes.empty()) return absl::DataLossError("insights/cursor: not 8 bytes");
    std::vector<std::pair<std::string, std::string>> entries;
    for (const char* name : {"newest", "k/"}) {
      auto found = store_->ScanMetadata(std::string(kStatePrefix) + name);
      if (!found.ok()) return found.status();
      for (auto& [key, value] : *found) entries.emplace_back(key.substr(sizeof(kStatePrefix) - 1), std::move(value));
    }
    ORGTRAIL_RETURN_IF_ERROR(detector_.RestoreEntries(entries));
  } else {
    // First start: from the store's last commit on.
    cursor = store_->last_commit_index();
    ORGTRAIL_RETURN_IF_ERROR(WriteCursor(cursor));
  }
  logger_->Info("insights running on stored management events",
                {{"cursor", cursor}, {"keys", static_cast<uint64_t>(detector_.keys())},
                 {"open_insights", static_cast<uint64_t>(detector_.open_insights())}});
  follower_.Start(cursor, [this](uint64_t last) { return ProcessThrough(last); });
  return Status();
}

void InsightsEngine::Stop() { follower_.Stop(); }

Status InsightsEngine::ProcessThrough(uint64_t last) {
  if (options_.types) {
    const InsightTypes types = options_.types();
    detector_.SetTypes(types.api_call_rate, types.api_error_rate);
    if (!types.any() && detector_.keys() == 0) {  // nothing asked, nothing open: pass over unread
      follower_.Advance(last);
      return Status();
    }
  }
  EventExtractor extractor;
  while (follower_.cursor() < last && !follower_.stopping()) {
    auto done = follower_.ReadRound(last, options_.max_events_per_round, [&](const StoredEvent& stored) {
      v1::Event event;
      ApiCall call;
      if (extractor.Extract(stored.raw_json, &event).ok() && ToApiCall(event, &call)) detector_.Observe(call);
    });
    if (!done.ok()) return done.status();
    if (*done == follower_.cursor()) return Status();  // nothing readable yet beyond the cursor
    std::vector<InsightEvent> insights;
    detector_.AdvanceTo(detector_.newest_time_us(), &insights);
    ORGTRAIL_RETURN_IF_ERROR(StoreRecords(insights));
    ORGTRAIL_RETURN_IF_ERROR(WriteCursor(*done));
    follower_.Advance(*done);
  }
  return Status();
}

Status InsightsEngine::StoreRecords(const std::vector<InsightEvent>& events) {
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> by_partition;
  for (const InsightEvent& e : events) by_partition[{e.account_id, e.region}].push_back(InsightRecordJson(e));
  for (const auto& [partition, records] : by_partition) {
    auto outcomes = sender_->Send(partition.first, partition.second, records);
    if (!outcomes.ok()) return outcomes.status();
    for (const Status& s : *outcomes) {
      if (!s.ok()) return s;
    }
  }
  for (const InsightEvent& e : events) {
    metrics_->GetCounter("orgtrail_insights_records_total", "Insights records stored, by type and state",
                         {{"type", e.insight_type}, {"state", e.state}})
        ->Increment();
    logger_->Info("insight", {{"state", e.state}, {"type", e.insight_type}, {"account", e.account_id},
                              {"region", e.region}, {"event_source", e.event_source}, {"event_name", e.event_name},
                              {"event_id", e.event_id}});
  }
  return Status();
}

// The cursor with only the state entries that changed in the round, in one synced write.
Status InsightsEngine::WriteCursor(uint64_t cursor) {
  std::vector<EventStore::MetadataEntry> entries = {{kCursorKey, EncodeCursor(cursor)}};
  for (auto& [name, value] : detector_.TakeChanges()) entries.emplace_back(kStatePrefix + name, std::move(value));
  return store_->WriteMetadata(entries);
}

}  // namespace orgtrail::collector
