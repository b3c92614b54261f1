// The per-event acceptance rules shared by the collector and the agent (see
// event_acceptance.h).
#include "orgtrail/common/event_acceptance.h"

#include "orgtrail/common/time_util.h"

namespace orgtrail {
namespace {

std::string Clip(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n) + "..."; }

std::string OfEvent(const v1::Event& event) {
  return event.event_id().empty() ? std::string() : " (eventID " + Clip(event.event_id(), 128) + ")";
}

EventRejection Reject(absl::StatusCode code, std::string rule, std::string message) {
  EventRejection r;
  r.code = code;
  r.identity_violation = IsIdentityViolation(rule);
  r.rule = std::move(rule);
  r.message = std::move(message);
  return r;
}

bool HasControlCharacter(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool IsIdentityViolation(std::string_view rule) {
  return rule == "recipient_account_mismatch" || rule == "region_mismatch" || rule == "reserved_event_source";
}

std::optional<EventRejection> CheckEventAcceptance(const v1::Event& e, const AcceptanceRules& rules) {
  if (rules.max_event_bytes > 0 && e.raw_json().size() > rules.max_event_bytes) {
    return Reject(absl::StatusCode::kInvalidArgument, "event_too_large",
                  "the record is " + std::to_string(e.raw_json().size()) +
                      " bytes, too large: the collector's limit is " +
                      std::to_string(rules.max_event_bytes) + OfEvent(e));
  }
  if (e.event_id().empty()) {
    return Reject(absl::StatusCode::kInvalidArgument, "event_id_missing", "the record has no eventID");
  }
  if (e.event_id().size() > rules.max_event_id_bytes) {
    return Reject(absl::StatusCode::kInvalidArgument, "event_id_invalid",
                  "eventID is " + std::to_string(e.event_id().size()) + " bytes, longer than " +
                      std::to_string(rules.max_event_id_bytes) + " ('" + Clip(e.event_id(), 64) + "')");
  }
  if (HasControlCharacter(e.event_id())) {
    return Reject(absl::StatusCode::kInvalidArgument, "event_id_invalid", "eventID holds control characters");
  }
  if (e.recipient_account_id() != rules.account_id) {
    return Reject(absl::StatusCode::kPermissionDenied, "recipient_account_mismatch",
                  std::string(e.recipient_account_from_user_identity()
                                  ? "userIdentity.accountId (no recipientAccountId) '"
                                  : "recipientAccountId '") +
                      Clip(e.recipient_account_id(), 64) + "' is not the sender's account '" + rules.account_id +
                      "'" + OfEvent(e));
  }
  if (!IsValidRegionName(e.aws_region()) && rules.allowed_regions.count(e.aws_region()) == 0) {
    return Reject(absl::StatusCode::kInvalidArgument, "invalid_region",
                  "awsRegion '" + Clip(e.aws_region(), 64) +
                      "' is not a region name (a collector accepts it with --allowed-regions)" + OfEvent(e));
  }
  if (e.aws_region() != rules.region && !rules.classifier->IsGlobal(e)) {
    return Reject(absl::StatusCode::kPermissionDenied, "region_mismatch",
                  "awsRegion '" + e.aws_region() + "' is not the sender's region '" + rules.region + "' and " +
                      Clip(e.event_source(), 128) + " is not a global service" + OfEvent(e));
  }
  if (rules.sender_is_collector && !IsCollectorRecord(e)) {
    return Reject(absl::StatusCode::kPermissionDenied, "reserved_event_source",
                  "the collector records only its own self-audit events (eventSource " +
                      std::string(kSelfAuditEventSource) + ") and Insights (eventType " +
                      std::string(kInsightEventType) + "), not " + Clip(e.event_source(), 128) + OfEvent(e));
  }
  if (!rules.sender_is_collector && e.event_source() == kSelfAuditEventSource) {
    return Reject(absl::StatusCode::kPermissionDenied, "reserved_event_source",
                  "eventSource " + std::string(kSelfAuditEventSource) +
                      " is reserved for the collector's self-audit records" + OfEvent(e));
  }
  if (rules.retention_us > 0 && e.event_time_us() < NowMicros() - rules.retention_us) {
    return Reject(absl::StatusCode::kInvalidArgument, "older_than_retention",
                  "eventTime is older than the collector's retention (" +
                      std::to_string(rules.retention_us / 86400000000LL) + " days)" + OfEvent(e));
  }
  return std::nullopt;
}

}  // namespace orgtrail
