// orgtrailctl trail commands, shaped after aws-cli's cloudtrail commands, on
// the collector's orgtrail.v1.Admin service (admin certificate required):
//   create-trail, update-trail, delete-trail, describe-trails, get-trail,
//   put-event-selectors, get-event-selectors, start-logging, stop-logging,
//   get-trail-status.
// Selectors are given as aws-cli JSON (--event-selectors /
// --advanced-event-selectors, inline or file://PATH) and checked locally with
// the same rules the collector applies (common/selectors.h) before the call.
// Output: aws-cli shaped JSON on stdout. Exit status: 0 success, 1 the
// collector refused or failed, 2 usage error (stderr names the flag).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "command_util.h"
#include "connection.h"
#include "events_format.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/selectors.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/v1/admin.grpc.pb.h"
#include "shard_fanout.h"
#include "trail_fanout.h"
#include "trail_json.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;
using google::protobuf::ListValue;
using google::protobuf::Value;


int UsageError(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "orgtrailctl %s: %s\n", command.c_str(), message.c_str());
  return kExitUsage;
}

// ---------------------------------------------------------------- JSON input

StatusOr<std::string> ReadJsonArgument(const std::string& flag, const std::string& text) {
  if (text.rfind("file://", 0) != 0) return text;
  std::ifstream in(text.substr(7), std::ios::binary);
  if (!in) return absl::InvalidArgumentError(flag + ": cannot read '" + text.substr(7) + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (4 << 20)) return absl::InvalidArgumentError(flag + ": file larger than 4 MiB");
  return ss.str();
}

StatusOr<ListValue> ParseJsonList(const std::string& flag, const std::string& text) {
  if (text.size() > (4 << 20)) return absl::InvalidArgumentError(flag + ": JSON larger than 4 MiB");
  ListValue list;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &list);
  if (!status.ok()) {
    return absl::InvalidArgumentError(flag + ": expected a JSON array: " + std::string(status.message()));
  }
  return list;
}

Status ExpectKind(const std::string& where, const Value& v, Value::KindCase kind, const char* what) {
  if (v.kind_case() != kind) return absl::InvalidArgumentError(where + ": expected " + what);
  return absl::OkStatus();
}

Status StringList(const std::string& where, const Value& v,
                  google::protobuf::RepeatedPtrField<std::string>* out) {
  ORGTRAIL_RETURN_IF_ERROR(ExpectKind(where, v, Value::kListValue, "an array of strings"));
  for (const auto& item : v.list_value().values()) {
    ORGTRAIL_RETURN_IF_ERROR(ExpectKind(where, item, Value::kStringValue, "an array of strings"));
    out->Add(std::string(item.string_value()));
  }
  return absl::OkStatus();
}

StatusOr<google::protobuf::RepeatedPtrField<v1::EventSelector>> ParseEventSelectors(
    const std::string& flag, const std::string& text) {
  auto list = ParseJsonList(flag, text);
  if (!list.ok()) return list.status();
  google::protobuf::RepeatedPtrField<v1::EventSelector> out;
  for (int i = 0; i < list->values_size(); ++i) {
    const std::string where = flag + "[" + std::to_string(i) + "]";
    const Value& item = list->values(i);
    ORGTRAIL_RETURN_IF_ERROR(ExpectKind(where, item, Value::kStructValue, "an object"));
    v1::EventSelector* selector = out.Add();
    for (const auto& [key, value] : item.struct_value().fields()) {
      const std::string at = where + "." + key;
      if (key == "ReadWriteType") {
        ORGTRAIL_RETURN_IF_ERROR(ExpectKind(at, value, Value::kStringValue, "ReadOnly, WriteOnly or All"));
        const std::string& v = value.string_value();
        if (v == "ReadOnly") selector->set_read_write_type(v1::READ_ONLY);
        else if (v == "WriteOnly") selector->set_read_write_type(v1::WRITE_ONLY);
        else if (v == "All") selector->set_read_write_type(v1::ALL);
        else return absl::InvalidArgumentError(at + ": expected ReadOnly, WriteOnly or All, got '" + v.substr(0, 64) + "'");
      } else if (key == "IncludeManagementEvents") {
        ORGTRAIL_RETURN_IF_ERROR(ExpectKind(at, value, Value::kBoolValue, "true or false"));
        selector->set_include_management_events(value.bool_value());
      } else if (key == "ExcludeManagementEventSources") {
        ORGTRAIL_RETURN_IF_ERROR(StringList(at, value, selector->mutable_exclude_management_event_sources()));
      } else if (key == "DataResources") {
        ORGTRAIL_RETURN_IF_ERROR(ExpectKind(at, value, Value::kListValue, "an array"));
        for (int j = 0; j < value.list_value().values_size(); ++j) {
          const std::string dat = at + "[" + std::to_string(j) + "]";
          const Value& dr = value.list_value().values(j);
          ORGTRAIL_RETURN_IF_ERROR(ExpectKind(dat, dr, Value::kStructValue, "an object"));
          v1::DataResource* resource = selector->add_data_resources();
          for (const auto& [dkey, dvalue] : dr.struct_value().fields()) {
            if (dkey == "Type") {
              ORGTRAIL_RETURN_IF_ERROR(ExpectKind(dat + ".Type", dvalue, Value::kStringValue, "a string"));
              resource->set_type(dvalue.string_value());
            } else if (dkey == "Values") {
              ORGTRAIL_RETURN_IF_ERROR(StringList(dat + ".Values", dvalue, resource->mutable_values()));
            } else {
              return absl::InvalidArgumentError(dat + ": unknown key '" + dkey.substr(0, 64) + "'");
            }
          }
        }
      } else {
        return absl::InvalidArgumentError(where + ": unknown key '" + key.substr(0, 64) + "'");
      }
    }
  }
  return out;
}

StatusOr<google::protobuf::RepeatedPtrField<v1::AdvancedEventSelector>> ParseAdvancedSelectors(
    const std::string& flag, const std::string& text) {
  auto list = ParseJsonList(flag, text);
  if (!list.ok()) return list.status();
  google::protobuf::RepeatedPtrField<v1::AdvancedEventSelector> out;
  for (int i = 0; i < list->values_size(); ++i) {
    const std::string where = flag + "[" + std::to_string(i) + "]";
    const Value& item = list->values(i);
    ORGTRAIL_RETURN_IF_ERROR(ExpectKind(where, item, Value::kStructValue, "an object"));
    v1::AdvancedEventSelector* selector = out.Add();
    for (const auto& [key, value] : item.struct_value().fields()) {
      if (key == "Name") {
        ORGTRAIL_RETURN_IF_ERROR(ExpectKind(where + ".Name", value, Value::kStringValue, "a string"));
        selector->set_name(value.string_value());
      } else if (key == "FieldSelectors") {
        ORGTRAIL_RETURN_IF_ERROR(ExpectKind(where + ".FieldSelectors", value, Value::kListValue, "an array"));
        for (int j = 0; j < value.list_value().values_size(); ++j) {
          const std::string fat = where + ".FieldSelectors[" + std::to_string(j) + "]";
          const Value& fs = value.list_value().values(j);
          ORGTRAIL_RETURN_IF_ERROR(ExpectKind(fat, fs, Value::kStructValue, "an object"));
          v1::AdvancedFieldSelector* field = selector->add_field_selectors();
          for (const auto& [fkey, fvalue] : fs.struct_value().fields()) {
            const std::string at = fat + "." + fkey;
            if (fkey == "Field") {
              ORGTRAIL_RETURN_IF_ERROR(ExpectKind(at, fvalue, Value::kStringValue, "a string"));
              field->set_field(fvalue.string_value());
            } else if (fkey == "Equals") {
              ORGTRAIL_RETURN_IF_ERROR(StringList(at, fvalue, field->mutable_equals()));
            } else if (fkey == "StartsWith") {
              ORGTRAIL_RETURN_IF_ERROR(StringList(at, fvalue, field->mutable_starts_with()));
            } else if (fkey == "EndsWith") {
              ORGTRAIL_RETURN_IF_ERROR(StringList(at, fvalue, field->mutable_ends_with()));
            } else if (fkey == "NotEquals") {
              ORGTRAIL_RETURN_IF_ERROR(StringList(at, fvalue, field->mutable_not_equals()));
            } else if (fkey == "NotStartsWith") {
              ORGTRAIL_RETURN_IF_ERROR(StringList(at, fvalue, field->mutable_not_starts_with()));
            } else if (fkey == "NotEndsWith") {
              ORGTRAIL_RETURN_IF_ERROR(StringList(at, fvalue, field->mutable_not_ends_with()));
            } else {
              return absl::InvalidArgumentError(fat + ": unknown key '" + fkey.substr(0, 64) + "'");
            }
          }
        }
      } else {
        return absl::InvalidArgumentError(where + ": unknown key '" + key.substr(0, 64) + "'");
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- commands

struct TrailCommand {
  std::string name;
  po::variables_map values;
  ConnectionOptions connection;
  std::unique_ptr<v1::Admin::Stub> stub;
  std::string output;      // printed on success (once, with --shard-map: trail_fanout.h)
  v1::TrailStatus status;  // get-trail-status
};

std::string Option(const po::variables_map& values, const char* name) {
  return values.count(name) ? values[name].as<std::string>() : std::string();
}

int Fail(const TrailCommand& c, const grpc::Status& status) {
  std::fprintf(stderr, "orgtrailctl %s: %s\n", c.name.c_str(),
               DescribeRpcError(c.connection, status).c_str());
  return kExitFailure;
}

void AddTrailShapeOptions(po::options_description* options) {
  options->add_options()
      ("s3-bucket-name", po::value<std::string>(), "export bucket name")
      ("s3-key-prefix", po::value<std::string>(), "export key prefix (<= 200 characters)")
      ("is-multi-region-trail", po::bool_switch(), "log events of every region")
      ("no-is-multi-region-trail", po::bool_switch(), "log only the home region")
      ("include-global-service-events", po::bool_switch(), "include IAM/STS/... events")
      ("no-include-global-service-events", po::bool_switch(), "exclude global-service events")
      ("is-organization-trail", po::bool_switch(), "an organization trail (every account)")
      ("no-is-organization-trail", po::bool_switch(), "not an organization trail")
      ("enable-log-file-validation", po::bool_switch(), "signed digest files for exports")
      ("no-enable-log-file-validation", po::bool_switch(), "no digest files");
}

// Applies --flag / --no-flag pairs; INVALID_ARGUMENT if both are given.
Status ApplyTrailShape(const po::variables_map& v, v1::Trail* trail) {
  struct Pair { const char* on; const char* off; void (v1::Trail::*set)(bool); };
  const Pair pairs[] = {
      {"is-multi-region-trail", "no-is-multi-region-trail", &v1::Trail::set_is_multi_region_trail},
      {"include-global-service-events", "no-include-global-service-events", &v1::Trail::set_include_global_service_events},
      {"is-organization-trail", "no-is-organization-trail", &v1::Trail::set_is_organization_trail},
      {"enable-log-file-validation", "no-enable-log-file-validation", &v1::Trail::set_log_file_validation_enabled},
  };
  for (const auto& p : pairs) {
    const bool on = v[p.on].as<bool>();
    const bool off = v[p.off].as<bool>();
    if (on && off) {
      return absl::InvalidArgumentError(std::string("--") + p.on + " and --" + p.off + " exclude each other");
    }
    if (on) (trail->*p.set)(true);
    if (off) (trail->*p.set)(false);
  }
  if (v.count("s3-bucket-name")) trail->set_s3_bucket_name(v["s3-bucket-name"].as<std::string>());
  if (v.count("s3-key-prefix")) trail->set_s3_key_prefix(v["s3-key-prefix"].as<std::string>());
  return absl::OkStatus();
}

int CreateOrUpdate(TrailCommand& c, bool create) {
  v1::Trail trail;
  const std::string name = Option(c.values, "name");
  if (create) {
    trail.set_name(name);
    trail.set_include_global_service_events(true);  // aws-cli default
  } else {
    grpc::ClientContext ctx;
    SetDeadline(c.connection, &ctx);
    v1::TrailNameRequest request;
    request.set_name(name);
    v1::TrailResponse current;
    auto status = c.stub->GetTrail(&ctx, request, &current);
    if (!status.ok()) return Fail(c, status);
    trail = current.trail();
  }
  if (auto s = ApplyTrailShape(c.values, &trail); !s.ok()) return UsageError(c.name, std::string(s.message()));
  if (create && trail.s3_bucket_name().empty()) return UsageError(c.name, "--s3-bucket-name: required");
  if (auto s = ValidateTrail(trail); !s.ok()) return UsageError(c.name, std::string(s.message()));
  grpc::ClientContext ctx;
  SetDeadline(c.connection, &ctx);
  v1::TrailResponse response;
  grpc::Status status;
  if (create) {
    v1::CreateTrailRequest request;
    *request.mutable_trail() = trail;
    status = c.stub->CreateTrail(&ctx, request, &response);
  } else {
    v1::UpdateTrailRequest request;
    *request.mutable_trail() = trail;
    status = c.stub->UpdateTrail(&ctx, request, &response);
  }
  if (!status.ok()) return Fail(c, status);
  c.output = TrailJson(response.trail());
  return kExitOk;
}

int PutEventSelectors(TrailCommand& c) {
  const std::string basic = Option(c.values, "event-selectors");
  const std::string advanced = Option(c.values, "advanced-event-selectors");
  if (basic.empty() == advanced.empty()) {
    return UsageError(c.name, "--event-selectors or --advanced-event-selectors: exactly one is required");
  }
  v1::PutEventSelectorsRequest request;
  request.set_trail_name(Option(c.values, "trail-name"));
  if (!basic.empty()) {
    auto text = ReadJsonArgument("--event-selectors", basic);
    if (!text.ok()) return UsageError(c.name, std::string(text.status().message()));
    auto parsed = ParseEventSelectors("--event-selectors", *text);
    if (!parsed.ok()) return UsageError(c.name, std::string(parsed.status().message()));
    if (auto s = ValidateEventSelectors(*parsed); !s.ok()) {
      return UsageError(c.name, "--event-selectors: " + std::string(s.message()));
    }
    *request.mutable_event_selectors() = std::move(*parsed);
  } else {
    auto text = ReadJsonArgument("--advanced-event-selectors", advanced);
    if (!text.ok()) return UsageError(c.name, std::string(text.status().message()));
    auto parsed = ParseAdvancedSelectors("--advanced-event-selectors", *text);
    if (!parsed.ok()) return UsageError(c.name, std::string(parsed.status().message()));
    if (auto s = ValidateAdvancedEventSelectors(*parsed); !s.ok()) {
      return UsageError(c.name, "--advanced-event-selectors: " + std::string(s.message()));
    }
    *request.mutable_advanced_event_selectors() = std::move(*parsed);
  }
  grpc::ClientContext ctx;
  SetDeadline(c.connection, &ctx);
  v1::GetEventSelectorsResponse response;
  auto status = c.stub->PutEventSelectors(&ctx, request, &response);
  if (!status.ok()) return Fail(c, status);
  c.output = SelectorsResponseJson(response);
  return kExitOk;
}

// One {"InsightType": "..."} object of --insight-selectors.
StatusOr<std::string> InsightTypeOf(const std::string& where, const Value& item) {
  ORGTRAIL_RETURN_IF_ERROR(ExpectKind(where, item, Value::kStructValue, "an object {\"InsightType\": ...}"));
  const auto& fields = item.struct_value().fields();
  for (const auto& [key, value] : fields) {
    if (key != "InsightType") return absl::InvalidArgumentError(where + ": unknown member '" + key.substr(0, 64) + "'");
  }
  auto it = fields.find("InsightType");
  if (it == fields.end()) return absl::InvalidArgumentError(where + ": InsightType required");
  ORGTRAIL_RETURN_IF_ERROR(ExpectKind(where + ".InsightType", it->second, Value::kStringValue, "a string"));
  return std::string(it->second.string_value());
}

// --insight-selectors '[{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiErrorRateInsight"}]'
// ('[]' turns Insights off), as aws cloudtrail put-insight-selectors.
int PutInsightSelectors(TrailCommand& c) {
  const std::string flag = "--insight-selectors";
  if (!c.values.count("insight-selectors")) return UsageError(c.name, flag + ": required");
  auto text = ReadJsonArgument(flag, Option(c.values, "insight-selectors"));
  if (!text.ok()) return UsageError(c.name, std::string(text.status().message()));
  auto list = ParseJsonList(flag, *text);
  if (!list.ok()) return UsageError(c.name, std::string(list.status().message()));
  v1::PutInsightSelectorsRequest request;
  request.set_trail_name(Option(c.values, "trail-name"));
  for (int i = 0; i < list->values_size(); ++i) {
    auto type = InsightTypeOf(flag + "[" + std::to_string(i) + "]", list->values(i));
    if (!type.ok()) return UsageError(c.name, std::string(type.status().message()));
    request.add_insight_selectors()->set_insight_type(*type);
  }
  if (auto s = ValidateInsightSelectors(request.insight_selectors()); !s.ok()) {
    return UsageError(c.name, flag + ": " + std::string(s.message()));
  }
  grpc::ClientContext ctx;
  SetDeadline(c.connection, &ctx);
  v1::GetInsightSelectorsResponse response;
  auto status = c.stub->PutInsightSelectors(&ctx, request, &response);
  if (!status.ok()) return Fail(c, status);
  c.output = InsightSelectorsJson(response);
  return kExitOk;
}

int ByName(TrailCommand& c) {
  v1::TrailNameRequest request;
  request.set_name(Option(c.values, c.values.count("trail-name") ? "trail-name" : "name"));
  grpc::ClientContext ctx;
  SetDeadline(c.connection, &ctx);
  grpc::Status status;
  std::string out;
  if (c.name == "delete-trail") {
    v1::DeleteTrailResponse r;
    status = c.stub->DeleteTrail(&ctx, request, &r);
  } else if (c.name == "get-trail") {
    v1::TrailResponse r;
    status = c.stub->GetTrail(&ctx, request, &r);
    out = JsonObject().Raw("Trail", TrailJson(r.trail())).Done();
  } else if (c.name == "get-event-selectors") {
    v1::GetEventSelectorsResponse r;
    status = c.stub->GetEventSelectors(&ctx, request, &r);
    out = SelectorsResponseJson(r);
  } else if (c.name == "get-insight-selectors") {
    v1::GetInsightSelectorsResponse r;
    status = c.stub->GetInsightSelectors(&ctx, request, &r);
    out = InsightSelectorsJson(r);
  } else if (c.name == "start-logging" || c.name == "stop-logging") {
    v1::LoggingResponse r;
    status = c.name == "start-logging" ? c.stub->StartLogging(&ctx, request, &r)
                                       : c.stub->StopLogging(&ctx, request, &r);
  } else {  // get-trail-status
    v1::GetTrailStatusResponse r;
    status = c.stub->GetTrailStatus(&ctx, request, &r);
    c.status = r.status();
    out = TrailStatusJson(r.status());
  }
  if (!status.ok()) return Fail(c, status);
  c.output = out;
  return kExitOk;
}

int DescribeTrails(TrailCommand& c) {
  v1::DescribeTrailsRequest request;
  if (c.values.count("trail-name-list")) {
    for (const auto& n : c.values["trail-name-list"].as<std::vector<std::string>>()) request.add_names(n);
  }
  grpc::ClientContext ctx;
  SetDeadline(c.connection, &ctx);
  v1::DescribeTrailsResponse response;
  auto status = c.stub->DescribeTrails(&ctx, request, &response);
  if (!status.ok()) return Fail(c, status);
  std::string list = "[";
  for (int i = 0; i < response.trails_size(); ++i) list += (i ? ", " : "") + TrailJson(response.trails(i));
  c.output = JsonObject().Raw("trailList", list + "]").Done();
  return kExitOk;
}

int Dispatch(TrailCommand& c) {
  if (c.name == "create-trail") return CreateOrUpdate(c, true);
  if (c.name == "update-trail") return CreateOrUpdate(c, false);
  if (c.name == "put-event-selectors") return PutEventSelectors(c);
  if (c.name == "put-insight-selectors") return PutInsightSelectors(c);
  if (c.name == "describe-trails") return DescribeTrails(c);
  return ByName(c);
}

int RunTrailCommand(int argc, const char* const* argv) {
  TrailCommand c;
  c.name = argv[0];
  po::options_description options("orgtrailctl " + c.name + " options");
  const char* name_flag = "name";
  if (c.name.find("-selectors") != std::string::npos) name_flag = "trail-name";
  if (c.name != "describe-trails") {
    options.add_options()(name_flag, po::value<std::string>(), "trail name or ARN (required)");
  }
  if (c.name == "create-trail" || c.name == "update-trail") AddTrailShapeOptions(&options);
  if (c.name == "put-event-selectors") {
    options.add_options()
        ("event-selectors", po::value<std::string>(), "basic selectors, aws-cli JSON or file://PATH")
        ("advanced-event-selectors", po::value<std::string>(), "advanced selectors, aws-cli JSON or file://PATH");
  }
  if (c.name == "put-insight-selectors") {
    options.add_options()("insight-selectors", po::value<std::string>(),
                          "JSON array of {\"InsightType\": \"ApiCallRateInsight\"|\"ApiErrorRateInsight\"} or file://PATH "
                          "('[]' turns Insights off)");
  }
  if (c.name == "describe-trails") {
    options.add_options()("trail-name-list", po::value<std::vector<std::string>>()->multitoken(),
                          "names or ARNs (default: all trails)");
  }
  options.add_options()("shard-map", po::value<std::string>(),
                        "sharded collectors: run on every shard of this map (or ORGTRAIL_SHARD_MAP); "
                        "changes shard by shard, reads compared, status merged");
  AddConnectionOptions(&options);
  BinaryInfo info{"orgtrailctl " + c.name, "manage organization trails at the collector (admin)",
                  "orgtrailctl " + c.name + " [options]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &c.values, ConnectionEnvOptions());
  if (!outcome.ok()) return UsageError(c.name, std::string(outcome.status().message()));
  if (*outcome == ParseOutcome::kExitSuccess) return kExitOk;
  if (c.name != "describe-trails" && Option(c.values, name_flag).empty()) {
    return UsageError(c.name, std::string("--") + name_flag + ": required");
  }
  auto connection = ConnectionOptionsFromValues(c.values);
  if (!connection.ok()) return UsageError(c.name, std::string(connection.status().message()));
  auto shards = ShardTargetsFromValues(c.values, *connection);
  if (!shards.ok()) return UsageError(c.name, std::string(shards.status().message()));
  auto run_on = [&c](const ConnectionOptions& target) {
    TrailShardAnswer answer;
    c.connection = target;
    c.output.clear();
    auto channel = MakeCollectorChannel(c.connection);
    if (!channel.ok()) {
      answer.exit_code = UsageError(c.name, std::string(channel.status().message()));
      return answer;
    }
    c.stub = v1::Admin::NewStub(*channel);
    answer.exit_code = Dispatch(c);
    answer.output = c.output;
    answer.status = c.status;
    return answer;
  };
  if (shards->empty()) {
    TrailShardAnswer answer = run_on(*connection);
    if (answer.exit_code == kExitOk && !answer.output.empty()) std::printf("%s\n", answer.output.c_str());
    return answer.exit_code;
  }
  return RunTrailCommandOnShards(
      c.name, *shards, [&run_on](const ShardTarget& shard) { return run_on(shard.connection); }, TrailStatusJson);
}

}  // namespace

int RunCreateTrail(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunUpdateTrail(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunDeleteTrail(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunDescribeTrails(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunGetTrail(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunPutEventSelectors(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunGetEventSelectors(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunPutInsightSelectors(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunGetInsightSelectors(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunStartLogging(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunStopLogging(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }
int RunGetTrailStatus(int argc, const char* const* argv) { return RunTrailCommand(argc, argv); }

}  // namespace orgtrail::cli
