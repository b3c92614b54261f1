// A rule's detection block compiled: its search identifiers (each an OR of alternatives, each an
// AND of field items) and its condition(s) parsed once into a tree.
//
// Condition grammar (Sigma rules specification), least to most binding: or, and, not,
// `1 of X` / `all of X` / `1 of them` / `all of them` (X a search-identifier pattern with `*`;
// `them` leaves out identifiers starting with `_`), parentheses. A list of conditions is OR-linked.
// Legacy aggregations (`| count() ...`) are refused: they are correlation rules now.
// Immutable after Compile; Matches() is thread-safe.
#ifndef ORGTRAIL_DETECTIONS_SRC_DETECTION_H_
#define ORGTRAIL_DETECTIONS_SRC_DETECTION_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "field_item.h"
#include "orgtrail/common/status.h"
#include "orgtrail/detections/record.h"
#include "orgtrail/detections/rule.h"

namespace orgtrail::detections {

namespace internal {

struct Selection {
  std::string name;
  std::vector<std::vector<std::unique_ptr<FieldItem>>> alternatives;  // OR of ANDs
  bool Matches(const Record& record) const;
  std::vector<Requirement> Require() const;
};

struct CondNode {
  enum class Op { kAnd, kOr, kNot, kRef, kOneOf, kAllOf } op;
  std::vector<std::unique_ptr<CondNode>> children;
  std::vector<size_t> refs;  // kRef: one; kOneOf / kAllOf: the identifiers the pattern names
};

// Parses `text` against the identifiers in `names`.
StatusOr<std::unique_ptr<CondNode>> ParseCondition(const std::string& text, const std::vector<std::string>& names);

}  // namespace internal

class CompiledDetection {
 public:
  static StatusOr<std::unique_ptr<CompiledDetection>> Compile(const YAML::Node& detection,
                                                              const CompileOptions& options,
                                                              std::vector<std::string>* conditions);
  bool Matches(const Record& record) const;
  // Requirements every match satisfies (any one of them may be used by an index).
  std::vector<Requirement> Require() const;

 private:
  bool Eval(const internal::CondNode& node, const Record& record) const;
  std::vector<Requirement> Require(const internal::CondNode& node) const;
  std::vector<internal::Selection> selections_;
  std::vector<std::unique_ptr<internal::CondNode>> conditions_;
};

}  // namespace orgtrail::detections

#endif  // ORGTRAIL_DETECTIONS_SRC_DETECTION_H_
