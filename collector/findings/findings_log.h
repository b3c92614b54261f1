// FindingsLog: the findings the collector's Sigma engine has recorded, in the store's metadata
// column family, and the engine's cursor:
//   findings/cursor                          U(commit index through which every event was matched)
//   finding/<8-byte big-endian commit index><rule id>   orgtrail.v1.Finding serialized
//       (a correlation's finding: <rule id>#<16 hex digits of SHA-256 of its group>)
//   findings/corr/<correlation id>\0<group JSON>       orgtrail.v1.CorrelationWindow: an open
//       correlation window, written (or deleted) with the cursor it belongs to
//   findings/rule/<8-byte big-endian rule ref>         orgtrail.v1.FindingRule: a rule's fields,
//       once per version of a rule that findings name by Finding.rule_ref (PutRules, before
//       the findings); List fills each finding's rule fields back from it. A finding stored
//       without rule_ref (as recorded before the rule table existed) is returned as stored.
// Findings of one group of events are written with the new cursor in ONE write, so after a crash
// the engine resumes at the cursor and rewrites the same keys: each (event, rule) is recorded
// exactly once. That write has no fsync of its own (EventStore::Durability::kWithNextSync): it is
// durable with the store's next synced write (the next ingest commit, a deliverer's cursor); a
// power loss before that takes the latest findings and their cursor together, and the engine
// matches those events again on restart (only detected_time_us differs). Keys sort by commit index, so a listing pages in commit order.
// Thread safety: as EventStore (one writer, the engine; readers from any thread).
#ifndef ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_LOG_H_
#define ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_LOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "orgtrail/common/status.h"
#include "orgtrail/detections/correlation_state.h"
#include "orgtrail/v1/findings.pb.h"

namespace orgtrail::collector {

struct FindingsFilter {
  std::string rule_id;    // "" = every rule
  int min_level_rank = 0; // LevelRank(); 0 = every level
};

// informational 1, low 2, medium 3, high 4, critical 5; anything else 0.
int LevelRank(std::string_view level);

class FindingsLog {
 public:
  explicit FindingsLog(EventStore* store) : store_(store) {}

  // 0 when nothing was matched yet (no cursor recorded).
  StatusOr<uint64_t> Cursor() const;
  bool HasCursor() const;
  // Writes the findings, the changed correlation windows (empty entries: deleted) and the new
  // cursor durably in one write.
  Status Append(const google::protobuf::RepeatedPtrField<v1::Finding>& findings, uint64_t cursor,
                const std::vector<detections::WindowUpdate>& windows = {});
  // Records rule fields under their references (durably; rewriting one is harmless). Call before
  // appending findings that name them.
  Status PutRules(const std::vector<std::pair<uint64_t, v1::FindingRule>>& rules);
  // Every stored correlation window, for CorrelationState::RestoreWindow.
  Status ForEachWindow(const std::function<void(detections::WindowUpdate&&)>& fn) const;
  // Findings of events with commit index > after_commit_index, in commit order, that pass the
  // filter: about max_results (a page never splits the findings of one event); *next is the
  // commit index to continue after (the last one looked at). Rule fields are filled from the
  // rule table (DATA_LOSS if a finding names a rule version that is not there).
  StatusOr<std::vector<v1::Finding>> List(uint64_t after_commit_index, size_t max_results,
                                          const FindingsFilter& filter, uint64_t* next) const;

  static std::string Key(const v1::Finding& finding);

 private:
  // Sets the fields of the rule version the finding names (no-op without rule_ref).
  Status FillRuleFields(v1::Finding* finding) const;

  EventStore* store_;
  mutable std::mutex rules_mu_;
  mutable std::map<uint64_t, v1::FindingRule> rules_;  // rule table entries read so far
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_LOG_H_
