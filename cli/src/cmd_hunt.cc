// orgtrailctl hunt: a retro-hunt. Runs the Sigma rules of a folder over the events the collector
// already stores (newest first, within --start-time/--end-time, optionally some --accounts) and
// prints each finding as a JSON line, like `orgtrailctl findings`; progress (events scanned, the
// eventTime reached, findings) goes to stderr while it runs when stderr is a terminal, and a
// summary always. Every rule must compile: the collector refuses the hunt naming each rule it
// cannot run.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <grpcpp/grpcpp.h>

#include "command_util.h"
#include "connection.h"
#include "events_format.h"
#include "findings_format.h"
#include "hunt_archive.h"
#include "orgtrail/common/config.h"
#include "orgtrail/v1/findings.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;

// Every *.yml / *.yaml under the folders, sorted, as HuntRules.
StatusOr<std::vector<v1::HuntRule>> ReadRules(const std::vector<std::string>& folders) {
  std::vector<std::filesystem::path> files;
  for (const std::string& folder : folders) {
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) {
      return absl::InvalidArgumentError("--rules: '" + folder + "' is not a folder");
    }
    for (auto it = std::filesystem::recursive_directory_iterator(folder, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if (it->is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(it->path());
    }
    if (ec) return absl::InvalidArgumentError("--rules: cannot read '" + folder + "': " + ec.message());
  }
  std::sort(files.begin(), files.end());
  std::vector<v1::HuntRule> rules;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in.good() && !in.eof()) return absl::InvalidArgumentError("--rules: cannot read " + path.string());
    v1::HuntRule rule;
    rule.set_file(path.string());
    rule.set_yaml(text.str());
    rules.push_back(std::move(rule));
  }
  if (rules.empty()) return absl::InvalidArgumentError("--rules: no *.yml or *.yaml file in the folders");
  return rules;
}

void PrintProgress(const v1::HuntProgress& p, bool final_line) {
  std::fprintf(stderr, "%s%llu events scanned, reached %s, %llu finding(s), %u rule(s)%s",
               final_line ? "" : "\r", static_cast<unsigned long long>(p.events_scanned()),
               p.reached_time_us() == 0 ? "-" : FormatAwsTimestamp(p.reached_time_us()).c_str(),
               static_cast<unsigned long long>(p.findings()), p.rules(), final_line ? "\n" : "   ");
}

// The same rules over the exported files, here (hunt_archive.h).
int HuntExportRoot(const v1::HuntRequest& request, const std::string& export_root) {
  std::error_code ec;
  if (!std::filesystem::is_directory(export_root, ec)) return ReportFailure("hunt", "--export-root: '" + export_root + "' is not a folder", 2);
  std::vector<std::pair<std::string, std::string>> texts;
  for (const v1::HuntRule& r : request.rules()) texts.emplace_back(r.file(), r.yaml());
  detections::LoadReport report;
  std::unique_ptr<detections::RuleSet> loaded =
      detections::LoadRuleSetFromTexts(texts, detections::LoadOptions(), &report);
  if (!report.refused.empty()) {
    std::string refused;
    for (const detections::RefusedRule& r : report.refused) {
      refused += "\n  " + r.file + (r.id.empty() ? "" : " (" + r.id + ")") + ": " + r.reason;
    }
    return ReportFailure("hunt", "rules that cannot run:" + refused, 2);
  }
  const detections::RuleSet& rules = *loaded;
  std::map<std::string, std::string> rule_files;
  for (const detections::LoadedRule& r : report.loaded) rule_files[r.id] = r.file;
  for (const detections::LoadedRule& r : report.correlations) rule_files[r.id] = r.file;
  ArchiveHuntOptions options;
  options.export_root = export_root;
  options.start_us = request.start_time_us();
  options.end_us = request.end_time_us();
  options.accounts.insert(request.account_ids().begin(), request.account_ids().end());
  options.progress = isatty(STDERR_FILENO) == 1;
  const ArchiveHuntResult result = HuntArchive(rules, rule_files, options);
  std::fprintf(stderr, "%llu file(s), %llu events scanned, %llu finding(s), %zu rule(s), %zu correlation(s)%s\n",
               static_cast<unsigned long long>(result.files), static_cast<unsigned long long>(result.events_scanned),
               static_cast<unsigned long long>(result.findings), rules.size(), rules.correlations().size(),
               result.unreadable_files > 0 ? (", " + std::to_string(result.unreadable_files) + " unreadable file(s)").c_str()
                                           : "");
  if (result.correlations_skipped) {
    return ReportFailure("hunt", "the correlation rules' matches exceed 256 MiB: correlations were not run; "
                                 "narrow --start-time/--end-time or --accounts", 1);
  }
  return result.unreadable_files > 0 ? 1 : 0;
}

}  // namespace

int RunHunt(int argc, const char* const* argv) {
  po::options_description options("hunt options");
  options.add_options()("rules", po::value<std::vector<std::string>>()->composing(),
                        "folder of Sigma rules (*.yml, *.yaml; searched recursively; repeatable)")(
      "start-time", po::value<std::string>(), "earliest eventTime (ISO 8601, a date or epoch seconds)")(
      "end-time", po::value<std::string>(), "latest eventTime")(
      "accounts", po::value<std::vector<std::string>>()->multitoken()->composing(),
      "only these 12-digit accounts (comma-separated or repeated)")(
      "export-root", po::value<std::string>(),
      "hunt over the exported CloudTrail-layout files under this folder, on this machine, instead of the "
      "collector's store");
  AddConnectionOptions(&options);
  po::variables_map values;
  BinaryInfo info{"orgtrailctl hunt",
                  "run Sigma rules over the events the collector already stores (a retro-hunt); one JSON "
                  "object per finding, like orgtrailctl findings",
                  "orgtrailctl hunt --rules DIR [--start-time T] [--end-time T] [--accounts A,B] "
                  "(--export-root DIR | --ca CA --cert CERT --key KEY [--collector HOST:PORT])"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &values, ConnectionEnvOptions());
  if (!outcome.ok()) return ReportFailure("hunt", std::string(outcome.status().message()), 2);
  if (*outcome == ParseOutcome::kExitSuccess) return 0;
  if (values.count("rules") == 0) return ReportFailure("hunt", "--rules: required", 2);
  v1::HuntRequest request;
  auto rules = ReadRules(values["rules"].as<std::vector<std::string>>());
  if (!rules.ok()) return ReportFailure("hunt", std::string(rules.status().message()), 2);
  for (auto& rule : *rules) *request.add_rules() = std::move(rule);
  for (const char* name : {"start-time", "end-time"}) {
    if (values.count(name) == 0) continue;
    auto time = ParseCliTime(std::string("--") + name, values[name].as<std::string>());
    if (!time.ok()) return ReportFailure("hunt", std::string(time.status().message()), 2);
    if (std::string(name) == "start-time") request.set_start_time_us(*time);
    else request.set_end_time_us(*time);
  }
  if (request.end_time_us() != 0 && request.start_time_us() > request.end_time_us()) {
    return ReportFailure("hunt", "--start-time: is after --end-time", 2);
  }
  if (values.count("accounts")) {
    for (const auto& item : values["accounts"].as<std::vector<std::string>>()) {
      std::stringstream parts(item);
      for (std::string account; std::getline(parts, account, ',');) {
        if (account.empty()) continue;
        if (Status s = CheckAccountId("--accounts", account); !s.ok()) return ReportFailure("hunt", std::string(s.message()), 2);
        request.add_account_ids(account);
      }
    }
  }
  if (values.count("export-root")) return HuntExportRoot(request, values["export-root"].as<std::string>());
  auto connection = ConnectionOptionsFromValues(values);
  if (!connection.ok()) return ReportFailure("hunt", std::string(connection.status().message()), 2);
  auto channel = MakeCollectorChannel(*connection);
  if (!channel.ok()) return ReportFailure("hunt", std::string(channel.status().message()), 2);
  auto stub = v1::Findings::NewStub(*channel);
  grpc::ClientContext context;  // no deadline: a hunt over years of history takes its time
  auto reader = stub->Hunt(&context, request);
  const bool tty = isatty(STDERR_FILENO) == 1;
  v1::HuntResponse response;
  v1::HuntProgress last;
  while (reader->Read(&response)) {
    for (const v1::Finding& f : response.findings()) std::printf("%s\n", FindingLine(f).c_str());
    std::fflush(stdout);
    last = response.progress();
    if (tty) PrintProgress(last, false);
  }
  const grpc::Status status = reader->Finish();
  if (tty) std::fprintf(stderr, "\n");
  if (!status.ok()) return ReportFailure("hunt", DescribeRpcError(*connection, status), 1);
  if (!last.done()) return ReportFailure("hunt", "the hunt ended before it scanned the whole range", 1);
  PrintProgress(last, true);
  return 0;
}

}  // namespace orgtrail::cli
