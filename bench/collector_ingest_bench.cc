// Collector ingest throughput (events/s, ~1 KB CloudTrail-shaped events,
// synced) next to raw synced RocksDB WriteBatches of the same events on the
// same disk, in the same run.
//
//   BM_RawRocksDbSyncedBatch/<events per WriteBatch>
//       one thread, one rocksdb::WriteBatch of N events (key = eventID, value
//       = raw JSON) per Write, WriteOptions::sync = true.
//   BM_CollectorIngest/<streams>/<events per batch>
//       an in-process CollectorServer (real gRPC + mutual TLS on loopback,
//       real RocksDB, group commit) and <streams> agent streams, each with a
//       window of 16 unacknowledged batches; batches are sealed (ECDSA P-256)
//       before timing starts. Counts an event when its batch's ack arrives.
//
// Data goes to $ORGTRAIL_BENCH_DIR (default /tmp). Run e.g.:
//   build/bench/collector_ingest_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "collector/server/server.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/ingest.grpc.pb.h"

namespace orgtrail {
namespace {

constexpr char kTrustDomain[] = "bench.org";
constexpr char kAccount[] = "111111111111";
constexpr int kWindow = 16;

std::string BenchDir(const std::string& name) {
  const char* root = std::getenv("ORGTRAIL_BENCH_DIR");
  std::string dir = std::string(root ? root : "/tmp") + "/orgtrail-bench-" + name + "-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A ~1 KB CloudTrail-shaped record.
std::string EventJson(const std::string& id, int64_t time_us) {
  std::string out =
      "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":\"AIDAEXAMPLE\","
      "\"arn\":\"arn:aws:iam::111111111111:user/alice\",\"accountId\":\"111111111111\",\"accessKeyId\":"
      "\"AKIAEXAMPLE\",\"userName\":\"alice\"},\"eventTime\":\"" +
      FormatRfc3339Seconds(time_us) +
      "\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"DescribeInstances\",\"awsRegion\":\"us-east-1\","
      "\"sourceIPAddress\":\"192.0.2.10\",\"userAgent\":\"aws-cli/2.13.0\",\"requestParameters\":{\"pad\":\"";
  std::string tail = "\"},\"responseElements\":null,\"requestID\":\"" + id + "\",\"eventID\":\"" + id +
                     "\",\"readOnly\":true,\"resources\":[{\"ARN\":\"arn:aws:ec2:us-east-1:111111111111:instance/"
                     "i-0123456789\",\"accountId\":\"111111111111\",\"type\":\"AWS::EC2::Instance\"}],"
                     "\"eventType\":\"AwsApiCall\",\"managementEvent\":true,\"recipientAccountId\":\"111111111111\","
                     "\"eventCategory\":\"Management\"}";
  if (out.size() + tail.size() < 1024) out.append(1024 - out.size() - tail.size(), 'x');
  return out + tail;
}

void BM_RawRocksDbSyncedBatch(benchmark::State& state) {
  const int per_batch = static_cast<int>(state.range(0));
  std::string dir = BenchDir("raw");
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) {
    state.SkipWithError("cannot open RocksDB");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  int64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    rocksdb::WriteBatch wb;
    for (int i = 0; i < per_batch; ++i, ++n) {
      std::string id = "raw-" + std::to_string(n);
      wb.Put(id, EventJson(id, 1700000000000000 + n));
    }
    state.ResumeTiming();
    if (!db->Write(wo, &wb).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * per_batch);
  state.SetBytesProcessed(state.iterations() * per_batch * 1024);
  db.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RawRocksDbSyncedBatch)->Arg(100)->Arg(400)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);

// The store alone: EventStore::CommitGroup (dedup lookups, record, eventID and
// commit-order entry per event, provenance, agent state; one synced
// WriteBatch) on already verified and extracted batches, with the indexer's
// queue at 1 MiB so that the nine index entries per event written behind the
// commits hold the loop back as they would a sustained load.
void BM_StoreCommitGroup(benchmark::State& state) {
  const int per_group = static_cast<int>(state.range(0));
  std::string dir = BenchDir("store");
  collector::StoreOptions options;
  options.org = kTrustDomain;
  options.index_queue_bytes = 1 << 20;
  auto store = collector::EventStore::Open(dir + "/db", options);
  if (!store.ok()) return state.SkipWithError(store.status().ToString().c_str());
  EventExtractor extractor;
  int64_t n = 0;
  uint64_t seq = 0;
  for (auto _ : state) {
    state.PauseTiming();
    collector::IngestBatch batch;
    batch.agent_id = "spiffe://bench.org/account/111111111111/region/us-east-1/agent/store";
    batch.account_id = kAccount;
    batch.region = "us-east-1";
    batch.sequence = ++seq;
    batch.signed_header = std::string(300, 'h');
    batch.signature = std::string(72, 's');
    batch.signature_algorithm = "ECDSA_P256_SHA256";
    for (int i = 0; i < per_group; ++i, ++n) {
      collector::IngestEvent e;
      std::string id = "store-" + std::to_string(n);
      if (!extractor.Extract(EventJson(id, 1700000000000000 + n), &e.event).ok()) {
        return state.SkipWithError("extract failed");
      }
      e.partition_region = "us-east-1";
      e.leaf_index = i;
      batch.leaf_hashes.push_back(Sha256(id));
      batch.events.push_back(std::move(e));
    }
    state.ResumeTiming();
    if (!(*store)->CommitGroup({&batch}).ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(state.iterations() * per_group);
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreCommitGroup)->Arg(100)->Arg(400)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);

// Test PKI written to dir: CA, collector and agent certificates.
struct BenchPki {
  TlsFiles collector;
  std::vector<TlsFiles> agents;
  std::vector<std::string> agent_ids;
};

StatusOr<BenchPki> MakePki(const std::string& dir, int agents) {
  CaOptions ca_options;
  ca_options.trust_domain = kTrustDomain;
  auto ca = CreateCa(ca_options);
  if (!ca.ok()) return ca.status();
  ORGTRAIL_RETURN_IF_ERROR(WriteKeyAndCert(*ca, "", dir + "/ca.crt"));
  BenchPki pki;
  CertOptions server;
  server.uri_sans = {std::string("spiffe://") + kTrustDomain + "/collector/main"};
  server.dns_sans = {"localhost"};
  server.ip_sans = {"127.0.0.1"};
  server.server_auth = true;
  auto collector = IssueCertificate(*ca, server);
  if (!collector.ok()) return collector.status();
  ORGTRAIL_RETURN_IF_ERROR(WriteKeyAndCert(*collector, dir + "/collector.key", dir + "/collector.crt"));
  pki.collector = TlsFiles{dir + "/ca.crt", dir + "/collector.crt", dir + "/collector.key"};
  for (int i = 0; i < agents; ++i) {
    std::string id = std::string("spiffe://") + kTrustDomain + "/account/" + kAccount + "/region/us-east-1/agent/b" +
                     std::to_string(i);
    CertOptions agent;
    agent.uri_sans = {id};
    auto cert = IssueCertificate(*ca, agent);
    if (!cert.ok()) return cert.status();
    std::string stem = dir + "/agent" + std::to_string(i);
    ORGTRAIL_RETURN_IF_ERROR(WriteKeyAndCert(*cert, stem + ".key", stem + ".crt"));
    pki.agents.push_back(TlsFiles{dir + "/ca.crt", stem + ".crt", stem + ".key"});
    pki.agent_ids.push_back(id);
  }
  return pki;
}

// One agent stream with pre-sealed batches.
struct BenchStream {
  std::unique_ptr<v1::Ingest::Stub> stub;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>> stream;
  std::vector<v1::IngestRequest> batches;  // all iterations
  size_t next = 0;
  bool ok = true;

  // Sends `count` batches with a window and waits for the last ack.
  void Run(size_t count) {
    size_t end = std::min(batches.size(), next + count);
    uint64_t last_seq = batches[end - 1].batch().sequence();
    uint64_t acked = batches[next].batch().sequence() - 1;
    v1::IngestResponse response;
    for (; next < end && ok; ++next) {
      while (batches[next].batch().sequence() - acked > kWindow && ok) ok = ReadAck(&acked, &response);
      ok = ok && stream->Write(batches[next]);
    }
    while (acked < last_seq && ok) ok = ReadAck(&acked, &response);
  }
  bool ReadAck(uint64_t* acked, v1::IngestResponse* response) {
    if (!stream->Read(response)) return false;
    if (response->has_error()) return false;
    if (response->has_ack()) *acked = response->ack().sequence();
    return true;
  }
};

void BM_CollectorIngest(benchmark::State& state) {
  const int streams = static_cast<int>(state.range(0));
  const int per_batch = static_cast<int>(state.range(1));
  constexpr int kBatchesPerIteration = 40;  // per stream
  constexpr int kMaxIterations = 6;
  std::string dir = BenchDir("collector");
  auto pki = MakePki(dir, streams);
  if (!pki.ok()) {
    state.SkipWithError(pki.status().ToString().c_str());
    return;
  }
  Logger logger("bench-collector", 2, LogLevel::kError);
  MetricsRegistry metrics;
  collector::CollectorServerOptions options;
  options.listen = "127.0.0.1:0";
  options.http_listen = "127.0.0.1:0";
  options.data_dir = dir + "/data";
  options.tls = pki->collector;
  options.trust_domain = kTrustDomain;
  options.max_unacked_batches = kWindow;
  collector::CollectorServer server(options, &logger, &metrics);
  if (Status s = server.Open(); !s.ok()) return state.SkipWithError(s.ToString().c_str());
  if (Status s = server.Start(); !s.ok()) return state.SkipWithError(s.ToString().c_str());
  const std::string target = "127.0.0.1:" + std::to_string(server.grpc_port());

  std::vector<BenchStream> bench_streams(streams);
  for (int s = 0; s < streams; ++s) {
    BenchStream& bs = bench_streams[s];
    auto creds = MakeChannelCredentials(pki->agents[s]);
    auto signer = Signer::FromPrivateKeyFile(pki->agents[s].key_path);
    if (!creds.ok() || !signer.ok()) return state.SkipWithError("client credentials");
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    bs.stub = v1::Ingest::NewStub(grpc::CreateCustomChannel(target, *creds, args));
    bs.context = std::make_unique<grpc::ClientContext>();
    bs.stream = bs.stub->Stream(bs.context.get());
    v1::IngestRequest hello;
    hello.mutable_hello()->set_agent_id(pki->agent_ids[s]);
    hello.mutable_hello()->set_epoch(1);
    v1::IngestResponse response;
    if (!bs.stream->Write(hello) || !bs.stream->Read(&response) || !response.has_hello_ack()) {
      return state.SkipWithError("hello failed");
    }
    Digest prev{};
    for (int b = 0; b < kBatchesPerIteration * kMaxIterations; ++b) {
      v1::IngestRequest request;
      v1::Batch* batch = request.mutable_batch();
      batch->set_agent_id(pki->agent_ids[s]);
      batch->set_epoch(1);
      batch->set_sequence(b + 1);
      batch->set_prev_batch_hash(DigestToString(prev));
      batch->set_created_time_us(NowMicros());
      for (int i = 0; i < per_batch; ++i) {
        std::string id = "s" + std::to_string(s) + "-" + std::to_string(b) + "-" + std::to_string(i);
        batch->add_events()->set_raw_json(EventJson(id, 1700000000000000 + b * 1000 + i));
      }
      if (!SealBatch(**signer, batch).ok()) return state.SkipWithError("seal failed");
      prev = BatchHash(*HeaderOfBatch(*batch));
      bs.batches.push_back(std::move(request));
    }
  }
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (auto& bs : bench_streams) threads.emplace_back([&bs] { bs.Run(kBatchesPerIteration); });
    for (auto& t : threads) t.join();
    for (auto& bs : bench_streams) {
      if (!bs.ok) state.SkipWithError("stream failed");
    }
  }
  const int64_t events = state.iterations() * streams * kBatchesPerIteration * per_batch;
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(events * 1024);
  Histogram* groups = metrics.GetHistogram("orgtrail_collector_group_commit_events", "");
  Histogram* sync = metrics.GetHistogram("orgtrail_collector_synced_write_seconds", "");
  if (groups->count() > 0) {
    state.counters["events_per_group_commit"] = groups->sum() / groups->count();
    state.counters["synced_write_ms"] = 1000 * sync->sum() / sync->count();
  }
  for (auto& bs : bench_streams) {
    bs.stream->WritesDone();
    bs.context->TryCancel();
    bs.stream->Finish();
  }
  bench_streams.clear();
  server.Shutdown();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CollectorIngest)
    ->Args({1, 100})
    ->Args({4, 100})
    ->Iterations(5)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace orgtrail

BENCHMARK_MAIN();
