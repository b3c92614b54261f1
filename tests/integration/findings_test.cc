// Sigma detections on arrival, end to end: the real collector runs the 57 SigmaHQ CloudTrail rules
// (--sigma-rules ../shared/data/sigma-cloudtrail/rules) on every event an agent stream stores;
// `orgtrailctl findings` lists each finding once (also after a collector restart), with the rule's
// DRL fields and the event, which verify-event then proves; agents may not list findings; a rule
// folder with a rule the engine cannot run stops the collector with the file and the reason.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "orgtrail/common/tls.h"
#include "orgtrail/v1/findings.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

constexpr char kAccount[] = "111111111111";
constexpr char kDisableLoggingRule[] = "4db60cc0-36fb-42b7-9b58-a5b53019fb74";

class FindingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = std::make_unique<testutil::TestPki>(dir_.Join("pki"));
    std::filesystem::create_directories(dir_.Join("logs"));
    auditor_ = pki_->Auditor("alice");
    agent_ = pki_->Agent(kAccount, "us-east-1", "a1");
  }
  std::unique_ptr<testutil::CollectorProcess> StartCollector(const std::vector<std::string>& more_rule_folders = {}) {
    testutil::CollectorProcessOptions o;
    o.data_dir = dir_.Join("data");
    o.log_dir = dir_.Join("logs");
    o.tls = pki_->Collector("central");
    o.name = "collector-" + std::to_string(starts_++);
    o.extra_args = {"--sigma-rules", std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules",
                    "--export-interval", "300ms", "--export-bucket", "findings-bucket", "--export-org-id",
                    "o-findings0001"};
    for (const std::string& folder : more_rule_folders) {
      o.extra_args.push_back("--sigma-rules");
      o.extra_args.push_back(folder);
    }
    auto c = testutil::CollectorProcess::Start(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }
  void Send(testutil::CollectorProcess* c, const std::vector<std::pair<std::string, std::string>>& events) {
    auto client = testutil::IngestClient::Connect(c->target(), agent_,
                                                  testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE((*client)->Hello().ok());
    std::vector<std::string> raws;
    for (const auto& [id, name] : events) {
      testutil::SyntheticEvent spec;
      spec.event_id = id;
      spec.account_id = kAccount;
      spec.event_source = name == "DescribeInstances" ? "ec2.amazonaws.com" : "cloudtrail.amazonaws.com";
      spec.event_name = name;
      raws.push_back(testutil::SyntheticEventJson(spec));
    }
    ASSERT_TRUE((*client)->SendEvents(raws).ok());
  }
  testutil::CtlResult Ctl(testutil::CollectorProcess* c, std::vector<std::string> args, const TlsFiles& tls) {
    return testutil::RunOrgtrailctl(std::move(args), c->target(), tls, dir_.Join("logs"),
                                    "ctl-" + std::to_string(runs_++));
  }
  // orgtrailctl's JSON lines as (eventID, ruleId); each line must be JSON.
  std::set<std::pair<std::string, std::string>> Pairs(const std::string& json_lines) {
    std::set<std::pair<std::string, std::string>> out;
    simdjson::dom::parser parser;
    std::istringstream lines(json_lines);
    for (std::string line; std::getline(lines, line);) {
      simdjson::dom::element e;
      if (parser.parse(line).get(e) != simdjson::SUCCESS) {
        ADD_FAILURE() << "not JSON: " << line;
        continue;
      }
      out.insert({std::string(e["eventID"].get_string().value()), std::string(e["ruleId"].get_string().value())});
    }
    return out;
  }
  // Findings as (eventID, ruleId) after waiting until `want` are listed.
  std::vector<std::pair<std::string, std::string>> Findings(testutil::CollectorProcess* c, size_t want,
                                                           std::string* raw = nullptr) {
    std::vector<std::pair<std::string, std::string>> out;
    for (int attempt = 0; attempt < 100; ++attempt) {
      testutil::CtlResult r = Ctl(c, {"findings"}, auditor_);
      EXPECT_EQ(r.exit_code, 0) << r.err;
      out.clear();
      simdjson::dom::parser parser;
      std::istringstream lines(r.out);
      for (std::string line; std::getline(lines, line);) {
        simdjson::dom::element e;
        if (parser.parse(line).get(e) != simdjson::SUCCESS) {
          ADD_FAILURE() << "not JSON: " << line;
          continue;
        }
        out.emplace_back(std::string(e["eventID"].get_string().value()), std::string(e["ruleId"].get_string().value()));
      }
      if (raw != nullptr) *raw = r.out;
      if (out.size() >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return out;
  }

  testutil::TempDir dir_{"findings"};
  std::unique_ptr<testutil::TestPki> pki_;
  TlsFiles auditor_, agent_;
  int starts_ = 0, runs_ = 0;
};

TEST_F(FindingsTest, StoredEventsAreMatchedOnceAndEachFindingIsProvable) {
  auto c = StartCollector();
  ASSERT_NE(c, nullptr);
  Send(c.get(), {{"benign-1", "DescribeInstances"}, {"stop-1", "StopLogging"}, {"delete-1", "DeleteTrail"}});
  std::string raw;
  auto findings = Findings(c.get(), 2, &raw);
  ASSERT_EQ(findings.size(), 2u) << raw;
  EXPECT_EQ(findings[0], std::make_pair(std::string("stop-1"), std::string(kDisableLoggingRule)));
  EXPECT_EQ(findings[1], std::make_pair(std::string("delete-1"), std::string(kDisableLoggingRule)));
  EXPECT_NE(raw.find("\"title\":\"AWS CloudTrail Important Change\""), std::string::npos) << raw;
  EXPECT_NE(raw.find("\"level\":\"medium\""), std::string::npos) << raw;
  EXPECT_NE(raw.find("\"author\":\"vitaliy0x1\""), std::string::npos) << raw;
  EXPECT_NE(raw.find("\"accountId\":\"111111111111\""), std::string::npos) << raw;
  EXPECT_NE(raw.find("aws_cloudtrail_disable_logging.yml"), std::string::npos) << raw;
  // The matched event is proven like any other.
  testutil::CtlResult verified = Ctl(c.get(), {"verify-event", "stop-1"}, auditor_);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // --max-items stops between events and says where to continue; --after continues there.
  testutil::CtlResult first = Ctl(c.get(), {"findings", "--max-items", "1"}, auditor_);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("\"eventID\":\"stop-1\""), std::string::npos) << first.out;
  EXPECT_EQ(first.out.find("delete-1"), std::string::npos) << first.out;
  const size_t at = first.err.find("continue with --after ");
  ASSERT_NE(at, std::string::npos) << first.err;
  const std::string after = first.err.substr(at + 22, first.err.find_first_not_of("0123456789", at + 22) - at - 22);
  testutil::CtlResult rest = Ctl(c.get(), {"findings", "--after", after}, auditor_);
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(rest.out.find("stop-1"), std::string::npos) << rest.out;
  EXPECT_NE(rest.out.find("\"eventID\":\"delete-1\""), std::string::npos) << rest.out;
  // Filters.
  testutil::CtlResult high = Ctl(c.get(), {"findings", "--min-level", "high"}, auditor_);
  EXPECT_EQ(high.exit_code, 0);
  EXPECT_EQ(high.out, "");
  // Agents may not read findings; bad flags are usage errors.
  EXPECT_EQ(Ctl(c.get(), {"findings"}, agent_).exit_code, 1);
  EXPECT_EQ(Ctl(c.get(), {"findings", "--min-level", "severe"}, auditor_).exit_code, 2);

  // A retro-hunt with the same rules over the stored history finds the same (event, rule) pairs.
  testutil::CtlResult hunt =
      Ctl(c.get(), {"hunt", "--rules", std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules"}, auditor_);
  ASSERT_EQ(hunt.exit_code, 0) << hunt.err;
  const std::set<std::pair<std::string, std::string>> hunted = Pairs(hunt.out);
  const std::set<std::pair<std::string, std::string>> streamed(findings.begin(), findings.end());
  EXPECT_EQ(hunted, streamed) << hunt.out;
  EXPECT_NE(hunt.err.find(" events scanned, reached "), std::string::npos) << hunt.err;
  testutil::CtlResult other_account = Ctl(
      c.get(), {"hunt", "--rules", std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules", "--accounts",
                "222222222222"},
      auditor_);
  EXPECT_EQ(other_account.exit_code, 0) << other_account.err;
  EXPECT_EQ(other_account.out, "");
  EXPECT_EQ(Ctl(c.get(), {"hunt", "--rules", dir_.Join("no-such-folder")}, auditor_).exit_code, 2);
  EXPECT_EQ(Ctl(c.get(), {"hunt", "--rules", std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules"}, agent_)
                .exit_code,
            1);

  // A restart neither repeats nor loses a finding.
  c->process()->Stop();
  c = StartCollector();
  ASSERT_NE(c, nullptr);
  Send(c.get(), {{"stop-2", "StopLogging"}});
  findings = Findings(c.get(), 3, &raw);
  ASSERT_EQ(findings.size(), 3u) << raw;
  EXPECT_EQ(findings[2].first, "stop-2");

  // The same rules over the exported CloudTrail files (on this machine) find the same pairs.
  const std::set<std::pair<std::string, std::string>> all(findings.begin(), findings.end());
  std::set<std::pair<std::string, std::string>> archived;
  testutil::CtlResult archive;
  for (int attempt = 0; attempt < 300 && archived != all; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    archive = Ctl(c.get(), {"hunt", "--rules", std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules",
                            "--export-root", dir_.Join("data/export")},
                  auditor_);
    ASSERT_EQ(archive.exit_code, 0) << archive.err;
    archived = Pairs(archive.out);
  }
  EXPECT_EQ(archived, all) << archive.out << archive.err;
  EXPECT_NE(archive.err.find(" file(s), "), std::string::npos) << archive.err;
}

TEST_F(FindingsTest, ARuleTheEngineCannotRunStopsTheCollectorWithItsName) {
  std::filesystem::create_directories(dir_.Join("rules"));
  std::ofstream(dir_.Join("rules/unknown_modifier.yml"))
      << "title: x\nid: 55555555-5555-4555-8555-555555555555\nlogsource: {product: aws}\n"
         "detection:\n  sel:\n    eventName|nosuchmodifier: x\n  condition: sel\n";
  testutil::SubprocessOptions o;
  o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/collector/orgtrail-collector";
  const TlsFiles tls = pki_->Collector("central");
  o.args = {"--data-dir", dir_.Join("data2"), "--ca", tls.ca_cert_path, "--cert", tls.cert_path, "--key", tls.key_path,
            "--trust-domain", "example.org", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
            "--sigma-rules", dir_.Join("rules")};
  o.log_dir = dir_.Join("logs");
  o.name = "collector-bad-rules";
  auto p = testutil::Subprocess::Start(o);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value());
  EXPECT_EQ((*p)->ExitCode(), 2);
  const std::string err = (*p)->ReadStderr();
  EXPECT_NE(err.find("unknown_modifier.yml"), std::string::npos) << err;
  EXPECT_NE(err.find("nosuchmodifier"), std::string::npos) << err;
}

TEST_F(FindingsTest, HostileFindingsAndHuntRequestsGetClearErrors) {
  auto c = StartCollector();
  ASSERT_NE(c, nullptr);
  auto creds = MakeChannelCredentials(auditor_);
  ASSERT_TRUE(creds.ok());
  auto stub = v1::Findings::NewStub(grpc::CreateChannel(c->target(), *creds));
  auto list = [&](const v1::ListFindingsRequest& request) {
    grpc::ClientContext ctx;
    v1::ListFindingsResponse response;
    return stub->ListFindings(&ctx, request, &response);
  };
  v1::ListFindingsRequest bad;
  bad.set_max_results(-1);
  EXPECT_EQ(list(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad.set_max_results(5000);
  EXPECT_EQ(list(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = v1::ListFindingsRequest();
  bad.set_min_level("severe");
  EXPECT_EQ(list(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = v1::ListFindingsRequest();
  bad.set_rule_id(std::string(300, 'r'));
  EXPECT_EQ(list(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = v1::ListFindingsRequest();
  bad.set_after_commit_index(UINT64_MAX);
  EXPECT_TRUE(list(bad).ok()) << "past the end is an empty page";

  auto hunt = [&](const v1::HuntRequest& request) {
    grpc::ClientContext ctx;
    auto reader = stub->Hunt(&ctx, request);
    v1::HuntResponse response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  };
  v1::HuntRequest none;
  EXPECT_EQ(hunt(none).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "no rules";
  v1::HuntRequest too_many;
  for (int i = 0; i < 1001; ++i) too_many.add_rules()->set_yaml("title: x");
  grpc::Status many = hunt(too_many);
  EXPECT_EQ(many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(many.error_message().find("more than 1000"), std::string::npos) << many.error_message();
  v1::HuntRequest binary;
  static constexpr char kBinary[] = "\x00\xff\xfe{[}]: &a *a";
  binary.add_rules()->set_yaml(std::string(kBinary, sizeof(kBinary) - 1));
  grpc::Status garbage = hunt(binary);
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(garbage.error_message().find("cannot run"), std::string::npos) << garbage.error_message();
  v1::HuntRequest backwards;
  std::ifstream rule(std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules/aws_cloudtrail_disable_logging.yml");
  std::stringstream text;
  text << rule.rdbuf();
  backwards.add_rules()->set_yaml(text.str());
  backwards.set_start_time_us(2000);
  backwards.set_end_time_us(1000);
  EXPECT_EQ(hunt(backwards).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The collector still serves.
  EXPECT_TRUE(list(v1::ListFindingsRequest()).ok());
}

// A Sigma correlation beside the SigmaHQ rules: three StopLogging by one user within ten minutes.
// `generate: true` keeps the SigmaHQ rule reporting alone too.
constexpr char kRepeatedStopLogging[] = R"(title: Logging stopped three times by one user
id: 77777777-7777-4777-8777-777777777777
level: high
generate: true
correlation:
  type: event_count
  rules:
    - 4db60cc0-36fb-42b7-9b58-a5b53019fb74
  group-by:
    - userIdentity.userName
  timespan: 10m
  condition:
    gte: 3
)";

TEST_F(FindingsTest, ACorrelationCompletesAcrossARestartAndEveryHuntAgrees) {
  std::filesystem::create_directories(dir_.Join("correlations"));
  std::ofstream(dir_.Join("correlations/repeated_stop_logging.yml")) << kRepeatedStopLogging;
  auto c = StartCollector({dir_.Join("correlations")});
  ASSERT_NE(c, nullptr);
  Send(c.get(), {{"stop-a", "StopLogging"}, {"stop-b", "StopLogging"}});
  std::string raw;
  ASSERT_EQ(Findings(c.get(), 2, &raw).size(), 2u) << raw;  // the SigmaHQ rule's, not yet the correlation's
  c->process()->Stop();
  c = StartCollector({dir_.Join("correlations")});
  ASSERT_NE(c, nullptr);
  Send(c.get(), {{"stop-c", "StopLogging"}});
  auto findings = Findings(c.get(), 4, &raw);
  ASSERT_EQ(findings.size(), 4u) << raw;
  EXPECT_EQ(findings[3], std::make_pair(std::string("stop-c"), std::string("77777777-7777-4777-8777-777777777777")));
  const std::string last = raw.substr(raw.rfind("{\"commitIndex\""));
  EXPECT_NE(last.find("\"correlationType\":\"event_count\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"group\":{\"userIdentity.userName\":\"alice\"}"), std::string::npos) << last;
  EXPECT_NE(last.find("\"correlatedEventsTotal\":3"), std::string::npos) << last;
  EXPECT_NE(last.find("\"eventID\":\"stop-a\""), std::string::npos) << last;
  EXPECT_NE(last.find("repeated_stop_logging.yml"), std::string::npos) << last;
  const std::set<std::pair<std::string, std::string>> streamed(findings.begin(), findings.end());

  // The same rules as a retro-hunt over the store, then over the exported files.
  const std::vector<std::string> rules = {"hunt", "--rules", std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules",
                                          "--rules", dir_.Join("correlations")};
  testutil::CtlResult hunt = Ctl(c.get(), rules, auditor_);
  ASSERT_EQ(hunt.exit_code, 0) << hunt.err;
  EXPECT_EQ(Pairs(hunt.out), streamed) << hunt.out;
  std::vector<std::string> archive_args = rules;
  archive_args.insert(archive_args.end(), {"--export-root", dir_.Join("data/export")});
  testutil::CtlResult archive;
  for (int attempt = 0; attempt < 300; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    archive = Ctl(c.get(), archive_args, auditor_);
    ASSERT_EQ(archive.exit_code, 0) << archive.err;
    if (Pairs(archive.out) == streamed) break;
  }
  EXPECT_EQ(Pairs(archive.out), streamed) << archive.out << archive.err;
  EXPECT_NE(archive.err.find("1 correlation(s)"), std::string::npos) << archive.err;
}

}  // namespace
}  // namespace orgtrail
