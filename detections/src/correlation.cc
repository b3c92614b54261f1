// Compiling Sigma correlation documents (see correlation.h).
#include "orgtrail/detections/correlation.h"

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <limits>
#include <map>
#include <set>

#include "orgtrail/common/str_cat.h"
#include "rule_compiler.h"

namespace orgtrail::detections {

std::string_view CorrelationTypeName(CorrelationType type) {
  switch (type) {
    case CorrelationType::kEventCount: return "event_count";
    case CorrelationType::kValueCount: return "value_count";
    case CorrelationType::kTemporal: return "temporal";
    case CorrelationType::kTemporalOrdered: return "temporal_ordered";
  }
  return "unknown";
}

bool CountCondition::Holds(int64_t n) const {
  return (!gt || n > *gt) && (!gte || n >= *gte) && (!lt || n < *lt) && (!lte || n <= *lte) &&
         (!eq || n == *eq) && (!neq || n != *neq);
}

namespace internal {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMaxTimespanUs = 30LL * 24 * 3600 * kMicrosPerSecond;
constexpr size_t kMaxGroupBy = 16;
constexpr size_t kMaxReferencedRules = 64;

// "90m" -> microseconds; only a positive integer followed by one of s, m, h, d.
StatusOr<int64_t> ParseTimespan(const std::string& text) {
  if (text.size() < 2 || text.size() > 12) return absl::InvalidArgumentError(StrCat("timespan '", text, "': expected a number and s, m, h or d"));
  const char unit = text.back();
  const int64_t unit_us = unit == 's' ? kMicrosPerSecond : unit == 'm' ? 60 * kMicrosPerSecond
                        : unit == 'h' ? 3600 * kMicrosPerSecond : unit == 'd' ? 86400 * kMicrosPerSecond : 0;
  if (unit_us == 0) return absl::InvalidArgumentError(StrCat("timespan '", text, "': the unit must be s, m, h or d"));
  int64_t amount = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return absl::InvalidArgumentError(StrCat("timespan '", text, "': expected a number and s, m, h or d"));
    amount = amount * 10 + (text[i] - '0');
  }
  if (amount <= 0 || amount > kMaxTimespanUs / unit_us) {
    return absl::UnimplementedError(StrCat("timespan '", text, "': orgtrail keeps windows of 1 s to 30 d"));
  }
  return amount * unit_us;
}

StatusOr<int64_t> ParseCount(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) return absl::InvalidArgumentError(StrCat("condition ", key, ": expected an integer"));
  const std::string& text = node.Scalar();
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || end != text.c_str() + text.size() || v < 0) {
    return absl::InvalidArgumentError(StrCat("condition ", key, ": '", text.substr(0, 64), "' is not a non-negative integer"));
  }
  return static_cast<int64_t>(v);
}

Status ReadCondition(const YAML::Node& block, CorrelationRule* rule) {
  const YAML::Node condition = block["condition"];
  if (!condition.IsDefined() || condition.IsNull()) {
    if (rule->type == CorrelationType::kEventCount || rule->type == CorrelationType::kValueCount) {
      return absl::InvalidArgumentError(StrCat(CorrelationTypeName(rule->type), " needs a condition"));
    }
    return absl::OkStatus();
  }
  if (!condition.IsMap()) return absl::InvalidArgumentError("condition must be a map (gt, gte, lt, lte, eq, neq, field)");
  CountCondition& c = rule->condition;
  for (auto it = condition.begin(); it != condition.end(); ++it) {
    if (!it->first.IsScalar()) return absl::InvalidArgumentError("condition keys must be strings");
    const std::string key = it->first.Scalar();
    if (key == "field") {
      if (rule->type != CorrelationType::kValueCount) {
        return absl::InvalidArgumentError("condition field: only value_count counts the values of a field");
      }
      if (!it->second.IsScalar() || it->second.Scalar().empty()) {
        return absl::UnimplementedError("condition field: one field name (several fields are not supported)");
      }
      rule->value_field = FieldPath::Parse(it->second.Scalar());
      continue;
    }
    std::optional<int64_t>* bound = key == "gt" ? &c.gt : key == "gte" ? &c.gte : key == "lt" ? &c.lt
                                  : key == "lte" ? &c.lte : key == "eq" ? &c.eq : key == "neq" ? &c.neq : nullptr;
    if (bound == nullptr) return absl::InvalidArgumentError(StrCat("condition: unknown key '", key.substr(0, 64), "'"));
    auto value = ParseCount(it->second, key);
    if (!value.ok()) return value.status();
    *bound = *value;
  }
  if (rule->type == CorrelationType::kValueCount && !rule->value_field) {
    return absl::InvalidArgumentError("value_count needs 'condition: field:'");
  }
  if (c.Holds(1) || !c.HasLowerBound()) {
    return absl::UnimplementedError(
        "condition is met by a single event (lt, lte or neq without gt, gte or eq): it needs a window that has "
        "closed, and orgtrail evaluates correlations as events arrive");
  }
  const int64_t lower = c.eq ? *c.eq : c.gte ? *c.gte : c.gt ? *c.gt + 1 : 1;
  if (lower > kMaxCorrelationWindow) {
    return absl::UnimplementedError(StrCat("condition threshold ", lower, " exceeds the window limit of ",
                                           kMaxCorrelationWindow, " events"));
  }
  return absl::OkStatus();
}

Status ReadType(const YAML::Node& block, CorrelationRule* rule) {
  const YAML::Node type = block["type"];
  if (!type.IsDefined() || !type.IsScalar()) return absl::InvalidArgumentError("correlation has no type");
  const std::string& t = type.Scalar();
  if (t == "event_count") rule->type = CorrelationType::kEventCount;
  else if (t == "value_count") rule->type = CorrelationType::kValueCount;
  else if (t == "temporal") rule->type = CorrelationType::kTemporal;
  else if (t == "temporal_ordered") rule->type = CorrelationType::kTemporalOrdered;
  else if (t == "value_sum" || t == "value_avg" || t == "value_percentile") {
    return absl::UnimplementedError(StrCat("correlation type ", t, " is not supported (event_count, value_count, "
                                           "temporal and temporal_ordered are)"));
  } else {
    return absl::InvalidArgumentError(StrCat("unknown correlation type '", t.substr(0, 64), "'"));
  }
  return absl::OkStatus();
}

Status ReadList(const YAML::Node& block, const char* key, size_t max, std::vector<std::string>* out) {
  const YAML::Node list = block[key];
  if (!list.IsDefined() || list.IsNull()) return absl::OkStatus();
  if (list.IsScalar()) {
    out->push_back(list.Scalar());
  } else if (list.IsSequence()) {
    for (const YAML::Node& item : list) {
      if (!item.IsScalar() || item.Scalar().empty()) return absl::InvalidArgumentError(StrCat(key, ": expected a list of names"));
      out->push_back(item.Scalar());
    }
  } else {
    return absl::InvalidArgumentError(StrCat(key, ": expected a list of names"));
  }
  if (out->size() > max) return absl::InvalidArgumentError(StrCat(key, ": more than ", max, " entries"));
  return absl::OkStatus();
}

// aliases: {alias: {rule name: field}} -> group_paths per referenced rule.
Status ResolveGroupPaths(const YAML::Node& block, CorrelationRule* rule) {
  std::map<std::string, std::map<std::string, std::string>> aliases;
  const YAML::Node node = block["aliases"];
  if (node.IsDefined() && !node.IsNull()) {
    if (!node.IsMap()) return absl::InvalidArgumentError("aliases: expected a map of alias -> {rule name: field}");
    for (auto a = node.begin(); a != node.end(); ++a) {
      if (!a->first.IsScalar() || !a->second.IsMap()) return absl::InvalidArgumentError("aliases: expected a map of alias -> {rule name: field}");
      for (auto r = a->second.begin(); r != a->second.end(); ++r) {
        if (!r->first.IsScalar() || !r->second.IsScalar()) return absl::InvalidArgumentError("aliases: expected rule name: field");
        aliases[a->first.Scalar()][r->first.Scalar()] = r->second.Scalar();
      }
    }
  }
  for (const auto& [alias, per_rule] : aliases) {
    for (const auto& [rule_name, field] : per_rule) {
      bool known = false;
      for (const std::string& ref : rule->rule_refs) known = known || ref == rule_name;
      if (!known) return absl::InvalidArgumentError(StrCat("aliases: ", alias, " names rule '", rule_name, "' which the correlation does not use"));
    }
  }
  for (const std::string& ref : rule->rule_refs) {
    std::vector<FieldPath> paths;
    for (const std::string& field : rule->group_by) {
      auto alias = aliases.find(field);
      if (alias == aliases.end()) {
        paths.push_back(FieldPath::Parse(field));
        continue;
      }
      auto for_rule = alias->second.find(ref);
      if (for_rule == alias->second.end()) {
        return absl::InvalidArgumentError(StrCat("alias '", field, "' has no field for rule '", ref, "'"));
      }
      paths.push_back(FieldPath::Parse(for_rule->second));
    }
    rule->group_paths.push_back(std::move(paths));
  }
  return absl::OkStatus();
}

StatusOr<CorrelationRule> CompileUnchecked(const YAML::Node& doc) {
  if (!doc.IsMap()) return absl::InvalidArgumentError("a correlation rule must be a YAML map");
  CorrelationRule rule;
  ORGTRAIL_RETURN_IF_ERROR(ReadRuleMetadata(doc, &rule.metadata));
  rule.name = DocumentName(doc);
  rule.metadata.name = rule.name;
  if (rule.metadata.id.empty()) rule.metadata.id = rule.name;
  if (rule.metadata.id.empty()) return absl::InvalidArgumentError("correlation has neither id nor name (findings need one)");
  if (rule.metadata.title.empty()) return absl::InvalidArgumentError("correlation has no title");
  const YAML::Node block = doc["correlation"];
  if (!block.IsMap()) return absl::InvalidArgumentError("'correlation' must be a map");
  ORGTRAIL_RETURN_IF_ERROR(ReadType(block, &rule));
  ORGTRAIL_RETURN_IF_ERROR(ReadList(block, "rules", kMaxReferencedRules, &rule.rule_refs));
  if (rule.rule_refs.empty()) return absl::InvalidArgumentError("correlation names no rules ('correlation: rules:')");
  if (std::set<std::string>(rule.rule_refs.begin(), rule.rule_refs.end()).size() != rule.rule_refs.size()) {
    return absl::InvalidArgumentError("correlation: rules: a rule is named twice");
  }
  ORGTRAIL_RETURN_IF_ERROR(ReadList(block, "group-by", kMaxGroupBy, &rule.group_by));
  const YAML::Node timespan = block["timespan"];
  if (!timespan.IsDefined() || !timespan.IsScalar()) return absl::InvalidArgumentError("correlation has no timespan");
  auto span = ParseTimespan(timespan.Scalar());
  if (!span.ok()) return span.status();
  rule.timespan_us = *span;
  ORGTRAIL_RETURN_IF_ERROR(ReadCondition(block, &rule));
  if ((rule.type == CorrelationType::kTemporal || rule.type == CorrelationType::kTemporalOrdered) &&
      rule.rule_refs.size() < 2) {
    return absl::InvalidArgumentError(StrCat(CorrelationTypeName(rule.type), " needs at least two rules"));
  }
  ORGTRAIL_RETURN_IF_ERROR(ResolveGroupPaths(block, &rule));
  const YAML::Node generate = doc["generate"].IsDefined() ? doc["generate"] : block["generate"];
  if (generate.IsDefined()) {
    if (!generate.IsScalar() || (generate.Scalar() != "true" && generate.Scalar() != "false")) {
      return absl::InvalidArgumentError("generate: expected true or false");
    }
    rule.generate = generate.Scalar() == "true";
  }
  return rule;
}

}  // namespace

bool IsCorrelationDocument(const YAML::Node& document) {
  try {
    return document.IsMap() && document["correlation"].IsDefined();
  } catch (const std::exception&) {
    return false;
  }
}

StatusOr<CorrelationRule> CompileCorrelationNode(const YAML::Node& document) {
  try {
    return CompileUnchecked(document);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("malformed correlation: ", e.what()));
  }
}

}  // namespace internal

StatusOr<CorrelationRule> CompileCorrelation(std::string_view yaml_text) {
  auto doc = internal::ParseDocument(yaml_text);
  if (!doc.ok()) return doc.status();
  return internal::CompileCorrelationNode(*doc);
}

}  // namespace orgtrail::detections
