// The spool's dead letters as an operator meets them: a refused batch is kept
// with its reason and events, listed and replayed (its events back to pending,
// the letter gone) by `orgtrail-agent dead-letters`; a sealed batch whose bytes
// no longer parse is moved to the dead letters byte for byte (never skipped
// silently); the command refuses a spool in use and bad flags clearly.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include <rocksdb/db.h>

#include "agent_test_util.h"
#include "orgtrail/agent/dead_letters_command.h"
#include "orgtrail/agent/spool.h"
#include "testutil/temp_dir.h"

namespace orgtrail::agent {
namespace {

std::unique_ptr<Spool> OpenSpool(const std::string& path) {
  SpoolOptions options;
  options.path = path;
  auto spool = Spool::Open(options);
  EXPECT_TRUE(spool.ok()) << spool.status();
  return spool.ok() ? std::move(*spool) : nullptr;
}

v1::Batch BatchOf(uint64_t sequence, const std::vector<std::string>& ids) {
  v1::Batch batch;
  batch.set_sequence(sequence);
  for (const std::string& id : ids) {
    v1::Event* e = batch.add_events();
    e->set_event_id(id);
    e->set_raw_json("{\"eventID\":\"" + id + "\"}");
  }
  return batch;
}

struct CommandResult {
  int code;
  std::string out, err;
};
CommandResult RunCommand(std::vector<std::string> args) {
  args.insert(args.begin(), "dead-letters");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int code = RunDeadLettersCommand(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

// Overwrites the stored bytes of sealed batch `sequence`, as a bad sector would.
void CorruptSealedBatch(const std::string& path, uint64_t sequence) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, sequence >>= 8) key[i] = static_cast<char>(sequence & 0xff);
  ASSERT_EQ(testing::CorruptSpoolValues(path, "batches", [&](int, const std::string& k) { return k == key; }), 1);
}

TEST(DeadLettersTest, ListedAndReplayedBackToPending) {
  testutil::TempDir dir;
  const std::string path = dir.Join("spool");
  {
    auto spool = OpenSpool(path);
    ASSERT_TRUE(spool->CommitSealedBatch(BatchOf(3, {"a", "b"}), Digest{}, {}, 0).ok());
    ASSERT_TRUE(spool->CommitSealedBatch(BatchOf(4, {"c"}), Digest{}, {}, 0).ok());
    ASSERT_TRUE(spool->DeadLetter(3, "batch_too_large: 20 MiB, limit 16 MiB").ok());
    ASSERT_TRUE(spool->DeadLetter(4, "bad_signature: key mismatch").ok());
  }
  CommandResult listed = RunCommand({"--spool-dir", path});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find("{\"sequence\":3,\"reason\":\"batch_too_large: 20 MiB, limit 16 MiB\",\"readable\":true,"
                            "\"events\":2,\"firstEventIDs\":[\"a\",\"b\"]}"),
            std::string::npos)
      << listed.out;
  EXPECT_NE(listed.err.find("2 dead letter(s)"), std::string::npos) << listed.err;

  CommandResult replayed = RunCommand({"--spool-dir", path, "--replay"});
  ASSERT_EQ(replayed.code, 0) << replayed.err;
  EXPECT_NE(replayed.err.find("replayed 2 batch(es), 3 event(s)"), std::string::npos) << replayed.err;
  auto spool = OpenSpool(path);
  EXPECT_EQ(spool->Stats().dead_letters, 0u);
  EXPECT_EQ(spool->Stats().pending_events, 3u);
  std::set<std::string> ids;
  for (const auto& p : spool->ReadPending(10, 1 << 20)) ids.insert(p.event.event_id());
  EXPECT_EQ(ids, (std::set<std::string>{"a", "b", "c"}));
}

TEST(DeadLettersTest, UnreadableSealedBatchIsMovedToTheDeadLettersNotSkipped) {
  testutil::TempDir dir;
  const std::string path = dir.Join("spool");
  {
    auto spool = OpenSpool(path);
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      ASSERT_TRUE(spool->CommitSealedBatch(BatchOf(seq, {"e" + std::to_string(seq)}), Digest{}, {}, 0).ok());
    }
  }
  CorruptSealedBatch(path, 2);
  auto spool = OpenSpool(path);
  std::vector<v1::Batch> batches = spool->ReadBatchesFrom(1, 10);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].sequence(), 1u);
  EXPECT_EQ(batches[1].sequence(), 3u);
  EXPECT_EQ(spool->Stats().dead_letters, 1u);
  EXPECT_EQ(spool->Stats().sealed_batches, 2u);
  auto letters = spool->ReadDeadLetters();
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].sequence, 2u);
  EXPECT_FALSE((*letters)[0].readable);
  EXPECT_EQ((*letters)[0].reason.rfind("unreadable_spool_entry", 0), 0u);
  // A replay keeps what it cannot read.
  auto replay = spool->ReplayDeadLetters();
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->kept_unreadable, 1u);
  EXPECT_EQ(replay->batches, 0u);
  EXPECT_EQ(spool->Stats().dead_letters, 1u);
  EXPECT_FALSE(spool->failed());
}

TEST(DeadLettersTest, CommandRefusesASpoolInUseAndBadFlags) {
  testutil::TempDir dir;
  const std::string path = dir.Join("spool");
  auto running = OpenSpool(path);  // the agent holds the lock
  CommandResult in_use = RunCommand({"--spool-dir", path});
  EXPECT_EQ(in_use.code, 1);
  EXPECT_NE(in_use.err.find("stop the agent first"), std::string::npos) << in_use.err;
  running.reset();
  EXPECT_EQ(RunCommand({}).code, 2);
  EXPECT_EQ(RunCommand({"--spool-dir", dir.Join("missing")}).code, 2);
  EXPECT_EQ(RunCommand({"--spool-dir", path, "--bogus"}).code, 2);
  EXPECT_EQ(RunCommand({"--spool-dir", path, "--spool-max-bytes", "lots"}).code, 2);
  EXPECT_EQ(RunCommand({"--help"}).code, 0);
  EXPECT_EQ(RunCommand({"--spool-dir", path, "--quarantine", "--replay"}).code, 2);
}

TEST(DeadLettersTest, QuarantineIsListed) {
  testutil::TempDir dir;
  const std::string path = dir.Join("spool");
  {
    auto spool = OpenSpool(path);
    ASSERT_TRUE(spool->Quarantine("file:1:2:ab#record=7", "/x/y.json: record 7 refused: bad; base64: e30=").ok());
  }
  CommandResult listed = RunCommand({"--spool-dir", path, "--quarantine"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(listed.out,
            "{\"key\":\"file:1:2:ab#record=7\",\"reason\":\"/x/y.json: record 7 refused: bad; base64: e30=\"}\n");
  EXPECT_NE(listed.err.find("1 quarantined input(s)"), std::string::npos) << listed.err;
}

}  // namespace
}  // namespace orgtrail::agent
