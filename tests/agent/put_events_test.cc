// Local PutEvents API over a real Unix socket: per-event results with clear
// errors, OK only after the spool write, RESOURCE_EXHAUSTED with a retry hint
// when the spool is full, loopback-only TCP.
#include "orgtrail/agent/put_events_service.h"

#include <gtest/gtest.h>

#include "agent_test_util.h"
#include "orgtrail/common/hash.h"
#include "testutil/temp_dir.h"

namespace orgtrail::agent {
namespace {

class PutEventsTest : public ::testing::Test {
 protected:
  void Start(uint64_t max_bytes = 64 << 20) {
    SpoolOptions options;
    options.path = dir_.Join("spool");
    options.max_bytes = max_bytes;
    spool_ = std::move(*Spool::Open(options));
    intake_ = std::make_unique<EventIntake>(
        IntakeOptions{testing::kAccount, testing::kRegion, UnconfiguredSelection::kAll}, &metrics_);
    service_ = std::make_unique<PutEventsService>(spool_.get(), intake_.get(), &logger_, &metrics_);
    socket_ = dir_.Join("api.sock");
    auto server = StartAgentApiServer(service_.get(), socket_, "", nullptr);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::AgentApi::NewStub(
        grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  grpc::Status Put(const std::vector<std::pair<std::string, std::string>>& events,
                   v1::PutEventsResponse* response, grpc::ClientContext* ctx = nullptr) {
    v1::PutEventsRequest request;
    for (const auto& [id, data] : events) {
      auto* e = request.add_audit_events();
      e->set_id(id);
      e->set_event_data(data);
    }
    grpc::ClientContext local;
    return stub_->PutEvents(ctx ? ctx : &local, request, response);
  }
  std::map<std::string, std::string> Failures(const v1::PutEventsResponse& r) {
    std::map<std::string, std::string> out;
    for (const auto& f : r.failed()) out[f.id()] = f.error_code() + ": " + f.error_message();
    return out;
  }

  testutil::TempDir dir_;
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<EventIntake> intake_;
  std::unique_ptr<PutEventsService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AgentApi::Stub> stub_;
  std::string socket_;
};

TEST_F(PutEventsTest, PerEventResultsWithClearErrors) {
  Start();
  const auto good = testing::Records(2, 1);
  const std::string no_id = R"({"eventTime":"2026-01-01T00:00:00Z","eventSource":"app.example.com","eventName":"Login","awsRegion":"eu-west-1","recipientAccountId":"111122223333"})";
  const std::string global_elsewhere = R"({"eventID":"g1","eventTime":"2026-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","recipientAccountId":"111122223333"})";
  v1::PutEventsResponse response;
  auto status = Put({{"ok1", good[0]},
                     {"ok2", good[1]},
                     {"noid", no_id},
                     {"global", global_elsewhere},
                     {"notime", R"({"eventID":"x","recipientAccountId":"111122223333"})"},
                     {"badtime", R"({"eventID":"y","eventTime":12,"recipientAccountId":"111122223333"})"},
                     {"notjson", "this is not json"},
                     {"array", "[1]"},
                     {"utf8", "{\"eventTime\":\"2026-01-01T00:00:00Z\",\"x\":\"\xc3\x28\"}"},
                     {"account", R"({"eventID":"z","eventTime":"2026-01-01T00:00:00Z","awsRegion":"eu-west-1","recipientAccountId":"999999999999"})"},
                     {"region", R"({"eventID":"w","eventTime":"2026-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","awsRegion":"us-west-2","recipientAccountId":"111122223333"})"},
                     {"ok1", good[0]},
                     {"", good[0]},
                     {"big", "{\"eventTime\":\"2026-01-01T00:00:00Z\",\"pad\":\"" + std::string(2 << 20, 'p') + "\"}"}},
                    &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::map<std::string, std::string> ok;
  for (const auto& s : response.successful()) ok[s.id()] = s.event_id();
  EXPECT_EQ(ok.size(), 4u);
  EXPECT_TRUE(ok.count("ok1") && ok.count("ok2") && ok.count("noid") && ok.count("global"));
  EXPECT_EQ(ok["global"], "g1");
  EXPECT_EQ(ok["noid"].size(), 36u);  // UUIDv4 assigned
  auto failed = Failures(response);
  EXPECT_EQ(failed.size(), 10u);
  EXPECT_EQ(failed["notime"], "MissingEventTime: eventTime: missing");
  EXPECT_EQ(failed["badtime"].rfind("InvalidEventTime", 0), 0u) << failed["badtime"];
  EXPECT_EQ(failed["notjson"].rfind("InvalidJson", 0), 0u) << failed["notjson"];
  EXPECT_EQ(failed["array"].rfind("InvalidJson", 0), 0u) << failed["array"];
  EXPECT_EQ(failed["utf8"].rfind("InvalidJson", 0), 0u) << failed["utf8"];
  EXPECT_NE(failed["account"].find("AccountMismatch: recipientAccountId '999999999999'"), std::string::npos) << failed["account"];
  EXPECT_EQ(failed["region"].rfind("RegionMismatch: awsRegion 'us-west-2'", 0), 0u) << failed["region"];
  EXPECT_EQ(failed["ok1"].rfind("DuplicateId", 0), 0u);
  EXPECT_EQ(failed[""].rfind("InvalidId", 0), 0u);
  EXPECT_EQ(failed["big"].rfind("EventTooLarge", 0), 0u) << failed["big"];

  // OK means durable: the accepted events are in the spool, the assigned
  // eventID is the first member of the stored bytes.
  const auto pending = spool_->ReadPending(100, 1 << 30);
  ASSERT_EQ(pending.size(), 4u);
  bool found = false;
  for (const auto& p : pending) {
    if (p.event.event_id() == ok["noid"]) {
      found = true;
      EXPECT_EQ(p.event.raw_json().rfind("{\"eventID\":\"" + ok["noid"] + "\",", 0), 0u);
    }
  }
  EXPECT_TRUE(found);
}

// The agent applies the collector's per-event rules (common/event_acceptance.h)
// before it answers "successful": a bogus region or an overlong eventID gets a
// per-event error here and its neighbours are accepted. The rules follow what
// the collector announces in its HelloAck.
TEST_F(PutEventsTest, CollectorRulesRefuseAPoisonEventAloneAndFollowTheHelloAck) {
  Start();
  const std::string bogus_global = R"({"eventID":"b1","eventTime":"2026-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"bogus","recipientAccountId":"111122223333"})";
  const std::string long_id = R"({"eventID":")" + std::string(300, 'x') +
                              R"(","eventTime":"2026-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","awsRegion":"eu-west-1","recipientAccountId":"111122223333"})";
  const std::string custom_global = R"({"eventID":"c1","eventTime":"2026-01-01T00:00:00Z","eventSource":"custom.example.com","eventName":"X","awsRegion":"us-east-1","recipientAccountId":"111122223333"})";
  const auto good = testing::Records(1, 7);
  v1::PutEventsResponse response;
  ASSERT_TRUE(Put({{"good", good[0]}, {"bogus", bogus_global}, {"long", long_id}, {"custom", custom_global}},
                  &response).ok());
  ASSERT_EQ(response.successful_size(), 1);
  EXPECT_EQ(response.successful(0).id(), "good");
  auto failed = Failures(response);
  EXPECT_EQ(failed["bogus"].rfind("InvalidRegion: awsRegion 'bogus'", 0), 0u) << failed["bogus"];
  EXPECT_EQ(failed["long"].rfind("InvalidEventId: eventID is 300 bytes", 0), 0u) << failed["long"];
  EXPECT_EQ(failed["custom"].rfind("RegionMismatch", 0), 0u) << failed["custom"];

  // The collector announces a fake region as allowed, another global service and a shorter eventID limit.
  v1::HelloAck hello_ack;
  hello_ack.add_allowed_regions("bogus");
  hello_ack.add_global_event_sources("iam.amazonaws.com");
  hello_ack.add_global_event_sources("custom.example.com");
  hello_ack.set_max_event_id_bytes(8);
  hello_ack.set_max_event_bytes(300);
  intake_->SetCollectorRules(hello_ack);
  const std::string custom_global2 = R"({"eventID":"c2","eventTime":"2026-01-01T00:00:00Z","eventSource":"custom.example.com","eventName":"X","awsRegion":"us-east-1","recipientAccountId":"111122223333"})";
  const std::string nine = R"({"eventID":"123456789","eventTime":"2026-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","awsRegion":"eu-west-1","recipientAccountId":"111122223333"})";
  v1::PutEventsResponse second;
  ASSERT_TRUE(Put({{"bogus", bogus_global}, {"custom", custom_global2}, {"nine", nine}}, &second).ok());
  std::map<std::string, std::string> ok;
  for (const auto& e : second.successful()) ok[e.id()] = e.event_id();
  EXPECT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok["bogus"], "b1");
  EXPECT_EQ(ok["custom"], "c2");
  EXPECT_EQ(Failures(second)["nine"].rfind("InvalidEventId", 0), 0u) << Failures(second)["nine"];
  // The collector's event size limit applies at the agent too.
  v1::PutEventsResponse third;
  ASSERT_TRUE(Put({{"big", good[0]}}, &third).ok());
  ASSERT_EQ(third.failed_size(), 1) << good[0].size();
  EXPECT_EQ(third.failed(0).error_code(), "EventTooLarge");
}

TEST_F(PutEventsTest, ChecksumAndRequestLimits) {
  Start();
  const auto good = testing::Records(1, 2);
  v1::PutEventsRequest request;
  auto* e = request.add_audit_events();
  e->set_id("a");
  e->set_event_data(good[0]);
  e->set_event_data_checksum(HexEncode(Sha256(good[0])));
  auto* bad = request.add_audit_events();
  bad->set_id("b");
  bad->set_event_data(good[0]);
  bad->set_event_data_checksum(std::string(64, '0'));
  v1::PutEventsResponse response;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->PutEvents(&ctx, request, &response).ok());
  ASSERT_EQ(response.successful_size(), 1);
  ASSERT_EQ(response.failed_size(), 1);
  EXPECT_EQ(response.failed(0).error_code(), "ChecksumMismatch");

  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 101; ++i) many.emplace_back(std::to_string(i), good[0]);
  v1::PutEventsResponse r2;
  auto status = Put(many, &r2);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("at most 100"), std::string::npos);
  v1::PutEventsResponse r3;
  EXPECT_EQ(Put({}, &r3).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PutEventsTest, FullSpoolIsResourceExhaustedWithRetryHintAndKeepsNothing) {
  Start(/*max_bytes=*/8 * 1024);
  const auto records = testing::Records(40, 3);
  int accepted = 0;
  grpc::Status last;
  std::multimap<grpc::string_ref, grpc::string_ref> trailers;
  for (int i = 0; i < 40; ++i) {
    v1::PutEventsResponse response;
    grpc::ClientContext ctx;
    last = Put({{"e" + std::to_string(i), records[i]}}, &response, &ctx);
    if (!last.ok()) {
      auto it = ctx.GetServerTrailingMetadata().find("retry-after-ms");
      ASSERT_NE(it, ctx.GetServerTrailingMetadata().end());
      EXPECT_EQ(std::string(it->second.data(), it->second.size()), "1000");
      EXPECT_EQ(response.successful_size(), 0);
      break;
    }
    ++accepted;
  }
  EXPECT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(last.error_message().find("retry after"), std::string::npos);
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(spool_->Stats().pending_events, static_cast<uint64_t>(accepted));
}

TEST_F(PutEventsTest, TrailSelectionAppliesAndNotSelectedIsReported) {
  Start();
  v1::TrailConfig config;
  config.set_version(2);
  auto* trail = config.add_trails();
  trail->set_name("writes");
  trail->set_is_logging(true);
  trail->set_is_multi_region_trail(true);
  trail->add_event_selectors()->set_read_write_type(v1::WRITE_ONLY);
  intake_->SetTrailConfig(config);
  const std::string read = R"({"eventID":"r1","eventTime":"2026-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeVpcs","readOnly":true,"awsRegion":"eu-west-1","recipientAccountId":"111122223333"})";
  const std::string write = R"({"eventID":"w1","eventTime":"2026-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","readOnly":false,"awsRegion":"eu-west-1","recipientAccountId":"111122223333"})";
  v1::PutEventsResponse response;
  ASSERT_TRUE(Put({{"r", read}, {"w", write}}, &response).ok());
  ASSERT_EQ(response.successful_size(), 1);
  EXPECT_EQ(response.successful(0).event_id(), "w1");
  ASSERT_EQ(response.failed_size(), 1);
  EXPECT_EQ(response.failed(0).error_code(), "NotSelected");
}

TEST(AgentApiServerTest, TcpOnlyOnLoopback) {
  testutil::TempDir dir;
  SpoolOptions options;
  options.path = dir.Join("spool");
  auto spool = Spool::Open(options);
  MetricsRegistry metrics;
  Logger logger("test", 2, LogLevel::kError);
  EventIntake intake(IntakeOptions{testing::kAccount, testing::kRegion, UnconfiguredSelection::kAll}, &metrics);
  PutEventsService service(spool->get(), &intake, &logger, &metrics);
  auto refused = StartAgentApiServer(&service, "", "0.0.0.0:0", nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_FALSE(StartAgentApiServer(&service, "", "not-an-address", nullptr).ok());
  int port = 0;
  auto ok = StartAgentApiServer(&service, "", "127.0.0.1:0", &port);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_GT(port, 0);
  (*ok)->Shutdown();
}

}  // namespace
}  // namespace orgtrail::agent
