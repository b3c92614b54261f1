// orgtrailctl trail commands against the real collector's Admin service:
// create, selectors (aws-cli JSON, inline and file://), describe, status,
// logging on/off, delete, and usage errors for malformed input.
#include <fstream>

#include "agent_harness.h"

namespace orgtrail::testutil {
namespace {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class TrailsCliTest : public ::testing::Test {
 protected:
  CliResult Ctl(std::vector<std::string> args) {
    SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";
    o.args = std::move(args);
    o.args.insert(o.args.end(), {"--collector", h_.collector_address(), "--ca", h_.admin_tls().ca_cert_path,
                                 "--cert", h_.admin_tls().cert_path, "--key", h_.admin_tls().key_path});
    o.log_dir = h_.dir().path();
    o.name = "ctl-" + std::to_string(++runs_);
    auto p = Subprocess::Start(o);
    EXPECT_TRUE(p.ok()) << p.status();
    CliResult r;
    if (!p.ok()) return r;
    EXPECT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value());
    r.exit_code = (*p)->ExitCode();
    r.out = (*p)->ReadStdout();
    r.err = (*p)->ReadStderr();
    return r;
  }
  AgentHarness h_;
  int runs_ = 0;
};

TEST_F(TrailsCliTest, LifecycleOfAnOrganizationTrail) {
  h_.StartCollector();
  auto created = Ctl({"create-trail", "--name", "org-trail", "--s3-bucket-name", "audit-bucket",
                      "--is-multi-region-trail", "--is-organization-trail"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("\"Name\": \"org-trail\""), std::string::npos) << created.out;
  EXPECT_NE(created.out.find("\"IsMultiRegionTrail\": true"), std::string::npos);
  EXPECT_NE(created.out.find("\"IncludeGlobalServiceEvents\": true"), std::string::npos);
  EXPECT_NE(created.out.find("arn:aws:cloudtrail:us-east-1:"), std::string::npos);

  auto put = Ctl({"put-event-selectors", "--trail-name", "org-trail", "--advanced-event-selectors",
                  R"([{"Name":"s3 writes","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"readOnly","Equals":["false"]}]}])"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  auto get = Ctl({"get-event-selectors", "--trail-name", "org-trail"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_NE(get.out.find("\"AdvancedEventSelectors\""), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("\"Equals\": [\"AWS::S3::Object\"]"), std::string::npos) << get.out;

  const std::string file = h_.dir().Join("selectors.json");
  std::ofstream(file) << R"([{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true,"ExcludeManagementEventSources":["kms.amazonaws.com"],"DataResources":[{"Type":"AWS::Lambda::Function","Values":["arn:aws:lambda"]}]}])";
  auto basic = Ctl({"put-event-selectors", "--trail-name", "org-trail", "--event-selectors", "file://" + file});
  ASSERT_EQ(basic.exit_code, 0) << basic.err;
  EXPECT_NE(basic.out.find("\"ReadWriteType\": \"WriteOnly\""), std::string::npos) << basic.out;
  EXPECT_EQ(basic.out.find("AdvancedEventSelectors"), std::string::npos) << basic.out;

  auto status = Ctl({"get-trail-status", "--name", "org-trail"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\"IsLogging\": false"), std::string::npos) << status.out;
  ASSERT_EQ(Ctl({"start-logging", "--name", "org-trail"}).exit_code, 0);
  status = Ctl({"get-trail-status", "--name", "org-trail"});
  EXPECT_NE(status.out.find("\"IsLogging\": true"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("\"StartLoggingTime\": null"), std::string::npos) << status.out;
  ASSERT_EQ(Ctl({"stop-logging", "--name", "org-trail"}).exit_code, 0);
  status = Ctl({"get-trail-status", "--name", "org-trail"});
  EXPECT_NE(status.out.find("\"IsLogging\": false"), std::string::npos) << status.out;

  auto updated = Ctl({"update-trail", "--name", "org-trail", "--s3-key-prefix", "prefix", "--no-include-global-service-events"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_NE(updated.out.find("\"S3KeyPrefix\": \"prefix\""), std::string::npos) << updated.out;
  EXPECT_NE(updated.out.find("\"IncludeGlobalServiceEvents\": false"), std::string::npos);

  auto described = Ctl({"describe-trails"});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  EXPECT_NE(described.out.find("\"trailList\": [{"), std::string::npos) << described.out;
  auto one = Ctl({"get-trail", "--name", "org-trail"});
  EXPECT_NE(one.out.find("\"Trail\": {"), std::string::npos) << one.out;

  ASSERT_EQ(Ctl({"delete-trail", "--name", "org-trail"}).exit_code, 0);
  auto gone = Ctl({"get-trail", "--name", "org-trail"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("NOT_FOUND"), std::string::npos) << gone.err;
}

TEST_F(TrailsCliTest, MalformedInputIsAUsageErrorNamingTheFlag) {
  h_.StartCollector();
  const std::string huge = h_.dir().Join("huge.json");
  std::ofstream(huge) << std::string(5 << 20, '[');
  struct Case { std::vector<std::string> args; std::string expected; };
  const std::vector<Case> cases = {
      {{"create-trail", "--s3-bucket-name", "b"}, "--name: required"},
      {{"create-trail", "--name", "ok-name"}, "--s3-bucket-name: required"},
      {{"create-trail", "--name", "bad name!", "--s3-bucket-name", "b"}, "InvalidTrailNameException"},
      {{"create-trail", "--name", "t1", "--s3-bucket-name", "b", "--is-multi-region-trail", "--no-is-multi-region-trail"}, "exclude each other"},
      {{"put-event-selectors", "--trail-name", "t"}, "exactly one is required"},
      {{"put-event-selectors", "--trail-name", "t", "--event-selectors", "{not json"}, "--event-selectors: expected a JSON array"},
      {{"put-event-selectors", "--trail-name", "t", "--event-selectors", R"([{"ReadWriteType":"Sometimes"}])"}, "expected ReadOnly, WriteOnly or All"},
      {{"put-event-selectors", "--trail-name", "t", "--event-selectors", R"([{"Bogus":1}])"}, "unknown key 'Bogus'"},
      {{"put-event-selectors", "--trail-name", "t", "--event-selectors", R"([{"DataResources":[{"Type":"AWS::EC2::Instance","Values":["arn:aws:ec2"]}]}])"}, "InvalidEventSelectorsException"},
      {{"put-event-selectors", "--trail-name", "t", "--advanced-event-selectors", R"([{"FieldSelectors":[{"Field":"readOnly","Equals":["true"]}]}])"}, "must have an eventCategory"},
      {{"put-event-selectors", "--trail-name", "t", "--advanced-event-selectors", R"([{"FieldSelectors":[{"Field":"eventCategory","Equals":[5]}]}])"}, "expected an array of strings"},
      {{"put-event-selectors", "--trail-name", "t", "--advanced-event-selectors", "file:///nonexistent/sel.json"}, "cannot read"},
      {{"put-event-selectors", "--trail-name", "t", "--event-selectors", "file://" + huge}, "larger than 4 MiB"},
      {{"put-event-selectors", "--trail-name", "t", "--event-selectors", std::string(100000, '[')}, "expected a JSON array"},
      {{"put-insight-selectors", "--trail-name", "t"}, "--insight-selectors: required"},
      {{"put-insight-selectors", "--trail-name", "t", "--insight-selectors", "{}"}, "expected a JSON array"},
      {{"put-insight-selectors", "--trail-name", "t", "--insight-selectors", R"([{"InsightType":"ApiCallRate"}])"}, "InvalidInsightSelectorsException"},
      {{"put-insight-selectors", "--trail-name", "t", "--insight-selectors", R"([{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiCallRateInsight"}])"}, "given twice"},
      {{"put-insight-selectors", "--trail-name", "t", "--insight-selectors", R"([{"InsightType":7}])"}, "InsightType: expected a string"},
      {{"put-insight-selectors", "--trail-name", "t", "--insight-selectors", R"([{"Type":"ApiCallRateInsight"}])"}, "unknown member 'Type'"},
      {{"put-insight-selectors", "--trail-name", "t", "--insight-selectors", R"([{}])"}, "InsightType required"},
      {{"put-insight-selectors", "--trail-name", "t", "--insight-selectors", R"(["ApiCallRateInsight"])"}, "expected an object"},
      {{"put-insight-selectors", "--trail-name", "t", "--insight-selectors", "file://" + huge}, "larger than 4 MiB"},
      {{"get-insight-selectors"}, "--trail-name: required"},
  };
  for (const auto& c : cases) {
    auto r = Ctl(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.expected << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
  }
  // The collector's own refusals are exit code 1.
  auto missing = Ctl({"start-logging", "--name", "no-such-trail"});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
}

}  // namespace
}  // namespace orgtrail::testutil
