// Helpers for the agent unit tests: records for a given account/region, a
// signing key, metrics lookups. Header-only.
#ifndef ORGTRAIL_TESTS_AGENT_AGENT_TEST_UTIL_H_
#define ORGTRAIL_TESTS_AGENT_AGENT_TEST_UTIL_H_

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "orgtrail/agent/spool.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/signer.h"

namespace orgtrail::agent::testing {

inline constexpr char kAccount[] = "111122223333";
inline constexpr char kRegion[] = "eu-west-1";

// Realistic records of this agent (only regional, non-global kinds, so the
// region check is exercised on every record).
inline std::vector<std::string> Records(int n, uint64_t seed = 1, const std::string& account = kAccount,
                                        const std::string& region = kRegion) {
  GeneratorOptions options;
  options.seed = seed;
  options.account_id = account;
  options.region = region;
  options.global_region = region;
  options.mix.global_iam = 0;
  options.mix.console_sign_in = 0;
  EventGenerator generator(options);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(generator.NextJson());
  return out;
}

inline std::string JsonLines(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& r : records) out += r + "\n";
  return out;
}

inline std::string JsonArray(const std::vector<std::string>& records) {
  std::string out = "[\n";
  for (size_t i = 0; i < records.size(); ++i) out += (i ? ",\n  " : "  ") + records[i];
  return out + "\n]\n";
}

inline std::unique_ptr<Signer> NewSigner(KeyType type = KeyType::kEcdsaP256) {
  CaOptions options;
  options.trust_domain = "example.org";
  options.key_type = type;
  auto ca = CreateCa(options);
  EXPECT_TRUE(ca.ok()) << ca.status();
  auto signer = Signer::FromPrivateKeyPem(ca->key_pem);
  EXPECT_TRUE(signer.ok()) << signer.status();
  return std::move(*signer);
}

// Records(n, seed) as the intake extracts them.
inline std::vector<v1::Event> ExtractedEvents(int n, uint64_t seed = 1) {
  EventExtractor extractor;
  std::vector<v1::Event> events;
  for (const auto& r : Records(n, seed)) {
    v1::Event e;
    EXPECT_TRUE(extractor.Extract(r, &e).ok());
    events.push_back(std::move(e));
  }
  return events;
}

// A spool at path with the given bound (fails the test when it cannot open).
inline std::unique_ptr<Spool> OpenSpool(const std::string& path, uint64_t max_bytes = 64 << 20) {
  SpoolOptions options;
  options.path = path;
  options.max_bytes = max_bytes;
  auto spool = Spool::Open(options);
  EXPECT_TRUE(spool.ok()) << spool.status();
  return spool.ok() ? std::move(*spool) : nullptr;
}

// Bytes that do not parse as any spool value.
inline std::string GarbageSpoolValue() { return std::string("\xff\xff\xff\x07garbage", 11); }

// Overwrites, in the closed spool at path, the values of column family `cf` whose (position,
// key) `select` picks with GarbageSpoolValue(), as a bad sector would. Returns how many.
inline int CorruptSpoolValues(const std::string& path, const std::string& cf,
                              const std::function<bool(int, const std::string&)>& select) {
  const std::vector<std::string> names = {"default", "pending", "batches", "checkpoints",
                                          "state", "dead_letters", "quarantine"};
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw).ok());
  if (raw == nullptr) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* handle = handles[std::find(names.begin(), names.end(), cf) - names.begin()];
  std::vector<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handle));
  int position = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++position) {
    if (select(position, it->key().ToString())) keys.push_back(it->key().ToString());
  }
  it.reset();
  for (const auto& key : keys) EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), handle, key, GarbageSpoolValue()).ok());
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return static_cast<int>(keys.size());
}

inline std::string AgentId() {
  return std::string("spiffe://example.org/account/") + kAccount + "/region/" + kRegion + "/agent/a1";
}

}  // namespace orgtrail::agent::testing

#endif  // ORGTRAIL_TESTS_AGENT_AGENT_TEST_UTIL_H_
