// Hostile input for EventExtractor: every case gets a clear INVALID_ARGUMENT
// (or a defined result) and never a crash. Run under ASan+UBSan in CI.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/filter_pattern.h"

namespace orgtrail {
namespace {

// A real invictus record (IAMUser, S3 GetStorageLensConfiguration), verbatim.
const std::string kRealRecord =
    R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDATFQR7NSC5U6Q3TMDR","arn":"arn:aws:iam::123837392027:user/benjamin","accountId":"123837392027","accessKeyId":"ASIATFQR7NSCTM3XVF6B","userName":"benjamin","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"2023-07-10T11:42:31Z","mfaAuthenticated":"true"}},"invokedBy":"AWS Internal"},"eventTime":"2023-07-10T11:42:36Z","eventSource":"s3.amazonaws.com","eventName":"GetStorageLensConfiguration","awsRegion":"us-east-1","sourceIPAddress":"AWS Internal","userAgent":"AWS Internal","requestParameters":{"Host":"123837392027.s3-control.us-east-1.amazonaws.com"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"RBVZE1aP5ZIWKUdG1hjRObcaPvsi1R4sMQr7GV+WPWocwL/I0cZVMkXnNBc55YA7mS056DtQDEI=","bytesTransferredOut":375},"requestID":"CC9X0N62QREGTBMN","eventID":"293ba626-3be5-4a26-ab1b-0f4c54f49959","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123837392027","eventCategory":"Management"})";

constexpr char kMinimal[] = R"({"eventID":"e1","eventTime":"2023-07-10T11:42:36Z")";

// Extracts and returns the error (OK if accepted).
Status Extract(const std::string& json, ExtractOptions options = {},
               ExtractReport* report = nullptr, v1::Event* out = nullptr) {
  EventExtractor extractor(options);
  v1::Event local;
  return extractor.Extract(json, out ? out : &local, report);
}

void ExpectRefused(const std::string& json, const std::string& message_part,
                   ExtractOptions options = {}) {
  const Status s = Extract(json, options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << json.substr(0, 200);
  EXPECT_NE(s.message().find(message_part), std::string::npos)
      << "message \"" << s.message() << "\" lacks \"" << message_part << "\" for "
      << json.substr(0, 200);
}

TEST(HostileInputTest, RealRecordIsAccepted) {
  v1::Event e;
  ASSERT_TRUE(Extract(kRealRecord, {}, nullptr, &e).ok());
  EXPECT_EQ(e.raw_json(), kRealRecord);
  EXPECT_EQ(e.username(), "benjamin");
}

TEST(HostileInputTest, EveryTruncationIsRefused) {
  EventExtractor extractor;
  v1::Event e;
  for (size_t len = 0; len < kRealRecord.size(); ++len) {
    const Status s = extractor.Extract(std::string_view(kRealRecord).substr(0, len), &e);
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "prefix " << len;
    ASSERT_FALSE(s.message().empty());
  }
  EXPECT_TRUE(extractor.Extract(kRealRecord, &e).ok());
}

TEST(HostileInputTest, DeepNestingIsRefused) {
  for (const auto& [open, close] : std::vector<std::pair<std::string, std::string>>{
           {"[", "]"}, {"{\"a\":", "}"}}) {
    std::string deep = std::string(kMinimal) + ",\"requestParameters\":";
    for (int i = 0; i < 10000; ++i) deep += open;
    deep += "1";
    for (int i = 0; i < 10000; ++i) deep += close;
    deep += "}";
    ExpectRefused(deep, "nesting deeper than 64");
  }
  // Only brackets, no closing: still a clean error.
  ExpectRefused(std::string(10000, '['), "invalid JSON");
  ExpectRefused(std::string(10000, '{'), "invalid JSON");
}

TEST(HostileInputTest, DepthLimitBoundary) {
  // max_depth counts nested containers including the top-level object.
  auto nested = [](int total_depth) {
    std::string s = std::string(kMinimal) + ",\"r\":";
    for (int i = 1; i < total_depth; ++i) s += "[";
    for (int i = 1; i < total_depth; ++i) s += "]";
    return s + "}";
  };
  EXPECT_TRUE(Extract(nested(64)).ok());
  ExpectRefused(nested(65), "nesting deeper than 64");
  ExtractOptions shallow;
  shallow.max_depth = 8;
  EXPECT_TRUE(Extract(nested(8), shallow).ok());
  ExpectRefused(nested(9), "nesting deeper than 8", shallow);
  ExpectRefused(kRealRecord.substr(0, kRealRecord.size() - 1) + ",\"x\":[[[[[[[[]]]]]]]]}",
                "nesting deeper than 8", shallow);
}

TEST(HostileInputTest, LargeRequestParametersAcceptedUnderLimitRefusedOver) {
  const std::string big = std::string(kMinimal) + ",\"requestParameters\":{\"policy\":\"" +
                          std::string(300 * 1024, 'p') + "\"}}";
  v1::Event e;
  ASSERT_TRUE(Extract(big, {}, nullptr, &e).ok());  // 1 MiB default
  EXPECT_EQ(e.raw_json(), big);
  EXPECT_EQ(e.event_id(), "e1");
  ExtractOptions small;
  small.max_event_bytes = 256 * 1024;  // CloudTrail's own limit
  ExpectRefused(big, "event too large", small);
  // Exactly at the limit is fine, one byte over is not.
  small.max_event_bytes = big.size();
  EXPECT_TRUE(Extract(big, small).ok());
  small.max_event_bytes = big.size() - 1;
  ExpectRefused(big, "event too large", small);
  // Over the 1 MiB default.
  const std::string huge = std::string(kMinimal) + ",\"requestParameters\":\"" +
                           std::string((1 << 20) + 1, 'h') + "\"}";
  ExpectRefused(huge, "event too large");
}

TEST(HostileInputTest, InvalidUtf8IsRefused) {
  const std::vector<std::string> bad_sequences = {
      "\xff", "\xfe", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
      "\xc3", "\xe2\x82", "\x80", "\xbf", "\xf8\x88\x80\x80\x80",
  };
  for (const std::string& seq : bad_sequences) {
    ExpectRefused(std::string(kMinimal) + ",\"eventName\":\"a" + seq + "b\"}", "invalid UTF-8");
    ExpectRefused(std::string(kMinimal) + ",\"requestParameters\":{\"k" + seq + "\":1}}",
                  "invalid UTF-8");
  }
  // Valid multi-byte text is fine and kept byte for byte.
  const std::string ok = std::string(kMinimal) + ",\"eventName\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}";
  v1::Event e;
  ASSERT_TRUE(Extract(ok, {}, nullptr, &e).ok());
  EXPECT_EQ(e.event_name(), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // Escaped lone surrogates are not valid Unicode text either.
  ExpectRefused(std::string(kMinimal) + ",\"eventName\":\"\\ud800\"}", "invalid JSON");
}

TEST(HostileInputTest, MalformedStringsAndStructure) {
  ExpectRefused(std::string(kMinimal) + ",\"eventName\":\"a\nb\"}", "invalid JSON");
  ExpectRefused(std::string(kMinimal) + ",\"eventName\":\"a" + std::string(1, '\0') + "b\"}",
                "invalid JSON");
  ExpectRefused(std::string(kMinimal) + ",\"eventName\":\"\\x\"}", "invalid JSON");
  ExpectRefused(std::string(kMinimal) + "} trailing", "invalid JSON");
  ExpectRefused(std::string(kMinimal) + "}{}", "invalid JSON");
  ExpectRefused(std::string(kMinimal) + ",}", "invalid JSON");
  ExpectRefused(std::string(kMinimal) + ",\"a\":01}", "invalid JSON");
  ExpectRefused(std::string(kMinimal) + ",\"a\":NaN}", "invalid JSON");
  ExpectRefused("{'eventTime':'2023-07-10T11:42:36Z'}", "invalid JSON");
  ExpectRefused(std::string(kMinimal) + ",\"a\":tru}", "invalid JSON");
  // Defined limitation: numbers outside 64-bit integer / double range are
  // refused (simdjson 3.0.1 DOM cannot represent them).
  ExpectRefused(std::string(kMinimal) + ",\"a\":123456789012345678901234567890}", "invalid JSON");
  ExpectRefused(std::string(kMinimal) + ",\"a\":1e999999}", "invalid JSON");
}

TEST(HostileInputTest, DuplicateKeysAmongReadMembersAreRefused) {
  const std::string base = R"({"eventTime":"2023-07-10T11:42:36Z",)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("eventID":"a","eventID":"b"})", "duplicate key \"eventID\""},
      {R"("eventTime":"2023-07-10T11:42:37Z"})", "duplicate key \"eventTime\""},
      {R"("awsRegion":"us-east-1","awsRegion":"eu-west-1"})", "duplicate key \"awsRegion\""},
      {R"("recipientAccountId":"111111111111","recipientAccountId":"222222222222"})",
       "duplicate key \"recipientAccountId\""},
      {R"("eventSource":"iam.amazonaws.com","eventSource":"s3.amazonaws.com"})",
       "duplicate key \"eventSource\""},
      {R"("userIdentity":{"type":"Root"},"userIdentity":{"type":"IAMUser"}})",
       "duplicate key \"userIdentity\""},
      {R"("userIdentity":{"type":"Root","type":"IAMUser","userName":"x"}})",
       "duplicate key \"userIdentity.type\""},
      {R"("userIdentity":{"arn":"a","arn":"b"}})", "duplicate key \"userIdentity.arn\""},
      {R"("userIdentity":{"accountId":"111111111111","accountId":"222222222222"}})",
       "duplicate key \"userIdentity.accountId\""},
      {R"("userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":"false","mfaAuthenticated":"true"}}}})",
       "duplicate key \"userIdentity.sessionContext.attributes.mfaAuthenticated\""},
      {R"("resources":[{"ARN":"a","ARN":"b"}]})", "duplicate key \"resources[].ARN\""},
      {R"("readOnly":true,"readOnly":false})", "duplicate key \"readOnly\""},
      // The second key is spelled with a JSON escape; after unescaping it is
      // the same member, and must be caught as such.
      {R"("eventID":"a","event\u0049D":"b"})", "duplicate key \"eventID\""},
      {R"("tlsDetails":{"clientProvidedHostHeader":"a","clientProvidedHostHeader":"b"}})",
       "duplicate key \"tlsDetails.clientProvidedHostHeader\""},
  };
  for (const auto& [tail, message] : cases) ExpectRefused(base + tail, message);
  // Defined result: duplicates of members that are not read are kept as-is.
  v1::Event e;
  const std::string unread_dup = base + R"("requestParameters":{"a":1},"requestParameters":{"a":2},"eventID":"x"})";
  ASSERT_TRUE(Extract(unread_dup, {}, nullptr, &e).ok());
  EXPECT_EQ(e.raw_json(), unread_dup);
}

TEST(HostileInputTest, WrongTypesNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"eventTime":1688989356})", "eventTime: expected string, got number"},
      {R"({"eventTime":["2023-07-10T11:42:36Z"]})", "eventTime: expected string, got array"},
      {R"({"eventTime":true})", "eventTime: expected string, got boolean"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","readOnly":"true"})",
       "readOnly: expected boolean, got string"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","readOnly":1})", "readOnly: expected boolean, got number"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","managementEvent":"true"})",
       "managementEvent: expected boolean, got string"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","eventID":42})", "eventID: expected string, got number"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","awsRegion":["us-east-1"]})",
       "awsRegion: expected string, got array"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","recipientAccountId":123456789012})",
       "recipientAccountId: expected string, got number"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","userIdentity":"root"})",
       "userIdentity: expected object, got string"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","userIdentity":{"accountId":123456789012}})",
       "userIdentity.accountId: expected string, got number"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","userIdentity":{"type":{"x":1}}})",
       "userIdentity.type: expected string, got object"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","userIdentity":{"sessionContext":[]}})",
       "userIdentity.sessionContext: expected object, got array"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","resources":{"ARN":"a"}})",
       "resources: expected array, got object"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","resources":["arn:aws:s3:::b"]})",
       "resources[]: expected object, got string"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","resources":[{"ARN":7}]})",
       "resources[].ARN: expected string, got number"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","tlsDetails":"x"})", "tlsDetails: expected object, got string"},
      {R"({"eventTime":"2023-07-10T11:42:36Z","additionalEventData":{"MFAUsed":false}})",
       "additionalEventData.MFAUsed: expected string, got boolean"},
  };
  for (const auto& [json, message] : cases) ExpectRefused(json, message);
}

TEST(HostileInputTest, MissingFields) {
  ExtractReport report;
  v1::Event e;
  ASSERT_TRUE(Extract(R"({"eventTime":"2023-07-10T11:42:36Z"})", {}, &report, &e).ok());
  EXPECT_TRUE(report.event_id_missing);
  ExpectRefused(R"({"eventID":"x"})", "eventTime: missing");
  ExpectRefused(R"({"eventID":"x","eventTime":null})", "eventTime: missing");
  ExpectRefused(R"({})", "eventTime: missing");
  ExpectRefused(R"({"EventTime":"2023-07-10T11:42:36Z"})", "eventTime: missing");
}

TEST(HostileInputTest, NonObjectTopLevelAndEmptyInput) {
  for (const char* json : {"[]", "[{\"eventTime\":\"2023-07-10T11:42:36Z\"}]", "\"text\"", "123",
                           "null", "true"}) {
    ExpectRefused(json, "top level: expected object");
  }
  ExpectRefused("", "empty input");
  ExpectRefused("   \n\t ", "invalid JSON");
  ExpectRefused(std::string(1, '\0'), "invalid JSON");
}

TEST(HostileInputTest, FakeRegionsExtractButFailRegionCheck) {
  for (const char* region : {"sagov-westsouth-1r", "us-north-2r", "redacted", ""}) {
    v1::Event e;
    const std::string json = std::string(kMinimal) + ",\"awsRegion\":\"" + region + "\"}";
    ASSERT_TRUE(Extract(json, {}, nullptr, &e).ok()) << region;
    EXPECT_EQ(e.aws_region(), region);
    EXPECT_FALSE(IsValidRegionName(e.aws_region())) << region;
  }
}

// Deterministic mutation fuzzing of a real record: byte flips, insertions,
// deletions and splices. Every outcome is OK (raw kept) or INVALID_ARGUMENT.
TEST(HostileInputTest, MutatedRecordsNeverCrash) {
  std::mt19937 rng(20231121);
  EventExtractor extractor;
  v1::Event e;
  const std::string interesting = "{}[]\":,\\ 0eE-+.tfnu\xff\xc3\x80";
  int accepted = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string m = kRealRecord;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !m.empty(); ++k) {
      const size_t pos = rng() % m.size();
      switch (rng() % 4) {
        case 0: m[pos] = static_cast<char>(rng() % 256); break;
        case 1: m.insert(pos, 1, interesting[rng() % interesting.size()]); break;
        case 2: m.erase(pos, 1 + rng() % 8); break;
        case 3: m.insert(pos, m.substr(rng() % m.size(), rng() % 64)); break;
      }
    }
    const Status s = extractor.Extract(m, &e);
    if (s.ok()) {
      ++accepted;
      ASSERT_EQ(e.raw_json(), m);
    } else {
      ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      ASSERT_FALSE(s.message().empty());
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations only touch string contents
}

// Found by tests/fuzz (fuzz_filter_pattern, corpus/filter_pattern/regression_empty_record):
// an empty record given as a default string_view (null data()) made simdjson memcpy from a null
// pointer (UBSan: "null pointer passed as argument 2"). It must be refused as invalid JSON.
TEST(HostileInput, FilterEvaluatorEmptyNullViewIsInvalidJson) {
  auto pattern = FilterPattern::Parse("{ $.eventName = \"ConsoleLogin\" }");
  ASSERT_TRUE(pattern.ok()) << pattern.status();
  FilterEvaluator evaluator;
  const Status loaded = evaluator.Load(std::string_view());
  EXPECT_EQ(loaded.code(), absl::StatusCode::kInvalidArgument) << loaded;
  EXPECT_FALSE(evaluator.Matches(*pattern));
  auto evaluated = evaluator.Evaluate(*pattern, std::string_view());
  EXPECT_EQ(evaluated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(evaluator.Evaluate(FilterPattern(), "{}").value());
}

}  // namespace
}  // namespace orgtrail
