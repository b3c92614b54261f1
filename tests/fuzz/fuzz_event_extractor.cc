// EventExtractor::Extract (common/event_extractor.h): the collector and the
// agent run it on every CloudTrail record they receive. Also AssignEventId,
// the agent's rule for records without an eventID, then Extract again, and the
// per-event acceptance rules (common/event_acceptance.h) on what it extracted.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/event_extractor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static orgtrail::EventExtractor* extractor = new orgtrail::EventExtractor();
  const std::string_view raw = orgtrail::fuzz::AsView(data, size);
  orgtrail::v1::Event event;
  orgtrail::ExtractReport report;
  const orgtrail::Status status = extractor->Extract(raw, &event, &report);
  if (status.ok()) {
    ORGTRAIL_FUZZ_CHECK(event.raw_json() == raw);  // bytes kept unchanged
    static const orgtrail::AcceptanceRules* rules = [] {
      auto* r = new orgtrail::AcceptanceRules();
      r->account_id = "111122223333";
      r->region = "eu-west-1";
      r->classifier = std::make_shared<const orgtrail::GlobalServiceClassifier>();
      r->allowed_regions = {"sagov-westsouth-1r"};
      r->retention_us = 90LL * 86400 * 1000000;
      return r;
    }();
    if (auto rejection = orgtrail::CheckEventAcceptance(event, *rules)) {
      ORGTRAIL_FUZZ_CHECK(!rejection->rule.empty() && !rejection->message.empty());
      ORGTRAIL_FUZZ_CHECK(rejection->identity_violation == orgtrail::IsIdentityViolation(rejection->rule));
    }
  } else {
    ORGTRAIL_FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  }
  auto with_id = orgtrail::AssignEventId(raw, "6c3a1f7e-2b4d-4c8e-9f00-1a2b3c4d5e6f");
  if (with_id.ok()) {
    orgtrail::v1::Event again;
    (void)extractor->Extract(*with_id, &again, nullptr);
  }
  return 0;
}
