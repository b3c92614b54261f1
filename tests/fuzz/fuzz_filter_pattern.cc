// CloudWatch Logs filter patterns (common/filter_pattern.h): subscriptions
// and metric filters take them from auditors and alarm files.
// Input: "<pattern>\n<JSON record>" -- the pattern is parsed and, when it is
// valid, evaluated against the record.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/common/filter_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static orgtrail::FilterEvaluator* evaluator = new orgtrail::FilterEvaluator();
  const auto [pattern_text, json] = orgtrail::fuzz::SplitOnce(orgtrail::fuzz::AsView(data, size), "\n");
  auto pattern = orgtrail::FilterPattern::Parse(pattern_text);
  if (!pattern.ok()) {
    ORGTRAIL_FUZZ_CHECK(pattern.status().code() == absl::StatusCode::kInvalidArgument);
    ORGTRAIL_FUZZ_CHECK(pattern.status().message().rfind("column ", 0) == 0);
    return 0;
  }
  auto matched = evaluator->Evaluate(*pattern, json);
  if (matched.ok() && pattern->matches_everything()) ORGTRAIL_FUZZ_CHECK(*matched);
  return 0;
}
