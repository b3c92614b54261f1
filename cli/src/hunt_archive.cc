#include "hunt_archive.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include <simdjson.h>

#include "events_format.h"
#include "findings_format.h"
#include "orgtrail/common/time_util.h"
#include "validate_files.h"

namespace orgtrail::cli {
namespace {

constexpr size_t kMaxLogFileBytes = size_t{1} << 30;  // gunzipped

std::vector<std::string> LogFiles(const std::string& root) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    if (!it->is_regular_file() || path.size() < 8 || path.compare(path.size() - 8, 8, ".json.gz") != 0) continue;
    if (path.find("/CloudTrail-Digest/") != std::string::npos) continue;
    if (it->path().filename().string().rfind(".tmp-", 0) == 0) continue;  // being written
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string_view StringField(simdjson::dom::element record, const char* key) {
  std::string_view value;
  return record[key].get(value) == simdjson::SUCCESS ? value : std::string_view();
}

}  // namespace

ArchiveHuntResult HuntArchive(const detections::RuleSet& rules, const std::map<std::string, std::string>& rule_files,
                              const ArchiveHuntOptions& options) {
  ArchiveHuntResult result;
  const std::vector<std::string> files = LogFiles(options.export_root);
  simdjson::dom::parser parser;
  const int64_t end = options.end_us == 0 ? INT64_MAX : options.end_us;
  for (const std::string& path : files) {
    ++result.files;
    std::string text;
    std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
    const auto gunzipped = in == nullptr ? validate_logs::GunzipResult::kInvalid
                                         : validate_logs::GunzipStream(in.get(), kMaxLogFileBytes,
                                                                       [&](std::string_view bytes) { text.append(bytes); });
    simdjson::dom::element doc;
    simdjson::dom::array records;
    if (gunzipped != validate_logs::GunzipResult::kOk || parser.parse(text).get(doc) != simdjson::SUCCESS ||
        doc["Records"].get(records) != simdjson::SUCCESS) {
      ++result.unreadable_files;
      std::fprintf(stderr, "%sorgtrailctl hunt: %s is not a gzipped {\"Records\":[...]} file; skipped\n",
                   options.progress ? "\n" : "", path.c_str());
      continue;
    }
    for (simdjson::dom::element record : records) {
      auto time = ParseRfc3339Micros(StringField(record, "eventTime"));
      const int64_t time_us = time.ok() ? *time : 0;
      if (time_us < options.start_us || time_us > end) continue;
      const std::string account(StringField(record, "recipientAccountId"));
      if (!options.accounts.empty() && options.accounts.count(account) == 0) continue;
      ++result.events_scanned;
      for (const detections::Rule* rule : rules.Match(detections::Record(record))) {
        v1::Finding f;
        const detections::RuleMetadata& m = rule->metadata();
        f.set_rule_id(m.id);
        f.set_rule_title(m.title);
        f.set_level(m.level);
        f.set_rule_status(m.status);
        f.set_author(m.author);
        for (const std::string& r : m.references) f.add_references(r);
        for (const std::string& t : m.tags) f.add_tags(t);
        auto file = rule_files.find(m.id);
        if (file != rule_files.end()) f.set_rule_file(file->second);
        f.set_event_id(std::string(StringField(record, "eventID")));
        f.set_account_id(account);
        f.set_region(std::string(StringField(record, "awsRegion")));
        f.set_event_source(std::string(StringField(record, "eventSource")));
        f.set_event_name(std::string(StringField(record, "eventName")));
        f.set_event_time_us(time_us);
        f.set_detected_time_us(NowMicros());
        std::printf("%s\n", FindingLine(f).c_str());
        ++result.findings;
      }
    }
    std::fflush(stdout);
    if (options.progress) {
      std::fprintf(stderr, "\r%llu/%zu files, %llu events scanned, %llu finding(s)   ",
                   static_cast<unsigned long long>(result.files), files.size(),
                   static_cast<unsigned long long>(result.events_scanned),
                   static_cast<unsigned long long>(result.findings));
    }
  }
  if (options.progress) std::fprintf(stderr, "\n");
  return result;
}

}  // namespace orgtrail::cli
