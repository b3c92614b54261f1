#include "collector/query/query_cursor.h"

#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "collector/store/store.h"

namespace orgtrail::collector {
namespace {

// Past every key that starts with a given prefix followed by T(time) and more
// bytes (no stored T is all 0xff: that would be eventTime = INT64_MIN).
const std::string& PastPrefixSuffix() {
  static const std::string kSuffix(16, '\xff');
  return kSuffix;
}

std::string EncodeTime(int64_t time_us) {
  std::string out;
  PutFixed64BE(&out, EncodeTimeDescending(time_us));
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

Status FromRocks(const rocksdb::Status& status, const char* what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", status.ToString()));
}

rocksdb::ReadOptions CursorReadOptions(const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  options.total_order_seek = true;  // skip-scans and seeks cross prefixes
  return options;
}

// A walk over [prefix || T(end), prefix || T(start)] of one column family.
// Subclasses turn the key suffix after the prefix into an order key.
class RangeCursor : public LookupCursor {
 public:
  RangeCursor(const CursorRange& range, ColumnFamily cf, std::string prefix)
      : stats_(range.stats), prefix_(std::move(prefix)) {
    lower_suffix_ = EncodeTime(range.end_us);
    if (range.start_us == std::numeric_limits<int64_t>::min()) {
      upper_ = prefix_ + PastPrefixSuffix();
    } else {
      upper_ = prefix_;
      PutFixed64BE(&upper_, EncodeTimeDescending(range.start_us) + 1);
    }
    upper_slice_ = rocksdb::Slice(upper_);
    rocksdb::ReadOptions options = CursorReadOptions(range.snapshot);
    options.iterate_upper_bound = &upper_slice_;
    it_.reset(range.store->db()->NewIterator(options, range.store->handle(cf)));
  }

  bool Valid() const override { return valid_; }
  std::string_view order_key() const override { return order_key_; }
  std::string_view event_key() const override { return event_key_; }
  Status status() const override { return status_; }

  void Next() override {
    if (!valid_) return;
    ++stats_->nexts;
    it_->Next();
    Load();
  }

 protected:
  // Seeks the raw key prefix_ || suffix, never before the range start.
  void SeekSuffix(std::string_view suffix) {
    std::string target = prefix_;
    if (suffix < std::string_view(lower_suffix_)) {
      target += lower_suffix_;
    } else {
      target.append(suffix.data(), suffix.size());
    }
    ++stats_->seeks;
    it_->Seek(target);
    Load();
  }
  void Invalidate() { valid_ = false; }

  // Fills order_key_ and event_key_ from the current entry; false if undecodable.
  virtual bool Decode(std::string_view key, std::string_view value) = 0;

  const std::string& prefix() const { return prefix_; }
  std::string order_key_;
  std::string event_key_;

 private:
  void Load() {
    valid_ = false;
    if (!it_->Valid()) {
      if (!it_->status().ok()) status_ = FromRocks(it_->status(), "lookup cursor");
      return;
    }
    const rocksdb::Slice key = it_->key();
    const std::string_view key_view(key.data(), key.size());
    if (!StartsWith(key_view, prefix_)) return;
    const rocksdb::Slice value = it_->value();
    if (!Decode(key_view, std::string_view(value.data(), value.size()))) {
      status_ = absl::DataLossError("lookup cursor: undecodable key in the store");
      return;
    }
    valid_ = true;
  }

  CursorStats* stats_;
  std::string prefix_;
  std::string lower_suffix_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  bool valid_ = false;
  Status status_;
};

// "idx": the key suffix after kind || P(value) IS the order key; the event's key
// is rebuilt from it (index values are empty, STORAGE.md).
class IndexCursor final : public RangeCursor {
 public:
  IndexCursor(const CursorRange& range, IndexKind kind, std::string_view value, bool other_category)
      : RangeCursor(range, ColumnFamily::kIndex, EncodeIndexPrefix(kind, value, other_category)),
        org_(range.store->org()) {}

  void SeekAtOrAfter(std::string_view target) override { SeekSuffix(target); }

 private:
  bool Decode(std::string_view key, std::string_view /*value*/) override {
    const std::string_view suffix = key.substr(prefix().size());
    DecodedOrderKey decoded;
    if (!DecodeLookupOrderKey(suffix, &decoded)) return false;
    order_key_.assign(suffix.data(), suffix.size());
    event_key_ = EncodeEventKey(EventKey{org_, std::string(decoded.account_id), std::string(decoded.region),
                                         decoded.event_time_us, std::string(decoded.event_id)});
    return true;
  }
  std::string org_;
};

// "events" of one partition: key suffix T(time) || eventID.
class PartitionCursor final : public RangeCursor {
 public:
  PartitionCursor(const CursorRange& range, std::string_view account_id, std::string_view region)
      : RangeCursor(range, ColumnFamily::kEvents,
                    EncodePartitionPrefix(range.store->org(), account_id, region)) {
    PutLengthPrefixed(&partition_, account_id);
    PutLengthPrefixed(&partition_, region);
  }

  void SeekAtOrAfter(std::string_view target) override {
    if (target.empty()) return SeekSuffix("");
    std::string_view rest = target;
    uint64_t time = 0;
    std::string_view account, region;
    if (!GetFixed64BE(&rest, &time) || !GetLengthPrefixed(&rest, &account) ||
        !GetLengthPrefixed(&rest, &region)) {
      // A bare time prefix (or less): everything at that time qualifies.
      return SeekSuffix(target.substr(0, std::min<size_t>(target.size(), 8)));
    }
    const std::string_view target_partition(
        target.data() + 8, static_cast<size_t>(rest.data() - target.data()) - 8);
    const int order = std::string_view(partition_).compare(target_partition);
    std::string suffix;
    if (order > 0) {  // all of this partition's events at `time` come after target
      PutFixed64BE(&suffix, time);
    } else if (order == 0) {
      PutFixed64BE(&suffix, time);
      suffix.append(rest.data(), rest.size());
    } else {  // all of them come before target: start at the next (older) time
      if (time == std::numeric_limits<uint64_t>::max()) return Invalidate();
      PutFixed64BE(&suffix, time + 1);
    }
    SeekSuffix(suffix);
  }

 private:
  bool Decode(std::string_view key, std::string_view value) override {
    std::string_view rest = key.substr(prefix().size());
    if (rest.size() < 8) return false;
    order_key_.assign(rest.data(), 8);
    order_key_ += partition_;
    order_key_.append(rest.data() + 8, rest.size() - 8);
    event_key_.assign(key.data(), key.size());
    return true;
  }

  std::string partition_;  // P(account) || P(region)
};

class UnionCursor final : public LookupCursor {
 public:
  explicit UnionCursor(std::vector<std::unique_ptr<LookupCursor>> children)
      : children_(std::move(children)), floors_(children_.size()) {}

  bool Valid() const override { return current_ != kNone; }
  std::string_view order_key() const override { return children_[current_]->order_key(); }
  std::string_view event_key() const override { return children_[current_]->event_key(); }
  void Next() override {
    if (current_ == kNone) return;
    // The child moves past its key: a later target at or before that key must seek it again.
    LookupCursor& child = *children_[current_];
    floors_[current_] = std::string(child.order_key()) + '\0';
    child.Next();
    PickSmallest();
  }
  void SeekAtOrAfter(std::string_view target) override {
    const std::string copy(target);  // target may point into a child
    for (size_t i = 0; i < children_.size(); ++i) {
      if (AlreadyThere(i, copy)) continue;
      children_[i]->SeekAtOrAfter(copy);
      floors_[i] = copy;
    }
    PickSmallest();
  }
  Status status() const override {
    for (const auto& child : children_) ORGTRAIL_RETURN_IF_ERROR(child->status());
    return absl::OkStatus();
  }

 private:
  // True when seeking child i to `target` would not move it: everything of the child before its
  // position and at or after floors_[i] (its last seek target, or just past the last key it
  // moved over) is behind `target`, and it is already at or past `target`, or it ran out. An
  // intersection seeks its inputs forward again and again; without this a union input would
  // seek every child each time (e.g. an empty data-events index).
  bool AlreadyThere(size_t i, const std::string& target) const {
    const LookupCursor& child = *children_[i];
    if (!floors_[i].has_value() || target < *floors_[i] || !child.status().ok()) return false;
    return !child.Valid() || child.order_key() >= target;
  }

  void PickSmallest() {
    current_ = kNone;
    for (size_t i = 0; i < children_.size(); ++i) {
      if (!children_[i]->Valid()) continue;
      if (current_ == kNone || children_[i]->order_key() < children_[current_]->order_key()) current_ = i;
    }
  }

  static constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<std::unique_ptr<LookupCursor>> children_;
  std::vector<std::optional<std::string>> floors_;  // see AlreadyThere
  size_t current_ = kNone;  // index of the child at the smallest order key, kNone when exhausted
};

class IntersectionCursor final : public LookupCursor {
 public:
  explicit IntersectionCursor(std::vector<std::unique_ptr<LookupCursor>> children)
      : children_(std::move(children)) {}

  bool Valid() const override { return valid_; }
  std::string_view order_key() const override { return children_[0]->order_key(); }
  std::string_view event_key() const override { return children_[0]->event_key(); }
  void Next() override {
    if (!valid_) return;
    children_[0]->Next();
    Align();
  }
  void SeekAtOrAfter(std::string_view target) override {
    const std::string copy(target);
    for (auto& child : children_) child->SeekAtOrAfter(copy);
    Align();
  }
  Status status() const override {
    for (const auto& child : children_) ORGTRAIL_RETURN_IF_ERROR(child->status());
    return absl::OkStatus();
  }

 private:
  // Leapfrog: seek every child to the largest current key until all agree.
  void Align() {
    valid_ = false;
    while (true) {
      std::string largest;
      for (auto& child : children_) {
        if (!child->Valid()) return;
        if (child->order_key() > largest) largest.assign(child->order_key());
      }
      bool all_equal = true;
      for (auto& child : children_) {
        if (child->order_key() < std::string_view(largest)) child->SeekAtOrAfter(largest);
        if (!child->Valid()) return;
        if (child->order_key() != std::string_view(largest)) all_equal = false;
      }
      if (all_equal) {
        valid_ = true;
        return;
      }
    }
  }

  std::vector<std::unique_ptr<LookupCursor>> children_;
  bool valid_ = false;
};

// Seeks `it` to `target` and returns the length-prefixed string found right
// after `prefix` in the key there, or nullopt when the key leaves `prefix`.
StatusOr<std::optional<std::string>> NextComponent(rocksdb::Iterator* it, std::string_view prefix,
                                                   const std::string& target, CursorStats* stats) {
  ++stats->seeks;
  it->Seek(target);
  if (!it->Valid()) {
    if (!it->status().ok()) return FromRocks(it->status(), "partition listing");
    return std::optional<std::string>();
  }
  const std::string_view key(it->key().data(), it->key().size());
  if (!StartsWith(key, prefix)) return std::optional<std::string>();
  std::string_view rest = key.substr(prefix.size());
  std::string_view component;
  if (!GetLengthPrefixed(&rest, &component)) {
    return absl::DataLossError("partition listing: undecodable key in the store");
  }
  return std::optional<std::string>(std::string(component));
}

// Every distinct length-prefixed component after `prefix`, one Seek each.
StatusOr<std::vector<std::string>> SkipScan(const EventStore& store, std::string_view prefix,
                                            const rocksdb::Snapshot* snapshot, CursorStats* stats) {
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(CursorReadOptions(snapshot), store.handle(ColumnFamily::kEvents)));
  std::vector<std::string> components;
  std::string target(prefix);
  while (true) {
    auto component = NextComponent(it.get(), prefix, target, stats);
    if (!component.ok()) return component.status();
    if (!component->has_value()) break;
    components.push_back(**component);
    target.assign(prefix.data(), prefix.size());
    PutLengthPrefixed(&target, components.back());
    target += PastPrefixSuffix();
  }
  return components;
}

}  // namespace

std::string LookupOrderKey(int64_t event_time_us, std::string_view account_id,
                           std::string_view region, std::string_view event_id) {
  std::string out = EncodeTime(event_time_us);
  PutLengthPrefixed(&out, account_id);
  PutLengthPrefixed(&out, region);
  out.append(event_id.data(), event_id.size());
  return out;
}

bool DecodeLookupOrderKey(std::string_view order_key, DecodedOrderKey* out) {
  uint64_t time = 0;
  if (!GetFixed64BE(&order_key, &time) || !GetLengthPrefixed(&order_key, &out->account_id) ||
      !GetLengthPrefixed(&order_key, &out->region)) {
    return false;
  }
  out->event_time_us = DecodeTimeDescending(time);
  out->event_id = order_key;
  return true;
}

std::unique_ptr<LookupCursor> NewIndexCursor(const CursorRange& range, IndexKind kind,
                                             std::string_view value, IndexCategories categories) {
  auto management = std::make_unique<IndexCursor>(range, kind, value, /*other_category=*/false);
  if (categories == IndexCategories::kManagement) return management;
  std::vector<std::unique_ptr<LookupCursor>> both;
  both.push_back(std::move(management));
  both.push_back(std::make_unique<IndexCursor>(range, kind, value, /*other_category=*/true));
  return NewUnionCursor(std::move(both));
}

std::unique_ptr<LookupCursor> NewPartitionCursor(const CursorRange& range,
                                                 std::string_view account_id,
                                                 std::string_view region) {
  return std::make_unique<PartitionCursor>(range, account_id, region);
}

std::unique_ptr<LookupCursor> NewUnionCursor(std::vector<std::unique_ptr<LookupCursor>> children) {
  return std::make_unique<UnionCursor>(std::move(children));
}

std::unique_ptr<LookupCursor> NewIntersectionCursor(
    std::vector<std::unique_ptr<LookupCursor>> children) {
  return std::make_unique<IntersectionCursor>(std::move(children));
}

StatusOr<std::vector<std::string>> ListStoredAccounts(const EventStore& store,
                                                      const rocksdb::Snapshot* snapshot,
                                                      CursorStats* stats) {
  std::string prefix;
  PutLengthPrefixed(&prefix, store.org());
  return SkipScan(store, prefix, snapshot, stats);
}

StatusOr<std::vector<std::string>> ListStoredRegions(const EventStore& store,
                                                     std::string_view account_id,
                                                     const rocksdb::Snapshot* snapshot,
                                                     CursorStats* stats) {
  std::string prefix;
  PutLengthPrefixed(&prefix, store.org());
  PutLengthPrefixed(&prefix, account_id);
  return SkipScan(store, prefix, snapshot, stats);
}

}  // namespace orgtrail::collector
