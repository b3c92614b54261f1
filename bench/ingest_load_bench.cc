// ingest_load_bench: the load client of bench/run.sh (not a Google Benchmark).
// Every mode prints exactly one JSON object on stdout (figures only; it never
// decides pass/fail on time). Errors go to stderr with exit status 1.
//
//   raw      --dir D --per-batch N --events E [--threads T]
//            The limit: T threads (default 1) writing concurrently into one DB,
//            each its own rocksdb::WriteBatches of N generator events (key =
//            eventID, value = raw JSON, the records the ingest mode sends) per
//            Write, sync = true, default RocksDB options (its own group
//            commit), on the disk that holds D; E events in total.
//            -> events_per_s over all threads, mean_event_bytes.
//   ingest   --target H:P --pki DIR --trust-domain ORG --streams S
//            --per-batch N --events E [--source gen|invictus --invictus DIR]
//            S concurrent mTLS Ingest streams to a running collector, one agent
//            identity each (<pki>/load-<i>.crt/.key, agent name load-<i>; the
//            account is 111111111111 for gen, 123837392027 for invictus, region
//            us-east-1). All batches are built and sealed (ECDSA P-256) before
//            the clock starts; a window of --window unacked batches per stream.
//            invictus: the 2,900 real records replayed with a per-copy eventID
//            (last 8 hex digits replaced) so each copy is stored, not deduped.
//            Sharded collectors (bench/shards.sh): --target A,B and --accounts
//            X,Y: stream i goes to target i % |targets| as account i % |accounts|
//            with identity <pki>/load-<account>-<i>.crt (gen only); one clock
//            over all streams.
//            -> events_per_s (acked = durable events / wall time).
//   latency  --target --pki --trust-domain --rate R --seconds T [--name N]
//            One stream at a fixed open-loop rate; a batch every --tick-ms
//            (default 10) carrying the events scheduled in that tick (overdue
//            ones after a wait for acks in batches of at most --max-batch,
//            default 1000, each keeping its scheduled time), sealed at
//            send time. capture = an event's scheduled time; durable = the
//            arrival of the ack covering its batch; visible = the first
//            LookupEvents(EventName=<probe>) poll (auditor identity
//            <pki>/auditor.crt, eventTime from 2 s before the oldest probe
//            not yet seen, up to 1000 results, so every unseen probe is on
//            the page) returning it. Every k-th event is a probe (about 30 probes/s);
//            every probe must be seen: one not visible within 15 s, or an
//            event never acknowledged, makes the run a failure ("ok":false,
//            "probes_missing" / "acks_missing" > 0, exit status 1 after the
//            JSON), never a dropped sample. -> p50/p99/p999 ms of both,
//            achieved rate (events sent / sending time).
//   files    --out DIR --events E --account A [--per-file 1000] [--seed S]
//            Writes generator records as CloudTrail delivery files
//            ({"Records":[...]}, gzip-free) for an agent's file source;
//            --format jsonl: one file, events.jsonl, one record per line.
//   lookup   --target --pki --iterations K
//            LookupEvents over gRPC by each attribute (values taken from the
//            newest stored events) and by a 1-hour time range; p50/p99 ms.
//
// Layout: main and the throughput modes (raw, ingest) are here; latency, files
// and lookup are in ingest_load_<mode>.cc (ingest_load_modes.h), the helpers
// they share in ingest_load_common.h, ingest_load_records.h and
// ingest_load_stream.h.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "ingest_load_common.h"
#include "ingest_load_modes.h"
#include "ingest_load_records.h"
#include "ingest_load_stream.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/v1/ingest.grpc.pb.h"

namespace orgtrail::ingest_load {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- raw
// T writer threads (--threads, default 1) write concurrently into one DB,
// each its own pre-built WriteBatches of --per-batch events; --events is the
// total over all threads (rounded down to whole batches per thread). Every
// Write is sync = true; concurrent writers meet in RocksDB's own write group
// (one leader writes and syncs the WAL for the group). The clock runs from
// the release of all threads to the last Write's return.
int RunRaw(const Flags& f) {
  const std::string dir = f.Get("dir");
  const int per_batch = static_cast<int>(f.Int("per-batch", 100));
  const int threads = static_cast<int>(f.Int("threads", 1));
  const long long events = f.Int("events", 20000);
  if (dir.empty() || per_batch < 1 || threads < 1 || threads > 256 || events < static_cast<long long>(per_batch) * threads) {
    return Fail("raw: --dir, --per-batch >= 1, 1 <= --threads <= 256, --events >= per-batch x threads");
  }
  fs::remove_all(dir);
  fs::create_directories(dir);
  GeneratorOptions g;
  g.account_id = "111111111111";
  EventGenerator gen(g);
  const long long per_thread = events / threads / per_batch;
  std::vector<std::vector<rocksdb::WriteBatch>> batches(threads);
  uint64_t bytes = 0;
  for (auto& mine : batches) {
    mine.resize(per_thread);
    for (auto& wb : mine) {
      for (int i = 0; i < per_batch; ++i) {
        GeneratedRecord r = gen.Next();
        bytes += r.json.size();
        wb.Put(r.event_id, r.json);
      }
    }
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return Fail("raw: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      ++ready;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (auto& wb : batches[t]) {
        if (!db->Write(wo, &wb).ok()) return void(++failures);
      }
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  auto t0 = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& w : writers) w.join();
  double secs = Seconds(t0, Clock::now());
  db.reset();
  fs::remove_all(dir);
  if (failures > 0) return Fail("raw: " + std::to_string(failures.load()) + " writer(s) failed");
  const double n = static_cast<double>(threads) * per_thread * per_batch;
  std::printf("{\"mode\":\"raw\",\"threads\":%d,\"per_batch\":%d,\"events\":%.0f,\"seconds\":%.3f,"
              "\"events_per_s\":%.1f,\"mean_event_bytes\":%.1f}\n",
              threads, per_batch, n, secs, n / secs, static_cast<double>(bytes) / n);
  return 0;
}

// ---------------------------------------------------------------- ingest
// "a,b,c" -> {"a", "b", "c"}; "" -> {}.
std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

int RunIngest(const Flags& f) {
  const std::string target = f.Get("target"), pki = f.Get("pki"), org = f.Get("trust-domain");
  const std::string source = f.Get("source", "gen");
  const int streams = static_cast<int>(f.Int("streams", 4));
  const int per_batch = static_cast<int>(f.Int("per-batch", 100));
  const long long events = f.Int("events", 20000);  // per stream
  const int window = static_cast<int>(f.Int("window", 16));
  if (target.empty() || pki.empty() || org.empty() || streams < 1 || per_batch < 1 || events < per_batch) {
    return Fail("ingest: --target --pki --trust-domain, --streams >= 1, --events >= --per-batch");
  }
  std::vector<std::string> invictus;
  if (source == "invictus") {
    const std::string dir = f.Get("invictus");
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) SplitRecords(ReadAll(file), &invictus);
    if (invictus.empty()) return Fail("ingest: no invictus records under " + dir);
  } else if (source != "gen") {
    return Fail("ingest: --source gen|invictus");
  }
  const std::vector<std::string> targets = SplitList(target);
  std::vector<std::string> accounts = SplitList(f.Get("accounts"));
  const bool per_account_names = !accounts.empty();
  if (per_account_names && source != "gen") return Fail("ingest: --accounts needs --source gen");
  if (accounts.empty()) accounts.push_back(source == "gen" ? "111111111111" : "123837392027");
  const std::string stem_prefix = source == "gen" ? "load-" : "invictus-";
  const std::string run = f.Get("run", "r");
  std::vector<Stream> all(streams);
  std::vector<std::vector<v1::IngestRequest>> prepared(streams);
  uint64_t bytes = 0;
  size_t replay = 0;
  for (int i = 0; i < streams; ++i) {
    const std::string& account = accounts[i % accounts.size()];
    const std::string name = stem_prefix + (per_account_names ? account + "-" : "") + std::to_string(i);
    if (int rc = Open(targets[i % targets.size()], PkiFiles(pki, name), AgentId(org, account, name), &all[i]); rc) {
      return rc;
    }
    GeneratorOptions g;
    g.seed = std::hash<std::string>()(run) + i;
    g.account_id = account;
    EventGenerator gen(g);
    for (long long b = 0; b < events / per_batch; ++b) {
      std::vector<std::string> batch;
      for (int k = 0; k < per_batch; ++k) {
        std::string json;
        if (source == "gen") {
          json = gen.NextJson();
        } else {
          json = invictus[replay % invictus.size()];
          std::string id = StringMember(json, "eventID");
          char suffix[16];
          std::snprintf(suffix, sizeof suffix, "%08zx", (replay / invictus.size()) ^ std::hash<std::string>()(run));
          if (id.size() >= 8) id.replace(id.size() - 8, 8, std::string(suffix).substr(0, 8));
          ReplaceStringMember(&json, "eventID", id);
          ++replay;
        }
        bytes += json.size();
        batch.push_back(std::move(json));
      }
      v1::IngestRequest request;
      if (int rc = Seal(&all[i], batch, &request); rc) return rc;
      prepared[i].push_back(std::move(request));
    }
  }
  std::atomic<int> failures{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < streams; ++i) {
    threads.emplace_back([&, i] {
      Stream& s = all[i];
      const auto& batches = prepared[i];
      uint64_t first = batches.front().batch().sequence();
      uint64_t last = batches.back().batch().sequence();
      uint64_t acked = first - 1;
      v1::IngestResponse response;
      auto read_ack = [&]() {
        if (!s.rw->Read(&response) || response.has_error()) return false;
        if (response.has_ack()) acked = std::max<uint64_t>(acked, response.ack().sequence());
        return true;
      };
      for (const auto& request : batches) {
        while (request.batch().sequence() - acked > static_cast<uint64_t>(window)) {
          if (!read_ack()) return void(++failures);
        }
        if (!s.rw->Write(request)) return void(++failures);
      }
      while (acked < last) {
        if (!read_ack()) return void(++failures);
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = Seconds(t0, Clock::now());
  for (auto& s : all) Close(&s);
  if (failures > 0) return Fail("ingest: " + std::to_string(failures.load()) + " stream(s) failed");
  const double n = static_cast<double>(streams) * (events / per_batch) * per_batch;
  std::printf("{\"mode\":\"ingest\",\"source\":\"%s\",\"streams\":%d,\"targets\":%zu,\"per_batch\":%d,"
              "\"events\":%.0f,\"seconds\":%.3f,\"events_per_s\":%.1f,\"mean_event_bytes\":%.1f}\n",
              source.c_str(), streams, targets.size(), per_batch, n, secs, n / secs, static_cast<double>(bytes) / n);
  return 0;
}

}  // namespace
}  // namespace orgtrail::ingest_load

int main(int argc, char** argv) {
  orgtrail::ingest_load::Flags flags;
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::printf("usage: ingest_load_bench raw|ingest|latency|lookup --flag value ... (see the header comment)\n");
    return argc < 2 ? 2 : 0;
  }
  flags.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) return orgtrail::ingest_load::Fail("bad flag " + k);
    flags.values[k.substr(2)] = argv[i + 1];
  }
  if (flags.mode == "raw") return orgtrail::ingest_load::RunRaw(flags);
  if (flags.mode == "ingest") return orgtrail::ingest_load::RunIngest(flags);
  if (flags.mode == "latency") return orgtrail::ingest_load::RunLatency(flags);
  if (flags.mode == "files") return orgtrail::ingest_load::RunFiles(flags);
  if (flags.mode == "lookup") return orgtrail::ingest_load::RunLookup(flags);
  return orgtrail::ingest_load::Fail("unknown mode " + flags.mode);
}
