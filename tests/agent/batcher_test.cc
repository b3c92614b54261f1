// Batcher: sealed once and verifiable, cut rules, and the sequence rule
// (fresh spool, lost acks, collisions), key rotation re-signing.
#include "orgtrail/agent/batcher.h"

#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include "agent_test_util.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/event_extractor.h"
#include "testutil/temp_dir.h"

namespace orgtrail::agent {
namespace {

using testing::AgentId;
using testing::NewSigner;
using testing::Records;

class BatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SpoolOptions options;
    options.path = dir_.Join("spool");
    spool_ = std::move(*Spool::Open(options));
    signer_ = NewSigner();
    auto verifier = Verifier::FromPublicKeyDer(signer_->PublicKeyDer());
    ASSERT_TRUE(verifier.ok());
    verifier_ = std::move(*verifier);
  }
  std::unique_ptr<Batcher> MakeBatcher(BatcherOptions options = {}) {
    auto b = std::make_unique<Batcher>(spool_.get(), AgentId(), options, &logger_, &metrics_);
    b->SetSigner(std::shared_ptr<const Signer>(NewSignerShared()));
    b->SetEpoch(3);
    return b;
  }
  std::shared_ptr<const Signer> NewSignerShared() {
    if (!shared_signer_) shared_signer_ = std::shared_ptr<const Signer>(std::move(signer_));
    return shared_signer_;
  }
  void Spool(int n, uint64_t seed = 1) {
    ASSERT_TRUE(spool_->AppendEvents(testing::ExtractedEvents(n, seed), {}).ok());
  }

  // Overwrites the pending entries at these positions with bytes that do not parse, on disk
  // (the spool is closed and reopened around it).
  void CorruptPendingEntries(const std::set<int>& positions) {
    spool_.reset();
    ASSERT_EQ(testing::CorruptSpoolValues(dir_.Join("spool"), "pending",
                                          [&](int position, const std::string&) { return positions.count(position) > 0; }),
              static_cast<int>(positions.size()));
    SpoolOptions options;
    options.path = dir_.Join("spool");
    spool_ = std::move(*Spool::Open(options));
  }

  testutil::TempDir dir_;
  std::unique_ptr<agent::Spool> spool_;
  std::unique_ptr<Signer> signer_;
  std::shared_ptr<const Signer> shared_signer_;
  std::unique_ptr<Verifier> verifier_;
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
};

TEST_F(BatcherTest, SealsNothingUntilTheSequenceIsConfirmed) {
  auto batcher = MakeBatcher();
  Spool(10);
  auto sealed = batcher->SealIfDue(/*force=*/true);
  ASSERT_TRUE(sealed.ok());
  EXPECT_FALSE(sealed->has_value());
  EXPECT_EQ(spool_->Stats().pending_events, 10u);
}

TEST_F(BatcherTest, FreshSpoolContinuesAboveTheCollectorsHighWater) {
  auto batcher = MakeBatcher();
  Spool(10);
  const std::string collector_hash(32, '\x5a');
  auto first = batcher->Reconcile(41, collector_hash);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 42u);
  auto sealed = batcher->SealIfDue(true);
  ASSERT_TRUE(sealed.ok() && sealed->has_value());
  EXPECT_EQ(**sealed, 42u);
  auto batch = spool_->ReadBatch(42);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->prev_batch_hash(), collector_hash);
  EXPECT_EQ(batch->epoch(), 3u);
  EXPECT_EQ(batch->agent_id(), AgentId());
  EXPECT_EQ(batch->events_size(), 10);
  EXPECT_TRUE(VerifyBatch(*batch, *verifier_).ok());
}

TEST_F(BatcherTest, UnreadableSpoolEntryIsQuarantinedWithItsBytesNotDropped) {
  Spool(5);
  CorruptPendingEntries({2});  // the third, as a bad sector would
  auto batcher = MakeBatcher();
  ASSERT_TRUE(batcher->Reconcile(0, "").ok());
  auto sealed = batcher->SealIfDue(true);
  ASSERT_TRUE(sealed.ok() && sealed->has_value()) << sealed.status();
  auto batch = spool_->ReadBatch(**sealed);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->events_size(), 4);  // the four good ones go on
  EXPECT_EQ(spool_->Stats().pending_events, 0u);
  const auto quarantined = spool_->ListQuarantine();
  ASSERT_EQ(quarantined.size(), 1u);
  EXPECT_EQ(quarantined[0].first.rfind("spool-entry:", 0), 0u) << quarantined[0].first;
  EXPECT_NE(quarantined[0].second.find("base64: ////B2dhcmJhZ2U="), std::string::npos) << quarantined[0].second;
  EXPECT_EQ(metrics_.GetCounter("orgtrail_agent_spool_unreadable_entries_total", "")->value(), 1u);
}

// When every entry read for a batch is unreadable, they are quarantined and deleted, and no
// sequence number is used: the next batch continues the chain from the last real one.
TEST_F(BatcherTest, OnlyUnreadableEntriesUseNoSequence) {
  Spool(2);
  CorruptPendingEntries({0, 1});
  auto batcher = MakeBatcher();
  ASSERT_TRUE(batcher->Reconcile(0, "").ok());
  auto sealed = batcher->SealIfDue(true);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_FALSE(sealed->has_value());
  EXPECT_EQ(spool_->Stats().pending_events, 0u);
  EXPECT_EQ(spool_->Stats().sealed_batches, 0u);
  EXPECT_TRUE(spool_->ReadBatchesFrom(0, 10).empty());
  EXPECT_EQ(spool_->state().next_sequence, 1u);
  EXPECT_EQ(spool_->ListQuarantine().size(), 2u);
  Spool(3, 2);
  sealed = batcher->SealIfDue(true);
  ASSERT_TRUE(sealed.ok() && sealed->has_value()) << sealed.status();
  EXPECT_EQ(**sealed, 1u);
  auto batch = spool_->ReadBatch(1);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->prev_batch_hash(), DigestToString(Digest{}));
  EXPECT_EQ(batch->events_size(), 3);
}

TEST_F(BatcherTest, CutsByCountAndChainsBatches) {
  BatcherOptions options;
  options.max_batch_events = 4;
  options.max_batch_age_us = 3600LL * 1000000;
  auto batcher = MakeBatcher(options);
  ASSERT_TRUE(batcher->Reconcile(0, "").ok());
  Spool(10);
  EXPECT_TRUE(batcher->Due(0));
  ASSERT_TRUE(batcher->SealAllDue().ok());
  // 4 + 4 sealed by count; 2 wait for the age limit.
  EXPECT_EQ(spool_->Stats().sealed_batches, 2u);
  EXPECT_EQ(spool_->Stats().pending_events, 2u);
  EXPECT_FALSE(batcher->Due(0));
  ASSERT_TRUE(batcher->SealAllDue(/*force=*/true).ok());
  auto batches = spool_->ReadBatchesFrom(0, 100);
  ASSERT_EQ(batches.size(), 3u);
  Digest prev{};
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i].sequence(), i + 1);
    EXPECT_EQ(batches[i].prev_batch_hash(), DigestToString(prev));
    ASSERT_TRUE(VerifyBatch(batches[i], *verifier_).ok());
    prev = BatchHash(*HeaderOfBatch(batches[i]));
  }
  EXPECT_EQ(spool_->state().last_batch_hash, prev);
}

TEST_F(BatcherTest, CollectorsEventLimitLowersTheBatchSize) {
  BatcherOptions options;
  options.max_batch_events = 100;
  options.max_batch_age_us = 3600LL * 1000000;
  auto batcher = MakeBatcher(options);
  ASSERT_TRUE(batcher->Reconcile(0, "").ok());
  batcher->LimitBatchEvents(0);  // none announced: unchanged
  batcher->LimitBatchEvents(3);  // HelloAck max_events_per_batch
  batcher->LimitBatchEvents(50);  // never raised again
  Spool(7);
  ASSERT_TRUE(batcher->SealAllDue(/*force=*/true).ok());
  auto batches = spool_->ReadBatchesFrom(0, 100);
  ASSERT_EQ(batches.size(), 3u);
  for (const auto& b : batches) EXPECT_LE(b.events_size(), 3);
}

TEST_F(BatcherTest, CutsByAge) {
  BatcherOptions options;
  options.max_batch_events = 1000;
  options.max_batch_age_us = 1000;  // 1 ms
  auto batcher = MakeBatcher(options);
  ASSERT_TRUE(batcher->Reconcile(0, "").ok());
  Spool(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(batcher->SealAllDue().ok());
  EXPECT_EQ(spool_->Stats().sealed_batches, 1u);
}

TEST_F(BatcherTest, LostAcksArePrunedAndTheRestResentUnchanged) {
  auto batcher = MakeBatcher(BatcherOptions{2, 1 << 20, 3600LL * 1000000});
  ASSERT_TRUE(batcher->Reconcile(0, "").ok());
  Spool(6);
  ASSERT_TRUE(batcher->SealAllDue().ok());
  ASSERT_EQ(spool_->Stats().sealed_batches, 3u);
  const v1::Batch third_before = *spool_->ReadBatch(3);
  // The collector stored 1 and 2 but the acks were lost.
  const std::string hash2 = DigestToString(BatchHash(*HeaderOfBatch(*spool_->ReadBatch(2))));
  auto next = batcher->Reconcile(2, hash2);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 3u);
  EXPECT_EQ(spool_->Stats().sealed_batches, 1u);
  EXPECT_EQ(spool_->ReadBatch(3)->SerializeAsString(), third_before.SerializeAsString());
}

TEST_F(BatcherTest, CollisionWithTheCollectorResealsAboveItsHighWater) {
  auto batcher = MakeBatcher(BatcherOptions{2, 1 << 20, 3600LL * 1000000});
  ASSERT_TRUE(batcher->Reconcile(0, "").ok());
  Spool(6);
  ASSERT_TRUE(batcher->SealAllDue().ok());
  std::vector<std::string> ids;
  for (const auto& b : spool_->ReadBatchesFrom(0, 10)) {
    for (const auto& e : b.events()) ids.push_back(e.event_id());
  }
  // The collector already holds sequences up to 10 from a previous life of
  // this identity (our spool was lost and restored from an old copy).
  const std::string collector_hash(32, '\x11');
  auto next = batcher->Reconcile(10, collector_hash);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 11u);
  auto batches = spool_->ReadBatchesFrom(0, 10);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].sequence(), 11u);
  EXPECT_EQ(batches[0].prev_batch_hash(), collector_hash);
  EXPECT_EQ(batches[2].sequence(), 13u);
  std::vector<std::string> after;
  for (const auto& b : batches) {
    EXPECT_TRUE(VerifyBatch(b, *verifier_).ok());
    for (const auto& e : b.events()) after.push_back(e.event_id());
  }
  EXPECT_EQ(after, ids);  // same events, same order
  EXPECT_EQ(spool_->state().next_sequence, 14u);

  // A different batch at the collector's high water also counts as a collision.
  auto again = batcher->Reconcile(12, std::string(32, '\x22'));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 14u);
  EXPECT_EQ(spool_->ReadBatchesFrom(0, 10).front().sequence(), 14u);
}

TEST_F(BatcherTest, ResignAllKeepsTheHeaderAndUsesTheNewKey) {
  auto batcher = MakeBatcher();
  ASSERT_TRUE(batcher->Reconcile(0, "").ok());
  Spool(5);
  ASSERT_TRUE(batcher->SealAllDue(true).ok());
  const v1::Batch before = *spool_->ReadBatch(1);
  auto new_key = NewSigner(KeyType::kEd25519);
  auto new_verifier = Verifier::FromPublicKeyDer(new_key->PublicKeyDer());
  batcher->SetSigner(std::shared_ptr<const Signer>(std::move(new_key)));
  ASSERT_TRUE(batcher->ResignAll().ok());
  const v1::Batch after = *spool_->ReadBatch(1);
  EXPECT_EQ(CanonicalBatchHeader(*HeaderOfBatch(after)), CanonicalBatchHeader(*HeaderOfBatch(before)));
  EXPECT_EQ(after.signature_algorithm(), "ED25519");
  EXPECT_TRUE(VerifyBatch(after, **new_verifier).ok());
  EXPECT_FALSE(VerifyBatch(after, *verifier_).ok());
}

}  // namespace
}  // namespace orgtrail::agent
