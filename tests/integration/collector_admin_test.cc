// orgtrail.v1.Admin on the real collector: trail changes are validated,
// versioned, pushed to every open ingest stream and survive a restart; only
// admins may call it and account admins cannot change organization trails;
// `orgtrailctl status` reports health and agents.
#include <gtest/gtest.h>

#include "orgtrail/v1/admin.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using testutil::CollectorProcess;
using testutil::IngestClient;

constexpr char kAccount[] = "111111111111";

class CollectorAdminTest : public ::testing::Test {
 protected:
  CollectorAdminTest() : pki_(dir_.MakeSubdir("pki")) {}
  std::unique_ptr<CollectorProcess> Start() {
    testutil::CollectorProcessOptions options;
    options.data_dir = dir_.Join("data");
    options.log_dir = dir_.MakeSubdir("logs");
    options.tls = collector_tls_;
    options.name = "collector-" + std::to_string(++starts_);
    auto collector = CollectorProcess::Start(options);
    EXPECT_TRUE(collector.ok()) << collector.status();
    return collector.ok() ? std::move(*collector) : nullptr;
  }
  static grpc::Status CreateTrail(v1::Admin::Stub* stub, const std::string& name, bool org, v1::Trail* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::CreateTrailRequest request;
    request.mutable_trail()->set_name(name);
    request.mutable_trail()->set_is_organization_trail(org);
    request.mutable_trail()->set_is_multi_region_trail(true);
    request.mutable_trail()->set_include_global_service_events(true);
    request.mutable_trail()->set_s3_bucket_name("org-bucket");
    v1::TrailResponse response;
    grpc::Status s = stub->CreateTrail(&context, request, &response);
    if (out) *out = response.trail();
    return s;
  }
  static grpc::Status Logging(v1::Admin::Stub* stub, const std::string& name, bool start) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::TrailNameRequest request;
    request.set_name(name);
    v1::LoggingResponse response;
    return start ? stub->StartLogging(&context, request, &response) : stub->StopLogging(&context, request, &response);
  }
  // Reads responses until a TrailConfig with version >= v arrives.
  static std::optional<v1::TrailConfig> WaitConfig(IngestClient* client, uint64_t version) {
    for (const auto& c : client->trail_configs()) {
      if (c.version() >= version) return c;
    }
    v1::IngestResponse response;
    while (client->Read(&response)) {
      if (response.has_trail_config() && response.trail_config().version() >= version) return response.trail_config();
    }
    return std::nullopt;
  }

  testutil::TempDir dir_{"collector-admin"};
  testutil::TestPki pki_;
  TlsFiles collector_tls_ = pki_.Collector();
  int starts_ = 0;
};

TEST_F(CollectorAdminTest, TrailChangesArePushedToOpenStreamsAndSurviveRestart) {
  auto collector = Start();
  ASSERT_NE(collector, nullptr);
  TlsFiles agent_tls = pki_.Agent(kAccount, "us-east-1", "cfg");
  const std::string agent_id = testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "cfg");
  auto agent = IngestClient::Connect(collector->target(), agent_tls, agent_id);
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->Hello().ok());

  auto admin = collector->AdminStub(pki_.Admin());
  ASSERT_TRUE(admin.ok());
  v1::Trail trail;
  grpc::Status s = CreateTrail(admin->get(), "org-trail", true, &trail);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(trail.trail_arn(), "arn:aws:cloudtrail:us-east-1:000000000000:trail/org-trail");
  ASSERT_TRUE(Logging(admin->get(), "org-trail", true).ok());

  auto pushed = WaitConfig(agent->get(), 2);
  ASSERT_TRUE(pushed.has_value());
  EXPECT_EQ(pushed->version(), 2u);
  ASSERT_EQ(pushed->trails_size(), 1);
  EXPECT_TRUE(pushed->trails(0).is_logging());
  EXPECT_EQ(pushed->home_region(), "us-east-1");

  // Bad names are refused with CloudTrail's exception names; nothing is pushed.
  s = CreateTrail(admin->get(), "1.2.3.4", true, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("InvalidTrailNameException"), std::string::npos) << s.error_message();
  s = CreateTrail(admin->get(), "org-trail", true, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);

  // Account admins and auditors may not change the organization trail.
  auto account_admin = collector->AdminStub(pki_.AccountAdmin(kAccount));
  ASSERT_TRUE(account_admin.ok());
  EXPECT_EQ(Logging(account_admin->get(), "org-trail", false).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CreateTrail(account_admin->get(), "sneaky-org", true, nullptr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto auditor = collector->AdminStub(pki_.Auditor());
  ASSERT_TRUE(auditor.ok());
  EXPECT_EQ(Logging(auditor->get(), "org-trail", false).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  (*agent)->Finish();

  // Restart: the trail and the version are durable; a new agent gets them on hello.
  collector->process()->Stop();
  collector = Start();
  ASSERT_NE(collector, nullptr);
  auto again = IngestClient::Connect(collector->target(), agent_tls, agent_id);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Hello(/*trail_config_version=*/0).ok());
  auto on_hello = WaitConfig(again->get(), 2);
  ASSERT_TRUE(on_hello.has_value());
  EXPECT_EQ(on_hello->version(), 2u);
  ASSERT_EQ(on_hello->trails_size(), 1);
  EXPECT_EQ(on_hello->trails(0).name(), "org-trail");
  EXPECT_TRUE(on_hello->trails(0).is_logging());
  (*again)->Finish();
}

TEST_F(CollectorAdminTest, OrgtrailctlStatusReportsHealthAndAgents) {
  auto collector = Start();
  ASSERT_NE(collector, nullptr);
  TlsFiles agent_tls = pki_.Agent(kAccount, "us-east-1", "status-cli");
  const std::string agent_id = testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "status-cli");
  auto agent = IngestClient::Connect(collector->target(), agent_tls, agent_id);
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->Hello().ok());
  testutil::SyntheticEvent e;
  e.event_id = "status-cli-1";
  e.account_id = kAccount;
  ASSERT_TRUE((*agent)->SendEvents({testutil::SyntheticEventJson(e)}).ok());

  TlsFiles admin = pki_.Admin("cli-admin");
  testutil::SubprocessOptions options;
  options.binary = ORGTRAIL_BINARY_DIR "/cli/orgtrailctl";
  options.log_dir = dir_.MakeSubdir("cli-logs");
  options.name = "status";
  options.args = {"status", "--collector=" + collector->target(), "--ca=" + admin.ca_cert_path,
                  "--cert=" + admin.cert_path, "--key=" + admin.key_path};
  auto ctl = testutil::Subprocess::Start(options);
  ASSERT_TRUE(ctl.ok());
  ASSERT_TRUE((*ctl)->Wait(std::chrono::seconds(60)).has_value());
  EXPECT_EQ((*ctl)->ExitCode(), 0) << (*ctl)->ReadLog();
  std::string out = (*ctl)->ReadStdout();
  EXPECT_NE(out.find("\"Healthy\": true"), std::string::npos) << out;
  EXPECT_NE(out.find(agent_id), std::string::npos) << out;
  EXPECT_NE(out.find("\"HighWaterSequence\": 1"), std::string::npos) << out;

  // An agent certificate is refused; a bad flag is a usage error naming it.
  options.name = "status-agent";
  options.args = {"status", "--collector=" + collector->target(), "--ca=" + agent_tls.ca_cert_path,
                  "--cert=" + agent_tls.cert_path, "--key=" + agent_tls.key_path};
  auto denied = testutil::Subprocess::Start(options);
  ASSERT_TRUE(denied.ok());
  ASSERT_TRUE((*denied)->Wait(std::chrono::seconds(60)).has_value());
  EXPECT_EQ((*denied)->ExitCode(), 1);
  EXPECT_NE((*denied)->ReadStderr().find("PERMISSION_DENIED"), std::string::npos) << (*denied)->ReadStderr();
  options.name = "status-bad";
  options.args = {"status", "--output=yaml", "--collector=" + collector->target(), "--ca=" + admin.ca_cert_path,
                  "--cert=" + admin.cert_path, "--key=" + admin.key_path};
  auto bad = testutil::Subprocess::Start(options);
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE((*bad)->Wait(std::chrono::seconds(60)).has_value());
  EXPECT_EQ((*bad)->ExitCode(), 2);
  EXPECT_NE((*bad)->ReadStderr().find("--output"), std::string::npos);
  (*agent)->Finish();
}

TEST_F(CollectorAdminTest, BadFlagsAreRefusedNamingTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  TlsFiles tls = collector_tls_;
  std::vector<std::string> base = {"--data-dir=" + dir_.Join("flags"), "--ca=" + tls.ca_cert_path,
                                   "--cert=" + tls.cert_path, "--key=" + tls.key_path, "--trust-domain=example.org"};
  std::vector<Case> cases = {
      {{"--listen=nonsense"}, "--listen"},
      {{"--max-batch-bytes=lots"}, "--max-batch-bytes"},
      {{"--max-unacked-batches=0"}, "--max-unacked-batches"},
      {{"--retention-days=-3"}, "--retention-days"},
      {{"--store-cache-mb=1"}, "--store-cache-mb: must be between"},
      {{"--store-memtable-mb=99999999999"}, "--store-memtable-mb: must be between"},
      {{"--store-memtable-mb=big"}, "--store-memtable-mb"},
      {{"--home-region=moon-base-1x"}, "--home-region"},
      {{"--log-level=loud"}, "--log-level"},
      {{"--allowed-regions=Bad Region"}, "--allowed-regions"},
      {{"--test-fail-sync-after=abc"}, "--test-fail-sync-after"},
      {{"--hello-timeout-ms=5"}, "--hello-timeout-ms: must be between"},
      {{"--stream-idle-timeout-ms=0"}, "--stream-idle-timeout-ms: must be between"},
      {{"--max-streams-per-identity=0"}, "--max-streams-per-identity: must be between"},
      {{"--max-ingest-streams=0"}, "--max-ingest-streams: must be between"},
      {{"--grpc-max-threads=2"}, "--grpc-max-threads: must be between"},
      {{"--grpc-max-threads=many"}, "--grpc-max-threads"},
      {{"--no-such-flag=1"}, "no-such-flag"},
  };
  int n = 0;
  for (const Case& c : cases) {
    testutil::SubprocessOptions options;
    options.binary = ORGTRAIL_BINARY_DIR "/collector/orgtrail-collector";
    options.log_dir = dir_.MakeSubdir("flag-logs");
    options.name = "flags-" + std::to_string(n++);
    options.args = base;
    options.args.insert(options.args.end(), c.args.begin(), c.args.end());
    auto p = testutil::Subprocess::Start(options);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value()) << c.expect;
    EXPECT_EQ((*p)->ExitCode(), 2) << c.expect << ": " << (*p)->ReadLog();
    EXPECT_NE((*p)->ReadStderr().find(c.expect), std::string::npos) << (*p)->ReadStderr();
  }
  // Missing required option.
  testutil::SubprocessOptions options;
  options.binary = ORGTRAIL_BINARY_DIR "/collector/orgtrail-collector";
  options.log_dir = dir_.MakeSubdir("flag-logs");
  options.name = "flags-missing";
  options.args = {"--data-dir=" + dir_.Join("flags")};
  auto p = testutil::Subprocess::Start(options);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value());
  EXPECT_EQ((*p)->ExitCode(), 2);
  EXPECT_NE((*p)->ReadStderr().find("--ca"), std::string::npos) << (*p)->ReadStderr();
}

}  // namespace
}  // namespace orgtrail
