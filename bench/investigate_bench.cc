// investigate_bench: query times of the investigation set (SqlEngine over
// the RocksDB store) on a store of --events realistic CloudTrail records
// (default 1,000,000: common/generator.h across 3 accounts x 2 regions, plus
// the 2,900 invictus records), and filter-pattern throughput of the CIS set.
// In-process: measures SQLite + the virtual table + RocksDB, not gRPC.
//
//   investigate_bench [--events N] [--db DIR] [--iterations K] [--alarm-only]
// Last, it measures commit -> webhook latency of the alarm engine (100 alarms).
// --db reuses (or creates) a store at DIR so repeated runs skip the build;
// without it a temporary directory is used and removed. The store is written
// through EventStore::CommitGroup with records extracted by the collector's
// EventExtractor and a placeholder signature (bench data, not an ingest path).
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "collector/alarms/alarm_config.h"
#include "collector/alarms/alarm_engine.h"
#include "collector/sql/sql_engine.h"
#include "collector/store/store.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/filter_pattern.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

struct Flags {
  uint64_t events = 1'000'000;
  std::string db;
  int iterations = 3;
  bool alarm_only = false;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--help") {
      std::printf("usage: investigate_bench [--events N] [--db DIR] [--iterations K] [--alarm-only]\n");
      std::exit(0);
    } else if (arg == "--events" && v) {
      flags->events = std::strtoull(v, nullptr, 10), ++i;
    } else if (arg == "--db" && v) {
      flags->db = v, ++i;
    } else if (arg == "--alarm-only") {
      flags->alarm_only = true;
    } else if (arg == "--iterations" && v) {
      flags->iterations = std::atoi(v), ++i;
    } else {
      std::fprintf(stderr, "investigate_bench: unknown or incomplete flag '%s'\n", arg.c_str());
      return false;
    }
  }
  if (flags->events < 1000 || flags->iterations < 1 || flags->iterations > 100) {
    std::fprintf(stderr, "investigate_bench: --events >= 1000, --iterations 1..100\n");
    return false;
  }
  return true;
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::vector<std::string> InvictusRecords() {
  namespace fs = std::filesystem;
  std::vector<std::string> records;
  const fs::path dir = fs::path(ORGTRAIL_SHARED_DATA_DIR) / "invictus-aws-dataset" / "CloudTrail";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string body = ss.str();
    int depth = 0;
    bool in_string = false, escaped = false;
    size_t start = 0;
    for (size_t i = body.find('[') + 1; i < body.size(); ++i) {
      char c = body[i];
      if (in_string) {
        if (escaped) escaped = false;
        else if (c == '\\') escaped = true;
        else if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      else if (c == '{' && depth++ == 0) start = i;
      else if (c == '}' && --depth == 0) records.push_back(body.substr(start, i - start + 1));
    }
  }
  return records;
}

// Writes `records` of one (account, region) agent as batches of 1000 events,
// one synced group per 10 batches.
class StoreWriter {
 public:
  explicit StoreWriter(EventStore* store) : store_(store) {}

  bool Write(const std::string& account, const std::string& region, const std::vector<std::string>& records) {
    std::string agent = "spiffe://bench.example/account/" + account + "/region/" + region + "/agent/bench";
    uint64_t& sequence = sequences_[agent];
    std::vector<IngestBatch> group;
    for (size_t begin = 0; begin < records.size(); begin += 1000) {
      IngestBatch batch;
      batch.agent_id = agent;
      batch.account_id = account;
      batch.region = region;
      batch.epoch = 1;
      batch.sequence = ++sequence;
      batch.signed_header = "bench placeholder";
      batch.signature = "bench placeholder";
      batch.signature_algorithm = "ECDSA_P256_SHA256";
      batch.certificate_pem = "bench";
      batch.receipt_time_us = NowMicros();
      for (size_t i = begin; i < std::min(records.size(), begin + 1000); ++i) {
        IngestEvent event;
        if (!extractor_.Extract(records[i], &event.event).ok()) continue;
        event.partition_region = PartitionRegion(event.event, classifier_, "us-east-1");
        event.leaf_index = static_cast<uint32_t>(i - begin);
        batch.leaf_hashes.push_back(Digest{});
        batch.events.push_back(std::move(event));
      }
      group.push_back(std::move(batch));
      if (group.size() == 10 && !Flush(&group)) return false;
    }
    return Flush(&group);
  }

 private:
  bool Flush(std::vector<IngestBatch>* group) {
    if (group->empty()) return true;
    std::vector<const IngestBatch*> pointers;
    for (const auto& b : *group) pointers.push_back(&b);
    auto result = store_->CommitGroup(pointers);
    group->clear();
    if (!result.ok()) {
      std::fprintf(stderr, "investigate_bench: commit failed: %s\n", result.status().ToString().c_str());
      return false;
    }
    return true;
  }

  EventStore* store_;
  EventExtractor extractor_;
  GlobalServiceClassifier classifier_;
  std::map<std::string, uint64_t> sequences_;
};

bool BuildStore(EventStore* store, uint64_t events) {
  const std::vector<std::pair<std::string, std::string>> agents = {
      {"111122223333", "us-east-1"}, {"111122223333", "eu-west-1"}, {"444455556666", "us-east-1"},
      {"444455556666", "eu-west-1"}, {"777788889999", "us-east-1"}, {"777788889999", "us-west-2"}};
  StoreWriter writer(store);
  auto start = std::chrono::steady_clock::now();
  if (!writer.Write("123837392027", "us-east-1", InvictusRecords())) return false;
  uint64_t per_agent = (events + agents.size() - 1) / agents.size();
  for (size_t a = 0; a < agents.size(); ++a) {
    GeneratorOptions options;
    options.seed = 1000 + a;
    options.account_id = agents[a].first;
    options.region = agents[a].second;
    options.org_account_ids = {"111122223333", "444455556666", "777788889999"};
    options.mean_interval_us = 500000;  // 2 events/s per agent: 1M events span about one day
    EventGenerator generator(options);
    for (uint64_t done = 0; done < per_agent;) {
      std::vector<std::string> chunk;
      for (; chunk.size() < 10000 && done < per_agent; ++done) chunk.push_back(generator.NextJson());
      if (!writer.Write(agents[a].first, agents[a].second, chunk)) return false;
    }
    std::printf("  agent %zu/%zu written (%.1f s, %llu events stored)\n", a + 1, agents.size(),
                Seconds(std::chrono::steady_clock::now() - start),
                static_cast<unsigned long long>(store->events_stored()));
    std::fflush(stdout);
  }
  // The index entries are written behind the commits: the store is built when they are.
  if (!store->WaitForIndex(std::chrono::hours(1))) {
    std::fprintf(stderr, "investigate_bench: the indexer did not catch up within an hour\n");
    return false;
  }
  return true;
}

struct Query {
  const char* name;
  std::string sql;
};

// Accepts HTTP POSTs on 127.0.0.1 and records when each body arrived.
class Receiver {
 public:
  Receiver() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 64);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return times_.size();
  }
  int64_t last_time() const {
    std::lock_guard<std::mutex> lock(mu_);
    return times_.empty() ? 0 : times_.back();
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 20) <= 0) continue;
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string data;
      char buf[8192];
      size_t header_end = std::string::npos, length = 0;
      while (true) {
        ssize_t n = recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
          size_t at = data.find("Content-Length: ");
          if (at != std::string::npos) length = std::stoul(data.substr(at + 16));
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + length) break;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        times_.push_back(NowMicros());
      }
      const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      (void)!send(client, answer, sizeof answer - 1, MSG_NOSIGNAL);
      close(client);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<int64_t> times_;
  std::thread thread_;
};

// Commit -> webhook latency of the alarm engine: alarm i watches eventName
// "BenchAlarm<i>", so each committed event causes exactly one OK -> ALARM
// transition and one notification.
void MeasureAlarmLatency(int samples) {
  Receiver receiver;
  std::string json = R"({"notifications":[{"name":"hook","type":"webhook","url":"http://127.0.0.1:)" +
                     std::to_string(receiver.port()) + R"(/alarms"}],"metric_filters":[)";
  std::string alarms;
  for (int i = 0; i < samples; ++i) {
    json += std::string(i ? "," : "") + R"({"name":"f)" + std::to_string(i) +
            R"(","pattern":"{ $.eventName = BenchAlarm)" + std::to_string(i) + R"( }","metric_name":"m)" +
            std::to_string(i) + R"("})";
    alarms += std::string(i ? "," : "") + R"({"name":"a)" + std::to_string(i) + R"(","metric_name":"m)" +
              std::to_string(i) +
              R"(","threshold":1,"comparison_operator":"GreaterThanOrEqualToThreshold","treat_missing_data":"notBreaching","alarm_actions":["hook"]})";
  }
  json += "],\"alarms\":[" + alarms + "]}";
  auto config = ParseAlarmsConfig(json);
  if (!config.ok()) {
    std::fprintf(stderr, "alarm config: %s\n", config.status().ToString().c_str());
    return;
  }
  std::string path = "/tmp/investigate_bench_alarms." + std::to_string(getpid());
  StoreOptions options;
  options.org = "bench.example";
  auto store = EventStore::Open(path, options);
  if (!store.ok()) return;
  AlarmEngineOptions engine_options;
  engine_options.tick_us = 200000;
  AlarmEngine engine(store->get(), *config, nullptr, nullptr, engine_options);
  if (!engine.Start().ok()) return;
  StoreWriter writer(store->get());
  std::vector<double> commit_to_hook, ingest_to_hook;
  for (int i = 0; i < samples; ++i) {
    std::string record = R"({"eventVersion":"1.08","eventID":"bench-alarm-)" + std::to_string(i) +
                         R"(","eventTime":"2026-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"BenchAlarm)" +
                         std::to_string(i) + R"(","awsRegion":"us-east-1","recipientAccountId":"111122223333","userIdentity":{"type":"Root"}})";
    size_t before = receiver.count();
    int64_t start = NowMicros();
    if (!writer.Write("111122223333", "us-east-1", {record})) return;
    int64_t committed = NowMicros();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (receiver.count() == before && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    if (receiver.count() == before) {
      std::fprintf(stderr, "alarm %d: no notification within 30 s\n", i);
      return;
    }
    int64_t received = receiver.last_time();
    ingest_to_hook.push_back((received - start) / 1000.0);
    commit_to_hook.push_back((received - committed) / 1000.0);
  }
  engine.Stop();
  store->reset();
  std::filesystem::remove_all(path);
  auto report = [](const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::printf("  %-42s p50 %.2f ms  p90 %.2f ms  max %.2f ms  (n=%zu)\n", what, v[v.size() / 2], v[v.size() * 9 / 10],
                v.back(), v.size());
  };
  std::printf("\nalarm notification latency (AlarmEngine + webhook on loopback):\n");
  report("synced commit start -> webhook received", ingest_to_hook);
  report("commit returned -> webhook received", commit_to_hook);
}

}  // namespace
}  // namespace orgtrail::collector

int main(int argc, char** argv) {
  using namespace orgtrail;
  using namespace orgtrail::collector;
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  if (flags.alarm_only) {
    MeasureAlarmLatency(100);
    return 0;
  }
  std::string path = flags.db;
  bool temporary = path.empty();
  if (temporary) path = "/tmp/investigate_bench." + std::to_string(getpid());
  StoreOptions options;
  options.org = "bench.example";
  options.block_cache_bytes = 256ull << 20;
  auto opened = EventStore::Open(path, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "investigate_bench: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<EventStore> store = std::move(*opened);
  if (store->events_stored() < flags.events) {
    std::printf("building a store of %llu events in %s ...\n", static_cast<unsigned long long>(flags.events), path.c_str());
    auto start = std::chrono::steady_clock::now();
    if (!BuildStore(store.get(), flags.events - std::min<uint64_t>(flags.events, store->events_stored()))) return 1;
    std::printf("built in %.1f s: %llu events\n", Seconds(std::chrono::steady_clock::now() - start),
                static_cast<unsigned long long>(store->events_stored()));
  }
  const uint64_t total = store->events_stored();
  std::printf("store: %llu events\n\n", static_cast<unsigned long long>(total));

  const std::vector<Query> queries = {
      {"who deleted a bucket",
       "SELECT eventtime, recipientaccountid, useridentity_arn, json_extract(requestparameters, '$.bucketName'), "
       "sourceipaddress FROM events WHERE eventname = 'DeleteBucket' ORDER BY eventtime"},
      {"failed console sign-ins per user per day",
       "SELECT date(eventtime) AS day, useridentity_username, COUNT(*) FROM events WHERE eventname = 'ConsoleLogin' "
       "AND json_extract(responseelements, '$.ConsoleLogin') = 'Failure' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20"},
      {"cross-account AssumeRole",
       "SELECT useridentity_accountid AS caller, substr(json_extract(requestparameters, '$.roleArn'), 14, 12) AS target, "
       "COUNT(*) FROM events WHERE eventname = 'AssumeRole' AND useridentity_accountid IS NOT NULL "
       "AND substr(json_extract(requestparameters, '$.roleArn'), 14, 12) <> useridentity_accountid GROUP BY 1, 2"},
      {"root activity, one account, one day",
       "SELECT eventname, COUNT(*) FROM events WHERE recipientaccountid = '444455556666' "
       "AND eventtime >= '2026-01-01 00:00:00' AND eventtime < '2026-01-02 00:00:00' "
       "AND useridentity_type = 'Root' GROUP BY 1"},
      {"top callers, one hour, org-wide",
       "SELECT useridentity_arn, COUNT(*) AS n FROM events WHERE eventtime >= '2026-01-01 06:00:00' "
       "AND eventtime < '2026-01-01 07:00:00' GROUP BY 1 ORDER BY n DESC LIMIT 10"},
      {"events per account and region (count only, full scan)",
       "SELECT recipientaccountid, partitionregion, COUNT(*) FROM events GROUP BY 1, 2"},
      {"root activity, all time (full scan, JSON read)",
       "SELECT recipientaccountid, COUNT(*) FROM events WHERE useridentity_type = 'Root' GROUP BY 1"},
      {"top callers, all time (full scan, JSON read)",
       "SELECT useridentity_arn, COUNT(*) AS n FROM events GROUP BY 1 ORDER BY n DESC LIMIT 10"},
  };
  SqlLimits limits;
  limits.max_timeout_ms = 600000;
  SqlEngine engine(store.get(), "us-east-1", limits);
  std::printf("%-55s %10s %10s %10s %8s  %s\n", "query", "median ms", "min ms", "rows read", "rows", "plan");
  for (const auto& query : queries) {
    std::vector<double> times;
    v1::SqlResponse last;
    for (int i = 0; i < flags.iterations; ++i) {
      v1::SqlRequest request;
      request.set_query(query.sql);
      request.set_timeout_ms(600000);
      request.set_max_rows(100000);
      auto start = std::chrono::steady_clock::now();
      auto response = engine.Execute(request);
      times.push_back(Seconds(std::chrono::steady_clock::now() - start) * 1000);
      if (!response.ok()) {
        std::fprintf(stderr, "%s: %s\n", query.name, response.status().ToString().c_str());
        return 1;
      }
      last = *response;
    }
    std::sort(times.begin(), times.end());
    std::printf("%-55s %10.1f %10.1f %10llu %8d  %s\n", query.name, times[times.size() / 2], times[0],
                static_cast<unsigned long long>(last.rows_read()), last.rows_size(),
                last.plan_size() ? last.plan(0).c_str() : "");
    std::fflush(stdout);
  }

  // Filter-pattern throughput: the 15 CIS filters against 100,000 records.
  std::string source_dir = ORGTRAIL_SHARED_DATA_DIR;  // "<project>/../shared/data"
  source_dir = source_dir.substr(0, source_dir.rfind("/../shared/data"));
  auto config = LoadAlarmsConfigFile(source_dir + "/deploy/alarms/cis.json");
  if (!config.ok()) std::fprintf(stderr, "investigate_bench: %s\n", config.status().ToString().c_str());
  if (config.ok()) {
    GeneratorOptions options;
    options.seed = 77;
    EventGenerator generator(options);
    std::vector<std::string> records;
    for (int i = 0; i < 100000; ++i) records.push_back(generator.NextJson());
    FilterEvaluator evaluator;
    uint64_t matches = 0;
    auto start = std::chrono::steady_clock::now();
    for (const auto& r : records) {
      if (!evaluator.Load(r).ok()) continue;
      for (const auto& f : config->metric_filters) matches += evaluator.Matches(f.pattern);
    }
    double s = Seconds(std::chrono::steady_clock::now() - start);
    std::printf("\nCIS filter set (15 patterns) over %zu records: %.2f s, %.0f records/s, %llu matches\n", records.size(),
                s, records.size() / s, static_cast<unsigned long long>(matches));
  }
  store.reset();
  if (temporary) std::filesystem::remove_all(path);
  MeasureAlarmLatency(100);
  return 0;
}
