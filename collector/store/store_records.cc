// The records kept beside the events: conflicts (same account and eventID,
// other bytes) and events refused one by one (store.h).
#include "collector/store/store.h"
#include "collector/store/store_internal.h"

namespace orgtrail::collector {

using store_internal::FromRocks;

StatusOr<std::vector<ConflictRecord>> EventStore::ListConflicts(size_t limit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle(ColumnFamily::kConflicts)));
  std::vector<ConflictRecord> out;
  for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
    ConflictRecord record;
    if (!DecodeConflictKey(it->key().ToStringView(), &record.account_id, &record.event_id, &record.agent_id,
                           &record.sequence, &record.leaf_index) ||
        !DecodeConflictValue(it->value().ToStringView(), &record)) {
      return absl::DataLossError("undecodable conflict record");
    }
    out.push_back(std::move(record));
  }
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "conflicts scan"));
  return out;
}

StatusOr<std::vector<RefusedRecord>> EventStore::ListRefused(std::string_view agent_id, bool identity_violations_only,
                                                                size_t limit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle(ColumnFamily::kRefused)));
  std::string prefix;
  if (!agent_id.empty()) PutLengthPrefixed(&prefix, agent_id);
  std::vector<RefusedRecord> out;
  for (it->Seek(prefix); it->Valid() && out.size() < limit; it->Next()) {
    if (!it->key().starts_with(prefix)) break;
    RefusedRecord record;
    if (!DecodeRefusedKey(it->key().ToStringView(), &record.agent_id, &record.sequence, &record.leaf_index) ||
        !DecodeRefusedValue(it->value().ToStringView(), &record)) {
      return absl::DataLossError("undecodable refused record");
    }
    if (identity_violations_only && !record.identity_violation) continue;
    if (auto state = GetAgentState(record.agent_id)) {
      record.account_id = state->account_id;
      record.region = state->region;
    }
    out.push_back(std::move(record));
  }
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "refused scan"));
  return out;
}

}  // namespace orgtrail::collector
