#include "collector/selfaudit/audited_call.h"

#include <grpcpp/support/status.h>

#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

void AppendString(std::string* out, std::string_view text) {
  out->push_back('"');
  AppendJsonEscaped(out, text);
  out->push_back('"');
}

// ,"key":"value"
void AppendField(std::string* out, std::string_view key, std::string_view value) {
  out->push_back(',');
  AppendString(out, key);
  out->push_back(':');
  AppendString(out, value);
}

std::string IdentityType(const std::string& role) {
  if (role == "auditor") return "OrgtrailAuditor";
  if (role == "admin") return "OrgtrailAdmin";
  if (role == "account-admin") return "OrgtrailAccountAdmin";
  if (role == "agent") return "OrgtrailAgent";
  if (role == "collector") return "OrgtrailCollector";
  return "Unknown";
}

std::string UserIdentity(const AuditedCall& call) {
  std::string out = "{";
  AppendString(&out, "type");
  out += ':';
  AppendString(&out, call.caller_spiffe_id.empty() ? "Unknown" : IdentityType(call.caller_role));
  if (!call.caller_spiffe_id.empty()) {
    AppendField(&out, "principalId", call.caller_spiffe_id);
    AppendField(&out, "arn", call.caller_spiffe_id);
    if (!call.caller_account_id.empty()) AppendField(&out, "accountId", call.caller_account_id);
    AppendField(&out, "userName", call.caller_name);
  }
  if (!call.identity_error.empty()) AppendField(&out, "invalidIdentity", call.identity_error);
  out += '}';
  return out;
}

std::string RequestParameters(const std::string& request_json) {
  if (request_json.empty()) return "null";
  if (request_json.size() <= kMaxAuditedRequestBytes) return request_json;
  return "{\"truncated\":true,\"bytes\":" + std::to_string(request_json.size()) + ",\"sha256\":\"" +
         HexEncode(Sha256(request_json)) + "\"}";
}

std::string Clip(const std::string& text, size_t n) { return text.size() <= n ? text : text.substr(0, n); }

}  // namespace

std::string AuditErrorCode(int grpc_code) {
  switch (static_cast<grpc::StatusCode>(grpc_code)) {
    case grpc::StatusCode::OK: return "";
    case grpc::StatusCode::CANCELLED: return "RequestCanceled";
    case grpc::StatusCode::INVALID_ARGUMENT: return "ValidationException";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "RequestTimeout";
    case grpc::StatusCode::NOT_FOUND: return "ResourceNotFoundException";
    case grpc::StatusCode::ALREADY_EXISTS: return "ResourceAlreadyExistsException";
    case grpc::StatusCode::PERMISSION_DENIED: return "AccessDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "ThrottlingException";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FailedPreconditionException";
    case grpc::StatusCode::ABORTED: return "ConflictException";
    case grpc::StatusCode::OUT_OF_RANGE: return "OutOfRangeException";
    case grpc::StatusCode::UNIMPLEMENTED: return "UnsupportedOperationException";
    case grpc::StatusCode::UNAVAILABLE: return "ServiceUnavailableException";
    case grpc::StatusCode::DATA_LOSS: return "DataLossException";
    case grpc::StatusCode::UNAUTHENTICATED: return "UnauthenticatedException";
    default: return "InternalFailure";
  }
}

std::string RenderAuditRecord(const AuditedCall& call, const AuditRecordContext& context,
                              const std::string& event_id, const std::string& request_id) {
  std::string out = "{\"eventVersion\":\"1.08\",\"userIdentity\":";
  out += UserIdentity(call);
  AppendField(&out, "eventTime", FormatRfc3339Seconds(call.time_us));
  AppendField(&out, "eventSource", kSelfAuditEventSource);
  AppendField(&out, "eventName", call.event_name);
  AppendField(&out, "awsRegion", context.home_region);
  AppendField(&out, "sourceIPAddress", call.source_ip);
  AppendField(&out, "userAgent", Clip(call.user_agent, 1024));
  out += ",\"requestParameters\":" + RequestParameters(call.request_json);
  out += ",\"responseElements\":null";
  const std::string error_code = AuditErrorCode(call.grpc_code);
  if (!error_code.empty()) {
    AppendField(&out, "errorCode", error_code);
    AppendField(&out, "errorMessage", Clip(call.error_message, 4096));
  }
  AppendField(&out, "requestID", request_id);
  AppendField(&out, "eventID", event_id);
  out += std::string(",\"readOnly\":") + (call.read_only ? "true" : "false");
  AppendField(&out, "eventType", "AwsApiCall");
  out += ",\"managementEvent\":true";
  AppendField(&out, "recipientAccountId", context.management_account_id);
  AppendField(&out, "eventCategory", "Management");
  out += ",\"additionalEventData\":{";
  AppendString(&out, "grpcMethod");
  out += ':';
  AppendString(&out, call.grpc_method);
  out += ",\"grpcStatusCode\":" + std::to_string(call.grpc_code);
  AppendField(&out, "collectorId", context.collector_id);
  if (!call.caller_certificate_sha256.empty()) AppendField(&out, "certificateSha256", call.caller_certificate_sha256);
  out += "}}";
  return out;
}

}  // namespace orgtrail::collector
