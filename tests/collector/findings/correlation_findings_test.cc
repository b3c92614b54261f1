// Sigma correlation rules in the collector, over a real RocksDB store: a correlation's open
// windows are stored with the findings cursor, so a restart between the events of one window
// still completes it, once; the rules that only feed correlations report nothing alone; windows
// are deleted once they complete; and the retro-hunt gives the same correlation findings as the
// streaming engine over the same events.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "collector/findings/findings_fixture.h"
#include "collector/findings/retro_hunt.h"

namespace orgtrail::collector {
namespace {

constexpr int64_t kT0 = 1700000000000000;
constexpr int64_t kSecond = 1000000;

constexpr char kRules[] = R"(title: Trail logging stopped, then the trail deleted, by one user
id: 33333333-3333-4333-8333-333333333333
level: critical
author: orgtrail tests
correlation:
  type: temporal_ordered
  rules:
    - stop_logging
    - delete_trail
  group-by:
    - userIdentity.userName
  timespan: 10m
---
title: Logging stopped three times by one user
id: 44444444-4444-4444-8444-444444444444
level: high
correlation:
  type: event_count
  rules:
    - stop_logging
  group-by:
    - userIdentity.userName
  timespan: 10m
  condition:
    gte: 3
---
title: StopLogging
id: 55555555-5555-4555-8555-555555555555
name: stop_logging
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: StopLogging
  condition: selection
---
title: DeleteTrail
id: 66666666-6666-4666-8666-666666666666
name: delete_trail
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: DeleteTrail
  condition: selection
)";

struct Spec {
  std::string name;
  std::string user;
  int64_t seconds;
};

class CorrelationFindingsTest : public FindingsFixture {
 protected:
  void SetUp() override { SetUpWithRules({{"trail_tampering.yml", kRules}}); }
  void Store(const std::vector<Spec>& specs) {
    std::vector<testutil::SyntheticEvent> events;
    for (const Spec& s : specs) {
      testutil::SyntheticEvent spec;
      spec.event_source = "cloudtrail.amazonaws.com";
      spec.event_name = s.name;
      spec.username = s.user;
      spec.event_time_us = kT0 + s.seconds * kSecond;
      events.push_back(spec);
    }
    StoreEvents(std::move(events));
  }
  size_t StoredWindows() {
    auto windows = store_->ScanMetadata("findings/corr/");
    EXPECT_TRUE(windows.ok());
    return windows.ok() ? windows->size() : 0;
  }
};

using Key = std::tuple<std::string, std::string, std::string, uint32_t>;  // rule, event, group, events
Key KeyOf(const v1::Finding& f) {
  return {f.rule_id(), f.event_id(), f.group(), f.correlated_events_total()};
}

TEST_F(CorrelationFindingsTest, AWindowSurvivesARestartCompletesOnceAndTheHuntAgrees) {
  {
    auto engine = StartEngine();
    Store({{"StopLogging", "alice", 0}, {"StopLogging", "bob", 1}});
    Store({{"StopLogging", "alice", 2}});
    WaitCaughtUp(engine.get());
    EXPECT_TRUE(All().empty());  // the base rules only feed the correlations
    EXPECT_EQ(StoredWindows(), 4u);  // alice and bob, in each correlation
  }
  auto engine = StartEngine();  // a new engine: the open windows come from the store
  Store({{"StopLogging", "alice", 3}});
  Store({{"DeleteTrail", "alice", 4}, {"DeleteTrail", "bob", 700}});  // bob's is 11+ minutes later
  WaitCaughtUp(engine.get());
  std::vector<v1::Finding> streamed = All();
  ASSERT_EQ(streamed.size(), 2u);
  const v1::Finding& count = streamed[0];
  EXPECT_EQ(count.rule_id(), "44444444-4444-4444-8444-444444444444");
  EXPECT_EQ(count.correlation_type(), "event_count");
  EXPECT_EQ(count.group(), R"({"userIdentity.userName":"alice"})");
  EXPECT_EQ(count.event_id(), "e-4");
  ASSERT_EQ(count.correlated_events_size(), 3);
  EXPECT_EQ(count.correlated_events(0).event_id(), "e-1");
  EXPECT_EQ(count.correlated_events(2).event_id(), "e-4");
  EXPECT_EQ(count.level(), "high");
  EXPECT_NE(count.rule_file().find("trail_tampering.yml"), std::string::npos);
  const v1::Finding& ordered = streamed[1];
  EXPECT_EQ(ordered.rule_id(), "33333333-3333-4333-8333-333333333333");
  EXPECT_EQ(ordered.correlation_type(), "temporal_ordered");
  EXPECT_EQ(ordered.event_id(), "e-5");
  EXPECT_EQ(ordered.correlated_events_total(), 4u);  // alice's three StopLogging, then DeleteTrail
  EXPECT_EQ(ordered.level(), "critical");
  EXPECT_EQ(ordered.account_id(), "111111111111");
  // A restart re-reads no finding twice and completes nothing again.
  engine->Stop();
  engine = StartEngine();
  Store({{"StopLogging", "carol", 800}});
  WaitCaughtUp(engine.get());
  EXPECT_EQ(All().size(), 2u);

  v1::HuntRequest request;
  v1::HuntRule* rule = request.add_rules();
  rule->set_file("trail_tampering.yml");
  rule->set_yaml(kRules);
  auto hunt = RetroHunt::Compile(request);
  ASSERT_TRUE(hunt.ok()) << hunt.status();
  std::set<Key> hunted;
  ASSERT_TRUE((*hunt)->Run(*store_, [&](v1::HuntResponse&& r) {
    for (const v1::Finding& f : r.findings()) EXPECT_TRUE(hunted.insert(KeyOf(f)).second) << "found twice";
    return true;
  }).ok());
  std::set<Key> streamed_keys;
  for (const v1::Finding& f : All()) streamed_keys.insert(KeyOf(f));
  EXPECT_EQ(hunted, streamed_keys);
}

TEST_F(CorrelationFindingsTest, CompletedWindowsAreDeletedAndStaleOnesDoNotComplete) {
  auto engine = StartEngine();
  Store({{"StopLogging", "alice", 0}, {"StopLogging", "alice", 1}, {"StopLogging", "alice", 2}});
  WaitCaughtUp(engine.get());
  ASSERT_EQ(All().size(), 1u);
  EXPECT_EQ(StoredWindows(), 1u);  // event_count's alice window is gone; temporal_ordered's waits
  Store({{"DeleteTrail", "alice", 603}});  // more than 10 minutes after every StopLogging
  WaitCaughtUp(engine.get());
  EXPECT_EQ(All().size(), 1u);
}

}  // namespace
}  // namespace orgtrail::collector
