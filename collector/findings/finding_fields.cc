// Findings of stored events (see finding_fields.h).
#include "collector/findings/finding_fields.h"

#include <string_view>

namespace orgtrail::collector {

using detections::SetCorrelationFields;
using detections::SetRuleFields;

void SetEventFields(const StoredEvent& event, const detections::Record& record, v1::Finding* f) {
  std::string_view source, name;
  if (record.root()["eventSource"].get(source) != simdjson::SUCCESS) source = "";
  if (record.root()["eventName"].get(name) != simdjson::SUCCESS) name = "";
  f->set_commit_index(event.meta.commit_index());
  f->set_event_id(event.key.event_id);
  f->set_account_id(event.key.account_id);
  f->set_region(event.key.region);
  f->set_event_time_us(event.key.event_time_us);
  f->set_event_source(std::string(source));
  f->set_event_name(std::string(name));
}

detections::EventRef EventRefOf(const StoredEvent& event) {
  detections::EventRef ref;
  ref.commit_index = event.meta.commit_index();
  ref.event_id = event.key.event_id;
  ref.account_id = event.key.account_id;
  ref.region = event.key.region;
  ref.time_us = event.key.event_time_us;
  return ref;
}

FindingMatcher::FindingMatcher(const detections::RuleSet* rules, std::map<std::string, std::string> rule_files)
    : rules_(rules), rule_files_(std::move(rule_files)), correlations_(rules) {}

bool FindingMatcher::Match(const StoredEvent& event, const detections::Record& record, int64_t detected_time_us,
                           Findings* out, Kinds kinds) {
  const std::vector<const detections::Rule*> matched = rules_->Match(record);
  if (matched.empty()) return false;
  auto file_of = [&](const std::string& id) {
    auto it = rule_files_.find(id);
    return it == rule_files_.end() ? std::string() : it->second;
  };
  for (const detections::Rule* rule : matched) {
    if (kinds == Kinds::kCorrelationsOnly || !rules_->Reports(rule->id())) continue;  // feeds correlations only (Sigma's generate: false)
    v1::Finding* f = out->Add();
    SetRuleFields(*rule, file_of(rule->id()), f);
    SetEventFields(event, record, f);
    f->set_detected_time_us(detected_time_us);
  }
  if (kinds == Kinds::kRulesOnly) return true;
  std::vector<detections::CorrelationMatch> completed;
  correlations_.Observe(record, EventRefOf(event), matched, &completed);
  for (const detections::CorrelationMatch& match : completed) {
    if (!rules_->Reports(match.rule->metadata.id)) continue;  // an intermediate of a chain
    v1::Finding* f = out->Add();
    SetEventFields(event, record, f);
    SetCorrelationFields(match, file_of(match.rule->metadata.id), f);
    f->set_detected_time_us(detected_time_us);
  }
  return true;
}

}  // namespace orgtrail::collector
