// Durability of the real orgtrail-collector: kill -9 during heavy ingest from
// several streams, fsync failure injected (fail-stop: no ack after the
// failure, /healthz red), and the invictus data set ingested twice (stored
// once, byte for byte, global events homed in us-east-1). After each run the
// store on disk is opened directly and checked record by record.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "collector/store/store.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_extractor.h"
#include "testutil/ingest_client.h"
#include "testutil/net.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

using collector::EventStore;
using testutil::CollectorProcess;
using testutil::IngestClient;
using testutil::SyntheticEvent;
using testutil::SyntheticEventJson;

constexpr char kAccount[] = "111111111111";

std::string EventId(const std::string& agent_name, uint64_t seq, int i) {
  return agent_name + "-" + std::to_string(seq) + "-" + std::to_string(i);
}

std::vector<std::string> BatchEvents(const std::string& agent_name, uint64_t seq, int count) {
  std::vector<std::string> events;
  for (int i = 0; i < count; ++i) {
    SyntheticEvent e;
    e.event_id = EventId(agent_name, seq, i);
    e.account_id = kAccount;
    e.event_time_us = 1700000000000000 + static_cast<int64_t>(seq) * 1000 + i;
    e.size_bytes = 1024;
    events.push_back(SyntheticEventJson(e));
  }
  return events;
}

std::unique_ptr<EventStore> OpenStoreDirectly(const std::string& data_dir) {
  collector::StoreOptions options;
  options.org = "example.org";
  auto store = EventStore::Open(data_dir + "/db", options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

uint64_t CountCommitOrder(EventStore* store) {
  uint64_t n = 0;
  for (auto it = store->NewCommitIterator(1); it->Valid(); it->Next()) ++n;
  return n;
}

class CollectorDurabilityTest : public ::testing::Test {
 protected:
  CollectorDurabilityTest() : pki_(dir_.MakeSubdir("pki")) {}

  std::unique_ptr<CollectorProcess> StartCollector(std::vector<std::string> extra = {}) {
    testutil::CollectorProcessOptions options;
    options.data_dir = dir_.Join("data");
    options.log_dir = dir_.MakeSubdir("logs");
    options.tls = collector_tls_;
    options.name = "collector-" + std::to_string(++starts_);
    options.extra_args = std::move(extra);
    auto collector = CollectorProcess::Start(options);
    EXPECT_TRUE(collector.ok()) << collector.status();
    return collector.ok() ? std::move(*collector) : nullptr;
  }
  std::string AgentId(const std::string& region, const std::string& name, const std::string& account = kAccount) {
    return testutil::AgentSpiffeId("example.org", account, region, name);
  }
  TlsFiles AgentTls(const std::string& region, const std::string& name, const std::string& account = kAccount) {
    std::string id = AgentId(region, name, account);
    if (issued_.count(id) == 0) issued_[id] = pki_.Agent(account, region, name);
    return issued_[id];
  }

  testutil::TempDir dir_{"collector-durability"};
  testutil::TestPki pki_;
  TlsFiles collector_tls_ = pki_.Collector();
  std::map<std::string, TlsFiles> issued_;
  int starts_ = 0;
};

TEST_F(CollectorDurabilityTest, KillNineDuringHeavyIngestLosesNoAckedBatchAndDuplicatesNothing) {
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  constexpr int kAgents = 4;
  constexpr int kEventsPerBatch = 50;
  std::mutex mu;
  std::map<std::string, uint64_t> acked;  // agent name -> highest acked sequence
  std::atomic<int> total_acked{0};
  std::vector<std::thread> threads;
  const std::string target = collector->target();
  for (int a = 0; a < kAgents; ++a) {
    std::string name = "crash-" + std::to_string(a);
    TlsFiles tls = AgentTls("us-east-1", name);
    std::string id = AgentId("us-east-1", name);
    threads.emplace_back([&, name, tls, id] {
      auto client = IngestClient::Connect(target, tls, id);
      if (!client.ok() || !(*client)->Hello().ok()) return;
      for (;;) {
        uint64_t seq = (*client)->next_sequence();
        auto ack = (*client)->SendEvents(BatchEvents(name, seq, kEventsPerBatch));
        if (!ack.ok()) return;  // the collector died
        std::lock_guard<std::mutex> lock(mu);
        acked[name] = ack->sequence();
        ++total_acked;
      }
    });
  }
  // Let real load build up, then kill -9 mid-stream.
  bool loaded = testutil::WaitFor([&] { return total_acked.load() >= 60; }, std::chrono::seconds(60));
  ASSERT_TRUE(collector->process()->Kill(SIGKILL));
  for (auto& t : threads) t.join();
  ASSERT_TRUE(loaded) << "only " << total_acked.load() << " batches acked before the deadline";
  collector->process()->Wait(std::chrono::seconds(30));

  // Restart: high-water marks cover every acked batch.
  collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  std::map<std::string, uint64_t> high_water;
  for (int a = 0; a < kAgents; ++a) {
    std::string name = "crash-" + std::to_string(a);
    auto client = IngestClient::Connect(collector->target(), AgentTls("us-east-1", name), AgentId("us-east-1", name));
    ASSERT_TRUE(client.ok());
    auto hello = (*client)->Hello();
    ASSERT_TRUE(hello.ok()) << hello.status();
    high_water[name] = hello->high_water_sequence();
    EXPECT_GE(high_water[name], acked[name]) << name;
    (*client)->Finish();
  }
  collector->process()->Stop();

  auto store = OpenStoreDirectly(dir_.Join("data"));
  ASSERT_NE(store, nullptr);
  uint64_t expected_events = 0;
  for (const auto& [name, hw] : high_water) {
    for (uint64_t seq = 1; seq <= hw + 1; ++seq) {
      for (int i = 0; i < kEventsPerBatch; i += 7) {
        auto got = store->GetEventById(EventId(name, seq, i));
        ASSERT_TRUE(got.ok());
        // Everything up to the high-water mark is there, nothing of the batch after it.
        EXPECT_EQ(got->has_value(), seq <= hw) << name << " seq " << seq << " event " << i;
      }
    }
    auto state = store->GetAgentState(AgentId("us-east-1", name));
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->high_water_sequence, hw);
    EXPECT_EQ(state->events_stored, hw * kEventsPerBatch);
    expected_events += hw * kEventsPerBatch;
  }
  // Nothing twice: the counters, the commit order and the org-wide index agree.
  EXPECT_EQ(store->events_stored(), expected_events);
  EXPECT_EQ(CountCommitOrder(store.get()), expected_events);
  std::set<std::string> ids;
  uint64_t index_entries = 0;
  for (auto it = store->NewIndexIterator(collector::IndexKind::kAll, "", INT64_MIN + 1, INT64_MAX); it->Valid();
       it->Next()) {
    ++index_entries;
    ids.insert(it->entry().event_id);
  }
  EXPECT_EQ(index_entries, expected_events);
  EXPECT_EQ(ids.size(), expected_events);
}

TEST_F(CollectorDurabilityTest, FsyncFailureStopsAllAcksAndTurnsHealthRed) {
  constexpr int kGoodSyncs = 5;
  auto collector = StartCollector({"--test-fail-sync-after=" + std::to_string(kGoodSyncs)});
  ASSERT_NE(collector, nullptr);
  auto health = testutil::HttpGet("127.0.0.1", collector->http_port(), "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  auto ready = testutil::HttpGet("127.0.0.1", collector->http_port(), "/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200) << ready->body;

  const std::string name = "fsync";
  auto client = IngestClient::Connect(collector->target(), AgentTls("us-east-1", name), AgentId("us-east-1", name));
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Hello().ok());
  uint64_t last_acked = 0;
  Status failure;
  for (int i = 0; i < 50; ++i) {
    uint64_t seq = (*client)->next_sequence();
    auto ack = (*client)->SendEvents(BatchEvents(name, seq, 3));
    if (!ack.ok()) {
      failure = ack.status();
      break;
    }
    last_acked = ack->sequence();
  }
  ASSERT_FALSE(failure.ok()) << "no failure after 50 batches";
  EXPECT_EQ(failure.code(), absl::StatusCode::kUnavailable) << failure;
  EXPECT_GE(last_acked, 1u);
  EXPECT_LE(last_acked, static_cast<uint64_t>(kGoodSyncs));

  // Health and readiness are red with the reason, the gauge says fail-stop, the log says why.
  health = testutil::HttpGet("127.0.0.1", collector->http_port(), "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 503);
  EXPECT_NE(health->body.find("synced write failed"), std::string::npos) << health->body;
  ready = testutil::HttpGet("127.0.0.1", collector->http_port(), "/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("{\"name\":\"committer\",\"ok\":false,\"reason\":\""), std::string::npos) << ready->body;
  EXPECT_EQ(collector->MetricValue("orgtrail_collector_fail_stop"), 1);
  EXPECT_NE(collector->process()->ReadStderr().find("fail-stop"), std::string::npos);

  // A new stream gets no ack either.
  auto again = IngestClient::Connect(collector->target(), AgentTls("us-east-1", name), AgentId("us-east-1", name));
  ASSERT_TRUE(again.ok());
  auto hello = (*again)->Hello();
  ASSERT_TRUE(hello.ok()) << hello.status();
  auto refused = (*again)->SendEvents(BatchEvents(name, (*again)->next_sequence(), 3));
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  collector->process()->Kill(SIGKILL);
  collector->process()->Wait(std::chrono::seconds(30));

  // Every acknowledged batch is on disk.
  auto store = OpenStoreDirectly(dir_.Join("data"));
  ASSERT_NE(store, nullptr);
  for (uint64_t seq = 1; seq <= last_acked; ++seq) {
    for (int i = 0; i < 3; ++i) {
      auto got = store->GetEventById(EventId(name, seq, i));
      ASSERT_TRUE(got.ok());
      EXPECT_TRUE(got->has_value()) << "acked seq " << seq << " event " << i << " missing";
    }
  }
}

std::vector<std::string> InvictusRecords() {
  std::vector<std::string> records;
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(ORGTRAIL_SHARED_DATA_DIR "/invictus-aws-dataset/CloudTrail")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto split = testutil::SplitCloudTrailRecords(text.str());
    EXPECT_TRUE(split.ok()) << path << ": " << split.status();
    if (split.ok()) records.insert(records.end(), split->begin(), split->end());
  }
  return records;
}

TEST_F(CollectorDurabilityTest, InvictusIngestedTwiceIsStoredOnceByteForByte) {
  constexpr char kInvictusAccount[] = "123837392027";
  std::vector<std::string> records = InvictusRecords();
  ASSERT_EQ(records.size(), 2900u);
  GlobalServiceClassifier classifier;
  EventExtractor extractor;
  std::vector<std::string> regional, global;
  std::map<std::string, std::string> raw_by_id;
  for (const auto& raw : records) {
    v1::Event e;
    ASSERT_TRUE(extractor.Extract(raw, &e).ok());
    raw_by_id[e.event_id()] = raw;
    (classifier.IsGlobal(e) ? global : regional).push_back(raw);
  }
  ASSERT_GT(global.size(), 100u);

  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  auto send_all = [&](const std::string& region, const std::string& name, const std::vector<std::string>& events) {
    auto client = IngestClient::Connect(collector->target(), AgentTls(region, name, kInvictusAccount),
                                        AgentId(region, name, kInvictusAccount));
    EXPECT_TRUE(client.ok());
    EXPECT_TRUE((*client)->Hello().ok());
    uint64_t stored = 0;
    for (size_t i = 0; i < events.size(); i += 100) {
      std::vector<std::string> chunk(events.begin() + i, events.begin() + std::min(events.size(), i + 100));
      auto ack = (*client)->SendEvents(chunk);
      EXPECT_TRUE(ack.ok()) << ack.status();
      if (!ack.ok()) break;
      stored += ack->events_stored();
    }
    (*client)->Finish();
    return stored;
  };
  // First pass: regional events from the us-east-1 agent, global events from
  // an eu-west-1 agent (allowed: global service). Second pass: everything again.
  EXPECT_EQ(send_all("us-east-1", "invictus-use1", regional), regional.size());
  EXPECT_EQ(send_all("eu-west-1", "invictus-euw1", global), global.size());
  EXPECT_EQ(send_all("us-east-1", "invictus-use1", records), 0u);
  collector->process()->Stop();

  auto store = OpenStoreDirectly(dir_.Join("data"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->events_stored(), 2900u);
  EXPECT_EQ(CountCommitOrder(store.get()), 2900u);
  int homed = 0;
  for (const auto& [id, raw] : raw_by_id) {
    auto got = store->GetEventById(id);
    ASSERT_TRUE(got.ok() && got->has_value()) << id;
    EXPECT_EQ((*got)->raw_json, raw) << id;  // byte for byte
    EXPECT_EQ((*got)->meta.partition_account_id(), kInvictusAccount);
    EXPECT_EQ((*got)->meta.partition_region(), "us-east-1");
    if ((*got)->meta.agent_id() == AgentId("eu-west-1", "invictus-euw1", kInvictusAccount)) ++homed;
  }
  EXPECT_EQ(homed, static_cast<int>(global.size()));
}

TEST_F(CollectorDurabilityTest, GlobalEventFromOtherRegionsHomedInConfiguredHomeRegion) {
  auto collector = StartCollector({"--home-region=us-west-2"});
  ASSERT_NE(collector, nullptr);
  SyntheticEvent iam;
  iam.event_id = "iam-homed";
  iam.account_id = kAccount;
  iam.region = "us-east-1";
  iam.event_source = "iam.amazonaws.com";
  iam.event_name = "CreateUser";
  for (const char* region : {"eu-west-1", "ap-southeast-2", "us-east-1"}) {
    auto client = IngestClient::Connect(collector->target(), AgentTls(region, "home"), AgentId(region, "home"));
    ASSERT_TRUE(client.ok());
    auto hello = (*client)->Hello();
    ASSERT_TRUE(hello.ok());
    EXPECT_EQ(hello->home_region(), "us-west-2");
    ASSERT_TRUE((*client)->SendEvents({SyntheticEventJson(iam)}).ok());
  }
  collector->process()->Stop();
  auto store = OpenStoreDirectly(dir_.Join("data"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->events_stored(), 1u);
  auto got = store->GetEventById("iam-homed");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->meta.partition_region(), "us-west-2");
  auto home = store->NewPartitionIterator(kAccount, "us-west-2", INT64_MIN + 1, INT64_MAX);
  ASSERT_TRUE(home->Valid());
  EXPECT_EQ(home->entry().event_id, "iam-homed");
}

}  // namespace
}  // namespace orgtrail
