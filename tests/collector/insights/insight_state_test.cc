// The detector's durable state (insight_state.cc): the entries TakeChanges returns, applied one
// round after another to a key-value map as the engine applies them to the store, rebuild a
// detector that continues exactly as the one that never stopped, at every round; a round writes
// only what it changed (one API's entries, not every API's baseline); damaged entries are refused
// as DATA_LOSS with the entry's name.
#include "collector/insights/insight_detector.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace orgtrail::collector {
namespace {

constexpr int64_t kMinute = 60LL * 1000 * 1000;
constexpr int64_t kT0 = 1767225600LL * 1000 * 1000;  // 2026-01-01T00:00:00Z

InsightOptions TestOptions() {
  InsightOptions o;
  o.baseline_minutes = 30;
  o.min_history_minutes = 30;
  return o;
}

ApiCall Call(const std::string& name, int64_t minute, int64_t second, const std::string& error = "") {
  ApiCall c;
  c.account_id = "111122223333";
  c.region = "eu-west-1";
  c.event_source = "s3.amazonaws.com";
  c.event_name = name;
  c.event_time_us = kT0 + minute * kMinute + second * 1000000;
  c.error_code = error;
  c.user_arn = "arn:aws:iam::111122223333:user/u" + std::to_string(second % 3);
  c.user_agent = "aws-cli/2.15.0";
  return c;
}

// Minute m's calls: two APIs, a burst of DeleteBucket (with errors) in minutes 50-52.
std::vector<ApiCall> MinuteCalls(int64_t m) {
  std::vector<ApiCall> out;
  const int deletes = (m >= 50 && m <= 52) ? 40 : 2;
  for (int i = 0; i < deletes; ++i) out.push_back(Call("DeleteBucket", m, i % 60, i % 4 == 0 ? "AccessDenied" : ""));
  for (int i = 0; i < 3; ++i) out.push_back(Call("PutBucketPolicy", m, 10 + i));
  return out;
}

using Store = std::map<std::string, std::string>;

void Apply(std::vector<InsightDetector::StateEntry> changes, Store* store) {
  for (auto& [name, value] : changes) {
    if (value.has_value()) {
      (*store)[name] = std::move(*value);
    } else {
      store->erase(name);
    }
  }
}

std::vector<std::pair<std::string, std::string>> Entries(const Store& store) {
  return {store.begin(), store.end()};
}

std::vector<std::string> Records(const std::vector<InsightEvent>& events) {
  std::vector<std::string> out;
  for (const InsightEvent& e : events) out.push_back(InsightRecordJson(e));
  return out;
}

TEST(InsightStateTest, ADetectorRestoredAfterAnyRoundContinuesAsTheOneThatNeverStopped) {
  // The reference: never stopped.
  InsightDetector reference(TestOptions());
  std::vector<std::vector<InsightEvent>> reference_rounds;
  for (int64_t m = 0; m < 80; ++m) {
    for (const ApiCall& c : MinuteCalls(m)) reference.Observe(c);
    std::vector<InsightEvent> out;
    reference.AdvanceTo(reference.newest_time_us(), &out);
    reference_rounds.push_back(out);
  }
  size_t insights = 0;
  for (const auto& round : reference_rounds) insights += round.size();
  ASSERT_EQ(insights, 4u) << "call-rate and error-rate Start and End";

  // Stopped after every round: each minute's detector is rebuilt from the stored entries alone.
  Store store;
  for (int64_t m = 0; m < 80; ++m) {
    InsightDetector restored(TestOptions());
    ASSERT_TRUE(restored.RestoreEntries(Entries(store)).ok()) << "minute " << m;
    for (const ApiCall& c : MinuteCalls(m)) restored.Observe(c);
    std::vector<InsightEvent> out;
    restored.AdvanceTo(restored.newest_time_us(), &out);
    EXPECT_EQ(Records(out), Records(reference_rounds[m])) << "minute " << m;
    Apply(restored.TakeChanges(), &store);
  }
  // What is stored is what the baseline needs, not the whole history.
  size_t minute_entries = 0;
  for (const auto& [name, value] : store) minute_entries += name.find("/m/") != std::string::npos;
  EXPECT_LE(minute_entries, 4u * 31) << "four APIs x the 30-minute baseline and the open minute";
  EXPECT_GT(minute_entries, 0u);
}

TEST(InsightStateTest, ARoundWritesOnlyTheApisItTouched) {
  InsightDetector d(TestOptions());
  Store store;
  for (int64_t m = 0; m < 40; ++m) {
    for (const ApiCall& c : MinuteCalls(m)) d.Observe(c);
    std::vector<InsightEvent> out;
    d.AdvanceTo(d.newest_time_us(), &out);
    Apply(d.TakeChanges(), &store);
  }
  EXPECT_TRUE(d.TakeChanges().empty()) << "nothing changed since";
  // Calls of one API inside the still-open minute 40: its minute entry, its header and newest.
  d.Observe(Call("PutBucketPolicy", 40, 30));
  std::vector<InsightDetector::StateEntry> changes = d.TakeChanges();
  std::set<std::string> apis;
  for (const auto& [name, value] : changes) {
    ASSERT_TRUE(value.has_value()) << name;
    if (name != "newest") apis.insert(name.substr(0, 34));
  }
  EXPECT_EQ(apis.size(), 1u);
  EXPECT_LE(changes.size(), 3u);
}

TEST(InsightStateTest, DamagedEntriesAreRefusedByName) {
  InsightDetector d(TestOptions());
  for (int64_t m = 0; m < 5; ++m) {
    for (const ApiCall& c : MinuteCalls(m)) d.Observe(c);
  }
  std::vector<InsightEvent> out;
  d.AdvanceTo(d.newest_time_us(), &out);
  Store store;
  Apply(d.TakeChanges(), &store);
  std::string header, minute;
  for (const auto& [name, value] : store) {
    if (name.size() == 36 && name.substr(34) == "/h") header = name;
    if (name.find("/m/") != std::string::npos) minute = name;
  }
  ASSERT_FALSE(header.empty());
  ASSERT_FALSE(minute.empty());
  auto refused = [&](Store damaged, const std::string& expected) {
    InsightDetector r(TestOptions());
    Status s = r.RestoreEntries(Entries(damaged));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << expected;
    EXPECT_NE(s.message().find(expected), std::string_view::npos) << s;
  };
  Store bad = store;
  bad[header] = "\xff\xff\xff";
  refused(bad, header);
  bad = store;
  bad[minute] = "\xff\xff\xff";
  refused(bad, minute);
  bad = store;
  bad["newest"] = "short";
  refused(bad, "newest");
  bad = store;
  bad.erase(header);  // its minutes remain: they name no stored API
  refused(bad, "names no stored API");
  bad = store;
  bad["k/" + std::string(32, '0') + "/h"] = store[header];  // a header under another API's name
  refused(bad, "does not name its key");
  bad = store;
  bad["k/zz"] = "x";
  refused(bad, "is not an Insights state name");
  InsightDetector fine(TestOptions());
  EXPECT_TRUE(fine.RestoreEntries(Entries(store)).ok());
  EXPECT_EQ(fine.keys(), d.keys());
}

}  // namespace
}  // namespace orgtrail::collector
