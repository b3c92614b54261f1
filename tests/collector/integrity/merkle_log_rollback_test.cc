// The Merkle log against a real collector: checkpoints saved by
// `orgtrailctl verify-log` stay consistent while the log grows, a store
// restored from an older backup (rolled back) is caught by verify-log, and an
// event rewritten inside RocksDB no longer verifies against the signed
// checkpoint (the check `verify-event --checkpoint` performs).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "collector/export_test_support.h"
#include "collector/store/store.h"
#include "collector/store/store_keys.h"
#include "orgtrail/common/checkpoint.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/v1/query.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;
constexpr char kAccount[] = "111111111111";

class MerkleLogRollbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = std::make_unique<testutil::TestPki>(dir_.MakeSubdir("pki"));
    ASSERT_TRUE(pki_->ok());
    auditor_ = pki_->Auditor();
    fs::create_directories(dir_.Join("logs"));
  }
  std::unique_ptr<testutil::CollectorProcess> Start() {
    testutil::CollectorProcessOptions o;
    o.data_dir = dir_.Join("data");
    o.log_dir = dir_.Join("logs");
    o.tls = pki_->Collector();
    o.extra_args = {"--checkpoint-interval", "200ms", "--checkpoint-every-events", "10", "--export-interval", "1s"};
    o.name = "collector-" + std::to_string(starts_++);
    auto c = testutil::CollectorProcess::Start(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::unique_ptr<v1::MerkleLog::Stub> Merkle(testutil::CollectorProcess* c) {
    auto creds = MakeChannelCredentials(auditor_);
    EXPECT_TRUE(creds.ok());
    return v1::MerkleLog::NewStub(grpc::CreateChannel(c->target(), *creds));
  }
  void Ingest(testutil::CollectorProcess* c, int from, int to) {
    auto client = testutil::IngestClient::Connect(c->target(), pki_->Agent(kAccount, "us-east-1"),
                                                  testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE((*client)->Hello().ok());
    std::vector<std::string> raws;
    for (int i = from; i < to; ++i) {
      testutil::SyntheticEvent e;
      e.event_id = "rb-" + std::to_string(i);
      e.account_id = kAccount;
      raws.push_back(testutil::SyntheticEventJson(e));
    }
    ASSERT_TRUE((*client)->SendEvents(raws).ok());
  }
  // Waits for a checkpoint of at least `size` (every GetCheckpoint call adds its own self-audit
  // record to the log, so the exact size is not foreseeable); returns its verifier key.
  std::string WaitCheckpoint(testutil::CollectorProcess* c, uint64_t size) {
    auto stub = Merkle(c);
    v1::GetCheckpointResponse resp;
    EXPECT_TRUE(testutil::WaitFor([&] {
      grpc::ClientContext ctx;
      resp.Clear();
      return stub->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), &resp).ok() && resp.tree_size() >= size;
    }, std::chrono::seconds(60))) << resp.tree_size();
    return resp.verifier_key();
  }
  struct Run {
    int code = -1;
    std::string out, err;
  };
  Run VerifyLog(testutil::CollectorProcess* c, const std::string& vkey, std::vector<std::string> extra) {
    testutil::SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";
    o.args = {"verify-log", "--verifier-key", vkey, "--collector", c->target(), "--ca", auditor_.ca_cert_path,
              "--cert", auditor_.cert_path, "--key", auditor_.key_path};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    o.log_dir = dir_.Join("logs");
    o.name = "verify-log-" + std::to_string(runs_++);
    auto p = testutil::Subprocess::Start(o);
    EXPECT_TRUE(p.ok());
    Run r;
    if (!p.ok()) return r;
    EXPECT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value());
    r.code = (*p)->ExitCode();
    r.out = (*p)->ReadStdout();
    r.err = (*p)->ReadStderr();
    return r;
  }

  testutil::TempDir dir_{"merkle-rollback"};
  std::unique_ptr<testutil::TestPki> pki_;
  TlsFiles auditor_;
  int starts_ = 0;
  int runs_ = 0;
};

TEST_F(MerkleLogRollbackTest, RolledBackStoreIsCaughtByVerifyLog) {
  std::string vkey;
  {
    auto c = Start();
    ASSERT_NE(c, nullptr);
    Ingest(c.get(), 0, 100);
    vkey = WaitCheckpoint(c.get(), 100);
    Run saved = VerifyLog(c.get(), vkey, {"--save-checkpoint", dir_.Join("cp100")});
    ASSERT_EQ(saved.code, 0) << saved.out << saved.err;
    c->process()->Stop();
  }
  fs::copy(dir_.Join("data"), dir_.Join("backup"), fs::copy_options::recursive);
  {
    auto c = Start();
    ASSERT_NE(c, nullptr);
    Ingest(c.get(), 100, 200);
    WaitCheckpoint(c.get(), 200);
    Run grown = VerifyLog(c.get(), vkey, {"--old-checkpoint", dir_.Join("cp100"), "--save-checkpoint", dir_.Join("cp200"),
                                          "--write-proof", dir_.Join("proof")});
    EXPECT_EQ(grown.code, 0) << grown.out << grown.err;
    EXPECT_TRUE(std::regex_search(grown.out, std::regex("checkpoint 1[0-9][0-9] -> 2[0-9][0-9]: consistent")))
        << grown.out;
    c->process()->Stop();
  }
  // The operator (or an attacker) restores the older store.
  fs::remove_all(dir_.Join("data"));
  fs::copy(dir_.Join("backup"), dir_.Join("data"), fs::copy_options::recursive);
  {
    auto c = Start();
    ASSERT_NE(c, nullptr);
    WaitCheckpoint(c.get(), 100);
    Run rolled = VerifyLog(c.get(), vkey, {"--old-checkpoint", dir_.Join("cp200")});
    EXPECT_EQ(rolled.code, 1) << rolled.out << rolled.err;
    EXPECT_TRUE(std::regex_search(rolled.err, std::regex("INVALID: checkpoint 2[0-9][0-9] -> 1[0-9][0-9]: log rolled back")))
        << rolled.err;
    // Even after the rolled-back store grows again past 200, the history differs.
    Ingest(c.get(), 1000, 1150);
    WaitCheckpoint(c.get(), 250);
    Run forked = VerifyLog(c.get(), vkey, {"--old-checkpoint", dir_.Join("cp200")});
    EXPECT_EQ(forked.code, 1) << forked.out << forked.err;
    EXPECT_NE(forked.err.find("INVALID"), std::string::npos);
  }
}

TEST_F(MerkleLogRollbackTest, RewrittenStoredEventFailsInclusion) {
  {
    auto c = Start();
    ASSERT_NE(c, nullptr);
    Ingest(c.get(), 0, 50);
    WaitCheckpoint(c.get(), 50);
    c->process()->Stop();
  }
  // Rewrite one record inside RocksDB (one byte of its JSON).
  std::string original;
  {
    auto store = exporttest::OpenStore(dir_.Join("data/db"));
    ASSERT_NE(store, nullptr);
    auto ev = store->GetEventById("rb-17");
    ASSERT_TRUE(ev.ok() && ev->has_value());
    original = (*ev)->raw_json;
    std::string rewritten = original;
    rewritten.replace(rewritten.find("alice"), 5, "mallo");
    ASSERT_TRUE(store->db()->Put(rocksdb::WriteOptions(), store->handle(ColumnFamily::kEvents), (*ev)->event_key,
                                 EncodeEventValue((*ev)->meta, rewritten)).ok());
  }
  auto c = Start();
  ASSERT_NE(c, nullptr);
  std::string vkey = WaitCheckpoint(c.get(), 50);
  auto creds = MakeChannelCredentials(auditor_);
  ASSERT_TRUE(creds.ok());
  auto channel = grpc::CreateChannel(c->target(), *creds);
  auto query = v1::Query::NewStub(channel);
  grpc::ClientContext ctx;
  v1::GetEventRequest req;
  req.set_event_id("rb-17");
  v1::GetEventResponse event;
  ASSERT_TRUE(query->GetEvent(&ctx, req, &event).ok());
  const std::string served = event.event().raw_json();
  ASSERT_NE(served, original);
  ASSERT_NE(served.find("mallo"), std::string::npos);
  auto merkle = v1::MerkleLog::NewStub(channel);
  grpc::ClientContext ctx2;
  v1::GetInclusionProofRequest preq;
  preq.set_event_id("rb-17");
  v1::GetInclusionProofResponse proof;
  ASSERT_TRUE(merkle->GetInclusionProof(&ctx2, preq, &proof).ok());
  auto verifier = CheckpointVerifier::FromVerifierKey(vkey);
  ASSERT_TRUE(verifier.ok());
  auto cp = (*verifier)->Open(proof.checkpoint());
  ASSERT_TRUE(cp.ok()) << cp.status();
  std::vector<Digest> path;
  for (const auto& h : proof.proof()) path.push_back(*DigestFromString(h));
  EXPECT_TRUE(VerifyCheckpointInclusion(*cp, proof.leaf_index(), MerkleLeafHash(original), path).ok());
  Status rewritten = VerifyCheckpointInclusion(*cp, proof.leaf_index(), MerkleLeafHash(served), path);
  EXPECT_EQ(rewritten.code(), absl::StatusCode::kDataLoss) << rewritten;
  // The same check through the CLI against a saved checkpoint.
  ASSERT_TRUE(WriteFileAtomically(dir_.Join("cp50"), proof.checkpoint(), 0644).ok());
  Run bad = VerifyLog(c.get(), vkey, {"--event-id", "rb-17", "--checkpoint", dir_.Join("cp50")});
  EXPECT_EQ(bad.code, 1) << bad.out << bad.err;
  EXPECT_TRUE(std::regex_search(
      bad.err, std::regex("INVALID: event rb-17 \\(leaf 17\\) is not in checkpoint [0-9]+ as stored now: root mismatch")))
      << bad.err;
  Run good = VerifyLog(c.get(), vkey, {"--event-id", "rb-3", "--checkpoint", dir_.Join("cp50")});
  EXPECT_EQ(good.code, 0) << good.out << good.err;
  EXPECT_TRUE(std::regex_search(good.out, std::regex("event rb-3: included at leaf 3 of checkpoint [0-9]+")))
      << good.out;
}

}  // namespace
}  // namespace orgtrail::collector
