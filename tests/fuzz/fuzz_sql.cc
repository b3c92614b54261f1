// SQL requests (collector/sql/sql_engine.h): auditors send arbitrary SQL.
// At start-up a small real store is created in a scratch directory (RocksDB,
// 40 generated CloudTrail records of two accounts, committed like ingested
// batches; few enough that a full scan costs less than parsing the query); each input is one query, executed read-only with a row limit
// (50), a result-size limit and a 250 ms time limit.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/sql/sql_engine.h"
#include "collector/store/store.h"
#include "fuzz_util.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/generator.h"

namespace {

using orgtrail::collector::EventStore;

EventStore* MakeStore() {
  orgtrail::collector::StoreOptions options;
  options.org = "example.org";
  options.block_cache_bytes = 4 << 20;
  options.memtable_budget_bytes = 8 << 20;
  options.write_buffer_bytes = 4 << 20;
  auto store = EventStore::Open(orgtrail::fuzz::ScratchDir() + "/db", options);
  if (!store.ok()) {
    std::fprintf(stderr, "fuzz_sql: %s\n", std::string(store.status().message()).c_str());
    std::abort();
  }
  orgtrail::EventExtractor extractor;
  uint64_t sequence = 0;
  for (auto [account, region, seed] : {std::tuple<const char*, const char*, uint64_t>{"111122223333", "us-east-1", 1},
                                       {"444455556666", "eu-west-1", 2}}) {
    orgtrail::GeneratorOptions gen;
    gen.seed = seed;
    gen.account_id = account;
    gen.region = region;
    orgtrail::EventGenerator generator(gen);
    for (int b = 0; b < 2; ++b) {
      orgtrail::collector::IngestBatch batch;
      batch.agent_id = std::string("agent-") + account;
      batch.account_id = account;
      batch.region = region;
      batch.epoch = 1;
      batch.sequence = ++sequence;
      batch.signed_header = "orgtrail-batch-v1\n";
      batch.signature = "fuzz";
      batch.signature_algorithm = "ED25519";
      batch.certificate_pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
      batch.receipt_time_us = 1767225600000000 + b;
      for (int i = 0; i < 10; ++i) {
        orgtrail::collector::IngestEvent ie;
        const std::string json = generator.NextJson();
        if (!extractor.Extract(json, &ie.event).ok()) std::abort();
        ie.partition_region = ie.event.aws_region().empty() ? region : ie.event.aws_region();
        ie.leaf_index = static_cast<uint32_t>(i);
        batch.leaf_hashes.push_back(orgtrail::Sha256(json));
        batch.events.push_back(std::move(ie));
      }
      auto result = (*store)->CommitGroup({&batch});
      if (!result.ok()) {
        std::fprintf(stderr, "fuzz_sql: commit: %s\n", std::string(result.status().message()).c_str());
        std::abort();
      }
    }
  }
  return store->release();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static EventStore* store = MakeStore();
  static const orgtrail::collector::SqlEngine* engine = [] {
    orgtrail::collector::SqlLimits limits;
    limits.default_max_rows = 50;
    limits.max_max_rows = 50;
    limits.default_timeout_ms = 250;
    limits.max_timeout_ms = 250;
    limits.max_result_bytes = 256 << 10;
    return new orgtrail::collector::SqlEngine(store, "us-east-1", limits);
  }();
  orgtrail::v1::SqlRequest request;
  request.set_query(std::string(orgtrail::fuzz::AsView(data, size)));
  request.set_max_rows(50);
  request.set_timeout_ms(250);
  auto response = engine->Execute(request);
  if (response.ok()) ORGTRAIL_FUZZ_CHECK(response->rows_size() <= 50);
  return 0;
}
