// 2,000 Ingest streams that never send a message (from 20 real agent
// certificates) plus 200 TLS connections that never start a call, against a
// real orgtrail-collector with small limits: a legitimate agent still gets its
// events stored and acknowledged while they are open, the collector's threads
// stay under a bound derived from its flags, and the silent streams are closed
// at the Hello deadline.
#include <fstream>
#include <mutex>
#include <thread>

#include "cert_agent.h"
#include "orgtrail/v1/ingest.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail::testutil {
namespace {

constexpr int kFloodIdentities = 20;
constexpr int kFloodStreams = 2000;
constexpr int kSilentConnections = 200;
constexpr int kPerIdentity = 2;
constexpr int kGrpcMaxThreads = 64;
constexpr int kHelloTimeoutMs = 20000;

int Threads(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

struct FloodCall {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::IngestRequest, v1::IngestResponse>> stream;
  grpc::Status status;
};

TEST(IngestStreamFloodTest, SilentStreamsDoNotStopALegitimateAgent) {
  TempDir dir("ingest-flood");
  TestPki pki(dir.MakeSubdir("pki"));
  CollectorProcessOptions options;
  options.data_dir = dir.Join("data");
  options.log_dir = dir.MakeSubdir("logs");
  options.tls = pki.Collector();
  options.extra_args = {"--hello-timeout-ms=" + std::to_string(kHelloTimeoutMs),
                        "--max-streams-per-identity=" + std::to_string(kPerIdentity), "--max-ingest-streams=64",
                        "--grpc-max-threads=" + std::to_string(kGrpcMaxThreads)};
  auto collector = CollectorProcess::Start(options);
  ASSERT_TRUE(collector.ok()) << collector.status();
  const pid_t pid = (*collector)->process()->Pid();
  const int base_threads = Threads(pid);
  // gRPC quota + one writer thread per Hello'd stream (the legitimate agent)
  // + gRPC's own executor/timer threads that start on first use.
  const int thread_bound = base_threads + kGrpcMaxThreads + 1 + 16;

  // The flood: streams opened and left silent, spread over a few identities.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kFloodIdentities; ++i) {
    TlsFiles tls = pki.Agent("999999999999", "us-east-1", "flood" + std::to_string(i));
    auto creds = MakeChannelCredentials(tls);
    ASSERT_TRUE(creds.ok());
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channels.push_back(grpc::CreateCustomChannel((*collector)->target(), *creds, args));
  }
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<FloodCall>> calls(kFloodStreams);
  std::atomic<int> finished{0}, exhausted{0}, cancelled{0};
  // The pump calls Finish only while the queue is not shut down (gRPC aborts on an operation
  // started on a shut-down queue: that turned a failed wait below into a crash), and a call is
  // created and started under the same lock, so the pump sees it whole (the queue's own handoff
  // is inside gRPC, where ThreadSanitizer cannot see it).
  std::mutex pump_mu;
  bool shutting_down = false;  // guarded by pump_mu
  std::thread pump([&] {
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
      const auto n = reinterpret_cast<uintptr_t>(tag);
      FloodCall& call = *calls[n / 2];
      if (n % 2 == 0) {
        std::lock_guard<std::mutex> lock(pump_mu);
        if (!shutting_down) call.stream->Finish(&call.status, reinterpret_cast<void*>(n + 1));  // await the end
      } else {
        if (call.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted;
        if (call.status.error_code() == grpc::StatusCode::CANCELLED) ++cancelled;
        ++finished;
      }
    }
  });
  // However the test ends: cancel what is still open, drain the queue, join the pump.
  struct PumpGuard {
    std::vector<std::unique_ptr<FloodCall>>* calls;
    grpc::CompletionQueue* cq;
    std::thread* pump;
    std::mutex* mu;
    bool* shutting_down;
    ~PumpGuard() {
      {
        std::lock_guard<std::mutex> lock(*mu);
        *shutting_down = true;
      }
      for (auto& call : *calls) {
        if (call != nullptr) call->context.TryCancel();
      }
      cq->Shutdown();
      pump->join();
    }
  } guard{&calls, &cq, &pump, &pump_mu, &shutting_down};
  const auto flood_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kFloodStreams; ++i) {
    std::lock_guard<std::mutex> lock(pump_mu);
    calls[i] = std::make_unique<FloodCall>();
    auto stub = v1::Ingest::NewStub(channels[i % kFloodIdentities]);
    calls[i]->stream = stub->PrepareAsyncStream(&calls[i]->context, &cq);
    calls[i]->stream->StartCall(reinterpret_cast<void*>(static_cast<uintptr_t>(2 * i)));
  }
  // TLS connections that never start a call.
  const TlsFiles silent_tls = pki.Agent("999999999999", "us-east-1", "silent");
  std::vector<std::shared_ptr<grpc::Channel>> silent;
  for (int i = 0; i < kSilentConnections; ++i) {
    auto creds = MakeChannelCredentials(silent_tls);
    ASSERT_TRUE(creds.ok());
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    silent.push_back(grpc::CreateCustomChannel((*collector)->target(), *creds, args));
    silent.back()->GetState(true);  // connect now
  }
  int max_threads = 0;
  auto sample = [&] { max_threads = std::max(max_threads, Threads(pid)); };
  const double held_limit = kFloodIdentities * kPerIdentity;
  // Every stream over the caps is refused at once; the rest are held, waiting for a Hello.
  ASSERT_TRUE(WaitFor([&] {
    sample();
    return finished.load() + (*collector)->MetricValue("orgtrail_collector_ingest_streams_admitted") >= kFloodStreams;
  }, std::chrono::seconds(30), std::chrono::milliseconds(500)))
      << "finished " << finished.load() << " admitted "
      << (*collector)->MetricValue("orgtrail_collector_ingest_streams_admitted");
  const double held = (*collector)->MetricValue("orgtrail_collector_ingest_streams_admitted");
  EXPECT_GE(held, 1);
  EXPECT_LE(held, held_limit);
  EXPECT_EQ(exhausted.load(), finished.load());
  EXPECT_GE((*collector)->MetricValue("orgtrail_collector_batches_refused_total{rule=\"stream_cap_identity\"}"), 1);

  // (a) A legitimate agent connects and its events are stored and acknowledged.
  const TlsFiles legit_tls = pki.Agent("111122223333", "eu-west-1", "legit");
  const auto legit_start = std::chrono::steady_clock::now();
  CertAgent legit = CertAgent::Start((*collector)->target(), legit_tls, dir.Join("spool-legit"), dir.path(), "legit");
  ASSERT_TRUE(legit.process);
  auto api = legit.Api();
  std::vector<std::string> acked = PutEventsRounds(api.get(), "cccccccc", 4, 5);
  ASSERT_EQ(acked.size(), 20u);
  ASSERT_TRUE(WaitFor([&] {
    sample();
    return legit.Drained() && (*collector)->MetricValue("orgtrail_collector_events_in_store") >= 20;
  }, std::chrono::seconds(30))) << legit.process->ReadLog();
  const auto legit_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - legit_start).count();
  // ... while the silent streams were still open.
  EXPECT_EQ((*collector)->MetricValue("orgtrail_collector_ingest_streams_closed_total{reason=\"hello_timeout\"}"), 0);
  EXPECT_GE((*collector)->MetricValue("orgtrail_collector_ingest_streams_admitted"), held);
  sample();

  // (c) The silent streams are closed at the Hello deadline; only the agent's stream stays.
  ASSERT_TRUE(WaitFor([&] {
    sample();
    return finished.load() == kFloodStreams;
  }, std::chrono::milliseconds(kHelloTimeoutMs + 20000)));
  EXPECT_EQ(cancelled.load() + exhausted.load(), kFloodStreams);
  EXPECT_EQ((*collector)->MetricValue("orgtrail_collector_ingest_streams_closed_total{reason=\"hello_timeout\"}"),
            held);
  EXPECT_EQ((*collector)->MetricValue("orgtrail_collector_ingest_streams_admitted"), 1);
  const auto flood_s =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - flood_start).count();

  // (b) Threads stayed under the bound derived from the flags.
  EXPECT_LT(max_threads, thread_bound) << "base " << base_threads;
  std::cerr << "flood: " << kFloodStreams << " streams, " << held << " held, " << exhausted.load()
            << " refused RESOURCE_EXHAUSTED, " << kSilentConnections << " silent connections; threads base "
            << base_threads << " max " << max_threads << " bound " << thread_bound << "; legitimate agent start to "
            << "20 events acked+stored " << legit_ms << " ms; flood closed after " << flood_s << " ms\n";
}

TEST(IngestStreamFloodTest, LimitFlagsAreInHelp) {
  TempDir dir("ingest-flags");
  SubprocessOptions o;
  o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/collector/orgtrail-collector";
  o.args = {"--help"};
  o.log_dir = dir.path();
  auto p = Subprocess::Start(o);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value());
  EXPECT_EQ((*p)->ExitCode(), 0);
  for (const char* flag : {"--hello-timeout-ms", "--stream-idle-timeout-ms", "--max-streams-per-identity",
                           "--max-ingest-streams", "--grpc-max-threads"}) {
    EXPECT_NE((*p)->ReadStdout().find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace orgtrail::testutil
