// The audit of the auditors, end to end with the real collector and orgtrailctl on loopback:
// every call to the query, investigation and admin services, allowed or refused, whoever makes
// it, is itself an event the security team can look up (eventSource orgtrail), with the caller's
// SPIFFE ID, the request and the error; it is stored before the call is answered, verify-event
// traces it to the collector's certificate, and an agent cannot forge one.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "orgtrail/common/tls.h"
#include "orgtrail/v1/admin.grpc.pb.h"
#include "orgtrail/v1/query.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

constexpr char kAccount[] = "111111111111";
constexpr char kManagementAccount[] = "999999999999";

// One self-audit record as read back through LookupEvents.
struct AuditRecord {
  std::string event_id, event_name, identity_type, arn, error_code, source_ip, request;
  bool read_only = false;
};

class SelfAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = std::make_unique<testutil::TestPki>(dir_.Join("pki"));
    std::filesystem::create_directories(dir_.Join("logs"));
    testutil::CollectorProcessOptions o;
    o.data_dir = dir_.Join("data");
    o.log_dir = dir_.Join("logs");
    o.tls = pki_->Collector("central");
    o.extra_args = {"--management-account-id", kManagementAccount, "--home-region", "eu-west-1"};
    auto collector = testutil::CollectorProcess::Start(o);
    ASSERT_TRUE(collector.ok()) << collector.status();
    collector_ = std::move(*collector);
    alice_ = pki_->Auditor("alice");
    root_ = pki_->Admin("root");
    agent_ = pki_->Agent(kAccount, "us-east-1", "a1");
  }

  testutil::CtlResult Ctl(std::vector<std::string> args, const TlsFiles& tls) {
    return testutil::RunOrgtrailctl(std::move(args), collector_->target(), tls, dir_.Join("logs"),
                                    "ctl-" + std::to_string(runs_++));
  }

  // Every self-audit record.
  std::vector<AuditRecord> SelfAuditRecords() {
    testutil::CtlResult r = Ctl({"lookup-events", "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=orgtrail",
                                 "--max-results", "1000"},
                                alice_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<AuditRecord> out;
    simdjson::dom::parser outer, inner;
    simdjson::dom::element doc;
    if (outer.parse(r.out).get(doc) != simdjson::SUCCESS) return out;
    for (simdjson::dom::element e : doc["Events"].get_array()) {
      std::string_view text = e["CloudTrailEvent"].get_string().value();
      simdjson::dom::element rec = inner.parse(std::string(text));
      AuditRecord a;
      a.event_id = std::string(rec["eventID"].get_string().value());
      a.event_name = std::string(rec["eventName"].get_string().value());
      a.identity_type = std::string(rec["userIdentity"]["type"].get_string().value());
      std::string_view arn;
      if (rec["userIdentity"]["arn"].get(arn) == simdjson::SUCCESS) a.arn = std::string(arn);
      std::string_view code;
      if (rec["errorCode"].get(code) == simdjson::SUCCESS) a.error_code = std::string(code);
      a.source_ip = std::string(rec["sourceIPAddress"].get_string().value());
      a.request = simdjson::minify(rec["requestParameters"]);
      a.read_only = rec["readOnly"].get_bool().value();
      EXPECT_EQ(std::string(rec["recipientAccountId"].get_string().value()), kManagementAccount);
      EXPECT_EQ(std::string(rec["awsRegion"].get_string().value()), "eu-west-1");
      out.push_back(std::move(a));
    }
    return out;
  }

  testutil::TempDir dir_{"self-audit"};
  std::unique_ptr<testutil::TestPki> pki_;
  std::unique_ptr<testutil::CollectorProcess> collector_;
  TlsFiles alice_, root_, agent_;
  int runs_ = 0;
};

TEST_F(SelfAuditTest, EveryCallAllowedOrRefusedIsAQueryableEvent) {
  // Some agent events to look at.
  auto client = testutil::IngestClient::Connect(collector_->target(), agent_,
                                                testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Hello().ok());
  testutil::SyntheticEvent spec;
  spec.event_id = "agent-event-1";
  spec.account_id = kAccount;
  ASSERT_TRUE((*client)->SendEvents({testutil::SyntheticEventJson(spec)}).ok());

  // The calls: allowed and refused, through the CLI and through stubs.
  EXPECT_EQ(Ctl({"lookup-events", "--max-results", "5"}, alice_).exit_code, 0);
  EXPECT_EQ(Ctl({"query", "SELECT COUNT(*) AS n FROM events"}, alice_).exit_code, 0);
  EXPECT_NE(Ctl({"lookup-events"}, agent_).exit_code, 0) << "agents may not query";
  EXPECT_EQ(Ctl({"status"}, root_).exit_code, 0);
  {
    auto creds = MakeChannelCredentials(alice_);
    ASSERT_TRUE(creds.ok());
    auto admin = v1::Admin::NewStub(grpc::CreateChannel(collector_->target(), *creds));
    grpc::ClientContext ctx;
    v1::CreateTrailRequest request;
    request.mutable_trail()->set_name("shadow-trail");
    v1::TrailResponse response;
    EXPECT_EQ(admin->CreateTrail(&ctx, request, &response).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    // A subscription is recorded when it is accepted: before its first message arrives.
    auto creds = MakeChannelCredentials(alice_);
    ASSERT_TRUE(creds.ok());
    auto investigations = v1::Investigations::NewStub(grpc::CreateChannel(collector_->target(), *creds));
    grpc::ClientContext ctx;
    v1::SubscribeRequest request;
    request.set_filter_pattern("{ $.eventName = \"DeleteBucket\" }");
    auto reader = investigations->Subscribe(&ctx, request);
    v1::SubscribeResponse first;
    ASSERT_TRUE(reader->Read(&first));
    const std::vector<AuditRecord> so_far = SelfAuditRecords();
    auto subscribe = std::find_if(so_far.begin(), so_far.end(),
                                  [](const AuditRecord& r) { return r.event_name == "Subscribe"; });
    ASSERT_NE(subscribe, so_far.end()) << "the open subscription is already on record";
    EXPECT_NE(subscribe->request.find("DeleteBucket"), std::string::npos) << subscribe->request;
    ctx.TryCancel();
    reader->Finish();
  }

  std::vector<AuditRecord> records = SelfAuditRecords();
  std::map<std::string, std::vector<AuditRecord>> by_name;
  for (const AuditRecord& r : records) by_name[r.event_name].push_back(r);
  // lookup-events by alice (ok), by the agent (refused), and this test's own lookups (eventTime
  // has CloudTrail's one-second precision, so records are told apart by content, not order).
  ASSERT_GE(by_name["LookupEvents"].size(), 3u);
  const auto lookup = [&](const std::string& arn, const std::string& request_part) -> const AuditRecord* {
    for (const AuditRecord& r : by_name["LookupEvents"]) {
      if (r.arn == arn && r.request.find(request_part) != std::string::npos) return &r;
    }
    return nullptr;
  };
  const AuditRecord* by_alice = lookup("spiffe://example.org/auditor/alice", "\"maxResults\":5");
  ASSERT_NE(by_alice, nullptr);
  EXPECT_EQ(by_alice->identity_type, "OrgtrailAuditor");
  EXPECT_EQ(by_alice->error_code, "");
  const AuditRecord* by_agent = lookup("spiffe://example.org/account/111111111111/region/us-east-1/agent/a1", "");
  ASSERT_NE(by_agent, nullptr);
  EXPECT_EQ(by_agent->identity_type, "OrgtrailAgent");
  EXPECT_EQ(by_agent->error_code, "AccessDenied");
  ASSERT_EQ(by_name["Sql"].size(), 1u);
  EXPECT_NE(by_name["Sql"][0].request.find("SELECT COUNT(*) AS n FROM events"), std::string::npos);
  EXPECT_TRUE(by_name["Sql"][0].read_only);
  ASSERT_EQ(by_name["GetStatus"].size(), 1u);
  EXPECT_EQ(by_name["GetStatus"][0].arn, "spiffe://example.org/admin/root");
  ASSERT_EQ(by_name["CreateTrail"].size(), 1u);
  EXPECT_EQ(by_name["CreateTrail"][0].error_code, "AccessDenied");
  EXPECT_FALSE(by_name["CreateTrail"][0].read_only);
  EXPECT_NE(by_name["CreateTrail"][0].request.find("shadow-trail"), std::string::npos);
  ASSERT_EQ(by_name["Subscribe"].size(), 1u);
  for (const AuditRecord& r : records) EXPECT_EQ(r.source_ip, "127.0.0.1") << r.event_name;

  // A self-audit record is proven like an agent's event: signed by the collector's certificate.
  testutil::CtlResult verified = Ctl({"verify-event", by_name["Sql"][0].event_id}, alice_);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("spiffe://example.org/collector/central is the collector"), std::string::npos)
      << verified.out;
}

TEST_F(SelfAuditTest, AnAgentCannotForgeASelfAuditRecord) {
  auto client = testutil::IngestClient::Connect(collector_->target(), agent_,
                                                testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Hello().ok());
  testutil::SyntheticEvent forged;
  forged.event_id = "forged-audit";
  forged.account_id = kAccount;
  forged.event_source = "orgtrail";
  forged.event_name = "LookupEvents";
  testutil::SyntheticEvent honest;
  honest.event_id = "honest";
  honest.account_id = kAccount;
  auto ack = (*client)->SendEvents({testutil::SyntheticEventJson(forged), testutil::SyntheticEventJson(honest)});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->events_stored(), 1u);
  ASSERT_EQ(ack->refused_size(), 1);
  EXPECT_EQ(ack->refused(0).rule(), "reserved_event_source");
  for (const AuditRecord& r : SelfAuditRecords()) EXPECT_NE(r.event_id, "forged-audit");
}


// Not answered unless recorded: once the store cannot take the record (a failed fsync puts the
// collector in fail-stop), a query is answered UNAVAILABLE instead of with its results.
TEST(SelfAuditFailStopTest, QueryIsRefusedWhenItsRecordCannotBeStored) {
  testutil::TempDir dir("self-audit-failstop");
  testutil::TestPki pki(dir.Join("pki"));
  std::filesystem::create_directories(dir.Join("logs"));
  testutil::CollectorProcessOptions o;
  o.data_dir = dir.Join("data");
  o.log_dir = dir.Join("logs");
  o.tls = pki.Collector("central");
  o.extra_args = {"--test-fail-sync-after=3", "--export-interval", "1h"};
  auto collector = testutil::CollectorProcess::Start(o);
  ASSERT_TRUE(collector.ok()) << collector.status();
  auto creds = MakeChannelCredentials(pki.Auditor("alice"));
  ASSERT_TRUE(creds.ok());
  auto query = v1::Query::NewStub(grpc::CreateChannel((*collector)->target(), *creds));
  int answered = 0;
  grpc::Status refused;
  for (int i = 0; i < 20 && refused.ok(); ++i) {
    grpc::ClientContext ctx;
    v1::LookupEventsRequest request;
    v1::LookupEventsResponse response;
    refused = query->LookupEvents(&ctx, request, &response);
    if (refused.ok()) ++answered;
  }
  ASSERT_FALSE(refused.ok()) << "the injected fsync failure never hit a self-audit record";
  EXPECT_LE(answered, 3);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(refused.error_message().find("could not be recorded in the collector's self-audit"), std::string::npos)
      << refused.error_message();
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    v1::LookupEventsResponse response;
    EXPECT_EQ(query->LookupEvents(&ctx, v1::LookupEventsRequest(), &response).error_code(),
              grpc::StatusCode::UNAVAILABLE)
        << "fail-stop is final: no query is answered unrecorded";
  }
}

}  // namespace
}  // namespace orgtrail
