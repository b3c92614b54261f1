// EventGenerator: deterministic by seed, every record is a valid CloudTrail
// record for the configured account/region, and the mix is as configured.
#include "orgtrail/common/generator.h"

#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_extractor.h"

namespace orgtrail {
namespace {

GeneratorOptions Options(uint64_t seed) {
  GeneratorOptions o;
  o.seed = seed;
  o.account_id = "123456789012";
  o.region = "eu-west-1";
  return o;
}

TEST(GeneratorTest, DeterministicBySeed) {
  EventGenerator a(Options(7)), b(Options(7)), c(Options(8));
  bool any_difference = false;
  for (int i = 0; i < 200; ++i) {
    const auto ra = a.Next();
    const auto rb = b.Next();
    const auto rc = c.Next();
    ASSERT_EQ(ra.json, rb.json) << i;
    any_difference = any_difference || ra.json != rc.json;
  }
  EXPECT_TRUE(any_difference);
  EXPECT_EQ(a.generated(), 200u);
}

TEST(GeneratorTest, EveryRecordExtractsForItsAccountAndRegion) {
  EventGenerator gen(Options(42));
  EventExtractor extractor;
  GlobalServiceClassifier classifier;
  std::set<std::string> ids;
  size_t total_bytes = 0;
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    const GeneratedRecord r = gen.Next();
    v1::Event event;
    ExtractReport report;
    const Status s = extractor.Extract(r.json, &event, &report);
    ASSERT_TRUE(s.ok()) << s << "\n" << r.json;
    EXPECT_FALSE(report.event_id_missing);
    EXPECT_EQ(event.event_id(), r.event_id);
    EXPECT_EQ(event.event_time_us(), r.event_time_us);
    EXPECT_EQ(event.recipient_account_id(), "123456789012") << r.json;
    if (!classifier.IsGlobal(event) && event.event_source() != "signin.amazonaws.com") {
      EXPECT_EQ(event.aws_region(), "eu-west-1") << r.json;
    }
    EXPECT_TRUE(ids.insert(r.event_id).second) << "duplicate eventID";
    total_bytes += r.json.size();
    switch (r.kind) {
      case RecordKind::kS3Data:
      case RecordKind::kLambdaData:
        EXPECT_TRUE(IsDataEvent(event)) << r.json;
        EXPECT_FALSE(event.resources().empty());
        break;
      case RecordKind::kAccessDenied:
        EXPECT_EQ(event.error_code(), "AccessDenied");
        break;
      case RecordKind::kConsoleSignIn:
        EXPECT_EQ(event.event_type(), "AwsConsoleSignIn");
        EXPECT_TRUE(event.mfa_used() == "Yes" || event.mfa_used() == "No");
        break;
      case RecordKind::kGlobalIam:
        EXPECT_TRUE(classifier.IsGlobal(event)) << r.json;
        break;
      case RecordKind::kRootActivity:
        EXPECT_EQ(event.user_identity_type(), "Root");
        break;
      case RecordKind::kAssumeRole:
        EXPECT_EQ(event.event_name(), "AssumeRole");
        break;
      default:
        EXPECT_TRUE(IsManagementEvent(event));
    }
  }
  const double mean = static_cast<double>(total_bytes) / n;
  EXPECT_GT(mean, 700);   // "about 1 KB"
  EXPECT_LT(mean, 1600);
}

TEST(GeneratorTest, MixIsAsConfigured) {
  GeneratorOptions o = Options(3);
  o.mix = GeneratorMix{};
  o.mix.management_read = 50;
  o.mix.management_write = 0;
  o.mix.s3_data = 25;
  o.mix.lambda_data = 0;
  o.mix.console_sign_in = 25;
  o.mix.assume_role = 0;
  o.mix.access_denied = 0;
  o.mix.global_iam = 0;
  o.mix.root_activity = 0;
  o.mfa_fraction = 1.0;
  EventGenerator gen(o);
  std::map<RecordKind, int> counts;
  const int n = 8000;
  EventExtractor extractor;
  for (int i = 0; i < n; ++i) {
    const auto r = gen.Next();
    ++counts[r.kind];
    if (r.kind == RecordKind::kConsoleSignIn) {
      v1::Event e;
      ASSERT_TRUE(extractor.Extract(r.json, &e).ok());
      EXPECT_EQ(e.mfa_used(), "Yes");
    }
  }
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_NEAR(counts[RecordKind::kManagementRead] / double(n), 0.5, 0.03);
  EXPECT_NEAR(counts[RecordKind::kS3Data] / double(n), 0.25, 0.03);
  EXPECT_NEAR(counts[RecordKind::kConsoleSignIn] / double(n), 0.25, 0.03);
}

TEST(GeneratorTest, WrapRecordsAndPacer) {
  EXPECT_EQ(WrapRecords({}), R"({"Records":[]})");
  EXPECT_EQ(WrapRecords({"{}", "{\"a\":1}"}), R"({"Records":[{},{"a":1}]})");
  RatePacer unlimited(0);
  EXPECT_GT(unlimited.EventsDue(), 1000000u);
  RatePacer slow(1.0);
  EXPECT_EQ(slow.EventsDue(), 1u);  // the first is due at once
  EXPECT_EQ(slow.EventsDue(), 0u);  // the next one only after ~1 s
}

}  // namespace
}  // namespace orgtrail
