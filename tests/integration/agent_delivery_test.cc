// The agent's delivery guarantees with the real collector and real agent
// processes over mTLS on loopback: kill -9 mid-file and restart, spool full
// (sources pause, nothing lost), collector down while sources keep
// producing, a trail change pushed mid-stream, certificate rotation
// mid-stream.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent_harness.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/generator.h"

namespace orgtrail::testutil {
namespace {

constexpr char kAccount[] = "111122223333";
constexpr char kRegion[] = "eu-west-1";

std::vector<std::string> Records(int n, uint64_t seed) {
  GeneratorOptions options;
  options.seed = seed;
  options.account_id = kAccount;
  options.region = kRegion;
  EventGenerator generator(options);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(generator.NextJson());
  return out;
}

void WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << content;
  }
  std::filesystem::rename(tmp, path);
}

TEST(AgentDeliveryTest, Kill9MidFileAndFullSpoolThenEverythingArrivesOnce) {
  AgentHarness h;
  const std::string watch = h.dir().MakeSubdir("watch");
  const int total = 4000;
  WriteFileAtomically(watch + "/big.json", WrapRecords(Records(total, 11)));
  // No collector yet: the agent cannot confirm its sequence, the spool fills
  // up (512 KiB, about a tenth of the file) and the file source pauses.
  const std::vector<std::string> args = {"--watch-dir", watch, "--spool-max-bytes", "512KiB",
                                         "--batch-max-events", "200"};
  AgentProcess* agent = h.StartAgent("a1", kAccount, kRegion, args);
  ASSERT_TRUE(WaitFor([&] {
    return h.AgentMetric(*agent, "orgtrail_agent_source_paused{source=\"files\"}") == 1;
  }, std::chrono::seconds(60))) << agent->process->ReadLog();
  const double spooled_before_kill = h.AgentMetric(*agent, "orgtrail_agent_events_selected_total");
  EXPECT_GT(spooled_before_kill, 0);
  EXPECT_LT(spooled_before_kill, total);  // really mid-file
  agent->process->Kill(SIGKILL);
  agent->process->Wait(std::chrono::seconds(30));

  h.StartCollector();
  agent = h.StartAgent("a1", kAccount, kRegion, args);
  // While it delivers, kill -9 again once part of it is stored.
  ASSERT_TRUE(WaitFor([&] { return h.EventsStored() >= 500; }, std::chrono::seconds(120)))
      << agent->process->ReadLog();
  agent->process->Kill(SIGKILL);
  agent->process->Wait(std::chrono::seconds(30));
  agent = h.StartAgent("a1", kAccount, kRegion, args);

  ASSERT_TRUE(h.WaitForStored(total, std::chrono::seconds(180)))
      << "stored " << h.EventsStored() << "\n" << agent->process->ReadLog();
  // Every event once: nothing re-read from the file, nothing stored twice.
  EXPECT_EQ(h.EventsStored(), total);
  EXPECT_EQ(h.CollectorMetric("orgtrail_collector_events_deduplicated_total"), 0);
  ASSERT_TRUE(WaitFor([&] { return h.AgentMetric(*agent, "orgtrail_agent_spool_batches") == 0; },
                      std::chrono::seconds(60)));
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_dead_letter_batches"), 0);
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_spool_events{state=\"pending\"}"), 0);
}

TEST(AgentDeliveryTest, CollectorDownWhileSourcesProduceThenEverythingArrives) {
  AgentHarness h;
  h.StartCollector();
  const int total = 2400;
  AgentProcess* agent = h.StartAgent(
      "gen", kAccount, kRegion,
      {"--generator-rate", "200", "--generator-limit", std::to_string(total), "--generator-seed", "5"});
  ASSERT_TRUE(WaitFor([&] { return h.EventsStored() >= 200; }, std::chrono::seconds(60)))
      << agent->process->ReadLog();
  const int64_t stored_before = h.EventsStored();
  h.KillCollector();
  // The generator keeps producing into the spool while the collector is away.
  ASSERT_TRUE(WaitFor([&] {
    return h.AgentMetric(*agent, "orgtrail_agent_events_selected_total") >= total;
  }, std::chrono::seconds(60)));
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_connected"), 0);
  // What the collector had not stored is waiting in the spool.
  if (stored_before < total) {
    EXPECT_GT(h.AgentMetric(*agent, "orgtrail_agent_spool_batches") +
                  h.AgentMetric(*agent, "orgtrail_agent_spool_events{state=\"pending\"}"),
              0);
  }
  h.StartCollector();
  ASSERT_TRUE(h.WaitForStored(total, std::chrono::seconds(120)))
      << "stored " << h.EventsStored() << "\n" << agent->process->ReadLog();
  EXPECT_EQ(h.EventsStored(), total);
  EXPECT_GE(h.AgentMetric(*agent, "orgtrail_agent_reconnects_total"), 1);
}

v1::PutEventsResponse PutOne(v1::AgentApi::Stub* api, const std::string& id, const std::string& json) {
  return PutAgentEvents(api, {{id, json}});
}

std::string ManagementEvent(const std::string& id) {
  return R"({"eventVersion":"1.09","eventID":")" + id +
         R"(","eventTime":"2026-03-01T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","readOnly":false,"awsRegion":"eu-west-1","recipientAccountId":"111122223333","eventCategory":"Management","eventType":"AwsApiCall"})";
}

std::string S3DataEvent(const std::string& id) {
  return R"({"eventVersion":"1.09","eventID":")" + id +
         R"(","eventTime":"2026-03-01T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","readOnly":true,"awsRegion":"eu-west-1","recipientAccountId":"111122223333","eventCategory":"Data","eventType":"AwsApiCall","resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::audit-bucket/k1"}]})";
}

TEST(AgentDeliveryTest, TrailChangePushedMidStreamTakesEffect) {
  AgentHarness h;
  h.StartCollector();
  AgentProcess* agent = h.StartAgent("api", kAccount, kRegion,
                                     {"--api-listen", "127.0.0.1:0"});
  auto api = h.AgentApi(*agent);
  auto query = h.Query();
  // No trail configured yet: the agent's fallback takes everything.
  ASSERT_EQ(PutOne(api.get(), "m0", ManagementEvent("11111111-0000-4000-8000-000000000000")).successful_size(), 1);
  ASSERT_TRUE(h.WaitForStored(1, std::chrono::seconds(60)));

  // The organization now logs only S3 object data events.
  v1::CreateTrailRequest create;
  v1::Trail* trail = create.mutable_trail();
  trail->set_name("org-data");
  trail->set_is_multi_region_trail(true);
  trail->set_include_global_service_events(true);
  trail->set_is_organization_trail(true);
  trail->set_is_logging(true);
  auto* selector = trail->add_advanced_event_selectors();
  selector->set_name("s3 objects");
  auto* category = selector->add_field_selectors();
  category->set_field("eventCategory");
  category->add_equals("Data");
  auto* type = selector->add_field_selectors();
  type->set_field("resources.type");
  type->add_equals("AWS::S3::Object");
  {
    grpc::ClientContext ctx;
    v1::TrailResponse response;
    auto status = h.Admin()->CreateTrail(&ctx, create, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_TRUE(WaitFor([&] {
    return h.AgentMetric(*agent, "orgtrail_agent_trail_configs_received_total") >= 1;
  }, std::chrono::seconds(60))) << agent->process->ReadLog();
  auto refused = PutOne(api.get(), "m1", ManagementEvent("22222222-0000-4000-8000-000000000000"));
  ASSERT_EQ(refused.failed_size(), 1);
  EXPECT_EQ(refused.failed(0).error_code(), "NotSelected");
  auto taken = PutOne(api.get(), "d1", S3DataEvent("33333333-0000-4000-8000-000000000000"));
  ASSERT_EQ(taken.successful_size(), 1);
  ASSERT_TRUE(h.WaitForStored(2, std::chrono::seconds(60)));
  EXPECT_TRUE(h.StoredRecord("33333333-0000-4000-8000-000000000000", query.get()).ok());
  EXPECT_FALSE(h.StoredRecord("22222222-0000-4000-8000-000000000000", query.get()).ok());

  // The configuration is durable: after a restart (collector away) the agent
  // still filters the same way.
  h.StopCollector();
  agent->process->Stop();
  agent = h.StartAgent("api", kAccount, kRegion, {"--api-listen", "127.0.0.1:0"});
  api = h.AgentApi(*agent);
  auto still_refused = PutOne(api.get(), "m2", ManagementEvent("44444444-0000-4000-8000-000000000000"));
  ASSERT_EQ(still_refused.failed_size(), 1);
  EXPECT_EQ(still_refused.failed(0).error_code(), "NotSelected");
}

TEST(AgentDeliveryTest, CertificateRotationMidStreamKeepsDelivering) {
  AgentHarness h;
  h.StartCollector();
  const int total = 2000;
  AgentProcess* agent = h.StartAgent(
      "rot", kAccount, kRegion,
      {"--generator-rate", "250", "--generator-limit", std::to_string(total), "--batch-max-age", "100ms"});
  ASSERT_TRUE(WaitFor([&] { return h.EventsStored() >= 300; }, std::chrono::seconds(60)))
      << agent->process->ReadLog();
  auto fingerprint_of = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream pem;
    pem << in.rdbuf();
    auto fingerprint = CertificateFingerprint(pem.str());
    return fingerprint.ok() ? *fingerprint : std::string("unreadable");
  };
  const std::string old_fingerprint = fingerprint_of(agent->tls.cert_path);
  // Replace the agent's certificate and key (a new key pair) atomically.
  const TlsFiles rotated = h.pki().Agent(kAccount, kRegion, "rot");
  ASSERT_EQ(rotated.cert_path, agent->tls.cert_path);
  const std::string new_fingerprint = fingerprint_of(rotated.cert_path);
  ASSERT_NE(new_fingerprint, old_fingerprint);
  const int64_t before = h.EventsStored();
  ASSERT_TRUE(h.WaitForStored(total, std::chrono::seconds(120)))
      << "stored " << h.EventsStored() << " (" << before << " before rotation)\n"
      << agent->process->ReadLog();
  EXPECT_EQ(h.EventsStored(), total);
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_dead_letter_batches"), 0);
  EXPECT_TRUE(agent->process->Running());

  // The new certificate is the one in use: the newest events were carried by batches whose
  // provenance names the rotated certificate (the collector records the peer's certificate).
  auto query = h.Query();
  v1::LookupEventsRequest lookup;
  lookup.set_include_data_events(true);
  lookup.set_max_results(50);
  v1::LookupEventsResponse newest;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto status = query->LookupEvents(&ctx, lookup, &newest);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  // The newest event of the agent (the collector's self-audit records of this test's calls are newer).
  auto agent_event = std::find_if(newest.events().begin(), newest.events().end(),
                                  [](const v1::LookupEvent& e) { return e.event_source() != "orgtrail"; });
  ASSERT_NE(agent_event, newest.events().end());
  v1::GetEventRequest get;
  get.set_event_id(agent_event->event_id());
  v1::GetEventResponse got;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto status = query->GetEvent(&ctx, get, &got);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(got.provenance().agent_certificate_sha256(), new_fingerprint)
      << "old certificate " << old_fingerprint;
}

}  // namespace
}  // namespace orgtrail::testutil
