// Findings of stored events (see finding_fields.h).
#include "collector/findings/finding_fields.h"

#include <string_view>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "orgtrail/common/hash.h"

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

uint64_t RuleRefOf(const v1::FindingRule& rule) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    rule.SerializeToCodedStream(&out);
  }
  const auto digest = Sha256(bytes);
  uint64_t ref = 0;
  for (int i = 0; i < 8; ++i) ref = (ref << 8) | static_cast<uint8_t>(digest[i]);
  return ref == 0 ? 1 : ref;
}

FindingMatcher::FindingMatcher(const detections::RuleSet* rules, std::map<std::string, std::string> rule_files,
                               RuleFields rule_fields)
    : rules_(rules), rule_files_(std::move(rule_files)), rule_fields_(rule_fields), correlations_(rules) {
  if (rule_fields_ != RuleFields::kByReference) return;
  auto add = [&](const void* rule, const detections::RuleMetadata& metadata) {
    RuleVersion version;
    version.fields = detections::FindingRuleOf(metadata, FileOf(metadata.id));
    version.ref = RuleRefOf(version.fields);
    version_of_[rule] = versions_.size();
    versions_.push_back(std::move(version));
  };
  for (const auto& rule : rules_->rules()) add(rule.get(), rule->metadata());
  for (const auto& correlation : rules_->correlations()) add(correlation.get(), correlation->metadata);
}

std::string FindingMatcher::FileOf(const std::string& id) const {
  auto it = rule_files_.find(id);
  return it == rule_files_.end() ? std::string() : it->second;
}

bool FindingMatcher::Match(const StoredEvent& event, const detections::Record& record, int64_t detected_time_us,
                           Findings* out, Kinds kinds) {
  const std::vector<const detections::Rule*> matched = rules_->Match(record);
  if (matched.empty()) return false;
  const bool by_reference = rule_fields_ == RuleFields::kByReference;
  for (const detections::Rule* rule : matched) {
    if (kinds == Kinds::kCorrelationsOnly || !rules_->Reports(rule->id())) continue;  // feeds correlations only (Sigma's generate: false)
    v1::Finding* f = out->Add();
    if (by_reference) {
      f->set_rule_id(rule->id());
      f->set_rule_ref(VersionOf(rule).ref);
    } else {
      SetRuleFields(*rule, FileOf(rule->id()), f);
    }
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
    if (by_reference) {
      f->set_rule_id(match.rule->metadata.id);
      f->set_rule_ref(VersionOf(match.rule).ref);
      detections::SetCorrelationEvents(match, f);
    } else {
      SetCorrelationFields(match, FileOf(match.rule->metadata.id), f);
    }
    f->set_detected_time_us(detected_time_us);
  }
  return true;
}

}  // namespace orgtrail::collector
