// Sigma engine throughput over the shared real records (invictus, stratus, panther: 3,671
// CloudTrail records) with the 57 SigmaHQ CloudTrail rules: parse only (the floor), match through
// the index, match every rule (no index). items/s = records per second.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "orgtrail/detections/rule_set.h"

namespace {

using orgtrail::detections::LoadOptions;
using orgtrail::detections::LoadReport;
using orgtrail::detections::LoadRuleSet;
using orgtrail::detections::RecordParser;
using orgtrail::detections::RuleSet;

const std::string kData = ORGTRAIL_SHARED_DATA_DIR;

std::vector<std::string> LoadRecords() {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  for (const char* dir : {"/invictus-aws-dataset/CloudTrail", "/stratus-detonation-logs"}) {
    for (const auto& e : std::filesystem::directory_iterator(kData + dir)) {
      if (e.path().extension() != ".json" || e.path().filename() == "STATS.json") continue;
      simdjson::dom::element doc;
      if (parser.load(e.path().string()).get(doc) != simdjson::SUCCESS) continue;
      simdjson::dom::array records;
      if (doc.is_object()) {
        if (doc["Records"].get_array().get(records) != simdjson::SUCCESS) continue;
      } else if (doc.get_array().get(records) != simdjson::SUCCESS) {
        continue;
      }
      for (simdjson::dom::element r : records) out.push_back(simdjson::minify(r));
    }
  }
  std::ifstream jsonl(kData + "/panther-cloudtrail-tests/panther_cloudtrail_rule_tests.jsonl");
  std::string line;
  while (std::getline(jsonl, line)) {
    simdjson::dom::element doc;
    if (!line.empty() && parser.parse(line).get(doc) == simdjson::SUCCESS) out.push_back(simdjson::minify(doc["log"]));
  }
  return out;
}

struct Fixture {
  std::vector<std::string> records = LoadRecords();
  std::unique_ptr<RuleSet> rules;
  Fixture() {
    LoadReport report;
    auto set = LoadRuleSet({kData + "/sigma-cloudtrail/rules"}, LoadOptions{}, &report);
    if (set.ok()) rules = std::move(*set);
  }
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

enum Mode { kParseOnly, kIndexed, kFullScan };

void Run(benchmark::State& state, Mode mode) {
  const Fixture& f = GetFixture();
  if (!f.rules || f.records.empty()) {
    state.SkipWithError("rules or records missing");
    return;
  }
  RecordParser parser;
  size_t findings = 0, bytes = 0;
  for (auto _ : state) {
    for (const std::string& json : f.records) {
      auto record = parser.Parse(json);
      if (!record.ok()) continue;
      bytes += json.size();
      if (mode == kIndexed) findings += f.rules->Match(*record).size();
      if (mode == kFullScan) findings += f.rules->MatchWithoutIndex(*record).size();
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations() * f.records.size()));
  state.SetBytesProcessed(int64_t(bytes));
  state.counters["findings_per_pass"] = double(findings) / double(state.iterations());
}

void BM_ParseOnly(benchmark::State& state) { Run(state, kParseOnly); }
void BM_MatchIndexed(benchmark::State& state) { Run(state, kIndexed); }
void BM_MatchAllRulesNoIndex(benchmark::State& state) { Run(state, kFullScan); }
// Loading and compiling the 57 rules (YAML parse, modifiers, RE2, conditions, index).
void BM_LoadRules(benchmark::State& state) {
  for (auto _ : state) {
    LoadReport report;
    auto set = LoadRuleSet({kData + "/sigma-cloudtrail/rules"}, LoadOptions{}, &report);
    benchmark::DoNotOptimize(set);
  }
}
BENCHMARK(BM_LoadRules)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatchIndexed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatchAllRulesNoIndex)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
