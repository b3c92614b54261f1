// EventAcceptance: the per-event rules the collector applies to every event
// of a verified batch, in one place, so that an agent can apply the very same
// rules before it acknowledges its source (the collector announces its
// settings in HelloAck; see proto/orgtrail/v1/ingest.proto).
//
// The rules, in order (the first broken one is reported):
//   event_too_large             raw_json longer than max_event_bytes (0 = no limit)
//   event_id_missing            no eventID
//   event_id_invalid            eventID longer than max_event_id_bytes, or
//                               holding control characters
//   recipient_account_mismatch  recipientAccountId is not the sender's account
//   invalid_region              awsRegion is not shaped like an AWS region and
//                               is not in allowed_regions
//   region_mismatch             awsRegion is not the sender's region and the
//                               event is not a global-service event
//   older_than_retention        eventTime is older than now - retention_us (the
//                               collector would drop it, and with it the record
//                               that it was stored: refused so it cannot be
//                               stored twice)
//   reserved_event_source       an agent sent eventSource kSelfAuditEventSource
//                               ("orgtrail": only the collector records those, its
//                               self-audit of who queried and managed it), or the
//                               collector sent a record that is neither that nor
//                               an Insights record (IsCollectorRecord)
// The two *_mismatch rules and reserved_event_source are identity violations: a
// sender reporting for an account or region that its certificate does not name,
// or posing as the collector.
//
// Thread safety: AcceptanceRules is a value; CheckEventAcceptance is a pure
// function of the event, the rules and the wall clock (the classifier is immutable).
#ifndef ORGTRAIL_COMMON_EVENT_ACCEPTANCE_H_
#define ORGTRAIL_COMMON_EVENT_ACCEPTANCE_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "orgtrail/common/classify.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/event.pb.h"

namespace orgtrail {

inline constexpr size_t kDefaultMaxEventIdBytes = 256;
// The eventSource of the collector's self-audit records (collector/selfaudit/).
inline constexpr std::string_view kSelfAuditEventSource = "orgtrail";
// The eventType of CloudTrail Insights records (collector/insights/ makes them).
inline constexpr std::string_view kInsightEventType = "AwsCloudTrailInsight";

// The records the collector itself signs and stores: its self-audit records and the Insights
// records it computes. Agents may send Insights records (CloudTrail-delivered files replayed),
// never the self-audit source.
inline bool IsCollectorRecord(const v1::Event& event) {
  return event.event_source() == kSelfAuditEventSource || event.event_type() == kInsightEventType;
}

struct AcceptanceRules {
  std::string account_id;  // the sender's account (from its certificate)
  std::string region;      // the sender's region
  std::shared_ptr<const GlobalServiceClassifier> classifier;  // required
  std::set<std::string> allowed_regions;  // accepted besides the AWS region shape
  size_t max_event_id_bytes = kDefaultMaxEventIdBytes;
  int64_t retention_us = 0;  // 0 = no retention
  size_t max_event_bytes = 0;  // 0 = no limit here (the extractor has its own)
  bool sender_is_collector = false;  // true only for the collector's own batches (IsCollectorRecord)
};

struct EventRejection {
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  std::string rule;     // machine-readable, one of the rules above
  std::string message;  // names the field, both values and the eventID
  bool identity_violation = false;
};

// nullopt when the event is acceptable. `event` is what EventExtractor made of
// the raw JSON (an extraction failure is the caller's "malformed_event").
std::optional<EventRejection> CheckEventAcceptance(const v1::Event& event, const AcceptanceRules& rules);

// True for rules that are identity violations.
bool IsIdentityViolation(std::string_view rule);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_EVENT_ACCEPTANCE_H_
