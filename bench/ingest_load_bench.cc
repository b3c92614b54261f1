// ingest_load_bench: the load client of bench/run.sh (not a Google Benchmark).
// Every mode prints exactly one JSON object on stdout (figures only; it never
// decides pass/fail on time). Errors go to stderr with exit status 1.
//
//   raw      --dir D --per-batch N --events E
//            The limit: one thread, rocksdb::WriteBatch of N generator events
//            (key = eventID, value = raw JSON) per Write, sync = true, default
//            RocksDB options, on the disk that holds D. -> events_per_s.
//   ingest   --target H:P --pki DIR --trust-domain ORG --streams S
//            --per-batch N --events E [--source gen|invictus --invictus DIR]
//            S concurrent mTLS Ingest streams to a running collector, one agent
//            identity each (<pki>/load-<i>.crt/.key, agent name load-<i>; the
//            account is 111111111111 for gen, 123837392027 for invictus, region
//            us-east-1). All batches are built and sealed (ECDSA P-256) before
//            the clock starts; a window of --window unacked batches per stream.
//            invictus: the 2,900 real records replayed with a per-copy eventID
//            (last 8 hex digits replaced) so each copy is stored, not deduped.
//            -> events_per_s (acked = durable events / wall time).
//   latency  --target --pki --trust-domain --rate R --seconds T [--name N]
//            One stream at a fixed open-loop rate; a batch every --tick-ms
//            (default 10) carrying the events scheduled in that tick, sealed at
//            send time. capture = an event's scheduled time; durable = the
//            arrival of the ack covering its batch; visible = the first
//            LookupEvents(EventName=<probe>) poll (auditor identity
//            <pki>/auditor.crt, eventTime within the last 15 s, up to 1000
//            results, so every probe still in that window is on the page)
//            returning it. Every k-th event is a probe (about 30 probes/s);
//            a probe not visible within 15 s is not seen (probes seen < sent). -> p50/p99/p999 ms of both, achieved rate.
//   files    --out DIR --events E --account A [--per-file 1000] [--seed S]
//            Writes generator records as CloudTrail delivery files
//            ({"Records":[...]}, gzip-free) for an agent's file source;
//            --format jsonl: one file, events.jsonl, one record per line.
//   lookup   --target --pki --iterations K
//            LookupEvents over gRPC by each attribute (values taken from the
//            newest stored events) and by a 1-hour time range; p50/p99 ms.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/ingest.grpc.pb.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Flags {
  std::string mode;
  std::map<std::string, std::string> values;
  std::string Get(const std::string& k, const std::string& d = "") const {
    auto it = values.find(k);
    return it == values.end() ? d : it->second;
  }
  long long Int(const std::string& k, long long d) const {
    auto it = values.find(k);
    return it == values.end() ? d : std::atoll(it->second.c_str());
  }
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "ingest_load_bench: %s\n", what.c_str());
  return 1;
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Objects at depth 2 of {"Records":[{...},...]}: their exact bytes.
void SplitRecords(const std::string& text, std::vector<std::string>* out) {
  int depth = 0;
  bool in_string = false, escape = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (c == '{' && depth == 2) start = i;
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
      if (c == '}' && depth == 2) out->push_back(text.substr(start, i - start + 1));
    }
  }
}

// Replaces the value of the first "key":"..." member (same-length or not).
bool ReplaceStringMember(std::string* json, const std::string& key, const std::string& value) {
  const std::string needle = "\"" + key + "\":\"";
  size_t at = json->find(needle);
  if (at == std::string::npos) return false;
  size_t begin = at + needle.size();
  size_t end = json->find('"', begin);
  if (end == std::string::npos) return false;
  json->replace(begin, end - begin, value);
  return true;
}

std::string StringMember(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  size_t begin = at + needle.size();
  size_t end = json.find('"', begin);
  return end == std::string::npos ? "" : json.substr(begin, end - begin);
}

std::string AgentId(const std::string& org, const std::string& account, const std::string& name) {
  return "spiffe://" + org + "/account/" + account + "/region/us-east-1/agent/" + name;
}

// ---------------------------------------------------------------- raw
int RunRaw(const Flags& f) {
  const std::string dir = f.Get("dir");
  const int per_batch = static_cast<int>(f.Int("per-batch", 100));
  const long long events = f.Int("events", 20000);
  if (dir.empty() || per_batch < 1 || events < per_batch) return Fail("raw: --dir, --per-batch >= 1, --events >= per-batch");
  fs::remove_all(dir);
  fs::create_directories(dir);
  GeneratorOptions g;
  g.account_id = "111111111111";
  EventGenerator gen(g);
  std::vector<rocksdb::WriteBatch> batches(events / per_batch);
  uint64_t bytes = 0;
  for (auto& wb : batches) {
    for (int i = 0; i < per_batch; ++i) {
      GeneratedRecord r = gen.Next();
      bytes += r.json.size();
      wb.Put(r.event_id, r.json);
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
  auto t0 = Clock::now();
  for (auto& wb : batches) {
    s = db->Write(wo, &wb);
    if (!s.ok()) return Fail("raw write: " + s.ToString());
  }
  double secs = Seconds(t0, Clock::now());
  db.reset();
  fs::remove_all(dir);
  const double n = static_cast<double>(batches.size()) * per_batch;
  std::printf("{\"mode\":\"raw\",\"per_batch\":%d,\"events\":%.0f,\"seconds\":%.3f,\"events_per_s\":%.1f,"
              "\"mean_event_bytes\":%.1f}\n",
              per_batch, n, secs, n / secs, static_cast<double>(bytes) / n);
  return 0;
}

// ---------------------------------------------------------------- streams
struct Stream {
  std::unique_ptr<v1::Ingest::Stub> stub;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>> rw;
  std::unique_ptr<Signer> signer;
  std::string agent_id;
  uint64_t next_seq = 1;
  Digest prev{};
};

int Open(const std::string& target, const TlsFiles& tls, const std::string& agent_id, Stream* s) {
  auto creds = MakeChannelCredentials(tls);
  if (!creds.ok()) return Fail("credentials: " + creds.status().ToString());
  auto signer = Signer::FromPrivateKeyFile(tls.key_path);
  if (!signer.ok()) return Fail("signer: " + signer.status().ToString());
  s->signer = std::move(*signer);
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetInt("bench.unique", static_cast<int>(reinterpret_cast<uintptr_t>(s) & 0x7fffffff));  // own connection
  s->stub = v1::Ingest::NewStub(grpc::CreateCustomChannel(target, *creds, args));
  s->context = std::make_unique<grpc::ClientContext>();
  s->rw = s->stub->Stream(s->context.get());
  s->agent_id = agent_id;
  v1::IngestRequest hello;
  hello.mutable_hello()->set_agent_id(agent_id);
  hello.mutable_hello()->set_epoch(1);
  v1::IngestResponse response;
  if (!s->rw->Write(hello) || !s->rw->Read(&response) || !response.has_hello_ack()) {
    return Fail("hello refused for " + agent_id + ": " + s->rw->Finish().error_message());
  }
  s->next_seq = response.hello_ack().high_water_sequence() + 1;
  const std::string& last = response.hello_ack().last_batch_hash();
  if (last.size() == s->prev.size()) std::memcpy(s->prev.data(), last.data(), last.size());
  return 0;
}

int Seal(Stream* s, const std::vector<std::string>& events, v1::IngestRequest* request) {
  v1::Batch* batch = request->mutable_batch();
  batch->set_agent_id(s->agent_id);
  batch->set_epoch(1);
  batch->set_sequence(s->next_seq++);
  batch->set_prev_batch_hash(DigestToString(s->prev));
  batch->set_created_time_us(NowMicros());
  for (const auto& e : events) batch->add_events()->set_raw_json(e);
  if (Status st = SealBatch(*s->signer, batch); !st.ok()) return Fail("seal: " + st.ToString());
  auto header = HeaderOfBatch(*batch);
  if (!header.ok()) return Fail("header: " + header.status().ToString());
  s->prev = BatchHash(*header);
  return 0;
}

void Close(Stream* s) {
  s->rw->WritesDone();
  s->context->TryCancel();
  s->rw->Finish();
}

TlsFiles PkiFiles(const std::string& pki, const std::string& stem) {
  return TlsFiles{pki + "/ca.crt", pki + "/" + stem + ".crt", pki + "/" + stem + ".key"};
}

// ---------------------------------------------------------------- ingest
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
  const std::string account = source == "gen" ? "111111111111" : "123837392027";
  const std::string stem_prefix = source == "gen" ? "load-" : "invictus-";
  const std::string run = f.Get("run", "r");
  std::vector<Stream> all(streams);
  std::vector<std::vector<v1::IngestRequest>> prepared(streams);
  uint64_t bytes = 0;
  size_t replay = 0;
  for (int i = 0; i < streams; ++i) {
    const std::string name = stem_prefix + std::to_string(i);
    if (int rc = Open(target, PkiFiles(pki, name), AgentId(org, account, name), &all[i]); rc) return rc;
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
  std::printf("{\"mode\":\"ingest\",\"source\":\"%s\",\"streams\":%d,\"per_batch\":%d,\"events\":%.0f,"
              "\"seconds\":%.3f,\"events_per_s\":%.1f,\"mean_event_bytes\":%.1f}\n",
              source.c_str(), streams, per_batch, n, secs, n / secs, static_cast<double>(bytes) / n);
  return 0;
}

// ---------------------------------------------------------------- latency
int RunLatency(const Flags& f) {
  const std::string target = f.Get("target"), pki = f.Get("pki"), org = f.Get("trust-domain");
  const double rate = static_cast<double>(f.Int("rate", 1000));
  const double seconds = static_cast<double>(f.Int("seconds", 5));
  const int tick_ms = static_cast<int>(f.Int("tick-ms", 10));
  const int window = static_cast<int>(f.Int("window", 64));
  const std::string name = f.Get("name", "latency");
  if (target.empty() || pki.empty() || org.empty() || rate < 1 || seconds < 1 || tick_ms < 1) {
    return Fail("latency: --target --pki --trust-domain --rate >= 1 --seconds >= 1");
  }
  const std::string probe_name = "OrgtrailBenchProbe" + name;
  const long long every = std::max<long long>(1, static_cast<long long>(rate / 30));
  Stream s;
  if (int rc = Open(target, PkiFiles(pki, name), AgentId(org, "111111111111", name), &s); rc) return rc;

  auto qcreds = MakeChannelCredentials(PkiFiles(pki, "auditor"));
  if (!qcreds.ok()) return Fail("auditor credentials: " + qcreds.status().ToString());
  auto query = v1::Query::NewStub(grpc::CreateChannel(target, *qcreds));

  GeneratorOptions g;
  g.seed = std::hash<std::string>()(name);
  g.account_id = "111111111111";
  g.use_wall_clock = true;
  g.mix.global_iam = 0;  // keep every event in us-east-1 of this account
  EventGenerator gen(g);

  const auto start = Clock::now();
  auto at = [&](long long i) { return start + std::chrono::nanoseconds(static_cast<long long>(i * 1e9 / rate)); };
  const long long total = static_cast<long long>(rate * seconds);

  std::mutex mu;
  std::map<uint64_t, std::pair<long long, long long>> inflight;  // seq -> [first, last) event index
  std::unordered_map<std::string, long long> probes;               // eventID -> event index
  std::vector<double> durable_ms, visible_ms;
  std::atomic<bool> sending_done{false}, reader_done{false};
  std::atomic<uint64_t> acked{0}, last_seq{0};
  std::atomic<long long> blocked_ticks{0};

  std::thread reader([&] {
    v1::IngestResponse response;
    while (s.rw->Read(&response)) {
      if (response.has_error()) break;
      if (!response.has_ack()) continue;
      const auto now = Clock::now();
      std::lock_guard<std::mutex> lock(mu);
      const uint64_t seq = response.ack().sequence();
      while (!inflight.empty() && inflight.begin()->first <= seq) {
        auto [first, last] = inflight.begin()->second;
        for (long long i = first; i < last; ++i) {
          durable_ms.push_back(std::chrono::duration<double, std::milli>(now - at(i)).count());
        }
        inflight.erase(inflight.begin());
      }
      acked = seq;
      if (sending_done && acked >= last_seq) break;
    }
    reader_done = true;
  });

  std::atomic<bool> poll_stop{false};
  long long polls = 0;
  std::thread poller([&] {
    std::unordered_map<std::string, bool> seen;
    while (!poll_stop) {
      v1::LookupEventsRequest request;
      auto* a = request.add_lookup_attributes();
      a->set_attribute_key("EventName");
      a->set_attribute_value(probe_name);
      request.set_start_time_us(NowMicros() - 15'000'000);
      request.set_max_results(1000);
      request.set_include_data_events(true);  // a probe may be an S3/Lambda data event
      v1::LookupEventsResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      grpc::Status st = query->LookupEvents(&context, request, &response);
      const auto now = Clock::now();
      ++polls;
      if (!st.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& e : response.events()) {
        if (seen.count(e.event_id())) continue;
        seen[e.event_id()] = true;
        auto it = probes.find(e.event_id());
        if (it != probes.end()) {
          visible_ms.push_back(std::chrono::duration<double, std::milli>(now - at(it->second)).count());
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  long long next = 0;
  size_t probes_sent = 0;
  while (next < total) {
    const auto tick_end = std::min(Clock::now() + std::chrono::milliseconds(tick_ms), at(total));
    std::this_thread::sleep_until(tick_end);
    const auto now = Clock::now();
    std::vector<std::string> events;
    const long long first = next;
    while (next < total && at(next) <= now) {
      GeneratedRecord r = gen.Next();
      if (next % every == 0) {
        ReplaceStringMember(&r.json, "eventName", probe_name);
        std::lock_guard<std::mutex> lock(mu);
        probes[r.event_id] = next;
        ++probes_sent;
      }
      events.push_back(std::move(r.json));
      ++next;
    }
    if (events.empty()) continue;
    while (s.next_seq - acked > static_cast<uint64_t>(window) && !reader_done) {
      ++blocked_ticks;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    v1::IngestRequest request;
    if (int rc = Seal(&s, events, &request); rc) return rc;
    {
      std::lock_guard<std::mutex> lock(mu);
      inflight[request.batch().sequence()] = {first, next};
    }
    last_seq = request.batch().sequence();
    if (!s.rw->Write(request)) return Fail("latency: stream closed: " + s.rw->Finish().error_message());
  }
  const double send_secs = Seconds(start, Clock::now());
  sending_done = true;
  const auto drain_deadline = Clock::now() + std::chrono::seconds(15);
  while (acked < last_seq && !reader_done && Clock::now() < drain_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  while (Clock::now() < drain_deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (visible_ms.size() >= probes_sent) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  poll_stop = true;
  poller.join();
  Close(&s);
  reader.join();
  std::lock_guard<std::mutex> lock(mu);
  std::printf("{\"mode\":\"latency\",\"target_rate\":%.0f,\"achieved_rate\":%.1f,\"events\":%lld,"
              "\"durable_samples\":%zu,\"durable_p50_ms\":%.2f,\"durable_p99_ms\":%.2f,\"durable_p999_ms\":%.2f,"
              "\"probes\":%zu,\"visible_samples\":%zu,\"visible_p50_ms\":%.2f,\"visible_p99_ms\":%.2f,"
              "\"visible_p999_ms\":%.2f,\"polls\":%lld,\"window_full_waits\":%lld}\n",
              rate, static_cast<double>(total) / send_secs, total, durable_ms.size(), Percentile(durable_ms, 0.5),
              Percentile(durable_ms, 0.99), Percentile(durable_ms, 0.999), probes_sent, visible_ms.size(),
              Percentile(visible_ms, 0.5), Percentile(visible_ms, 0.99), Percentile(visible_ms, 0.999), polls,
              blocked_ticks.load());
  return 0;
}

// ---------------------------------------------------------------- files
int RunFiles(const Flags& f) {
  const std::string out = f.Get("out");
  const long long events = f.Int("events", 10000);
  const long long per_file = f.Int("per-file", 1000);
  if (out.empty() || events < 1 || per_file < 1) return Fail("files: --out DIR --events >= 1 --per-file >= 1");
  fs::create_directories(out);
  GeneratorOptions g;
  g.seed = static_cast<uint64_t>(f.Int("seed", 7));
  g.account_id = f.Get("account", "111111111111");
  g.mix.global_iam = 0;
  EventGenerator gen(g);
  uint64_t bytes = 0;
  if (f.Get("format") == "jsonl") {
    std::ofstream o(out + "/events.jsonl", std::ios::binary);
    for (long long i = 0; i < events; ++i) {
      std::string json = gen.NextJson();
      bytes += json.size();
      o << json << '\n';
    }
  }
  for (long long written = f.Get("format") == "jsonl" ? events : 0, file = 0; written < events; ++file) {
    std::string text = "{\"Records\":[";
    for (long long i = 0; i < per_file && written < events; ++i, ++written) {
      if (i > 0) text += ",";
      std::string json = gen.NextJson();
      bytes += json.size();
      text += json;
    }
    text += "]}\n";
    char name[64];
    std::snprintf(name, sizeof name, "/bench_%06lld.json", file);
    const std::string tmp = out + "/.tmp" + std::string(name + 1), final_path = out + name;
    {
      std::ofstream o(tmp, std::ios::binary);
      o << text;
    }
    fs::rename(tmp, final_path);
  }
  std::printf("{\"mode\":\"files\",\"events\":%lld,\"mean_event_bytes\":%.1f}\n", events,
              static_cast<double>(bytes) / static_cast<double>(events));
  return 0;
}

// ---------------------------------------------------------------- lookup
int RunLookup(const Flags& f) {
  const std::string target = f.Get("target"), pki = f.Get("pki");
  const int iterations = static_cast<int>(f.Int("iterations", 50));
  if (target.empty() || pki.empty() || iterations < 1) return Fail("lookup: --target --pki --iterations >= 1");
  auto creds = MakeChannelCredentials(PkiFiles(pki, "auditor"));
  if (!creds.ok()) return Fail("auditor credentials: " + creds.status().ToString());
  auto query = v1::Query::NewStub(grpc::CreateChannel(target, *creds));
  auto call = [&](const v1::LookupEventsRequest& request, v1::LookupEventsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return query->LookupEvents(&context, request, response);
  };
  // Values from a sample of stored events (newest page, data events included).
  v1::LookupEventsRequest sample_request;
  sample_request.set_max_results(200);
  sample_request.set_include_data_events(true);
  v1::LookupEventsResponse sample;
  grpc::Status st = call(sample_request, &sample);
  if (!st.ok() || sample.events_size() == 0) return Fail("lookup: no sample: " + st.error_message());
  std::map<std::string, std::vector<std::string>> values;
  int64_t newest = 0;
  for (const auto& e : sample.events()) {
    newest = std::max(newest, e.event_time_us());
    values["EventId"].push_back(e.event_id());
    values["EventName"].push_back(e.event_name());
    values["ReadOnly"].push_back(e.read_only());
    if (!e.username().empty()) values["Username"].push_back(e.username());
    if (!e.access_key_id().empty()) values["AccessKeyId"].push_back(e.access_key_id());
    values["EventSource"].push_back(e.event_source());
    for (const auto& r : e.resources()) {
      if (!r.resource_type().empty()) values["ResourceType"].push_back(r.resource_type());
      if (!r.resource_name().empty()) values["ResourceName"].push_back(r.resource_name());
    }
  }
  std::string out = "{\"mode\":\"lookup\",\"iterations\":" + std::to_string(iterations) + ",\"queries\":[";
  bool first_entry = true;
  auto report = [&](const std::string& name, std::vector<double> ms, long long results) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s{\"query\":\"%s\",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"mean_results\":%.1f}",
                  first_entry ? "" : ",", name.c_str(), Percentile(ms, 0.5), Percentile(ms, 0.99),
                  static_cast<double>(results) / static_cast<double>(ms.size()));
    out += buf;
    first_entry = false;
  };
  for (const std::string key :
       {"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}) {
    const auto& vs = values[key];
    if (vs.empty()) continue;
    std::vector<double> ms;
    long long results = 0;
    for (int i = 0; i < iterations; ++i) {
      v1::LookupEventsRequest request;
      auto* a = request.add_lookup_attributes();
      a->set_attribute_key(key);
      a->set_attribute_value(vs[(i * 7919) % vs.size()]);
      request.set_max_results(50);
      request.set_include_data_events(true);
      v1::LookupEventsResponse response;
      auto t0 = Clock::now();
      st = call(request, &response);
      ms.push_back(Seconds(t0, Clock::now()) * 1000);
      if (!st.ok()) return Fail("lookup " + key + ": " + st.error_message());
      results += response.events_size();
    }
    report(key, ms, results);
  }
  {
    std::vector<double> ms;
    long long results = 0;
    for (int i = 0; i < iterations; ++i) {
      v1::LookupEventsRequest request;
      request.set_end_time_us(newest - static_cast<int64_t>(i) * 60'000'000);
      request.set_start_time_us(newest - static_cast<int64_t>(i) * 60'000'000 - 3'600'000'000LL);
      request.set_max_results(50);
      request.set_include_data_events(true);
      v1::LookupEventsResponse response;
      auto t0 = Clock::now();
      st = call(request, &response);
      ms.push_back(Seconds(t0, Clock::now()) * 1000);
      if (!st.ok()) return Fail("lookup time range: " + st.error_message());
      results += response.events_size();
    }
    report("TimeRange1h", ms, results);
  }
  out += "]";
  // The jq comparison target: the EventName of the first sample event.
  out += ",\"jq_event_name\":\"" + values["EventName"].front() + "\"}";
  std::printf("%s\n", out.c_str());
  return 0;
}

}  // namespace
}  // namespace orgtrail

int main(int argc, char** argv) {
  orgtrail::Flags flags;
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::printf("usage: ingest_load_bench raw|ingest|latency|lookup --flag value ... (see the header comment)\n");
    return argc < 2 ? 2 : 0;
  }
  flags.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) return orgtrail::Fail("bad flag " + k);
    flags.values[k.substr(2)] = argv[i + 1];
  }
  if (flags.mode == "raw") return orgtrail::RunRaw(flags);
  if (flags.mode == "ingest") return orgtrail::RunIngest(flags);
  if (flags.mode == "latency") return orgtrail::RunLatency(flags);
  if (flags.mode == "files") return orgtrail::RunFiles(flags);
  if (flags.mode == "lookup") return orgtrail::RunLookup(flags);
  return orgtrail::Fail("unknown mode " + flags.mode);
}
