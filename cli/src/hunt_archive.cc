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
#include "orgtrail/detections/correlation_state.h"
#include "orgtrail/detections/finding.h"
#include "validate_files.h"

namespace orgtrail::cli {
namespace {

constexpr size_t kMaxLogFileBytes = size_t{1} << 30;  // gunzipped
constexpr size_t kMaxHeldForCorrelationBytes = size_t{256} << 20;

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

std::string FileOf(const std::map<std::string, std::string>& rule_files, const std::string& id) {
  auto it = rule_files.find(id);
  return it == rule_files.end() ? std::string() : it->second;
}

void SetEventFields(simdjson::dom::element record, const std::string& account, int64_t time_us, v1::Finding* f) {
  f->set_event_id(std::string(StringField(record, "eventID")));
  f->set_account_id(account);
  f->set_region(std::string(StringField(record, "awsRegion")));
  f->set_event_source(std::string(StringField(record, "eventSource")));
  f->set_event_name(std::string(StringField(record, "eventName")));
  f->set_event_time_us(time_us);
  f->set_detected_time_us(NowMicros());
}

void Print(const v1::Finding& f, ArchiveHuntResult* result) {
  std::printf("%s\n", FindingLine(f).c_str());
  ++result->findings;
}

// A record a rule matched, kept for the correlations.
struct HeldRecord {
  int64_t time_us;
  std::string event_id;
  std::string json;
};

// The correlations over the matched records in eventTime order (an archive has no commit order).
void RunCorrelations(const detections::RuleSet& rules, const std::map<std::string, std::string>& rule_files,
                     std::vector<HeldRecord>* held, ArchiveHuntResult* result) {
  if (held->empty()) return;
  std::stable_sort(held->begin(), held->end(), [](const HeldRecord& a, const HeldRecord& b) {
    return a.time_us != b.time_us ? a.time_us < b.time_us : a.event_id < b.event_id;
  });
  detections::CorrelationState state(&rules);
  detections::RecordParser parser;
  for (const HeldRecord& h : *held) {
    auto record = parser.Parse(h.json);
    if (!record.ok()) continue;
    const std::string account(StringField(record->root(), "recipientAccountId"));
    detections::EventRef ref;
    ref.event_id = h.event_id;
    ref.account_id = account;
    ref.region = std::string(StringField(record->root(), "awsRegion"));
    ref.time_us = h.time_us;
    std::vector<detections::CorrelationMatch> completed;
    state.Observe(*record, ref, rules.Match(*record), &completed);
    for (const detections::CorrelationMatch& match : completed) {
      if (!rules.Reports(match.rule->metadata.id)) continue;
      v1::Finding f;
      SetEventFields(record->root(), account, h.time_us, &f);
      detections::SetCorrelationFields(match, FileOf(rule_files, match.rule->metadata.id), &f);
      Print(f, result);
    }
  }
  std::fflush(stdout);
}

}  // namespace

ArchiveHuntResult HuntArchive(const detections::RuleSet& rules, const std::map<std::string, std::string>& rule_files,
                              const ArchiveHuntOptions& options) {
  ArchiveHuntResult result;
  const std::vector<std::string> files = LogFiles(options.export_root);
  simdjson::dom::parser parser;
  std::vector<HeldRecord> held;
  size_t held_bytes = 0;
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
      const detections::Record parsed(record);
      const std::vector<const detections::Rule*> matched = rules.Match(parsed);
      for (const detections::Rule* rule : matched) {
        if (!rules.Reports(rule->id())) continue;  // feeds correlations only
        v1::Finding f;
        detections::SetRuleFields(*rule, FileOf(rule_files, rule->id()), &f);
        SetEventFields(record, account, time_us, &f);
        Print(f, &result);
      }
      if (!matched.empty() && !rules.correlations().empty() && !result.correlations_skipped) {
        held.push_back(HeldRecord{time_us, std::string(StringField(record, "eventID")), simdjson::minify(record)});
        held_bytes += held.back().json.size() + sizeof(HeldRecord);
        if (held_bytes > kMaxHeldForCorrelationBytes) {
          result.correlations_skipped = true;
          held.clear();
        }
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
  RunCorrelations(rules, rule_files, &held, &result);
  return result;
}

}  // namespace orgtrail::cli
