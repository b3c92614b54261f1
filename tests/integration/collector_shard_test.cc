// Collectors sharded by account (common/shard_map.h), with real collectors and real agents on
// loopback: a collector refuses the Hello of an agent whose account another shard serves, naming
// that shard and its endpoint (FAILED_PRECONDITION, rule wrong_shard); a real agent configured
// with the wrong collector follows the redirect and every one of its events is stored by its own
// shard, none by the other; an agent of the first shard's account stays there. Each shard signs its
// Merkle checkpoints under its own origin. orgtrailctl fans out over the map: lookup-events,
// get-event, verify-event, status, and the trail commands (changes on every shard, reads compared,
// status merged). Bad shard flags stop the start with a clear error.
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "agent_harness.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"

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
  auto generate = [&](const char* seed) {  // distinct seeds: distinct eventIDs
    return std::vector<std::string>{"--generator-rate", "500", "--generator-limit", std::to_string(kEvents),
                                    "--generator-seed", seed};
  };
  AgentProcess* agent_b = h.StartAgent("agent-b", kShardB, "us-east-1", generate("7"));
  AgentProcess* agent_a = h.StartAgent("agent-a", kShardA, "us-east-1", generate("8"));
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

  // orgtrailctl over both shards (--shard-map): lookup-events merges them newest first with one
  // NextToken that resumes exactly; get-event and verify-event find an event on its shard.
  const std::string map_cli = h.dir().Join("shards-cli.json");
  std::ofstream(map_cli) << MapJson(h.collector_address(), (*b)->target());
  const TlsFiles auditor = h.pki().Auditor("hunter");
  int runs = 0;
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--shard-map", map_cli});
    return RunOrgtrailctl(std::move(args), "127.0.0.1:1", auditor, h.dir().path(), "ctl-" + std::to_string(runs++));
  };
  struct Page {
    std::vector<std::string> ids, times, accounts;
    std::string next;
  };
  auto lookup = [&](const std::string& token) {
    std::vector<std::string> args = {"lookup-events", "--accounts", std::string(kShardA) + "," + kShardB,
                                     "--max-results", "40", "--max-items", "150", "--include-data-events"};
    if (!token.empty()) args.insert(args.end(), {"--starting-token", token});
    CtlResult r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Page page;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(r.out).get(doc) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << r.out.substr(0, 500) << r.err;
      return page;
    }
    for (simdjson::dom::element e : doc["Events"].get_array()) {
      page.ids.emplace_back(std::string_view(e["EventId"].get_string()));
      page.times.emplace_back(std::string_view(e["EventTime"].get_string()));
      std::string_view record = e["CloudTrailEvent"].get_string();
      page.accounts.push_back(record.find(kShardA) != std::string_view::npos ? "a" : "b");
    }
    std::string_view next;
    if (doc["NextToken"].get_string().get(next) == simdjson::SUCCESS) page.next = std::string(next);
    return page;
  };
  std::set<std::string> seen;
  std::set<std::string> shards_seen;
  std::string b_event;  // an event only shard b has
  std::string token;
  int pages = 0;
  do {
    Page page = lookup(token);
    ASSERT_FALSE(page.ids.empty()) << "page " << pages;
    for (size_t i = 1; i < page.times.size(); ++i) EXPECT_GE(page.times[i - 1], page.times[i]) << "newest first";
    for (const auto& id : page.ids) EXPECT_TRUE(seen.insert(id).second) << id << " printed twice";
    shards_seen.insert(page.accounts.begin(), page.accounts.end());
    for (size_t i = 0; i < page.ids.size(); ++i) {
      if (page.accounts[i] == "b") b_event = page.ids[i];
    }
    token = page.next;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 2u * kEvents) << "every event of both shards, once";
  EXPECT_EQ(pages, 3);  // 150 + 150 + 100
  EXPECT_EQ(shards_seen, (std::set<std::string>{"a", "b"}));
  // A token of another map, or garbage, is a usage error.
  CtlResult bad = ctl({"lookup-events", "--starting-token", "o1.bm90IGEgdG9rZW4="});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("--starting-token"), std::string::npos) << bad.err;
  // get-event / verify-event find an event that only shard b has.
  ASSERT_FALSE(b_event.empty());
  CtlResult got = ctl({"get-event", b_event});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_NE(got.out.find(b_event), std::string::npos);
  CtlResult verified = ctl({"verify-event", b_event});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("verification passed"), std::string::npos) << verified.out;
  // status over both shards: merged health, both shards listed, both agents.
  CtlResult status = RunOrgtrailctl({"status", "--shard-map", map_cli}, "127.0.0.1:1", h.pki().Admin("root"),
                                    h.dir().path(), "ctl-status");
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\"Shard\": \"a\""), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"Shard\": \"b\""), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("/account/" + std::string(kShardA) + "/"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("/account/" + std::string(kShardB) + "/"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"Healthy\": true"), std::string::npos) << status.out;
  CtlResult missing = ctl({"get-event", "no-such-event-anywhere"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("none of the 2 shards"), std::string::npos) << missing.err;

  // Trail administration over both shards (trails are configured per collector; cli/trail_fanout.h).
  const TlsFiles admin = h.pki().Admin("root");
  auto admin_ctl = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--shard-map", map_cli});
    return RunOrgtrailctl(std::move(args), "127.0.0.1:1", admin, h.dir().path(), "ctl-" + std::to_string(runs++));
  };
  auto on_one = [&](const std::string& target, std::vector<std::string> args) {
    return RunOrgtrailctl(std::move(args), target, admin, h.dir().path(), "ctl-" + std::to_string(runs++));
  };
  CtlResult created = admin_ctl({"create-trail", "--name", "fanout-trail", "--s3-bucket-name", "fanout-bucket"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  for (const std::string& target : {h.collector_address(), (*b)->target()}) {
    CtlResult one = on_one(target, {"get-trail", "--name", "fanout-trail"});
    EXPECT_EQ(one.exit_code, 0) << target << ": " << one.err;
    EXPECT_NE(one.out.find("fanout-bucket"), std::string::npos) << target << ": " << one.out;
  }
  EXPECT_EQ(admin_ctl({"get-trail", "--name", "fanout-trail"}).exit_code, 0);
  // A trail changed on one shard only is drift: the read says which shard differs.
  ASSERT_EQ(on_one((*b)->target(), {"update-trail", "--name", "fanout-trail", "--s3-key-prefix", "drift"}).exit_code, 0);
  CtlResult drift = admin_ctl({"get-trail", "--name", "fanout-trail"});
  EXPECT_EQ(drift.exit_code, 1) << drift.out;
  EXPECT_NE(drift.err.find("shard(s) b answer differently from shard a"), std::string::npos) << drift.err;
  EXPECT_EQ(admin_ctl({"update-trail", "--name", "fanout-trail", "--s3-key-prefix", "same"}).exit_code, 0);
  EXPECT_EQ(admin_ctl({"get-trail", "--name", "fanout-trail"}).exit_code, 0);
  // Status: one for the organization, and each shard's.
  EXPECT_EQ(admin_ctl({"start-logging", "--name", "fanout-trail"}).exit_code, 0);
  CtlResult trail_status = admin_ctl({"get-trail-status", "--name", "fanout-trail"});
  EXPECT_EQ(trail_status.exit_code, 0) << trail_status.err;
  EXPECT_EQ(trail_status.out.rfind("{\"IsLogging\": true, ", 0), 0u) << trail_status.out;
  EXPECT_NE(trail_status.out.find("\"Shards\": {\"a\": {\"IsLogging\": true"), std::string::npos) << trail_status.out;
  EXPECT_NE(trail_status.out.find("\"b\": {\"IsLogging\": true"), std::string::npos) << trail_status.out;
  // A change that fails on one shard names where it took effect and where not.
  ASSERT_EQ(on_one((*b)->target(), {"delete-trail", "--name", "fanout-trail"}).exit_code, 0);
  CtlResult partial = admin_ctl({"delete-trail", "--name", "fanout-trail"});
  EXPECT_EQ(partial.exit_code, 1);
  EXPECT_NE(partial.err.find("changed on: a; not on: b"), std::string::npos) << partial.err;
  EXPECT_EQ(admin_ctl({"get-trail", "--name", "fanout-trail"}).exit_code, 1);
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
