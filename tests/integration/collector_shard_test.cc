// Collectors sharded by account (common/shard_map.h), with real collectors and real agents on
// loopback: a collector refuses the Hello of an agent whose account another shard serves, naming
// that shard and its endpoint (FAILED_PRECONDITION, rule wrong_shard); a real agent configured
// with the wrong collector follows the redirect and every one of its events is stored by its own
// shard, none by the other; an agent of the first shard's account stays there. Each shard signs its
// Merkle checkpoints under its own origin. Bad shard flags stop the start with a clear error.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "agent_harness.h"
#include "testutil/ingest_client.h"

namespace orgtrail::testutil {
namespace {

constexpr char kShardA[] = "111111111111";
constexpr char kShardB[] = "222222222222";

std::string MapJson(const std::string& a_endpoint, const std::string& b_endpoint) {
  return std::string("{\"shards\":[{\"name\":\"a\",\"endpoint\":\"") + a_endpoint + "\",\"accounts\":[\"" + kShardA +
         "\"]},{\"name\":\"b\",\"endpoint\":\"" + b_endpoint + "\",\"default\":true}]}";
}

double Metric(const CollectorProcess& c, const std::string& series) { return c.MetricValue(series); }

TEST(CollectorShardTest, AgentsAreSentToTheirShardAndFollow) {
  AgentHarness h;
  // Collector b (the default shard) first, on a port the kernel picks; it never redirects in this
  // test, so its map names a placeholder for a's endpoint (the assignments are the same).
  const std::string map_b = h.dir().Join("shards-b.json");
  std::ofstream(map_b) << MapJson("127.0.0.1:9", "127.0.0.1:10");
  CollectorProcessOptions bo;
  bo.data_dir = h.dir().Join("collector-b");
  bo.log_dir = h.dir().path();
  bo.tls = h.pki().Collector("b");
  bo.name = "collector-b";
  bo.extra_args = {"--shard-map", map_b, "--shard", "b", "--collector-id", "b"};
  auto b = CollectorProcess::Start(bo);
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string map_a = h.dir().Join("shards-a.json");
  std::ofstream(map_a) << MapJson("127.0.0.1:9", (*b)->target());
  h.StartCollector({"--shard-map", map_a, "--shard", "a", "--collector-id", "a"});
  if (HasFatalFailure()) return;

  // The refusal names the shard and where it is.
  auto probe = IngestClient::Connect(h.collector_address(), h.pki().Agent(kShardB, "us-east-1", "probe"),
                                     AgentSpiffeId(h.pki().trust_domain(), kShardB, "us-east-1", "probe"));
  ASSERT_TRUE(probe.ok()) << probe.status();
  auto hello = (*probe)->Hello();
  ASSERT_FALSE(hello.ok());
  EXPECT_EQ(hello.status().code(), absl::StatusCode::kFailedPrecondition) << hello.status();
  EXPECT_NE(hello.status().ToString().find("wrong_shard"), std::string::npos) << hello.status();
  EXPECT_NE(hello.status().ToString().find("served by shard 'b' at " + (*b)->target()), std::string::npos)
      << hello.status();

  // Real agents, both told to use collector a.
  constexpr int kEvents = 200;
  const std::vector<std::string> generate = {"--generator-rate", "500", "--generator-limit", std::to_string(kEvents),
                                             "--generator-seed", "7"};
  AgentProcess* agent_b = h.StartAgent("agent-b", kShardB, "us-east-1", generate);
  AgentProcess* agent_a = h.StartAgent("agent-a", kShardA, "us-east-1", generate);
  ASSERT_TRUE(agent_a->process && agent_b->process);
  ASSERT_TRUE(WaitFor([&] {
    return Metric(**b, "orgtrail_collector_events_stored_total") >= kEvents && h.EventsStored() >= kEvents;
  }, std::chrono::seconds(120), std::chrono::milliseconds(200)))
      << "b: " << Metric(**b, "orgtrail_collector_events_stored_total")
      << " a: " << h.EventsStored() << "\n"
      << agent_b->process->ReadLog();
  // Every event of each agent in its own shard, exactly once: the agents' acknowledged counts and
  // the shards' stored counts agree (a's count includes nothing of agent b's: b has all of them).
  EXPECT_EQ(Metric(**b, "orgtrail_collector_events_stored_total"), kEvents);
  EXPECT_EQ(h.EventsStored(), kEvents);
  EXPECT_NE(agent_b->process->ReadStderr().find("following the redirect"), std::string::npos);
  EXPECT_EQ(agent_a->process->ReadStderr().find("following the redirect"), std::string::npos);
  // Each shard's Merkle log has its own checkpoint origin.
  EXPECT_NE((*b)->process()->ReadLog().find(h.pki().trust_domain() + "/orgtrail/b+"), std::string::npos);
}

TEST(CollectorShardTest, BadShardFlagsStopTheStart) {
  AgentHarness h;
  const std::string map = h.dir().Join("shards.json");
  std::ofstream(map) << MapJson("127.0.0.1:9", "127.0.0.1:10");
  const std::string bad_map = h.dir().Join("bad.json");
  std::ofstream(bad_map) << "{\"shards\":[{\"name\":\"a\",\"endpoint\":\"x:1\"}]}";
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"--shard-map", map}, "--shard-map and --shard go together"},
      {{"--shard", "a"}, "--shard-map and --shard go together"},
      {{"--shard-map", map, "--shard", "c"}, "'c' is not a shard"},
      {{"--shard-map", bad_map, "--shard", "a"}, "exactly one shard must be"},
      {{"--shard-map", h.dir().Join("missing.json"), "--shard", "a"}, "cannot open"},
  };
  int n = 0;
  for (const auto& c : cases) {
    CollectorProcessOptions o;
    o.data_dir = h.dir().Join("bad-" + std::to_string(n));
    o.log_dir = h.dir().path();
    o.tls = h.pki().Collector("bad");
    o.name = "collector-bad-" + std::to_string(n++);
    o.extra_args = c.args;
    o.start_timeout = std::chrono::seconds(30);
    auto started = CollectorProcess::Start(o);
    EXPECT_FALSE(started.ok()) << c.error;
    std::ifstream err(h.dir().Join(o.name + ".stderr"));
    std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find(c.error), std::string::npos) << c.error << "\n" << text;
  }
}

}  // namespace
}  // namespace orgtrail::testutil
