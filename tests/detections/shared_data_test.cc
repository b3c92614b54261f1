// The 57 SigmaHQ CloudTrail rules over the real records in ../shared/data (invictus delivery
// files, stratus detonation arrays, panther JSONL test events): every rule loads; the match
// counts of a dozen rules agree with counts checked by hand (an independent Python predicate per
// rule, and the records read); the index never changes a result.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "orgtrail/detections/rule_set.h"
#include "testutil/ingest_client.h"

namespace orgtrail::detections {
namespace {

namespace fs = std::filesystem;

const std::string kData = ORGTRAIL_SHARED_DATA_DIR;
const std::string kRules = kData + "/sigma-cloudtrail/rules";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> SortedFiles(const std::string& dir, const std::string& ext) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string p = e.path().string();
    if (e.is_regular_file() && p.size() > ext.size() && p.compare(p.size() - ext.size(), ext.size(), ext) == 0 &&
        e.path().filename() != "STATS.json") {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// dataset name -> its records as JSON text.
std::map<std::string, std::vector<std::string>> LoadRecords() {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& f : SortedFiles(kData + "/invictus-aws-dataset/CloudTrail", ".json")) {
    auto records = testutil::SplitCloudTrailRecords(ReadFile(f));
    EXPECT_TRUE(records.ok()) << f << " " << records.status();
    if (records.ok()) out["invictus"].insert(out["invictus"].end(), records->begin(), records->end());
  }
  simdjson::dom::parser parser;
  for (const std::string& f : SortedFiles(kData + "/stratus-detonation-logs", ".json")) {
    simdjson::dom::element doc;
    EXPECT_EQ(parser.load(f).get(doc), simdjson::SUCCESS) << f;
    for (simdjson::dom::element r : simdjson::dom::array(doc)) out["stratus"].push_back(simdjson::minify(r));
  }
  std::ifstream jsonl(kData + "/panther-cloudtrail-tests/panther_cloudtrail_rule_tests.jsonl");
  std::string line;
  while (std::getline(jsonl, line)) {
    if (line.empty()) continue;
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS);
    out["panther"].push_back(simdjson::minify(doc["log"]));
  }
  return out;
}

class SharedDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    report_ = new LoadReport();
    auto set = LoadRuleSet({kRules}, LoadOptions{}, report_);
    ASSERT_TRUE(set.ok()) << set.status();
    rules_ = set->release();
    records_ = new std::map<std::string, std::vector<std::string>>(LoadRecords());
  }
  static void TearDownTestSuite() {
    delete rules_;
    delete report_;
    delete records_;
  }
  static std::string FileOf(const std::string& id) {
    for (const LoadedRule& l : report_->loaded) {
      if (l.id == id) return fs::path(l.file).filename().string();
    }
    return "";
  }
  static RuleSet* rules_;
  static LoadReport* report_;
  static std::map<std::string, std::vector<std::string>>* records_;
};
RuleSet* SharedDataTest::rules_ = nullptr;
LoadReport* SharedDataTest::report_ = nullptr;
std::map<std::string, std::vector<std::string>>* SharedDataTest::records_ = nullptr;

TEST_F(SharedDataTest, All57RulesLoad) {
  for (const RefusedRule& r : report_->refused) ADD_FAILURE() << r.file << " " << r.id << ": " << r.reason;
  EXPECT_EQ(report_->loaded.size(), 57u);
  EXPECT_EQ(rules_->size(), 57u);
  // Most rules pin eventName / eventSource: only rules with no exact requirement run on every record.
  std::cout << "index: " << rules_->size() - rules_->unindexed_count() << " of " << rules_->size()
            << " rules indexed\n";
  std::vector<std::string> unindexed;
  std::map<std::string, int> by_field;
  for (const auto& rule : rules_->rules()) {
    if (rule->requirement().field.empty()) unindexed.push_back(FileOf(rule->id()));
    else by_field[rule->requirement().field]++;
  }
  // Only the rule whose one positive selection is a |re has no exact value to be filed under.
  EXPECT_EQ(unindexed, std::vector<std::string>{"aws_cloudtrail_imds_malicious_usage.yml"});
  EXPECT_EQ(rules_->unindexed_count(), 1u);
  for (const auto& [field, n] : by_field) std::cout << "  indexed by " << field << ": " << n << "\n";
}

TEST_F(SharedDataTest, RecordsAreThere) {
  EXPECT_EQ((*records_)["invictus"].size(), 2900u);
  EXPECT_EQ((*records_)["stratus"].size(), 310u);
  EXPECT_EQ((*records_)["panther"].size(), 461u);
}

TEST_F(SharedDataTest, MatchCountsAgreeWithHandCheckedExpectations) {
  // rule file -> {invictus, stratus, panther}. Checked by an independent predicate per rule over
  // the same records and by reading the matched records, e.g.:
  // - disable_logging: the 6 invictus StopLogging/DeleteTrail calls of user bert-jan, stratus'
  //   DeleteTrail and StopLogging, panther's 5 cloudtrail.amazonaws.com Stop/Delete/UpdateTrail.
  // - bucket_deleted: 8 invictus DeleteBucket, 3 with errorCode BucketNotEmpty (no match), 5
  //   without errorCode (match); panther's DeleteBucket with errorCode "" does not match (an
  //   empty string is not null).
  // - iam_backdoor_users_keys: the filter's value is the literal text
  //   'responseElements.accessKey.userName' (not |fieldref), so every CreateAccessKey matches.
  // - disable_bucket_versioning: requestParameters is an object, compared as its JSON text.
  const std::map<std::string, std::array<int, 3>> expected = {
      {"aws_cloudtrail_disable_logging.yml", {6, 2, 5}},
      {"aws_enum_buckets.yml", {3, 0, 0}},
      {"aws_iam_backdoor_users_keys.yml", {2, 2, 7}},
      {"aws_cloudtrail_bucket_deleted.yml", {5, 0, 0}},
      {"aws_disable_bucket_versioning.yml", {0, 0, 4}},
      {"aws_root_account_usage.yml", {0, 0, 14}},
      {"aws_sts_getsessiontoken_misuse.yml", {0, 0, 2}},
      {"aws_cloudtrail_imds_malicious_usage.yml", {0, 0, 0}},
      {"aws_update_login_profile.yml", {0, 1, 5}},
      {"aws_cloudtrail_console_login_success_without_mfa.yml", {1, 1, 13}},
      {"aws_sts_assumerole_misuse.yml", {76, 68, 220}},
      {"aws_snapshot_backup_exfiltration.yml", {2, 1, 4}},
  };
  const char* kSets[3] = {"invictus", "stratus", "panther"};
  std::map<std::string, std::array<int, 3>> counts;
  RecordParser parser;
  for (int s = 0; s < 3; ++s) {
    for (const std::string& json : (*records_)[kSets[s]]) {
      auto ids = rules_->Match(json, &parser);
      ASSERT_TRUE(ids.ok()) << ids.status();
      for (const std::string& id : *ids) counts[FileOf(id)][s]++;
    }
  }
  for (const auto& [file, want] : expected) {
    EXPECT_EQ(counts[file], want) << file << " got " << counts[file][0] << "/" << counts[file][1] << "/"
                                  << counts[file][2];
  }
  std::cout << "matches per rule (invictus / stratus / panther):\n";
  for (const auto& [file, c] : counts) std::cout << "  " << file << " " << c[0] << " / " << c[1] << " / " << c[2] << "\n";
}

// Stratus Red Team detonations are labelled by technique: where a SigmaHQ rule covers the
// technique, it fires on that technique's records. (ec2-user-data does not fire
// aws_ec2_startup_script_change: real ModifyInstanceAttribute records carry
// requestParameters.userData, not the requestParameters.attribute the rule asks for.)
TEST_F(SharedDataTest, StratusTechniquesFireTheirRules) {
  const std::map<std::string, std::string> technique_rule = {
      {"aws.defense-evasion.cloudtrail-delete.json", "aws_cloudtrail_disable_logging.yml"},
      {"aws.defense-evasion.cloudtrail-stop.json", "aws_cloudtrail_disable_logging.yml"},
      {"aws.defense-evasion.vpc-remove-flow-logs.json", "aws_cloudtrail_vpc_flow_logs_deleted.yml"},
      {"aws.execution.ssm-send-command.json", "aws_cloudtrail_ssm_malicious_usage.yml"},
      {"aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
       "aws_cloudtrail_security_group_change_ingress_egress.yml"},
      {"aws.exfiltration.ec2-share-ebs-snapshot.json", "aws_snapshot_backup_exfiltration.yml"},
      {"aws.initial-access.console-login-without-mfa.json", "aws_cloudtrail_console_login_success_without_mfa.yml"},
      {"aws.persistence.iam-backdoor-user.json", "aws_iam_backdoor_users_keys.yml"},
      {"aws.persistence.lambda-layer-extension.json", "aws_new_lambda_layer_attached.yml"},
      {"aws.privilege-escalation.iam-update-user-login-profile.json", "aws_update_login_profile.yml"},
  };
  RecordParser parser;
  simdjson::dom::parser json;
  for (const auto& [file, rule_file] : technique_rule) {
    simdjson::dom::element doc;
    ASSERT_EQ(json.load(kData + "/stratus-detonation-logs/" + file).get(doc), simdjson::SUCCESS) << file;
    int fired = 0;
    for (simdjson::dom::element r : simdjson::dom::array(doc)) {
      auto ids = rules_->Match(simdjson::minify(r), &parser);
      ASSERT_TRUE(ids.ok());
      for (const std::string& id : *ids) fired += FileOf(id) == rule_file;
    }
    EXPECT_GE(fired, 1) << file << " did not fire " << rule_file;
  }
}

TEST_F(SharedDataTest, IndexNeverChangesResults) {
  RecordParser parser;
  size_t records = 0, findings = 0;
  for (const auto& [name, set] : *records_) {
    for (const std::string& json : set) {
      auto record = parser.Parse(json);
      ASSERT_TRUE(record.ok()) << record.status();
      auto indexed = rules_->Match(*record);
      auto full = rules_->MatchWithoutIndex(*record);
      ASSERT_EQ(indexed, full) << name << " " << json.substr(0, 300);
      ++records;
      findings += full.size();
    }
  }
  EXPECT_EQ(records, 3671u);
  std::cout << records << " records, " << findings << " findings, index and full scan agree\n";
}

// CloudTrail keeps a policy document as JSON text inside a string. The SigmaHQ rule for S3
// Browser's templated policy looks for '"arn:aws:s3:::<YOUR-BUCKET-NAME>/*"', '"s3:GetObject"' and
// '"Allow"' in requestParameters: the object's text must show the embedded document unescaped.
TEST_F(SharedDataTest, S3BrowserTemplatedPolicyMatchesThroughTheEmbeddedDocument) {
  const std::string record =
      R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/x"},)"
      R"("eventTime":"2023-05-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"PutUserPolicy",)"
      R"("userAgent":"S3 Browser 11.4.5 https://s3browser.com","requestParameters":{"userName":"x",)"
      R"("policyName":"s3browser","policyDocument":"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n)"
      R"(    \"Effect\": \"Allow\",\n    \"Action\": [\"s3:GetObject\"],\n    \"Resource\": )"
      R"([\"arn:aws:s3:::<YOUR-BUCKET-NAME>/*\"]\n  }]\n}"},"responseElements":null,"eventID":"e1"})";
  RecordParser parser;
  auto ids = rules_->Match(record, &parser);
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<std::string> files;
  for (const std::string& id : *ids) files.push_back(FileOf(id));
  EXPECT_NE(std::find(files.begin(), files.end(), "aws_iam_s3browser_templated_s3_bucket_policy_creation.yml"),
            files.end());
  // The same record with a real bucket name does not match.
  std::string named = record;
  named.replace(named.find("<YOUR-BUCKET-NAME>"), 18, "reports");
  ids = rules_->Match(named, &parser);
  ASSERT_TRUE(ids.ok());
  files.clear();
  for (const std::string& id : *ids) files.push_back(FileOf(id));
  EXPECT_EQ(std::find(files.begin(), files.end(), "aws_iam_s3browser_templated_s3_bucket_policy_creation.yml"),
            files.end());
}

// A loaded RuleSet is shared by threads, each with its own RecordParser: same findings as one thread.
TEST_F(SharedDataTest, ConcurrentMatchingAgreesWithOneThread) {
  std::vector<const std::string*> all;
  for (const auto& [name, set] : *records_) {
    for (const std::string& json : set) all.push_back(&json);
  }
  std::vector<std::vector<std::string>> expected(all.size());
  RecordParser parser;
  for (size_t i = 0; i < all.size(); ++i) expected[i] = *rules_->Match(*all[i], &parser);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RecordParser own;
      for (size_t i = 0; i < all.size(); ++i) {
        auto ids = rules_->Match(*all[(i + size_t(t) * 997) % all.size()], &own);
        if (!ids.ok() || *ids != expected[(i + size_t(t) * 997) % all.size()]) mismatches[t]++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace orgtrail::detections
