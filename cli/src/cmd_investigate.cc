// orgtrailctl investigation subcommands (orgtrail.v1.Investigations):
//   tail   live events matching a CloudWatch Logs filter pattern, resumable
//          from a commit-index cursor, reconnecting without loss
//   query  one read-only SQL SELECT run at the collector (SQLite over the
//          store), printed as a table, JSON or CSV
// Exit status: 0 ok, 1 the collector refused or failed the request, 2 usage.
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <grpcpp/grpcpp.h>

#include "command_util.h"
#include "connection.h"
#include "events_format.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/filter_pattern.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace po = boost::program_options;

namespace orgtrail::cli {

namespace {


int Usage(const char* command, const std::string& message) {
  std::fprintf(stderr, "orgtrailctl %s: %s\n", command, message.c_str());
  return kExitUsage;
}

// ---- tail ----

struct TailCommand {
  FilterPattern pattern;
  std::optional<uint64_t> cursor;
  int64_t max_events = 0;  // 0 = unlimited
  int64_t duration_us = 0;  // 0 = until interrupted
  bool raw = false;
  int max_reconnects = 30;
};

// One Subscribe stream; returns its final status. Advances *cursor and *printed.
grpc::Status TailOnce(const ConnectionOptions& connection, const std::shared_ptr<grpc::Channel>& channel,
                      const TailCommand& command, std::optional<uint64_t>* cursor, int64_t* printed,
                      std::chrono::system_clock::time_point end, bool* done) {
  auto stub = v1::Investigations::NewStub(channel);
  grpc::ClientContext context;
  if (command.duration_us > 0) context.set_deadline(end);
  v1::SubscribeRequest request;
  request.set_filter_pattern(command.pattern.text());
  if (*cursor) request.set_cursor(**cursor);
  auto reader = stub->Subscribe(&context, request);
  v1::SubscribeResponse response;
  while (reader->Read(&response)) {
    for (const auto& event : response.events()) {
      if (command.raw) {
        std::fwrite(event.cloudtrail_event().data(), 1, event.cloudtrail_event().size(), stdout);
        std::fputc('\n', stdout);
      } else {
        std::printf("{\"cursor\":%llu,\"eventID\":%s,\"account\":%s,\"region\":%s,\"event\":%s}\n",
                    static_cast<unsigned long long>(event.commit_index()), JsonQuote(event.event_id()).c_str(),
                    JsonQuote(event.meta().partition_account_id()).c_str(),
                    JsonQuote(event.meta().partition_region()).c_str(), event.cloudtrail_event().c_str());
      }
      *cursor = event.commit_index();
      ++*printed;
      if (command.max_events > 0 && *printed >= command.max_events) {
        std::fflush(stdout);
        *done = true;
        context.TryCancel();
        break;
      }
    }
    if (*done) break;
    *cursor = response.cursor();
    std::fflush(stdout);
  }
  grpc::Status status = reader->Finish();
  (void)connection;
  return status;
}

int RunTailLoop(const ConnectionOptions& connection, TailCommand command) {
  auto channel = MakeCollectorChannel(connection);
  if (!channel.ok()) return Usage("tail", std::string(channel.status().message()));
  std::optional<uint64_t> cursor = command.cursor;
  int64_t printed = 0;
  bool done = false;
  auto end = std::chrono::system_clock::now() + std::chrono::microseconds(command.duration_us);
  int failures = 0;
  for (;;) {
    grpc::Status status = TailOnce(connection, *channel, command, &cursor, &printed, end, &done);
    if (done) return kExitOk;
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && command.duration_us > 0 &&
        std::chrono::system_clock::now() >= end) {
      return kExitOk;
    }
    bool transient = status.error_code() == grpc::StatusCode::UNAVAILABLE || status.ok();
    if (!transient || ++failures > command.max_reconnects) {
      std::fprintf(stderr, "orgtrailctl tail: %s\n", DescribeRpcError(connection, status).c_str());
      return kExitFailure;
    }
    std::fprintf(stderr, "orgtrailctl tail: stream ended (%s); resuming from cursor %s\n",
                 status.error_message().c_str(), cursor ? std::to_string(*cursor).c_str() : "now");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 250 * failures)));
  }
}

// ---- query ----

std::string CellText(const v1::SqlValue& value) {
  switch (value.value_case()) {
    case v1::SqlValue::kInteger: return std::to_string(value.integer());
    case v1::SqlValue::kReal: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.15g", value.real());
      return buf;
    }
    case v1::SqlValue::kText: return value.text();
    case v1::SqlValue::kBlob: return "<blob " + std::to_string(value.blob().size()) + " bytes>";
    default: return "NULL";
  }
}

std::string CellJson(const v1::SqlValue& value) {
  switch (value.value_case()) {
    case v1::SqlValue::kInteger: return std::to_string(value.integer());
    case v1::SqlValue::kReal: return CellText(value);
    case v1::SqlValue::kText: return JsonQuote(value.text());
    case v1::SqlValue::kBlob: return JsonQuote(CellText(value));
    default: return "null";
  }
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Display width in code points, control characters shown as spaces.
std::string TableCell(const std::string& text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (chars == max_chars) {
        out += "...";
        break;
      }
      ++chars;
    }
    out += c < 0x20 ? ' ' : static_cast<char>(c);
  }
  return out;
}

size_t Width(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void PrintTable(const v1::SqlResponse& response) {
  const int n = response.columns_size();
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths(static_cast<size_t>(n));
  std::vector<std::string> header(response.columns().begin(), response.columns().end());
  for (int c = 0; c < n; ++c) widths[c] = Width(header[c]);
  for (const auto& row : response.rows()) {
    std::vector<std::string> line;
    for (int c = 0; c < n && c < row.values_size(); ++c) {
      line.push_back(TableCell(CellText(row.values(c)), 80));
      widths[c] = std::max(widths[c], Width(line.back()));
    }
    cells.push_back(std::move(line));
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    std::string out;
    for (int c = 0; c < n; ++c) {
      const std::string& text = c < static_cast<int>(line.size()) ? line[c] : std::string();
      out += (c ? " | " : "") + text + std::string(widths[c] - std::min(widths[c], Width(text)), ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::printf("%s\n", out.c_str());
  };
  print_line(header);
  std::string rule;
  for (int c = 0; c < n; ++c) rule += (c ? "-+-" : "") + std::string(widths[c], '-');
  std::printf("%s\n", rule.c_str());
  for (const auto& line : cells) print_line(line);
}

void PrintJson(const v1::SqlResponse& response) {
  std::printf("[");
  for (int r = 0; r < response.rows_size(); ++r) {
    std::printf("%s\n {", r ? "," : "");
    const auto& row = response.rows(r);
    for (int c = 0; c < response.columns_size() && c < row.values_size(); ++c) {
      std::printf("%s%s:%s", c ? "," : "", JsonQuote(response.columns(c)).c_str(), CellJson(row.values(c)).c_str());
    }
    std::printf("}");
  }
  std::printf("%s]\n", response.rows_size() ? "\n" : "");
}

void PrintCsv(const v1::SqlResponse& response) {
  std::string line;
  for (int c = 0; c < response.columns_size(); ++c) line += (c ? "," : "") + CsvField(response.columns(c));
  std::printf("%s\r\n", line.c_str());
  for (const auto& row : response.rows()) {
    line.clear();
    for (int c = 0; c < row.values_size(); ++c) {
      line += (c ? "," : "") + (row.values(c).has_null() ? std::string() : CsvField(CellText(row.values(c))));
    }
    std::printf("%s\r\n", line.c_str());
  }
}

}  // namespace

int RunTail(int argc, const char* const* argv) {
  const BinaryInfo info{"orgtrailctl tail",
                        "stream events as the collector stores them, filtered by a CloudWatch Logs JSON "
                        "filter pattern; resumable from a cursor without loss",
                        "orgtrailctl tail [--filter '{ $.eventName = \"DeleteBucket\" }'] [--from-cursor N] [options]"};
  po::options_description options("tail options");
  options.add_options()
      ("filter", po::value<std::string>(), "CloudWatch Logs JSON filter pattern (default: every event)")
      ("from-cursor", po::value<std::string>(), "resume after this cursor (commit index; 0 = from the first stored event); default: from now")
      ("max-events", po::value<std::string>(), "exit after printing this many events")
      ("duration", po::value<std::string>(), "exit after this long (\"30s\", \"5m\")")
      ("output", po::value<std::string>(), "json (default: one object per line with cursor, eventID, account, region, event) | raw (the record only)");
  AddConnectionOptions(&options);
  po::variables_map values;
  if (int done = ParseArgs(argc, argv, info, options, &values); done >= 0) return done;
  TailCommand command;
  if (values.count("filter")) {
    auto pattern = FilterPattern::Parse(values["filter"].as<std::string>());
    if (!pattern.ok()) return Usage("tail", "--filter: " + std::string(pattern.status().message()));
    command.pattern = std::move(*pattern);
  }
  auto parse_count = [&](const char* name, uint64_t max, uint64_t* out) -> bool {
    if (!values.count(name)) return true;
    const std::string text = values[name].as<std::string>();
    if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos) return false;
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE || v > max) return false;
    *out = v;
    return true;
  };
  uint64_t cursor = 0, max_events = 0;
  if (!parse_count("from-cursor", UINT64_MAX, &cursor)) return Usage("tail", "--from-cursor: expected a non-negative integer");
  if (values.count("from-cursor")) command.cursor = cursor;
  if (!parse_count("max-events", 1000000000ULL, &max_events)) return Usage("tail", "--max-events: expected an integer 0..1000000000");
  command.max_events = static_cast<int64_t>(max_events);
  if (values.count("duration")) {
    auto duration = ParseDuration("--duration", values["duration"].as<std::string>());
    if (!duration.ok()) return Usage("tail", std::string(duration.status().message()));
    if (*duration <= 0) return Usage("tail", "--duration: must be positive");
    command.duration_us = *duration;
  }
  if (values.count("output")) {
    const std::string output = values["output"].as<std::string>();
    if (output == "raw") {
      command.raw = true;
    } else if (output != "json") {
      return Usage("tail", "--output: expected json or raw, got '" + output + "'");
    }
  }
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) return Usage("tail", std::string(connection.status().message()));
  signal(SIGPIPE, SIG_DFL);  // `orgtrailctl tail | head` ends quietly
  return RunTailLoop(*connection, std::move(command));
}

int RunQuery(int argc, const char* const* argv) {
  const BinaryInfo info{"orgtrailctl query",
                        "run one read-only SQL SELECT over the organization's events at the collector "
                        "(table `events`, CloudTrail Lake column names, eventjson for json_extract)",
                        "orgtrailctl query \"SELECT eventname, COUNT(*) FROM events GROUP BY 1\" [--output table|json|csv] [options]"};
  po::options_description options("query options");
  options.add_options()
      ("sql", po::value<std::string>(), "the SELECT statement (also positional)")
      ("output", po::value<std::string>(), "table (default) | json | csv")
      ("max-rows", po::value<std::string>(), "fail if the query returns more rows (default 10000)")
      ("query-timeout", po::value<std::string>(), "time limit at the collector (default 30s)")
      ("stats", "print rows read, index steps, elapsed time and the access plan to stderr");
  AddConnectionOptions(&options);
  po::positional_options_description positional;
  positional.add("sql", 1);
  po::variables_map values;
  if (int done = ParseArgs(argc, argv, info, options, &values, &positional); done >= 0) return done;
  if (!values.count("sql") || values["sql"].as<std::string>().empty()) return Usage("query", "a SQL statement is required");
  v1::SqlRequest request;
  request.set_query(values["sql"].as<std::string>());
  if (request.query().size() > 10000) return Usage("query", "the statement is longer than 10000 characters");
  std::string output = values.count("output") ? values["output"].as<std::string>() : "table";
  if (output != "table" && output != "json" && output != "csv") {
    return Usage("query", "--output: expected table, json or csv, got '" + output + "'");
  }
  if (values.count("max-rows")) {
    const std::string text = values["max-rows"].as<std::string>();
    if (text.empty() || text.size() > 7 || text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(text) < 1 || std::stoll(text) > 1000000) {
      return Usage("query", "--max-rows: expected an integer 1..1000000");
    }
    request.set_max_rows(std::stoll(text));
  }
  int64_t timeout_us = 30'000'000;
  if (values.count("query-timeout")) {
    auto timeout = ParseDuration("--query-timeout", values["query-timeout"].as<std::string>());
    if (!timeout.ok()) return Usage("query", std::string(timeout.status().message()));
    if (*timeout < 1000 || *timeout > 600'000'000) return Usage("query", "--query-timeout: must be between 1ms and 10m");
    timeout_us = *timeout;
    request.set_timeout_ms(timeout_us / 1000);
  }
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) return Usage("query", std::string(connection.status().message()));
  auto channel = MakeCollectorChannel(*connection);
  if (!channel.ok()) return Usage("query", std::string(channel.status().message()));
  auto stub = v1::Investigations::NewStub(*channel);
  grpc::ClientContext context;
  // The RPC deadline covers the query's own limit plus the transfer.
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(std::max(connection->timeout_us, timeout_us + 5'000'000)));
  v1::SqlResponse response;
  grpc::Status status = stub->Sql(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "orgtrailctl query: %s\n", DescribeRpcError(*connection, status).c_str());
    return kExitFailure;
  }
  if (output == "json") {
    PrintJson(response);
  } else if (output == "csv") {
    PrintCsv(response);
  } else {
    PrintTable(response);
  }
  if (values.count("stats")) {
    std::fprintf(stderr, "%d rows; rows read %llu; index steps %llu; %.1f ms\n", response.rows_size(),
                 static_cast<unsigned long long>(response.rows_read()),
                 static_cast<unsigned long long>(response.index_steps()), response.elapsed_us() / 1000.0);
    for (const auto& plan : response.plan()) std::fprintf(stderr, "plan: %s\n", plan.c_str());
  }
  return kExitOk;
}

}  // namespace orgtrail::cli
