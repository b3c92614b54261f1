// orgtrailctl findings: the findings of the Sigma rules the collector runs on every stored event
// (collector --sigma-rules), in commit order, one JSON object per line (JSON Lines): rule id,
// title, level, author, references, tags, and the event (eventID, account, region, source, name,
// time), which `orgtrailctl verify-event <eventID> --account <account>` proves. --follow keeps
// listing new findings as they are recorded (like tail -f), resuming from the last one shown;
// --after N resumes a listing from a commit index printed before.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include <boost/program_options.hpp>
#include <grpcpp/grpcpp.h>

#include "command_util.h"
#include "connection.h"
#include "events_format.h"
#include "findings_format.h"
#include "orgtrail/common/config.h"
#include "orgtrail/v1/findings.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;

volatile std::sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

}  // namespace

int RunFindings(int argc, const char* const* argv) {
  po::options_description options("findings options");
  options.add_options()("after", po::value<uint64_t>()->default_value(0),
                        "only findings of events after this commit index (a commitIndex printed before)")(
      "rule", po::value<std::string>()->default_value(""), "only this rule's findings (its id)")(
      "min-level", po::value<std::string>()->default_value(""),
      "only this level and above: informational|low|medium|high|critical")(
      "max-items", po::value<uint32_t>()->default_value(1000), "stop after N findings (1-100000; not with --follow)")(
      "follow", po::bool_switch(), "keep listing new findings as they are recorded (Ctrl-C stops)")(
      "follow-seconds", po::value<uint32_t>()->default_value(0), "with --follow: stop after this many seconds (0 = never)");
  AddConnectionOptions(&options);
  po::variables_map values;
  BinaryInfo info{"orgtrailctl findings",
                  "list the findings of the collector's Sigma rules (collector --sigma-rules), one JSON object "
                  "per line, in the order the events were stored",
                  "orgtrailctl findings [--after N] [--rule ID] [--min-level LEVEL] [--max-items N] [--follow] "
                  "--ca CA --cert CERT --key KEY [--collector HOST:PORT]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &values, ConnectionEnvOptions());
  if (!outcome.ok()) return ReportFailure("findings", std::string(outcome.status().message()), 2);
  if (*outcome == ParseOutcome::kExitSuccess) return 0;
  const uint32_t max_items = values["max-items"].as<uint32_t>();
  if (max_items < 1 || max_items > 100000) return ReportFailure("findings", "--max-items: expected 1 to 100000", 2);
  const std::string level = values["min-level"].as<std::string>();
  if (!level.empty() && level != "informational" && level != "low" && level != "medium" && level != "high" &&
      level != "critical") {
    return ReportFailure("findings", "--min-level: expected informational|low|medium|high|critical, got '" + level + "'", 2);
  }
  const bool follow = values["follow"].as<bool>();
  const uint32_t follow_seconds = values["follow-seconds"].as<uint32_t>();
  if (follow_seconds > 0 && !follow) return ReportFailure("findings", "--follow-seconds: needs --follow", 2);
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) return ReportFailure("findings", std::string(connection.status().message()), 2);
  auto channel = MakeCollectorChannel(*connection);
  if (!channel.ok()) return ReportFailure("findings", std::string(channel.status().message()), 2);
  auto stub = v1::Findings::NewStub(*channel);

  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(follow_seconds);
  uint64_t after = values["after"].as<uint64_t>();
  uint64_t shown = 0;
  while (!g_interrupted) {
    v1::ListFindingsRequest request;
    request.set_after_commit_index(after);
    request.set_max_results(1000);
    request.set_rule_id(values["rule"].as<std::string>());
    request.set_min_level(level);
    v1::ListFindingsResponse response;
    grpc::ClientContext context;
    SetDeadline(*connection, &context);
    const grpc::Status status = stub->ListFindings(&context, request, &response);
    if (!status.ok()) return ReportFailure("findings", DescribeRpcError(*connection, status), 1);
    bool truncated = false;
    uint64_t last_shown = 0;
    for (const v1::Finding& f : response.findings()) {
      // --max-items ends between events: the findings of one event are shown together.
      if (!follow && shown >= max_items && f.commit_index() != last_shown) {
        truncated = true;
        break;
      }
      std::printf("%s\n", FindingLine(f).c_str());
      last_shown = f.commit_index();
      ++shown;
    }
    std::fflush(stdout);
    const bool advanced = response.next_after_commit_index() > after;  // else: nothing more yet
    after = truncated ? last_shown : std::max(after, response.next_after_commit_index());
    if (!follow) {
      if (shown >= max_items || !advanced) {
        std::fprintf(stderr, "%llu finding(s); %u rule(s) running; events matched through commit %llu; "
                             "continue with --after %llu\n",
                     static_cast<unsigned long long>(shown), response.rules_loaded(),
                     static_cast<unsigned long long>(response.evaluated_through()),
                     static_cast<unsigned long long>(after));
        return 0;
      }
      continue;
    }
    if (follow_seconds > 0 && std::chrono::steady_clock::now() >= stop_at) break;
    if (!advanced) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::fprintf(stderr, "%llu finding(s); continue with --after %llu\n", static_cast<unsigned long long>(shown),
               static_cast<unsigned long long>(after));
  return 0;
}

}  // namespace orgtrail::cli
