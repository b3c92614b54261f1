#include "collector/findings/findings_log.h"

#include <string_view>

namespace orgtrail::collector {
namespace {

constexpr char kCursorKey[] = "findings/cursor";
constexpr char kFindingPrefix[] = "finding/";
constexpr size_t kMaxScannedPerList = 100000;  // bounds one listing's work when a filter skips most

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t DecodeU64(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

}  // namespace

int LevelRank(std::string_view level) {
  if (level == "informational") return 1;
  if (level == "low") return 2;
  if (level == "medium") return 3;
  if (level == "high") return 4;
  if (level == "critical") return 5;
  return 0;
}

std::string FindingsLog::Key(uint64_t commit_index, const std::string& rule_id) {
  return kFindingPrefix + EncodeU64(commit_index) + rule_id;
}

StatusOr<uint64_t> FindingsLog::Cursor() const {
  auto value = store_->GetMetadata(kCursorKey);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return uint64_t{0};
  if ((*value)->size() != 8) return absl::DataLossError("findings/cursor: not 8 bytes");
  return DecodeU64(**value);
}

bool FindingsLog::HasCursor() const {
  auto value = store_->GetMetadata(kCursorKey);
  return value.ok() && value->has_value();
}

Status FindingsLog::Append(const std::vector<v1::Finding>& findings, uint64_t cursor) {
  std::vector<EventStore::MetadataEntry> entries;
  entries.reserve(findings.size() + 1);
  for (const v1::Finding& f : findings) entries.emplace_back(Key(f.commit_index(), f.rule_id()), f.SerializeAsString());
  entries.emplace_back(kCursorKey, EncodeU64(cursor));
  return store_->WriteMetadata(entries);
}

StatusOr<std::vector<v1::Finding>> FindingsLog::List(uint64_t after_commit_index, size_t max_results,
                                                     const FindingsFilter& filter, uint64_t* next) const {
  std::vector<v1::Finding> out;
  *next = after_commit_index;
  if (after_commit_index == UINT64_MAX) return out;
  size_t scanned = 0;
  bool more = true;
  std::string start = kFindingPrefix + EncodeU64(after_commit_index + 1);
  while (more && scanned < kMaxScannedPerList) {
    auto page = store_->ScanMetadataFrom(kFindingPrefix, start, 1000);
    if (!page.ok()) return page.status();
    more = page->size() == 1000;
    for (const auto& [key, value] : *page) {
      ++scanned;
      v1::Finding finding;
      if (!finding.ParseFromString(value)) return absl::DataLossError("finding record is not decodable");
      // A page ends between events, never between two findings of one event.
      if (out.size() >= max_results && finding.commit_index() != *next) {
        more = false;
        break;
      }
      *next = finding.commit_index();
      if ((filter.rule_id.empty() || finding.rule_id() == filter.rule_id) &&
          LevelRank(finding.level()) >= filter.min_level_rank) {
        out.push_back(std::move(finding));
      }
    }
    if (!page->empty()) start = page->back().first + std::string(1, '\0');
  }
  return out;
}

}  // namespace orgtrail::collector
