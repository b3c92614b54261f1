// Builders shared by the EventStore tests: synthetic events, unsigned
// IngestBatches with real leaf hashes and Merkle roots, and a store in a temp
// dir. The batches are not signed: the store trusts its caller (the ingest
// path verifies signatures before CommitGroup).
#ifndef ORGTRAIL_TESTS_COLLECTOR_STORE_STORE_TEST_SUPPORT_H_
#define ORGTRAIL_TESTS_COLLECTOR_STORE_STORE_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/merkle.h"
#include "testutil/ingest_client.h"

namespace orgtrail::collector::storetest {

using testutil::SyntheticEvent;
using testutil::SyntheticEventJson;

constexpr int64_t kHour = 3600LL * 1000000;
constexpr int64_t kBase = 1700000000000000;  // 2023-11-14T22:13:20Z

inline IngestEvent MakeEvent(const SyntheticEvent& spec, const std::string& partition_region = "") {
  EventExtractor extractor;
  IngestEvent out;
  Status s = extractor.Extract(SyntheticEventJson(spec), &out.event);
  EXPECT_TRUE(s.ok()) << s;
  out.partition_region = partition_region.empty() ? spec.region : partition_region;
  return out;
}

inline IngestBatch MakeBatch(const std::string& agent, uint64_t seq, std::vector<IngestEvent> events,
                      const std::string& account = "111111111111", const std::string& region = "us-east-1") {
  IngestBatch b;
  b.agent_id = agent;
  b.account_id = account;
  b.region = region;
  b.epoch = 1;
  b.sequence = seq;
  b.signed_header = "orgtrail-batch-v1\nseq=" + std::to_string(seq) + "\n";
  b.signature = "sig";
  b.signature_algorithm = "ED25519";
  b.certificate_pem = "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n";
  b.certificate_sha256 = Sha256(b.certificate_pem);
  b.batch_hash = Sha256(b.signed_header);
  b.receipt_time_us = kBase;
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].leaf_index = static_cast<uint32_t>(i);
    b.leaf_hashes.push_back(MerkleLeafHash(events[i].event.raw_json()));
  }
  b.merkle_root = MerkleRoot(b.leaf_hashes);
  b.events = std::move(events);
  return b;
}

inline SyntheticEvent Spec(const std::string& id, int64_t time_us, const std::string& name = "DescribeInstances") {
  SyntheticEvent s;
  s.event_id = id;
  s.event_time_us = time_us;
  s.event_name = name;
  return s;
}

inline std::unique_ptr<EventStore> OpenStore(const std::string& path, int64_t retention_us = 0,
                                             uint64_t index_queue_bytes = StoreOptions().index_queue_bytes) {
  StoreOptions options;
  options.org = "example.org";
  options.retention_us = retention_us;
  options.index_queue_bytes = index_queue_bytes;
  auto store = EventStore::Open(path, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

}  // namespace orgtrail::collector::storetest

#endif  // ORGTRAIL_TESTS_COLLECTOR_STORE_STORE_TEST_SUPPORT_H_
