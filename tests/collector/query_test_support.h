// Test support for the Query tests: a real EventStore in a temp dir, filled
// through the collector's own ingest path (records -> signed batch with a
// real agent certificate -> BatchValidator -> EventStore::CommitGroup), plus
// a brute-force oracle of what LookupEvents must return, computed from the
// ingested records with the same extraction rules but no index.
// Not thread-safe; one per test.
#ifndef ORGTRAIL_TESTS_COLLECTOR_QUERY_TEST_SUPPORT_H_
#define ORGTRAIL_TESTS_COLLECTOR_QUERY_TEST_SUPPORT_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "collector/ingest/batch_validator.h"
#include "collector/query/query_cursor.h"
#include "collector/query/query_engine.h"
#include "collector/store/store.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/time_util.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector::querytest {

inline constexpr const char* kOrg = "example.org";
inline constexpr const char* kHomeRegion = "us-east-1";

// One record as the oracle sees it.
struct OracleEvent {
  std::string event_id;
  int64_t time_us = 0;
  std::string account;
  std::string region;  // partition region
  std::string category;
  std::map<IndexKind, std::set<std::string>> attributes;
  std::string raw_json;
  std::string order_key() const { return LookupOrderKey(time_us, account, region, event_id); }
};

// All records of the invictus set, in file order.
inline std::vector<std::string> LoadInvictusRecords() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(ORGTRAIL_SHARED_DATA_DIR) / "invictus-aws-dataset" / "CloudTrail";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> records;
  EventExtractor unused;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    // Split {"Records":[{...},{...}]} into the records' exact bytes.
    const std::string body = text.str();
    size_t pos = body.find('[');
    int depth = 0;
    bool in_string = false, escaped = false;
    size_t start = 0;
    for (size_t i = pos + 1; i < body.size(); ++i) {
      const char c = body[i];
      if (in_string) {
        if (escaped) escaped = false;
        else if (c == '\\') escaped = true;
        else if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      else if (c == '{') {
        if (depth++ == 0) start = i;
      } else if (c == '}') {
        if (--depth == 0) records.push_back(body.substr(start, i - start + 1));
      } else if (c == ']' && depth == 0) {
        break;
      }
    }
  }
  return records;
}

class QueryTestStore {
 public:
  QueryTestStore() : pki_(dir_.MakeSubdir("pki"), kOrg) {
    StoreOptions options;
    options.org = kOrg;
    options.block_cache_bytes = 8 << 20;
    options.write_buffer_bytes = 16 << 20;
    auto store = EventStore::Open(dir_.Join("db"), options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (store.ok()) store_ = std::move(*store);
    policy_.home_region = kHomeRegion;
    policy_.classifier = &classifier_;
  }

  EventStore* store() { return store_.get(); }
  const testutil::TestPki& pki() const { return pki_; }
  testutil::TestPki& pki() { return pki_; }
  const std::string& dir() const { return dir_.path(); }

  // Ingests `records` as agent (account, region) in signed batches of
  // batch_size, through BatchValidator and CommitGroup. Records whose eventID
  // is already stored are deduplicated by the store, as in production.
  void Ingest(const std::string& account, const std::string& region,
              const std::vector<std::string>& records, size_t batch_size = 100) {
    Agent& agent = AgentFor(account, region);
    for (size_t begin = 0; begin < records.size(); begin += batch_size) {
      const size_t end = std::min(records.size(), begin + batch_size);
      v1::Batch batch;
      batch.set_agent_id(agent.id);
      batch.set_epoch(1);
      batch.set_sequence(++agent.sequence);
      batch.set_prev_batch_hash(DigestToString(agent.prev_hash));
      batch.set_created_time_us(NowMicros());
      for (size_t i = begin; i < end; ++i) batch.add_events()->set_raw_json(records[i]);
      ASSERT_TRUE(SealBatch(*agent.signer, &batch).ok());
      IngestBatch ingest;
      IngestRefusal refusal;
      ASSERT_TRUE(agent.validator->Validate(batch, NowMicros(), &ingest, &refusal))
          << refusal.rule << ": " << refusal.message;
      auto result = store_->CommitGroup({&ingest});
      ASSERT_TRUE(result.ok()) << result.status();
      auto header = HeaderOfBatch(batch);
      ASSERT_TRUE(header.ok());
      agent.prev_hash = BatchHash(*header);
      for (size_t i = begin; i < end; ++i) AddToOracle(account, records[i]);
    }
  }

  // Oracle: every stored event matching, in lookup order.
  std::vector<std::string> Expected(const std::vector<std::pair<IndexKind, std::string>>& attributes,
                                    int64_t start_us, int64_t end_us,
                                    const std::set<std::string>& accounts = {},
                                    const std::set<std::string>& regions = {},
                                    bool include_data_events = false) const {
    std::vector<const OracleEvent*> matches;
    for (const auto& [id, event] : oracle_) {
      if (event.time_us < start_us || event.time_us > end_us) continue;
      if (!accounts.empty() && accounts.count(event.account) == 0) continue;
      if (!regions.empty() && regions.count(event.region) == 0) continue;
      const bool management = event.category.empty() || event.category == "Management";
      if (event.category == "Insight") continue;
      if (!management && !include_data_events) continue;
      bool all = true;
      for (const auto& [kind, value] : attributes) {
        auto it = event.attributes.find(kind);
        if (it == event.attributes.end() || it->second.count(value) == 0) all = false;
      }
      if (all) matches.push_back(&event);
    }
    std::sort(matches.begin(), matches.end(), [](const OracleEvent* a, const OracleEvent* b) {
      return a->order_key() < b->order_key();
    });
    std::vector<std::string> ids;
    for (const auto* event : matches) ids.push_back(event->event_id);
    return ids;
  }

  const std::map<std::string, OracleEvent>& oracle() const { return oracle_; }

 private:
  struct Agent {
    std::string id;
    std::unique_ptr<Signer> signer;
    std::unique_ptr<BatchValidator> validator;
    uint64_t sequence = 0;
    Digest prev_hash{};
  };

  Agent& AgentFor(const std::string& account, const std::string& region) {
    const std::string key = account + "/" + region;
    auto it = agents_.find(key);
    if (it != agents_.end()) return it->second;
    Agent& agent = agents_[key];
    const TlsFiles files = pki_.Agent(account, region, "a-" + region);
    auto kc = ReadKeyAndCert(files.key_path, files.cert_path);
    EXPECT_TRUE(kc.ok()) << kc.status();
    auto identity = IdentityFromCertificatePem(kc->cert_pem, kOrg);
    EXPECT_TRUE(identity.ok()) << identity.status();
    agent.id = identity->spiffe_id;
    auto signer = Signer::FromPrivateKeyPem(kc->key_pem);
    EXPECT_TRUE(signer.ok()) << signer.status();
    agent.signer = std::move(*signer);
    auto peer = MakePeerCredentials(*identity, kc->cert_pem);
    EXPECT_TRUE(peer.ok()) << peer.status();
    agent.validator = std::make_unique<BatchValidator>(policy_, std::move(*peer));
    return agent;
  }

  void AddToOracle(const std::string& account, const std::string& raw) {
    v1::Event event;
    ASSERT_TRUE(extractor_.Extract(raw, &event).ok());
    if (oracle_.count(event.event_id()) > 0) return;  // duplicate: stored once
    OracleEvent& o = oracle_[event.event_id()];
    o.event_id = event.event_id();
    o.time_us = event.event_time_us();
    o.account = account;
    o.region = PartitionRegion(event, classifier_, kHomeRegion);
    o.category = event.event_category();
    o.raw_json = raw;
    auto add = [&](IndexKind kind, const std::string& value) {
      if (!value.empty()) o.attributes[kind].insert(value);
    };
    add(IndexKind::kEventId, event.event_id());
    add(IndexKind::kEventName, event.event_name());
    add(IndexKind::kReadOnly, IsReadOnly(event) ? "true" : "false");
    add(IndexKind::kUsername, event.username());
    for (const auto& r : event.resources()) {
      add(IndexKind::kResourceType, r.type());
      add(IndexKind::kResourceName, r.arn());
    }
    add(IndexKind::kEventSource, event.event_source());
    add(IndexKind::kAccessKeyId, event.access_key_id());
  }

  testutil::TempDir dir_{"orgtrail-query"};
  testutil::TestPki pki_;
  std::unique_ptr<EventStore> store_;
  GlobalServiceClassifier classifier_;
  IngestPolicy policy_;
  EventExtractor extractor_;
  std::map<std::string, Agent> agents_;
  std::map<std::string, OracleEvent> oracle_;
};

// Pages through a lookup to the end; returns eventIDs in the order returned.
inline std::vector<std::string> LookupAll(const QueryEngine& engine, v1::LookupEventsRequest request,
                                          int* pages = nullptr) {
  std::vector<std::string> ids;
  int count = 0;
  while (true) {
    auto response = engine.LookupEvents(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) break;
    ++count;
    for (const auto& event : response->events()) ids.push_back(event.event_id());
    if (response->next_token().empty() || count > 100000) break;
    request.set_next_token(response->next_token());
  }
  if (pages != nullptr) *pages = count;
  return ids;
}

}  // namespace orgtrail::collector::querytest

#endif  // ORGTRAIL_TESTS_COLLECTOR_QUERY_TEST_SUPPORT_H_
