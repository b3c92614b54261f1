#include "collector/findings/retro_hunt.h"

#include <chrono>
#include <limits>
#include <memory>

#include <google/protobuf/arena.h>

#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

constexpr size_t kFindingsPerMessage = 256;
constexpr auto kProgressEvery = std::chrono::milliseconds(250);

}  // namespace

void SetRuleFields(const detections::Rule& rule, const std::string& rule_file, v1::Finding* f) {
  const detections::RuleMetadata& m = rule.metadata();
  f->set_rule_id(m.id);
  f->set_rule_title(m.title);
  f->set_level(m.level);
  f->set_rule_status(m.status);
  f->set_author(m.author);
  for (const std::string& r : m.references) f->add_references(r);
  for (const std::string& t : m.tags) f->add_tags(t);
  f->set_rule_file(rule_file);
}

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
  if (hunt->rules_->size() == 0) return absl::InvalidArgumentError("rules: no rule among the documents");
  for (const detections::LoadedRule& r : report.loaded) hunt->rule_files_[r.id] = r.file;
  hunt->start_us_ = request.start_time_us();
  hunt->end_us_ = request.end_time_us() == 0 ? std::numeric_limits<int64_t>::max() : request.end_time_us();
  hunt->accounts_.insert(request.account_ids().begin(), request.account_ids().end());
  return hunt;
}

Status RetroHunt::Run(const EventStore& store, const std::function<bool(v1::HuntResponse&&)>& emit) {
  detections::RecordParser parser;
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
      const StoredEvent& event = **stored;
      auto record = parser.Parse(event.raw_json);
      if (record.ok()) {
        std::vector<const detections::Rule*> matched = rules_->Match(*record);
        if (!matched.empty()) {
          std::string_view source, name;
          if (record->root()["eventSource"].get(source) != simdjson::SUCCESS) source = "";
          if (record->root()["eventName"].get(name) != simdjson::SUCCESS) name = "";
          const int64_t now = NowMicros();
          for (const detections::Rule* rule : matched) {
            v1::Finding* f = pending->add_findings();
            SetRuleFields(*rule, rule_files_[rule->id()], f);
            f->set_commit_index(event.meta.commit_index());
            f->set_event_id(event.key.event_id);
            f->set_account_id(event.key.account_id);
            f->set_region(event.key.region);
            f->set_event_source(std::string(source));
            f->set_event_name(std::string(name));
            f->set_event_time_us(event.key.event_time_us);
            f->set_detected_time_us(now);
            progress.set_findings(progress.findings() + 1);
          }
        }
      }
    }
    if (static_cast<size_t>(pending->findings_size()) >= kFindingsPerMessage ||
        std::chrono::steady_clock::now() - last_sent >= kProgressEvery) {
      if (!flush(false)) return absl::CancelledError("the hunt's caller went away");
    }
  }
  ORGTRAIL_RETURN_IF_ERROR(it->status());
  flush(true);
  return Status();
}

}  // namespace orgtrail::collector
