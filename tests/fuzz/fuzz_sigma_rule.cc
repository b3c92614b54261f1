// Sigma rules (detections/include/orgtrail/detections/rule.h): operators point the collector at
// rule folders, so every byte of a rule file is outside input. Each input is one YAML document
// compiled by CompileRule (yaml-cpp, the modifiers, the condition grammar, RE2); a rule that
// compiles is then matched against a few CloudTrail records, directly and through a RuleSet's
// index, which must agree. An input that is not one rule is tried as a Sigma filter, as a
// correlation, and as a whole rule file whose correlations then run over the records. Seeds: tests/fuzz/corpus/sigma_rule/ and, when present beside the
// repository, the SigmaHQ CloudTrail rules in ../shared/data/sigma-cloudtrail/rules
// (scripts/fuzz.sh adds that folder).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "orgtrail/detections/correlation.h"
#include "orgtrail/detections/correlation_state.h"
#include "orgtrail/detections/record.h"
#include "orgtrail/detections/rule.h"
#include "orgtrail/detections/rule_set.h"

namespace {

constexpr const char* kRecords[] = {
    R"({"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-01-01T00:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","requestParameters":{"name":"org-trail"},"responseElements":null,"eventID":"0b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d11","eventType":"AwsApiCall","recipientAccountId":"111122223333"})",
    R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"alice"},"eventTime":"2026-01-01T00:00:01Z","eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.1","requestParameters":{"bucketName":"logs","tags":[{"key":"a","value":"1"},{"key":"b","value":null}]},"errorCode":"","additionalEventData":{"MFAUsed":"No"},"eventID":"1b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d12","eventType":"AwsApiCall","recipientAccountId":"111122223333"})",
};

struct Fixture {
  std::vector<orgtrail::detections::Record> records;
  std::vector<std::unique_ptr<orgtrail::detections::RecordParser>> parsers;
};

Fixture* MakeFixture() {
  auto* f = new Fixture();
  for (const char* json : kRecords) {
    f->parsers.push_back(std::make_unique<orgtrail::detections::RecordParser>());
    auto record = f->parsers.back()->Parse(json);
    if (!record.ok()) std::abort();
    f->records.push_back(std::move(*record));
  }
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = MakeFixture();
  if (size > 32 * 1024) return 0;
  orgtrail::detections::CompileOptions options;
  auto rule = orgtrail::detections::CompileRule(orgtrail::fuzz::AsView(data, size), options);
  if (!rule.ok()) {
    (void)orgtrail::detections::CompileFilter(orgtrail::fuzz::AsView(data, size), options);  // Sigma filters too
    (void)orgtrail::detections::CompileCorrelation(orgtrail::fuzz::AsView(data, size));   // and correlations
    // The input as a rule file (several documents: rules, filters, correlations naming each
    // other), its correlations run over the records, twice each so windows fill.
    orgtrail::detections::LoadReport report;
    auto set = orgtrail::detections::LoadRuleSetFromTexts({{"fuzz.yml", std::string(orgtrail::fuzz::AsView(data, size))}},
                                                          orgtrail::detections::LoadOptions(), &report);
    if (set->correlations().empty()) return 0;
    orgtrail::detections::CorrelationState state(set.get());
    std::vector<orgtrail::detections::CorrelationMatch> matches;
    for (int round = 0; round < 2; ++round) {
      for (size_t i = 0; i < fixture->records.size(); ++i) {
        orgtrail::detections::EventRef ref;
        ref.commit_index = round * fixture->records.size() + i + 1;
        ref.time_us = static_cast<int64_t>(ref.commit_index) * 1000000;
        state.Observe(fixture->records[i], ref, set->Match(fixture->records[i]), &matches);
      }
    }
    for (const auto& m : matches) ORGTRAIL_FUZZ_CHECK(m.rule != nullptr && !m.entries.empty());
    return 0;
  }
  std::vector<bool> direct;
  for (const auto& record : fixture->records) direct.push_back((*rule)->Matches(record));
  orgtrail::detections::RuleSet set;
  if (!set.Add(std::move(*rule)).ok()) return 0;
  for (size_t i = 0; i < fixture->records.size(); ++i) {
    const bool indexed = !set.Match(fixture->records[i]).empty();
    ORGTRAIL_FUZZ_CHECK(indexed == direct[i]);  // the index never changes a result
  }
  return 0;
}
