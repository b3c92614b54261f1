// Loading rules from folders: metadata kept, refusals reported with file, id and reason, and
// malformed or hostile files never crash the loader.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <gtest/gtest.h>

#include "orgtrail/detections/rule_set.h"
#include "sigma_test_util.h"
#include "testutil/temp_dir.h"

namespace orgtrail::detections {
namespace {

const std::string kRules = std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules";

void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

TEST(RuleLoader, KeepsMetadata) {
  LoadReport report;
  auto set = LoadRuleSet({kRules}, LoadOptions{}, &report);
  ASSERT_TRUE(set.ok()) << set.status();
  const Rule* rule = (*set)->Find("4db60cc0-36fb-42b7-9b58-a5b53019fb74");
  ASSERT_NE(rule, nullptr);
  const RuleMetadata& md = rule->metadata();
  EXPECT_EQ(md.title, "AWS CloudTrail Important Change");
  EXPECT_EQ(md.level, "medium");
  EXPECT_EQ(md.status, "test");
  EXPECT_EQ(md.author, "vitaliy0x1");
  ASSERT_EQ(md.references.size(), 1u);
  EXPECT_EQ(md.references[0], "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html");
  EXPECT_EQ(md.tags, (std::vector<std::string>{"attack.defense-impairment", "attack.t1685.002"}));
  EXPECT_EQ(md.falsepositives, (std::vector<std::string>{"Valid change in a Trail"}));
  EXPECT_EQ(md.logsource.at("product"), "aws");
  EXPECT_EQ(md.logsource.at("service"), "cloudtrail");
  EXPECT_EQ(md.conditions, (std::vector<std::string>{"selection_source"}));
  EXPECT_NE(md.detection_yaml.find("StopLogging"), std::string::npos);
  EXPECT_EQ(rule->requirement().field, "eventName");
  EXPECT_EQ(rule->requirement().values, (std::set<std::string>{"deletetrail", "stoplogging", "updatetrail"}));
}

TEST(RuleLoader, RefusesWhatItCannotRunWithFileIdAndReason) {
  testutil::TempDir dir("sigma-loader");
  std::string sub = dir.MakeSubdir("nested/deeper");
  Write(dir.Join("good.yml"), testing::RuleText("  sel:\n    eventName: X\n  condition: sel\n", "good-1"));
  Write(sub + "/good2.yaml", testing::RuleText("  sel:\n    eventName: Y\n  condition: sel\n", "good-2"));
  Write(dir.Join("ignored.txt"), "not a rule");
  Write(dir.Join("broken_yaml.yml"), "title: [unclosed\nid: x\n");
  Write(dir.Join("tabs.yml"), "title: t\n\tid: x\n");
  Write(dir.Join("empty.yml"), "");
  Write(dir.Join("binary.yml"), std::string("\x00\xff\xfe\x01garbage\x00", 13));
  Write(dir.Join("scalar.yml"), "just a string\n");
  Write(dir.Join("no_id.yml"), "title: t\nlogsource:\n  product: aws\ndetection:\n  s:\n    a: 1\n  condition: s\n");
  Write(dir.Join("regex.yml"), testing::RuleText("  sel:\n    f|re: 'a(?=b)'\n  condition: sel\n", "regex-1"));
  Write(dir.Join("bad_condition.yml"), testing::RuleText("  sel:\n    f: a\n  condition: sel and\n", "cond-1"));
  Write(dir.Join("windows.yml"),
        "title: t\nid: win-1\nlogsource:\n  product: windows\ndetection:\n  s:\n    a: 1\n  condition: s\n");
  Write(dir.Join("correlation.yml"),
        "title: c\nid: corr-1\ncorrelation:\n  type: event_count\n  rules: [good-1]\n  timespan: 1h\n");
  Write(dir.Join("zz_duplicate.yml"), testing::RuleText("  sel:\n    eventName: Z\n  condition: sel\n", "good-1"));
  Write(dir.Join("deep.yml"), std::string(100000, '[') + std::string(100000, ']'));
  Write(dir.Join("weird_types.yml"), testing::RuleText("  sel:\n    f:\n      x: [1, {a: b}]\n  condition: sel\n", "types-1"));
  Write(dir.Join("detection_list.yml"),
        "title: t\nid: dl-1\nlogsource:\n  product: aws\ndetection:\n  - a\n  - b\n");
  Write(dir.Join("multi.yml"), testing::RuleText("  sel:\n    eventName: A\n  condition: sel\n", "multi-1") + "---\n" +
                                   testing::RuleText("  sel:\n    eventName|bogus: A\n  condition: sel\n", "multi-2"));

  LoadReport report;
  auto set = LoadRuleSet({dir.path()}, LoadOptions{}, &report);
  ASSERT_TRUE(set.ok()) << set.status();
  std::map<std::string, RefusedRule> refused;
  for (const RefusedRule& r : report.refused) {
    refused[std::filesystem::path(r.file).filename().string()] = r;
    EXPECT_FALSE(r.reason.empty()) << r.file;
  }
  std::vector<std::string> loaded;
  for (const LoadedRule& l : report.loaded) loaded.push_back(l.id);
  std::sort(loaded.begin(), loaded.end());
  EXPECT_EQ(loaded, (std::vector<std::string>{"good-1", "good-2", "multi-1"}));
  for (const char* f : {"broken_yaml.yml", "tabs.yml", "empty.yml", "binary.yml", "scalar.yml", "no_id.yml",
                        "regex.yml", "bad_condition.yml", "windows.yml", "correlation.yml", "zz_duplicate.yml",
                        "deep.yml", "weird_types.yml", "detection_list.yml", "multi.yml"}) {
    EXPECT_EQ(refused.count(f), 1u) << f;
  }
  EXPECT_EQ(refused.size(), 15u);
  EXPECT_EQ(refused["regex.yml"].id, "regex-1");
  EXPECT_NE(refused["regex.yml"].reason.find("RE2"), std::string::npos) << refused["regex.yml"].reason;
  EXPECT_EQ(refused["bad_condition.yml"].id, "cond-1");
  EXPECT_NE(refused["correlation.yml"].reason.find("event_count needs a condition"), std::string::npos)
      << refused["correlation.yml"].reason;
  EXPECT_NE(refused["windows.yml"].reason.find("logsource"), std::string::npos);
  EXPECT_NE(refused["zz_duplicate.yml"].reason.find("already loaded"), std::string::npos);
  EXPECT_EQ(refused["multi.yml"].id, "multi-2");
  EXPECT_NE(refused["multi.yml"].reason.find("bogus"), std::string::npos) << refused["multi.yml"].reason;
  for (const auto& [file, r] : refused) std::cout << "refused " << file << " [" << r.id << "]: " << r.reason << "\n";
}

// "Billion laughs": aliases nest 9^9 scalars. yaml-cpp shares aliased nodes; the compiler must not
// expand them either (it refuses nested lists at the first element).
TEST(RuleLoader, AliasBombIsRefusedQuickly) {
  std::string bomb = "bombs:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    bomb += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + prev;
    for (int k = 1; k < 9; ++k) bomb += ", " + prev;
    bomb += "]\n";
  }
  const std::string head = "title: t\nid: bomb\nlogsource:\n  product: aws\n" + bomb;
  const std::string ok_detection = "detection:\n  s:\n    a: 1\n  condition: s\n";
  for (const std::string& tail : {"tags: *l8\n" + ok_detection, "description: *l8\nfalsepositives: *l8\n" + ok_detection,
                                  std::string("detection:\n  sel:\n    f: *l8\n  condition: sel\n"),
                                  std::string("detection:\n  sel: *l8\n  condition: sel\n"),
                                  std::string("detection:\n  sel:\n    - *l8\n  condition: sel\n")}) {
    auto rule = CompileRule(head + tail, {});
    ASSERT_FALSE(rule.ok()) << tail;
    EXPECT_EQ(std::string(rule.status().message()).find("YAML:"), std::string::npos) << rule.status().ToString();
    std::cout << "alias bomb: " << rule.status().ToString() << "\n";
  }
}

// yaml-cpp 0.7's LoadAll never returns where no document can begin (a lone ','): it collects empty
// documents until memory runs out (found by fuzz_sigma_rule: 2.6 GB from a 1 KB file). Such a file,
// alone or after a good rule, is refused with the place, and the good files beside it still load.
TEST(RuleLoader, AStreamWhereNoDocumentCanBeginIsRefusedNotLoadedForever) {
  const std::string good = testing::RuleText("  sel:\n    eventName: X\n  condition: sel\n", "good-1");
  for (const std::string& text : {std::string(","), std::string(",\n"), std::string("  ,"), good + "---\n,\n"}) {
    LoadReport report;
    auto set = LoadRuleSetFromTexts({{"stuck.yml", text}, {"good.yml", good}}, LoadOptions{}, &report);
    ASSERT_NE(set, nullptr);
    ASSERT_EQ(report.refused.size(), 1u) << text;
    EXPECT_EQ(report.refused[0].file, "stuck.yml");
    EXPECT_NE(report.refused[0].reason.find("no document can begin"), std::string::npos) << report.refused[0].reason;
    EXPECT_NE(report.refused[0].reason.find("line "), std::string::npos) << report.refused[0].reason;
    ASSERT_EQ(report.loaded.size(), 1u);
    EXPECT_EQ(report.loaded[0].id, "good-1");
  }
  // What yaml-cpp does parse still loads: several documents, comments only, empty documents.
  LoadReport report;
  auto set = LoadRuleSetFromTexts({{"multi.yml", good + "---\n" +
                                                     testing::RuleText("  sel:\n    eventName: Y\n  condition: sel\n", "good-2")},
                                   {"comments.yml", "# nothing here\n"}},
                                  LoadOptions{}, &report);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(report.loaded.size(), 2u);
}

TEST(RuleLoader, MissingFolderIsAnError) {
  LoadReport report;
  auto set = LoadRuleSet({"/nonexistent/sigma"}, LoadOptions{}, &report);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
}

TEST(RuleLoader, OversizeFileIsRefused) {
  testutil::TempDir dir("sigma-loader");
  Write(dir.Join("big.yml"), testing::RuleText("  sel:\n    eventName: X\n  condition: sel\n", "big-1") + "# " +
                                 std::string(2000, 'x') + "\n");
  LoadOptions options;
  options.max_file_bytes = 1000;
  LoadReport report;
  auto set = LoadRuleSet({dir.path()}, options, &report);
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(report.refused.size(), 1u);
  EXPECT_NE(report.refused[0].reason.find("limit"), std::string::npos);
}

TEST(RecordParser, RejectsWhatIsNotAnObject) {
  RecordParser parser;
  EXPECT_FALSE(parser.Parse("[1,2]").ok());
  EXPECT_FALSE(parser.Parse("{\"a\":").ok());
  EXPECT_FALSE(parser.Parse("").ok());
  EXPECT_FALSE(parser.Parse("{\"a\":\"\xff\"}").ok());
  EXPECT_FALSE(parser.Parse(std::string(5000, '[') + std::string(5000, ']')).ok());
  EXPECT_TRUE(parser.Parse("{}").ok());
}

}  // namespace
}  // namespace orgtrail::detections
