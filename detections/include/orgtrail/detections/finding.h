// Filling orgtrail.v1.Finding (proto/orgtrail/v1/findings.proto) from what the engine matched:
// a rule's fields, a completed correlation's fields, and the conversions between correlation
// windows and their stored form (v1::CorrelatedEvent). Used by the collector (streaming and
// retro-hunt) and by `orgtrailctl hunt` over archives, so every finding is filled alike.
// Pure functions; thread-safe.
#ifndef ORGTRAIL_DETECTIONS_FINDING_H_
#define ORGTRAIL_DETECTIONS_FINDING_H_

#include <string>

#include "orgtrail/detections/correlation_state.h"
#include "orgtrail/detections/rule.h"
#include "orgtrail/v1/findings.pb.h"

namespace orgtrail::detections {

// The most events a correlation's finding lists (correlated_events_total has them all).
inline constexpr size_t kMaxCorrelatedEventsListed = 1000;

// Rule id, title, level, status, author, references, tags and file.
void SetRuleFields(const Rule& rule, const std::string& rule_file, v1::Finding* finding);
// A correlation's rule fields, type, group and events (the event fields are the caller's).
void SetCorrelationFields(const CorrelationMatch& match, const std::string& rule_file, v1::Finding* finding);
// Only the correlation's type, group and events (the rule's fields are the caller's).
void SetCorrelationEvents(const CorrelationMatch& match, v1::Finding* finding);
// A rule's (or correlation's) fields as one record, and setting them on a finding from it:
// SetRuleFields(FindingRuleOf(m, file), f) sets what SetRuleFields(rule, file, f) sets.
v1::FindingRule FindingRuleOf(const RuleMetadata& metadata, const std::string& rule_file);
void SetRuleFields(const v1::FindingRule& rule, v1::Finding* finding);
void SetCorrelatedEvent(const WindowEntry& entry, v1::CorrelatedEvent* out);
WindowEntry WindowEntryOf(const v1::CorrelatedEvent& stored);

}  // namespace orgtrail::detections

#endif  // ORGTRAIL_DETECTIONS_FINDING_H_
