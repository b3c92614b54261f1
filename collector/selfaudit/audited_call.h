// AuditedCall and its CloudTrail-shaped record: what the collector writes about one call to its
// query, investigation, admin, digest-key and Merkle-log services (the self-audit of its readers
// and administrators). The record is an ordinary CloudTrail JSON record:
//   eventSource "orgtrail" (kSelfAuditEventSource), eventName the RPC ("LookupEvents"),
//   userIdentity from the caller's certificate (type OrgtrailAuditor/OrgtrailAdmin/...,
//   principalId and arn the SPIFFE ID, userName its name, accountId for account-scoped roles),
//   sourceIPAddress and userAgent of the connection, requestParameters the request message as
//   protobuf JSON (bounded), errorCode/errorMessage when the call was refused or failed,
//   recipientAccountId the management account, awsRegion the home region, readOnly,
//   eventType AwsApiCall, managementEvent true, eventCategory Management, and
//   additionalEventData {grpcMethod, grpcStatusCode, collectorId, certificateSha256}.
// Pure functions; thread-safe.
#ifndef ORGTRAIL_COLLECTOR_SELFAUDIT_AUDITED_CALL_H_
#define ORGTRAIL_COLLECTOR_SELFAUDIT_AUDITED_CALL_H_

#include <cstdint>
#include <string>

namespace orgtrail::collector {

struct AuditedCall {
  std::string grpc_method;   // "/orgtrail.v1.Query/LookupEvents"
  std::string event_name;    // "LookupEvents"
  bool read_only = true;
  int64_t time_us = 0;       // when the call was answered (or, for streams, accepted)
  std::string source_ip;     // from the connection, "" if unknown
  std::string user_agent;
  // The caller as its certificate says (empty spiffe_id: no usable SVID; identity_error says why).
  std::string caller_spiffe_id;
  std::string caller_role;       // "auditor", "admin", "account-admin", "agent", "collector"
  std::string caller_name;
  std::string caller_account_id;
  std::string caller_certificate_sha256;
  std::string identity_error;
  std::string request_json;  // protobuf JSON of the request; "" = no request was read
  int grpc_code = 0;         // grpc::StatusCode
  std::string error_message;
};

struct AuditRecordContext {
  std::string management_account_id;
  std::string home_region;
  std::string collector_id;
};

// Longest requestParameters kept verbatim; a longer request is recorded as
// {"truncated":true,"bytes":N,"sha256":"<hex of the full JSON>"}.
inline constexpr size_t kMaxAuditedRequestBytes = 64 * 1024;

// The record's JSON (one object, no newline). event_id and request_id are UUIDs.
std::string RenderAuditRecord(const AuditedCall& call, const AuditRecordContext& context,
                              const std::string& event_id, const std::string& request_id);

// CloudTrail-style error code for a gRPC status code: "AccessDenied" for PERMISSION_DENIED,
// "UnauthenticatedException", "ValidationException" for INVALID_ARGUMENT, ... ("" for OK).
std::string AuditErrorCode(int grpc_code);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SELFAUDIT_AUDITED_CALL_H_
