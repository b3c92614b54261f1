// Retention by eventTime as a RocksDB compaction filter (store_internal.h).
#include "collector/store/store_internal.h"

#include "orgtrail/common/time_util.h"

namespace orgtrail::collector::store_internal {
namespace {

// Drops entries whose eventTime is older than now - retention.
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(TimeSource source, int64_t retention_us, CommitSource commit, const std::atomic<uint64_t>* hold)
      : source_(source), retention_us_(retention_us), commit_(commit), hold_(hold) {}
  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& existing_value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    int64_t time_us;
    if (!EventTime(key, existing_value, &time_us)) return false;  // keep what we cannot read
    if (time_us >= NowMicros() - retention_us_) return false;
    if (commit_ == CommitSource::kNone) return true;
    uint64_t commit_index;
    if (!CommitIndex(key, existing_value, &commit_index)) return false;
    return commit_index <= hold_->load();  // not exported yet: kept until it is
  }
  const char* Name() const override { return "orgtrail.RetentionFilter"; }

 private:
  bool EventTime(const rocksdb::Slice& key, const rocksdb::Slice& value, int64_t* time_us) const {
    switch (source_) {
      case TimeSource::kIndexKey: {
        IndexKey k;
        if (!DecodeIndexKey(std::string_view(key.data(), key.size()), &k)) return false;
        *time_us = k.event_time_us;
        return true;
      }
      case TimeSource::kEventKey:
      case TimeSource::kValueIsEventKey: {
        const rocksdb::Slice& bytes = source_ == TimeSource::kEventKey ? key : value;
        EventKey k;
        if (!DecodeEventKey(std::string_view(bytes.data(), bytes.size()), &k)) return false;
        *time_us = k.event_time_us;
        return true;
      }
    }
    return false;
  }
  bool CommitIndex(const rocksdb::Slice& key, const rocksdb::Slice& value, uint64_t* index) const {
    if (commit_ == CommitSource::kCommitKey) return DecodeCommitKey(std::string_view(key.data(), key.size()), index);
    v1::StoredEventMeta meta;
    std::string_view raw;
    if (!DecodeEventValue(std::string_view(value.data(), value.size()), &meta, &raw)) return false;
    *index = meta.commit_index();
    return true;
  }
  TimeSource source_;
  int64_t retention_us_;
  CommitSource commit_;
  const std::atomic<uint64_t>* hold_;
};

}  // namespace

std::unique_ptr<rocksdb::CompactionFilter> NewRetentionFilter(TimeSource source, int64_t retention_us,
                                                              CommitSource commit,
                                                              const std::atomic<uint64_t>* hold) {
  return std::make_unique<RetentionFilter>(source, retention_us, commit, hold);
}

}  // namespace orgtrail::collector::store_internal
