// Helpers for the detections tests: a rule from a detection block, a match against JSON text.
#ifndef ORGTRAIL_TESTS_DETECTIONS_SIGMA_TEST_UTIL_H_
#define ORGTRAIL_TESTS_DETECTIONS_SIGMA_TEST_UTIL_H_

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "orgtrail/detections/record.h"
#include "orgtrail/detections/rule.h"

namespace orgtrail::detections::testing {

// A rule document around `detection` (YAML text indented under `detection:`).
inline std::string RuleText(const std::string& detection, const std::string& id = "00000000-0000-0000-0000-000000000001") {
  return "title: test rule\nid: " + id +
         "\nstatus: test\nlogsource:\n    product: aws\n    service: cloudtrail\nlevel: high\ndetection:\n" +
         detection;
}

inline std::unique_ptr<Rule> MustCompile(const std::string& detection, const CompileOptions& options = {}) {
  auto rule = CompileRule(RuleText(detection), options);
  EXPECT_TRUE(rule.ok()) << rule.status() << "\n" << detection;
  return rule.ok() ? std::move(*rule) : nullptr;
}

inline Status CompileError(const std::string& detection, const CompileOptions& options = {}) {
  auto rule = CompileRule(RuleText(detection), options);
  return rule.ok() ? absl::OkStatus() : rule.status();
}

inline bool Matches(const Rule* rule, const std::string& json) {
  if (rule == nullptr) return false;
  RecordParser parser;
  auto record = parser.Parse(json);
  EXPECT_TRUE(record.ok()) << record.status() << " " << json;
  return record.ok() && rule->Matches(*record);
}

}  // namespace orgtrail::detections::testing

#endif  // ORGTRAIL_TESTS_DETECTIONS_SIGMA_TEST_UTIL_H_
