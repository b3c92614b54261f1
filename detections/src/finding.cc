// Filling v1::Finding from rules and correlations (see finding.h).
#include "orgtrail/detections/finding.h"

namespace orgtrail::detections {
namespace {

// What DRL 1.1 asks every finding to keep of its rule, and the file it came from.
void SetMetadataFields(const RuleMetadata& m, const std::string& rule_file, v1::Finding* f) {
  f->set_rule_id(m.id);
  f->set_rule_title(m.title);
  f->set_level(m.level);
  f->set_rule_status(m.status);
  f->set_author(m.author);
  for (const std::string& r : m.references) f->add_references(r);
  for (const std::string& t : m.tags) f->add_tags(t);
  f->set_rule_file(rule_file);
}

}  // namespace

void SetRuleFields(const Rule& rule, const std::string& rule_file, v1::Finding* f) {
  SetMetadataFields(rule.metadata(), rule_file, f);
}

void SetCorrelationFields(const CorrelationMatch& match, const std::string& rule_file,
                          v1::Finding* f) {
  SetMetadataFields(match.rule->metadata, rule_file, f);
  SetCorrelationEvents(match, f);
}

void SetCorrelationEvents(const CorrelationMatch& match, v1::Finding* f) {
  f->set_correlation_type(std::string(CorrelationTypeName(match.rule->type)));
  f->set_group(match.group_json);
  f->set_correlated_events_total(static_cast<uint32_t>(match.entries.size()));
  for (size_t i = 0; i < match.entries.size() && i < kMaxCorrelatedEventsListed; ++i) {
    SetCorrelatedEvent(match.entries[i], f->add_correlated_events());
  }
}

v1::FindingRule FindingRuleOf(const RuleMetadata& m, const std::string& rule_file) {
  v1::FindingRule out;
  out.set_rule_id(m.id);
  out.set_rule_title(m.title);
  out.set_level(m.level);
  out.set_rule_status(m.status);
  out.set_author(m.author);
  for (const std::string& r : m.references) out.add_references(r);
  for (const std::string& t : m.tags) out.add_tags(t);
  out.set_rule_file(rule_file);
  return out;
}

void SetRuleFields(const v1::FindingRule& rule, v1::Finding* f) {
  f->set_rule_id(rule.rule_id());
  f->set_rule_title(rule.rule_title());
  f->set_level(rule.level());
  f->set_rule_status(rule.rule_status());
  f->set_author(rule.author());
  f->mutable_references()->CopyFrom(rule.references());
  f->mutable_tags()->CopyFrom(rule.tags());
  f->set_rule_file(rule.rule_file());
}

void SetCorrelatedEvent(const WindowEntry& e, v1::CorrelatedEvent* out) {
  out->set_commit_index(e.event.commit_index);
  out->set_event_id(e.event.event_id);
  out->set_account_id(e.event.account_id);
  out->set_region(e.event.region);
  out->set_event_time_us(e.time_us);
  out->set_rule_index(e.rule_index);
  out->set_value(e.value);
}

WindowEntry WindowEntryOf(const v1::CorrelatedEvent& stored) {
  WindowEntry e;
  e.time_us = stored.event_time_us();
  e.rule_index = stored.rule_index();
  e.value = stored.value();
  e.event.commit_index = stored.commit_index();
  e.event.event_id = stored.event_id();
  e.event.account_id = stored.account_id();
  e.event.region = stored.region();
  e.event.time_us = stored.event_time_us();
  return e;
}

}  // namespace orgtrail::detections
