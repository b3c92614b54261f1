// Sigma rules (detections/include/orgtrail/detections/rule_set.h): operators point the collector
// at rule folders and Hunt requests carry rule files, so every byte of a rule file is outside
// input. Each input is one rule file loaded by LoadRuleSetFromTexts, the path both take (yaml-cpp,
// rules, Sigma filters, correlations, the modifiers, the condition grammar, RE2); every rule that
// loads is matched against a few CloudTrail records, through the RuleSet's index and without it,
// which must agree, and its correlations run over the records. Seeds: tests/fuzz/corpus/sigma_rule/
// and, when present beside the repository, the SigmaHQ CloudTrail rules in
// ../shared/data/sigma-cloudtrail/rules (scripts/fuzz.sh adds that folder).
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
  // The input as a rule file, loaded as the collector (--sigma-rules) and Hunt load them: several
  // documents (rules, Sigma filters, correlations naming each other), each compiled or refused.
  orgtrail::detections::LoadReport report;
  auto set = orgtrail::detections::LoadRuleSetFromTexts({{"fuzz.yml", std::string(orgtrail::fuzz::AsView(data, size))}},
                                                        orgtrail::detections::LoadOptions(), &report);
  // Every loaded rule runs on the records, and the index never changes a result.
  for (const auto& record : fixture->records) {
    ORGTRAIL_FUZZ_CHECK(set->Match(record) == set->MatchWithoutIndex(record));
  }
  if (set->correlations().empty()) return 0;
  // Its correlations run over the records, twice each so windows fill.
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
