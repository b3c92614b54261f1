// Two real orgtrail-agent processes started with ONE certificate (a cloned VM,
// a second unit) against a real orgtrail-collector, both taking events through
// their PutEvents API while they fence each other: every event either agent
// acknowledged to its source is stored, and stored once.
#include <thread>

#include "agent_harness.h"
#include "cert_agent.h"

namespace orgtrail::testutil {
namespace {

TEST(IngestSharedIdentityTest, TwoAgentsWithOneCertificateLoseNothingAndStoreNothingTwice) {
  AgentHarness h;
  h.StartCollector();
  const TlsFiles tls = h.pki().Agent("111122223333", "eu-west-1", "twin");
  CertAgent a = CertAgent::Start(h.collector_address(), tls, h.dir().Join("spool-a"), h.dir().path(), "twin-a");
  CertAgent b = CertAgent::Start(h.collector_address(), tls, h.dir().Join("spool-b"), h.dir().path(), "twin-b");
  ASSERT_TRUE(a.process && b.process);
  auto api_a = a.Api();
  auto api_b = b.Api();

  // Both sources produce at once, in many small calls, so the batches of the
  // two spools interleave with the fencing.
  std::vector<std::string> acked_a, acked_b;
  std::thread feeder_b([&] { acked_b = PutEventsRounds(api_b.get(), "bbbbbbbb", 60, 5); });
  acked_a = PutEventsRounds(api_a.get(), "aaaaaaaa", 60, 5);
  feeder_b.join();
  ASSERT_GT(acked_a.size(), 0u);
  ASSERT_GT(acked_b.size(), 0u);
  const int64_t acked = static_cast<int64_t>(acked_a.size() + acked_b.size());

  // Both spools drain (every sealed batch acknowledged) and the collector holds every event.
  ASSERT_TRUE(WaitFor([&] { return a.Drained() && b.Drained() && h.EventsStored() >= acked; },
                      std::chrono::seconds(90), std::chrono::milliseconds(250)))
      << "stored " << h.EventsStored() << " of " << acked << "\n" << a.process->ReadLog() << b.process->ReadLog();

  // Nothing twice: the store holds exactly the acknowledged events (no other source ran).
  EXPECT_EQ(h.EventsStored(), acked);
  // Nothing lost: each acknowledged eventID is found.
  auto query = h.Query();
  int missing = 0;
  for (const auto* list : {&acked_a, &acked_b}) {
    for (const std::string& id : *list) {
      if (!h.StoredRecord(id, query.get()).ok()) ++missing;
    }
  }
  EXPECT_EQ(missing, 0);
  // Neither agent dead-lettered anything, and the collector saw (and counted) the fencing.
  EXPECT_EQ(a.Metric("orgtrail_agent_dead_letter_batches"), 0);
  EXPECT_EQ(b.Metric("orgtrail_agent_dead_letter_batches"), 0);
  EXPECT_GE(h.CollectorMetric("orgtrail_collector_ingest_streams_fenced_total"), 1);
  std::cerr << "acknowledged " << acked << " (a " << acked_a.size() << ", b " << acked_b.size() << "), stored "
            << h.EventsStored() << ", fenced " << h.CollectorMetric("orgtrail_collector_ingest_streams_fenced_total")
            << ", sequence conflicts " << h.CollectorMetric("orgtrail_collector_ingest_sequence_conflicts_total")
            << "\n";
}

}  // namespace
}  // namespace orgtrail::testutil
