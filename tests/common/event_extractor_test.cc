// EventExtractor field rules on hand-written CloudTrail records.
#include "orgtrail/common/event_extractor.h"

#include <gtest/gtest.h>

#include <string>

namespace orgtrail {
namespace {

v1::Event MustExtract(const std::string& json, ExtractReport* report = nullptr) {
  EventExtractor extractor;
  v1::Event event;
  const Status s = extractor.Extract(json, &event, report);
  EXPECT_TRUE(s.ok()) << s << "\n" << json;
  return event;
}

std::string Record(const std::string& user_identity, const std::string& extra = "") {
  return R"({"eventVersion":"1.08","userIdentity":)" + user_identity +
         R"(,"eventTime":"2023-07-10T11:42:36Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","eventID":"e-1")" +
         extra + "}";
}

TEST(EventExtractorTest, AllFieldsOfAFullRecord) {
  const std::string json = R"({
    "eventVersion": "1.09",
    "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice-session",
      "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice-session",
      "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLE",
      "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "Admin"},
        "attributes": {"creationDate": "2023-07-10T11:00:00Z", "mfaAuthenticated": "true"}}},
    "eventTime": "2023-07-10T11:42:36.250Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "DeleteBucket",
    "awsRegion": "eu-west-1",
    "sourceIPAddress": "198.51.100.7",
    "userAgent": "aws-cli/2.13.0",
    "errorCode": "AccessDenied",
    "errorMessage": "Access Denied",
    "requestParameters": {"bucketName": "b"},
    "responseElements": null,
    "additionalEventData": {"MFAUsed": "Yes", "other": [1, 2, {"x": null}]},
    "requestID": "R1",
    "eventID": "0f1e2d3c-0000-4000-8000-000000000001",
    "readOnly": false,
    "resources": [{"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"},
                  {"ARN": "arn:aws:s3:::c"}],
    "eventType": "AwsApiCall",
    "managementEvent": true,
    "recipientAccountId": "111122223333",
    "sharedEventID": "shared-1",
    "vpcEndpointId": "vpce-123",
    "eventCategory": "Management",
    "sessionCredentialFromConsole": "true",
    "tlsDetails": {"tlsVersion": "TLSv1.3", "clientProvidedHostHeader": "s3.eu-west-1.amazonaws.com"}
  })";
  ExtractReport report;
  const v1::Event e = MustExtract(json, &report);
  EXPECT_EQ(e.raw_json(), json);
  EXPECT_EQ(e.event_id(), "0f1e2d3c-0000-4000-8000-000000000001");
  EXPECT_EQ(e.event_time_us(), 1688989356250000);
  EXPECT_EQ(e.event_source(), "s3.amazonaws.com");
  EXPECT_EQ(e.event_name(), "DeleteBucket");
  EXPECT_EQ(e.aws_region(), "eu-west-1");
  EXPECT_EQ(e.recipient_account_id(), "111122223333");
  EXPECT_FALSE(e.recipient_account_from_user_identity());
  EXPECT_EQ(e.event_type(), "AwsApiCall");
  EXPECT_EQ(e.event_category(), "Management");
  ASSERT_TRUE(e.has_read_only());
  EXPECT_FALSE(e.read_only());
  ASSERT_TRUE(e.has_management_event());
  EXPECT_TRUE(e.management_event());
  EXPECT_EQ(e.username(), "alice-session");
  EXPECT_EQ(e.principal_arn(), "arn:aws:sts::111122223333:assumed-role/Admin/alice-session");
  EXPECT_EQ(e.access_key_id(), "ASIAEXAMPLE");
  EXPECT_EQ(e.error_code(), "AccessDenied");
  EXPECT_EQ(e.error_message(), "Access Denied");
  ASSERT_EQ(e.resources_size(), 2);
  EXPECT_EQ(e.resources(0).type(), "AWS::S3::Bucket");
  EXPECT_EQ(e.resources(0).arn(), "arn:aws:s3:::b");
  EXPECT_EQ(e.resources(0).account_id(), "111122223333");
  EXPECT_EQ(e.resources(1).type(), "");
  EXPECT_EQ(e.resources(1).arn(), "arn:aws:s3:::c");
  EXPECT_EQ(e.source_ip_address(), "198.51.100.7");
  EXPECT_EQ(e.user_identity_type(), "AssumedRole");
  EXPECT_EQ(e.user_identity_account_id(), "111122223333");
  EXPECT_EQ(e.session_credential_from_console(), "true");
  EXPECT_EQ(e.vpc_endpoint_id(), "vpce-123");
  EXPECT_EQ(e.client_host_header(), "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(e.user_agent(), "aws-cli/2.13.0");
  EXPECT_EQ(e.mfa_authenticated(), "true");
  EXPECT_EQ(e.mfa_used(), "Yes");
  EXPECT_EQ(e.shared_event_id(), "shared-1");
  EXPECT_FALSE(report.event_id_missing);
  EXPECT_FALSE(report.recipient_account_from_user_identity);
}

TEST(EventExtractorTest, UsernameRules) {
  struct Case {
    std::string identity;
    std::string username;
  };
  const Case cases[] = {
      {R"({"type":"IAMUser","principalId":"AIDA1","arn":"arn:aws:iam::111122223333:user/dev/bob","userName":"bob"})",
       "bob"},
      {R"({"type":"AssumedRole","principalId":"AROA1:sess","arn":"arn:aws:sts::111122223333:assumed-role/R/my-session"})",
       "my-session"},
      {R"({"type":"AssumedRole","principalId":"AROA1:from-principal"})", "from-principal"},
      {R"({"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/a/b/c/i-0abc"})",
       "i-0abc"},
      {R"({"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root"})",
       "root"},
      {R"({"type":"Root","principalId":"111122223333","userName":"my-alias"})", "root"},
      {R"({"type":"FederatedUser","principalId":"111122223333:Carol","arn":"arn:aws:sts::111122223333:federated-user/Carol"})",
       "Carol"},
      {R"({"type":"FederatedUser","principalId":"111122223333:Dave"})", "Dave"},
      {R"({"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"})", "cloudtrail.amazonaws.com"},
      {R"({"type":"IdentityCenterUser","accountId":"111122223333","onBehalfOf":{"userId":"u-123","identityStoreArn":"arn:aws:identitystore::1:identitystore/d-1"}})",
       "u-123"},
      {R"({"type":"IdentityCenterUser","userName":"erin"})", "erin"},
      {R"({"type":"SAMLUser","principalId":"p:saml","userName":"frank@example.com"})",
       "frank@example.com"},
      {R"({"type":"AWSAccount","principalId":"AIDAOTHER","accountId":"444455556666"})", "AIDAOTHER"},
      {R"({"type":"Unknown"})", ""},
      {R"({"type":"IAMUser","principalId":"AIDA9"})", "AIDA9"},
      {R"(null)", ""},
      {R"({})", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MustExtract(Record(c.identity)).username(), c.username) << c.identity;
  }
}

TEST(EventExtractorTest, RecipientAccountFallbackIsFlagged) {
  ExtractReport report;
  v1::Event e = MustExtract(
      Record(R"({"type":"IAMUser","accountId":"111122223333","userName":"u"})"), &report);
  EXPECT_EQ(e.recipient_account_id(), "111122223333");
  EXPECT_TRUE(e.recipient_account_from_user_identity());
  EXPECT_TRUE(report.recipient_account_from_user_identity);

  e = MustExtract(Record(R"({"type":"IAMUser","accountId":"111122223333"})",
                         R"(,"recipientAccountId":"999988887777")"),
                  &report);
  EXPECT_EQ(e.recipient_account_id(), "999988887777");
  EXPECT_FALSE(e.recipient_account_from_user_identity());
  EXPECT_FALSE(report.recipient_account_from_user_identity);

  e = MustExtract(Record(R"({"type":"IAMUser"})", R"(,"recipientAccountId":null)"), &report);
  EXPECT_EQ(e.recipient_account_id(), "");
  EXPECT_FALSE(report.recipient_account_from_user_identity);
}

TEST(EventExtractorTest, DefaultsAndOptionalBooleans) {
  const v1::Event e = MustExtract(Record(R"({"type":"IAMUser","userName":"u"})"));
  EXPECT_EQ(e.event_category(), "Management");  // absent on older versions
  EXPECT_FALSE(e.has_read_only());
  EXPECT_FALSE(e.has_management_event());
  const v1::Event data = MustExtract(Record(R"({"type":"IAMUser"})",
                                            R"(,"eventCategory":"Data","readOnly":true,"managementEvent":false)"));
  EXPECT_EQ(data.event_category(), "Data");
  EXPECT_TRUE(data.read_only());
  EXPECT_FALSE(data.management_event());
  const v1::Event nulls = MustExtract(Record(R"({"type":"IAMUser"})",
                                             R"(,"readOnly":null,"errorCode":null,"resources":null,"tlsDetails":null)"));
  EXPECT_FALSE(nulls.has_read_only());
  EXPECT_EQ(nulls.error_code(), "");
}

TEST(EventExtractorTest, EventTimeForms) {
  EventExtractor extractor;
  v1::Event e;
  const std::pair<std::string, int64_t> good[] = {
      {"2023-07-10T11:42:36Z", 1688989356000000},
      {"2023-07-10T11:42:36.123456Z", 1688989356123456},
      {"2023-07-10T11:42:36.1Z", 1688989356100000},
      {"1970-01-01T00:00:00Z", 0},
  };
  for (const auto& [text, micros] : good) {
    ASSERT_TRUE(extractor.Extract(R"({"eventTime":")" + text + R"("})", &e).ok()) << text;
    EXPECT_EQ(e.event_time_us(), micros) << text;
  }
  for (const char* bad : {"", "2023-07-10", "2023-13-10T11:42:36Z", "2023-07-10 11:42:36Z",
                          "yesterday", "2023-07-10T11:42:36Zjunk"}) {
    const Status s = extractor.Extract(R"({"eventTime":")" + std::string(bad) + R"("})", &e);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("eventTime"), std::string::npos) << s;
  }
}

TEST(EventExtractorTest, MissingEventIdIsReported) {
  ExtractReport report;
  v1::Event e = MustExtract(R"({"eventTime":"2023-07-10T11:42:36Z","eventName":"X"})", &report);
  EXPECT_TRUE(report.event_id_missing);
  EXPECT_EQ(e.event_id(), "");
  // Present but null or empty cannot be repaired by AssignEventId: refused.
  EventExtractor extractor;
  EXPECT_EQ(extractor.Extract(R"({"eventTime":"2023-07-10T11:42:36Z","eventID":""})", &e).message(),
            "eventID: empty string");
  EXPECT_EQ(extractor.Extract(R"({"eventTime":"2023-07-10T11:42:36Z","eventID":null})", &e).message(),
            "eventID: expected string, got null");
  MustExtract(R"({"eventTime":"2023-07-10T11:42:36Z","eventID":"x"})", &report);
  EXPECT_FALSE(report.event_id_missing);
}

TEST(EventExtractorTest, EscapedStringsAreDecoded) {
  const v1::Event e = MustExtract(
      R"({"eventTime":"2023-07-10T11:42:36Z","eventName":"Get\u0042ucket","userAgent":"a\"b\\c\/d","userIdentity":{"type":"IAMUser","userName":"j\u00fcrgen"}})");
  EXPECT_EQ(e.event_name(), "GetBucket");
  EXPECT_EQ(e.user_agent(), "a\"b\\c/d");
  EXPECT_EQ(e.username(), "j\xc3\xbcrgen");
}

TEST(EventExtractorTest, ExtractorIsReusableAcrossSizes) {
  EventExtractor extractor;
  v1::Event e;
  for (int round = 0; round < 3; ++round) {
    for (size_t pad : {0, 10, 100000, 5, 500000, 1}) {
      const std::string json = R"({"eventTime":"2023-07-10T11:42:36Z","eventID":"id-)" +
                               std::to_string(pad) + R"(","requestParameters":{"p":")" +
                               std::string(pad, 'x') + R"("}})";
      ASSERT_TRUE(extractor.Extract(json, &e).ok()) << pad;
      EXPECT_EQ(e.event_id(), "id-" + std::to_string(pad));
      EXPECT_EQ(e.raw_json(), json);
    }
    // An error in between leaves the extractor usable.
    EXPECT_FALSE(extractor.Extract("{", &e).ok());
  }
}

TEST(EventExtractorTest, AssignEventIdInsertsFirstMember) {
  auto assigned = AssignEventId(R"({"eventTime":"2023-07-10T11:42:36Z"})", "abc-123");
  ASSERT_TRUE(assigned.ok());
  EXPECT_EQ(*assigned, R"({"eventID":"abc-123","eventTime":"2023-07-10T11:42:36Z"})");
  ExtractReport report;
  const v1::Event e = MustExtract(*assigned, &report);
  EXPECT_EQ(e.event_id(), "abc-123");
  EXPECT_FALSE(report.event_id_missing);

  auto spaced = AssignEventId("  \n{ \"eventTime\":\"2023-07-10T11:42:36Z\"}", "id");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(*spaced, "  \n{\"eventID\":\"id\", \"eventTime\":\"2023-07-10T11:42:36Z\"}");
  auto empty = AssignEventId("{ }", "id");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "{\"eventID\":\"id\" }");

  EXPECT_FALSE(AssignEventId("[1]", "id").ok());
  EXPECT_FALSE(AssignEventId("", "id").ok());
  EXPECT_FALSE(AssignEventId("   ", "id").ok());
  EXPECT_FALSE(AssignEventId("{}", "").ok());
  EXPECT_FALSE(AssignEventId("{}", "a\"b").ok());
  EXPECT_FALSE(AssignEventId("{}", "a\\b").ok());
  EXPECT_FALSE(AssignEventId("{}", "a\nb").ok());

  // Assigning to a record that already has an eventID yields a duplicate key,
  // which the extractor refuses.
  auto twice = AssignEventId(R"({"eventID":"x","eventTime":"2023-07-10T11:42:36Z"})", "y");
  ASSERT_TRUE(twice.ok());
  EventExtractor extractor;
  v1::Event out;
  const Status s = extractor.Extract(*twice, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("duplicate key \"eventID\""), std::string::npos) << s;
}

// An Insights record (reference §7) names its API inside insightDetails: that is what LookupEvents
// with EventCategory=insight filters by, so it is extracted as the event's source and name.
TEST(EventExtractorTest, InsightRecordTakesSourceAndNameFromInsightDetails) {
  const std::string json =
      R"({"eventVersion":"1.08","eventTime":"2026-01-02T03:04:00Z","awsRegion":"us-east-1",)"
      R"("eventID":"a1b2c3d4-0000-4000-8000-000000000001","eventType":"AwsCloudTrailInsight",)"
      R"("recipientAccountId":"111122223333","sharedEventID":"s-1","insightDetails":{"state":"Start",)"
      R"("eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","insightType":"ApiCallRateInsight",)"
      R"("insightContext":{"statistics":{"baseline":{"average":0.1},"insight":{"average":40}}}},)"
      R"("eventCategory":"Insight"})";
  const v1::Event e = MustExtract(json);
  EXPECT_EQ(e.event_source(), "s3.amazonaws.com");
  EXPECT_EQ(e.event_name(), "DeleteBucket");
  EXPECT_EQ(e.event_category(), "Insight");
  EXPECT_EQ(e.shared_event_id(), "s-1");
  // Top-level fields win when present; wrong types inside insightDetails are refused by path.
  EventExtractor extractor;
  v1::Event out;
  const Status bad = extractor.Extract(
      R"({"eventTime":"2026-01-02T03:04:00Z","eventID":"x","insightDetails":{"eventName":7}})", &out);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("insightDetails.eventName"), std::string_view::npos) << bad;
  const v1::Event top = MustExtract(
      R"({"eventTime":"2026-01-02T03:04:00Z","eventID":"y","eventName":"Top","insightDetails":{"eventName":"Inner"}})");
  EXPECT_EQ(top.event_name(), "Top");
}

}  // namespace
}  // namespace orgtrail
