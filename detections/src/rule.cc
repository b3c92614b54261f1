// Rule: metadata, detection and index requirement (see rule.h); the YAML document compiler.
#include "orgtrail/detections/rule.h"

#include <exception>

#include "detection.h"
#include "orgtrail/common/str_cat.h"
#include "pattern.h"
#include "rule_compiler.h"

namespace orgtrail::detections {

Rule::Rule(RuleMetadata metadata, std::unique_ptr<CompiledDetection> detection, Requirement requirement)
    : metadata_(std::move(metadata)), detection_(std::move(detection)), requirement_(std::move(requirement)) {}
Rule::~Rule() = default;

bool Rule::Matches(const Record& record) const {
  if (!detection_->Matches(record)) return false;
  for (const auto& filter : filters_) {
    if (filter->Matches(record)) return false;
  }
  return true;
}

void Rule::AddFilter(std::shared_ptr<const CompiledDetection> filter, std::string filter_title) {
  filters_.push_back(std::move(filter));
  filter_titles_.push_back(std::move(filter_title));
}

namespace internal {

namespace {

std::string ScalarOr(const YAML::Node& node, const char* key) {
  YAML::Node v = node[key];
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : "";
}

Status StringList(const YAML::Node& node, const char* key, std::vector<std::string>* out) {
  YAML::Node v = node[key];
  if (!v.IsDefined() || v.IsNull()) return absl::OkStatus();
  if (v.IsScalar()) {
    out->push_back(v.Scalar());
    return absl::OkStatus();
  }
  if (!v.IsSequence()) return absl::InvalidArgumentError(StrCat("'", key, "' must be a list of strings"));
  for (const YAML::Node& item : v) {
    if (!item.IsScalar()) return absl::InvalidArgumentError(StrCat("'", key, "' must be a list of strings"));
    out->push_back(item.Scalar());
  }
  return absl::OkStatus();
}

// The document's logsource, which must be product: aws (and service: cloudtrail when named).
Status ReadCloudTrailLogsource(const YAML::Node& doc, std::map<std::string, std::string>* out) {
  YAML::Node logsource = doc["logsource"];
  if (!logsource.IsDefined() || !logsource.IsMap()) return absl::InvalidArgumentError("no logsource map");
  for (auto it = logsource.begin(); it != logsource.end(); ++it) {
    if (it->first.IsScalar() && it->second.IsScalar()) (*out)[it->first.Scalar()] = it->second.Scalar();
  }
  auto product = out->find("product");
  auto service = out->find("service");
  if (product == out->end() || AsciiLower(product->second) != "aws" ||
      (service != out->end() && AsciiLower(service->second) != "cloudtrail")) {
    return absl::UnimplementedError(
        "logsource is not product: aws / service: cloudtrail (this engine reads CloudTrail records)");
  }
  return absl::OkStatus();
}

// eventName narrows most, then eventSource; otherwise the requirement with the fewest values.
Requirement ChooseRequirement(const std::vector<Requirement>& reqs) {
  const Requirement* best = nullptr;
  auto rank = [](const Requirement& r) { return r.field == "eventName" ? 0 : r.field == "eventSource" ? 1 : 2; };
  for (const Requirement& r : reqs) {
    if (best == nullptr || rank(r) < rank(*best) || (rank(r) == rank(*best) && r.values.size() < best->values.size())) {
      best = &r;
    }
  }
  return best ? *best : Requirement{};
}

}  // namespace

Status ReadRuleMetadata(const YAML::Node& doc, RuleMetadata* md) {
  md->id = ScalarOr(doc, "id");
  md->title = ScalarOr(doc, "title");
  md->description = ScalarOr(doc, "description");
  md->status = ScalarOr(doc, "status");
  md->level = ScalarOr(doc, "level");
  md->author = ScalarOr(doc, "author");
  md->date = ScalarOr(doc, "date");
  md->modified = ScalarOr(doc, "modified");
  ORGTRAIL_RETURN_IF_ERROR(StringList(doc, "references", &md->references));
  ORGTRAIL_RETURN_IF_ERROR(StringList(doc, "tags", &md->tags));
  return StringList(doc, "falsepositives", &md->falsepositives);
}

std::string DocumentName(const YAML::Node& doc) { return doc.IsMap() ? ScalarOr(doc, "name") : ""; }

namespace {

StatusOr<std::unique_ptr<Rule>> CompileUnchecked(const YAML::Node& doc, const CompileOptions& options) {
  if (!doc.IsMap()) return absl::InvalidArgumentError("a rule must be a YAML map");
  if (doc["correlation"].IsDefined()) {
    return absl::InvalidArgumentError("a Sigma correlation document, not a rule (load it with the rules: LoadRuleSet)");
  }
  if (doc["filter"].IsDefined() && !doc["detection"].IsDefined()) {
    return absl::InvalidArgumentError("a Sigma filter document, not a rule (load it with the rules: LoadRuleSet)");
  }
  if (doc["action"].IsDefined()) {
    return absl::UnimplementedError("rule collections with 'action' (global/reset/repeat) are not supported");
  }
  RuleMetadata md;
  ORGTRAIL_RETURN_IF_ERROR(ReadRuleMetadata(doc, &md));
  if (md.id.empty()) return absl::InvalidArgumentError("rule has no id (findings need one)");
  if (md.title.empty()) return absl::InvalidArgumentError("rule has no title");
  md.name = DocumentName(doc);
  ORGTRAIL_RETURN_IF_ERROR(ReadCloudTrailLogsource(doc, &md.logsource));
  YAML::Node detection = doc["detection"];
  if (!detection.IsDefined()) return absl::InvalidArgumentError("rule has no detection");
  auto compiled = CompiledDetection::Compile(detection, options, &md.conditions);
  if (!compiled.ok()) return compiled.status();
  YAML::Emitter emitter;
  emitter << detection;
  md.detection_yaml = emitter.c_str();
  Requirement req = ChooseRequirement((*compiled)->Require());
  return std::make_unique<Rule>(std::move(md), std::move(*compiled), std::move(req));
}

StatusOr<SigmaFilter> CompileFilterUnchecked(const YAML::Node& doc, const CompileOptions& options) {
  if (!doc.IsMap()) return absl::InvalidArgumentError("a filter must be a YAML map");
  SigmaFilter filter;
  filter.id = ScalarOr(doc, "id");
  filter.title = ScalarOr(doc, "title");
  if (filter.title.empty()) return absl::InvalidArgumentError("filter has no title");
  std::map<std::string, std::string> logsource;
  ORGTRAIL_RETURN_IF_ERROR(ReadCloudTrailLogsource(doc, &logsource));
  YAML::Node block = doc["filter"];
  if (!block.IsDefined() || !block.IsMap()) return absl::InvalidArgumentError("filter has no 'filter' map");
  ORGTRAIL_RETURN_IF_ERROR(StringList(block, "rules", &filter.rule_ids));
  if (filter.rule_ids.empty()) return absl::InvalidArgumentError("filter names no rules ('filter: rules:')");
  // The selection(s) and condition form a detection block of their own.
  YAML::Node detection(YAML::NodeType::Map);
  for (auto it = block.begin(); it != block.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "rules") continue;
    detection[it->first] = it->second;
  }
  std::vector<std::string> conditions;
  auto compiled = CompiledDetection::Compile(detection, options, &conditions);
  if (!compiled.ok()) return compiled.status();
  filter.detection = std::shared_ptr<const CompiledDetection>(std::move(*compiled));
  return filter;
}

}  // namespace

bool IsFilterDocument(const YAML::Node& document) {
  try {
    return document.IsMap() && document["filter"].IsDefined() && !document["detection"].IsDefined();
  } catch (const std::exception&) {
    return false;
  }
}

StatusOr<SigmaFilter> CompileFilterNode(const YAML::Node& document, const CompileOptions& options) {
  try {
    return CompileFilterUnchecked(document, options);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("malformed filter: ", e.what()));
  }
}

std::string DocumentId(const YAML::Node& document) {
  try {
    return document.IsMap() ? ScalarOr(document, "id") : "";
  } catch (const std::exception&) {
    return "";
  }
}

StatusOr<std::unique_ptr<Rule>> CompileRuleNode(const YAML::Node& document, const CompileOptions& options) {
  try {
    return CompileUnchecked(document, options);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("malformed rule: ", e.what()));
  }
}

// One YAML document; INVALID_ARGUMENT with yaml-cpp's message when it does not parse.
StatusOr<YAML::Node> ParseDocument(std::string_view yaml_text) {
  try {
    return YAML::Load(std::string(yaml_text));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("YAML: ", e.what()));
  }
}

}  // namespace internal

StatusOr<std::unique_ptr<Rule>> CompileRule(std::string_view yaml_text, const CompileOptions& options) {
  auto doc = internal::ParseDocument(yaml_text);
  if (!doc.ok()) return doc.status();
  return internal::CompileRuleNode(*doc, options);
}

StatusOr<SigmaFilter> CompileFilter(std::string_view yaml_text, const CompileOptions& options) {
  auto doc = internal::ParseDocument(yaml_text);
  if (!doc.ok()) return doc.status();
  return internal::CompileFilterNode(*doc, options);
}

}  // namespace orgtrail::detections
