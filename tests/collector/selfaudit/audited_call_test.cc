// The self-audit record (collector/selfaudit/audited_call.h): a CloudTrail record that the
// collector's own extractor reads back with the fields queries index (eventSource orgtrail, the
// caller as userName, the management account and home region), whatever the caller sent.
#include "collector/selfaudit/audited_call.h"

#include <gtest/gtest.h>

#include <grpcpp/support/status.h>
#include <simdjson.h>

#include "orgtrail/common/event_extractor.h"

namespace orgtrail::collector {
namespace {

AuditRecordContext Context() { return {"123456789012", "eu-west-1", "central"}; }

AuditedCall LookupByAlice() {
  AuditedCall call;
  call.grpc_method = "/orgtrail.v1.Query/LookupEvents";
  call.event_name = "LookupEvents";
  call.time_us = 1'780'000'000'000'000;
  call.source_ip = "127.0.0.1";
  call.user_agent = "grpc-c++/1.51.1";
  call.caller_spiffe_id = "spiffe://example.org/auditor/alice";
  call.caller_role = "auditor";
  call.caller_name = "alice";
  call.caller_certificate_sha256 = std::string(64, 'a');
  call.request_json = R"({"maxResults":50})";
  return call;
}

v1::Event Extract(const std::string& json) {
  EventExtractor extractor;
  v1::Event event;
  Status s = extractor.Extract(json, &event);
  EXPECT_TRUE(s.ok()) << s << "\n" << json;
  return event;
}

TEST(AuditedCallTest, RecordCarriesTheCallerTheCallAndTheOrganization) {
  const std::string json = RenderAuditRecord(LookupByAlice(), Context(), "0b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d11",
                                             "1b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d12");
  v1::Event e = Extract(json);
  EXPECT_EQ(e.event_source(), "orgtrail");
  EXPECT_EQ(e.event_name(), "LookupEvents");
  EXPECT_EQ(e.recipient_account_id(), "123456789012");
  EXPECT_EQ(e.aws_region(), "eu-west-1");
  EXPECT_EQ(e.event_id(), "0b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d11");
  EXPECT_EQ(e.username(), "alice");
  EXPECT_EQ(e.event_category(), "Management");
  EXPECT_TRUE(e.read_only());
  EXPECT_TRUE(e.error_code().empty());
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(std::string(doc["userIdentity"]["type"].get_string().value()), "OrgtrailAuditor");
  EXPECT_EQ(std::string(doc["userIdentity"]["arn"].get_string().value()), "spiffe://example.org/auditor/alice");
  EXPECT_EQ(doc["requestParameters"]["maxResults"].get_int64().value(), 50);
  EXPECT_EQ(std::string(doc["additionalEventData"]["grpcMethod"].get_string().value()),
            "/orgtrail.v1.Query/LookupEvents");
  EXPECT_EQ(std::string(doc["sourceIPAddress"].get_string().value()), "127.0.0.1");
  EXPECT_EQ(std::string(doc["eventTime"].get_string().value()), "2026-05-28T20:26:40Z");
}

TEST(AuditedCallTest, RefusedCallCarriesItsErrorAndAnUnknownCallerItsReason) {
  AuditedCall call = LookupByAlice();
  call.caller_spiffe_id.clear();
  call.caller_role.clear();
  call.caller_name.clear();
  call.identity_error = "client certificate: URI SAN is not a SPIFFE ID";
  call.grpc_code = static_cast<int>(grpc::StatusCode::PERMISSION_DENIED);
  call.error_message = "only auditor identities may query";
  call.read_only = false;
  const std::string json = RenderAuditRecord(call, Context(), "e1", "r1");
  v1::Event e = Extract(json);
  EXPECT_EQ(e.error_code(), "AccessDenied");
  EXPECT_FALSE(e.read_only());
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(std::string(doc["userIdentity"]["type"].get_string().value()), "Unknown");
  EXPECT_EQ(std::string(doc["userIdentity"]["invalidIdentity"].get_string().value()), call.identity_error);
  EXPECT_EQ(std::string(doc["errorMessage"].get_string().value()), call.error_message);
  EXPECT_EQ(doc["additionalEventData"]["grpcStatusCode"].get_int64().value(), 7);
}

TEST(AuditedCallTest, HostileStringsStayInsideTheirFields) {
  AuditedCall call = LookupByAlice();
  static constexpr char kHostile[] = "\"},\"eventSource\":\"iam.amazonaws.com\x01\xff\xfe";
  call.user_agent = std::string(kHostile, sizeof(kHostile) - 1) + std::string(5000, 'u');
  call.error_message = "line\nbreak \"quoted\" \\ back";
  call.grpc_code = static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT);
  call.caller_name = "x\"y";
  const std::string json = RenderAuditRecord(call, Context(), "e2", "r2");
  v1::Event e = Extract(json);
  EXPECT_EQ(e.event_source(), "orgtrail");
  EXPECT_EQ(e.error_code(), "ValidationException");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(std::string(doc["errorMessage"].get_string().value()), call.error_message);
  EXPECT_LE(doc["userAgent"].get_string().value().size(), 1024u + 16u);  // clipped, replacement chars allowed
}

TEST(AuditedCallTest, OversizedRequestIsRecordedByItsSizeAndHash) {
  AuditedCall call = LookupByAlice();
  call.request_json = "{\"sql\":\"" + std::string(kMaxAuditedRequestBytes, 'x') + "\"}";
  const std::string json = RenderAuditRecord(call, Context(), "e3", "r3");
  EXPECT_LT(json.size(), 4096u);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_TRUE(doc["requestParameters"]["truncated"].get_bool().value());
  EXPECT_EQ(doc["requestParameters"]["bytes"].get_uint64().value(), call.request_json.size());
  EXPECT_EQ(doc["requestParameters"]["sha256"].get_string().value().size(), 64u);
}

TEST(AuditedCallTest, NoRequestReadIsNull) {
  AuditedCall call = LookupByAlice();
  call.request_json.clear();
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(RenderAuditRecord(call, Context(), "e4", "r4"));
  EXPECT_TRUE(doc["requestParameters"].is_null());
}

TEST(AuditedCallTest, EveryStatusCodeHasAnErrorCodeAndOkHasNone) {
  EXPECT_EQ(AuditErrorCode(0), "");
  for (int code = 1; code <= 16; ++code) EXPECT_FALSE(AuditErrorCode(code).empty()) << code;
  EXPECT_EQ(AuditErrorCode(16), "UnauthenticatedException");
}

}  // namespace
}  // namespace orgtrail::collector
