#include "collector/findings/findings_engine.h"

#include <google/protobuf/arena.h>

#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {

FindingsEngine::FindingsEngine(EventStore* store, const detections::RuleSet* rules,
                               std::map<std::string, std::string> rule_files, Logger* logger,
                               MetricsRegistry* metrics, FindingsEngineOptions options)
    : store_(store), rules_(rules), logger_(logger), metrics_(metrics), options_(options), log_(store),
      matcher_(rules, std::move(rule_files), FindingMatcher::RuleFields::kByReference),
      follower_(store, logger, metrics,
                CommitFollowerOptions{"findings", "orgtrail_findings_lag_commits",
                                      "Stored events the Sigma rules have not run on yet", options.idle_wait_us}) {
  evaluated_ = metrics->GetCounter("orgtrail_findings_events_evaluated_total",
                                   "Stored events the Sigma rules were run on");
  for (const FindingMatcher::RuleVersion& v : matcher_.rule_versions()) {
    findings_of_rule_[v.fields.rule_id()] =
        metrics->GetCounter("orgtrail_findings_total", "Findings recorded, by Sigma rule and level",
                            {{"rule", v.fields.rule_id()}, {"level", v.fields.level()}});
  }
}

FindingsEngine::~FindingsEngine() { Stop(); }

Status FindingsEngine::Start() {
  // Findings name their rule's fields by reference: the rule table has every loaded version first.
  std::vector<std::pair<uint64_t, v1::FindingRule>> versions;
  for (const FindingMatcher::RuleVersion& v : matcher_.rule_versions()) versions.emplace_back(v.ref, v.fields);
  ORGTRAIL_RETURN_IF_ERROR(log_.PutRules(versions));
  // The correlation windows open at the cursor (stored with it); a removed correlation's are dropped.
  size_t windows = 0;
  ORGTRAIL_RETURN_IF_ERROR(log_.ForEachWindow([&](detections::WindowUpdate&& w) {
    windows += matcher_.correlations()->RestoreWindow(w.correlation_id, w.group_json, std::move(w.entries)) ? 1 : 0;
  }));
  uint64_t cursor = 0;
  if (log_.HasCursor()) {
    auto stored = log_.Cursor();
    if (!stored.ok()) return stored.status();
    cursor = *stored;
  } else {
    // First start: from the store's last commit on (a retro-hunt covers what came before).
    cursor = store_->last_commit_index();
    ORGTRAIL_RETURN_IF_ERROR(log_.Append({}, cursor));
  }
  logger_->Info("sigma rules running on stored events",
                {{"rules", static_cast<uint64_t>(rules_->size())},
                 {"correlations", static_cast<uint64_t>(rules_->correlations().size())},
                 {"open_windows", static_cast<uint64_t>(windows)},
                 {"cursor", cursor}});
  follower_.Start(cursor, [this](uint64_t last) { return ProcessThrough(last); });
  return Status();
}

void FindingsEngine::Stop() { follower_.Stop(); }

Status FindingsEngine::ProcessThrough(uint64_t last) {
  while (follower_.cursor() < last && !follower_.stopping()) {
    // The round's findings live on an arena over the engine's block: building them costs no
    // malloc per string, and a round's findings (~150 bytes per event) fit the block.
    google::protobuf::ArenaOptions arena_options;
    arena_options.initial_block = arena_block_.data();
    arena_options.initial_block_size = arena_block_.size();
    google::protobuf::Arena arena(arena_options);
    auto* findings = google::protobuf::Arena::CreateMessage<google::protobuf::RepeatedPtrField<v1::Finding>>(&arena);
    uint64_t evaluated = 0;
    auto done = follower_.ReadRound(last, options_.max_events_per_write, [&](const StoredEvent& event) {
      ++evaluated;
      auto record = parser_.Parse(event.raw_json);
      // The collector stored it, so it is JSON; a record too deep for the rules is not matched.
      if (record.ok()) matcher_.Match(event, *record, NowMicros(), findings);
    });
    if (!done.ok()) return done.status();
    if (*done == follower_.cursor()) return Status();  // nothing readable yet beyond the cursor
    ORGTRAIL_RETURN_IF_ERROR(log_.Append(*findings, *done, matcher_.correlations()->TakeChangedWindows()));
    for (const v1::Finding& f : *findings) {
      auto counter = findings_of_rule_.find(f.rule_id());
      if (counter != findings_of_rule_.end()) counter->second->Increment();
    }
    evaluated_->Increment(evaluated);
    follower_.Advance(*done);
  }
  return Status();
}

}  // namespace orgtrail::collector
