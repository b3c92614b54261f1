// LoadRuleSet: folders -> rule files -> YAML documents -> compiled rules, with a LoadReport.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "orgtrail/common/str_cat.h"
#include "orgtrail/detections/rule_set.h"
#include "pattern.h"
#include "rule_compiler.h"
#include "yaml_documents.h"

namespace orgtrail::detections {

namespace fs = std::filesystem;

namespace {

bool IsRuleFile(const fs::path& path) {
  std::string ext = internal::AsciiLower(path.extension().string());
  return ext == ".yml" || ext == ".yaml";
}

Status CollectFiles(const std::string& folder, std::vector<std::string>* files) {
  std::error_code ec;
  fs::file_status st = fs::status(folder, ec);
  if (ec || !fs::exists(st)) return absl::NotFoundError(StrCat("rule folder ", folder, " does not exist"));
  if (fs::is_regular_file(st)) {
    files->push_back(folder);
    return absl::OkStatus();
  }
  if (!fs::is_directory(st)) return absl::InvalidArgumentError(StrCat(folder, " is not a folder"));
  fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot read ", folder, ": ", ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return absl::UnavailableError(StrCat("cannot read ", folder, ": ", ec.message()));
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && IsRuleFile(it->path())) files->push_back(it->path().string());
  }
  return absl::OkStatus();
}

// A filter waiting for every rule to be loaded.
struct PendingFilter {
  std::string file;
  SigmaFilter filter;
};

void LoadText(const std::string& file, const std::string& text, const LoadOptions& options, RuleSet* set,
              LoadReport* report, std::vector<PendingFilter>* filters) {
  auto refuse = [&](const std::string& id, const std::string& reason) {
    report->refused.push_back(RefusedRule{file, id, reason});
  };
  if (text.size() > options.max_file_bytes) {
    return refuse("", StrCat("file of ", text.size(), " bytes exceeds the ", options.max_file_bytes, "-byte limit"));
  }
  auto loaded = internal::LoadYamlDocuments(text);
  if (!loaded.ok()) return refuse("", std::string(loaded.status().message()));
  const std::vector<YAML::Node>& documents = *loaded;
  if (documents.empty()) return refuse("", "no YAML document");
  for (const YAML::Node& doc : documents) {
    std::string id = internal::DocumentId(doc);
    if (internal::IsCorrelationDocument(doc)) {
      auto correlation = internal::CompileCorrelationNode(doc);
      if (!correlation.ok()) {
        refuse(id.empty() ? internal::DocumentName(doc) : id, std::string(correlation.status().message()));
        continue;
      }
      LoadedRule loaded{file, correlation->metadata.id, correlation->metadata.title};
      Status added = set->AddCorrelation(std::move(*correlation));
      if (!added.ok()) {
        refuse(loaded.id, std::string(added.message()));
      } else {
        report->correlations.push_back(std::move(loaded));
      }
      continue;
    }
    if (internal::IsFilterDocument(doc)) {
      auto filter = internal::CompileFilterNode(doc, options.compile);
      if (!filter.ok()) {
        refuse(id, std::string(filter.status().message()));
      } else {
        filters->push_back(PendingFilter{file, std::move(*filter)});
      }
      continue;
    }
    auto rule = internal::CompileRuleNode(doc, options.compile);
    if (!rule.ok()) {
      refuse(id, std::string(rule.status().message()));
      continue;
    }
    LoadedRule loaded{file, (*rule)->id(), (*rule)->metadata().title};
    Status added = set->Add(std::move(*rule));
    if (!added.ok()) {
      refuse(id, std::string(added.message()));
      continue;
    }
    report->loaded.push_back(std::move(loaded));
  }
}

void LoadFile(const std::string& file, const LoadOptions& options, RuleSet* set, LoadReport* report,
              std::vector<PendingFilter>* filters) {
  std::error_code ec;
  uintmax_t size = fs::file_size(file, ec);
  if (ec) return report->refused.push_back(RefusedRule{file, "", StrCat("cannot read: ", ec.message())});
  if (size > options.max_file_bytes) {
    return report->refused.push_back(
        RefusedRule{file, "", StrCat("file of ", size, " bytes exceeds the ", options.max_file_bytes, "-byte limit")});
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) return report->refused.push_back(RefusedRule{file, "", "cannot read"});
  LoadText(file, buffer.str(), options, set, report, filters);
}

// Every filter applies to the rules it names, all of which must be loaded (else it is refused
// whole: a filter applied to part of its rules would be a silent change of what they detect).
void ApplyFilters(std::vector<PendingFilter>* filters, RuleSet* set, LoadReport* report) {
  for (PendingFilter& pending : *filters) {
    std::vector<std::string> missing;
    for (const std::string& rule_id : pending.filter.rule_ids) {
      if (set->Find(rule_id) == nullptr) missing.push_back(rule_id);
    }
    if (!missing.empty()) {
      std::string names;
      for (const std::string& m : missing) names += (names.empty() ? "" : ", ") + m;
      report->refused.push_back(RefusedRule{pending.file, pending.filter.id,
                                            StrCat("filter names rule(s) that are not loaded: ", names)});
      continue;
    }
    for (const std::string& rule_id : pending.filter.rule_ids) {
      set->FindMutable(rule_id)->AddFilter(pending.filter.detection, pending.filter.title);
    }
    report->filters.push_back(LoadedRule{pending.file, pending.filter.id, pending.filter.title});
  }
}

// Resolves the correlations once every rule is loaded; a refused one leaves the report's
// correlations and joins its refusals.
void ResolveCorrelations(RuleSet* set, LoadReport* report) {
  for (auto& refused : set->ResolveCorrelations()) {
    const std::string& id = refused.first;
    auto it = std::find_if(report->correlations.begin(), report->correlations.end(),
                           [&id](const LoadedRule& c) { return c.id == id; });
    std::string file = it == report->correlations.end() ? "" : it->file;
    if (it != report->correlations.end()) report->correlations.erase(it);
    report->refused.push_back(RefusedRule{file, id, std::move(refused.second)});
  }
}

}  // namespace

StatusOr<std::unique_ptr<RuleSet>> LoadRuleSet(const std::vector<std::string>& folders, const LoadOptions& options,
                                               LoadReport* report) {
  std::vector<std::string> files;
  for (const std::string& folder : folders) ORGTRAIL_RETURN_IF_ERROR(CollectFiles(folder, &files));
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  auto set = std::make_unique<RuleSet>();
  std::vector<PendingFilter> filters;
  for (const std::string& file : files) LoadFile(file, options, set.get(), report, &filters);
  ApplyFilters(&filters, set.get(), report);
  ResolveCorrelations(set.get(), report);
  return set;
}

std::unique_ptr<RuleSet> LoadRuleSetFromTexts(const std::vector<std::pair<std::string, std::string>>& files,
                                              const LoadOptions& options, LoadReport* report) {
  auto set = std::make_unique<RuleSet>();
  std::vector<PendingFilter> filters;
  for (const auto& [name, text] : files) LoadText(name, text, options, set.get(), report, &filters);
  ApplyFilters(&filters, set.get(), report);
  ResolveCorrelations(set.get(), report);
  return set;
}

}  // namespace orgtrail::detections
