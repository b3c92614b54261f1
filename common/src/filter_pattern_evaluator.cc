// CloudWatch Logs JSON filter patterns: the evaluator (see filter_pattern.h
// for the matching rules). The parser is in filter_pattern.cc.
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "filter_pattern_glob.h"
#include "filter_pattern_node.h"
#include "orgtrail/common/filter_pattern.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail {

struct FilterEvaluator::Impl {
  simdjson::dom::parser parser{16u << 20};  // refuses documents above 16 MiB
  simdjson::dom::element root;
  bool loaded = false;
};

namespace {

using filter_pattern_internal::CompareOp;
using filter_pattern_internal::GlobMatches;
using filter_pattern_internal::PathStep;
using Node = FilterPattern::Node;

// The element the path selects, or nullopt when it selects nothing.
std::optional<simdjson::dom::element> Resolve(simdjson::dom::element current, const std::vector<PathStep>& path) {
  for (const PathStep& step : path) {
    if (step.is_index) {
      simdjson::dom::array array;
      if (current.get_array().get(array) != simdjson::SUCCESS) return std::nullopt;
      if (array.at(step.index).get(current) != simdjson::SUCCESS) return std::nullopt;
    } else {
      simdjson::dom::object object;
      if (current.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
      if (object.at_key(step.name).get(current) != simdjson::SUCCESS) return std::nullopt;
    }
  }
  return current;
}

bool CompareNumbers(CompareOp op, double field, double value) {
  switch (op) {
    case CompareOp::kEq: return field == value;
    case CompareOp::kNe: return field != value;
    case CompareOp::kLt: return field < value;
    case CompareOp::kGt: return field > value;
    case CompareOp::kLe: return field <= value;
    case CompareOp::kGe: return field >= value;
    default: return false;
  }
}

bool EvaluateComparison(const Node& node, simdjson::dom::element root) {
  std::optional<simdjson::dom::element> field = Resolve(root, node.path);
  if (node.op == CompareOp::kNotExists) return !field.has_value();
  if (!field) return false;
  switch (node.op) {
    case CompareOp::kIsNull: return field->is_null();
    case CompareOp::kIsTrue: {
      bool b = false;
      return field->get_bool().get(b) == simdjson::SUCCESS && b;
    }
    case CompareOp::kIsFalse: {
      bool b = true;
      return field->get_bool().get(b) == simdjson::SUCCESS && !b;
    }
    default: break;
  }
  if (node.numeric) {
    if (!field->is_number()) return false;
    double d = 0;
    if (field->get_double().get(d) != simdjson::SUCCESS) return false;
    return CompareNumbers(node.op, d, node.number);
  }
  std::string_view s;
  if (field->get_string().get(s) != simdjson::SUCCESS) return false;
  bool equal = GlobMatches(node.glob, s);
  return node.op == CompareOp::kEq ? equal : !equal;
}

bool EvaluateNode(const Node& node, simdjson::dom::element root) {
  switch (node.kind) {
    case Node::Kind::kOr:
      for (const auto& child : node.children) {
        if (EvaluateNode(*child, root)) return true;
      }
      return false;
    case Node::Kind::kAnd:
      for (const auto& child : node.children) {
        if (!EvaluateNode(*child, root)) return false;
      }
      return true;
    case Node::Kind::kCompare:
      return EvaluateComparison(node, root);
  }
  return false;
}

}  // namespace

FilterEvaluator::FilterEvaluator() : impl_(std::make_unique<Impl>()) {}
FilterEvaluator::~FilterEvaluator() = default;

Status FilterEvaluator::Load(std::string_view json) {
  impl_->loaded = false;
  // An empty view may have a null data(): simdjson would memcpy from it (undefined behaviour).
  const char* bytes = json.empty() ? "" : json.data();
  simdjson::error_code error = impl_->parser.parse(bytes, json.size(), /*realloc_if_needed=*/true).get(impl_->root);
  if (error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat("record is not valid JSON: ", simdjson::error_message(error)));
  }
  impl_->loaded = true;
  return absl::OkStatus();
}

bool FilterEvaluator::Matches(const FilterPattern& pattern) const {
  if (pattern.matches_everything()) return true;
  if (!impl_->loaded) return false;
  return EvaluateNode(*pattern.root(), impl_->root);
}

StatusOr<bool> FilterEvaluator::Evaluate(const FilterPattern& pattern, std::string_view json) {
  ORGTRAIL_RETURN_IF_ERROR(Load(json));
  return Matches(pattern);
}

}  // namespace orgtrail
