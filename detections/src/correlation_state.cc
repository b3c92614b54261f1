// CorrelationState: windows per (correlation, group), evaluated as events arrive (see
// correlation_state.h).
#include "orgtrail/detections/correlation_state.h"

#include <algorithm>
#include <set>

#include "orgtrail/common/logger.h"  // AppendJsonEscaped

namespace orgtrail::detections {
namespace {

// Stale windows are swept every this many observations.
constexpr uint64_t kSweepEvery = 4096;

// The first text value the path selects ("" when none; *present false when missing or null).
std::string FirstText(const Record& record, const FieldPath& path, bool* present) {
  Values values;
  record.Select(path, &values);
  std::string text;
  for (const auto& v : values) {
    if (ValueText(v, &text)) {
      *present = true;
      return text;
    }
  }
  *present = false;
  return "";
}

// temporal_ordered: the rules have events in the window in the given order (a subsequence of
// the window sorted by time; equal times keep arrival order).
bool InOrder(const std::vector<WindowEntry>& window, size_t rule_count) {
  std::vector<const WindowEntry*> sorted;
  for (const WindowEntry& e : window) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const WindowEntry* a, const WindowEntry* b) { return a->time_us < b->time_us; });
  size_t next = 0;
  for (const WindowEntry* e : sorted) {
    if (next < rule_count && e->rule_index == next) ++next;
  }
  return next == rule_count;
}

}  // namespace

std::string GroupJson(const CorrelationRule& rule, uint32_t rule_index, const Record& record) {
  std::string out = "{";
  for (size_t i = 0; i < rule.group_by.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"";
    AppendJsonEscaped(&out, rule.group_by[i]);
    out += "\":";
    bool present = false;
    const std::string value = FirstText(record, rule.group_paths[rule_index][i], &present);
    if (!present) {
      out += "null";
      continue;
    }
    out += "\"";
    AppendJsonEscaped(&out, value);
    out += "\"";
  }
  return out + "}";
}

CorrelationState::CorrelationState(const RuleSet* rules) : rules_(rules) {
  const auto& correlations = rules->correlations();
  windows_.resize(correlations.size());
  for (size_t c = 0; c < correlations.size(); ++c) {
    for (uint32_t r = 0; r < correlations[c]->rule_refs.size(); ++r) {
      consumers_.emplace(correlations[c]->rule_refs[r], std::make_pair(c, r));
    }
  }
}

void CorrelationState::Observe(const Record& record, const EventRef& event, const std::vector<const Rule*>& matched,
                               std::vector<CorrelationMatch>* out) {
  if (consumers_.empty()) return;
  newest_time_us_ = std::max(newest_time_us_, event.time_us);
  for (const Rule* rule : matched) {
    Feed(rule->id(), record, event, out, 0);
    const std::string& name = rule->metadata().name;
    if (!name.empty() && name != rule->id()) Feed(name, record, event, out, 0);
  }
  if (++observed_ % kSweepEvery == 0) ExpireStale();
}

void CorrelationState::Feed(const std::string& source, const Record& record, const EventRef& event,
                            std::vector<CorrelationMatch>* out, int depth) {
  if (depth > kMaxCorrelationChainDepth) return;  // refused at load; this only guards the recursion
  auto [begin, end] = consumers_.equal_range(source);
  for (auto it = begin; it != end; ++it) {
    const auto [c, rule_index] = it->second;
    const CorrelationRule& rule = *rules_->correlations()[c];
    WindowEntry entry;
    entry.time_us = event.time_us;
    entry.rule_index = rule_index;
    entry.event = event;
    if (rule.value_field) {
      bool present = false;
      entry.value = FirstText(record, *rule.value_field, &present);
      if (!present) continue;  // value_count counts values; an event without one adds none
    }
    std::string group = GroupJson(rule, rule_index, record);
    Window& window = windows_[c][group];
    int64_t newest = entry.time_us;
    for (const WindowEntry& e : window) newest = std::max(newest, e.time_us);
    const int64_t oldest_kept = newest - rule.timespan_us;
    window.erase(std::remove_if(window.begin(), window.end(),
                                [&](const WindowEntry& e) { return e.time_us < oldest_kept; }),
                 window.end());
    changed_[{c, group}] = true;
    if (entry.time_us < oldest_kept) continue;  // arrived after its window moved on
    window.push_back(std::move(entry));
    if (window.size() > static_cast<size_t>(kMaxCorrelationWindow)) window.erase(window.begin());
    if (!Evaluate(rule, window)) continue;
    CorrelationMatch match;
    match.rule = &rule;
    match.group_json = group;
    match.entries = std::move(window);
    window.clear();
    std::stable_sort(match.entries.begin(), match.entries.end(),
                     [](const WindowEntry& a, const WindowEntry& b) { return a.time_us < b.time_us; });
    out->push_back(std::move(match));
    // The match is an event of the correlation for the correlations that refer to it.
    Feed(rule.metadata.id, record, event, out, depth + 1);
    if (!rule.name.empty() && rule.name != rule.metadata.id) Feed(rule.name, record, event, out, depth + 1);
  }
}

bool CorrelationState::Evaluate(const CorrelationRule& rule, const Window& window) const {
  switch (rule.type) {
    case CorrelationType::kEventCount:
      return rule.condition.Holds(static_cast<int64_t>(window.size()));
    case CorrelationType::kValueCount: {
      std::set<std::string> values;
      for (const WindowEntry& e : window) values.insert(e.value);
      return rule.condition.Holds(static_cast<int64_t>(values.size()));
    }
    case CorrelationType::kTemporal: {
      std::set<uint32_t> rules;
      for (const WindowEntry& e : window) rules.insert(e.rule_index);
      const int64_t n = static_cast<int64_t>(rules.size());
      return rule.condition.HasLowerBound() ? rule.condition.Holds(n)
                                            : n == static_cast<int64_t>(rule.rule_refs.size());
    }
    case CorrelationType::kTemporalOrdered:
      return InOrder(window, rule.rule_refs.size());
  }
  return false;
}

void CorrelationState::ExpireStale() {
  const auto& correlations = rules_->correlations();
  for (size_t c = 0; c < windows_.size(); ++c) {
    for (auto it = windows_[c].begin(); it != windows_[c].end();) {
      int64_t newest = 0;
      for (const WindowEntry& e : it->second) newest = std::max(newest, e.time_us);
      if (it->second.empty() || newest < newest_time_us_ - correlations[c]->timespan_us) {
        changed_[{c, it->first}] = true;
        it = windows_[c].erase(it);
      } else {
        ++it;
      }
    }
  }
}

std::vector<WindowUpdate> CorrelationState::TakeChangedWindows() {
  std::vector<WindowUpdate> updates;
  const auto& correlations = rules_->correlations();
  for (const auto& [key, unused] : changed_) {
    WindowUpdate update;
    update.correlation_id = correlations[key.first]->metadata.id;
    update.group_json = key.second;
    auto it = windows_[key.first].find(key.second);
    if (it != windows_[key.first].end()) {
      if (it->second.empty()) {
        windows_[key.first].erase(it);
      } else {
        update.entries = it->second;
      }
    }
    updates.push_back(std::move(update));
  }
  changed_.clear();
  return updates;
}

bool CorrelationState::RestoreWindow(const std::string& correlation_id, const std::string& group_json,
                                     std::vector<WindowEntry> entries) {
  const auto& correlations = rules_->correlations();
  for (size_t c = 0; c < correlations.size(); ++c) {
    if (correlations[c]->metadata.id != correlation_id) continue;
    for (const WindowEntry& e : entries) {
      if (e.rule_index >= correlations[c]->rule_refs.size()) return false;
      newest_time_us_ = std::max(newest_time_us_, e.time_us);
    }
    windows_[c][group_json] = std::move(entries);
    return true;
  }
  return false;
}

size_t CorrelationState::open_windows() const {
  size_t n = 0;
  for (const auto& per_correlation : windows_) n += per_correlation.size();
  return n;
}

}  // namespace orgtrail::detections
