// Store format migrations, run once at open (EventStore::MigrateFormat).
//
// Version 1 -> 2: `event_ids` was keyed by the bare eventID (dedup across the
// whole organization); version 2 keys it by P(eventID) || account
// (store_keys.h). Every entry is rewritten in chunks of synced WriteBatches
// (new key put and old key deleted in the same batch), then the format
// version is written. A crash part-way leaves some entries migrated: a rerun
// recognises them (their key is already the version-2 key of the event they
// point to) and leaves them alone.
#include "collector/store/store.h"
#include "collector/store/store_internal.h"

#include <rocksdb/write_batch.h>

namespace orgtrail::collector {
namespace {

constexpr size_t kMigrationChunk = 10'000;
}  // namespace

Status EventStore::MigrateFormat(uint64_t from_version) {
  if (from_version != 1) {
    return absl::FailedPreconditionError("no migration from store format version " + std::to_string(from_version));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::ColumnFamilyHandle* cf = handle(ColumnFamily::kEventIds);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
  rocksdb::WriteBatch wb;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    EventKey decoded;
    if (!DecodeEventKey(it->value().ToStringView(), &decoded)) {
      return absl::DataLossError("migration: undecodable event key in event_ids");
    }
    const std::string new_key = EncodeEventIdKey(decoded.event_id, decoded.account_id);
    if (it->key().ToStringView() == new_key) continue;  // migrated before a crash
    wb.Put(cf, new_key, it->value());
    wb.Delete(cf, it->key());
    if (wb.Count() >= 2 * kMigrationChunk) {
      ORGTRAIL_RETURN_IF_ERROR(store_internal::FromRocks(db_->Write(wo, &wb), "migration write"));
      wb.Clear();
    }
  }
  ORGTRAIL_RETURN_IF_ERROR(store_internal::FromRocks(it->status(), "migration scan"));
  if (wb.Count() > 0) ORGTRAIL_RETURN_IF_ERROR(store_internal::FromRocks(db_->Write(wo, &wb), "migration write"));
  return Status();
}

}  // namespace orgtrail::collector
