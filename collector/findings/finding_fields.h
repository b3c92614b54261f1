// Findings of stored events: a stored event's fields (the rule and correlation fields are
// detections/finding.h's), and FindingMatcher, which runs a rule set. Shared by the streaming engine
// (findings_engine.h) and the retro-hunt (retro_hunt.h), so both give the same findings.
// Pure functions; thread-safe.
#ifndef ORGTRAIL_COLLECTOR_FINDINGS_FINDING_FIELDS_H_
#define ORGTRAIL_COLLECTOR_FINDINGS_FINDING_FIELDS_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/store/store.h"
#include "orgtrail/detections/correlation_state.h"
#include "orgtrail/detections/finding.h"
#include "orgtrail/detections/rule.h"
#include "orgtrail/v1/findings.pb.h"

namespace orgtrail::collector {

// Commit index, event id, account, region, event time, eventSource and eventName.
void SetEventFields(const StoredEvent& event, const detections::Record& record, v1::Finding* finding);

detections::EventRef EventRefOf(const StoredEvent& event);

// The reference a stored finding names its rule's fields by (Finding.rule_ref): the first 8 bytes
// of the SHA-256 of the fields' deterministic serialization, so an edited rule gets a new one and
// findings recorded before the edit keep the fields they were found with. Never 0.
uint64_t RuleRefOf(const v1::FindingRule& rule);

// Runs a rule set over stored events in commit order and appends their findings: one per
// reporting rule an event matched (RuleSet::Reports), one per correlation it completed.
// Not thread-safe (it owns the correlation windows).
class FindingMatcher {
 public:
  // How a finding carries its rule's fields: kInline sets them all (what callers are shown);
  // kByReference sets rule_id and rule_ref only (the stored form: the fields are in
  // rule_versions(), written once to the findings log's rule table).
  enum class RuleFields { kInline, kByReference };
  // rules must outlive the matcher; rule_files maps rule or correlation id -> file.
  FindingMatcher(const detections::RuleSet* rules, std::map<std::string, std::string> rule_files,
                 RuleFields rule_fields = RuleFields::kInline);
  // Which findings Match() appends: the retro-hunt takes the rules' as it scans (newest first)
  // and the correlations' afterwards, over the matched events put back in commit order.
  enum class Kinds { kAll, kRulesOnly, kCorrelationsOnly };
  // Appends the findings of one event, built in place (on out's arena, if it has one);
  // detected_time_us is stamped on each. Returns whether any rule matched the event (reporting
  // or not).
  using Findings = google::protobuf::RepeatedPtrField<v1::Finding>;
  bool Match(const StoredEvent& event, const detections::Record& record, int64_t detected_time_us, Findings* out,
             Kinds kinds = Kinds::kAll);
  detections::CorrelationState* correlations() { return &correlations_; }

  // Every rule's and correlation's fields, each with its reference (kByReference only).
  struct RuleVersion {
    uint64_t ref = 0;
    v1::FindingRule fields;
  };
  const std::vector<RuleVersion>& rule_versions() const { return versions_; }

 private:
  const RuleVersion& VersionOf(const void* rule) const { return versions_[version_of_.at(rule)]; }
  std::string FileOf(const std::string& id) const;

  const detections::RuleSet* rules_;
  std::map<std::string, std::string> rule_files_;
  RuleFields rule_fields_;
  std::vector<RuleVersion> versions_;
  std::unordered_map<const void*, size_t> version_of_;  // Rule* or CorrelationRule* -> versions_
  detections::CorrelationState correlations_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_FINDINGS_FINDING_FIELDS_H_
