// orgtrailctl lookup-events | get-event | verify-event: the security team's
// view of the collector's Query service (auditor certificate required).
//
//   lookup-events  aws-cli's flags and output shape, automatic paging,
//                  organization extensions (--accounts, --regions,
//                  --include-data-events, several --lookup-attributes ANDed)
//   get-event ID   the record byte for byte plus its provenance, as JSON
//   verify-event   offline check of that provenance against the CA
//                  (from the collector by ID, or --from-file a saved get-event)
// Exit status: 0 success, 1 the request failed or verification found a
// problem, 2 usage error (message on stderr naming the flag).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "command_util.h"
#include "connection.h"
#include "events_format.h"
#include "shard_fanout.h"
#include "events_verify.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;


int UsageError(const char* command, const Status& status) {
  std::fprintf(stderr, "orgtrailctl %s: %s\n", command, std::string(status.message()).c_str());
  return kExitUsage;
}

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

StatusOr<int> ParseCount(const std::string& option, const std::string& text, int min, int max) {
  if (!AllDigits(text) || text.size() > 9 || std::stoi(text) < min || std::stoi(text) > max) {
    return absl::InvalidArgumentError(option + ": expected a whole number from " +
                                      std::to_string(min) + " to " + std::to_string(max) +
                                      ", got '" + text.substr(0, 32) + "'");
  }
  return std::stoi(text);
}

// "AttributeKey=EventName,AttributeValue=DeleteBucket" (either order; the
// value may contain commas when it comes last).
StatusOr<v1::LookupAttribute> ParseLookupAttribute(const std::string& text) {
  static constexpr std::string_view kKey = "AttributeKey=";
  static constexpr std::string_view kValue = "AttributeValue=";
  const auto error = [&](const std::string& why) {
    return absl::InvalidArgumentError("--lookup-attributes: " + why + ", got '" +
                                      text.substr(0, 80) + "'");
  };
  std::string key, value;
  const std::string_view view(text);
  if (view.substr(0, kKey.size()) == kKey) {
    const size_t comma = text.find(',');
    if (comma == std::string::npos) return error("expected AttributeKey=<key>,AttributeValue=<value>");
    key = text.substr(kKey.size(), comma - kKey.size());
    const std::string_view rest = view.substr(comma + 1);
    if (rest.substr(0, kValue.size()) != kValue) {
      return error("expected AttributeKey=<key>,AttributeValue=<value>");
    }
    value = std::string(rest.substr(kValue.size()));
  } else if (view.substr(0, kValue.size()) == kValue) {
    const size_t marker = text.rfind(",AttributeKey=");
    if (marker == std::string::npos) return error("expected AttributeKey=<key>,AttributeValue=<value>");
    value = text.substr(kValue.size(), marker - kValue.size());
    key = text.substr(marker + 1 + kKey.size());
  } else {
    return error("expected AttributeKey=<key>,AttributeValue=<value>");
  }
  static const char* const kKeys[] = {"EventId",      "EventName",    "ReadOnly",    "Username",
                                      "ResourceType", "ResourceName", "EventSource", "AccessKeyId"};
  bool known = false;
  for (const char* k : kKeys) known = known || key == k;
  if (!known) {
    return error("AttributeKey must be one of EventId, EventName, ReadOnly, Username, "
                 "ResourceType, ResourceName, EventSource, AccessKeyId");
  }
  if (value.empty()) return error("AttributeValue must not be empty");
  v1::LookupAttribute attribute;
  attribute.set_attribute_key(key);
  attribute.set_attribute_value(value);
  return attribute;
}

// Values of a repeatable, comma-separable list option.
std::vector<std::string> ListValues(const po::variables_map& values, const char* name) {
  std::vector<std::string> out;
  if (values.count(name) == 0) return out;
  for (const auto& item : values[name].as<std::vector<std::string>>()) {
    std::stringstream stream(item);
    std::string part;
    while (std::getline(stream, part, ',')) {
      if (!part.empty()) out.push_back(part);
    }
  }
  return out;
}

std::string OptionalString(const po::variables_map& values, const char* name) {
  return values.count(name) ? values[name].as<std::string>() : std::string();
}

struct LookupCommand {
  v1::LookupEventsRequest request;
  int page_size = 0;  // 0 = the collector's default (50)
  int64_t max_items = 0;  // 0 = all
  std::string starting_token;
  bool paginate = true;
  OutputFormat output = OutputFormat::kJson;
};

Status BuildLookupCommand(const po::variables_map& values, LookupCommand* command) {
  if (values.count("lookup-attributes")) {
    for (const auto& text : values["lookup-attributes"].as<std::vector<std::string>>()) {
      auto attribute = ParseLookupAttribute(text);
      if (!attribute.ok()) return attribute.status();
      *command->request.add_lookup_attributes() = *attribute;
    }
  }
  if (values.count("start-time")) {
    auto start = ParseCliTime("--start-time", values["start-time"].as<std::string>());
    if (!start.ok()) return start.status();
    command->request.set_start_time_us(*start);
  }
  if (values.count("end-time")) {
    auto end = ParseCliTime("--end-time", values["end-time"].as<std::string>());
    if (!end.ok()) return end.status();
    command->request.set_end_time_us(*end);
  }
  if (command->request.has_start_time_us() && command->request.has_end_time_us() &&
      command->request.start_time_us() > command->request.end_time_us()) {
    return absl::InvalidArgumentError("--start-time: is after --end-time");
  }
  if (values.count("max-results")) {
    auto page = ParseCount("--max-results", values["max-results"].as<std::string>(), 1, 1000);
    if (!page.ok()) return page.status();
    command->page_size = *page;
  }
  if (values.count("max-items")) {
    auto items = ParseCount("--max-items", values["max-items"].as<std::string>(), 1, 100000000);
    if (!items.ok()) return items.status();
    command->max_items = *items;
  }
  command->starting_token = OptionalString(values, "starting-token");
  if (values.count("starting-token") && command->starting_token.empty()) {
    return absl::InvalidArgumentError("--starting-token: must not be empty");
  }
  command->paginate = values.count("no-paginate") == 0;
  for (const auto& account : ListValues(values, "accounts")) {
    ORGTRAIL_RETURN_IF_ERROR(CheckAccountId("--accounts", account));
    command->request.add_account_ids(account);
  }
  for (const auto& region : ListValues(values, "regions")) {
    if (region.size() > 64 || region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") !=
                                  std::string::npos) {
      return absl::InvalidArgumentError("--regions: expected region names such as us-east-1, got '" +
                                        region.substr(0, 64) + "'");
    }
    command->request.add_regions(region);
  }
  command->request.set_include_data_events(values.count("include-data-events") > 0);
  const std::string category = OptionalString(values, "event-category");
  if (!category.empty() && category != "insight") {
    return absl::InvalidArgumentError("--event-category: the only valid value is 'insight', got '" +
                                      category.substr(0, 32) + "'");
  }
  command->request.set_event_category(category);
  auto output = ParseOutputFormat(values.count("output") ? values["output"].as<std::string>() : "json");
  if (!output.ok()) return output.status();
  command->output = *output;
  return absl::OkStatus();
}

int RunLookupPages(const ConnectionOptions& connection, LookupCommand* command) {
  auto channel = MakeCollectorChannel(connection);
  if (!channel.ok()) return UsageError("lookup-events", channel.status());
  auto stub = v1::Query::NewStub(*channel);
  LookupEventsWriter writer(command->output, stdout);
  bool begun = false;
  int64_t returned = 0;
  std::string token = command->starting_token;
  while (true) {
    v1::LookupEventsRequest request = command->request;
    int page = command->page_size;
    if (command->max_items > 0) {
      const int64_t remaining = command->max_items - returned;
      const int64_t default_page = page > 0 ? page : 50;
      page = static_cast<int>(std::min<int64_t>(default_page, remaining));
    }
    request.set_max_results(page);
    request.set_next_token(token);
    v1::LookupEventsResponse response;
    grpc::ClientContext context;
    SetDeadline(connection, &context);
    const grpc::Status status = stub->LookupEvents(&context, request, &response);
    if (!status.ok()) {
      if (begun) writer.End("");
      std::fprintf(stderr, "orgtrailctl lookup-events: %s\n",
                   DescribeRpcError(connection, status).c_str());
      return kExitFailure;
    }
    if (!begun) {
      writer.Begin();
      begun = true;
    }
    for (const auto& event : response.events()) writer.Add(event);
    returned += response.events_size();
    token = response.next_token();
    const bool done = token.empty() || !command->paginate ||
                      (command->max_items > 0 && returned >= command->max_items);
    if (done) break;
  }
  writer.End(token);
  return kExitOk;
}

int RunShardedLookup(const std::vector<ShardTarget>& shards, const LookupCommand& command) {
  ShardedLookupOptions options;
  options.request = command.request;
  options.page_size = command.page_size > 0 ? command.page_size : 50;
  options.max_items = command.max_items;
  options.paginate = command.paginate;
  options.starting_token = command.starting_token;
  auto result = ShardedLookup(shards, options);
  if (!result.ok()) {
    if (result.status().code() == absl::StatusCode::kInvalidArgument) return UsageError("lookup-events", result.status());
    std::fprintf(stderr, "orgtrailctl lookup-events: %s\n", std::string(result.status().message()).c_str());
    return kExitFailure;
  }
  LookupEventsWriter writer(command.output, stdout);
  writer.Begin();
  for (const auto& event : result->events) writer.Add(event);
  writer.End(result->next_token);
  return kExitOk;
}

StatusOr<v1::GetEventResponse> FetchEvent(const ConnectionOptions& connection, const std::string& event_id,
                                          const std::string& account) {
  auto event = FetchEventFrom(connection, event_id, account);
  if (!event.ok() && event.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnavailableError(event.status().message());  // as before: exit status 1 with the collector's word
  }
  return event;
}

Status CheckEventIdArgument(const std::string& event_id) {
  if (event_id.empty()) return absl::InvalidArgumentError("EVENT_ID: required");
  if (event_id.size() > 1024) return absl::InvalidArgumentError("EVENT_ID: longer than 1024 bytes");
  return absl::OkStatus();
}

}  // namespace

int RunLookupEvents(int argc, const char* const* argv) {
  const BinaryInfo info{"orgtrailctl lookup-events",
                        "look up management events across the organization (like aws cloudtrail "
                        "lookup-events)",
                        "orgtrailctl lookup-events [--lookup-attributes "
                        "AttributeKey=EventName,AttributeValue=DeleteBucket ...] [--start-time T] "
                        "[--end-time T] [options]"};
  po::options_description options("lookup-events options");
  options.add_options()
      ("lookup-attributes", po::value<std::vector<std::string>>()->multitoken()->composing(),
       "AttributeKey=<EventId|EventName|ReadOnly|Username|ResourceType|ResourceName|EventSource|"
       "AccessKeyId>,AttributeValue=<value>; several are ANDed (organization extension)")
      ("start-time", po::value<std::string>(), "inclusive start: ISO 8601 / RFC 3339, date, or epoch seconds")
      ("end-time", po::value<std::string>(), "inclusive end: ISO 8601 / RFC 3339, date, or epoch seconds")
      ("max-results", po::value<std::string>(), "events per request (1-1000; CloudTrail allows 1-50, default 50)")
      ("max-items", po::value<std::string>(), "total events to print; prints NextToken if more remain")
      ("starting-token", po::value<std::string>(), "NextToken of an earlier call with the same parameters")
      ("no-paginate", "fetch only the first page")
      ("accounts", po::value<std::vector<std::string>>()->multitoken()->composing(),
       "only these 12-digit accounts (comma-separated or repeated)")
      ("regions", po::value<std::vector<std::string>>()->multitoken()->composing(),
       "only these regions (global-service events live in the home region)")
      ("include-data-events", "include data and network-activity events (CloudTrail returns management events only)")
      ("event-category", po::value<std::string>(), "'insight' for Insights events")
      ("output", po::value<std::string>(), "json (default, aws-cli's shape) | table | text")
      ("shard-map", po::value<std::string>(), "sharded collectors: ask every shard of this map (or ORGTRAIL_SHARD_MAP) and merge, newest first, one NextToken");
  AddConnectionOptions(&options);
  po::variables_map values;
  if (int done = ParseArgs(argc, argv, info, options, &values); done >= 0) return done;
  LookupCommand command;
  if (Status status = BuildLookupCommand(values, &command); !status.ok()) {
    return UsageError("lookup-events", status);
  }
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) return UsageError("lookup-events", connection.status());
  auto shards = ShardTargetsFromValues(values, *connection);
  if (!shards.ok()) return UsageError("lookup-events", shards.status());
  if (!shards->empty()) return RunShardedLookup(*shards, command);
  return RunLookupPages(*connection, &command);
}

int RunGetEvent(int argc, const char* const* argv) {
  const BinaryInfo info{"orgtrailctl get-event",
                        "print one stored event and its provenance (signed batch, agent "
                        "certificate, inclusion proof) as JSON",
                        "orgtrailctl get-event EVENT_ID [options]"};
  po::options_description options("get-event options");
  options.add_options()
      ("event-id", po::value<std::string>(), "the eventID (also positional)")
      ("account", po::value<std::string>(), "the recipient account, when the eventID is stored in several")
      ("shard-map", po::value<std::string>(), "sharded collectors: ask each shard of this map (or ORGTRAIL_SHARD_MAP)");
  AddConnectionOptions(&options);
  po::positional_options_description positional;
  positional.add("event-id", 1);
  po::variables_map values;
  if (int done = ParseArgs(argc, argv, info, options, &values, &positional); done >= 0) return done;
  const std::string event_id = OptionalString(values, "event-id");
  if (Status status = CheckEventIdArgument(event_id); !status.ok()) {
    return UsageError("get-event", status);
  }
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) return UsageError("get-event", connection.status());
  auto shards = ShardTargetsFromValues(values, *connection);
  if (!shards.ok()) return UsageError("get-event", shards.status());
  auto event = shards->empty() ? FetchEvent(*connection, event_id, OptionalString(values, "account"))
                               : ShardedGetEvent(*shards, event_id, OptionalString(values, "account"));
  if (!event.ok()) {
    std::fprintf(stderr, "orgtrailctl get-event: %s\n", std::string(event.status().message()).c_str());
    return kExitFailure;
  }
  std::fputs(FormatGetEventDocument(*event).c_str(), stdout);
  return kExitOk;
}

int RunVerifyEvent(int argc, const char* const* argv) {
  const BinaryInfo info{"orgtrailctl verify-event",
                        "verify an event's provenance offline against the organization CA "
                        "(certificate chain, identity, signature, inclusion proof)",
                        "orgtrailctl verify-event EVENT_ID --ca ca.pem [options]\n"
                        "       orgtrailctl verify-event --from-file event.json --ca ca.pem"};
  po::options_description options("verify-event options");
  options.add_options()
      ("event-id", po::value<std::string>(), "the eventID (also positional)")
      ("account", po::value<std::string>(), "the recipient account, when the eventID is stored in several")
      ("from-file", po::value<std::string>(), "verify a saved `orgtrailctl get-event` document instead of fetching")
      ("shard-map", po::value<std::string>(), "sharded collectors: fetch from the shard of this map (or ORGTRAIL_SHARD_MAP) that has the event");
  AddConnectionOptions(&options);
  po::positional_options_description positional;
  positional.add("event-id", 1);
  po::variables_map values;
  if (int done = ParseArgs(argc, argv, info, options, &values, &positional); done >= 0) return done;

  const std::string event_id = OptionalString(values, "event-id");
  const std::string from_file = OptionalString(values, "from-file");
  if (event_id.empty() && from_file.empty()) {
    return UsageError("verify-event", absl::InvalidArgumentError(
                                          "EVENT_ID: required (or --from-file FILE)"));
  }
  if (!event_id.empty()) {
    if (Status status = CheckEventIdArgument(event_id); !status.ok()) {
      return UsageError("verify-event", status);
    }
  }
  std::string ca_path = OptionalString(values, "ca");
  if (ca_path.empty() && std::getenv("ORGTRAIL_CA") != nullptr) ca_path = std::getenv("ORGTRAIL_CA");
  if (ca_path.empty()) {
    return UsageError("verify-event",
                      absl::InvalidArgumentError("--ca: required (or set ORGTRAIL_CA)"));
  }
  auto ca_pem = ReadFile(ca_path);
  if (!ca_pem.ok()) {
    return UsageError("verify-event", absl::InvalidArgumentError(
                                          "--ca: cannot read '" + ca_path + "': " +
                                          std::string(ca_pem.status().message())));
  }

  v1::GetEventResponse event;
  if (!from_file.empty()) {
    auto text = ReadFile(from_file);
    if (!text.ok()) {
      return UsageError("verify-event", absl::InvalidArgumentError(
                                            "--from-file: cannot read '" + from_file + "': " +
                                            std::string(text.status().message())));
    }
    auto parsed = ParseGetEventDocument(*text);
    if (!parsed.ok()) {
      std::fprintf(stderr, "orgtrailctl verify-event: --from-file %s: %s\n", from_file.c_str(),
                   std::string(parsed.status().message()).c_str());
      std::printf("FAIL  document: %s\nverification FAILED\n",
                  std::string(parsed.status().message()).c_str());
      return kExitFailure;
    }
    event = std::move(*parsed);
  } else {
    auto connection = ConnectionOptionsFromValues(values);
    if (!connection.ok()) return UsageError("verify-event", connection.status());
    auto shards = ShardTargetsFromValues(values, *connection);
    if (!shards.ok()) return UsageError("verify-event", shards.status());
    auto fetched = shards->empty() ? FetchEvent(*connection, event_id, OptionalString(values, "account"))
                                   : ShardedGetEvent(*shards, event_id, OptionalString(values, "account"));
    if (!fetched.ok()) {
      std::fprintf(stderr, "orgtrailctl verify-event: %s\n",
                   std::string(fetched.status().message()).c_str());
      return kExitFailure;
    }
    event = std::move(*fetched);
  }

  const VerifyReport report = VerifyEventProvenance(event, *ca_pem, event_id);
  for (const auto& check : report.checks) {
    std::printf("%-4s  %s: %s\n", check.ok ? "OK" : "FAIL", check.name.c_str(), check.detail.c_str());
  }
  std::printf("verification %s\n", report.ok() ? "passed" : "FAILED");
  return report.ok() ? kExitOk : kExitFailure;
}

}  // namespace orgtrail::cli
