// The store's iterators over index, partition and commit keys (store_internal.h).
#include "collector/store/store_internal.h"

namespace orgtrail::collector::store_internal {
namespace {

// Iterates the keys of one prefix newest first within [start_us, end_us].
class PrefixTimeIterator : public EventIndexIterator {
 public:
  // `org` is needed for index iterators only: an index entry's value is empty and the event's
  // key is rebuilt from the index key (STORAGE.md, `idx`).
  PrefixTimeIterator(std::unique_ptr<rocksdb::Iterator> it, std::string prefix, bool is_index, std::string org,
                     int64_t start_us, int64_t end_us, std::atomic<uint64_t>* steps)
      : it_(std::move(it)), prefix_(std::move(prefix)), is_index_(is_index), org_(std::move(org)),
        start_us_(start_us), steps_(steps) {
    std::string seek = prefix_;
    PutFixed64BE(&seek, EncodeTimeDescending(end_us));
    it_->Seek(seek);
    steps_->fetch_add(1, std::memory_order_relaxed);
    Settle();
  }
  bool Valid() const override { return valid_; }
  const IndexEntry& entry() const override { return entry_; }
  void Next() override {
    if (!valid_) return;
    it_->Next();
    steps_->fetch_add(1, std::memory_order_relaxed);
    Settle();
  }
  void SeekAfter(std::string_view raw_key) override {
    it_->Seek(rocksdb::Slice(raw_key.data(), raw_key.size()));
    steps_->fetch_add(1, std::memory_order_relaxed);
    if (it_->Valid() && it_->key().ToStringView() == raw_key) {
      it_->Next();
      steps_->fetch_add(1, std::memory_order_relaxed);
    }
    Settle();
  }
  std::string_view raw_key() const override { return valid_ ? it_->key().ToStringView() : std::string_view(); }
  Status status() const override {
    if (!decode_error_.ok()) return decode_error_;
    return FromRocks(it_->status(), "index iterator");
  }

 private:
  void Settle() {
    valid_ = false;
    if (!it_->Valid() || !it_->key().starts_with(prefix_)) return;
    std::string_view key = it_->key().ToStringView();
    if (is_index_) {
      IndexKey k;
      if (!DecodeIndexKey(key, &k)) return Corrupt(key);
      entry_.event_key = EncodeEventKey(EventKey{org_, k.account_id, k.region, k.event_time_us, k.event_id});
      entry_.event_time_us = k.event_time_us;
      entry_.account_id = std::move(k.account_id);
      entry_.region = std::move(k.region);
      entry_.event_id = std::move(k.event_id);
    } else {
      EventKey k;
      if (!DecodeEventKey(key, &k)) return Corrupt(key);
      entry_.event_time_us = k.event_time_us;
      entry_.account_id = std::move(k.account_id);
      entry_.region = std::move(k.region);
      entry_.event_id = std::move(k.event_id);
      entry_.event_key.assign(key.data(), key.size());
    }
    valid_ = entry_.event_time_us >= start_us_;
  }
  void Corrupt(std::string_view key) {
    decode_error_ = absl::DataLossError("undecodable key of " + std::to_string(key.size()) + " bytes");
  }

  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
  bool is_index_;
  std::string org_;
  int64_t start_us_;
  std::atomic<uint64_t>* steps_;
  bool valid_ = false;
  IndexEntry entry_;
  Status decode_error_;
};

class CategoryMergeIterator : public EventIndexIterator {
 public:
  CategoryMergeIterator(std::vector<std::unique_ptr<EventIndexIterator>> children, std::string kind_bytes)
      : children_(std::move(children)), kind_bytes_(std::move(kind_bytes)) {
    Pick();
  }
  bool Valid() const override { return current_ != nullptr; }
  const IndexEntry& entry() const override { return current_->entry(); }
  void Next() override {
    if (current_ == nullptr) return;
    current_->Next();
    Pick();
  }
  void SeekAfter(std::string_view raw_key) override {
    std::string key(raw_key);
    for (size_t i = 0; i < children_.size(); ++i) {
      if (!key.empty()) key[0] = kind_bytes_[i];
      children_[i]->SeekAfter(key);
    }
    Pick();
  }
  std::string_view raw_key() const override { return current_ != nullptr ? current_->raw_key() : std::string_view(); }
  Status status() const override {
    for (const auto& child : children_) ORGTRAIL_RETURN_IF_ERROR(child->status());
    return absl::OkStatus();
  }

 private:
  void Pick() {
    current_ = nullptr;
    for (auto& child : children_) {
      if (!child->Valid()) continue;
      if (current_ == nullptr || child->raw_key().substr(1) < current_->raw_key().substr(1)) current_ = child.get();
    }
  }

  std::vector<std::unique_ptr<EventIndexIterator>> children_;
  std::string kind_bytes_;  // kind_bytes_[i]: the kind byte of children_[i]'s keys
  EventIndexIterator* current_ = nullptr;
};

class CommitIteratorImpl : public CommitIterator {
 public:
  CommitIteratorImpl(std::unique_ptr<rocksdb::Iterator> it, uint64_t first, std::atomic<uint64_t>* steps)
      : it_(std::move(it)), steps_(steps) {
    it_->Seek(EncodeCommitKey(first));
    steps_->fetch_add(1, std::memory_order_relaxed);
    Settle();
  }
  bool Valid() const override { return valid_; }
  uint64_t commit_index() const override { return index_; }
  std::string_view event_key() const override { return it_->value().ToStringView(); }
  void Next() override {
    if (!valid_) return;
    it_->Next();
    steps_->fetch_add(1, std::memory_order_relaxed);
    Settle();
  }
  Status status() const override { return FromRocks(it_->status(), "commit iterator"); }

 private:
  void Settle() { valid_ = it_->Valid() && DecodeCommitKey(it_->key().ToStringView(), &index_); }
  std::unique_ptr<rocksdb::Iterator> it_;
  std::atomic<uint64_t>* steps_;
  bool valid_ = false;
  uint64_t index_ = 0;
};

}  // namespace

std::unique_ptr<EventIndexIterator> NewPrefixTimeIterator(std::unique_ptr<rocksdb::Iterator> it, std::string prefix,
                                                          bool is_index, std::string org, int64_t start_us,
                                                          int64_t end_us, std::atomic<uint64_t>* steps) {
  return std::make_unique<PrefixTimeIterator>(std::move(it), std::move(prefix), is_index, std::move(org), start_us,
                                              end_us, steps);
}

std::unique_ptr<EventIndexIterator> NewCategoryMergeIterator(
    std::vector<std::unique_ptr<EventIndexIterator>> children, std::string kind_bytes) {
  return std::make_unique<CategoryMergeIterator>(std::move(children), std::move(kind_bytes));
}

std::unique_ptr<CommitIterator> NewCommitIteratorAt(std::unique_ptr<rocksdb::Iterator> it, uint64_t first,
                                                    std::atomic<uint64_t>* steps) {
  return std::make_unique<CommitIteratorImpl>(std::move(it), first, steps);
}

}  // namespace orgtrail::collector::store_internal
