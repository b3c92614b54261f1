// orgtrailctl list-refused: events the collector refused one by one (a
// per-event rule: malformed JSON, eventID, another account or region) while it
// stored the other events of their batch. Each is listed with its sender,
// batch, leaf index, rule and raw bytes, one JSON object per line (JSON Lines),
// in (agent, batch, leaf) order, so they can be piped to jq, fixed and re-sent,
// or kept as evidence (--identity-violations lists only events that named
// another account or region than their sender's certificate).
#include <cstdio>
#include <string>

#include <boost/program_options.hpp>
#include <grpcpp/grpcpp.h>

#include "command_util.h"
#include "connection.h"
#include "events_format.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;

std::string RefusedLine(const v1::RefusedEvent& r) {
  return "{\"agent\":" + JsonQuote(r.agent_id()) + ",\"agentAccountId\":" + JsonQuote(r.agent_account_id()) +
         ",\"agentRegion\":" + JsonQuote(r.agent_region()) + ",\"batchSequence\":" +
         std::to_string(r.batch_sequence()) + ",\"leafIndex\":" + std::to_string(r.leaf_index()) +
         ",\"eventID\":" + JsonQuote(r.event_id()) + ",\"rule\":" + JsonQuote(r.rule()) +
         ",\"message\":" + JsonQuote(r.message()) +
         ",\"identityViolation\":" + (r.identity_violation() ? "true" : "false") +
         ",\"receiptTime\":" + JsonQuote(FormatAwsTimestamp(r.receipt_time_us())) +
         ",\"leafHash\":" + JsonQuote(HexEncode(r.leaf_hash())) +
         ",\"rawJsonDropped\":" + (r.raw_json_dropped() ? "true" : "false") +
         ",\"rawJson\":" + JsonQuote(r.raw_json()) + "}";
}

}  // namespace

int RunListRefused(int argc, const char* const* argv) {
  po::options_description options("list-refused options");
  options.add_options()("max-items", po::value<uint32_t>()->default_value(100), "at most N refused events (1-1000)")(
      "agent", po::value<std::string>()->default_value(""), "only this agent's (its SPIFFE ID)")(
      "identity-violations", po::bool_switch(),
      "only events that named another account or region than their sender's certificate");
  AddConnectionOptions(&options);
  po::variables_map values;
  BinaryInfo info{"orgtrailctl list-refused",
                  "list events the collector refused one by one (the other events of their batch were stored), "
                  "with sender, batch, rule and raw bytes (one JSON object per line)",
                  "orgtrailctl list-refused [--agent SPIFFE_ID] [--identity-violations] [--max-items N] "
                  "--ca CA --cert CERT --key KEY [--collector HOST:PORT]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &values, ConnectionEnvOptions());
  if (!outcome.ok()) return ReportFailure("list-refused", std::string(outcome.status().message()), 2);
  if (*outcome == ParseOutcome::kExitSuccess) return 0;
  const uint32_t max_items = values["max-items"].as<uint32_t>();
  if (max_items < 1 || max_items > 1000) {
    return ReportFailure("list-refused", "--max-items: expected 1 to 1000, got " + std::to_string(max_items), 2);
  }
  const std::string agent = values["agent"].as<std::string>();
  if (!agent.empty() && agent.rfind("spiffe://", 0) != 0) {
    return ReportFailure("list-refused", "--agent: expected an agent's SPIFFE ID (spiffe://<org>/account/...), got '" + agent + "'", 2);
  }
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) return ReportFailure("list-refused", std::string(connection.status().message()), 2);
  auto channel = MakeCollectorChannel(*connection);
  if (!channel.ok()) return ReportFailure("list-refused", std::string(channel.status().message()), 2);
  auto stub = v1::Query::NewStub(*channel);
  v1::ListRefusedRequest request;
  request.set_max_items(max_items);
  request.set_agent_id(agent);
  request.set_identity_violations_only(values["identity-violations"].as<bool>());
  v1::ListRefusedResponse response;
  grpc::ClientContext context;
  SetDeadline(*connection, &context);
  const grpc::Status status = stub->ListRefused(&context, request, &response);
  if (!status.ok()) return ReportFailure("list-refused", DescribeRpcError(*connection, status), 1);
  for (const auto& refused : response.refused()) std::printf("%s\n", RefusedLine(refused).c_str());
  std::fprintf(stderr, "%d refused event(s) listed; %llu recorded since the store was created\n",
               response.refused_size(), static_cast<unsigned long long>(response.refused_recorded()));
  return 0;
}

}  // namespace orgtrail::cli
