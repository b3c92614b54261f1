#include "collector/findings/retro_hunt.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>

#include <google/protobuf/arena.h>

#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

constexpr size_t kFindingsPerMessage = 256;
constexpr auto kProgressEvery = std::chrono::milliseconds(250);
constexpr size_t kMaxHeldForCorrelationBytes = 256u << 20;

}  // namespace

StatusOr<std::unique_ptr<RetroHunt>> RetroHunt::Compile(const v1::HuntRequest& request) {
  if (request.rules_size() == 0) return absl::InvalidArgumentError("rules: none given");
  if (static_cast<size_t>(request.rules_size()) > kMaxHuntRules) {
    return absl::InvalidArgumentError("rules: more than " + std::to_string(kMaxHuntRules));
  }
  size_t bytes = 0;
  for (const v1::HuntRule& r : request.rules()) bytes += r.yaml().size() + r.file().size();
  if (bytes > kMaxHuntRuleBytes) return absl::InvalidArgumentError("rules: more than 8 MiB of YAML");
  if (request.start_time_us() < 0 || request.end_time_us() < 0 ||
      (request.end_time_us() != 0 && request.start_time_us() > request.end_time_us())) {
    return absl::InvalidArgumentError("time range: start must not be after end, and neither negative");
  }
  std::unique_ptr<RetroHunt> hunt(new RetroHunt());
  std::vector<std::pair<std::string, std::string>> texts;
  for (const v1::HuntRule& r : request.rules()) texts.emplace_back(r.file().substr(0, 1024), r.yaml());
  detections::LoadReport report;
  hunt->rules_ = detections::LoadRuleSetFromTexts(texts, detections::LoadOptions(), &report);
  if (!report.refused.empty()) {
    std::string refused;
    for (const detections::RefusedRule& r : report.refused) {
      refused += "\n  " + r.file.substr(0, 256) + (r.id.empty() ? "" : " (" + r.id.substr(0, 128) + ")") + ": " +
                 r.reason.substr(0, 512);
    }
    return absl::InvalidArgumentError(std::to_string(report.refused.size()) + " rule(s) cannot run:" + refused);
  }
  if (hunt->rules_->size() == 0 && hunt->rules_->correlations().empty()) return absl::InvalidArgumentError("rules: no rule among the documents");
  for (const detections::LoadedRule& r : report.loaded) hunt->rule_files_[r.id] = r.file;
  for (const detections::LoadedRule& r : report.correlations) hunt->rule_files_[r.id] = r.file;
  hunt->start_us_ = request.start_time_us();
  hunt->end_us_ = request.end_time_us() == 0 ? std::numeric_limits<int64_t>::max() : request.end_time_us();
  hunt->accounts_.insert(request.account_ids().begin(), request.account_ids().end());
  return hunt;
}

Status RetroHunt::Run(const EventStore& store, const std::function<bool(v1::HuntResponse&&)>& emit) {
  detections::RecordParser parser;
  FindingMatcher matcher(rules_.get(), rule_files_);
  // Events a rule matched, kept for the correlations when the hunt has any.
  const bool correlate = !rules_->correlations().empty();
  std::vector<StoredEvent> held;
  size_t held_bytes = 0;
  // Each batch of findings lives on an arena: building a finding's strings costs no malloc.
  auto arena = std::make_unique<google::protobuf::Arena>();
  v1::HuntResponse* pending = google::protobuf::Arena::CreateMessage<v1::HuntResponse>(arena.get());
  v1::HuntProgress progress;
  progress.set_rules(static_cast<uint32_t>(rules_->size()));
  auto last_sent = std::chrono::steady_clock::now();
  auto flush = [&](bool done) {
    progress.set_done(done);
    *pending->mutable_progress() = progress;
    const bool go_on = emit(std::move(*pending));
    arena = std::make_unique<google::protobuf::Arena>();
    pending = google::protobuf::Arena::CreateMessage<v1::HuntResponse>(arena.get());
    last_sent = std::chrono::steady_clock::now();
    return go_on;
  };
  auto it = store.NewIndexIterator(IndexKind::kAll, "", start_us_, end_us_);
  for (; it->Valid(); it->Next()) {
    const IndexEntry& entry = it->entry();
    if (!accounts_.empty() && accounts_.count(entry.account_id) == 0) continue;
    auto stored = store.GetEventByKey(entry.event_key);
    if (!stored.ok()) return stored.status();
    progress.set_events_scanned(progress.events_scanned() + 1);
    progress.set_reached_time_us(entry.event_time_us);
    if (stored->has_value()) {
      auto record = parser.Parse((*stored)->raw_json);
      if (record.ok()) {
        const int before = pending->findings_size();  // built in place, on the batch's arena
        const bool matched =
            matcher.Match(**stored, *record, NowMicros(), pending->mutable_findings(), FindingMatcher::Kinds::kRulesOnly);
        progress.set_findings(progress.findings() + (pending->findings_size() - before));
        if (matched && correlate) {
          held_bytes += (*stored)->raw_json.size() + sizeof(StoredEvent);
          if (held_bytes > kMaxHeldForCorrelationBytes) {
            return absl::ResourceExhaustedError(
                "the correlation rules' matches in this range exceed 256 MiB: narrow the time range or the accounts");
          }
          held.push_back(std::move(**stored));
        }
      }
    }
    if (static_cast<size_t>(pending->findings_size()) >= kFindingsPerMessage ||
        std::chrono::steady_clock::now() - last_sent >= kProgressEvery) {
      if (!flush(false)) return absl::CancelledError("the hunt's caller went away");
    }
  }
  ORGTRAIL_RETURN_IF_ERROR(it->status());
  // The correlations see the matched events in commit order, as the streaming engine does.
  std::sort(held.begin(), held.end(), [](const StoredEvent& a, const StoredEvent& b) {
    return a.meta.commit_index() < b.meta.commit_index();
  });
  for (const StoredEvent& event : held) {
    auto record = parser.Parse(event.raw_json);
    if (!record.ok()) continue;
    const int before = pending->findings_size();
    matcher.Match(event, *record, NowMicros(), pending->mutable_findings(), FindingMatcher::Kinds::kCorrelationsOnly);
    progress.set_findings(progress.findings() + (pending->findings_size() - before));
    if (static_cast<size_t>(pending->findings_size()) >= kFindingsPerMessage) {
      if (!flush(false)) return absl::CancelledError("the hunt's caller went away");
    }
  }
  flush(true);
  return Status();
}

}  // namespace orgtrail::collector
