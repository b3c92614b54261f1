// The findings log's rule table (collector/findings/findings_log.h): the streaming engine stores
// each finding with its rule's fields by reference, written once per rule version, and readers get
// them filled back whole; findings recorded before a rule was edited keep the fields they were
// found with; a finding stored whole (before the table existed) reads as stored; a finding naming a
// version the table lacks is DATA_LOSS, not a finding with empty fields.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "collector/findings/finding_fields.h"
#include "collector/findings/findings_fixture.h"
#include "collector/findings/findings_log.h"

namespace orgtrail::collector {
namespace {

constexpr char kRuleId[] = "44444444-4444-4444-8444-444444444444";

std::string StopLoggingRule(const std::string& title, const std::string& level) {
  return "title: " + title + "\nid: " + kRuleId + "\nstatus: test\nlevel: " + level +
         "\nauthor: orgtrail tests\nreferences:\n  - https://example.org/a\n  - https://example.org/b\n"
         "tags:\n  - attack.defense-evasion\n  - attack.t1562.008\nlogsource:\n  product: aws\n"
         "  service: cloudtrail\ndetection:\n  selection:\n    eventName: StopLogging\n  condition: selection\n";
}

class FindingsRuleTableTest : public FindingsFixture {
 protected:
  void SetUp() override { SetUpWithRules({{"stop.yml", StopLoggingRule("Logging stopped", "high")}}); }
  void StoreStopLogging() {
    testutil::SyntheticEvent spec;
    spec.event_source = "cloudtrail.amazonaws.com";
    spec.event_name = "StopLogging";
    StoreEvents({spec});
  }
  // The findings as the store holds them, undecorated.
  std::vector<v1::Finding> Stored() {
    std::vector<v1::Finding> out;
    auto raw = store_->ScanMetadata("finding/");
    EXPECT_TRUE(raw.ok());
    for (const auto& [key, value] : *raw) {
      out.emplace_back();
      EXPECT_TRUE(out.back().ParseFromString(value)) << key;
    }
    return out;
  }
};

TEST_F(FindingsRuleTableTest, StoredFindingsNameTheRuleAndReadBackWhole) {
  auto engine = StartEngine();
  StoreStopLogging();
  StoreStopLogging();
  WaitCaughtUp(engine.get());
  const std::vector<v1::Finding> stored = Stored();
  ASSERT_EQ(stored.size(), 2u);
  for (const v1::Finding& f : stored) {
    EXPECT_EQ(f.rule_id(), kRuleId);
    EXPECT_NE(f.rule_ref(), 0u);
    EXPECT_EQ(f.rule_ref(), stored[0].rule_ref());
    EXPECT_TRUE(f.rule_title().empty() && f.level().empty() && f.author().empty() && f.references().empty() &&
                f.tags().empty() && f.rule_file().empty())
        << f.ShortDebugString();
  }
  // What a reader gets is what the inline form sets.
  const std::vector<v1::Finding> listed = All();
  ASSERT_EQ(listed.size(), 2u);
  v1::Finding expected;
  detections::SetRuleFields(*rules_->Find(kRuleId), rule_files_.at(kRuleId), &expected);
  for (const v1::Finding& f : listed) {
    EXPECT_EQ(f.rule_ref(), 0u);
    EXPECT_EQ(f.rule_title(), "Logging stopped");
    EXPECT_EQ(f.level(), "high");
    EXPECT_EQ(f.rule_status(), "test");
    EXPECT_EQ(f.author(), "orgtrail tests");
    EXPECT_EQ(f.references_size(), 2);
    EXPECT_EQ(f.tags(1), "attack.t1562.008");
    EXPECT_NE(f.rule_file().find("stop.yml"), std::string::npos);
    v1::Finding got = f;
    got.clear_commit_index(); got.clear_event_id(); got.clear_account_id(); got.clear_region();
    got.clear_event_source(); got.clear_event_name(); got.clear_event_time_us(); got.clear_detected_time_us();
    EXPECT_EQ(got.SerializeAsString(), expected.SerializeAsString()) << got.ShortDebugString();
  }
  FindingsFilter critical;
  critical.min_level_rank = LevelRank("critical");
  EXPECT_TRUE(All(critical).empty()) << "the level filter reads the filled-in level";
  FindingsFilter high;
  high.min_level_rank = LevelRank("high");
  EXPECT_EQ(All(high).size(), 2u);
}

TEST_F(FindingsRuleTableTest, FindingsBeforeAnEditKeepTheFieldsTheyWereFoundWith) {
  {
    auto engine = StartEngine();
    StoreStopLogging();
    WaitCaughtUp(engine.get());
  }
  std::ofstream(dir_.Join("rules/stop.yml")) << StopLoggingRule("Logging stopped (edited)", "critical");
  LoadRules();
  auto engine = StartEngine();
  StoreStopLogging();
  WaitCaughtUp(engine.get());
  const std::vector<v1::Finding> stored = Stored();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_NE(stored[0].rule_ref(), stored[1].rule_ref()) << "an edited rule is a new version";
  const std::vector<v1::Finding> listed = All();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].rule_title(), "Logging stopped");
  EXPECT_EQ(listed[0].level(), "high");
  EXPECT_EQ(listed[1].rule_title(), "Logging stopped (edited)");
  EXPECT_EQ(listed[1].level(), "critical");
  FindingsFilter critical;
  critical.min_level_rank = LevelRank("critical");
  ASSERT_EQ(All(critical).size(), 1u);
  EXPECT_EQ(All(critical)[0].event_id(), listed[1].event_id());
}

TEST_F(FindingsRuleTableTest, AFindingStoredWholeReadsAsStored) {
  v1::Finding whole;
  whole.set_commit_index(7);
  whole.set_rule_id("55555555-5555-4555-8555-555555555555");
  whole.set_rule_title("Recorded before the rule table");
  whole.set_level("medium");
  whole.add_tags("attack.persistence");
  whole.set_rule_file("/rules/old.yml");
  whole.set_event_id("e-old");
  google::protobuf::RepeatedPtrField<v1::Finding> findings;
  *findings.Add() = whole;
  ASSERT_TRUE(FindingsLog(store_.get()).Append(findings, 7).ok());
  const std::vector<v1::Finding> listed = All();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].SerializeAsString(), whole.SerializeAsString()) << listed[0].ShortDebugString();
}

TEST_F(FindingsRuleTableTest, AFindingNamingAnUnknownVersionIsDataLoss) {
  v1::Finding orphan;
  orphan.set_commit_index(3);
  orphan.set_rule_id(kRuleId);
  orphan.set_rule_ref(0x0123456789abcdefULL);
  google::protobuf::RepeatedPtrField<v1::Finding> findings;
  *findings.Add() = orphan;
  ASSERT_TRUE(FindingsLog(store_.get()).Append(findings, 3).ok());
  uint64_t next = 0;
  auto listed = FindingsLog(store_.get()).List(0, 100, {}, &next);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(listed.status().message().find("0123456789abcdef"), std::string::npos) << listed.status();
  EXPECT_NE(listed.status().message().find(kRuleId), std::string::npos) << listed.status();
}

TEST_F(FindingsRuleTableTest, TheReferenceFollowsEveryRuleField) {
  v1::FindingRule base = detections::FindingRuleOf(rules_->Find(kRuleId)->metadata(), "/rules/stop.yml");
  std::set<uint64_t> refs{RuleRefOf(base)};
  EXPECT_EQ(RuleRefOf(base), RuleRefOf(base));
  auto changed = [&](auto mutate) {
    v1::FindingRule r = base;
    mutate(&r);
    return refs.insert(RuleRefOf(r)).second;
  };
  EXPECT_TRUE(changed([](v1::FindingRule* r) { r->set_rule_title("x"); }));
  EXPECT_TRUE(changed([](v1::FindingRule* r) { r->set_level("low"); }));
  EXPECT_TRUE(changed([](v1::FindingRule* r) { r->set_rule_status("stable"); }));
  EXPECT_TRUE(changed([](v1::FindingRule* r) { r->set_author("someone"); }));
  EXPECT_TRUE(changed([](v1::FindingRule* r) { r->add_references("https://example.org/c"); }));
  EXPECT_TRUE(changed([](v1::FindingRule* r) { r->mutable_tags()->SwapElements(0, 1); }));
  EXPECT_TRUE(changed([](v1::FindingRule* r) { r->set_rule_file("/rules/other.yml"); }));
  EXPECT_TRUE(changed([](v1::FindingRule* r) { r->set_rule_id("other"); }));
}

}  // namespace
}  // namespace orgtrail::collector
