// orgtrailctl fetch-archive: mirrors a trail's delivery in S3-compatible object storage
// (s3://bucket[/prefix], the CloudTrail layout under <prefix>/AWSLogs/) into a local folder with
// the same layout (AWSLogs/... at the folder's root), for engines that read folders: DuckDB
// (deploy/analytics/orgtrail-duckdb.mjs --export-root s3://... runs it), hunt --archive, jq.
// Incremental: an object whose file is already there with the same size is skipped (the collector
// writes each key once, a re-upload writes the same bytes). Each file is written to a temporary
// name and renamed, so an interrupted fetch leaves only whole files. Log and Insights files by
// default; --include-digests also fetches digests (their signature is S3 metadata, not copied:
// validate-logs reads s3:// directly). Progress on stderr; a summary line on stdout.
// Exit status: 0 done, 1 an object could not be fetched or written, 2 usage or listing errors.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "command_util.h"
#include "export_source.h"
#include "objectstore/s3_client.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail::cli {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

constexpr char kCommand[] = "fetch-archive";

bool Wanted(const std::string& relative_key, bool include_digests) {
  if (relative_key.rfind("AWSLogs/", 0) != 0) return false;
  // Keys become paths: no absolute paths, no "." or ".." segments, no empty segments.
  size_t start = 0;
  while (start <= relative_key.size()) {
    const size_t end = std::min(relative_key.find('/', start), relative_key.size());
    const std::string segment = relative_key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = end + 1;
  }
  if (relative_key.find("/CloudTrail/") != std::string::npos ||
      relative_key.find("/CloudTrail-Insight/") != std::string::npos) {
    return true;
  }
  return include_digests && relative_key.find("/CloudTrail-Digest/") != std::string::npos;
}

Status WriteWhole(const fs::path& path, const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create ", path.parent_path().string(), ": ", ec.message()));
  const fs::path tmp = path.parent_path() / (".tmp-fetch-" + path.filename().string());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return absl::UnavailableError(StrCat("cannot write ", tmp.string()));
  }
  fs::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot rename ", tmp.string(), ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

int RunFetchArchive(int argc, const char* const* argv) {
  po::options_description options("fetch-archive options");
  options.add_options()
      ("from", po::value<std::string>(), "the delivery: s3://bucket[/prefix] [required]")
      ("to", po::value<std::string>(), "local folder to mirror it into (created) [required]")
      ("include-digests", po::bool_switch(), "also fetch digest files")
      ("jobs", po::value<int>()->default_value(4), "objects fetched in parallel (1-64)")
      ("s3-endpoint", po::value<std::string>(), "S3 endpoint (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, AWS S3 of the region); path-style")
      ("s3-region", po::value<std::string>(), "S3 signing region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
      ("s3-ca-file", po::value<std::string>(), "CA bundle for an HTTPS S3 endpoint (default: the system's)");
  po::variables_map vm;
  BinaryInfo info{"orgtrailctl fetch-archive",
                  "mirror a trail's S3 delivery into a local folder (CloudTrail layout), incrementally",
                  "orgtrailctl fetch-archive --from s3://bucket[/prefix] --to DIR [options]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &vm);
  if (!outcome.ok()) return ReportFailure(kCommand, outcome.status().ToString(), kExitUsage);
  if (*outcome == ParseOutcome::kExitSuccess) return kExitOk;
  for (const char* required : {"from", "to"}) {
    if (!vm.count(required)) return ReportFailure(kCommand, StrCat("--", required, " is required"), kExitUsage);
  }
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 1 || jobs > 64) return ReportFailure(kCommand, "--jobs: must be between 1 and 64", kExitUsage);
  std::string bucket, prefix;
  if (auto s = validate_logs::ParseS3Url(vm["from"].as<std::string>(), &bucket, &prefix); !s.ok()) {
    return ReportFailure(kCommand, StrCat("--from: ", s.ToString()), kExitUsage);
  }
  const fs::path to = vm["to"].as<std::string>();
  auto client_options = validate_logs::S3ClientOptionsFor(FlagValue(vm, "s3-endpoint"), FlagValue(vm, "s3-region"),
                                                          FlagValue(vm, "s3-ca-file"));
  if (!client_options.ok()) return ReportFailure(kCommand, client_options.status().ToString(), kExitUsage);
  auto client = objectstore::S3Client::Create(*client_options);
  if (!client.ok()) return ReportFailure(kCommand, client.status().ToString(), kExitUsage);
  std::error_code mkdir_error;
  fs::create_directories(to, mkdir_error);
  if (mkdir_error) return ReportFailure(kCommand, StrCat("--to: cannot create ", to.string(), ": ", mkdir_error.message()), kExitUsage);
  const std::string key_root = prefix.empty() ? "" : prefix + "/";
  auto listed = (*client)->ListAllObjects(bucket, key_root + "AWSLogs/");
  if (!listed.ok()) {
    return ReportFailure(kCommand, StrCat("cannot list ", vm["from"].as<std::string>(), ": ", listed.status().ToString()),
                         kExitUsage);
  }
  const bool include_digests = vm["include-digests"].as<bool>();
  std::vector<objectstore::ObjectSummary> todo;
  size_t present = 0;
  for (auto& object : *listed) {
    const std::string relative = object.key.substr(key_root.size());
    if (!Wanted(relative, include_digests)) continue;
    std::error_code ec;
    const fs::path path = to / relative;
    if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) == object.size) {
      ++present;
      continue;
    }
    object.key = relative;
    todo.push_back(std::move(object));
  }

  std::atomic<size_t> next{0}, fetched{0}, failed{0};
  std::atomic<uint64_t> bytes{0};
  std::mutex error_mu;
  std::string first_error;
  auto worker = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      auto object = (*client)->GetObject(bucket, key_root + todo[i].key);
      Status s = object.ok() ? WriteWhole(to / todo[i].key, object->body) : object.status();
      if (!s.ok()) {
        ++failed;
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.empty()) first_error = StrCat(todo[i].key, ": ", s.ToString());
        continue;
      }
      bytes += object->body.size();
      ++fetched;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min<int>(jobs, static_cast<int>(todo.size())); ++t) threads.emplace_back(worker);
  const auto started = std::chrono::steady_clock::now();
  while (fetched + failed < todo.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(2)) {
      std::fprintf(stderr, "\rfetch-archive: %zu/%zu objects, %.1f MiB", fetched.load(), todo.size(),
                   static_cast<double>(bytes.load()) / (1 << 20));
    }
  }
  for (auto& t : threads) t.join();
  if (std::chrono::steady_clock::now() - started > std::chrono::seconds(2)) std::fprintf(stderr, "\n");
  std::printf("fetched %zu objects (%.1f MiB), %zu already present, %zu failed, into %s\n", fetched.load(),
              static_cast<double>(bytes.load()) / (1 << 20), present, failed.load(), to.string().c_str());
  if (failed > 0) return ReportFailure(kCommand, StrCat("cannot fetch ", first_error), kExitFailure);
  return kExitOk;
}

}  // namespace orgtrail::cli
