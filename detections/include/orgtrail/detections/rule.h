// A compiled Sigma detection rule: its metadata (kept for attribution under DRL 1.1: id, title,
// author, references) and its detection compiled into matchers and a condition tree.
//
// Immutable after CompileRule(); Matches() is const and thread-safe (each thread passes its own
// Record). CompileRule() never throws: YAML errors and constructs the engine cannot run come back
// as INVALID_ARGUMENT (bad rule) or UNIMPLEMENTED (valid Sigma the engine does not run), with the
// reason in the message.
#ifndef ORGTRAIL_DETECTIONS_RULE_H_
#define ORGTRAIL_DETECTIONS_RULE_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/status.h"
#include "orgtrail/detections/record.h"

namespace orgtrail::detections {

struct RuleMetadata {
  std::string id;
  std::string name;  // `name:`, how correlation rules may refer to the rule (may be empty)
  std::string title;
  std::string description;
  std::string status;
  std::string level;
  std::string author;
  std::string date;
  std::string modified;
  std::vector<std::string> references;
  std::vector<std::string> tags;
  std::vector<std::string> falsepositives;
  std::map<std::string, std::string> logsource;  // category / product / service / definition
  std::string detection_yaml;                    // the detection block as loaded, re-emitted
  std::vector<std::string> conditions;
};

struct CompileOptions {
  // Values for `|expand` placeholders: "%Administrators%" -> {"admin*", "root"}. A rule naming a
  // placeholder absent here is refused.
  std::map<std::string, std::vector<std::string>> placeholders;
};

// The exact values a rule requires of one field for it to match (lower-cased): the record can
// only match when that field holds one of them. Used by RuleSet's index.
struct Requirement {
  std::string field;
  std::set<std::string> values;
};

class CompiledDetection;  // src/detection.h

class Rule {
 public:
  // Built by CompileRule(); the constructor is public for the compiler in src/.
  Rule(RuleMetadata metadata, std::unique_ptr<CompiledDetection> detection, Requirement requirement);
  ~Rule();
  const RuleMetadata& metadata() const { return metadata_; }
  const std::string& id() const { return metadata_.id; }
  // The detection matches and no filter applied to the rule does.
  bool Matches(const Record& record) const;
  // The index requirement chosen for this rule (empty field when none exists).
  const Requirement& requirement() const { return requirement_; }
  // A Sigma filter (global filter) for this rule: a record its detection matches is suppressed.
  // Only while loading (before the rule is shared); filters only narrow, so the index stays valid.
  void AddFilter(std::shared_ptr<const CompiledDetection> filter, std::string filter_title);
  const std::vector<std::string>& filter_titles() const { return filter_titles_; }

 private:
  RuleMetadata metadata_;
  std::unique_ptr<CompiledDetection> detection_;
  Requirement requirement_;
  std::vector<std::shared_ptr<const CompiledDetection>> filters_;
  std::vector<std::string> filter_titles_;
};

// A Sigma filter document (Sigma filters specification 2.x): logsource, and a `filter` block
// naming the rules it applies to (`rules:`, their ids) with a selection and condition that, when
// they match a record, suppress those rules' matches.
struct SigmaFilter {
  std::string id;
  std::string title;
  std::vector<std::string> rule_ids;
  std::shared_ptr<const CompiledDetection> detection;
};
// Compiles one YAML document holding one Sigma filter (INVALID_ARGUMENT / UNIMPLEMENTED as rules).
StatusOr<SigmaFilter> CompileFilter(std::string_view yaml_text, const CompileOptions& options);

// Compiles one YAML document holding one Sigma rule.
StatusOr<std::unique_ptr<Rule>> CompileRule(std::string_view yaml_text, const CompileOptions& options);

}  // namespace orgtrail::detections

#endif  // ORGTRAIL_DETECTIONS_RULE_H_
