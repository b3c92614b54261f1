// orgtrailctl list-conflicts: events whose (recipient account, eventID) was
// already stored with other bytes. The collector keeps both copies (the
// original in the store, the copy as a conflict record) with their provenance;
// this lists the copies, one JSON object per line (JSON Lines), newest store
// key order, so they can be piped to jq or saved as evidence.
#include <cstdio>
#include <string>

#include <boost/program_options.hpp>
#include <grpcpp/grpcpp.h>

#include "connection.h"
#include "events_format.h"
#include "orgtrail/common/config.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;

std::string ConflictLine(const v1::EventConflict& c) {
  std::string line = "{\"recipientAccountId\":" + JsonQuote(c.recipient_account_id()) +
                     ",\"eventID\":" + JsonQuote(c.event_id()) + ",\"agent\":" + JsonQuote(c.agent_id()) +
                     ",\"batchSequence\":" + std::to_string(c.batch_sequence()) +
                     ",\"leafIndex\":" + std::to_string(c.leaf_index()) +
                     ",\"receiptTime\":" + JsonQuote(FormatAwsTimestamp(c.receipt_time_us())) +
                     ",\"original\":{\"agent\":" + JsonQuote(c.original().agent_id()) +
                     ",\"batchSequence\":" + std::to_string(c.original().batch_sequence()) +
                     ",\"leafIndex\":" + std::to_string(c.original().leaf_index()) +
                     ",\"commitIndex\":" + std::to_string(c.original().commit_index()) +
                     "},\"rawJson\":" + JsonQuote(c.raw_json()) + "}";
  return line;
}

}  // namespace

int RunListConflicts(int argc, const char* const* argv) {
  po::options_description options("list-conflicts options");
  options.add_options()("max-items", po::value<uint32_t>()->default_value(100), "at most N conflicts (1-1000)");
  AddConnectionOptions(&options);
  po::variables_map values;
  BinaryInfo info{"orgtrailctl list-conflicts",
                  "list events whose (recipient account, eventID) was already stored with other bytes; both "
                  "copies are kept (one JSON object per line)",
                  "orgtrailctl list-conflicts [--max-items N] --ca CA --cert CERT --key KEY [--collector HOST:PORT]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &values, ConnectionEnvOptions());
  if (!outcome.ok()) {
    std::fprintf(stderr, "orgtrailctl list-conflicts: %s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == ParseOutcome::kExitSuccess) return 0;
  const uint32_t max_items = values["max-items"].as<uint32_t>();
  if (max_items < 1 || max_items > 1000) {
    std::fprintf(stderr, "orgtrailctl list-conflicts: --max-items: expected 1 to 1000, got %u\n", max_items);
    return 2;
  }
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) {
    std::fprintf(stderr, "orgtrailctl list-conflicts: %s\n", std::string(connection.status().message()).c_str());
    return 2;
  }
  auto channel = MakeCollectorChannel(*connection);
  if (!channel.ok()) {
    std::fprintf(stderr, "orgtrailctl list-conflicts: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  auto stub = v1::Query::NewStub(*channel);
  v1::ListConflictsRequest request;
  request.set_max_items(max_items);
  v1::ListConflictsResponse response;
  grpc::ClientContext context;
  SetDeadline(*connection, &context);
  const grpc::Status status = stub->ListConflicts(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "orgtrailctl list-conflicts: %s\n", DescribeRpcError(*connection, status).c_str());
    return 1;
  }
  for (const auto& conflict : response.conflicts()) std::printf("%s\n", ConflictLine(conflict).c_str());
  std::fprintf(stderr, "%d conflict(s) listed; %llu recorded since the store was created\n",
               response.conflicts_size(), static_cast<unsigned long long>(response.conflicts_recorded()));
  return 0;
}

}  // namespace orgtrail::cli
