// StoreReader (see store_reader.h).
#include "store_reader.h"

#include <memory>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

namespace orgtrail::chaos {
namespace {

// Skips one P(s) = varint32(len) || s; false if malformed.
bool SkipPrefixed(const rocksdb::Slice& key, size_t* at) {
  uint32_t len = 0;
  int shift = 0;
  while (*at < key.size() && shift <= 28) {
    const uint8_t b = static_cast<uint8_t>(key[*at]);
    ++*at;
    len |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      if (*at + len > key.size()) return false;
      *at += len;
      return true;
    }
    shift += 7;
  }
  return false;
}

uint64_t CountFamily(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle, Status* status) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handle));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  if (!it->status().ok()) *status = absl::DataLossError(it->status().ToString());
  return n;
}

}  // namespace

StatusOr<StoreSnapshot> ReadStore(const std::string& db_path) {
  std::vector<std::string> families;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_path, &families);
  if (!s.ok()) return absl::UnavailableError("list column families of " + db_path + ": " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : families) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), db_path, descriptors, &handles, &raw);
  if (!s.ok()) return absl::UnavailableError("open " + db_path + " read-only: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  StoreSnapshot snap;
  Status status;
  for (size_t i = 0; i < families.size(); ++i) {
    if (families[i] == "events") {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        ++snap.events;
        const rocksdb::Slice key = it->key();
        size_t at = 0;
        if (!SkipPrefixed(key, &at) || !SkipPrefixed(key, &at) || !SkipPrefixed(key, &at) || at + 8 > key.size()) {
          ++snap.undecodable;
          continue;
        }
        at += 8;  // T(eventTime)
        ++snap.copies[std::string(key.data() + at, key.size() - at)];
      }
      if (!it->status().ok()) status = absl::DataLossError(it->status().ToString());
    } else if (families[i] == "event_ids") {
      snap.event_ids = CountFamily(db.get(), handles[i], &status);
    } else if (families[i] == "commits") {
      snap.commits = CountFamily(db.get(), handles[i], &status);
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  if (!status.ok()) return status;
  return snap;
}

}  // namespace orgtrail::chaos
