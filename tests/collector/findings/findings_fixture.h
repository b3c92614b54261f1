// The fixture of the findings tests: a real RocksDB EventStore, Sigma rules loaded from a rule
// folder, stored batches of synthetic events, a FindingsEngine over them, and the findings
// listed back. Test-only; not thread-safe.
#ifndef ORGTRAIL_TESTS_COLLECTOR_FINDINGS_FINDINGS_FIXTURE_H_
#define ORGTRAIL_TESTS_COLLECTOR_FINDINGS_FINDINGS_FIXTURE_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/findings/findings_engine.h"
#include "collector/findings/findings_log.h"
#include "orgtrail/common/event_extractor.h"
#include "testutil/ingest_client.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {

class FindingsFixture : public ::testing::Test {
 protected:
  // Writes the rule files (name -> YAML), opens the store and loads the rules, which must all load.
  void SetUpWithRules(const std::map<std::string, std::string>& files) {
    std::filesystem::create_directories(dir_.Join("rules"));
    for (const auto& [name, text] : files) std::ofstream(dir_.Join("rules/" + name)) << text;
    StoreOptions options;
    options.org = "example.org";
    auto store = EventStore::Open(dir_.Join("db"), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    LoadRules();
  }
  // (Re)loads the rule folder, as a collector restarted after an edit of the rules does.
  void LoadRules() {
    rule_files_.clear();
    detections::LoadReport report;
    auto rules = detections::LoadRuleSet({dir_.Join("rules")}, detections::LoadOptions(), &report);
    ASSERT_TRUE(rules.ok());
    ASSERT_TRUE(report.refused.empty()) << report.refused[0].file << ": " << report.refused[0].reason;
    rules_ = std::move(*rules);
    for (const detections::LoadedRule& r : report.loaded) rule_files_[r.id] = r.file;
    for (const detections::LoadedRule& r : report.correlations) rule_files_[r.id] = r.file;
  }
  // Stores one batch of account 111111111111 / us-east-1; event ids e-1, e-2, ... in order.
  void StoreEvents(std::vector<testutil::SyntheticEvent> specs) {
    IngestBatch b;
    b.agent_id = "spiffe://example.org/account/111111111111/region/us-east-1/agent/a1";
    b.account_id = "111111111111";
    b.region = "us-east-1";
    b.sequence = ++sequence_;
    EventExtractor extractor;
    for (testutil::SyntheticEvent& spec : specs) {
      spec.event_id = "e-" + std::to_string(++events_);
      IngestEvent e;
      ASSERT_TRUE(extractor.Extract(testutil::SyntheticEventJson(spec), &e.event).ok());
      e.partition_region = "us-east-1";
      e.leaf_index = static_cast<uint32_t>(b.events.size());
      b.events.push_back(std::move(e));
    }
    ASSERT_TRUE(store_->CommitGroup({&b}).ok());
  }
  std::unique_ptr<FindingsEngine> StartEngine() {
    auto engine = std::make_unique<FindingsEngine>(store_.get(), rules_.get(), rule_files_, &logger_, &metrics_);
    EXPECT_TRUE(engine->Start().ok());
    return engine;
  }
  void WaitCaughtUp(FindingsEngine* engine) {
    ASSERT_TRUE(testutil::WaitFor([&] { return engine->cursor() == store_->last_commit_index(); },
                                  std::chrono::seconds(30)))
        << engine->cursor() << " of " << store_->last_commit_index();
  }
  std::vector<v1::Finding> All(const FindingsFilter& filter = {}) {
    uint64_t next = 0;
    auto findings = FindingsLog(store_.get()).List(0, 100000, filter, &next);
    EXPECT_TRUE(findings.ok()) << findings.status();
    return findings.ok() ? *findings : std::vector<v1::Finding>{};
  }

  testutil::TempDir dir_;
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<detections::RuleSet> rules_;
  std::map<std::string, std::string> rule_files_;
  uint64_t sequence_ = 0;
  int events_ = 0;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_TESTS_COLLECTOR_FINDINGS_FINDINGS_FIXTURE_H_
