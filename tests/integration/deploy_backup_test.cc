// deploy/README.md "Back up and restore the collector", done for real: a
// collector stores events, is stopped, `orgtrailctl backup create` takes a
// RocksDB checkpoint, the data directory is lost, `backup restore` brings it
// back, and the restarted collector has every event and the agent's
// high-water mark. Plus the refusals (running collector, non-empty target,
// not a store) and a corrupted backup caught by `backup verify`. And the online backup: the
// running collector writes a backup of itself (`backup online`, Admin CreateBackup) that
// `backup verify` and `backup restore` take as they take an offline one.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "orgtrail/v1/admin.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using testutil::CollectorProcess;
using testutil::IngestClient;
using testutil::Subprocess;
using testutil::SubprocessOptions;
using testutil::TempDir;
namespace fs = std::filesystem;

constexpr char kAccount[] = "111111111111";
constexpr char kRegion[] = "us-east-1";
constexpr int kPerBatch = 20;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class DeployBackupTest : public ::testing::Test {
 protected:
  DeployBackupTest() : pki_(dir_.Join("pki")) {}

  RunResult Backup(const std::vector<std::string>& args) {
    SubprocessOptions options;
    options.binary = ORGTRAIL_BINARY_DIR "/cli/orgtrailctl";
    options.args = {"backup"};
    options.args.insert(options.args.end(), args.begin(), args.end());
    options.log_dir = logs_;
    options.name = "backup-" + std::to_string(runs_++);
    RunResult result;
    auto proc = Subprocess::Start(options);
    EXPECT_TRUE(proc.ok()) << proc.status();
    if (!proc.ok()) return result;
    if (!(*proc)->Wait(std::chrono::seconds(120)).has_value()) {
      ADD_FAILURE() << "orgtrailctl backup did not finish";
      return result;
    }
    result.exit_code = (*proc)->ExitCode();
    result.out = (*proc)->ReadStdout();
    result.err = (*proc)->ReadStderr();
    return result;
  }

  std::unique_ptr<CollectorProcess> StartCollector() {
    testutil::CollectorProcessOptions options;
    options.data_dir = data_;
    options.log_dir = logs_;
    options.tls = collector_tls_;
    options.name = "collector-" + std::to_string(starts_++);
    auto collector = CollectorProcess::Start(options);
    EXPECT_TRUE(collector.ok()) << collector.status();
    return collector.ok() ? std::move(*collector) : nullptr;
  }

  static void StopCollector(CollectorProcess* collector) {
    collector->process()->Kill(SIGTERM);
    auto status = collector->process()->Wait(std::chrono::seconds(60));
    ASSERT_TRUE(status.has_value()) << "collector did not stop on SIGTERM";
  }

  uint64_t EventsStored(CollectorProcess* collector) {
    auto stub = collector->AdminStub(admin_tls_);
    EXPECT_TRUE(stub.ok()) << stub.status();
    if (!stub.ok()) return 0;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetStatusResponse response;
    grpc::Status s = (*stub)->GetStatus(&context, v1::GetStatusRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.events_stored() - response.self_audit_events_stored();  // the agents' events
  }

  std::string AgentId() const { return testutil::AgentSpiffeId("example.org", kAccount, kRegion, "a1"); }

  // One batch of kPerBatch synthetic events, ids and times distinct per (base, batch).
  static void SendBatch(IngestClient* agent, int64_t base, int batch) {
    std::vector<std::string> events;
    for (int i = 0; i < kPerBatch; ++i) {
      testutil::SyntheticEvent e;
      e.event_id = "00000000-0000-4000-8000-" + std::to_string(base + batch * 1000 + i);
      e.account_id = kAccount;
      e.region = kRegion;
      e.event_time_us = 1700000000000000 + (batch * 1000 + i) * 1000000LL;
      events.push_back(testutil::SyntheticEventJson(e));
    }
    auto ack = agent->SendEvents(events);
    ASSERT_TRUE(ack.ok()) << ack.status();
  }

  TempDir dir_;
  testutil::TestPki pki_;
  TlsFiles collector_tls_ = pki_.Collector();
  TlsFiles admin_tls_ = pki_.Admin();
  TlsFiles agent_tls_ = pki_.Agent(kAccount, kRegion, "a1");
  std::string logs_ = dir_.MakeSubdir("logs");
  std::string data_ = dir_.Join("data");
  int runs_ = 0;
  int starts_ = 0;
};

TEST_F(DeployBackupTest, BackupRestoreKeepsEveryEventAndTheHighWaterMark) {
  constexpr int kBatches = 5;
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  {
    auto agent = IngestClient::Connect(collector->target(), agent_tls_, AgentId());
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE((*agent)->Hello().ok());
    for (int b = 0; b < kBatches; ++b) SendBatch(agent->get(), 100000000000, b);
    (*agent)->Finish();
  }
  ASSERT_EQ(EventsStored(collector.get()), static_cast<uint64_t>(kBatches * kPerBatch));

  // While the collector runs, its store is locked: a clear refusal.
  RunResult busy = Backup({"create", "--data-dir", data_, "--out", dir_.Join("busy-backup")});
  EXPECT_EQ(busy.exit_code, 1) << busy.err;
  EXPECT_NE(busy.err.find("stop the collector"), std::string::npos) << busy.err;
  EXPECT_FALSE(fs::exists(dir_.Join("busy-backup")));

  StopCollector(collector.get());
  collector.reset();

  const std::string backup = dir_.Join("backup-1");
  RunResult created = Backup({"create", "--data-dir", data_, "--out", backup});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("checkpoint of"), std::string::npos) << created.out;
  RunResult verified = Backup({"verify", "--dir", backup});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_NE(verified.out.find("every block checksum verified"), std::string::npos);

  // The host loses the data directory; restore it from the backup.
  fs::remove_all(data_);
  RunResult restored = Backup({"restore", "--from", backup, "--data-dir", data_});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;

  collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  EXPECT_EQ(EventsStored(collector.get()), static_cast<uint64_t>(kBatches * kPerBatch));
  auto agent = IngestClient::Connect(collector->target(), agent_tls_, AgentId());
  ASSERT_TRUE(agent.ok()) << agent.status();
  auto hello = (*agent)->Hello();
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->high_water_sequence(), static_cast<uint64_t>(kBatches))
      << "a resumed agent would resend or skip batches";
  (*agent)->Finish();
}

TEST_F(DeployBackupTest, OnlineBackupOfARunningCollectorRestores) {
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  auto agent = IngestClient::Connect(collector->target(), agent_tls_, AgentId());
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE((*agent)->Hello().ok());
  auto send = [&](int batch) { SendBatch(agent->get(), 200000000000, batch); };
  for (int b = 0; b < 3; ++b) send(b);
  auto as = [&](const TlsFiles& tls, const std::string& name) {
    return Backup({"online", "--name", name, "--collector", collector->target(), "--ca", tls.ca_cert_path,
                   "--cert", tls.cert_path, "--key", tls.key_path});
  };
  RunResult online = as(admin_tls_, "nightly");
  ASSERT_EQ(online.exit_code, 0) << online.err;
  const std::string backup = data_ + "/backups/nightly";
  EXPECT_NE(online.out.find("backup written on the collector's host to " + backup), std::string::npos) << online.out;
  // The collector keeps ingesting: the backup holds what was stored when it was taken.
  send(3);
  EXPECT_EQ(EventsStored(collector.get()), 80u);
  RunResult again = as(admin_tls_, "nightly");
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  RunResult bad = as(admin_tls_, "../escape");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("backup name"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir_.Join("escape")));
  RunResult agent_call = as(agent_tls_, "by-agent");
  EXPECT_EQ(agent_call.exit_code, 1) << agent_call.err;
  EXPECT_FALSE(fs::exists(data_ + "/backups/by-agent"));
  (*agent)->Finish();

  RunResult verified = Backup({"verify", "--dir", backup});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  StopCollector(collector.get());
  collector.reset();
  const std::string restored = dir_.Join("restored");
  RunResult restore = Backup({"restore", "--from", backup, "--data-dir", restored});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  data_ = restored;
  collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  EXPECT_EQ(EventsStored(collector.get()), 60u);
  auto resumed = IngestClient::Connect(collector->target(), agent_tls_, AgentId());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  auto hello = (*resumed)->Hello();
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->high_water_sequence(), 3u);
  (*resumed)->Finish();
}

TEST_F(DeployBackupTest, RefusalsAreClear) {
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  StopCollector(collector.get());
  collector.reset();

  RunResult r = Backup({"create", "--data-dir", data_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = Backup({"create", "--data-dir", dir_.Join("logs"), "--out", dir_.Join("b0")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no RocksDB store"), std::string::npos) << r.err;
  r = Backup({"create", "--data-dir", dir_.Join("missing"), "--out", dir_.Join("b0")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--data-dir"), std::string::npos) << r.err;
  r = Backup({"create", "--data-dir", data_, "--out", dir_.Join("no/such/parent/b")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;

  const std::string backup = dir_.Join("backup");
  ASSERT_EQ(Backup({"create", "--data-dir", data_, "--out", backup}).exit_code, 0);
  r = Backup({"create", "--data-dir", data_, "--out", backup});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;

  // Restore never overwrites a non-empty directory.
  r = Backup({"restore", "--from", backup, "--data-dir", data_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  r = Backup({"restore", "--from", dir_.Join("logs"), "--data-dir", dir_.Join("fresh")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_.Join("fresh")));
  // Into an existing empty directory is fine.
  fs::create_directories(dir_.Join("empty"));
  r = Backup({"restore", "--from", backup, "--data-dir", dir_.Join("empty")});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  r = Backup({"bogus"});
  EXPECT_EQ(r.exit_code, 2);
  r = Backup({"create", "--bogus-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bogus-flag"), std::string::npos) << r.err;
  for (const char* sub : {"create", "verify", "restore"}) {
    r = Backup({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find(std::string("orgtrailctl backup ") + sub), std::string::npos) << r.out;
  }
}

TEST_F(DeployBackupTest, VerifyCatchesACorruptedBackup) {
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  {
    auto agent = IngestClient::Connect(collector->target(), agent_tls_, AgentId());
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE((*agent)->Hello().ok());
    std::vector<std::string> events;
    for (int i = 0; i < 200; ++i) {
      testutil::SyntheticEvent e;
      e.event_id = "00000000-0000-4000-8000-" + std::to_string(200000000000 + i);
      e.account_id = kAccount;
      e.region = kRegion;
      events.push_back(testutil::SyntheticEventJson(e));
    }
    ASSERT_TRUE((*agent)->SendEvents(events).ok());
    (*agent)->Finish();
  }
  StopCollector(collector.get());
  collector.reset();

  // `backup create` flushes the memtables, so the events are in SST files.
  const std::string backup = dir_.Join("backup");
  ASSERT_EQ(Backup({"create", "--data-dir", data_, "--out", backup}).exit_code, 0);
  std::string largest_sst;
  uintmax_t largest = 0;
  for (const auto& entry : fs::directory_iterator(backup + "/db")) {
    if (entry.path().extension() == ".sst" && entry.file_size() > largest) {
      largest = entry.file_size();
      largest_sst = entry.path().string();
    }
  }
  ASSERT_FALSE(largest_sst.empty()) << "the checkpoint has no SST file";
  // The other state of the data directory came along.
  EXPECT_TRUE(fs::exists(backup + "/digest-keys")) << "signing keys not in the backup";
  // Break the hard link first so the live store is not corrupted too.
  std::string bytes;
  {
    std::ifstream in(largest_sst, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  fs::remove(largest_sst);
  bytes[bytes.size() / 3] = static_cast<char>(bytes[bytes.size() / 3] ^ 0x5a);
  std::ofstream(largest_sst, std::ios::binary) << bytes;

  RunResult r = Backup({"verify", "--dir", backup});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_FALSE(r.err.empty());
  // The live store is intact.
  EXPECT_EQ(Backup({"verify", "--dir", data_}).exit_code, 0);
}

}  // namespace
}  // namespace orgtrail
