// CloudWatch Logs JSON filter patterns: the CloudWatch documentation examples
// and the CIS / Security Hub metric filters from ../shared/data/cis-metric-filters
// behave as documented; hostile patterns get a column-pointing error.
#include "orgtrail/common/filter_pattern.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

namespace orgtrail {
namespace {

const std::string kCisDir = std::string(ORGTRAIL_SHARED_DATA_DIR) + "/cis-metric-filters";
const std::string kInvictusDir = std::string(ORGTRAIL_SHARED_DATA_DIR) + "/invictus-aws-dataset/CloudTrail";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

FilterPattern MustParse(std::string_view text) {
  auto pattern = FilterPattern::Parse(text);
  EXPECT_TRUE(pattern.ok()) << text << " -> " << pattern.status();
  return pattern.ok() ? *pattern : FilterPattern();
}

bool Match(std::string_view pattern_text, std::string_view json) {
  FilterPattern pattern = MustParse(pattern_text);
  FilterEvaluator evaluator;
  auto result = evaluator.Evaluate(pattern, json);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() && *result;
}

// The column named by an error message "column <n>: ...", or -1.
int ErrorColumn(const Status& status) {
  std::smatch m;
  std::string message(status.message());
  if (!std::regex_search(message, m, std::regex("^column ([0-9]+): "))) return -1;
  return std::stoi(m[1]);
}

// ---------------------------------------------------------------------------
// The CloudWatch documentation examples, with their expected results.

TEST(FilterPatternDocExamples, EveryExampleGivesItsDocumentedResult) {
  simdjson::dom::parser parser;
  std::string text = ReadFile(kCisDir + "/cloudwatch_filter_doc_examples.json");
  ASSERT_FALSE(text.empty());
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS);
  simdjson::dom::array cases;
  ASSERT_EQ(doc["cases"].get_array().get(cases), simdjson::SUCCESS);
  int checked = 0;
  for (simdjson::dom::element c : cases) {
    std::string_view event_name, pattern_text;
    bool expected = false;
    ASSERT_EQ(c["event"].get_string().get(event_name), simdjson::SUCCESS);
    ASSERT_EQ(c["pattern"].get_string().get(pattern_text), simdjson::SUCCESS);
    ASSERT_EQ(c["expected"].get_bool().get(expected), simdjson::SUCCESS);
    simdjson::dom::element event;
    ASSERT_EQ(doc["events"][event_name].get(event), simdjson::SUCCESS);
    std::string event_json = simdjson::to_string(event);
    EXPECT_EQ(Match(pattern_text, event_json), expected) << pattern_text << " on " << event_name;
    ++checked;
  }
  EXPECT_EQ(checked, 11);
}

TEST(FilterPatternDocExamples, AndBindsTighterThanOr) {
  // a || b && c == a || (b && c)
  std::string json = R"({"a":"1","b":"0","c":"0"})";
  EXPECT_TRUE(Match(R"({ $.a = "1" || $.b = "1" && $.c = "1" })", json));
  EXPECT_FALSE(Match(R"({ ($.a = "1" || $.b = "1") && $.c = "1" })", json));
  EXPECT_TRUE(Match(R"({ $.b = "1" && $.c = "1" || $.a = "1" })", json));
}

// ---------------------------------------------------------------------------
// Value semantics.

const char* kRecord = R"({
  "eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","count":42,"ratio":0.5,
  "neg":-3,"big":123456789012,"flag":true,"off":false,"nothing":null,
  "userIdentity":{"type":"IAMUser","userName":"alice","sessionContext":{"attributes":{"mfaAuthenticated":"false"}}},
  "resources":[{"ARN":"arn:aws:s3:::b1","type":"AWS::S3::Bucket"},{"ARN":"arn:aws:s3:::b2"}],
  "list":[[1,2],[3,4]],"star":"a*b","empty":"","unicode":"caf\u00e9","dotted.key":"x"
})";

TEST(FilterPatternSemantics, StringsQuotedAndUnquoted) {
  EXPECT_TRUE(Match(R"({ $.eventName = "ConsoleLogin" })", kRecord));
  EXPECT_TRUE(Match(R"({ $.eventName = ConsoleLogin })", kRecord));
  EXPECT_TRUE(Match(R"({$.eventName=ConsoleLogin})", kRecord));
  EXPECT_FALSE(Match(R"({ $.eventName = consolelogin })", kRecord));  // case-sensitive values
  EXPECT_TRUE(Match(R"({ $.eventName != "Other" })", kRecord));
  EXPECT_FALSE(Match(R"({ $.eventName != "ConsoleLogin" })", kRecord));
  EXPECT_TRUE(Match(R"({ $.empty = "" })", kRecord));
  EXPECT_TRUE(Match("{ $.unicode = \"caf\xC3\xA9\" }", kRecord));
  EXPECT_TRUE(Match(R"({ $.userIdentity.sessionContext.attributes.mfaAuthenticated = "false" })", kRecord));
}

TEST(FilterPatternSemantics, Wildcards) {
  EXPECT_TRUE(Match(R"({ $.eventSource = "*.amazonaws.com" })", kRecord));
  EXPECT_TRUE(Match(R"({ $.eventSource = signin.* })", kRecord));
  EXPECT_TRUE(Match(R"({ $.eventSource = *in.amazon* })", kRecord));
  EXPECT_TRUE(Match(R"({ $.eventSource = s*n*a*m })", kRecord));
  EXPECT_FALSE(Match(R"({ $.eventSource = s*n*x*m })", kRecord));
  EXPECT_TRUE(Match(R"({ $.eventSource = * })", kRecord));
  EXPECT_FALSE(Match(R"({ $.eventSource = "*.aws.com" })", kRecord));
  EXPECT_FALSE(Match(R"({ $.count = * })", kRecord));  // * is a string wildcard, count is a number
  // A literal star in a quoted value.
  EXPECT_TRUE(Match(R"({ $.star = "a\*b" })", kRecord));
  EXPECT_FALSE(Match(R"({ $.eventName = "Console\*" })", kRecord));
  EXPECT_TRUE(Match(R"({ $.eventName = "Console*" })", kRecord));
  // Prefix and suffix must not overlap.
  EXPECT_TRUE(Match(R"({ $.star = "a*ba" })", R"({"star":"aba"})"));
  EXPECT_FALSE(Match(R"({ $.star = "aa*aa" })", R"({"star":"aaa"})"));
  EXPECT_TRUE(Match(R"({ $.star = "ab*ba" })", R"({"star":"abba"})"));
  EXPECT_FALSE(Match(R"({ $.star = "ab*ba" })", R"({"star":"aba"})"));
}

TEST(FilterPatternSemantics, NumbersCompareNumerically) {
  EXPECT_TRUE(Match("{ $.count = 42 }", kRecord));
  EXPECT_TRUE(Match("{ $.count = 42.0 }", kRecord));
  EXPECT_TRUE(Match("{ $.count = 4.2e1 }", kRecord));
  EXPECT_TRUE(Match("{ $.count != 41 }", kRecord));
  EXPECT_TRUE(Match("{ $.count > 41 }", kRecord));
  EXPECT_TRUE(Match("{ $.count >= 42 }", kRecord));
  EXPECT_FALSE(Match("{ $.count > 42 }", kRecord));
  EXPECT_TRUE(Match("{ $.count < 100 }", kRecord));
  EXPECT_TRUE(Match("{ $.count <= 42 }", kRecord));
  EXPECT_TRUE(Match("{ $.ratio < 1 }", kRecord));
  EXPECT_TRUE(Match("{ $.neg < -2 }", kRecord));
  EXPECT_TRUE(Match("{ $.big = 123456789012 }", kRecord));
  EXPECT_TRUE(Match("{ $.list[1][0] = 3 }", kRecord));
}

TEST(FilterPatternSemantics, NumbersAndStringsNeverConvert) {
  EXPECT_FALSE(Match(R"({ $.count = "42" })", kRecord));
  EXPECT_FALSE(Match(R"({ $.count != "42" })", kRecord));  // wrong type: no match, like a missing field
  EXPECT_FALSE(Match("{ $.eventName > 1 }", kRecord));
  EXPECT_FALSE(Match(R"({ $.x = 1 })", R"({"x":"1"})"));
  EXPECT_TRUE(Match(R"({ $.x = "1" })", R"({"x":"1"})"));
  EXPECT_FALSE(Match(R"({ $.flag = "true" })", kRecord));
}

TEST(FilterPatternSemantics, NullExistsBooleans) {
  EXPECT_TRUE(Match("{ $.nothing IS NULL }", kRecord));
  EXPECT_FALSE(Match("{ $.eventName IS NULL }", kRecord));
  EXPECT_FALSE(Match("{ $.missing IS NULL }", kRecord));
  EXPECT_TRUE(Match("{ $.missing NOT EXISTS }", kRecord));
  EXPECT_TRUE(Match("{ $.userIdentity.invokedBy NOT EXISTS }", kRecord));
  EXPECT_FALSE(Match("{ $.nothing NOT EXISTS }", kRecord));  // present, with value null
  EXPECT_FALSE(Match("{ $.userIdentity NOT EXISTS }", kRecord));
  EXPECT_TRUE(Match("{ $.resources[5] NOT EXISTS }", kRecord));
  EXPECT_TRUE(Match("{ $.eventName.deeper NOT EXISTS }", kRecord));  // through a string
  EXPECT_TRUE(Match("{ $.flag IS TRUE }", kRecord));
  EXPECT_FALSE(Match("{ $.flag IS FALSE }", kRecord));
  EXPECT_TRUE(Match("{ $.off IS FALSE }", kRecord));
  EXPECT_FALSE(Match("{ $.eventName IS TRUE }", kRecord));
  EXPECT_TRUE(Match("{ $.flag is true && $.missing not exists && $.nothing Is Null }", kRecord));
}

TEST(FilterPatternSemantics, ArraysAndMissingFields) {
  EXPECT_TRUE(Match(R"({ $.resources[0].ARN = "arn:aws:s3:::b1" })", kRecord));
  EXPECT_TRUE(Match(R"({ $.resources[1].ARN = "arn:aws:s3:::b2" })", kRecord));
  EXPECT_FALSE(Match(R"({ $.resources[2].ARN = * })", kRecord));
  EXPECT_FALSE(Match(R"({ $.resources[1].type != "x" })", kRecord));  // missing: != is false
  EXPECT_FALSE(Match(R"({ $.resources.ARN = * })", kRecord));         // array without index
  EXPECT_FALSE(Match(R"({ $.userIdentity[0] = "x" })", kRecord));     // index into an object
  EXPECT_FALSE(Match(R"({ $.missing != "x" })", kRecord));
}

TEST(FilterPatternSemantics, EmptyPatternMatchesEverything) {
  auto pattern = FilterPattern::Parse("   ");
  ASSERT_TRUE(pattern.ok());
  EXPECT_TRUE(pattern->matches_everything());
  FilterEvaluator evaluator;
  EXPECT_TRUE(*evaluator.Evaluate(*pattern, kRecord));
}

TEST(FilterPatternSemantics, EvaluatorRejectsBadJsonWithoutMatching) {
  FilterEvaluator evaluator;
  FilterPattern pattern = MustParse("{ $.a NOT EXISTS }");
  EXPECT_FALSE(evaluator.Evaluate(pattern, "{\"a\":").ok());
  EXPECT_FALSE(evaluator.Matches(pattern));
  EXPECT_FALSE(evaluator.Evaluate(pattern, "").ok());
  EXPECT_FALSE(evaluator.Evaluate(pattern, "\xff\xfe").ok());
  std::string deep(5000, '[');
  EXPECT_FALSE(evaluator.Evaluate(pattern, deep).ok());
  // Recovers with the next good record.
  EXPECT_TRUE(*evaluator.Evaluate(pattern, R"({"b":1})"));
}

// ---------------------------------------------------------------------------
// The CIS / Security Hub metric filters.

struct CisControl {
  std::string id;  // "4.3"
  std::string title;
  std::vector<std::string> patterns;  // every variant in the file
  std::string securityhub;            // may be empty
};

std::vector<CisControl> LoadCisControls() {
  static simdjson::dom::parser parser;
  std::string text = ReadFile(kCisDir + "/cis_cloudwatch_metric_filters.json");
  simdjson::dom::element doc;
  std::vector<CisControl> controls;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) return controls;
  for (simdjson::dom::element c : doc["controls"].get_array()) {
    CisControl control;
    control.id = std::string(c["cis_v1_4_0_v1_5_0"].get_string().value());
    control.title = std::string(c["title"].get_string().value());
    std::string_view sh;
    if (c["pattern_securityhub"].get_string().get(sh) == simdjson::SUCCESS) {
      control.securityhub = std::string(sh);
      control.patterns.push_back(control.securityhub);
    }
    for (const char* key : {"pattern_cis_v1_5_0_remediation", "pattern_cis_v1_5_0_audit"}) {
      for (simdjson::dom::element p : c[key].get_array()) control.patterns.emplace_back(p.get_string().value());
    }
    controls.push_back(std::move(control));
  }
  return controls;
}

TEST(FilterPatternCis, EveryPatternParses) {
  auto controls = LoadCisControls();
  ASSERT_EQ(controls.size(), 15u);
  int parsed = 0;
  for (const auto& control : controls) {
    for (const auto& text : control.patterns) {
      auto pattern = FilterPattern::Parse(text);
      EXPECT_TRUE(pattern.ok()) << control.id << ": " << text << " -> " << pattern.status();
      ++parsed;
    }
  }
  EXPECT_GE(parsed, 45);
}

// For the controls that list event names, every listed name (with the
// control's eventSource if it names one) matches, and a near miss does not.
TEST(FilterPatternCis, EventNameListsMatchExactlyTheirNames) {
  std::regex name_re(R"re(\$\.eventName\s*=\s*"?([A-Za-z]+)"?)re");
  std::regex source_re(R"re(\$\.eventSource\s*=\s*"?([a-z0-9.]+)"?)re");
  int checked = 0;
  for (const auto& control : LoadCisControls()) {
    for (const auto& text : control.patterns) {
      if (text.find("errorCode") != std::string::npos || text.find("userIdentity.type") != std::string::npos ||
          text.find("ConsoleLogin") != std::string::npos) {
        continue;  // 4.1, 4.2, 4.3, 4.6 have their own tests
      }
      std::smatch m;
      std::string source = "ec2.amazonaws.com";
      if (std::regex_search(text, m, source_re)) source = m[1];
      std::vector<std::string> names;
      for (auto it = std::sregex_iterator(text.begin(), text.end(), name_re); it != std::sregex_iterator(); ++it) {
        names.push_back((*it)[1]);
      }
      ASSERT_FALSE(names.empty()) << text;
      FilterPattern pattern = MustParse(text);
      FilterEvaluator evaluator;
      for (const auto& name : names) {
        std::string json = R"({"eventName":")" + name + R"(","eventSource":")" + source + R"("})";
        EXPECT_TRUE(*evaluator.Evaluate(pattern, json)) << control.id << " " << name;
        std::string near = R"({"eventName":")" + name + R"(X","eventSource":")" + source + R"("})";
        EXPECT_FALSE(*evaluator.Evaluate(pattern, near)) << control.id << " " << name << "X";
        std::string describe = R"({"eventName":"Describe)" + name + R"(","eventSource":")" + source + R"("})";
        EXPECT_FALSE(*evaluator.Evaluate(pattern, describe)) << control.id;
        if (text.find("eventSource") != std::string::npos) {
          std::string wrong_source = R"({"eventName":")" + name + R"(","eventSource":"other.amazonaws.com"})";
          EXPECT_FALSE(*evaluator.Evaluate(pattern, wrong_source)) << control.id << " " << name;
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 200);
}

const char* kRootCall = R"({"eventType":"AwsApiCall","eventName":"CreateUser","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root"}})";
const char* kRootByService = R"({"eventType":"AwsApiCall","eventName":"CreateUser","userIdentity":{"type":"Root","invokedBy":"cloudformation.amazonaws.com"}})";
const char* kRootServiceEvent = R"({"eventType":"AwsServiceEvent","eventName":"X","userIdentity":{"type":"Root"}})";
const char* kUserCall = R"({"eventType":"AwsApiCall","eventName":"CreateUser","userIdentity":{"type":"IAMUser"}})";

TEST(FilterPatternCis, RootUsage_4_3) {
  for (const auto& control : LoadCisControls()) {
    if (control.id != "4.3") continue;
    for (const auto& text : control.patterns) {
      EXPECT_TRUE(Match(text, kRootCall)) << text;
      EXPECT_FALSE(Match(text, kRootByService)) << text;
      EXPECT_FALSE(Match(text, kRootServiceEvent)) << text;
      EXPECT_FALSE(Match(text, kUserCall)) << text;
    }
  }
}

TEST(FilterPatternCis, ConsoleSignInWithoutMfa_4_2) {
  const char* no_mfa = R"({"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}})";
  const char* with_mfa = R"({"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"Yes"}})";
  const char* failed = R"({"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"}})";
  // CloudWatch: != on a missing field does not match, so a record without MFAUsed is not counted.
  const char* no_data = R"({"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Success"}})";
  for (const auto& control : LoadCisControls()) {
    if (control.id != "4.2") continue;
    for (const auto& text : control.patterns) {
      bool full = text.find("Success") != std::string::npos;
      EXPECT_TRUE(Match(text, no_mfa)) << text;
      EXPECT_FALSE(Match(text, with_mfa)) << text;
      EXPECT_EQ(Match(text, failed), !full) << text;
      EXPECT_FALSE(Match(text, no_data)) << text;
      EXPECT_FALSE(Match(text, kUserCall)) << text;
    }
  }
}

TEST(FilterPatternCis, ConsoleAuthenticationFailures_4_6) {
  const char* failed = R"({"eventName":"ConsoleLogin","errorMessage":"Failed authentication"})";
  const char* ok = R"({"eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"}})";
  for (const auto& control : LoadCisControls()) {
    if (control.id != "4.6") continue;
    for (const auto& text : control.patterns) {
      EXPECT_TRUE(Match(text, failed)) << text;
      EXPECT_FALSE(Match(text, ok)) << text;
    }
  }
}

std::vector<std::string> InvictusRecords() {
  std::vector<std::string> records;
  simdjson::dom::parser parser;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kInvictusDir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::string text = ReadFile(file);
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element record : doc["Records"].get_array()) records.push_back(simdjson::to_string(record));
  }
  return records;
}

// CIS v1.5.0 4.1 ORs "sourceIPAddress != delivery.logs.amazonaws.com" and
// "eventName != HeadBucket" into the unauthorized-call filter, so it matches
// every ordinary record (the dataset notes say so); the Security Hub pattern
// matches only the errors it names.
TEST(FilterPatternCis, UnauthorizedApiCalls_4_1_OnTheInvictusRecords) {
  std::vector<std::string> records = InvictusRecords();
  ASSERT_EQ(records.size(), 2900u);
  CisControl control;
  for (auto& c : LoadCisControls()) {
    if (c.id == "4.1") control = c;
  }
  ASSERT_FALSE(control.securityhub.empty());
  FilterPattern securityhub = MustParse(control.securityhub);
  std::vector<FilterPattern> cis;
  for (const auto& text : control.patterns) {
    if (text != control.securityhub) cis.push_back(MustParse(text));
  }
  ASSERT_EQ(cis.size(), 2u);
  FilterEvaluator evaluator;
  simdjson::dom::parser parser;
  size_t securityhub_matches = 0, expected_securityhub = 0;
  for (const auto& record : records) {
    ASSERT_TRUE(evaluator.Load(record).ok());
    for (const auto& p : cis) EXPECT_TRUE(evaluator.Matches(p)) << record.substr(0, 200);
    // Brute force: errorCode ends with UnauthorizedOperation or starts with AccessDenied.
    simdjson::dom::element doc = parser.parse(record).value();
    std::string_view code;
    bool expected = false;
    if (doc["errorCode"].get_string().get(code) == simdjson::SUCCESS) {
      const std::string_view suffix = "UnauthorizedOperation";
      expected = (code.size() >= suffix.size() && code.substr(code.size() - suffix.size()) == suffix) ||
                 code.substr(0, 12) == "AccessDenied";
    }
    bool got = evaluator.Matches(securityhub);
    EXPECT_EQ(got, expected) << record.substr(0, 300);
    securityhub_matches += got;
    expected_securityhub += expected;
  }
  EXPECT_EQ(securityhub_matches, expected_securityhub);
  EXPECT_GE(securityhub_matches, 60u);  // 44 Client.UnauthorizedOperation + 16 AccessDenied at least
  EXPECT_LT(securityhub_matches, records.size() / 10);
  // The only record shape 4.1 v1.5.0 leaves out: HeadBucket by the log delivery service.
  const char* delivery = R"({"eventName":"HeadBucket","sourceIPAddress":"delivery.logs.amazonaws.com"})";
  for (const auto& p : cis) EXPECT_FALSE(*evaluator.Evaluate(p, delivery));
}

// ---------------------------------------------------------------------------
// Hostile and malformed patterns: a clear error with a column, never a crash.

struct BadPattern {
  std::string text;
  int column;
  std::string fragment;  // expected in the message
};

TEST(FilterPatternErrors, PointAtTheColumn) {
  std::vector<BadPattern> cases = {
      {"{ $.a = }", 9, "expected a value"},
      {"{ $.a = \"abc }", 9, "unterminated string"},
      {"{ $.a = \"abc\\\" }", 9, "unterminated string"},
      {"{ $.a }", 7, "expected an operator"},
      {"{ $.a == 1 }", 8, "'=='"},
      {"{ $ = 1 }", 3, "must start with '$.'"},
      {"{ $. = 1 }", 5, "field name"},
      {"{ $.a[ = 1 }", 7, "array index"},
      {"{ $.a[1 = 1 }", 8, "expected ']'"},
      {"{ $.a[99999999999] = 1 }", 7, "too large"},
      {"{ $.a > \"5\" }", 7, "numeric"},
      {"{ $.a < abc }", 7, "numeric"},
      {"{ $.a = 1 ", 1, "missing '}'"},
      {"{ ($.a = 1 }", 12, "expected ')'"},
      {"{ ($.a = 1 ", 3, "missing ')'"},
      {"{ $.a = 1 } x", 13, "after the closing"},
      {"{ $.a = 1 & $.b = 2 }", 11, "'&&'"},
      {"{ $.a = 1 | $.b = 2 }", 11, "'||'"},
      {"{ $.a = 1 && }", 14, "'$.' selector"},
      {"{ $.a = 1 || || $.b = 2 }", 14, "'$.' selector"},
      {"{ $.a IS MAYBE }", 10, "NULL, TRUE or FALSE"},
      {"{ $.a NOT THERE }", 11, "EXISTS"},
      {"{ $.a EQUALS 1 }", 7, "expected an operator"},
      {"{ $.a IS NULLX }", 10, "NULL, TRUE or FALSE"},
      {"{}", 2, "empty pattern"},
      {"ERROR", 1, "expected '{'"},
      {"\"Failed authentication\"", 1, "expected '{'"},
      {"{ a = 1 }", 3, "selector"},
      {"{ $.caf\xC3\xA9 = \xC3\xA9\xC3\xA9 ) }", 15, "expected '&&', '||' or '}'"},
      {"{ $.a = \xff }", 9, "invalid UTF-8"},
  };
  for (const auto& c : cases) {
    auto pattern = FilterPattern::Parse(c.text);
    ASSERT_FALSE(pattern.ok()) << c.text;
    EXPECT_EQ(pattern.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(ErrorColumn(pattern.status()), c.column) << c.text << " -> " << pattern.status();
    EXPECT_NE(pattern.status().message().find(c.fragment), std::string_view::npos)
        << c.text << " -> " << pattern.status();
  }
}

TEST(FilterPatternErrors, LengthLimitIs1024Characters) {
  std::string head = "{ $.a = \"";
  std::string tail = "\" }";
  std::string ok = head + std::string(kMaxFilterPatternChars - head.size() - tail.size(), 'x') + tail;
  ASSERT_EQ(ok.size(), 1024u);
  EXPECT_TRUE(FilterPattern::Parse(ok).ok());
  std::string too_long = head + std::string(kMaxFilterPatternChars + 1 - head.size() - tail.size(), 'x') + tail;
  auto status = FilterPattern::Parse(too_long).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorColumn(status), 1025);
  EXPECT_NE(status.message().find("limit is 1024"), std::string_view::npos) << status;
  // Characters, not bytes: 1,000 two-byte characters are within the limit.
  std::string multibyte = head;
  for (int i = 0; i < 1000; ++i) multibyte += "\xC3\xA9";
  multibyte += tail;
  EXPECT_GT(multibyte.size(), 1024u);
  EXPECT_TRUE(FilterPattern::Parse(multibyte).ok());
  EXPECT_FALSE(FilterPattern::Parse(std::string(1 << 20, '(')).ok());
}

TEST(FilterPatternErrors, DeepNestingIsRefusedNotRecursedInto) {
  auto nested = [](int depth) {
    return "{ " + std::string(depth, '(') + "$.a = 1" + std::string(depth, ')') + " }";
  };
  EXPECT_TRUE(FilterPattern::Parse(nested(kMaxFilterPatternDepth)).ok());
  auto status = FilterPattern::Parse(nested(kMaxFilterPatternDepth + 1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("nested deeper"), std::string_view::npos) << status;
  EXPECT_FALSE(FilterPattern::Parse(nested(500)).ok());
  // Long but flat chains are fine.
  std::string chain = "{ $.a = 1";
  while (chain.size() < 1000) chain += " || $.a = 1";
  chain += " }";
  EXPECT_TRUE(FilterPattern::Parse(chain).ok());
  EXPECT_TRUE(Match(chain, R"({"a":1})"));
}

TEST(FilterPatternErrors, RandomGarbageNeverCrashes) {
  std::mt19937 rng(20261121);
  const std::string alphabet = "{}()[]$.=!<>&|\"\\* \tabcIS NULLNOTEXISTSTRUEFALSE0123456789-e\xC3\xA9\xff";
  FilterEvaluator evaluator;
  ASSERT_TRUE(evaluator.Load(kRecord).ok());
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = i % 2 ? "{ $." : "";
    size_t len = rng() % 60;
    for (size_t k = 0; k < len; ++k) text.push_back(alphabet[rng() % alphabet.size()]);
    auto pattern = FilterPattern::Parse(text);
    if (pattern.ok()) {
      ++parsed;
      (void)evaluator.Matches(*pattern);
    } else {
      EXPECT_GE(ErrorColumn(pattern.status()), 1) << text << " -> " << pattern.status();
    }
  }
  EXPECT_GT(parsed, 0);
}

TEST(FilterPatternErrors, MutatedCisPatternsNeverCrash) {
  FilterEvaluator evaluator;
  ASSERT_TRUE(evaluator.Load(kRootCall).ok());
  std::mt19937 rng(7);
  for (const auto& control : LoadCisControls()) {
    for (const auto& text : control.patterns) {
      for (int i = 0; i < 200; ++i) {
        std::string mutated = text;
        size_t at = rng() % mutated.size();
        switch (rng() % 3) {
          case 0: mutated.erase(at, 1); break;
          case 1: mutated.insert(at, 1, "(){}\"&|=!$[]"[rng() % 12]); break;
          default: mutated.resize(at); break;
        }
        auto pattern = FilterPattern::Parse(mutated);
        if (pattern.ok()) {
          (void)evaluator.Matches(*pattern);
        } else {
          EXPECT_GE(ErrorColumn(pattern.status()), 1) << mutated;
        }
      }
    }
  }
}

}  // namespace
}  // namespace orgtrail
