// lookup_bench: LookupEvents latency (p50/p99/max) by each of CloudTrail's
// eight attributes and by time range, on a store of --events synthetic
// events (default 1,000,000) built with the store's batch-commit API
// (collector/query_synthetic_load.h). In-process: measures the query engine
// and RocksDB, not gRPC.
//
//   lookup_bench [--events N] [--db DIR] [--iterations K] [--max-results M]
// --db reuses (or creates) a store at DIR so repeated runs skip the build;
// without it a temporary directory is used and removed.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "collector/query/query_engine.h"
#include "collector/query/query_synthetic_load.h"
#include "collector/store/store.h"
#include "collector/store/store_metrics.h"

namespace orgtrail::collector {
namespace {

struct Flags {
  uint64_t events = 1'000'000;
  std::string db;
  int iterations = 300;
  int max_results = 50;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (arg == "--help") {
      std::printf("usage: lookup_bench [--events N] [--db DIR] [--iterations K] [--max-results M]\n");
      std::exit(0);
    } else if (arg == "--events" && (v = value())) {
      flags->events = std::strtoull(v, nullptr, 10);
    } else if (arg == "--db" && (v = value())) {
      flags->db = v;
    } else if (arg == "--iterations" && (v = value())) {
      flags->iterations = std::atoi(v);
    } else if (arg == "--max-results" && (v = value())) {
      flags->max_results = std::atoi(v);
    } else {
      std::fprintf(stderr, "lookup_bench: unknown or incomplete flag '%s' (see --help)\n", arg.c_str());
      return false;
    }
  }
  if (flags->events < 1000 || flags->iterations < 1 || flags->max_results < 1 ||
      flags->max_results > 1000) {
    std::fprintf(stderr, "lookup_bench: --events >= 1000, --iterations >= 1, --max-results 1..1000\n");
    return false;
  }
  return true;
}

struct Query {
  std::string name;
  std::function<v1::LookupEventsRequest(std::mt19937_64&)> make;
};

v1::LookupEventsRequest ByAttribute(const std::string& key, const std::string& value, int max) {
  v1::LookupEventsRequest request;
  auto* a = request.add_lookup_attributes();
  a->set_attribute_key(key);
  a->set_attribute_value(value);
  request.set_max_results(max);
  return request;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t index = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[index];
}

// The open SST files' block indexes and Bloom filters, which stay in memory and grow with the store.
void PrintTableReaderMemory(EventStore* store) {
  std::printf("\ntable readers (block indexes, Bloom filters) in memory:");
  uint64_t total = 0;
  for (int i = 0; i < kColumnFamilyCount; ++i) {
    const auto cf = static_cast<ColumnFamily>(i);
    const uint64_t bytes = TableReaderBytes(store, cf);
    total += bytes;
    if (bytes >= (1 << 20)) std::printf(" %s %.1f MiB,", std::string(ColumnFamilyName(cf)).c_str(), bytes / 1048576.0);
  }
  std::printf(" total %.1f MiB\n", total / 1048576.0);
}

int Run(const Flags& flags) {
  namespace fs = std::filesystem;
  std::string dir = flags.db;
  const bool temporary = dir.empty();
  if (temporary) {
    dir = (fs::temp_directory_path() / ("orgtrail-lookup-bench-" + std::to_string(getpid()))).string();
  }
  const bool exists = fs::exists(fs::path(dir) / "CURRENT");
  StoreOptions options;
  options.org = "example.org";
  auto store = EventStore::Open(dir, options);
  if (!store.ok()) {
    std::fprintf(stderr, "lookup_bench: cannot open %s: %s\n", dir.c_str(), store.status().ToString().c_str());
    return 1;
  }
  SyntheticLoadOptions load;
  load.events = flags.events;
  if (!exists || (*store)->events_stored() == 0) {
    const auto started = std::chrono::steady_clock::now();
    const Status written = WriteSyntheticEvents(store->get(), load);
    if (!written.ok()) {
      std::fprintf(stderr, "lookup_bench: %s\n", written.ToString().c_str());
      return 1;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("built store: %llu events in %.1f s (%.0f events/s)\n",
                static_cast<unsigned long long>(load.events), s, load.events / s);
  } else {
    load.events = (*store)->events_stored();
    std::printf("reusing store %s with %llu events\n", dir.c_str(),
                static_cast<unsigned long long>(load.events));
  }
  auto engine = QueryEngine::Create(store->get());
  if (!engine.ok()) {
    std::fprintf(stderr, "lookup_bench: %s\n", engine.status().ToString().c_str());
    return 1;
  }

  const int m = flags.max_results;
  const uint64_t n = load.events;
  const std::vector<Query> queries = {
      {"EventId", [&](std::mt19937_64& r) { return ByAttribute("EventId", SyntheticEventId(r() % n), m); }},
      {"EventName (1/50)", [&](std::mt19937_64& r) { return ByAttribute("EventName", "Name" + std::to_string(r() % 50), m); }},
      {"EventName=Rare (1/100000)", [&](std::mt19937_64&) { return ByAttribute("EventName", "Rare", m); }},
      {"ReadOnly (1/3, 2/3)", [&](std::mt19937_64& r) { return ByAttribute("ReadOnly", r() % 2 ? "true" : "false", m); }},
      {"Username (1/1000)", [&](std::mt19937_64& r) { return ByAttribute("Username", "user-" + std::to_string(r() % 1000), m); }},
      {"ResourceType (1/10)", [&](std::mt19937_64&) { return ByAttribute("ResourceType", "AWS::S3::Bucket", m); }},
      {"ResourceName (1/10000)", [&](std::mt19937_64& r) { return ByAttribute("ResourceName", "arn:aws:s3:::bucket-" + std::to_string((r() % 1000) * 10), m); }},
      {"EventSource (1/20)", [&](std::mt19937_64& r) { return ByAttribute("EventSource", "svc" + std::to_string(r() % 20) + ".amazonaws.com", m); }},
      {"AccessKeyId (1/5000)", [&](std::mt19937_64& r) { return ByAttribute("AccessKeyId", SyntheticAccessKeyId(r() % 5000), m); }},
      {"time range 1 min", [&](std::mt19937_64& r) {
         v1::LookupEventsRequest q;
         const int64_t end = load.start_time_us + static_cast<int64_t>(r() % n) * load.interval_us;
         q.set_start_time_us(end - 60'000'000);
         q.set_end_time_us(end);
         q.set_max_results(m);
         return q;
       }},
      {"time range 1 hour", [&](std::mt19937_64& r) {
         v1::LookupEventsRequest q;
         const int64_t end = load.start_time_us + static_cast<int64_t>(r() % n) * load.interval_us;
         q.set_start_time_us(end - 3'600'000'000LL);
         q.set_end_time_us(end);
         q.set_max_results(m);
         return q;
       }},
      {"no filter (newest)", [&](std::mt19937_64&) { v1::LookupEventsRequest q; q.set_max_results(m); return q; }},
      {"account+region (1 partition)", [&](std::mt19937_64& r) {
         v1::LookupEventsRequest q;
         q.add_account_ids(kSyntheticAccounts[r() % load.accounts]);
         q.add_regions(kSyntheticRegions[r() % load.regions]);
         q.set_max_results(m);
         return q;
       }},
      {"Username AND EventName", [&](std::mt19937_64& r) {
         const uint64_t u = r() % 1000;
         auto q = ByAttribute("Username", "user-" + std::to_string(u), m);
         auto* a = q.add_lookup_attributes();
         a->set_attribute_key("EventName");
         a->set_attribute_value("Name" + std::to_string(u % 50));
         return q;
       }},
  };

  std::printf("\n%-30s %8s %10s %10s %10s %12s\n", "query (max_results=" , "results", "p50 ms", "p99 ms",
              "max ms", "steps/query");
  std::printf("%-30s\n", (std::to_string(m) + ", " + std::to_string(flags.iterations) + " runs each)").c_str());
  std::mt19937_64 rng(42);
  for (const auto& query : queries) {
    std::vector<double> latencies;
    uint64_t results = 0, steps = 0;
    for (int i = 0; i < flags.iterations; ++i) {
      const auto request = query.make(rng);
      LookupStats stats;
      const auto started = std::chrono::steady_clock::now();
      auto response = (*engine)->LookupEvents(request, &stats);
      latencies.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
      if (!response.ok()) {
        std::fprintf(stderr, "lookup_bench: %s: %s\n", query.name.c_str(), response.status().ToString().c_str());
        return 1;
      }
      results += response->events_size();
      steps += stats.cursor.steps();
    }
    std::printf("%-30s %8.1f %10.3f %10.3f %10.3f %12.1f\n", query.name.c_str(),
                static_cast<double>(results) / flags.iterations, Percentile(latencies, 0.5),
                Percentile(latencies, 0.99), Percentile(latencies, 1.0),
                static_cast<double>(steps) / flags.iterations);
  }
  PrintTableReaderMemory(store->get());
  engine->reset();
  store->reset();
  if (temporary) fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace orgtrail::collector

int main(int argc, char** argv) {
  orgtrail::collector::Flags flags;
  if (!orgtrail::collector::ParseFlags(argc, argv, &flags)) return 2;
  return orgtrail::collector::Run(flags);
}
