// Sigma correlation rules: compilation (every type, every refusal with its reason), loading and
// resolution (names, chains, cycles, generate), and the streaming windows: thresholds, groups,
// timespans, distinct values, temporal order, chains, aliases, and windows stored and restored
// giving the same matches as an uninterrupted run.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "orgtrail/detections/correlation.h"
#include "orgtrail/detections/correlation_state.h"
#include "orgtrail/detections/rule_set.h"

namespace orgtrail::detections {
namespace {

constexpr int64_t kSecond = 1000000;

std::string BaseRule(const std::string& id, const std::string& name, const std::string& event_name) {
  return "title: " + id + "\nid: " + id + "\nname: " + name +
         "\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName: " + event_name +
         "\n  condition: sel\nlevel: low\n";
}

std::string Correlation(const std::string& id, const std::string& body) {
  return "title: corr " + id + "\nid: " + id + "\nlevel: high\ncorrelation:\n" + body;
}

std::unique_ptr<RuleSet> Load(const std::vector<std::string>& documents, LoadReport* report) {
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t i = 0; i < documents.size(); ++i) files.emplace_back("doc" + std::to_string(i) + ".yml", documents[i]);
  return LoadRuleSetFromTexts(files, LoadOptions{}, report);
}

// Feeds events (eventName, user, source IP, seconds) through the set and collects the matches.
class Stream {
 public:
  explicit Stream(const RuleSet* set) : set_(set), state_(std::make_unique<CorrelationState>(set)) {}

  std::vector<CorrelationMatch> Send(const std::string& event_name, const std::string& user, int64_t seconds,
                                     const std::string& ip = "192.0.2.1") {
    const std::string json = R"({"eventName":")" + event_name + R"(","userIdentity":{"userName":")" + user +
                             R"("},"sourceIPAddress":")" + ip + R"(","eventID":"e)" + std::to_string(++sequence_) + "\"}";
    auto record = parser_.Parse(json);
    EXPECT_TRUE(record.ok()) << record.status();
    EventRef ref;
    ref.commit_index = sequence_;
    ref.event_id = "e" + std::to_string(sequence_);
    ref.time_us = seconds * kSecond;
    std::vector<CorrelationMatch> out;
    state_->Observe(*record, ref, set_->Match(*record), &out);
    return out;
  }
  CorrelationState* state() { return state_.get(); }
  // Replaces the state by a new one restored from what the old one handed out.
  void Restart(std::vector<WindowUpdate>* stored) {
    for (WindowUpdate& u : state_->TakeChangedWindows()) {
      auto it = std::find_if(stored->begin(), stored->end(), [&](const WindowUpdate& s) {
        return s.correlation_id == u.correlation_id && s.group_json == u.group_json;
      });
      if (it != stored->end()) stored->erase(it);
      if (!u.entries.empty()) stored->push_back(std::move(u));
    }
    state_ = std::make_unique<CorrelationState>(set_);
    for (const WindowUpdate& u : *stored) EXPECT_TRUE(state_->RestoreWindow(u.correlation_id, u.group_json, u.entries));
  }

 private:
  const RuleSet* set_;
  std::unique_ptr<CorrelationState> state_;
  RecordParser parser_;
  int sequence_ = 0;
};

TEST(CorrelationCompile, EveryTypeCompiles) {
  auto ec = CompileCorrelation(Correlation("c1", "  type: event_count\n  rules: [a]\n  group-by: [userIdentity.userName]\n"
                                                 "  timespan: 90m\n  condition:\n    gt: 100\n    lte: 200\n"));
  ASSERT_TRUE(ec.ok()) << ec.status();
  EXPECT_EQ(ec->type, CorrelationType::kEventCount);
  EXPECT_EQ(ec->timespan_us, 90 * 60 * kSecond);
  EXPECT_TRUE(ec->condition.Holds(101));
  EXPECT_FALSE(ec->condition.Holds(100));
  EXPECT_FALSE(ec->condition.Holds(201));
  EXPECT_FALSE(ec->generate);
  auto vc = CompileCorrelation(Correlation("c2", "  type: value_count\n  rules: [a]\n  group-by: [x]\n  timespan: 1d\n"
                                                 "  condition:\n    field: sourceIPAddress\n    gte: 3\n"));
  ASSERT_TRUE(vc.ok()) << vc.status();
  ASSERT_TRUE(vc->value_field.has_value());
  EXPECT_EQ(vc->value_field->text, "sourceIPAddress");
  auto t = CompileCorrelation(Correlation("c3", "  type: temporal\n  rules: [a, b]\n  group-by: [x]\n  timespan: 5m\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  auto to = CompileCorrelation("title: t\nname: only-a-name\ngenerate: true\ncorrelation:\n  type: temporal_ordered\n"
                               "  rules: [a, b]\n  group-by: [x]\n  timespan: 10s\n");
  ASSERT_TRUE(to.ok()) << to.status();
  EXPECT_EQ(to->metadata.id, "only-a-name");
  EXPECT_TRUE(to->generate);
}

TEST(CorrelationCompile, RefusesWhatAStreamCannotEvaluateWithTheReason) {
  struct Case {
    std::string body;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition:\n    lt: 5\n", "single event"},
      {"  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition:\n    neq: 3\n", "single event"},
      {"  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition:\n    gte: 1\n", "single event"},
      {"  type: event_count\n  rules: [a]\n  timespan: 1h\n", "needs a condition"},
      {"  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition:\n    gte: 20000\n", "window limit"},
      {"  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition:\n    gte: -3\n", "non-negative integer"},
      {"  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition:\n    most: 3\n", "unknown key"},
      {"  type: value_sum\n  rules: [a]\n  timespan: 1h\n  condition:\n    field: x\n    gt: 3\n", "not supported"},
      {"  type: teleport\n  rules: [a]\n  timespan: 1h\n", "unknown correlation type"},
      {"  type: value_count\n  rules: [a]\n  timespan: 1h\n  condition:\n    gte: 3\n", "field"},
      {"  type: temporal\n  rules: [a]\n  timespan: 1h\n", "at least two rules"},
      {"  type: temporal\n  rules: [a, a]\n  timespan: 1h\n", "named twice"},
      {"  type: temporal\n  rules: [a, b]\n  timespan: 1w\n", "unit"},
      {"  type: temporal\n  rules: [a, b]\n  timespan: 400d\n", "1 s to 30 d"},
      {"  type: temporal\n  rules: [a, b]\n  timespan: 0s\n", "1 s to 30 d"},
      {"  type: temporal\n  rules: [a, b]\n", "no timespan"},
      {"  type: temporal\n  rules: []\n  timespan: 1m\n", "names no rules"},
      {"  type: temporal\n  rules: [a, b]\n  group-by: [ip]\n  timespan: 1m\n  aliases:\n    ip:\n      c: x\n",
       "does not use"},
      {"  type: temporal\n  rules: [a, b]\n  group-by: [ip]\n  timespan: 1m\n  aliases:\n    ip:\n      a: x\n",
       "no field for rule 'b'"},
      {"  - not a map\n", "must be a map"},
  };
  for (const Case& c : cases) {
    auto compiled = CompileCorrelation(Correlation("bad", c.body));
    ASSERT_FALSE(compiled.ok()) << c.body;
    EXPECT_NE(std::string(compiled.status().message()).find(c.reason), std::string::npos)
        << c.body << " -> " << compiled.status();
  }
  EXPECT_FALSE(CompileCorrelation("correlation: {type: temporal}\n").ok());  // no title, no id
  EXPECT_FALSE(CompileCorrelation("title: [unclosed").ok());
}

TEST(CorrelationLoad, TheSpecificationsChainLoadsAndItsBaseRulesDoNotReportAlone) {
  LoadReport report;
  // The specification's example: many failed logins followed by a success, in one file.
  auto set = LoadRuleSetFromTexts(
      {{"brute.yml", Correlation("outer", "  type: temporal_ordered\n  rules: [many_failed, success]\n"
                                          "  group-by: [userIdentity.userName]\n  timespan: 10m\n") +
                         "---\n" +
                         "title: many\nid: many-id\nname: many_failed\ncorrelation:\n  type: event_count\n"
                         "  rules: [failed]\n  group-by: [userIdentity.userName]\n  timespan: 10m\n  condition:\n"
                         "    gte: 3\n---\n" +
                         BaseRule("failed-id", "failed", "LoginFailed") + "---\n" +
                         BaseRule("success-id", "success", "LoginOk") + "---\n" + BaseRule("other-id", "other", "Other")}},
      LoadOptions{}, &report);
  EXPECT_TRUE(report.refused.empty()) << report.refused[0].reason;
  EXPECT_EQ(report.loaded.size(), 3u);
  EXPECT_EQ(report.correlations.size(), 2u);
  EXPECT_FALSE(set->Reports("failed-id"));   // only feeds the event_count
  EXPECT_FALSE(set->Reports("success-id"));  // only feeds the outer correlation
  EXPECT_FALSE(set->Reports("many-id"));     // an intermediate correlation
  EXPECT_TRUE(set->Reports("outer"));
  EXPECT_TRUE(set->Reports("other-id"));     // not used by any correlation
}

TEST(CorrelationLoad, UnknownNamesCyclesAndDuplicatesAreRefusedWithTheirDependents) {
  LoadReport report;
  auto set = Load({BaseRule("a-id", "a", "A"),
                   Correlation("missing", "  type: temporal\n  rules: [a, nowhere]\n  timespan: 1m\n"),
                   Correlation("depends-on-missing", "  type: temporal\n  rules: [a, missing]\n  timespan: 1m\n"),
                   Correlation("loop1", "  type: temporal\n  rules: [a, loop2]\n  timespan: 1m\n"),
                   Correlation("loop2", "  type: temporal\n  rules: [a, loop1]\n  timespan: 1m\n"),
                   Correlation("a-id", "  type: temporal\n  rules: [a, b]\n  timespan: 1m\n"),
                   Correlation("fine", "  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition:\n    gte: 2\n")},
                  &report);
  std::map<std::string, std::string> refused;
  for (const RefusedRule& r : report.refused) refused[r.id] = r.reason;
  EXPECT_NE(refused["missing"].find("'nowhere', which is not a loaded"), std::string::npos) << refused["missing"];
  EXPECT_NE(refused["depends-on-missing"].find("'missing'"), std::string::npos) << refused["depends-on-missing"];
  EXPECT_NE(refused["loop1"].find("cycle"), std::string::npos) << refused["loop1"];
  EXPECT_EQ(refused.count("loop2") + refused.count("loop1"), 2u);
  EXPECT_NE(refused["a-id"].find("already loaded"), std::string::npos) << refused["a-id"];
  ASSERT_EQ(set->correlations().size(), 1u);
  EXPECT_EQ(set->correlations()[0]->metadata.id, "fine");
  EXPECT_EQ(report.correlations.size(), 1u);
}

TEST(CorrelationState, EventCountFiresAtTheThresholdPerGroupAndStartsAgain) {
  LoadReport report;
  auto set = Load({BaseRule("f", "failed", "LoginFailed"),
                   Correlation("brute", "  type: event_count\n  rules: [failed]\n  group-by: [userIdentity.userName]\n"
                                        "  timespan: 1m\n  condition:\n    gte: 3\n")},
                  &report);
  ASSERT_TRUE(report.refused.empty()) << report.refused[0].reason;
  Stream s(set.get());
  EXPECT_TRUE(s.Send("LoginFailed", "alice", 0).empty());
  EXPECT_TRUE(s.Send("LoginFailed", "bob", 1).empty());
  EXPECT_TRUE(s.Send("LoginOk", "alice", 2).empty());  // not the referenced rule
  EXPECT_TRUE(s.Send("LoginFailed", "alice", 3).empty());
  auto m = s.Send("LoginFailed", "alice", 4);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].rule->metadata.id, "brute");
  EXPECT_EQ(m[0].group_json, R"({"userIdentity.userName":"alice"})");
  ASSERT_EQ(m[0].entries.size(), 3u);
  EXPECT_EQ(m[0].entries[0].event.event_id, "e1");
  EXPECT_EQ(m[0].entries[2].event.event_id, "e5");
  // The window was emptied: two more are not enough, a third is.
  EXPECT_TRUE(s.Send("LoginFailed", "alice", 5).empty());
  EXPECT_TRUE(s.Send("LoginFailed", "alice", 6).empty());
  EXPECT_EQ(s.Send("LoginFailed", "alice", 7).size(), 1u);
  // bob has one.
  EXPECT_TRUE(s.Send("LoginFailed", "bob", 8).empty());
}

TEST(CorrelationState, EventsOutsideTheTimespanDoNotCount) {
  LoadReport report;
  auto set = Load({BaseRule("f", "failed", "LoginFailed"),
                   Correlation("brute", "  type: event_count\n  rules: [failed]\n  timespan: 10s\n  condition:\n    gte: 3\n")},
                  &report);
  Stream s(set.get());
  EXPECT_TRUE(s.Send("LoginFailed", "a", 0).empty());
  EXPECT_TRUE(s.Send("LoginFailed", "a", 8).empty());
  EXPECT_TRUE(s.Send("LoginFailed", "a", 16).empty());  // the one at 0 left the window
  EXPECT_TRUE(s.Send("LoginFailed", "a", 2).empty());   // older than the window when it arrives
  EXPECT_EQ(s.Send("LoginFailed", "a", 15).size(), 1u); // 8, 16, 15
}

TEST(CorrelationState, ValueCountCountsDistinctValues) {
  LoadReport report;
  auto set = Load({BaseRule("f", "failed", "LoginFailed"),
                   Correlation("spray", "  type: value_count\n  rules: [failed]\n  group-by: [sourceIPAddress]\n"
                                        "  timespan: 1h\n  condition:\n    field: userIdentity.userName\n    gte: 3\n")},
                  &report);
  ASSERT_TRUE(report.refused.empty()) << report.refused[0].reason;
  Stream s(set.get());
  EXPECT_TRUE(s.Send("LoginFailed", "alice", 0, "203.0.113.9").empty());
  EXPECT_TRUE(s.Send("LoginFailed", "alice", 1, "203.0.113.9").empty());
  EXPECT_TRUE(s.Send("LoginFailed", "bob", 2, "203.0.113.9").empty());
  EXPECT_TRUE(s.Send("LoginFailed", "carol", 3, "198.51.100.1").empty());  // another group
  auto m = s.Send("LoginFailed", "carol", 4, "203.0.113.9");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].group_json, R"({"sourceIPAddress":"203.0.113.9"})");
  EXPECT_EQ(m[0].entries.size(), 4u);
}

TEST(CorrelationState, TemporalNeedsEveryRuleInAnyOrderAndOrderedNeedsTheOrder) {
  LoadReport report;
  auto set = Load({BaseRule("a", "recon_a", "A"), BaseRule("b", "recon_b", "B"), BaseRule("c", "recon_c", "C"),
                   Correlation("any", "  type: temporal\n  rules: [recon_a, recon_b, recon_c]\n"
                                      "  group-by: [userIdentity.userName]\n  timespan: 5m\n"),
                   Correlation("ordered", "  type: temporal_ordered\n  rules: [recon_a, recon_b]\n"
                                          "  group-by: [userIdentity.userName]\n  timespan: 5m\n")},
                  &report);
  ASSERT_TRUE(report.refused.empty()) << report.refused[0].reason;
  Stream s(set.get());
  EXPECT_TRUE(s.Send("C", "u", 0).empty());
  EXPECT_TRUE(s.Send("B", "u", 10).empty());  // B before any A: not in order
  EXPECT_TRUE(s.Send("B", "v", 11).empty());  // another user
  auto m = s.Send("A", "u", 20);              // C, B, A: every rule, but A came last
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].rule->metadata.id, "any");
  auto ordered = s.Send("B", "u", 30);  // A then B
  ASSERT_EQ(ordered.size(), 1u);
  EXPECT_EQ(ordered[0].rule->metadata.id, "ordered");
  ASSERT_EQ(ordered[0].entries.size(), 3u);  // the group's window: B at 10, A at 20, B at 30
  EXPECT_EQ(ordered[0].entries.front().event.event_id, "e2");
  EXPECT_TRUE(s.Send("A", "u", 400).empty());
  EXPECT_TRUE(s.Send("B", "u", 800).empty());  // more than 5 minutes after the A
}

TEST(CorrelationState, ChainsFeedTheOuterCorrelationAndAliasesJoinDifferentFields) {
  LoadReport report;
  auto set = Load({BaseRule("f", "failed", "LoginFailed"), BaseRule("ok", "success", "LoginOk"),
                   "title: many\nid: many\nname: many_failed\ncorrelation:\n  type: event_count\n  rules: [failed]\n"
                   "  group-by: [userIdentity.userName]\n  timespan: 10m\n  condition:\n    gte: 2\n",
                   Correlation("brute", "  type: temporal_ordered\n  rules: [many_failed, success]\n"
                                        "  group-by: [who]\n  timespan: 10m\n  aliases:\n    who:\n"
                                        "      many_failed: userIdentity.userName\n      success: sourceIPAddress\n")},
                  &report);
  ASSERT_TRUE(report.refused.empty()) << report.refused[0].reason;
  Stream s(set.get());
  EXPECT_TRUE(s.Send("LoginFailed", "10.0.0.1", 0).empty());
  auto inner = s.Send("LoginFailed", "10.0.0.1", 1);
  ASSERT_EQ(inner.size(), 1u);  // the intermediate matched; the outer waits for the success
  EXPECT_EQ(inner[0].rule->metadata.id, "many");
  EXPECT_TRUE(s.Send("LoginOk", "x", 2, "10.0.0.2").empty());  // another "who"
  auto outer = s.Send("LoginOk", "x", 3, "10.0.0.1");          // the success from the user's name as IP
  ASSERT_EQ(outer.size(), 1u);
  EXPECT_EQ(outer[0].rule->metadata.id, "brute");
  EXPECT_EQ(outer[0].group_json, R"({"who":"10.0.0.1"})");
  EXPECT_FALSE(set->Reports("many"));
}

TEST(CorrelationState, StoredAndRestoredWindowsGiveTheSameMatches) {
  LoadReport report;
  auto set = Load({BaseRule("f", "failed", "LoginFailed"), BaseRule("ok", "success", "LoginOk"),
                   Correlation("brute", "  type: event_count\n  rules: [failed]\n  group-by: [userIdentity.userName]\n"
                                        "  timespan: 1m\n  condition:\n    gte: 4\n"),
                   Correlation("seq", "  type: temporal_ordered\n  rules: [failed, success]\n"
                                      "  group-by: [userIdentity.userName]\n  timespan: 1m\n")},
                  &report);
  ASSERT_TRUE(report.refused.empty()) << report.refused[0].reason;
  const std::vector<std::pair<std::string, std::string>> events = {
      {"LoginFailed", "a"}, {"LoginFailed", "b"}, {"LoginFailed", "a"}, {"LoginOk", "b"},
      {"LoginFailed", "a"}, {"LoginFailed", "a"}, {"LoginOk", "a"},     {"LoginFailed", "b"}};
  auto run = [&](bool restart_each) {
    Stream s(set.get());
    std::vector<WindowUpdate> stored;
    std::vector<std::string> matches;
    for (size_t i = 0; i < events.size(); ++i) {
      for (const CorrelationMatch& m : s.Send(events[i].first, events[i].second, static_cast<int64_t>(i))) {
        matches.push_back(m.rule->metadata.id + m.group_json + m.entries.back().event.event_id);
      }
      if (restart_each) s.Restart(&stored);
    }
    return matches;
  };
  const std::vector<std::string> uninterrupted = run(false);
  EXPECT_EQ(uninterrupted.size(), 3u);  // seq for b, brute for a, seq for a
  EXPECT_EQ(run(true), uninterrupted);
  CorrelationState state(set.get());
  EXPECT_FALSE(state.RestoreWindow("no-such-correlation", "{}", {}));
}

}  // namespace
}  // namespace orgtrail::detections
