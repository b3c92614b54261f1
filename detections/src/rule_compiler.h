// Compiling one parsed YAML document into a Rule (used by CompileRule and the folder loader).
// Never throws: yaml-cpp exceptions are caught and returned as INVALID_ARGUMENT. UNIMPLEMENTED
// marks valid Sigma the engine does not run (correlation conditions a stream cannot evaluate, other log sources,
// regular expressions beyond RE2, placeholders without values).
#ifndef ORGTRAIL_DETECTIONS_SRC_RULE_COMPILER_H_
#define ORGTRAIL_DETECTIONS_SRC_RULE_COMPILER_H_

#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "orgtrail/common/status.h"
#include "orgtrail/detections/correlation.h"
#include "orgtrail/detections/rule.h"

namespace orgtrail::detections::internal {

// One YAML document; INVALID_ARGUMENT with yaml-cpp's message when it does not parse.
StatusOr<YAML::Node> ParseDocument(std::string_view yaml_text);
StatusOr<std::unique_ptr<Rule>> CompileRuleNode(const YAML::Node& document, const CompileOptions& options);
// A Sigma filter document (a `filter` block and no `detection`).
bool IsFilterDocument(const YAML::Node& document);
StatusOr<SigmaFilter> CompileFilterNode(const YAML::Node& document, const CompileOptions& options);
// Reads the metadata every rule kind shares (id, title, description, status, level, author,
// dates, references, tags, falsepositives; `name` is the caller's).
Status ReadRuleMetadata(const YAML::Node& document, RuleMetadata* metadata);
// A Sigma correlation document (a `correlation` block).
bool IsCorrelationDocument(const YAML::Node& document);
StatusOr<CorrelationRule> CompileCorrelationNode(const YAML::Node& document);
// The document's `name:` when it is a readable scalar, else "".
std::string DocumentName(const YAML::Node& document);
// The document's id when it has a readable one (for refusal reports), else "".
std::string DocumentId(const YAML::Node& document);

}  // namespace orgtrail::detections::internal

#endif  // ORGTRAIL_DETECTIONS_SRC_RULE_COMPILER_H_
