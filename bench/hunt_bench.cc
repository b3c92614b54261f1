// hunt_bench: a retro-hunt with the 57 SigmaHQ CloudTrail rules against the raw speed of iterating
// the same stored records without rules (issue 18's target: hunt >= 0.5x raw). Not a Google
// Benchmark: a figure program printing one JSON object.
//
//   hunt_bench [--events N] [--rounds R] [--dir D]
// Fills a RocksDB event store in D (default: a fresh folder under /tmp, removed at exit) with N
// generator records (default 200,000, ~1.3 KB each, committed like ingest: EventExtractor + group
// commits of 1,000), then alternates R rounds (default 3) of
//   raw:   the org-wide time index, newest first, and each stored record read (GetEventByKey);
//   parse: raw + the record parsed (simdjson, the engine's RecordParser);
//   hunt:  RetroHunt::Run with the rules (raw + parse + matching through the rule index + findings);
// and prints the median events/s of each and hunt/raw, hunt/parse.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "collector/findings/retro_hunt.h"
#include "collector/store/store.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/generator.h"

namespace orgtrail {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Fail(const std::string& why) {
  std::fprintf(stderr, "hunt_bench: %s\n", why.c_str());
  return 1;
}

v1::HuntRequest SigmaHqRules() {
  v1::HuntRequest request;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(ORGTRAIL_SHARED_DATA_DIR) +
                                                           "/sigma-cloudtrail/rules")) {
    if (e.path().extension() == ".yml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    v1::HuntRule* rule = request.add_rules();
    rule->set_file(f.string());
    rule->set_yaml(text.str());
  }
  return request;
}

Status Fill(collector::EventStore* store, int events) {
  GeneratorOptions options;
  options.seed = 7;
  EventGenerator generator(options);
  EventExtractor extractor;
  uint64_t sequence = 0;
  for (int done = 0; done < events;) {
    collector::IngestBatch batch;
    batch.agent_id = "spiffe://example.org/account/111122223333/region/us-east-1/agent/bench";
    batch.account_id = "111122223333";
    batch.region = "us-east-1";
    batch.sequence = ++sequence;
    for (int i = 0; i < 1000 && done < events; ++i, ++done) {
      collector::IngestEvent e;
      ORGTRAIL_RETURN_IF_ERROR(extractor.Extract(generator.NextJson(), &e.event));
      e.partition_region = "us-east-1";
      e.leaf_index = static_cast<uint32_t>(i);
      batch.events.push_back(std::move(e));
    }
    auto committed = store->CommitGroup({&batch});
    if (!committed.ok()) return committed.status();
  }
  if (!store->WaitForIndex(std::chrono::hours(1))) return absl::DeadlineExceededError("the indexer did not catch up");
  return Status();
}

}  // namespace
}  // namespace orgtrail

int main(int argc, char** argv) {
  using namespace orgtrail;
  int events = 200000, rounds = 3;
  std::string dir;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: hunt_bench [--events N] [--rounds R] [--dir D]\n"
                  "a retro-hunt with the 57 SigmaHQ CloudTrail rules against iterating the same stored records\n");
      return 0;
    }
    if (i + 1 >= argc) return Fail(flag + ": needs a value");
    if (flag == "--events") events = std::atoi(argv[i + 1]);
    else if (flag == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (flag == "--dir") dir = argv[i + 1];
    else return Fail("unknown flag " + flag + " (--events N --rounds R --dir D)");
  }
  if (events < 1 || rounds < 1) return Fail("--events and --rounds must be >= 1");
  const bool own_dir = dir.empty();
  if (own_dir) dir = std::filesystem::temp_directory_path() / ("hunt-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  collector::StoreOptions options;
  options.org = "example.org";
  auto store = collector::EventStore::Open(dir + "/db", options);
  if (!store.ok()) return Fail(store.status().ToString());
  if (Status s = Fill(store->get(), events); !s.ok()) return Fail(s.ToString());
  const v1::HuntRequest request = SigmaHqRules();
  auto hunt = collector::RetroHunt::Compile(request);
  if (!hunt.ok()) return Fail(hunt.status().ToString());

  std::vector<double> raw_eps, parse_eps, hunt_eps;
  uint64_t findings = 0, bytes = 0;
  for (int round = 0; round < rounds; ++round) {
    for (int pass = 0; pass < 2; ++pass) {
      auto start = Clock::now();
      uint64_t n = 0;
      detections::RecordParser parser;
      auto it = (*store)->NewIndexIterator(collector::IndexKind::kAll, "", 0, INT64_MAX);
      for (; it->Valid(); it->Next()) {
        auto stored = (*store)->GetEventByKey(it->entry().event_key);
        if (!stored.ok() || !stored->has_value()) return Fail("a stored record could not be read");
        bytes += (*stored)->raw_json.size();
        if (pass == 1 && !parser.Parse((*stored)->raw_json).ok()) return Fail("a stored record does not parse");
        ++n;
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      (pass == 0 ? raw_eps : parse_eps).push_back(n / seconds);
    }
    auto start = Clock::now();
    uint64_t scanned = 0;
    findings = 0;
    Status ran = (*hunt)->Run(**store, [&](v1::HuntResponse&& r) {
      findings += r.findings_size();
      scanned = r.progress().events_scanned();
      return true;
    });
    if (!ran.ok()) return Fail(ran.ToString());
    hunt_eps.push_back(scanned / std::chrono::duration<double>(Clock::now() - start).count());
  }
  const double raw = Median(raw_eps), parse = Median(parse_eps), hunted = Median(hunt_eps);
  std::printf("{\"events\":%d,\"rules\":%zu,\"rounds\":%d,\"raw_events_per_s\":%.0f,\"parse_events_per_s\":%.0f,"
              "\"hunt_events_per_s\":%.0f,\"hunt_over_raw\":%.3f,\"hunt_over_parse\":%.3f,\"findings\":%llu,"
              "\"mean_event_bytes\":%.0f}\n",
              events, (*hunt)->rules(), rounds, raw, parse, hunted, hunted / raw, hunted / parse,
              static_cast<unsigned long long>(findings), static_cast<double>(bytes) / (2.0 * rounds * events));
  store->reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
