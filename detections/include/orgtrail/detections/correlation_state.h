// CorrelationState: evaluates a RuleSet's correlation rules over a stream of events, in the order
// the caller feeds them (the collector: its commit order, for streaming and retro-hunts alike, so
// both give the same findings over the same events).
//
// For each event the caller passes the base rules it matched. Each correlation that uses one of
// them files the event in the window of its group (the `group-by` values read from the record,
// aliases resolved per rule) and checks that window:
//   event_count       the events in the window meet the condition
//   value_count       the distinct values of the condition's field meet it
//   temporal          every referenced rule (or as many as the condition asks) has an event in it
//   temporal_ordered  the referenced rules have events in the window in the order given
// A window holds the group's events of the last `timespan` of event time, ending at the newest
// one seen (an event older than that when it arrives is not counted). When a window meets its
// rule, a CorrelationMatch names the rule, the group and the events, and the window is emptied:
// each event counts toward at most one match of a correlation. A match is also an event of the
// correlation itself for correlations that refer to it (chains), with the record and time of the
// event that completed it.
//
// Persistence: the windows changed since the last TakeChangedWindows() are handed out so the
// caller can store them with its cursor in one write; RestoreWindow() loads them back at start.
// Windows whose newest event is more than their timespan older than the newest event seen in
// the stream are dropped (and reported as changed, empty).
// Not thread-safe. The RuleSet must outlive the state.
#ifndef ORGTRAIL_DETECTIONS_CORRELATION_STATE_H_
#define ORGTRAIL_DETECTIONS_CORRELATION_STATE_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "orgtrail/detections/correlation.h"
#include "orgtrail/detections/record.h"
#include "orgtrail/detections/rule_set.h"

namespace orgtrail::detections {

// Which stored event: enough for a finding to name it and for verify-event to prove it.
struct EventRef {
  uint64_t commit_index = 0;
  std::string event_id;
  std::string account_id;
  std::string region;
  int64_t time_us = 0;
};

// One event in a window: its time, which referenced rule it matched (index into rule_refs),
// the value counted by value_count, and the event.
struct WindowEntry {
  int64_t time_us = 0;
  uint32_t rule_index = 0;
  std::string value;
  EventRef event;
};

struct CorrelationMatch {
  const CorrelationRule* rule = nullptr;
  std::string group_json;   // the group-by fields and values, as a JSON object
  std::vector<WindowEntry> entries;  // the events that made the match, oldest first
};

// A window to store (entries empty: delete it).
struct WindowUpdate {
  std::string correlation_id;
  std::string group_json;
  std::vector<WindowEntry> entries;
};

class CorrelationState {
 public:
  explicit CorrelationState(const RuleSet* rules);

  // `matched`: the base rules of `rules` that matched this record (RuleSet::Match). Appends the
  // correlation matches it completes (chained ones after the ones they follow).
  void Observe(const Record& record, const EventRef& event, const std::vector<const Rule*>& matched,
               std::vector<CorrelationMatch>* out);

  std::vector<WindowUpdate> TakeChangedWindows();
  // At start, before any Observe(): a window stored earlier. Unknown correlations are ignored
  // (their rule was removed); returns false then.
  bool RestoreWindow(const std::string& correlation_id, const std::string& group_json, std::vector<WindowEntry> entries);

  size_t open_windows() const;

 private:
  using Window = std::vector<WindowEntry>;
  // A source fired (a base rule or a correlation): feed it to the correlations that use it.
  void Feed(const std::string& source, const Record& record, const EventRef& event, std::vector<CorrelationMatch>* out, int depth);
  bool Evaluate(const CorrelationRule& rule, const Window& window) const;
  void ExpireStale();

  const RuleSet* rules_;
  // source id or name -> (correlation index, rule index within it)
  std::multimap<std::string, std::pair<size_t, uint32_t>> consumers_;
  std::vector<std::map<std::string, Window>> windows_;  // per correlation: group json -> window
  std::map<std::pair<size_t, std::string>, bool> changed_;
  int64_t newest_time_us_ = 0;
  uint64_t observed_ = 0;
};

// The group-by values of `record` for `rule`'s referenced rule `rule_index`, as a JSON object
// ({"userIdentity.arn":"arn:…"}; a missing field is null).
std::string GroupJson(const CorrelationRule& rule, uint32_t rule_index, const Record& record);

}  // namespace orgtrail::detections

#endif  // ORGTRAIL_DETECTIONS_CORRELATION_STATE_H_
