// RuleSet::ResolveCorrelations: checks what each correlation names, refuses broken chains, and
// decides which rules report findings of their own (see rule_set.h).
#include <algorithm>
#include <map>

#include "orgtrail/common/str_cat.h"
#include "orgtrail/detections/rule_set.h"

namespace orgtrail::detections {

std::vector<std::pair<std::string, std::string>> RuleSet::ResolveCorrelations() {
  std::vector<std::pair<std::string, std::string>> refused;
  // The id a reference names ("" when nothing loaded has that id or name).
  auto canonical = [&](const std::string& ref) -> std::string {
    if (Find(ref) != nullptr) return ref;
    for (const auto& c : correlations_) {
      if (c->metadata.id == ref) return ref;
    }
    auto it = names_.find(ref);
    return it == names_.end() ? "" : it->second;
  };
  auto remove = [&](size_t i, std::string reason) {
    refused.emplace_back(correlations_[i]->metadata.id, std::move(reason));
    if (!correlations_[i]->name.empty()) names_.erase(correlations_[i]->name);
    correlations_.erase(correlations_.begin() + static_cast<std::ptrdiff_t>(i));
  };
  for (bool changed = true; changed;) {
    changed = false;
    // References to something not loaded (or to a correlation refused in an earlier round).
    for (size_t i = 0; i < correlations_.size() && !changed; ++i) {
      for (const std::string& ref : correlations_[i]->rule_refs) {
        if (canonical(ref).empty()) {
          remove(i, StrCat("correlation names '", ref, "', which is not a loaded rule or correlation"));
          changed = true;
          break;
        }
      }
    }
    if (changed) continue;
    // Depth of each correlation: 1 + the deepest correlation it names; none in a cycle settles.
    std::map<std::string, int> depth;
    for (size_t round = 0; round <= correlations_.size(); ++round) {
      for (const auto& c : correlations_) {
        int d = 1;
        bool settled = true;
        for (const std::string& ref : c->rule_refs) {
          const std::string id = canonical(ref);
          if (Find(id) != nullptr) continue;
          auto it = depth.find(id);
          if (it == depth.end()) {
            settled = false;
            break;
          }
          d = std::max(d, it->second + 1);
        }
        if (settled) depth[c->metadata.id] = d;
      }
    }
    for (size_t i = 0; i < correlations_.size(); ++i) {
      auto it = depth.find(correlations_[i]->metadata.id);
      if (it == depth.end()) {
        remove(i, "correlation is part of a cycle of correlations naming each other");
        changed = true;
        break;
      }
      if (it->second > kMaxCorrelationChainDepth) {
        remove(i, StrCat("correlation chain deeper than ", kMaxCorrelationChainDepth));
        changed = true;
        break;
      }
    }
  }
  std::set<std::string> feeding, reporting;
  for (const auto& c : correlations_) {
    for (const std::string& ref : c->rule_refs) (c->generate ? reporting : feeding).insert(canonical(ref));
  }
  silent_.clear();
  for (const std::string& id : feeding) {
    if (reporting.count(id) == 0) silent_.insert(id);
  }
  return refused;
}

}  // namespace orgtrail::detections
