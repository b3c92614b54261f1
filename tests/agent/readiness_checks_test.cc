#include "orgtrail/agent/readiness_checks.h"

#include <gtest/gtest.h>

#include <string>

#include "faultenv/sync_fault_fs.h"
#include "testutil/temp_dir.h"

namespace orgtrail::agent {
namespace {

v1::Event EventWith(const std::string& raw) {
  v1::Event e;
  e.set_raw_json(raw);
  e.set_event_id("id-1");
  return e;
}

bool CheckFails(const HttpResponse& r, const std::string& name) {
  return r.body.find("{\"name\":\"" + name + "\",\"ok\":false") != std::string::npos;
}

// Each check turns /readyz red with its own name and reason, and green again once cured.
TEST(AgentReadinessTest, EachCheckTurnsRedAndGreenAgain) {
  testutil::TempDir dir;
  SpoolOptions spool_options;
  spool_options.path = dir.Join("spool");
  spool_options.max_bytes = 64 * 1024;
  auto spool = Spool::Open(spool_options);
  ASSERT_TRUE(spool.ok()) << spool.status();
  std::string collector_failure;
  Readiness readiness;
  AgentReadinessOptions options;
  options.spool_dir = spool_options.path;
  options.min_free_disk_bytes = 1;
  AddAgentReadinessChecks(&readiness, spool->get(), options, [&] { return collector_failure; });
  EXPECT_EQ(readiness.Evaluate().status, 200) << readiness.Evaluate().body;

  collector_failure = "no collector connection for 31 s";
  HttpResponse r = readiness.Evaluate();
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(CheckFails(r, "collector")) << r.body;
  collector_failure.clear();
  EXPECT_EQ(readiness.Evaluate().status, 200);

  // Spool: 95% of its bound.
  ASSERT_TRUE((*spool)->AppendEvents({EventWith(std::string(62 * 1024, 'x'))}, {}).ok());
  r = readiness.Evaluate();
  EXPECT_TRUE(CheckFails(r, "spool")) << r.body;
  EXPECT_NE(r.body.find("bytes full"), std::string::npos) << r.body;
  ASSERT_TRUE((*spool)->SetSequencePosition(1, Digest{}).ok());
  auto pending = (*spool)->ReadPending(10, 1 << 20);
  ASSERT_EQ(pending.size(), 1u);
  v1::Batch batch;
  batch.set_sequence(1);
  *batch.add_events() = pending[0].event;
  ASSERT_TRUE((*spool)->CommitSealedBatch(batch, Digest{}, {pending[0].id}, pending[0].stored_bytes).ok());
  EXPECT_TRUE(CheckFails(readiness.Evaluate(), "spool"));  // sealed, not yet delivered: still full

  // A refused batch in the dead letters: the spool is free again, the dead letter is red.
  ASSERT_TRUE((*spool)->DeadLetter(1, "recipient_account_mismatch").ok());
  r = readiness.Evaluate();
  EXPECT_FALSE(CheckFails(r, "spool")) << r.body;
  EXPECT_TRUE(CheckFails(r, "dead_letters")) << r.body;
  EXPECT_NE(r.body.find("orgtrail-agent dead-letters"), std::string::npos) << r.body;
  auto replayed = (*spool)->ReplayDeadLetters();
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_FALSE(CheckFails(readiness.Evaluate(), "dead_letters")) << readiness.Evaluate().body;

  // Disk: a threshold no file system meets.
  Readiness strict;
  options.min_free_disk_bytes = UINT64_MAX;
  AddAgentReadinessChecks(&strict, spool->get(), options, [] { return std::string(); });
  r = strict.Evaluate();
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(CheckFails(r, "disk")) << r.body;
}

// A failed spool write (here a failed sync): the agent is about to fail-stop, so it is not ready.
TEST(AgentReadinessTest, FailedSpoolWriteIsNotReady) {
  testutil::TempDir dir;
  faultenv::SyncFaultState faults;
  auto env = faultenv::NewSyncFaultEnv(&faults);
  SpoolOptions spool_options;
  spool_options.path = dir.Join("spool");
  spool_options.env = env.get();
  auto spool = Spool::Open(spool_options);
  ASSERT_TRUE(spool.ok()) << spool.status();
  Readiness readiness;
  AgentReadinessOptions options;
  options.spool_dir = spool_options.path;
  options.min_free_disk_bytes = 1;
  AddAgentReadinessChecks(&readiness, spool->get(), options, [] { return std::string(); });
  EXPECT_EQ(readiness.Evaluate().status, 200);
  faults.syncs_before_failure = faults.syncs_seen.load();
  EXPECT_FALSE((*spool)->AppendEvents({EventWith("x")}, {}).ok());
  const HttpResponse r = readiness.Evaluate();
  EXPECT_TRUE(CheckFails(r, "spool")) << r.body;
  EXPECT_NE(r.body.find("a spool write failed"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace orgtrail::agent
