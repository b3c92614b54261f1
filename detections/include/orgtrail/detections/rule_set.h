// A set of compiled Sigma rules, loaded from folders, indexed for matching.
//
// Loading: LoadRuleSet() walks the named folders recursively for *.yml / *.yaml files (sorted, so
// the order is stable), compiles every rule document and fills a LoadReport: every loaded rule and
// every refused one (file, rule id when it has one, reason). Nothing is skipped silently. Returns
// an error only when a folder cannot be read; refusing rules is not an error.
//
// Index: each rule is filed under the exact values one field must hold for it to match (eventName
// is preferred, then eventSource, then any field); Match() evaluates a record only against the
// rules filed under its values plus the rules with no such requirement. MatchWithoutIndex()
// evaluates every rule (for tests: both give the same result).
//
// Thread safety: immutable after loading; Match() is const and may run concurrently, each thread
// with its own RecordParser.
#ifndef ORGTRAIL_DETECTIONS_RULE_SET_H_
#define ORGTRAIL_DETECTIONS_RULE_SET_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "orgtrail/common/status.h"
#include "orgtrail/detections/correlation.h"
#include "orgtrail/detections/record.h"
#include "orgtrail/detections/rule.h"

namespace orgtrail::detections {

struct RefusedRule {
  std::string file;
  std::string id;  // empty when the document had no readable id
  std::string reason;
};

struct LoadedRule {
  std::string file;
  std::string id;
  std::string title;
};

struct LoadReport {
  std::vector<LoadedRule> loaded;
  std::vector<RefusedRule> refused;   // rules and filters
  std::vector<LoadedRule> filters;    // Sigma filters applied (file, id, title)
  std::vector<LoadedRule> correlations;  // correlation rules loaded (file, id, title)
};

struct LoadOptions {
  CompileOptions compile;
  size_t max_file_bytes = 1u << 20;  // larger rule files are refused
};

class RuleSet {
 public:
  RuleSet() = default;
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Adds a compiled rule (ids must be unique: a duplicate id is refused with ALREADY_EXISTS).
  Status Add(std::unique_ptr<Rule> rule);
  size_t size() const { return rules_.size(); }
  const std::vector<std::unique_ptr<Rule>>& rules() const { return rules_; }
  const Rule* Find(std::string_view id) const;
  // For the loader, which applies Sigma filters before the set is used.
  Rule* FindMutable(std::string_view id);

  // Rules matching the record, in load order.
  std::vector<const Rule*> Match(const Record& record) const;
  std::vector<const Rule*> MatchWithoutIndex(const Record& record) const;
  // Parses and matches; the ids of the matching rules.
  StatusOr<std::vector<std::string>> Match(std::string_view record_json, RecordParser* parser) const;

  // How many rules are filed under an index field, and how many are evaluated for every record.
  size_t unindexed_count() const { return unindexed_.size(); }

  // Correlation rules (correlation.h). A duplicate id or name, or one a rule already has, is
  // refused with ALREADY_EXISTS. Their `rules` are resolved by ResolveCorrelations().
  Status AddCorrelation(CorrelationRule rule);
  const std::vector<std::unique_ptr<CorrelationRule>>& correlations() const { return correlations_; }
  // Checks every correlation's `rules` (ids or names of loaded rules or correlations): one naming
  // something not loaded, or part of a cycle or of a chain deeper than 16, is removed and
  // returned as (id, reason); so are the ones that depend on it. Then decides which rules report.
  std::vector<std::pair<std::string, std::string>> ResolveCorrelations();
  // False for a rule or correlation used only by correlations without `generate: true` (Sigma's
  // default): its matches feed them but are not findings of their own.
  bool Reports(const std::string& id) const { return silent_.count(id) == 0; }

 private:
  struct FieldIndex {
    FieldPath path;
    std::unordered_map<std::string, std::vector<size_t>> by_value;  // lower-cased value -> rules
  };
  std::vector<std::unique_ptr<Rule>> rules_;
  std::unordered_map<std::string, size_t> by_id_;
  std::vector<FieldIndex> index_;
  std::vector<size_t> unindexed_;
  std::map<std::string, std::string> names_;  // `name:` -> id, rules and correlations
  std::vector<std::unique_ptr<CorrelationRule>> correlations_;
  std::set<std::string> silent_;
};

// Loads every rule file under the folders. `report` is filled (it must not be null). Sigma filter
// documents among them (a `filter` block naming rule ids) are applied to those rules once every
// file is read; a filter naming a rule that is not loaded is refused. Correlation documents are
// loaded too (report->correlations) and resolved once every file is read.
StatusOr<std::unique_ptr<RuleSet>> LoadRuleSet(const std::vector<std::string>& folders,
                                               const LoadOptions& options, LoadReport* report);
// The same over files already read: (name for reports, YAML text) pairs, in the given order.
std::unique_ptr<RuleSet> LoadRuleSetFromTexts(const std::vector<std::pair<std::string, std::string>>& files,
                                              const LoadOptions& options, LoadReport* report);

}  // namespace orgtrail::detections

#endif  // ORGTRAIL_DETECTIONS_RULE_SET_H_
