#include "collector/store/store_insert_hints.h"

#include <string_view>

#include "collector/store/store_keys.h"

namespace orgtrail::collector {
namespace {

// The first `skip` bytes followed by `fields` length-prefixed strings.
class LengthPrefixedFieldsPrefix final : public rocksdb::SliceTransform {
 public:
  LengthPrefixedFieldsPrefix(const char* name, size_t skip, int fields)
      : name_(name), skip_(skip), fields_(fields) {}
  const char* Name() const override { return name_; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), PrefixLength(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override { return PrefixLength(key) > 0; }

 private:
  // 0 when the key does not start with a well-formed prefix.
  size_t PrefixLength(const rocksdb::Slice& key) const {
    if (key.size() < skip_) return 0;
    std::string_view rest(key.data() + skip_, key.size() - skip_);
    std::string_view field;
    for (int i = 0; i < fields_; ++i) {
      if (!GetLengthPrefixed(&rest, &field)) return 0;
    }
    return key.size() - rest.size();
  }
  const char* name_;
  size_t skip_;
  int fields_;
};

class EmptyPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "orgtrail.SingleHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return rocksdb::Slice(key.data(), 0); }
  bool InDomain(const rocksdb::Slice& /*key*/) const override { return true; }
};

// The key up to its second '/' and the byte after it ("merkle/n/" ‖ level); keys with fewer
// '/' are outside the domain (no hint).
class PathPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "orgtrail.PathHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), PrefixLength(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override { return PrefixLength(key) > 0; }

 private:
  static size_t PrefixLength(const rocksdb::Slice& key) {
    const std::string_view k(key.data(), key.size());
    const size_t first = k.find('/');
    if (first == std::string_view::npos) return 0;
    const size_t second = k.find('/', first + 1);
    if (second == std::string_view::npos || second + 1 >= k.size()) return 0;
    return second + 2;
  }
};

}  // namespace

std::shared_ptr<const rocksdb::SliceTransform> NewPartitionHintExtractor() {
  return std::make_shared<LengthPrefixedFieldsPrefix>("orgtrail.PartitionHint", 0, 3);
}

std::shared_ptr<const rocksdb::SliceTransform> NewIndexListHintExtractor() {
  return std::make_shared<LengthPrefixedFieldsPrefix>("orgtrail.IndexListHint", 1, 1);
}

std::shared_ptr<const rocksdb::SliceTransform> NewSingleHintExtractor() { return std::make_shared<EmptyPrefix>(); }

std::shared_ptr<const rocksdb::SliceTransform> NewPathHintExtractor() { return std::make_shared<PathPrefix>(); }

}  // namespace orgtrail::collector
