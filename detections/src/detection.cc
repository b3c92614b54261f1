// CompiledDetection: search identifiers, conditions, evaluation and index requirements.
#include "detection.h"

#include <algorithm>

#include "orgtrail/common/str_cat.h"

namespace orgtrail::detections {

using internal::CondNode;
using internal::FieldItem;
using internal::Selection;

namespace {

constexpr size_t kMaxSelections = 1024;
constexpr size_t kMaxItems = 4096;

// Requirements common to all branches of an OR: same field in every branch, values united.
std::vector<Requirement> Common(const std::vector<std::vector<Requirement>>& branches) {
  std::vector<Requirement> out;
  if (branches.empty()) return out;
  for (const Requirement& first : branches[0]) {
    Requirement merged = first;
    bool everywhere = true;
    for (size_t b = 1; b < branches.size() && everywhere; ++b) {
      const Requirement* found = nullptr;
      for (const Requirement& r : branches[b]) {
        if (r.field == first.field) { found = &r; break; }
      }
      if (found == nullptr) everywhere = false;
      else merged.values.insert(found->values.begin(), found->values.end());
    }
    if (everywhere) out.push_back(std::move(merged));
  }
  return out;
}

StatusOr<std::vector<std::unique_ptr<FieldItem>>> CompileMap(const YAML::Node& map, const CompileOptions& options) {
  std::vector<std::unique_ptr<FieldItem>> items;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) return absl::InvalidArgumentError("a field name must be a string");
    auto item = FieldItem::Compile(it->first.Scalar(), it->second, options);
    if (!item.ok()) {
      return absl::Status(item.status().code(), StrCat("field '", it->first.Scalar(), "': ", std::string(item.status().message())));
    }
    items.push_back(std::move(*item));
  }
  if (items.empty()) return absl::InvalidArgumentError("empty map");
  return items;
}

StatusOr<Selection> CompileSelection(const std::string& name, const YAML::Node& node, const CompileOptions& options) {
  Selection selection;
  selection.name = name;
  if (node.IsMap()) {
    auto items = CompileMap(node, options);
    if (!items.ok()) return items.status();
    selection.alternatives.push_back(std::move(*items));
  } else if (node.IsSequence()) {
    if (node.size() == 0) return absl::InvalidArgumentError("empty list");
    if (node.size() > kMaxItems) return absl::InvalidArgumentError("too many list items");
    YAML::Node keywords(YAML::NodeType::Sequence);
    for (const YAML::Node& element : node) {
      if (element.IsMap()) {
        auto items = CompileMap(element, options);
        if (!items.ok()) return items.status();
        selection.alternatives.push_back(std::move(*items));
      } else if (element.IsScalar()) {
        keywords.push_back(element);
      } else {
        return absl::InvalidArgumentError("a list item must be a map or a keyword string");
      }
    }
    if (keywords.size() > 0) {
      auto item = FieldItem::Compile("", keywords, options);
      if (!item.ok()) return item.status();
      std::vector<std::unique_ptr<FieldItem>> alt;
      alt.push_back(std::move(*item));
      selection.alternatives.push_back(std::move(alt));
    }
  } else if (node.IsScalar()) {
    auto item = FieldItem::Compile("", node, options);  // a single keyword
    if (!item.ok()) return item.status();
    std::vector<std::unique_ptr<FieldItem>> alt;
    alt.push_back(std::move(*item));
    selection.alternatives.push_back(std::move(alt));
  } else {
    return absl::InvalidArgumentError("must be a map, a list or a keyword");
  }
  return selection;
}

}  // namespace

namespace internal {

bool Selection::Matches(const Record& record) const {
  for (const auto& alternative : alternatives) {
    bool all = true;
    for (const auto& item : alternative) {
      if (!item->Matches(record)) { all = false; break; }
    }
    if (all) return true;
  }
  return false;
}

std::vector<Requirement> Selection::Require() const {
  std::vector<std::vector<Requirement>> branches;
  for (const auto& alternative : alternatives) {
    std::vector<Requirement> reqs;
    for (const auto& item : alternative) {
      if (auto r = item->Require()) reqs.push_back(std::move(*r));
    }
    branches.push_back(std::move(reqs));
  }
  return Common(branches);
}

}  // namespace internal

StatusOr<std::unique_ptr<CompiledDetection>> CompiledDetection::Compile(const YAML::Node& detection,
                                                                        const CompileOptions& options,
                                                                        std::vector<std::string>* conditions) {
  if (!detection.IsMap()) return absl::InvalidArgumentError("detection must be a map");
  auto compiled = std::unique_ptr<CompiledDetection>(new CompiledDetection());
  std::vector<std::string> names;
  YAML::Node condition_node;
  for (auto it = detection.begin(); it != detection.end(); ++it) {
    if (!it->first.IsScalar()) return absl::InvalidArgumentError("detection keys must be strings");
    const std::string name = it->first.Scalar();
    if (name == "condition") {
      condition_node = it->second;
      continue;
    }
    if (name == "timeframe") return absl::UnimplementedError("timeframe belongs to correlation rules");
    if (compiled->selections_.size() >= kMaxSelections) return absl::InvalidArgumentError("too many search identifiers");
    auto selection = CompileSelection(name, it->second, options);
    if (!selection.ok()) {
      return absl::Status(selection.status().code(),
                          StrCat("search identifier '", name, "': ", std::string(selection.status().message())));
    }
    names.push_back(name);
    compiled->selections_.push_back(std::move(*selection));
  }
  if (!condition_node.IsDefined() || condition_node.IsNull()) return absl::InvalidArgumentError("detection has no condition");
  if (condition_node.IsScalar()) {
    conditions->push_back(condition_node.Scalar());
  } else if (condition_node.IsSequence()) {
    for (const YAML::Node& c : condition_node) {
      if (!c.IsScalar()) return absl::InvalidArgumentError("a condition must be a string");
      conditions->push_back(c.Scalar());
    }
  } else {
    return absl::InvalidArgumentError("condition must be a string or a list of strings");
  }
  if (conditions->empty()) return absl::InvalidArgumentError("detection has no condition");
  for (const std::string& text : *conditions) {
    auto node = internal::ParseCondition(text, names);
    if (!node.ok()) return node.status();
    compiled->conditions_.push_back(std::move(*node));
  }
  return compiled;
}

bool CompiledDetection::Eval(const CondNode& node, const Record& record) const {
  switch (node.op) {
    case CondNode::Op::kAnd:
      for (const auto& c : node.children) {
        if (!Eval(*c, record)) return false;
      }
      return true;
    case CondNode::Op::kOr:
      for (const auto& c : node.children) {
        if (Eval(*c, record)) return true;
      }
      return false;
    case CondNode::Op::kNot: return !Eval(*node.children[0], record);
    case CondNode::Op::kRef: return selections_[node.refs[0]].Matches(record);
    case CondNode::Op::kOneOf:
      for (size_t r : node.refs) {
        if (selections_[r].Matches(record)) return true;
      }
      return false;
    case CondNode::Op::kAllOf:
      for (size_t r : node.refs) {
        if (!selections_[r].Matches(record)) return false;
      }
      return true;
  }
  return false;
}

bool CompiledDetection::Matches(const Record& record) const {
  for (const auto& c : conditions_) {
    if (Eval(*c, record)) return true;
  }
  return false;
}

std::vector<Requirement> CompiledDetection::Require(const CondNode& node) const {
  switch (node.op) {
    case CondNode::Op::kNot: return {};
    case CondNode::Op::kRef: return selections_[node.refs[0]].Require();
    case CondNode::Op::kAnd: {
      std::vector<Requirement> out;
      for (const auto& c : node.children) {
        auto r = Require(*c);
        out.insert(out.end(), r.begin(), r.end());
      }
      return out;
    }
    case CondNode::Op::kAllOf: {
      std::vector<Requirement> out;
      for (size_t r : node.refs) {
        auto reqs = selections_[r].Require();
        out.insert(out.end(), reqs.begin(), reqs.end());
      }
      return out;
    }
    case CondNode::Op::kOr: {
      std::vector<std::vector<Requirement>> branches;
      for (const auto& c : node.children) branches.push_back(Require(*c));
      return Common(branches);
    }
    case CondNode::Op::kOneOf: {
      std::vector<std::vector<Requirement>> branches;
      for (size_t r : node.refs) branches.push_back(selections_[r].Require());
      return Common(branches);
    }
  }
  return {};
}

std::vector<Requirement> CompiledDetection::Require() const {
  std::vector<std::vector<Requirement>> branches;
  for (const auto& c : conditions_) branches.push_back(Require(*c));
  return Common(branches);
}

}  // namespace orgtrail::detections
