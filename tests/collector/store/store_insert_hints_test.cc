// The memtable insert-hint prefix extractors (store_insert_hints.h): the prefixes they give, the
// keys they leave without a hint, and that a store whose metadata inserts use them still reads
// every key back, in order, from the memtable and after a flush and reopen.
#include "collector/store/store_insert_hints.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "collector/store/store_keys.h"
#include "collector/store/store_test_support.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

// The shape of the Merkle log's node keys (collector/integrity/merkle_log.h), which depends on
// the store, not the other way round.
std::string MerkleNodeKey(int level, uint64_t index) {
  std::string k = "merkle/n/";
  k.push_back(static_cast<char>(level));
  PutFixed64BE(&k, index);
  return k;
}

std::string PrefixOf(const rocksdb::SliceTransform& t, const std::string& key) {
  if (!t.InDomain(key)) return "<none>";
  return t.Transform(key).ToString();
}

TEST(StoreInsertHintsTest, PathHintIsTheKeyUpToItsSecondSlashAndOneByteMore) {
  auto hint = NewPathHintExtractor();
  EXPECT_EQ(PrefixOf(*hint, MerkleNodeKey(0, 7)), std::string("merkle/n/\x00", 10));
  EXPECT_EQ(PrefixOf(*hint, MerkleNodeKey(3, 7)), std::string("merkle/n/\x03", 10));
  // An index containing '/' bytes (0x2f) does not move the prefix.
  EXPECT_EQ(PrefixOf(*hint, MerkleNodeKey(1, 0x2f2f2f2f)), std::string("merkle/n/\x01", 10));
  EXPECT_EQ(PrefixOf(*hint, "merkle/c2l/abc"), "merkle/c2l/a");
  EXPECT_EQ(PrefixOf(*hint, "commit/last"), "<none>");
  EXPECT_EQ(PrefixOf(*hint, "merkle/size"), "<none>");
  EXPECT_EQ(PrefixOf(*hint, "a/b/"), "<none>");  // nothing after the second '/'
  EXPECT_EQ(PrefixOf(*hint, ""), "<none>");
  EXPECT_EQ(PrefixOf(*hint, "//x"), std::string("//x"));
}

TEST(StoreInsertHintsTest, HintedMetadataInsertsReadBackInKeyOrder) {
  testutil::TempDir dir("insert-hints");
  std::vector<std::string> keys;
  {
    auto store = storetest::OpenStore(dir.Join("db"));
    ASSERT_NE(store, nullptr);
    // Interleaved prefixes, like a Merkle append: leaves, parents and commit-to-leaf entries,
    // several writes, some keys written again, indexes whose bytes include '/'.
    for (uint64_t round = 0; round < 4; ++round) {
      std::vector<EventStore::MetadataEntry> batch;
      for (uint64_t i = round * 300; i < (round + 1) * 300; ++i) {
        const uint64_t index = i * 0x2f + (i % 7);
        batch.emplace_back(MerkleNodeKey(0, index), "leaf" + std::to_string(i));
        if (i % 2 == 1) batch.emplace_back(MerkleNodeKey(1, index / 2), "parent" + std::to_string(i));
        batch.emplace_back("merkle/c2l/" + std::to_string(1000000 + i), std::to_string(i));
      }
      batch.emplace_back("merkle/n/" + std::string(1, '\0') + "rewritten", std::to_string(round));
      ASSERT_TRUE(store->WriteMetadata(batch).ok());
    }
    auto scanned = store->ScanMetadata("merkle/");
    ASSERT_TRUE(scanned.ok()) << scanned.status();
    for (const auto& [key, value] : *scanned) keys.push_back(key);
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
    EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());  // no key twice
    EXPECT_EQ(keys.size(), 1200u + 600u + 1200u + 1u);
    auto rewritten = store->GetMetadata("merkle/n/" + std::string(1, '\0') + "rewritten");
    ASSERT_TRUE(rewritten.ok() && rewritten->has_value());
    EXPECT_EQ(**rewritten, "3");
  }
  // Reopened (the memtable replayed from the WAL and flushed): the same keys.
  auto store = storetest::OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  auto scanned = store->ScanMetadata("merkle/");
  ASSERT_TRUE(scanned.ok());
  std::vector<std::string> again;
  for (const auto& [key, value] : *scanned) again.push_back(key);
  EXPECT_EQ(again, keys);
}

}  // namespace
}  // namespace orgtrail::collector
