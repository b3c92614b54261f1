// End to end with the real orgtrail-collector binary on loopback (mTLS,
// RocksDB on disk, real export thread): the invictus set ingested by a real
// agent identity comes out of the export byte-identical, the digests
// validate with the real orgtrailctl, the MerkleLog and DigestKeys gRPC
// services answer auditors and refuse agents, and kill -9 of the collector at
// random points during ingest+export leaves no gap and no duplicate.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "collector/export_test_support.h"
#include "collector/export/export_file.h"
#include "orgtrail/common/checkpoint.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/v1/admin.grpc.pb.h"
#include "orgtrail/v1/query.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;
using exporttest::ReadFileOrDie;
using exporttest::SplitRecords;
using testutil::WaitFor;

constexpr char kAccount[] = "123837392027";

std::vector<std::string> FastExportArgs() {
  return {"--export-interval", "300ms", "--digest-interval", "2s", "--checkpoint-interval", "300ms",
          "--checkpoint-every-events", "100", "--export-bucket", "e2e-bucket", "--export-org-id", "o-e2etest0001"};
}

// eventID -> number of times it appears in exported log files.
std::map<std::string, int> ExportedIds(const std::string& root, std::multiset<std::string>* records = nullptr) {
  std::map<std::string, int> ids;
  std::error_code ec;
  if (!fs::exists(root, ec)) return ids;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string p = it->path().string();
    if (!it->is_regular_file(ec) || p.find("/CloudTrail/") == std::string::npos) continue;
    if (p.size() < 8 || p.substr(p.size() - 8) != ".json.gz" || it->path().filename().string().rfind(".tmp-", 0) == 0) continue;
    auto doc = GzipDecompress(ReadFileOrDie(p));
    if (!doc.ok()) continue;
    for (auto& r : SplitRecords(*doc)) {
      ids[exporttest::TopLevelString(r, "eventID")]++;
      if (records) records->insert(r);
    }
  }
  return ids;
}

using exporttest::ValidateRun;

ValidateRun RunValidate(const std::string& root, const std::string& log_dir, const std::string& name) {
  return exporttest::RunValidate(root, kAccount, {}, log_dir, name);
}

// True once every log file on disk is listed by a digest: validate-logs
// finds no unlisted file and at least one valid digest.
bool AllLogsDigested(const std::string& root, const std::string& log_dir, int* runs, ValidateRun* last) {
  *last = RunValidate(root, log_dir, "validate-" + std::to_string((*runs)++));
  return last->exit_code == 0 && last->out.find("digest files valid") != std::string::npos &&
         last->err.find("not listed") == std::string::npos;
}

class ExportCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = std::make_unique<testutil::TestPki>(dir_.MakeSubdir("pki"));
    ASSERT_TRUE(pki_->ok());
  }
  std::unique_ptr<testutil::CollectorProcess> StartCollector(std::vector<std::string> extra = {}) {
    testutil::CollectorProcessOptions o;
    o.data_dir = dir_.Join("data");
    o.log_dir = dir_.Join("logs");
    fs::create_directories(o.log_dir);
    o.tls = pki_->Collector();
    o.extra_args = FastExportArgs();
    o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
    o.name = "collector-" + std::to_string(starts_++);
    auto c = testutil::CollectorProcess::Start(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::string ExportRoot() { return dir_.Join("data/export"); }

  testutil::TempDir dir_{"export-e2e"};
  std::unique_ptr<testutil::TestPki> pki_;
  int starts_ = 0;
  int runs_ = 0;
};

TEST_F(ExportCollectorTest, InvictusThroughTheRealCollector) {
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  const TlsFiles agent = pki_->Agent(kAccount, "us-east-1");
  auto client = testutil::IngestClient::Connect(collector->target(), agent,
                                                testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Hello().ok());
  std::vector<std::string> records = exporttest::InvictusRecords();
  for (size_t i = 0; i < records.size(); i += 200) {
    std::vector<std::string> chunk(records.begin() + i, records.begin() + std::min(records.size(), i + 200));
    auto ack = (*client)->SendEvents(chunk);
    ASSERT_TRUE(ack.ok()) << ack.status() << "\n" << collector->process()->ReadLog();
  }
  // All records exported, byte for byte.
  std::multiset<std::string> exported;
  ASSERT_TRUE(WaitFor([&] {
    exported.clear();
    auto ids = ExportedIds(ExportRoot(), &exported);
    return exported.size() >= records.size();
  }, std::chrono::seconds(60)));
  EXPECT_TRUE(std::multiset<std::string>(records.begin(), records.end()) == exported);
  // Digests cover them and validate.
  ValidateRun last;
  ASSERT_TRUE(WaitFor([&] { return AllLogsDigested(ExportRoot(), dir_.Join("logs"), &runs_, &last); },
                      std::chrono::seconds(60), std::chrono::milliseconds(500)))
      << last.out << last.err;

  // MerkleLog service: auditors get checkpoints and proofs that verify.
  auto channel = [&](const TlsFiles& tls) {
    auto creds = MakeChannelCredentials(tls);
    EXPECT_TRUE(creds.ok());
    return grpc::CreateChannel(collector->target(), *creds);
  };
  auto merkle = v1::MerkleLog::NewStub(channel(pki_->Auditor()));
  v1::GetCheckpointResponse cp;
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext ctx;
    v1::GetCheckpointRequest req;
    cp.Clear();
    // Every call adds the collector's self-audit record of it to the log: at least the records.
    return merkle->GetCheckpoint(&ctx, req, &cp).ok() && cp.tree_size() >= records.size();
  }, std::chrono::seconds(60)));
  auto verifier = CheckpointVerifier::FromVerifierKey(cp.verifier_key());
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  ASSERT_TRUE((*verifier)->Open(cp.checkpoint(), "example.org/orgtrail").ok());
  for (size_t i : {size_t{0}, size_t{1234}, records.size() - 1}) {
    grpc::ClientContext ctx;
    v1::GetInclusionProofRequest req;
    req.set_event_id(exporttest::TopLevelString(records[i], "eventID"));
    v1::GetInclusionProofResponse resp;
    ASSERT_TRUE(merkle->GetInclusionProof(&ctx, req, &resp).ok());
    std::vector<Digest> proof;
    for (const auto& p : resp.proof()) proof.push_back(*DigestFromString(p));
    // The proof is against the signed checkpoint the response names.
    auto checkpoint = (*verifier)->Open(resp.checkpoint(), "example.org/orgtrail");
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    EXPECT_EQ(resp.tree_size(), checkpoint->size);
    EXPECT_GE(checkpoint->size, records.size());
    EXPECT_TRUE(VerifyCheckpointInclusion(*checkpoint, resp.leaf_index(), MerkleLeafHash(records[i]), proof).ok());
    // A rewritten record is not included.
    EXPECT_FALSE(VerifyCheckpointInclusion(*checkpoint, resp.leaf_index(), MerkleLeafHash(records[i] + " "), proof).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::GetConsistencyProofRequest req;
    req.set_first_tree_size(100);
    v1::GetConsistencyProofResponse resp;
    ASSERT_TRUE(merkle->GetConsistencyProof(&ctx, req, &resp).ok());
    EXPECT_GE(resp.second_tree_size(), records.size());
  }
  // Hostile requests: clear errors, no crash.
  {
    grpc::ClientContext ctx;
    v1::GetInclusionProofRequest req;
    req.set_leaf_index(~0ull);
    v1::GetInclusionProofResponse resp;
    EXPECT_EQ(merkle->GetInclusionProof(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    v1::GetInclusionProofRequest req;
    req.set_event_id(std::string(100000, 'x'));
    v1::GetInclusionProofResponse resp;
    EXPECT_EQ(merkle->GetInclusionProof(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    v1::GetInclusionProofRequest req;
    req.set_event_id("no-such-event");
    v1::GetInclusionProofResponse resp;
    EXPECT_EQ(merkle->GetInclusionProof(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    v1::GetConsistencyProofRequest req;
    req.set_first_tree_size(5);
    req.set_second_tree_size(1ull << 60);
    v1::GetConsistencyProofResponse resp;
    EXPECT_FALSE(merkle->GetConsistencyProof(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::GetCheckpointRequest req;
    req.set_tree_size(7777777);
    v1::GetCheckpointResponse resp;
    EXPECT_EQ(merkle->GetCheckpoint(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  // Agents may not read the log.
  {
    auto as_agent = v1::MerkleLog::NewStub(channel(agent));
    grpc::ClientContext ctx;
    v1::GetCheckpointRequest req;
    v1::GetCheckpointResponse resp;
    EXPECT_EQ(as_agent->GetCheckpoint(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // ListPublicKeys: the key of the export's public-keys.json.
  {
    auto keys = v1::DigestKeys::NewStub(channel(pki_->Admin()));
    grpc::ClientContext ctx;
    v1::ListPublicKeysRequest req;
    v1::ListPublicKeysResponse resp;
    ASSERT_TRUE(keys->ListPublicKeys(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.public_key_list_size(), 1);
    const std::string json = ReadFileOrDie(ExportRoot() + "/AWSLogs/o-e2etest0001/public-keys.json");
    EXPECT_NE(json.find(resp.public_key_list(0).fingerprint()), std::string::npos);
    grpc::ClientContext ctx2;
    req.set_start_time_us(10);
    req.set_end_time_us(5);
    EXPECT_EQ(keys->ListPublicKeys(&ctx2, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    auto as_agent = v1::DigestKeys::NewStub(channel(agent));
    grpc::ClientContext ctx3;
    v1::ListPublicKeysRequest req3;
    EXPECT_EQ(as_agent->ListPublicKeys(&ctx3, req3, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // The latest digest carries the latest checkpoint (extension field).
  bool found_checkpoint = false;
  for (const auto& e : fs::recursive_directory_iterator(ExportRoot())) {
    const std::string p = e.path().string();
    if (p.find("/CloudTrail-Digest/") == std::string::npos || p.size() < 8 || p.substr(p.size() - 8) != ".json.gz") continue;
    auto doc = GzipDecompress(ReadFileOrDie(p));
    if (doc.ok() && doc->find("\"orgtrailCheckpoint\":\"example.org/orgtrail\\n") != std::string::npos) found_checkpoint = true;
  }
  EXPECT_TRUE(found_checkpoint);
}

TEST_F(ExportCollectorTest, KillNineDuringIngestAndExportNoGapNoDuplicate) {
  std::vector<std::string> events;
  for (int i = 0; i < 1200; ++i) {
    testutil::SyntheticEvent e;
    e.event_id = "kill9-" + std::to_string(i);
    e.account_id = kAccount;
    e.region = i % 3 == 0 ? "eu-west-1" : "us-east-1";
    e.event_source = i % 5 == 0 ? "iam.amazonaws.com" : "ec2.amazonaws.com";
    e.event_time_us = 1700000000000000 + i * 1000000ll;
    events.push_back(testutil::SyntheticEventJson(e));
  }
  const size_t kBatch = 40;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_ms(0, 700);
  size_t acked_batches = 0;
  const size_t total_batches = events.size() / kBatch;
  int kills = 0;
  // Agents per region (the agent's region must match non-global events).
  auto send_some = [&](testutil::CollectorProcess* c, size_t max_batches) {
    std::map<std::string, std::unique_ptr<testutil::IngestClient>> clients;
    for (size_t sent = 0; acked_batches < total_batches && sent < max_batches; ++sent) {
      // Batch b holds events [b*kBatch, (b+1)*kBatch) split by region into one batch per agent.
      std::map<std::string, std::vector<std::string>> by_region;
      for (size_t i = acked_batches * kBatch; i < (acked_batches + 1) * kBatch; ++i) {
        const std::string region = exporttest::TopLevelString(events[i], "awsRegion");
        by_region[region].push_back(events[i]);
      }
      for (auto& [region, raws] : by_region) {
        auto& client = clients[region];
        if (!client) {
          auto made = testutil::IngestClient::Connect(c->target(), pki_->Agent(kAccount, region, "a-" + region),
                                                      testutil::AgentSpiffeId("example.org", kAccount, region, "a-" + region),
                                                      1, std::chrono::seconds(30));
          if (!made.ok()) return;
          client = std::move(*made);
          if (!client->Hello().ok()) return;
        }
        // Resending a batch whose events are stored is harmless: dedup by eventID.
        if (!client->SendEvents(raws).ok()) return;
      }
      ++acked_batches;
    }
  };
  while (acked_batches < total_batches && kills < 8) {
    auto collector = StartCollector();
    ASSERT_NE(collector, nullptr);
    send_some(collector.get(), 2 + rng() % 5);
    // Let the export thread run into a random step, then kill -9.
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    collector->process()->Kill(SIGKILL);
    collector->process()->Wait(std::chrono::seconds(30));
    ++kills;
  }
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  for (int attempt = 0; attempt < 5 && acked_batches < total_batches; ++attempt) {
    send_some(collector.get(), total_batches);  // a failed stream is retried on a new one
  }
  ASSERT_EQ(acked_batches, total_batches) << collector->process()->ReadLog();
  std::map<std::string, int> ids;
  ASSERT_TRUE(WaitFor([&] {
    ids = ExportedIds(ExportRoot());
    return ids.size() >= events.size();
  }, std::chrono::seconds(60))) << ids.size();
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(ids.size(), events.size());
  ValidateRun last;
  EXPECT_TRUE(WaitFor([&] { return AllLogsDigested(ExportRoot(), dir_.Join("logs"), &runs_, &last); },
                      std::chrono::seconds(60), std::chrono::milliseconds(500)))
      << last.out << last.err;
  EXPECT_GE(kills, 3);
}

TEST_F(ExportCollectorTest, DigestKeyRotationAcrossRestartKeepsOldDigestsValid) {
  auto send = [&](testutil::CollectorProcess* c, int from) {
    auto client = testutil::IngestClient::Connect(c->target(), pki_->Agent(kAccount, "us-east-1"),
                                                  testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE((*client)->Hello().ok());
    std::vector<std::string> raws;
    for (int i = from; i < from + 20; ++i) {
      testutil::SyntheticEvent e;
      e.event_id = "rot-" + std::to_string(i);
      e.account_id = kAccount;
      raws.push_back(testutil::SyntheticEventJson(e));
    }
    ASSERT_TRUE((*client)->SendEvents(raws).ok());
  };
  ValidateRun last;
  {
    auto c = StartCollector();
    ASSERT_NE(c, nullptr);
    send(c.get(), 0);
    ASSERT_TRUE(WaitFor([&] { return AllLogsDigested(ExportRoot(), dir_.Join("logs"), &runs_, &last); },
                        std::chrono::seconds(60), std::chrono::milliseconds(500))) << last.out << last.err;
    c->process()->Stop();
  }
  auto c = StartCollector({"--rotate-digest-key", "true"});
  ASSERT_NE(c, nullptr);
  send(c.get(), 100);
  ASSERT_TRUE(WaitFor([&] {
    return ExportedIds(ExportRoot()).size() == 40u && AllLogsDigested(ExportRoot(), dir_.Join("logs"), &runs_, &last);
  }, std::chrono::seconds(60), std::chrono::milliseconds(500))) << last.out << last.err;
  const std::string keys = ReadFileOrDie(ExportRoot() + "/AWSLogs/o-e2etest0001/public-keys.json");
  size_t count = 0;
  for (size_t p = keys.find("\"Fingerprint\""); p != std::string::npos; p = keys.find("\"Fingerprint\"", p + 1)) ++count;
  EXPECT_EQ(count, 2u) << keys;
  EXPECT_EQ(last.err.find("INVALID"), std::string::npos) << last.err;
}

}  // namespace
}  // namespace orgtrail::collector
