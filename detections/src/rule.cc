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

bool Rule::Matches(const Record& record) const { return detection_->Matches(record); }

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

StatusOr<std::unique_ptr<Rule>> CompileUnchecked(const YAML::Node& doc, const CompileOptions& options) {
  if (!doc.IsMap()) return absl::InvalidArgumentError("a rule must be a YAML map");
  if (doc["correlation"].IsDefined()) {
    return absl::UnimplementedError("correlation rules are not supported yet (the engine matches single events)");
  }
  if (doc["filter"].IsDefined() && !doc["detection"].IsDefined()) {
    return absl::UnimplementedError("Sigma filter documents are not applied yet");
  }
  if (doc["action"].IsDefined()) {
    return absl::UnimplementedError("rule collections with 'action' (global/reset/repeat) are not supported");
  }
  RuleMetadata md;
  md.id = ScalarOr(doc, "id");
  md.title = ScalarOr(doc, "title");
  if (md.id.empty()) return absl::InvalidArgumentError("rule has no id (findings need one)");
  if (md.title.empty()) return absl::InvalidArgumentError("rule has no title");
  md.description = ScalarOr(doc, "description");
  md.status = ScalarOr(doc, "status");
  md.level = ScalarOr(doc, "level");
  md.author = ScalarOr(doc, "author");
  md.date = ScalarOr(doc, "date");
  md.modified = ScalarOr(doc, "modified");
  ORGTRAIL_RETURN_IF_ERROR(StringList(doc, "references", &md.references));
  ORGTRAIL_RETURN_IF_ERROR(StringList(doc, "tags", &md.tags));
  ORGTRAIL_RETURN_IF_ERROR(StringList(doc, "falsepositives", &md.falsepositives));
  YAML::Node logsource = doc["logsource"];
  if (!logsource.IsDefined() || !logsource.IsMap()) return absl::InvalidArgumentError("rule has no logsource map");
  for (auto it = logsource.begin(); it != logsource.end(); ++it) {
    if (it->first.IsScalar() && it->second.IsScalar()) md.logsource[it->first.Scalar()] = it->second.Scalar();
  }
  auto product = md.logsource.find("product");
  auto service = md.logsource.find("service");
  if (product == md.logsource.end() || AsciiLower(product->second) != "aws" ||
      (service != md.logsource.end() && AsciiLower(service->second) != "cloudtrail")) {
    return absl::UnimplementedError(
        "logsource is not product: aws / service: cloudtrail (this engine reads CloudTrail records)");
  }
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

}  // namespace

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

}  // namespace internal

StatusOr<std::unique_ptr<Rule>> CompileRule(std::string_view yaml_text, const CompileOptions& options) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(yaml_text));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("YAML: ", e.what()));
  }
  return internal::CompileRuleNode(doc, options);
}

}  // namespace orgtrail::detections
