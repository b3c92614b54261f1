// RuleSet: the value index and matching (see rule_set.h).
#include "orgtrail/detections/rule_set.h"

#include <algorithm>

#include "orgtrail/common/str_cat.h"
#include "pattern.h"

namespace orgtrail::detections {

Status RuleSet::Add(std::unique_ptr<Rule> rule) {
  if (Find(rule->id()) != nullptr) {
    return absl::AlreadyExistsError(StrCat("a rule with id ", rule->id(), " is already loaded"));
  }
  const std::string& name = rule->metadata().name;
  if (!name.empty() && (names_.count(name) != 0 || (name != rule->id() && Find(name) != nullptr))) {
    return absl::AlreadyExistsError(StrCat("the name ", name, " is already used by a loaded rule"));
  }
  if (names_.count(rule->id()) != 0) {
    return absl::AlreadyExistsError(StrCat("the id ", rule->id(), " is already another rule's name"));
  }
  if (!name.empty()) names_[name] = rule->id();
  size_t index = rules_.size();
  by_id_.emplace(rule->id(), index);
  const Requirement& req = rule->requirement();
  rules_.push_back(std::move(rule));
  if (req.field.empty() || req.values.empty()) {
    unindexed_.push_back(index);
    return absl::OkStatus();
  }
  auto it = std::find_if(index_.begin(), index_.end(), [&](const FieldIndex& f) { return f.path.text == req.field; });
  if (it == index_.end()) {
    index_.push_back(FieldIndex{FieldPath::Parse(req.field), {}});
    it = index_.end() - 1;
  }
  for (const std::string& value : req.values) it->by_value[value].push_back(index);
  return absl::OkStatus();
}

Status RuleSet::AddCorrelation(CorrelationRule rule) {
  auto taken = [&](const std::string& key) {
    if (key.empty()) return false;
    if (Find(key) != nullptr || names_.count(key) != 0) return true;
    for (const auto& c : correlations_) {
      if (c->metadata.id == key) return true;
    }
    return false;
  };
  if (taken(rule.metadata.id)) {
    return absl::AlreadyExistsError(StrCat("a rule or correlation with id or name ", rule.metadata.id, " is already loaded"));
  }
  if (rule.name != rule.metadata.id && taken(rule.name)) {
    return absl::AlreadyExistsError(StrCat("a rule or correlation with id or name ", rule.name, " is already loaded"));
  }
  if (!rule.name.empty()) names_[rule.name] = rule.metadata.id;
  correlations_.push_back(std::make_unique<CorrelationRule>(std::move(rule)));
  return absl::OkStatus();
}

const Rule* RuleSet::Find(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : rules_[it->second].get();
}

Rule* RuleSet::FindMutable(std::string_view id) {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : rules_[it->second].get();
}

std::vector<const Rule*> RuleSet::Match(const Record& record) const {
  std::vector<size_t> candidates = unindexed_;
  Values values;
  std::string storage, lowered;
  std::string_view text;
  for (const FieldIndex& field : index_) {
    values.clear();
    record.Select(field.path, &values);
    for (simdjson::dom::element v : values) {
      if (!ValueView(v, &storage, &text)) continue;
      lowered.assign(text.data(), text.size());
      for (char& c : lowered) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
      auto hit = field.by_value.find(lowered);
      if (hit != field.by_value.end()) candidates.insert(candidates.end(), hit->second.begin(), hit->second.end());
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::vector<const Rule*> out;
  for (size_t i : candidates) {
    if (rules_[i]->Matches(record)) out.push_back(rules_[i].get());
  }
  return out;
}

std::vector<const Rule*> RuleSet::MatchWithoutIndex(const Record& record) const {
  std::vector<const Rule*> out;
  for (const auto& rule : rules_) {
    if (rule->Matches(record)) out.push_back(rule.get());
  }
  return out;
}

StatusOr<std::vector<std::string>> RuleSet::Match(std::string_view record_json, RecordParser* parser) const {
  auto record = parser->Parse(record_json);
  if (!record.ok()) return record.status();
  std::vector<std::string> ids;
  for (const Rule* rule : Match(*record)) ids.push_back(rule->id());
  return ids;
}

}  // namespace orgtrail::detections
