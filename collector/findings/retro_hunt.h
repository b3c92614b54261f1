// RetroHunt: runs Sigma rules the caller supplies over the events already stored (the org-wide
// time index, newest first, within an eventTime range and optionally some accounts), and hands
// back findings and progress in batches. The same rules give the same (event, rule) findings as
// the streaming engine (findings_engine.h) gives over the same events: both use FindingMatcher
// (finding_fields.h). Sigma correlations run after the scan over the events the rules matched,
// put back in commit order as the streaming engine sees them (at most 256 MiB of them, else
// RESOURCE_EXHAUSTED asks for a narrower range).
// Compile() loads the documents like --sigma-rules (Sigma filters apply to the rules they name)
// and refuses the whole hunt (INVALID_ARGUMENT naming every rule or filter that cannot run)
// rather than hunting with part of the rules. Run() stops early when `emit` returns false (the caller
// went away). Not thread-safe: one hunt per object.
#ifndef ORGTRAIL_COLLECTOR_FINDINGS_RETRO_HUNT_H_
#define ORGTRAIL_COLLECTOR_FINDINGS_RETRO_HUNT_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "collector/findings/finding_fields.h"
#include "collector/store/store.h"
#include "orgtrail/common/status.h"
#include "orgtrail/detections/rule_set.h"
#include "orgtrail/v1/findings.pb.h"

namespace orgtrail::collector {

inline constexpr size_t kMaxHuntRules = 1000;
inline constexpr size_t kMaxHuntRuleBytes = 8u << 20;

class RetroHunt {
 public:
  static StatusOr<std::unique_ptr<RetroHunt>> Compile(const v1::HuntRequest& request);

  // emit: a batch of findings and the progress so far; false stops the hunt. The last call has
  // progress.done set when the whole range was scanned.
  Status Run(const EventStore& store, const std::function<bool(v1::HuntResponse&&)>& emit);

  size_t rules() const { return rules_->size(); }

 private:
  RetroHunt() = default;
  std::unique_ptr<detections::RuleSet> rules_;
  std::map<std::string, std::string> rule_files_;
  int64_t start_us_ = 0;
  int64_t end_us_ = 0;
  std::set<std::string> accounts_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_FINDINGS_RETRO_HUNT_H_
