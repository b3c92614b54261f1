// orgtrailctl status: the collector's health and per-agent ingest state
// (orgtrail.v1.Admin/GetStatus; admin certificate required).
//   --output json (default) | table
//   --shard-map FILE (or ORGTRAIL_SHARD_MAP): every shard's collector, merged: healthy when every
//   shard is, events summed, every shard's agents, and a "Shards" list with each shard's state.
// Exit status: 0 healthy, 1 the collector (a shard) is unhealthy (fail-stop) or the call
// failed, 2 usage error (stderr names the flag).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "connection.h"
#include "events_format.h"
#include "shard_fanout.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/v1/admin.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;

std::string Time(int64_t us) { return us > 0 ? FormatRfc3339Seconds(us) : ""; }

struct ShardState {
  std::string shard;
  v1::GetStatusResponse status;
};

std::string StatusJson(const v1::GetStatusResponse& s, const std::vector<ShardState>& shards = {}) {
  std::string out = "{\n  \"CollectorId\": " + JsonQuote(s.collector_id()) + ",\n  \"Version\": " + JsonQuote(s.version()) +
                    ",\n  \"Healthy\": " + (s.healthy() ? "true" : "false") +
                    ",\n  \"HealthReason\": " + JsonQuote(s.health_reason()) +
                    ",\n  \"HomeRegion\": " + JsonQuote(s.home_region()) +
                    ",\n  \"EventsStored\": " + std::to_string(s.events_stored()) + ",\n  \"Agents\": [";
  for (int i = 0; i < s.agents_size(); ++i) {
    const v1::AgentStatus& a = s.agents(i);
    out += std::string(i ? "," : "") + "\n    {\"AgentId\": " + JsonQuote(a.agent_id()) +
           ", \"AccountId\": " + JsonQuote(a.account_id()) + ", \"Region\": " + JsonQuote(a.region()) +
           ", \"HighWaterSequence\": " + std::to_string(a.high_water_sequence()) +
           ", \"Epoch\": " + std::to_string(a.epoch()) + ", \"LastSeen\": " + JsonQuote(Time(a.last_seen_us())) +
           ", \"Connected\": " + (a.connected() ? "true" : "false") +
           ", \"EventsStored\": " + std::to_string(a.events_stored()) + "}";
  }
  out += std::string(s.agents_size() ? "\n  " : "") + "]";
  if (!shards.empty()) {
    out += ",\n  \"Shards\": [";
    for (size_t i = 0; i < shards.size(); ++i) {
      const v1::GetStatusResponse& r = shards[i].status;
      out += std::string(i ? "," : "") + "\n    {\"Shard\": " + JsonQuote(shards[i].shard) +
             ", \"CollectorId\": " + JsonQuote(r.collector_id()) + ", \"Healthy\": " + (r.healthy() ? "true" : "false") +
             ", \"HealthReason\": " + JsonQuote(r.health_reason()) +
             ", \"EventsStored\": " + std::to_string(r.events_stored()) +
             ", \"Agents\": " + std::to_string(r.agents_size()) + "}";
    }
    out += "\n  ]";
  }
  out += "\n}\n";
  return out;
}

// Every shard's status as one: healthy only when every shard is.
v1::GetStatusResponse MergeShards(const std::vector<ShardState>& shards) {
  v1::GetStatusResponse merged;
  merged.set_healthy(true);
  std::string ids, reasons;
  for (const ShardState& s : shards) {
    ids += (ids.empty() ? "" : ",") + s.status.collector_id();
    if (!s.status.healthy()) {
      merged.set_healthy(false);
      reasons += (reasons.empty() ? "" : "; ") + ("shard " + s.shard + ": " + s.status.health_reason());
    }
    merged.set_events_stored(merged.events_stored() + s.status.events_stored());
    for (const auto& agent : s.status.agents()) *merged.add_agents() = agent;
    if (merged.version().empty()) merged.set_version(s.status.version());
    if (merged.home_region().empty()) merged.set_home_region(s.status.home_region());
  }
  merged.set_collector_id(ids);
  merged.set_health_reason(reasons);
  return merged;
}

std::string StatusTable(const v1::GetStatusResponse& s) {
  char line[512];
  std::string out = "collector " + s.collector_id() + " (" + s.version() + ") home region " + s.home_region() +
                    "\nhealth: " + (s.healthy() ? "ok" : "FAIL-STOP: " + s.health_reason()) +
                    "\nevents stored: " + std::to_string(s.events_stored()) + "\n\n";
  std::snprintf(line, sizeof(line), "%-72s %10s %6s %-20s %9s %12s\n", "AGENT", "HIGH-WATER", "EPOCH", "LAST SEEN",
                "CONNECTED", "EVENTS");
  out += line;
  for (const v1::AgentStatus& a : s.agents()) {
    std::snprintf(line, sizeof(line), "%-72s %10llu %6llu %-20s %9s %12llu\n", a.agent_id().substr(0, 72).c_str(),
                  static_cast<unsigned long long>(a.high_water_sequence()),
                  static_cast<unsigned long long>(a.epoch()), Time(a.last_seen_us()).c_str(),
                  a.connected() ? "yes" : "no", static_cast<unsigned long long>(a.events_stored()));
    out += line;
  }
  return out;
}

}  // namespace

int RunStatus(int argc, const char* const* argv) {
  po::options_description options("status options");
  options.add_options()("output", po::value<std::string>()->default_value("json"), "json | table")
      ("shard-map", po::value<std::string>(), "sharded collectors: every shard of this map (or ORGTRAIL_SHARD_MAP), merged");
  AddConnectionOptions(&options);
  po::variables_map values;
  BinaryInfo info{"orgtrailctl status", "show the collector's health and per-agent ingest state (admin)",
                  "orgtrailctl status [--output json|table] --ca CA --cert CERT --key KEY [--collector HOST:PORT]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &values, ConnectionEnvOptions());
  if (!outcome.ok()) {
    std::fprintf(stderr, "orgtrailctl status: %s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == ParseOutcome::kExitSuccess) return 0;
  const std::string output = values["output"].as<std::string>();
  if (output != "json" && output != "table") {
    std::fprintf(stderr, "orgtrailctl status: --output: expected json or table, got '%s'\n", output.c_str());
    return 2;
  }
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) {
    std::fprintf(stderr, "orgtrailctl status: %s\n", std::string(connection.status().message()).c_str());
    return 2;
  }
  std::string map_path = values.count("shard-map") ? values["shard-map"].as<std::string>() : "";
  if (map_path.empty() && std::getenv("ORGTRAIL_SHARD_MAP") != nullptr) map_path = std::getenv("ORGTRAIL_SHARD_MAP");
  std::vector<ShardTarget> targets = {ShardTarget{"", *connection}};
  if (!map_path.empty()) {
    auto map = ShardMap::Load(map_path);
    if (!map.ok()) {
      std::fprintf(stderr, "orgtrailctl status: --shard-map: %s\n", std::string(map.status().message()).c_str());
      return 2;
    }
    targets = ShardTargets(*map, *connection);
  }
  std::vector<ShardState> states;
  for (const ShardTarget& target : targets) {
    auto channel = MakeCollectorChannel(target.connection);
    if (!channel.ok()) {
      std::fprintf(stderr, "orgtrailctl status: %s\n", std::string(channel.status().message()).c_str());
      return 2;
    }
    auto stub = v1::Admin::NewStub(*channel);
    grpc::ClientContext context;
    SetDeadline(target.connection, &context);
    ShardState state{target.name, {}};
    grpc::Status status = stub->GetStatus(&context, v1::GetStatusRequest(), &state.status);
    if (!status.ok()) {
      std::fprintf(stderr, "orgtrailctl status: %s%s\n", target.name.empty() ? "" : ("shard '" + target.name + "': ").c_str(),
                   DescribeRpcError(target.connection, status).c_str());
      return 1;
    }
    states.push_back(std::move(state));
  }
  const bool sharded = !map_path.empty();
  const v1::GetStatusResponse response = sharded ? MergeShards(states) : states[0].status;
  std::string text = output == "json" ? StatusJson(response, sharded ? states : std::vector<ShardState>{})
                                      : StatusTable(response);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return response.healthy() ? 0 : 1;
}

}  // namespace orgtrail::cli
