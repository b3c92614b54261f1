#include "collector/findings/findings_log.h"

#include <string_view>

#include "orgtrail/common/hash.h"
#include "orgtrail/detections/finding.h"

namespace orgtrail::collector {
namespace {

constexpr char kCursorKey[] = "findings/cursor";
constexpr char kFindingPrefix[] = "finding/";
constexpr char kWindowPrefix[] = "findings/corr/";
constexpr char kRulePrefix[] = "findings/rule/";
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

std::string FindingsLog::Key(const v1::Finding& finding) {
  std::string key = kFindingPrefix + EncodeU64(finding.commit_index()) + finding.rule_id();
  // One event can complete a correlation in more than one group (aliases): one key per group.
  if (!finding.correlation_type().empty()) key += "#" + HexEncode(Sha256(finding.group())).substr(0, 16);
  return key;
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

Status FindingsLog::Append(const google::protobuf::RepeatedPtrField<v1::Finding>& findings, uint64_t cursor,
                           const std::vector<detections::WindowUpdate>& windows) {
  std::vector<EventStore::MetadataEntry> entries;
  entries.reserve(findings.size() + windows.size() + 1);
  for (const v1::Finding& f : findings) entries.emplace_back(Key(f), f.SerializeAsString());
  for (const detections::WindowUpdate& w : windows) {
    std::string key = kWindowPrefix + w.correlation_id + std::string(1, '\0') + w.group_json;
    if (w.entries.empty()) {
      entries.emplace_back(std::move(key), std::nullopt);
      continue;
    }
    v1::CorrelationWindow window;
    for (const detections::WindowEntry& e : w.entries) detections::SetCorrelatedEvent(e, window.add_entries());
    entries.emplace_back(std::move(key), window.SerializeAsString());
  }
  entries.emplace_back(kCursorKey, EncodeU64(cursor));
  return store_->WriteMetadata(entries, EventStore::Durability::kWithNextSync);
}

Status FindingsLog::PutRules(const std::vector<std::pair<uint64_t, v1::FindingRule>>& rules) {
  if (rules.empty()) return Status();
  std::vector<EventStore::MetadataEntry> entries;
  entries.reserve(rules.size());
  for (const auto& [ref, fields] : rules) entries.emplace_back(kRulePrefix + EncodeU64(ref), fields.SerializeAsString());
  ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata(entries));
  std::lock_guard<std::mutex> lock(rules_mu_);
  for (const auto& [ref, fields] : rules) rules_[ref] = fields;
  return Status();
}

Status FindingsLog::FillRuleFields(v1::Finding* finding) const {
  const uint64_t ref = finding->rule_ref();
  if (ref == 0) return Status();
  std::lock_guard<std::mutex> lock(rules_mu_);
  auto it = rules_.find(ref);
  if (it == rules_.end()) {
    auto stored = store_->GetMetadata(kRulePrefix + EncodeU64(ref));
    if (!stored.ok()) return stored.status();
    v1::FindingRule fields;
    if (!stored->has_value() || !fields.ParseFromString(**stored)) {
      return absl::DataLossError("finding of rule " + finding->rule_id() + " names rule version " +
                                 HexEncode(EncodeU64(ref)) + ", which is not in the findings rule table");
    }
    it = rules_.emplace(ref, std::move(fields)).first;
  }
  detections::SetRuleFields(it->second, finding);
  finding->clear_rule_ref();
  return Status();
}

Status FindingsLog::ForEachWindow(const std::function<void(detections::WindowUpdate&&)>& fn) const {
  auto stored = store_->ScanMetadata(kWindowPrefix);
  if (!stored.ok()) return stored.status();
  for (const auto& [key, value] : *stored) {
    const std::string_view rest = std::string_view(key).substr(sizeof(kWindowPrefix) - 1);
    const size_t nul = rest.find('\0');
    v1::CorrelationWindow window;
    if (nul == std::string_view::npos || !window.ParseFromString(value)) {
      return absl::DataLossError("a stored correlation window is not decodable");
    }
    detections::WindowUpdate update;
    update.correlation_id = std::string(rest.substr(0, nul));
    update.group_json = std::string(rest.substr(nul + 1));
    for (const v1::CorrelatedEvent& e : window.entries()) update.entries.push_back(detections::WindowEntryOf(e));
    fn(std::move(update));
  }
  return Status();
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
      ORGTRAIL_RETURN_IF_ERROR(FillRuleFields(&finding));
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
