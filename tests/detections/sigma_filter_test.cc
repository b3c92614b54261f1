// Sigma filters (Sigma filters specification 2.1): a filter document names rules by id and, with
// its own selection and condition, suppresses their matches; loaded with the rules (from folders
// or from texts, as the retro-hunt does), refused whole when it names a rule that is not loaded,
// never changing which records the index hands a rule.
#include <gtest/gtest.h>

#include "orgtrail/detections/rule_set.h"
#include "sigma_test_util.h"

namespace orgtrail::detections {
namespace {

constexpr char kStopLogging[] = R"(title: Trail stopped
id: 11111111-1111-4111-8111-111111111111
logsource:
  product: aws
  service: cloudtrail
level: high
detection:
  selection:
    eventName: StopLogging
  condition: selection
)";

constexpr char kDeleteTrail[] = R"(title: Trail deleted
id: 22222222-2222-4222-8222-222222222222
logsource:
  product: aws
  service: cloudtrail
level: high
detection:
  selection:
    eventName: DeleteTrail
  condition: selection
)";

constexpr char kAutomationFilter[] = R"(title: The automation role changes trails
id: 99999999-9999-4999-8999-999999999999
description: the deployment pipeline stops and deletes trails during migrations
logsource:
  product: aws
  service: cloudtrail
filter:
  rules:
    - 11111111-1111-4111-8111-111111111111
    - 22222222-2222-4222-8222-222222222222
  selection:
    userIdentity.arn|endswith: ':role/automation'
  condition: selection
)";

std::string Event(const std::string& name, const std::string& arn) {
  return R"({"eventName":")" + name + R"(","eventSource":"cloudtrail.amazonaws.com","userIdentity":{"arn":")" + arn +
         R"("}})";
}

std::vector<std::string> MatchIds(const RuleSet& set, const std::string& json, bool with_index = true) {
  RecordParser parser;
  auto record = parser.Parse(json);
  EXPECT_TRUE(record.ok());
  std::vector<std::string> ids;
  for (const Rule* r : with_index ? set.Match(*record) : set.MatchWithoutIndex(*record)) ids.push_back(r->id());
  return ids;
}

TEST(SigmaFilterTest, AFilterSuppressesTheMatchesOfTheRulesItNames) {
  LoadReport report;
  auto set = LoadRuleSetFromTexts({{"stop.yml", kStopLogging}, {"mf_automation.yml", kAutomationFilter},
                                   {"delete.yml", kDeleteTrail}},
                                  LoadOptions(), &report);
  EXPECT_TRUE(report.refused.empty()) << report.refused[0].reason;
  ASSERT_EQ(report.filters.size(), 1u);
  EXPECT_EQ(report.filters[0].id, "99999999-9999-4999-8999-999999999999");
  EXPECT_EQ(set->size(), 2u);
  const std::string human = "arn:aws:iam::111122223333:user/alice";
  const std::string pipeline = "arn:aws:iam::111122223333:role/automation";
  for (bool index : {true, false}) {
    EXPECT_EQ(MatchIds(*set, Event("StopLogging", human), index),
              std::vector<std::string>{"11111111-1111-4111-8111-111111111111"});
    EXPECT_TRUE(MatchIds(*set, Event("StopLogging", pipeline), index).empty());
    EXPECT_TRUE(MatchIds(*set, Event("DeleteTrail", pipeline), index).empty());
    EXPECT_EQ(MatchIds(*set, Event("DeleteTrail", human), index).size(), 1u);
  }
  EXPECT_EQ(set->Find("11111111-1111-4111-8111-111111111111")->filter_titles(),
            std::vector<std::string>{"The automation role changes trails"});
}

TEST(SigmaFilterTest, AFilterNamingARuleThatIsNotLoadedIsRefusedWhole) {
  LoadReport report;
  std::string filter = kAutomationFilter;
  filter.replace(filter.find("22222222-2222-4222-8222-222222222222"), 36, "33333333-3333-4333-8333-333333333333");
  auto set = LoadRuleSetFromTexts({{"stop.yml", kStopLogging}, {"mf.yml", filter}}, LoadOptions(), &report);
  ASSERT_EQ(report.refused.size(), 1u);
  EXPECT_EQ(report.refused[0].file, "mf.yml");
  EXPECT_NE(report.refused[0].reason.find("33333333-3333-4333-8333-333333333333"), std::string::npos)
      << report.refused[0].reason;
  EXPECT_TRUE(report.filters.empty());
  // Not applied to the rule it could find either.
  EXPECT_EQ(MatchIds(*set, Event("StopLogging", "arn:aws:iam::1:role/automation")).size(), 1u);
}

TEST(SigmaFilterTest, MalformedFiltersAreRefusedWithTheReason) {
  const struct {
    const char* what;
    std::string text;
    const char* reason;
  } cases[] = {
      {"no rules", "title: f\nlogsource: {product: aws}\nfilter:\n  selection:\n    a: 1\n  condition: selection\n",
       "names no rules"},
      {"other log source",
       "title: f\nlogsource: {product: windows}\nfilter:\n  rules: [x]\n  selection:\n    a: 1\n  condition: selection\n",
       "logsource"},
      {"no title", "logsource: {product: aws}\nfilter:\n  rules: [x]\n  selection:\n    a: 1\n  condition: selection\n",
       "no title"},
      {"bad condition",
       "title: f\nlogsource: {product: aws}\nfilter:\n  rules: [x]\n  selection:\n    a: 1\n  condition: nosuch\n", ""},
      {"filter not a map", "title: f\nlogsource: {product: aws}\nfilter: [1, 2]\n", "'filter' map"},
  };
  for (const auto& c : cases) {
    LoadReport report;
    LoadRuleSetFromTexts({{"stop.yml", kStopLogging}, {"mf.yml", c.text}}, LoadOptions(), &report);
    ASSERT_EQ(report.refused.size(), 1u) << c.what;
    EXPECT_NE(report.refused[0].reason.find(c.reason), std::string::npos) << c.what << ": " << report.refused[0].reason;
  }
  // A filter document given where one rule is expected says what it is.
  auto as_rule = CompileRule(kAutomationFilter, CompileOptions());
  ASSERT_FALSE(as_rule.ok());
  EXPECT_NE(as_rule.status().message().find("filter document"), std::string::npos);
  EXPECT_TRUE(CompileFilter(kAutomationFilter, CompileOptions()).ok());
}

}  // namespace
}  // namespace orgtrail::detections
