// Retention by eventTime as a RocksDB compaction filter (store_internal.h).
#include "collector/store/store_internal.h"

#include "orgtrail/common/time_util.h"

namespace orgtrail::collector::store_internal {
namespace {

// Drops entries whose eventTime is older than now - retention.
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(TimeSource source, int64_t retention_us) : source_(source), retention_us_(retention_us) {}
  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& existing_value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    int64_t time_us;
    if (!EventTime(key, existing_value, &time_us)) return false;  // keep what we cannot read
    return time_us < NowMicros() - retention_us_;
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
  TimeSource source_;
  int64_t retention_us_;
};

}  // namespace

std::unique_ptr<rocksdb::CompactionFilter> NewRetentionFilter(TimeSource source, int64_t retention_us) {
  return std::make_unique<RetentionFilter>(source, retention_us);
}

}  // namespace orgtrail::collector::store_internal
