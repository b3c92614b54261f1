// EventIntake: the checks every source applies to a captured record before
// it may enter the spool, and the trail selection.
//   1. EventExtractor: valid JSON object, valid UTF-8, size limit, eventTime
//      present and RFC 3339 (refused otherwise: "eventTime missing" etc.).
//   2. eventID missing -> a UUIDv4 is inserted as the first member
//      (AssignEventId), so it is covered by the leaf hash.
//   3. The collector's per-event acceptance rules (common/event_acceptance.h):
//      eventID length, recipientAccountId (or the userIdentity.accountId
//      fallback) must be this agent's account, awsRegion a region name (or
//      allowed) and this agent's region unless the event is a global-service
//      event. PERMISSION_DENIED (identity) or INVALID_ARGUMENT naming the field
//      and both values; *rule says which. The rules start from the defaults
//      and follow what the collector announces in each HelloAck
//      (SetCollectorRules), so a source is never told "accepted" for an event
//      that the collector would refuse.
//   4. Selection: the trails of the last TrailConfig (TrailEvaluator). Until a
//      TrailConfig has ever been received, the configured fallback applies
//      (select everything, or nothing).
// Thread safety: Prepare() and Selected() are thread-safe (each caller passes
// its own EventExtractor); SetTrailConfig swaps the evaluator atomically.
#ifndef ORGTRAIL_AGENT_INTAKE_H_
#define ORGTRAIL_AGENT_INTAKE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/selectors.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/admin.pb.h"
#include "orgtrail/v1/event.pb.h"
#include "orgtrail/v1/ingest.pb.h"

namespace orgtrail::agent {

enum class UnconfiguredSelection { kAll, kNone };

struct IntakeOptions {
  std::string account_id;
  std::string region;
  UnconfiguredSelection unconfigured = UnconfiguredSelection::kAll;
};

class EventIntake {
 public:
  EventIntake(IntakeOptions options, MetricsRegistry* metrics);

  // Steps 1-3. On success the returned event's raw_json is what will be
  // signed (the input bytes, or the input with the inserted eventID).
  // *rule (optional) is set to the broken acceptance rule when step 3 refuses.
  StatusOr<v1::Event> Prepare(std::string_view raw_json, EventExtractor* extractor,
                              std::string* rule = nullptr) const;
  // Step 3's rules from the collector's HelloAck (global services, allowed regions,
  // eventID limit). Fields the collector leaves empty keep their defaults.
  void SetCollectorRules(const v1::HelloAck& hello_ack);
  // Step 4.
  bool Selected(const v1::Event& event) const;

  // Applies a TrailConfig (pushed by the collector or loaded from the spool).
  void SetTrailConfig(const v1::TrailConfig& config);
  uint64_t trail_config_version() const;
  bool has_trail_config() const;

  // Counters shared by every source.
  Counter* events_read() const { return events_read_; }
  Counter* events_selected() const { return events_selected_; }
  Counter* events_unselected() const { return events_unselected_; }
  Counter* events_refused(std::string_view reason) const;

  const IntakeOptions& options() const { return options_; }

 private:
  std::shared_ptr<const AcceptanceRules> rules() const;

  IntakeOptions options_;
  GlobalServiceClassifier classifier_;  // for trail selection
  mutable std::mutex mu_;
  std::shared_ptr<const AcceptanceRules> rules_;  // swapped whole under mu_
  std::shared_ptr<const TrailEvaluator> evaluator_;  // null until a config is known
  MetricsRegistry* metrics_;
  Counter* events_read_;
  Counter* events_selected_;
  Counter* events_unselected_;
};

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_INTAKE_H_
