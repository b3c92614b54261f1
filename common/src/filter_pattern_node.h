// Private to the filter pattern code: the parsed expression, FilterPattern::Node
// (opaque in orgtrail/common/filter_pattern.h), built by the parser
// (filter_pattern.cc) and walked by the evaluator (filter_pattern_evaluator.cc).
// Contract: a kOr / kAnd node has at least two children (a single term is
// not wrapped); a kCompare node has a non-empty path. For kEq..kGe, `numeric`
// says whether the value is `number` (compared against JSON numbers only) or
// `glob` (against JSON strings only; only kEq / kNe). kIsNull, kIsTrue,
// kIsFalse and kNotExists carry no value. Immutable once parsed.
#ifndef ORGTRAIL_COMMON_SRC_FILTER_PATTERN_NODE_H_
#define ORGTRAIL_COMMON_SRC_FILTER_PATTERN_NODE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "filter_pattern_glob.h"
#include "orgtrail/common/filter_pattern.h"

namespace orgtrail {
namespace filter_pattern_internal {

struct PathStep {
  bool is_index = false;
  std::string name;
  uint32_t index = 0;
};

enum class CompareOp { kEq, kNe, kLt, kGt, kLe, kGe, kIsNull, kIsTrue, kIsFalse, kNotExists };

}  // namespace filter_pattern_internal

struct FilterPattern::Node {
  enum class Kind { kOr, kAnd, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<std::unique_ptr<Node>> children;  // kOr / kAnd
  // kCompare:
  std::vector<filter_pattern_internal::PathStep> path;
  filter_pattern_internal::CompareOp op = filter_pattern_internal::CompareOp::kEq;
  bool numeric = false;
  double number = 0;
  filter_pattern_internal::Glob glob;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_SRC_FILTER_PATTERN_NODE_H_
