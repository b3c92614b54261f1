// ingest_load_bench latency: one stream at a fixed open-loop rate, measuring
// capture -> durable (ack) and capture -> visible (LookupEvents) for each
// event or probe. Flags and output: the header comment of ingest_load_bench.cc.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "ingest_load_common.h"
#include "ingest_load_modes.h"
#include "ingest_load_records.h"
#include "ingest_load_stream.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::ingest_load {

int RunLatency(const Flags& f) {
  const std::string target = f.Get("target"), pki = f.Get("pki"), org = f.Get("trust-domain");
  const double rate = static_cast<double>(f.Int("rate", 1000));
  const double seconds = static_cast<double>(f.Int("seconds", 5));
  const int tick_ms = static_cast<int>(f.Int("tick-ms", 10));
  const int window = static_cast<int>(f.Int("window", 64));
  const long long max_batch = f.Int("max-batch", 1000);
  const std::string name = f.Get("name", "latency");
  if (target.empty() || pki.empty() || org.empty() || rate < 1 || seconds < 1 || tick_ms < 1 || max_batch < 1) {
    return Fail("latency: --target --pki --trust-domain --rate >= 1 --seconds >= 1 --max-batch >= 1");
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
  // eventTime of every probe not yet seen: the poller asks only from the oldest of them on, so
  // each poll returns the unseen probes and the few just seen, not every probe of the run.
  std::unordered_map<std::string, int64_t> unseen_probe_times;     // eventID -> eventTime (us)
  std::multiset<int64_t> unseen_times;
  std::vector<double> durable_ms, visible_ms;
  std::atomic<bool> sending_done{false}, reader_done{false};
  std::atomic<uint64_t> acked{0}, last_seq{0};
  std::atomic<long long> blocked_ticks{0};

  std::string collector_error;  // an IngestError the collector sent (guarded by mu)
  std::thread reader([&] {
    v1::IngestResponse response;
    while (s.rw->Read(&response)) {
      if (response.has_error()) {
        std::lock_guard<std::mutex> lock(mu);
        collector_error = response.error().rule() + ": " + response.error().message();
        break;
      }
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
      // From the oldest unseen probe on (eventTime has whole seconds in the record; 2 s of slack).
      int64_t oldest = NowMicros();
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!unseen_times.empty()) oldest = std::min(oldest, *unseen_times.begin());
      }
      request.set_start_time_us(oldest - 2'000'000);
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
        if (auto u = unseen_probe_times.find(e.event_id()); u != unseen_probe_times.end()) {
          unseen_times.erase(unseen_times.find(u->second));
          unseen_probe_times.erase(u);
        }
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
  std::string failure;  // set when sending stopped early
  bool write_failed = false;
  // Each tick sends the events scheduled up to now. After a wait for acks the overdue events go
  // out in batches of at most --max-batch (they keep their scheduled capture time), so a late
  // sender never builds a batch the collector refuses (its limit is 10,000 events).
  while (next < total && failure.empty()) {
    const auto tick_end = std::min(Clock::now() + std::chrono::milliseconds(tick_ms), at(total));
    std::this_thread::sleep_until(tick_end);
    const auto now = Clock::now();
    while (next < total && at(next) <= now && failure.empty()) {
      std::vector<std::string> events;
      const long long first = next;
      while (next < total && at(next) <= now && static_cast<long long>(events.size()) < max_batch) {
        GeneratedRecord r = gen.Next();
        if (next % every == 0) {
          ReplaceStringMember(&r.json, "eventName", probe_name);
          std::lock_guard<std::mutex> lock(mu);
          probes[r.event_id] = next;
          unseen_probe_times[r.event_id] = r.event_time_us;
          unseen_times.insert(r.event_time_us);
          ++probes_sent;
        }
        events.push_back(std::move(r.json));
        ++next;
      }
      while (s.next_seq - acked > static_cast<uint64_t>(window) && !reader_done) {
        ++blocked_ticks;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      v1::IngestRequest request;
      if (Seal(&s, events, &request) != 0) {
        failure = "sealing a batch failed";
        break;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        inflight[request.batch().sequence()] = {first, next};
      }
      last_seq = request.batch().sequence();
      if (!s.rw->Write(request)) {
        failure = "the stream closed while sending";
        write_failed = true;
        break;
      }
    }
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
  if (write_failed) {  // the RPC is over: the reader's Read returns false; then Finish gives the status
    reader.join();
    const grpc::Status st = s.rw->Finish();
    failure += " (status " + std::to_string(static_cast<int>(st.error_code())) + ": " + st.error_message() + ")";
  } else {
    Close(&s);
    reader.join();
  }
  std::lock_guard<std::mutex> lock(mu);
  // Every event must be acknowledged and every probe seen: a missing one makes the run a failure
  // (exit status 1 after the JSON), never a dropped sample.
  const long long acks_missing = next - static_cast<long long>(durable_ms.size());
  const long long probes_missing = static_cast<long long>(probes_sent) - static_cast<long long>(visible_ms.size());
  if (!collector_error.empty()) failure += (failure.empty() ? "" : "; ") + std::string("collector error ") + collector_error;
  for (char& c : failure) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '\'';  // kept valid inside the JSON string
  }
  if (failure.empty() && acks_missing > 0) failure = std::to_string(acks_missing) + " event(s) never acknowledged";
  if (failure.empty() && probes_missing > 0) {
    failure = std::to_string(probes_missing) + " probe(s) not visible within 15 s";
  }
  std::printf("{\"mode\":\"latency\",\"ok\":%s,\"failure\":\"%s\",\"target_rate\":%.0f,\"achieved_rate\":%.1f,"
              "\"events\":%lld,\"events_sent\":%lld,\"acks_missing\":%lld,\"probes_missing\":%lld,"
              "\"durable_samples\":%zu,\"durable_p50_ms\":%.2f,\"durable_p99_ms\":%.2f,\"durable_p999_ms\":%.2f,"
              "\"probes\":%zu,\"visible_samples\":%zu,\"visible_p50_ms\":%.2f,\"visible_p99_ms\":%.2f,"
              "\"visible_p999_ms\":%.2f,\"polls\":%lld,\"window_full_waits\":%lld}\n",
              failure.empty() ? "true" : "false", failure.c_str(), rate, static_cast<double>(next) / send_secs, total,
              next, acks_missing, probes_missing, durable_ms.size(), Percentile(durable_ms, 0.5),
              Percentile(durable_ms, 0.99), Percentile(durable_ms, 0.999), probes_sent, visible_ms.size(),
              Percentile(visible_ms, 0.5), Percentile(visible_ms, 0.99), Percentile(visible_ms, 0.999), polls,
              blocked_ticks.load());
  std::fflush(stdout);
  return failure.empty() ? 0 : Fail("latency: " + failure);
}

}  // namespace orgtrail::ingest_load
