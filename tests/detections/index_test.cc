// The rule index: which requirement each condition shape yields, and that matching through the
// index gives the same findings as evaluating every rule, over synthetic rules of every shape and
// all the shared records.
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "orgtrail/detections/rule_set.h"
#include "sigma_test_util.h"

namespace orgtrail::detections {
namespace {

const std::string kData = ORGTRAIL_SHARED_DATA_DIR;

struct Shape {
  const char* detection;
  const char* field;  // expected index field ("" = evaluated for every record)
  std::set<std::string> values;
};

const std::vector<Shape>& Shapes() {
  static const std::vector<Shape> shapes = {
      {"  sel1:\n    eventName: [ConsoleLogin, GetCallerIdentity]\n  sel2:\n    eventName: AssumeRole\n"
       "  condition: 1 of sel*\n",
       "eventName", {"consolelogin", "getcalleridentity", "assumerole"}},
      {"  sel:\n    - eventName: ConsoleLogin\n    - eventSource: s3.amazonaws.com\n  condition: sel\n", "", {}},
      {"  sel:\n    eventName: ConsoleLogin\n  condition: not sel\n", "", {}},
      {"  a:\n    eventSource: s3.amazonaws.com\n    eventName|startswith: Get\n  b:\n    eventSource: iam.amazonaws.com\n"
       "  condition: a or b\n",
       "eventSource", {"s3.amazonaws.com", "iam.amazonaws.com"}},
      {"  a:\n    eventSource: ec2.amazonaws.com\n  b:\n    eventName|contains: Describe\n  condition: all of them\n",
       "eventSource", {"ec2.amazonaws.com"}},
      {"  a:\n    eventName|cased: ConsoleLogin\n  condition: a\n", "eventName", {"consolelogin"}},
      {"  a:\n    userIdentity.type: [Root, IAMUser]\n    errorCode: null\n  condition: a\n", "userIdentity.type",
       {"root", "iamuser"}},
      {"  a:\n    eventName: ListBuckets\n  b:\n    userIdentity.type: AssumedRole\n  condition: a and not b\n",
       "eventName", {"listbuckets"}},
      {"  a:\n    readOnly: 'false'\n    eventName|re: '^(Put|Delete)'\n  condition: a\n", "readOnly", {"false"}},
      {"  a:\n    eventName|neq: ConsoleLogin\n    eventSource: signin.amazonaws.com\n  condition: a\n", "eventSource",
       {"signin.amazonaws.com"}},
      {"  keywords:\n    - bert-jan\n  condition: keywords\n", "", {}},
      {"  a:\n    sourceIPAddress|cidr: 0.0.0.0/0\n  b:\n    eventName: DeleteBucket\n  condition: a and b\n", "eventName",
       {"deletebucket"}},
  };
  return shapes;
}

TEST(RuleIndex, RequirementPerConditionShape) {
  for (const Shape& shape : Shapes()) {
    auto rule = testing::MustCompile(shape.detection);
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rule->requirement().field, shape.field) << shape.detection;
    EXPECT_EQ(rule->requirement().values, shape.values) << shape.detection;
  }
}

std::vector<std::string> AllRecords() {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  for (const char* dir : {"/invictus-aws-dataset/CloudTrail", "/stratus-detonation-logs"}) {
    for (const auto& e : std::filesystem::directory_iterator(kData + dir)) {
      if (e.path().extension() != ".json" || e.path().filename() == "STATS.json") continue;
      simdjson::dom::element doc;
      EXPECT_EQ(parser.load(e.path().string()).get(doc), simdjson::SUCCESS);
      simdjson::dom::array records;
      if (doc.is_object()) {
        EXPECT_EQ(doc["Records"].get_array().get(records), simdjson::SUCCESS);
      } else {
        EXPECT_EQ(doc.get_array().get(records), simdjson::SUCCESS);
      }
      for (simdjson::dom::element r : records) out.push_back(simdjson::minify(r));
    }
  }
  std::ifstream jsonl(kData + "/panther-cloudtrail-tests/panther_cloudtrail_rule_tests.jsonl");
  std::string line;
  while (std::getline(jsonl, line)) {
    simdjson::dom::element doc;
    if (!line.empty() && parser.parse(line).get(doc) == simdjson::SUCCESS) out.push_back(simdjson::minify(doc["log"]));
  }
  return out;
}

TEST(RuleIndex, SameFindingsWithAndWithoutTheIndexForEveryShape) {
  LoadReport report;
  auto set = LoadRuleSet({kData + "/sigma-cloudtrail/rules"}, LoadOptions{}, &report);
  ASSERT_TRUE(set.ok());
  int n = 0;
  for (const Shape& shape : Shapes()) {
    auto rule = CompileRule(testing::RuleText(shape.detection, "shape-" + std::to_string(n++)), {});
    ASSERT_TRUE(rule.ok()) << rule.status();
    ASSERT_TRUE((*set)->Add(std::move(*rule)).ok());
  }
  std::vector<std::string> records = AllRecords();
  ASSERT_EQ(records.size(), 3671u);
  std::map<std::string, int> per_rule;
  RecordParser parser;
  for (const std::string& json : records) {
    auto record = parser.Parse(json);
    ASSERT_TRUE(record.ok());
    auto indexed = (*set)->Match(*record);
    ASSERT_EQ(indexed, (*set)->MatchWithoutIndex(*record)) << json.substr(0, 300);
    for (const Rule* r : indexed) per_rule[r->id()]++;
  }
  // Not vacuous: every synthetic shape matches some record.
  for (int i = 0; i < n; ++i) EXPECT_GT(per_rule["shape-" + std::to_string(i)], 0) << Shapes()[i].detection;
}

// Records with every field of every JSON type (null, booleans, numbers, strings, arrays, nested
// arrays, objects), as hostile or hand-edited input has them: no crash, and the index agrees with
// evaluating every rule.
TEST(RuleIndex, TypeConfusedRecordsAgreeWithAndWithoutTheIndex) {
  LoadReport report;
  auto set = LoadRuleSet({kData + "/sigma-cloudtrail/rules"}, LoadOptions{}, &report);
  ASSERT_TRUE(set.ok());
  const std::vector<std::string> fields = {"eventName", "eventSource", "userIdentity", "errorCode", "requestParameters",
                                           "responseElements", "userAgent", "sourceIPAddress", "eventType",
                                           "additionalEventData"};
  const std::vector<std::string> values = {
      "null", "true", "false", "0", "-1.5", "1e300", "18446744073709551615", "\"\"", "\"DeleteTrail\"",
      "\"cloudtrail.amazonaws.com\"", "\"Root\"", "\"AssumedRole\"", "\"TruffleHog\"", "\"Success\"", "[]",
      "[\"StopLogging\",\"x\"]", "[[[\"DeleteBucket\"]]]", "{}", "{\"type\":\"Root\",\"arn\":[\"a\",null]}",
      "{\"type\":[\"AssumedRole\"],\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\"}}}",
      "{\"enable\":false,\"userName\":{\"x\":1},\"layers\":[\"arn\"],\"attribute\":\"userData\"}",
      "{\"MFAUsed\":\"No\",\"ConsoleLogin\":\"Success\",\"publiclyAccessible\":true}",
      "\"arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1\""};
  std::mt19937 rng(1818);
  RecordParser parser;
  int matched = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string json = "{";
    bool first = true;
    for (const std::string& f : fields) {
      if (rng() % 3 == 0) continue;
      if (!first) json += ",";
      first = false;
      json += "\"" + f + "\":" + values[rng() % values.size()];
    }
    json += "}";
    auto record = parser.Parse(json);
    ASSERT_TRUE(record.ok()) << json;
    auto indexed = (*set)->Match(*record);
    ASSERT_EQ(indexed, (*set)->MatchWithoutIndex(*record)) << json;
    matched += !indexed.empty();
  }
  EXPECT_GT(matched, 1000);  // the records do reach rules
}

// Mutated rule texts (bytes flipped, cut, duplicated) never crash the compiler.
TEST(RuleCompiler, SurvivesMutatedRules) {
  std::ifstream in(kData + "/sigma-cloudtrail/rules/aws_cloudtrail_guardduty_detector_deleted_or_updated.yml");
  std::stringstream s;
  s << in.rdbuf();
  const std::string original = s.str();
  ASSERT_FALSE(original.empty());
  std::mt19937 rng(18);
  const std::string alphabet = "|*?\\:-[]{}()%'\"\n\t &!#>0aZ";
  int ok = 0;
  RecordParser parser;
  auto record = parser.Parse(R"({"eventSource":"guardduty.amazonaws.com","eventName":"DeleteDetector"})");
  ASSERT_TRUE(record.ok());
  for (int i = 0; i < 3000; ++i) {
    std::string text = original;
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        case 2: text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 16)); break;
        case 3: text[at] = char(rng() % 256); break;
      }
    }
    auto rule = CompileRule(text, {});
    if (rule.ok()) {
      ++ok;
      (void)(*rule)->Matches(*record);
    } else {
      EXPECT_FALSE(rule.status().message().empty());
    }
  }
  std::cout << ok << " of 3000 mutated rules still compiled\n";
}

}  // namespace
}  // namespace orgtrail::detections
