// orgtrailctl status: the collector's health and per-agent ingest state
// (orgtrail.v1.Admin/GetStatus; admin certificate required).
//   --output json (default) | table
// Exit status: 0 healthy, 1 the collector is unhealthy (fail-stop) or the call
// failed, 2 usage error (stderr names the flag).
#include <cstdio>
#include <string>

#include <boost/program_options.hpp>

#include "connection.h"
#include "events_format.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/v1/admin.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;

std::string Time(int64_t us) { return us > 0 ? FormatRfc3339Seconds(us) : ""; }

std::string StatusJson(const v1::GetStatusResponse& s) {
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
  out += std::string(s.agents_size() ? "\n  " : "") + "]\n}\n";
  return out;
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
  options.add_options()("output", po::value<std::string>()->default_value("json"), "json | table");
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
  auto channel = MakeCollectorChannel(*connection);
  if (!channel.ok()) {
    std::fprintf(stderr, "orgtrailctl status: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  auto stub = v1::Admin::NewStub(*channel);
  grpc::ClientContext context;
  SetDeadline(*connection, &context);
  v1::GetStatusResponse response;
  grpc::Status status = stub->GetStatus(&context, v1::GetStatusRequest(), &response);
  if (!status.ok()) {
    std::fprintf(stderr, "orgtrailctl status: %s\n", DescribeRpcError(*connection, status).c_str());
    return 1;
  }
  std::string text = output == "json" ? StatusJson(response) : StatusTable(response);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return response.healthy() ? 0 : 1;
}

}  // namespace orgtrail::cli
