// A compiled Sigma correlation rule (Sigma correlation rules specification 2.x): event_count,
// value_count, temporal and temporal_ordered over the rules (or correlations) it names, grouped
// by `group-by` fields (with per-rule `aliases`), within a `timespan`.
//
// orgtrail evaluates correlations as events arrive (correlation_state.h): a group's window is
// checked each time one of its events arrives. Conditions that a single event already meets
// (lt, lte or neq without a lower bound: "fewer than N in an hour") need a window that has
// closed, which a stream never sees; such rules are refused at load (UNIMPLEMENTED, with the
// reason), as are value_sum / value_avg / value_percentile, thresholds above
// kMaxCorrelationWindow and timespans outside 1 s .. 30 d.
//
// Immutable after compilation and resolution (RuleSet resolves the names in `rules`).
#ifndef ORGTRAIL_DETECTIONS_CORRELATION_H_
#define ORGTRAIL_DETECTIONS_CORRELATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/status.h"
#include "orgtrail/detections/record.h"
#include "orgtrail/detections/rule.h"

namespace orgtrail::detections {

// The most events one group's window holds (and so the largest count threshold accepted).
inline constexpr int64_t kMaxCorrelationWindow = 10000;
// The deepest chain of correlations naming correlations; deeper ones are refused at load.
inline constexpr int kMaxCorrelationChainDepth = 16;

enum class CorrelationType { kEventCount, kValueCount, kTemporal, kTemporalOrdered };
std::string_view CorrelationTypeName(CorrelationType type);

// `condition:` of a correlation: every bound given must hold (gt: 100 + lte: 200 is a range).
struct CountCondition {
  std::optional<int64_t> gt, gte, lt, lte, eq, neq;
  bool Holds(int64_t count) const;
  bool HasLowerBound() const { return gt || gte || eq; }
};

struct CorrelationRule {
  RuleMetadata metadata;  // id (or name when no id), title, level, author, references, ...
  std::string name;       // `name:` (how other correlations refer to it), may be empty
  CorrelationType type = CorrelationType::kEventCount;
  std::vector<std::string> rule_refs;     // `rules:` as written (ids or names)
  std::vector<std::string> group_by;      // `group-by:` as written (fields or alias names)
  // Per referenced rule (same order as rule_refs), the record field of each group_by entry
  // (the alias resolved for that rule, else the entry itself).
  std::vector<std::vector<FieldPath>> group_paths;
  int64_t timespan_us = 0;
  CountCondition condition;
  std::optional<FieldPath> value_field;  // value_count: `condition: field:`
  bool generate = false;                 // `generate: true`: the referenced rules also report alone
};

// Compiles one YAML document holding one correlation rule (its `rules` are resolved later, by
// the RuleSet it is loaded into). INVALID_ARGUMENT / UNIMPLEMENTED with the reason.
StatusOr<CorrelationRule> CompileCorrelation(std::string_view yaml_text);

}  // namespace orgtrail::detections

#endif  // ORGTRAIL_DETECTIONS_CORRELATION_H_
