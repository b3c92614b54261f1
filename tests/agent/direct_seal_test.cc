// Batcher::SpoolEvents: groups of a quarter batch or more are sealed straight
// into chained, verifiable batches with the source's checkpoint in one write;
// smaller groups, an unconfirmed sequence and a full spool take the pending
// path; nothing is lost or sealed twice across a reopen.
#include <gtest/gtest.h>

#include <deque>

#include "agent_test_util.h"
#include "orgtrail/agent/batcher.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/event_extractor.h"
#include "testutil/net.h"
#include "testutil/temp_dir.h"

namespace orgtrail::agent {
namespace {

using testing::AgentId;
using testing::NewSigner;

class DirectSealTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(uint64_t max_bytes = 256ull << 20) {
    batcher_.reset();
    spool_.reset();
    spool_ = testing::OpenSpool(dir_.Join("spool"), max_bytes);
    ASSERT_NE(spool_, nullptr);
    BatcherOptions batcher_options;
    batcher_options.max_batch_events = 100;
    batcher_options.max_batch_age_us = 3600LL * 1000000;
    batcher_ = std::make_unique<Batcher>(spool_.get(), AgentId(), batcher_options, &logger_, &metrics_);
    batcher_->SetSigner(signer_);
    batcher_->SetEpoch(1);
  }
  std::vector<v1::Event> Events(int n, uint64_t seed) { return testing::ExtractedEvents(n, seed); }
  // Keeps the argument alive for one call (SpoolEvents may move the events out).
  std::vector<v1::Batch>* Batches(std::vector<v1::Batch> batches) {
    owned_batches_.push_back(std::move(batches));
    return &owned_batches_.back();
  }
  std::vector<v1::Event>* Owned(std::vector<v1::Event> events) {
    owned_.push_back(std::move(events));
    return &owned_.back();
  }
  double Metric(const std::string& name) { return testutil::PrometheusValue(metrics_.RenderPrometheus(), name); }

  testutil::TempDir dir_;
  std::shared_ptr<const Signer> signer_{NewSigner()};
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Batcher> batcher_;
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
  std::deque<std::vector<v1::Event>> owned_;
  std::deque<std::vector<v1::Batch>> owned_batches_;
};

TEST_F(DirectSealTest, LargeGroupIsSealedIntoChainedBatchesWithItsCheckpoint) {
  ASSERT_TRUE(batcher_->Reconcile(6, std::string(32, '\x11')).ok());  // collector at sequence 6
  const auto events = Events(250, 1);
  auto spooled = events;
  ASSERT_TRUE(batcher_->SpoolEvents(&spooled, {{"file:a", "offset=250"}}).ok());

  const SpoolStats stats = spool_->Stats();
  EXPECT_EQ(stats.pending_events, 0u);  // never written as pending events
  EXPECT_EQ(stats.sealed_batches, 3u);  // 100 + 100 + 50
  EXPECT_GT(stats.sealed_bytes, 0u);
  EXPECT_EQ(**spool_->GetCheckpoint("file:a"), "offset=250");

  auto verifier = Verifier::FromPublicKeyDer(signer_->PublicKeyDer());
  ASSERT_TRUE(verifier.ok());
  auto batches = spool_->ReadBatchesFrom(0, 10);
  ASSERT_EQ(batches.size(), 3u);
  Digest prev{};
  prev.fill(0x11);
  int index = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i].sequence(), 7 + i);
    EXPECT_EQ(batches[i].prev_batch_hash(), DigestToString(prev));
    EXPECT_EQ(batches[i].epoch(), 1u);
    ASSERT_TRUE(VerifyBatch(batches[i], **verifier).ok());
    for (const auto& e : batches[i].events()) EXPECT_EQ(e.raw_json(), events[index++].raw_json());
    prev = BatchHash(*HeaderOfBatch(batches[i]));
  }
  EXPECT_EQ(index, 250);
  EXPECT_EQ(spool_->state().next_sequence, 10u);
  EXPECT_EQ(spool_->state().last_batch_hash, prev);
  EXPECT_EQ(Metric("orgtrail_agent_events_sealed_directly_total"), 250);
  EXPECT_EQ(Metric("orgtrail_agent_events_batched_total"), 250);

  // The chain continues across the two paths and a reopen.
  ASSERT_TRUE(batcher_->SpoolEvents(Owned(Events(3, 2)), {}).ok());
  EXPECT_EQ(spool_->Stats().pending_events, 3u);
  Open();
  EXPECT_EQ(spool_->Stats().sealed_batches, 3u);
  EXPECT_EQ(spool_->Stats().pending_events, 3u);
  ASSERT_TRUE(batcher_->Reconcile(6, std::string(32, '\x11')).ok());
  ASSERT_TRUE(batcher_->SealAllDue(/*force=*/true).ok());
  batches = spool_->ReadBatchesFrom(0, 10);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[3].sequence(), 10u);
  EXPECT_EQ(batches[3].prev_batch_hash(), DigestToString(prev));
  EXPECT_EQ(batches[3].events_size(), 3);
}

TEST_F(DirectSealTest, SmallGroupsWaitAsPendingEvents) {
  ASSERT_TRUE(batcher_->Reconcile(0, "").ok());
  ASSERT_TRUE(batcher_->SpoolEvents(Owned(Events(24, 1)), {{"file:b", "24"}}).ok());  // under a quarter of 100
  EXPECT_EQ(spool_->Stats().pending_events, 24u);
  EXPECT_EQ(spool_->Stats().sealed_batches, 0u);
  EXPECT_EQ(**spool_->GetCheckpoint("file:b"), "24");
  ASSERT_TRUE(batcher_->SpoolEvents(Owned(Events(25, 2)), {}).ok());  // a quarter
  EXPECT_EQ(spool_->Stats().pending_events, 24u);
  EXPECT_EQ(spool_->Stats().sealed_batches, 1u);
  EXPECT_EQ(Metric("orgtrail_agent_events_sealed_directly_total"), 25);
}

TEST_F(DirectSealTest, NothingIsSealedBeforeTheSequenceIsConfirmed) {
  ASSERT_TRUE(batcher_->SpoolEvents(Owned(Events(100, 1)), {{"file:c", "100"}}).ok());
  EXPECT_EQ(spool_->Stats().pending_events, 100u);
  EXPECT_EQ(spool_->Stats().sealed_batches, 0u);
  EXPECT_EQ(spool_->state().next_sequence, 1u);
  EXPECT_EQ(**spool_->GetCheckpoint("file:c"), "100");
}

TEST_F(DirectSealTest, WithoutAKeyEventsWaitAsPending) {
  Batcher keyless(spool_.get(), AgentId(), BatcherOptions{}, &logger_, &metrics_);
  ASSERT_TRUE(keyless.Reconcile(0, "").ok());
  ASSERT_TRUE(keyless.SpoolEvents(Owned(Events(200, 1)), {}).ok());
  EXPECT_EQ(spool_->Stats().pending_events, 200u);
  EXPECT_EQ(spool_->Stats().sealed_batches, 0u);
}

TEST_F(DirectSealTest, FullSpoolRefusesAndWritesNothing) {
  Open(/*max_bytes=*/64 << 10);
  ASSERT_TRUE(batcher_->Reconcile(0, "").ok());
  // ~1.3 KB per record: 100 records are about twice the spool.
  const Status refused = batcher_->SpoolEvents(Owned(Events(100, 1)), {{"file:d", "100"}});
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_EQ(spool_->Stats().pending_events, 0u);
  EXPECT_EQ(spool_->Stats().sealed_batches, 0u);
  EXPECT_EQ(spool_->state().next_sequence, 1u);
  EXPECT_FALSE(spool_->GetCheckpoint("file:d")->has_value());
  // Batches that do not fit are refused by the spool itself, before anything is written.
  v1::Batch big;
  big.set_sequence(1);
  for (const auto& e : Events(100, 3)) *big.add_events() = e;
  auto* refused_batches = Batches({big});
  EXPECT_TRUE(absl::IsResourceExhausted(spool_->CommitDirectBatches(refused_batches, Digest{}, {{"file:d", "x"}})));
  ASSERT_EQ(refused_batches->size(), 1u);  // untouched
  EXPECT_EQ((*refused_batches)[0].events_size(), 100);
  EXPECT_EQ(spool_->Stats().sealed_batches, 0u);
  EXPECT_EQ(spool_->Stats().sealed_bytes, 0u);
  EXPECT_FALSE(spool_->GetCheckpoint("file:d")->has_value());
  // What fits goes in; the next sequence is still 1.
  ASSERT_TRUE(batcher_->SpoolEvents(Owned(Events(30, 2)), {}).ok());
  ASSERT_EQ(spool_->ReadBatchesFrom(0, 10).size(), 1u);
  EXPECT_EQ(spool_->ReadBatchesFrom(0, 10)[0].sequence(), 1u);
}

// A refusal leaves every event with the caller, in order, for the retry.
TEST_F(DirectSealTest, RefusedEventsStayWithTheCallerInOrder) {
  const auto events = Events(30, 4);
  size_t raw = 0, serialized = 0;
  for (const auto& e : events) {
    raw += e.raw_json().size();
    serialized += e.ByteSizeLong() + 3;
  }
  ASSERT_GT(serialized, raw);
  // Room for the bare records but not for them sealed (nor as pending events): the sealed
  // batches are refused by the spool, then the pending append is refused too.
  Open((raw + serialized) / 2);
  ASSERT_TRUE(batcher_->Reconcile(0, "").ok());
  auto kept = events;
  const Status refused = batcher_->SpoolEvents(&kept, {{"file:e", "30"}});
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  ASSERT_EQ(kept.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(kept[i].raw_json(), events[i].raw_json()) << i;
  EXPECT_EQ(spool_->Stats().sealed_batches, 0u);
  EXPECT_EQ(spool_->Stats().sealed_bytes, 0u);
  EXPECT_EQ(spool_->Stats().pending_events, 0u);
  EXPECT_EQ(spool_->state().next_sequence, 1u);
  EXPECT_FALSE(spool_->GetCheckpoint("file:e")->has_value());
}

// Batches just committed reach the stream from memory exactly as stored; a resend, a re-sign
// and a prune go by what is stored.
TEST_F(DirectSealTest, StreamGetsJustSealedBatchesAsStored) {
  ASSERT_TRUE(batcher_->Reconcile(0, "").ok());
  ASSERT_TRUE(batcher_->SpoolEvents(Owned(Events(250, 1)), {}).ok());  // sequences 1..3
  auto first = spool_->ReadBatchesFrom(1, 2);
  ASSERT_EQ(first.size(), 2u);
  for (const auto& b : first) {
    auto stored = spool_->ReadBatch(b.sequence());
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(b.SerializeAsString(), stored->SerializeAsString());
  }
  auto resend = spool_->ReadBatchesFrom(1, 10);  // handed over once: now from the database
  ASSERT_EQ(resend.size(), 3u);
  EXPECT_EQ(resend[0].SerializeAsString(), first[0].SerializeAsString());
  EXPECT_EQ(resend[2].sequence(), 3u);

  ASSERT_TRUE(batcher_->SpoolEvents(Owned(Events(100, 2)), {}).ok());  // sequence 4, in memory
  std::shared_ptr<const Signer> rotated(NewSigner());
  batcher_->SetSigner(rotated);
  ASSERT_TRUE(batcher_->ResignAll().ok());
  auto resigned = spool_->ReadBatchesFrom(4, 1);
  ASSERT_EQ(resigned.size(), 1u);
  auto verifier = Verifier::FromPublicKeyDer(rotated->PublicKeyDer());
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRUE(VerifyBatch(resigned[0], **verifier).ok());

  ASSERT_TRUE(batcher_->SpoolEvents(Owned(Events(100, 3)), {}).ok());  // sequence 5, in memory
  ASSERT_TRUE(spool_->PruneThrough(5).ok());
  EXPECT_TRUE(spool_->ReadBatchesFrom(5, 10).empty());
  EXPECT_TRUE(spool_->ReadBatchesFrom(1, 10).empty());
}

TEST_F(DirectSealTest, OversizedEventGetsABatchOfItsOwn) {
  BatcherOptions options;
  options.max_batch_events = 100;
  options.max_batch_bytes = 2000;  // about one record
  Batcher small(spool_.get(), AgentId(), options, &logger_, &metrics_);
  small.SetSigner(signer_);
  ASSERT_TRUE(small.Reconcile(0, "").ok());
  ASSERT_TRUE(small.SpoolEvents(Owned(Events(5, 1)), {}).ok());
  const auto batches = spool_->ReadBatchesFrom(0, 10);
  ASSERT_GE(batches.size(), 3u);
  int events = 0;
  for (const auto& b : batches) {
    EXPECT_GE(b.events_size(), 1);
    events += b.events_size();
  }
  EXPECT_EQ(events, 5);
  EXPECT_EQ(spool_->Stats().pending_events, 0u);
}

TEST_F(DirectSealTest, CommitDirectBatchesRefusesABrokenChain) {
  ASSERT_TRUE(batcher_->Reconcile(0, "").ok());
  v1::Batch batch;
  batch.set_sequence(5);  // next is 1
  const Status s = spool_->CommitDirectBatches(Batches({batch}), Digest{}, {});
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::IsInvalidArgument(spool_->CommitDirectBatches(Batches({}), Digest{}, {})));
  EXPECT_EQ(spool_->Stats().sealed_batches, 0u);
}

}  // namespace
}  // namespace orgtrail::agent
