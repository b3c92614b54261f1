// orgtrailctl validate-logs: the `aws cloudtrail validate-logs` algorithm
// (cloudtrail-format.md §3) on an orgtrail export folder, which stands for
// the S3 bucket. Digests are listed in the time range, walked from the
// newest back through previousDigestS3Object, each signature verified with
// the public key named by its fingerprint (AWSLogs/<org>/public-keys.json),
// every listed log file gunzipped and re-hashed. Result words, summary lines
// and the exit status (1 on any invalid or missing file) follow aws-cli.
// The S3 object metadata of a digest is read from its sidecar
// <digest>.metadata.json (collector/EXPORT.md).
//
// orgtrail extension: log files found in the validated partition folder
// whose delivery minute lies strictly inside the validated digest range but
// which no valid digest lists are reported as
// "INVALID: not listed in any digest" (aws-cli cannot see added files).
//
// Layout: this file holds the command (its options) and the Validator's
// digest-chain walk; validator.h lists the other parts.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "command_util.h"
#include "export_source.h"
#include "objectstore/s3_credentials.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/time_util.h"
#include "validate_files.h"
#include "validate_public_keys.h"
#include "validator.h"

namespace orgtrail::cli {
namespace validate_logs {

std::string Validator::DigestFolder() const {
  std::string folder = o_.prefix.empty() ? "" : o_.prefix + "/";
  folder += "AWSLogs/";
  if (!o_.org_id.empty()) folder += o_.org_id + "/";
  folder += o_.account_id + "/CloudTrail-Digest/" + o_.source_region;
  return folder;
}

std::string Validator::KeyDate(std::string_view key, bool backfill) {
  const size_t from_end = backfill ? 33 : 24;
  if (key.size() < from_end) return "";
  return std::string(key.substr(key.size() - from_end, 16));
}

std::vector<std::string> Validator::ListDigestKeys(bool backfill) const {
  const std::string folder = DigestFolder();
  std::vector<std::string> keys;
  auto listed = o_.source->List(folder);
  if (!listed.ok()) {
    std::fprintf(stderr, "validate-logs: cannot list %s: %s\n", folder.c_str(), std::string(listed.status().message()).c_str());
    return keys;
  }
  const std::string name_prefix = o_.account_id + "_CloudTrail-Digest_" + o_.source_region + "_" +
                                  o_.trail_name + "_" + o_.home_region + "_";
  static const std::regex kDateDirs(R"(\d+/\d+/\d+)");
  for (const std::string& key : *listed) {
    if (key.size() <= folder.size() + 1) continue;
    std::string rel = key.substr(folder.size() + 1);
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos || !std::regex_match(rel.substr(0, slash), kDateDirs)) continue;
    std::string name = rel.substr(slash + 1);
    if (name.rfind(name_prefix, 0) != 0 || name.size() < name_prefix.size() + 8) continue;
    if (name.size() < 8 || name.compare(name.size() - 8, 8, ".json.gz") != 0) continue;
    const bool is_backfill = name.size() >= 17 && name.compare(name.size() - 17, 17, "_backfill.json.gz") == 0;
    if (is_backfill != backfill) continue;
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  // aws-cli: Marker = key of a digest ending at start - 1 min; keep keys
  // whose date is >= start; stop after end + 1 h (lexicographic).
  const std::string marker_date = FormatCompactSecond(o_.start_us - kMinute);
  const std::string target_start = FormatCompactSecond(o_.start_us);
  const std::string target_end = FormatCompactSecond(o_.end_us + kHour);
  const std::string ymd = marker_date.substr(0, 4) + "/" + marker_date.substr(4, 2) + "/" + marker_date.substr(6, 2);
  const std::string marker = folder + "/" + ymd + "/" + name_prefix + marker_date + ".json.gz";
  std::vector<std::string> out;
  for (const auto& key : keys) {
    if (key <= marker) continue;
    const std::string date = KeyDate(key, backfill);
    if (date > target_end) break;
    if (date >= target_start) out.push_back(key);
  }
  return out;
}

std::pair<std::string, std::string> Validator::NextDigest(std::vector<std::string>* keys,
                                                          const std::string& before_key,
                                                          bool backfill) const {
  if (keys->empty()) return {"", ""};
  if (before_key.empty()) {
    std::string k = keys->back();
    keys->pop_back();
    return {k, KeyDate(k, backfill)};
  }
  const std::string before_date = KeyDate(before_key, backfill);
  while (!keys->empty()) {
    std::string k = keys->back();
    keys->pop_back();
    std::string d = KeyDate(k, backfill);
    if (d < before_date) return {k, d};
  }
  return {"", ""};
}

void Validator::Traverse(bool backfill) {
  const std::string label = backfill ? "(backfill) " : "";
  std::vector<std::string> keys = ListDigestKeys(backfill);
  std::string bucket = o_.bucket;
  auto [key, end_date] = NextDigest(&keys, "", backfill);
  std::string last_start_date = end_date;  // compact form, as the key date
  const std::string start_compact = FormatCompactSecond(o_.start_us);
  std::set<std::string> visited;
  int& valid = backfill ? valid_backfill_ : valid_digests_;
  int& invalid = backfill ? invalid_backfill_ : invalid_digests_;
  while (!key.empty() && start_compact <= last_start_date) {
    if (!visited.insert(bucket + "/" + key).second) {
      invalid++;
      Report(label + "Digest file\t" + S3(bucket, key) + "\tINVALID: digest chain loops", true);
      break;
    }
    std::string error;
    bool missing = false;
    std::optional<DigestData> d = LoadAndValidate(bucket, key, backfill, &error, &missing);
    if (!d) {
      invalid++;
      Report(label + error, true);
      std::tie(key, end_date) = NextDigest(&keys, key, backfill);
      continue;
    }
    last_start_date = FormatCompactSecond(d->start_us);
    // Found times (aws-cli _track_found_times).
    if (d->start_us > o_.start_us) found_start_ = d->start_us;
    if (!found_end_) found_end_ = std::min(d->end_us, o_.end_us);
    valid_min_start_ = valid_min_start_ ? std::min(*valid_min_start_, d->start_us) : d->start_us;
    valid_max_end_ = valid_max_end_ ? std::max(*valid_max_end_, d->end_us) : d->end_us;
    valid++;
    Report(label + "Digest file\t" + S3(d->bucket, d->key) + "\tvalid", false);
    ValidateLogs(d->logs);
    if (!d->previous_bucket) {
      const std::string last_key = key;
      std::tie(key, end_date) = NextDigest(&keys, last_key, backfill);
      if (!key.empty()) {
        auto next_end = ParseRfc3339Micros(end_date.substr(0, 4) + "-" + end_date.substr(4, 2) + "-" +
                                           end_date.substr(6, 2) + "T" + end_date.substr(9, 2) + ":" +
                                           end_date.substr(11, 2) + ":" + end_date.substr(13, 2) + "Z");
        Report("No log files were delivered by CloudTrail between " +
                   (next_end.ok() ? DisplayDate(*next_end) : end_date) + " and " +
                   DisplayDate(d->start_us),
               true);
      }
    } else {
      key = d->previous_object;
      bucket = *d->previous_bucket;
    }
  }
}

int Validator::Run() {
  std::printf("Validating log files for trail %s between %s and %s\n\n", o_.trail_arn.c_str(),
              DisplayDate(o_.start_us).c_str(), DisplayDate(o_.end_us).c_str());
  std::fflush(stdout);
  std::string keys_path = o_.prefix.empty() ? "" : o_.prefix + "/";
  keys_path += "AWSLogs/" + (o_.org_id.empty() ? o_.account_id : o_.org_id) + "/public-keys.json";
  std::string error;
  std::string keys_text;
  if (!o_.source->Read(keys_path, &keys_text, 16u << 20) || !LoadPublicKeys(keys_text, keys_path, &all_keys_, &error)) {
    all_keys_.clear();
  }
  keys_ = KeysOverlapping(all_keys_, o_.start_us, o_.end_us + 2 * kHour);
  if (keys_.empty()) {
    std::fprintf(stderr, "No public keys found between %s and %s\n", DisplayDate(o_.start_us).c_str(),
                 DisplayDate(o_.end_us).c_str());
    return 1;
  }
  Traverse(false);
  Traverse(true);
  if (o_.check_unlisted) CheckUnlistedLogs();
  Summary();
  std::fflush(stdout);
  return (invalid_digests_ > 0 || invalid_backfill_ > 0 || invalid_logs_ > 0) ? 1 : 0;
}

}  // namespace validate_logs

namespace {

namespace po = boost::program_options;
using validate_logs::IsSafeKey;
using validate_logs::Options;
using validate_logs::Validator;

// Export manifest written by the collector at <root>/orgtrail-export.json (delivered beside the
// AWSLogs folder, under the key prefix).
void ReadManifest(const validate_logs::ExportSource& source, const std::string& prefix, std::string* bucket,
                  std::string* org_id, std::string* key_prefix = nullptr) {
  std::string text;
  if (!source.Read(prefix.empty() ? "orgtrail-export.json" : prefix + "/orgtrail-export.json", &text, 1u << 20)) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) return;
  std::string_view v;
  if (bucket->empty() && doc["bucket"].get_string().get(v) == simdjson::SUCCESS) *bucket = std::string(v);
  if (org_id->empty() && doc["orgId"].get_string().get(v) == simdjson::SUCCESS) *org_id = std::string(v);
  if (key_prefix != nullptr && doc["keyPrefix"].get_string().get(v) == simdjson::SUCCESS) *key_prefix = std::string(v);
}

// The folder, or the bucket of s3://bucket[/prefix] (the URL's prefix is the key prefix unless
// --s3-prefix names one). *url_bucket: the URL's bucket, the default name the digests carry when
// neither --s3-bucket nor the export's manifest names one.
StatusOr<std::shared_ptr<const validate_logs::ExportSource>> OpenSource(const po::variables_map& vm,
                                                                        const std::string& root, std::string* prefix,
                                                                        std::string* url_bucket_out) {
  if (root.rfind("s3://", 0) != 0) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) return absl::InvalidArgumentError("'" + root + "' is not a directory");
    // A delivered export's digests name its keys under the delivery's key prefix (the manifest's).
    if (prefix->empty()) {
      std::string unused_bucket, unused_org;
      ReadManifest(*validate_logs::NewFolderSource(root), "", &unused_bucket, &unused_org, prefix);
    }
    return std::shared_ptr<const validate_logs::ExportSource>(validate_logs::NewFolderSource(root, *prefix));
  }
  std::string url_bucket, url_prefix;
  ORGTRAIL_RETURN_IF_ERROR(validate_logs::ParseS3Url(root, &url_bucket, &url_prefix));
  if (prefix->empty()) *prefix = url_prefix;
  *url_bucket_out = url_bucket;
  auto options = validate_logs::S3ClientOptionsFor(FlagValue(vm, "s3-endpoint"), FlagValue(vm, "s3-region"),
                                                   FlagValue(vm, "s3-ca-file"));
  if (!options.ok()) return options.status();
  auto source = validate_logs::NewS3Source(url_bucket, *std::move(options));
  if (!source.ok()) return source.status();
  // One listing up front: a wrong endpoint, bucket or secret is a clear error, not "not found" lines.
  auto probe = (*source)->List(*prefix);
  if (!probe.ok()) return absl::Status(probe.status().code(), "cannot list " + root + ": " + std::string(probe.status().message()));
  return std::shared_ptr<const validate_logs::ExportSource>(std::move(*source));
}

StatusOr<int64_t> ParseTimeOption(const char* option, const std::string& text) {
  auto t = ParseRfc3339Micros(text);
  if (t.ok()) return *t;
  if (text.size() == 10) {  // "2026-11-21"
    t = ParseRfc3339Micros(text + "T00:00:00Z");
    if (t.ok()) return *t;
  }
  return absl::InvalidArgumentError(std::string("--") + option + ": expected an RFC 3339 time such as "
                                    "2026-11-21T20:00:00Z, got '" + text + "'");
}

}  // namespace

int RunValidateLogs(int argc, const char* const* argv) {
  po::options_description options("validate-logs options");
  options.add_options()
      ("export-root", po::value<std::string>(), "export folder (stands for the S3 bucket), or s3://bucket[/prefix] [required]")
      ("s3-endpoint", po::value<std::string>(), "S3 endpoint for s3:// (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, AWS S3 of the region); path-style")
      ("s3-region", po::value<std::string>(), "S3 signing region for s3:// (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
      ("s3-ca-file", po::value<std::string>(), "CA bundle for an HTTPS S3 endpoint (default: the system's)")
      ("trail-arn", po::value<std::string>(), "arn:aws:cloudtrail:<home>:<acct>:trail/<name> [required]")
      ("start-time", po::value<std::string>(), "validate logs delivered at or after (RFC 3339) [required]")
      ("end-time", po::value<std::string>(), "... at or before (default now)")
      ("s3-bucket", po::value<std::string>(), "bucket name the export stands for (default: the export's configured name)")
      ("s3-prefix", po::value<std::string>()->default_value(""), "key prefix under the bucket (default: the s3:// URL's, or the delivered export's keyPrefix)")
      ("account-id", po::value<std::string>(), "member account to validate (default: the ARN's account)")
      ("org-id", po::value<std::string>(), "organization id folder (default: the export's configured id)")
      ("region", po::value<std::string>(), "source region whose digests are validated (default: home region)")
      ("no-unlisted-check", po::bool_switch(), "skip the orgtrail check for log files no digest lists")
      ("jobs", po::value<int>()->default_value(0), "log files re-hashed in parallel (default: one per CPU)")
      ("verbose", po::bool_switch(), "print every valid file and the re-hash throughput");
  po::variables_map vm;
  BinaryInfo info{"orgtrailctl validate-logs",
                  "validate an export's log files against its signed digests (aws cloudtrail validate-logs)",
                  "orgtrailctl validate-logs --export-root DIR|s3://bucket[/prefix] --trail-arn ARN --start-time T [options]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &vm);
  if (!outcome.ok()) {
    std::fprintf(stderr, "validate-logs: %s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == ParseOutcome::kExitSuccess) return 0;
  for (const char* required : {"export-root", "trail-arn", "start-time"}) {
    if (!vm.count(required)) {
      std::fprintf(stderr, "validate-logs: --%s is required\n", required);
      return 2;
    }
  }
  Options o;
  o.export_root = vm["export-root"].as<std::string>();
  o.trail_arn = vm["trail-arn"].as<std::string>();
  static const std::regex kArn(R"(arn:.+:cloudtrail:.+:\d{12}:trail/.+)");
  if (o.trail_arn.size() > 2048 || !std::regex_match(o.trail_arn, kArn)) {
    std::fprintf(stderr, "validate-logs: --trail-arn: Invalid trail ARN provided: %s\n", o.trail_arn.c_str());
    return 2;
  }
  {
    std::vector<std::string> parts;
    size_t start = 0;
    for (int i = 0; i < 5; ++i) {
      size_t c = o.trail_arn.find(':', start);
      parts.push_back(o.trail_arn.substr(start, c - start));
      start = c + 1;
    }
    o.home_region = parts[3];
    o.trail_name = o.trail_arn.substr(o.trail_arn.rfind('/') + 1);
    o.account_id = vm.count("account-id") ? vm["account-id"].as<std::string>() : parts[4];
  }
  if (Status st = CheckAccountId("--account-id", o.account_id); !st.ok()) {
    std::fprintf(stderr, "validate-logs: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  auto start = ParseTimeOption("start-time", vm["start-time"].as<std::string>());
  if (!start.ok()) {
    std::fprintf(stderr, "validate-logs: %s\n", std::string(start.status().message()).c_str());
    return 2;
  }
  o.start_us = *start;
  if (vm.count("end-time")) {
    auto end = ParseTimeOption("end-time", vm["end-time"].as<std::string>());
    if (!end.ok()) {
      std::fprintf(stderr, "validate-logs: %s\n", std::string(end.status().message()).c_str());
      return 2;
    }
    o.end_us = *end;
  } else {
    o.end_us = NowMicros();
  }
  if (o.start_us > o.end_us) {
    std::fprintf(stderr, "validate-logs: Invalid time range specified: start-time must occur before end-time\n");
    return 2;
  }
  if (vm.count("s3-bucket")) o.bucket = vm["s3-bucket"].as<std::string>();
  if (vm.count("org-id")) o.org_id = vm["org-id"].as<std::string>();
  o.prefix = vm["s3-prefix"].as<std::string>();
  std::string url_bucket;
  auto source = OpenSource(vm, o.export_root, &o.prefix, &url_bucket);
  if (!source.ok()) {
    std::fprintf(stderr, "validate-logs: --export-root: %s\n", std::string(source.status().message()).c_str());
    return 2;
  }
  o.source = std::move(*source);
  while (!o.prefix.empty() && o.prefix.back() == '/') o.prefix.pop_back();
  ReadManifest(*o.source, o.prefix, &o.bucket, &o.org_id);
  if (o.bucket.empty()) o.bucket = url_bucket;
  if (o.bucket.empty()) {
    std::fprintf(stderr, "validate-logs: --s3-bucket is required (the export has no orgtrail-export.json)\n");
    return 2;
  }
  if (!o.prefix.empty() && !IsSafeKey(o.prefix)) {
    std::fprintf(stderr, "validate-logs: --s3-prefix: invalid prefix '%s'\n", o.prefix.c_str());
    return 2;
  }
  o.source_region = vm.count("region") ? vm["region"].as<std::string>() : o.home_region;
  for (const std::string* token : {&o.source_region, &o.home_region, &o.org_id, &o.trail_name}) {
    if (token->find('/') != std::string::npos || *token == "." || *token == "..") {
      std::fprintf(stderr, "validate-logs: invalid region, organization or trail name '%s'\n", token->c_str());
      return 2;
    }
  }
  o.verbose = vm["verbose"].as<bool>();
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 0 || jobs > 256) {
    std::fprintf(stderr, "validate-logs: --jobs: expected 0 (one per CPU) to 256, got %d\n", jobs);
    return 2;
  }
  o.jobs = jobs == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : jobs;
  o.check_unlisted = !vm["no-unlisted-check"].as<bool>();
  Validator validator(std::move(o));
  return validator.Run();
}

}  // namespace orgtrail::cli
