// One bad event never takes a good one with it, end to end with the real agent
// and collector over mTLS on loopback:
//  - PutEvents with a valid event between a global-service event whose
//    awsRegion is "bogus" and one with a 300-character eventID: the valid one
//    is answered successful and stored; the two others get per-event errors
//    at the agent (it applies the collector's rules before it answers).
//  - The same poison inside a CloudTrail file: the good records are stored,
//    the bad ones refused at the source and counted.
//  - The rules follow the collector: a region the collector allows
//    (--allowed-regions) is accepted by the agent once it got the HelloAck.
//  - A fault of the collector itself is resent, never dead-lettered.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "agent_harness.h"

namespace orgtrail::testutil {
namespace {

constexpr char kAccount[] = "111122223333";
constexpr char kRegion[] = "eu-west-1";

std::string Record(const std::string& id, const std::string& region = kRegion,
                   const std::string& source = "ec2.amazonaws.com") {
  return R"({"eventVersion":"1.09","eventID":")" + id +
         R"(","eventTime":"2026-03-01T10:00:00Z","eventSource":")" + source +
         R"(","eventName":"RunInstances","readOnly":false,"awsRegion":")" + region +
         R"(","recipientAccountId":"111122223333","eventCategory":"Management","eventType":"AwsApiCall"})";
}

std::map<std::string, std::string> Failed(const v1::PutEventsResponse& response) {
  std::map<std::string, std::string> out;
  for (const auto& f : response.failed()) out[f.id()] = f.error_code();
  return out;
}

TEST(AgentPoisonTest, PoisonNeighboursThroughPutEventsAndFilesTakeNoGoodEventWithThem) {
  AgentHarness h;
  h.StartCollector({"--allowed-regions", "sagov-westsouth-1r"});
  const std::string watch = h.dir().MakeSubdir("watch");
  AgentProcess* agent = h.StartAgent("poison", kAccount, kRegion,
                                     {"--api-listen", "127.0.0.1:0", "--watch-dir", watch});
  ASSERT_TRUE(WaitFor([&] { return h.AgentMetric(*agent, "orgtrail_agent_connected") == 1; },
                      std::chrono::seconds(60)))
      << agent->process->ReadLog();
  auto api = h.AgentApi(*agent);
  auto query = h.Query();

  const std::string good_id = "aaaaaaaa-0000-4000-8000-000000000001";
  auto response = PutAgentEvents(api.get(), {{"bogus", Record("bogus-region-1", "bogus", "iam.amazonaws.com")},
                                  {"good", Record(good_id)},
                                  {"long", Record(std::string(300, 'L'))}});
  ASSERT_EQ(response.successful_size(), 1);
  EXPECT_EQ(response.successful(0).id(), "good");
  auto failed = Failed(response);
  EXPECT_EQ(failed["bogus"], "InvalidRegion");
  EXPECT_EQ(failed["long"], "InvalidEventId");

  // A region only this collector allows: the agent learnt it from the HelloAck.
  auto allowed = PutAgentEvents(api.get(), {{"allowed", Record("allowed-1", "sagov-westsouth-1r", "iam.amazonaws.com")}});
  EXPECT_EQ(allowed.successful_size(), 1) << (allowed.failed_size() ? allowed.failed(0).error_message() : "");

  // The same poison in a CloudTrail file between good records.
  {
    std::ofstream out(watch + "/poison.json.tmp", std::ios::binary);
    out << "{\"Records\":[" << Record("file-good-1") << "," << Record("file-bogus", "bogus", "iam.amazonaws.com")
        << "," << Record(std::string(300, 'F')) << "," << Record("file-good-2") << "]}";
  }
  std::filesystem::rename(watch + "/poison.json.tmp", watch + "/poison.json");

  ASSERT_TRUE(h.WaitForStored(4, std::chrono::seconds(60)))
      << "stored " << h.EventsStored() << "\n" << agent->process->ReadLog();
  for (const std::string& id : {good_id, std::string("allowed-1"), std::string("file-good-1"),
                                std::string("file-good-2")}) {
    EXPECT_TRUE(h.StoredRecord(id, query.get()).ok()) << id;
  }
  EXPECT_FALSE(h.StoredRecord("bogus-region-1", query.get()).ok());
  EXPECT_FALSE(h.StoredRecord("file-bogus", query.get()).ok());
  EXPECT_GE(h.AgentMetric(*agent, "orgtrail_agent_events_refused_total{reason=\"invalid\"}"), 4);
  // Nothing reached the collector that it had to refuse, and nothing was dead-lettered.
  EXPECT_LE(h.CollectorMetric("orgtrail_collector_batches_refused_total"), 0);
  EXPECT_LE(h.CollectorMetric("orgtrail_collector_events_refused_total"), 0);
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_dead_letter_batches_total"), 0);
  EXPECT_EQ(h.EventsStored(), 4);

  // The records the file source refused are listed with their reason and bytes.
  agent->process->Stop();
  const std::string command = std::string(ORGTRAIL_BINARY_DIR) + "/agent/orgtrail-agent dead-letters --quarantine " +
                              "--spool-dir '" + agent->spool_dir + "' 2>/dev/null";
  std::string listed;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) listed.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0) << listed;
  }
  EXPECT_EQ(std::count(listed.begin(), listed.end(), '\n'), 2) << listed;
  EXPECT_NE(listed.find("#record=1"), std::string::npos) << listed;  // the bogus region
  EXPECT_NE(listed.find("#record=2"), std::string::npos) << listed;  // the overlong eventID
  EXPECT_NE(listed.find("awsRegion 'bogus'"), std::string::npos) << listed;
}

// Transient is not permanent: batches the collector answers with a fault of
// its own (UNAVAILABLE collector_fault, as a parser out of memory would be;
// injected with the hidden --test-transient-faults=N) are resent by the agent,
// never dead-lettered, and every acknowledged event ends up stored.
TEST(AgentPoisonTest, CollectorFaultsAreResentNotDeadLettered) {
  AgentHarness h;
  h.StartCollector({"--test-transient-faults=3"});
  AgentProcess* agent = h.StartAgent("transient", kAccount, kRegion,
                                     {"--api-listen", "127.0.0.1:0", "--batch-max-events",
                                      "5", "--batch-max-age", "50ms"});
  auto api = h.AgentApi(*agent);
  int accepted = 0;
  for (int call = 0; call < 4; ++call) {
    std::vector<std::pair<std::string, std::string>> events;
    for (int i = 0; i < 5; ++i) {
      const std::string id = "transient-" + std::to_string(call) + "-" + std::to_string(i);
      events.emplace_back("e" + std::to_string(i), Record(id));
    }
    accepted += PutAgentEvents(api.get(), events).successful_size();
  }
  ASSERT_EQ(accepted, 20);
  ASSERT_TRUE(h.WaitForStored(20, std::chrono::seconds(90)))
      << "stored " << h.EventsStored() << "\n" << agent->process->ReadLog();
  EXPECT_EQ(h.EventsStored(), 20);
  // The faults really happened, and none of them cost a batch.
  EXPECT_EQ(h.CollectorMetric("orgtrail_collector_batches_refused_total{rule=\"collector_fault\"}"), 3);
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_dead_letter_batches_total"), 0);
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_dead_letter_batches"), 0);
  auto health = HttpGet("127.0.0.1", agent->ops_port, "/healthz", std::chrono::seconds(5));
  ASSERT_TRUE(health.ok());
  EXPECT_NE(health->body.find("\"status\":\"ok\""), std::string::npos) << health->body;
}

}  // namespace
}  // namespace orgtrail::testutil
