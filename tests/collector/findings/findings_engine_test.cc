// Sigma findings on arrival (collector/findings/) over a real RocksDB store: every stored event
// is matched once, each (event, rule) finding recorded once in commit order, a restart resumes
// at the durable cursor without a duplicate or a gap, a crash before the cursor write rewrites
// the same findings, a first start on a full store begins at its end, pages never split an
// event's findings, and a rule folder with a rule the engine cannot run is refused by name.
#include "collector/findings/findings_engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "collector/findings/findings_fixture.h"
#include "collector/findings/findings_log.h"
#include "collector/findings/retro_hunt.h"
#include "collector/findings/sigma_detections.h"
#include "orgtrail/common/event_extractor.h"
#include "testutil/ingest_client.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

constexpr char kStopLoggingRule[] = R"(title: CloudTrail logging stopped
id: 11111111-1111-4111-8111-111111111111
status: test
level: high
author: orgtrail tests
references:
  - https://example.org/stop-logging
tags:
  - attack.defense-evasion
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName:
      - StopLogging
      - DeleteTrail
  condition: selection
)";

constexpr char kStopOnlyRule[] = R"(title: StopLogging only
id: 22222222-2222-4222-8222-222222222222
status: experimental
level: low
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: StopLogging
  condition: selection
)";

class FindingsEngineTest : public FindingsFixture {
 protected:
  void SetUp() override {
    SetUpWithRules({{"stop_logging.yml", kStopLoggingRule}, {"stop_only.yml", kStopOnlyRule}});
  }
  void WriteRule(const std::string& name, const std::string& text) {
    std::ofstream(dir_.Join("rules/" + name)) << text;
  }
  // Stores one batch of events named `names` (eventSource cloudtrail.amazonaws.com).
  void Store(const std::vector<std::string>& names) {
    std::vector<testutil::SyntheticEvent> specs;
    for (const std::string& name : names) {
      testutil::SyntheticEvent spec;
      spec.event_source = "cloudtrail.amazonaws.com";
      spec.event_name = name;
      specs.push_back(spec);
    }
    StoreEvents(std::move(specs));
  }
};

TEST_F(FindingsEngineTest, EachEventAndRuleIsOneFindingInCommitOrder) {
  auto engine = StartEngine();
  Store({"StopLogging", "DescribeInstances", "DeleteTrail"});
  WaitCaughtUp(engine.get());
  std::vector<v1::Finding> findings = All();
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].event_id(), "e-1");
  EXPECT_EQ(findings[1].event_id(), "e-1");
  std::set<std::string> rules_of_first{findings[0].rule_id(), findings[1].rule_id()};
  EXPECT_EQ(rules_of_first, (std::set<std::string>{"11111111-1111-4111-8111-111111111111",
                                                   "22222222-2222-4222-8222-222222222222"}));
  const v1::Finding& delete_trail = findings[2];
  EXPECT_EQ(delete_trail.event_id(), "e-3");
  EXPECT_EQ(delete_trail.event_name(), "DeleteTrail");
  EXPECT_EQ(delete_trail.event_source(), "cloudtrail.amazonaws.com");
  EXPECT_EQ(delete_trail.rule_title(), "CloudTrail logging stopped");
  EXPECT_EQ(delete_trail.level(), "high");
  EXPECT_EQ(delete_trail.author(), "orgtrail tests");
  ASSERT_EQ(delete_trail.references_size(), 1);
  ASSERT_EQ(delete_trail.tags_size(), 1);
  EXPECT_EQ(delete_trail.account_id(), "111111111111");
  EXPECT_EQ(delete_trail.region(), "us-east-1");
  EXPECT_GT(delete_trail.commit_index(), findings[0].commit_index());
  EXPECT_EQ(metrics_.GetCounter("orgtrail_findings_events_evaluated_total", "")->value(), 3u);
}

TEST_F(FindingsEngineTest, RestartResumesAtTheCursorWithoutDuplicatesOrGaps) {
  {
    auto engine = StartEngine();
    Store({"StopLogging"});
    WaitCaughtUp(engine.get());
    engine->Stop();
  }
  Store({"DeleteTrail", "DescribeInstances"});  // stored while no engine runs
  auto engine = StartEngine();
  Store({"StopLogging"});
  WaitCaughtUp(engine.get());
  std::vector<v1::Finding> findings = All();
  ASSERT_EQ(findings.size(), 5u);  // 2 + 1 + 0 + 2
  std::set<std::pair<uint64_t, std::string>> keys;
  for (const auto& f : findings) keys.insert({f.commit_index(), f.rule_id()});
  EXPECT_EQ(keys.size(), findings.size());
}

TEST_F(FindingsEngineTest, CrashBeforeTheCursorWriteRewritesTheSameFindings) {
  {
    auto engine = StartEngine();
    Store({"StopLogging", "DeleteTrail"});
    WaitCaughtUp(engine.get());
    engine->Stop();
  }
  const std::vector<v1::Finding> before = All();
  ASSERT_EQ(before.size(), 3u);
  // The state a crash after matching but before the durable write leaves: an older cursor.
  ASSERT_TRUE(FindingsLog(store_.get()).Append({}, 0).ok());
  auto engine = StartEngine();
  WaitCaughtUp(engine.get());
  const std::vector<v1::Finding> after = All();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].commit_index(), before[i].commit_index());
    EXPECT_EQ(after[i].rule_id(), before[i].rule_id());
  }
}

TEST_F(FindingsEngineTest, FirstStartOnAFullStoreBeginsAtItsEnd) {
  Store({"StopLogging", "DeleteTrail"});
  auto engine = StartEngine();
  EXPECT_EQ(engine->cursor(), store_->last_commit_index());
  Store({"DeleteTrail"});
  WaitCaughtUp(engine.get());
  std::vector<v1::Finding> findings = All();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].event_id(), "e-3");
}

TEST_F(FindingsEngineTest, PagesNeverSplitAnEventAndFiltersApply) {
  auto engine = StartEngine();
  Store({"StopLogging", "StopLogging", "StopLogging"});  // two findings each
  WaitCaughtUp(engine.get());
  FindingsLog log(store_.get());
  uint64_t next = 0;
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    uint64_t after = next;
    auto findings = log.List(after, 1, {}, &next);
    ASSERT_TRUE(findings.ok());
    if (findings->empty()) break;
    EXPECT_EQ(findings->size(), 2u) << "both rules' findings of one event on one page";
    for (const auto& f : *findings) seen.push_back(f.event_id() + "/" + f.rule_id());
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 6u);
  FindingsFilter high;
  high.min_level_rank = LevelRank("high");
  EXPECT_EQ(All(high).size(), 3u);
  FindingsFilter one_rule;
  one_rule.rule_id = "22222222-2222-4222-8222-222222222222";
  EXPECT_EQ(All(one_rule).size(), 3u);
}

TEST_F(FindingsEngineTest, ARuleThatCannotRunIsRefusedByNameAtLoad) {
  WriteRule("broken.yml", "title: broken\nid: 33333333-3333-4333-8333-333333333333\nlogsource: {product: aws}\n"
                          "detection:\n  selection:\n    eventName|nosuchmodifier: x\n  condition: selection\n");
  auto loaded = SigmaDetections::Load({dir_.Join("rules")}, &logger_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("broken.yml"), std::string::npos) << loaded.status();
  EXPECT_NE(loaded.status().message().find("1 rule(s) cannot run"), std::string::npos) << loaded.status();
  std::filesystem::create_directories(dir_.Join("empty"));
  EXPECT_FALSE(SigmaDetections::Load({dir_.Join("empty")}, &logger_).ok());
  EXPECT_FALSE(SigmaDetections::Load({dir_.Join("no-such-folder")}, &logger_).ok());
}

TEST_F(FindingsEngineTest, EverySigmaHqCloudTrailRuleLoads) {
  auto loaded = SigmaDetections::Load({std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules"}, &logger_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->rules_loaded(), 57u);
}

TEST_F(FindingsEngineTest, RetroHuntFindsWhatStreamingFoundOverTheSameEvents) {
  auto engine = StartEngine();
  Store({"StopLogging", "DescribeInstances", "DeleteTrail"});
  Store({"StopLogging", "UpdateTrail"});
  WaitCaughtUp(engine.get());
  std::set<std::pair<std::string, std::string>> streamed;
  for (const v1::Finding& f : All()) streamed.insert({f.event_id(), f.rule_id()});

  v1::HuntRequest request;
  for (const char* text : {kStopLoggingRule, kStopOnlyRule}) {
    v1::HuntRule* rule = request.add_rules();
    rule->set_file("inline.yml");
    rule->set_yaml(text);
  }
  auto hunt = RetroHunt::Compile(request);
  ASSERT_TRUE(hunt.ok()) << hunt.status();
  std::set<std::pair<std::string, std::string>> hunted;
  bool done = false;
  uint64_t scanned = 0;
  ASSERT_TRUE((*hunt)->Run(*store_, [&](v1::HuntResponse&& r) {
    for (const v1::Finding& f : r.findings()) {
      EXPECT_TRUE(hunted.insert({f.event_id(), f.rule_id()}).second) << "found twice";
      EXPECT_GT(f.commit_index(), 0u);
    }
    done = r.progress().done();
    scanned = r.progress().events_scanned();
    return true;
  }).ok());
  EXPECT_TRUE(done);
  EXPECT_EQ(scanned, 5u);
  EXPECT_EQ(hunted, streamed);
  EXPECT_EQ(hunted.size(), 5u);  // StopLogging x2 rules x2 events, DeleteTrail x1

  // Only the named accounts.
  request.add_account_ids("999999999999");
  auto none = RetroHunt::Compile(request);
  ASSERT_TRUE(none.ok());
  size_t found = 0;
  ASSERT_TRUE((*none)->Run(*store_, [&](v1::HuntResponse&& r) { found += r.findings_size(); return true; }).ok());
  EXPECT_EQ(found, 0u);
}

TEST_F(FindingsEngineTest, RetroHuntAppliesTheSigmaFiltersSentWithTheRules) {
  Store({"StopLogging", "DeleteTrail"});
  v1::HuntRequest request;
  v1::HuntRule* rule = request.add_rules();
  rule->set_file("stop.yml");
  rule->set_yaml(kStopLoggingRule);
  v1::HuntRule* filter = request.add_rules();
  filter->set_file("mf_no_stop.yml");
  filter->set_yaml("title: StopLogging is expected here\nlogsource:\n  product: aws\nfilter:\n  rules:\n"
                   "    - 11111111-1111-4111-8111-111111111111\n  selection:\n    eventName: StopLogging\n"
                   "  condition: selection\n");
  auto hunt = RetroHunt::Compile(request);
  ASSERT_TRUE(hunt.ok()) << hunt.status();
  std::vector<std::string> found;
  ASSERT_TRUE((*hunt)->Run(*store_, [&](v1::HuntResponse&& r) {
    for (const v1::Finding& f : r.findings()) found.push_back(f.event_id());
    return true;
  }).ok());
  EXPECT_EQ(found, std::vector<std::string>{"e-2"}) << "StopLogging suppressed by the filter, DeleteTrail kept";
}

TEST_F(FindingsEngineTest, RetroHuntRefusesRulesItCannotRunAndBadRanges) {
  v1::HuntRequest request;
  EXPECT_FALSE(RetroHunt::Compile(request).ok()) << "no rules";
  v1::HuntRule* good = request.add_rules();
  good->set_file("good.yml");
  good->set_yaml(kStopOnlyRule);
  v1::HuntRule* bad = request.add_rules();
  bad->set_file("bad.yml");
  bad->set_yaml("title: x\nlogsource: {product: aws}\ndetection:\n  s:\n    a|nosuch: 1\n  condition: s\n");
  auto refused = RetroHunt::Compile(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("bad.yml"), std::string::npos) << refused.status();
  request.mutable_rules()->RemoveLast();
  request.set_start_time_us(200);
  request.set_end_time_us(100);
  EXPECT_FALSE(RetroHunt::Compile(request).ok()) << "start after end";
  request.set_start_time_us(-1);
  request.set_end_time_us(0);
  EXPECT_FALSE(RetroHunt::Compile(request).ok()) << "negative";
}

}  // namespace
}  // namespace orgtrail::collector
