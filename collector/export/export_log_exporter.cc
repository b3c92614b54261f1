// Commit order -> CloudTrail log files, exactly once (see export_log_exporter.h).
#include "collector/export/export_log_exporter.h"
#include "collector/export/export_strings.h"

#include <map>
#include <tuple>

#include "collector/store/store_keys.h"
#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/event_extractor.h"

namespace orgtrail::collector {
namespace {

using internal::Cat;
using internal::Split;

std::string EncodeU64(uint64_t v) {
  std::string s;
  PutFixed64BE(&s, v);
  return s;
}

struct Intent {
  uint64_t from = 0;
  uint64_t to = 0;
  int64_t delivery_time_us = 0;
};

std::string EncodeIntent(const Intent& i) {
  std::string s;
  PutFixed64BE(&s, i.from);
  PutFixed64BE(&s, i.to);
  PutFixed64BE(&s, static_cast<uint64_t>(i.delivery_time_us));
  return s;
}

bool DecodeIntent(std::string_view s, Intent* i) {
  uint64_t t = 0;
  if (!GetFixed64BE(&s, &i->from) || !GetFixed64BE(&s, &i->to) || !GetFixed64BE(&s, &t) || !s.empty()) {
    return false;
  }
  i->delivery_time_us = static_cast<int64_t>(t);
  return i->from >= 1 && i->from <= i->to;
}

struct PartitionRecords {
  std::vector<std::string> raw;  // owns the bytes
  std::vector<int64_t> times;
};

// Only the collector stores Insights records (agents may not send them: common/event_acceptance.h),
// so only its records are parsed to tell.
bool IsInsightRecord(const StoredEvent& e, EventExtractor* extractor) {
  const std::string& agent = e.meta.agent_id();  // spiffe://<trust domain>/<role>/...
  const size_t path = agent.find('/', agent.rfind("spiffe://", 0) == 0 ? 9 : 0);
  if (path == std::string::npos || agent.compare(path, 11, "/collector/") != 0) return false;
  v1::Event event;
  return extractor->Extract(e.raw_json, &event).ok() && event.event_type() == kInsightEventType;
}

}  // namespace

std::string PendingLogFilePrefix(std::string_view account_id, std::string_view region, std::string_view ns) {
  std::string k = Cat(ns, kPendingLogFileRoot);
  PutLengthPrefixed(&k, account_id);
  PutLengthPrefixed(&k, region);
  return k;
}

std::string PendingLogFileKey(const PendingLogFile& f, std::string_view ns) {
  std::string k = PendingLogFilePrefix(f.account_id, f.region, ns);
  PutFixed64BE(&k, static_cast<uint64_t>(f.delivery_time_us));
  k.append(f.key);
  return k;
}

std::string ExportPartitionKey(std::string_view account_id, std::string_view region, std::string_view ns) {
  std::string k = Cat(ns, kExportPartitionRoot);
  PutLengthPrefixed(&k, account_id);
  PutLengthPrefixed(&k, region);
  return k;
}

bool DecodeExportPartitionKey(std::string_view key, std::string* account_id, std::string* region,
                              std::string_view ns) {
  if (key.substr(0, ns.size()) != ns) return false;
  key.remove_prefix(ns.size());
  if (key.substr(0, kExportPartitionRoot.size()) != kExportPartitionRoot) return false;
  key.remove_prefix(kExportPartitionRoot.size());
  std::string_view a, r;
  if (!GetLengthPrefixed(&key, &a) || !GetLengthPrefixed(&key, &r) || !key.empty()) return false;
  *account_id = std::string(a);
  *region = std::string(r);
  return true;
}

std::string EncodePendingLogFileValue(const PendingLogFile& f) {
  std::string v = DigestToString(f.sha256);
  PutFixed64BE(&v, static_cast<uint64_t>(f.newest_event_time_us));
  PutFixed64BE(&v, static_cast<uint64_t>(f.oldest_event_time_us));
  return v;
}

bool DecodePendingLogFile(std::string_view key, std::string_view value, PendingLogFile* f, std::string_view ns) {
  f->metadata_key = std::string(key);
  if (key.substr(0, ns.size()) != ns) return false;
  key.remove_prefix(ns.size());
  if (key.substr(0, kPendingLogFileRoot.size()) != kPendingLogFileRoot) return false;
  key.remove_prefix(kPendingLogFileRoot.size());
  std::string_view a, r;
  uint64_t t = 0;
  if (!GetLengthPrefixed(&key, &a) || !GetLengthPrefixed(&key, &r) || !GetFixed64BE(&key, &t)) return false;
  f->account_id = std::string(a);
  f->region = std::string(r);
  f->delivery_time_us = static_cast<int64_t>(t);
  f->key = std::string(key);
  if (value.size() != 48) return false;
  auto d = DigestFromString(value.substr(0, 32));
  if (!d.ok()) return false;
  f->sha256 = *d;
  value.remove_prefix(32);
  uint64_t n = 0, o = 0;
  GetFixed64BE(&value, &n);
  GetFixed64BE(&value, &o);
  f->newest_event_time_us = static_cast<int64_t>(n);
  f->oldest_event_time_us = static_cast<int64_t>(o);
  return true;
}

LogExporter::LogExporter(EventStore* store, LogExporterOptions options)
    : store_(store), options_(std::move(options)) {}

StatusOr<uint64_t> LogExporter::Cursor() const {
  auto v = store_->GetMetadata(CursorKey());
  if (!v.ok()) return v.status();
  if (!v->has_value()) return uint64_t{0};
  std::string_view s = **v;
  uint64_t cursor = 0;
  if (!GetFixed64BE(&s, &cursor)) return absl::DataLossError("export cursor: undecodable");
  return cursor;
}

StatusOr<ExportRoundResult> LogExporter::Recover() {
  auto v = store_->GetMetadata(IntentKey());
  if (!v.ok()) return v.status();
  if (!v->has_value()) return ExportRoundResult{};
  Intent intent;
  if (!DecodeIntent(**v, &intent)) return absl::DataLossError("export intent: undecodable");
  StatusOr<ExportRoundResult> r = RunRange(intent.from, intent.to, intent.delivery_time_us);
  if (r.ok()) r->recovered = true;
  return r;
}

StatusOr<ExportRoundResult> LogExporter::ExportOnce(int64_t delivery_time_us) {
  StatusOr<ExportRoundResult> recovered = Recover();
  if (!recovered.ok()) return recovered.status();
  if (recovered->recovered) return recovered;
  StatusOr<uint64_t> cursor = Cursor();
  if (!cursor.ok()) return cursor.status();
  const uint64_t last = store_->last_commit_index();
  if (last <= *cursor) return ExportRoundResult{};
  Intent intent;
  intent.from = *cursor + 1;
  intent.to = std::min(last, *cursor + options_.max_events_per_round);
  intent.delivery_time_us = delivery_time_us;
  ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata({{IntentKey(), EncodeIntent(intent)}}));
  Step("intent");
  return RunRange(intent.from, intent.to, intent.delivery_time_us);
}

StatusOr<ExportRoundResult> LogExporter::RunRange(uint64_t from, uint64_t to, int64_t delivery_time_us) {
  ExportRoundResult result;
  result.first_commit_index = from;
  result.last_commit_index = to;
  std::map<std::tuple<std::string, std::string, LogKind>, PartitionRecords> groups;
  EventExtractor extractor;
  auto snapshot = store_->NewSnapshot();
  auto it = store_->NewCommitIterator(from, snapshot->snapshot());
  for (; it->Valid() && it->commit_index() <= to; it->Next()) {
    auto ev = store_->GetEventByKey(it->event_key(), snapshot->snapshot());
    if (!ev.ok()) return ev.status();
    if (!ev->has_value()) continue;  // removed by retention
    StoredEvent& e = **ev;
    if (options_.select && !options_.select(e)) continue;
    const LogKind kind = IsInsightRecord(e, &extractor) ? LogKind::kInsight : LogKind::kCloudTrail;
    auto& g = groups[{e.key.account_id, e.key.region, kind}];
    g.times.push_back(e.key.event_time_us);
    g.raw.push_back(std::move(e.raw_json));
    ++result.events_exported;
  }
  ORGTRAIL_RETURN_IF_ERROR(it->status());

  std::vector<EventStore::MetadataEntry> commit;
  for (const auto& [partition_id, g] : groups) {
    const auto& [account_id, region, kind] = partition_id;
    ExportPartition partition{options_.org_id, account_id, region};
    commit.emplace_back(ExportPartitionKey(partition.account_id, partition.region, options_.metadata_namespace), "1");
    size_t begin = 0;
    int part = 0;
    while (begin < g.raw.size()) {
      std::vector<ExportRecord> records;
      uint64_t bytes = 0;
      size_t end = begin;
      while (end < g.raw.size() && records.size() < options_.max_records_per_file &&
             (records.empty() || bytes + g.raw[end].size() <= options_.max_file_bytes)) {
        records.push_back(ExportRecord{g.raw[end], g.times[end]});
        bytes += g.raw[end].size() + 1;
        ++end;
      }
      const std::string seed = Cat(options_.unique_seed.empty() ? "" : Cat(options_.unique_seed, "|"), options_.org_id, "/", partition.account_id, "/", partition.region, "/", from, "-",
                                   to, "/", part, kind == LogKind::kInsight ? "/insight" : "");
      StatusOr<WrittenLogFile> file =
          WriteLogFile(options_.export_root, partition, records, delivery_time_us, seed, kind);
      if (!file.ok()) return file.status();
      Step("file");
      PendingLogFile pending;
      pending.account_id = partition.account_id;
      pending.region = partition.region;
      pending.delivery_time_us = delivery_time_us;
      pending.key = file->key;
      pending.sha256 = file->sha256;
      pending.newest_event_time_us = file->newest_event_time_us;
      pending.oldest_event_time_us = file->oldest_event_time_us;
      commit.emplace_back(PendingLogFileKey(pending, options_.metadata_namespace), EncodePendingLogFileValue(pending));
      result.files.push_back(std::move(*file));
      begin = end;
      ++part;
    }
  }
  Step("before-commit");
  commit.emplace_back(CursorKey(), EncodeU64(to));
  commit.emplace_back(IntentKey(), std::nullopt);  // delete
  ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata(commit));
  if (options_.exported_through) {
    options_.exported_through(to);
  } else if (store_->retention_hold() != UINT64_MAX) {
    store_->SetRetentionHold(to);  // retention may now drop these
  }
  Step("committed");
  return result;
}

}  // namespace orgtrail::collector
