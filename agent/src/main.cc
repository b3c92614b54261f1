// orgtrail-agent: one per account and region. Captures CloudTrail records
// (files, local PutEvents API, generator), applies the organization's trails,
// spools durably, signs batches and streams them to the collector over mTLS.
// Flags: --help. Design and the sequence rule: agent/README.md.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>

#include "orgtrail/agent/batcher.h"
#include "orgtrail/agent/dead_letters_command.h"
#include "orgtrail/agent/file_source.h"
#include "orgtrail/agent/generator_source.h"
#include "orgtrail/agent/intake.h"
#include "orgtrail/agent/put_events_service.h"
#include "orgtrail/agent/readiness_checks.h"
#include "orgtrail/agent/spool.h"
#include "orgtrail/agent/stream_client.h"
#include "orgtrail/common/allocator.h"
#include "orgtrail/common/build_info.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/http_server.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/time_util.h"
#include "faultenv/power_loss_fs.h"

namespace po = boost::program_options;
using namespace orgtrail;         // NOLINT
using namespace orgtrail::agent;  // NOLINT

namespace {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int UsageError(const std::string& message) {
  std::cerr << "orgtrail-agent: " << message << "\n";
  return 2;
}

// The test-only flag --test-power-loss-journal=FILE (not in --help) journals the spool's files
// (faultenv/power_loss_fs.h) so that a power cut can be simulated after a kill -9. It is taken
// out of argv before the documented options are parsed.
constexpr char kTestPowerLossFlag[] = "--test-power-loss-journal=";
std::vector<char*> ExtractTestFlags(int argc, char** argv, std::string* power_loss_journal) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], kTestPowerLossFlag, sizeof(kTestPowerLossFlag) - 1) == 0) {
      *power_loss_journal = argv[i] + sizeof(kTestPowerLossFlag) - 1;
      continue;
    }
    rest.push_back(argv[i]);
  }
  return rest;
}

int64_t FileMtimeNs(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Seals batches whenever sources add events or the age limit passes.
class BatcherLoop {
 public:
  BatcherLoop(Batcher* batcher, StreamClient* stream, Logger* logger, int64_t max_age_us)
      : batcher_(batcher), stream_(stream), logger_(logger),
        tick_(std::chrono::microseconds(std::max<int64_t>(max_age_us / 4, 5000))) {}
  void Start() { thread_ = std::thread([this] { Run(); }); }
  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, tick_, [&] { return stop_ || pending_; });
      pending_ = false;
      lock.unlock();
      const Status status = batcher_->SealAllDue();
      if (!status.ok()) logger_->Error("sealing failed", {{"error", status.ToString()}});
      stream_->Notify();
      lock.lock();
    }
  }
  Batcher* batcher_;
  StreamClient* stream_;
  Logger* logger_;
  std::chrono::microseconds tick_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  // Bounded allocator caches: RSS near what is in use (orgtrail/common/allocator.h).
  const std::string allocator = orgtrail::ConfigureDaemonAllocator();
  if (argc >= 2 && std::string(argv[1]) == "dead-letters") {
    return RunDeadLettersCommand(argc - 1, argv + 1, std::cout, std::cerr);
  }
  std::string power_loss_journal;
  std::vector<char*> args = ExtractTestFlags(argc, argv, &power_loss_journal);
  argc = static_cast<int>(args.size());
  argv = args.data();
  po::options_description options("orgtrail-agent options");
  options.add_options()
      ("collector", po::value<std::string>(), "collector address(es) host:port, comma-separated for failover (required)")
      ("ca", po::value<std::string>(), "organization CA certificate (PEM, required)")
      ("cert", po::value<std::string>(), "agent certificate (PEM, required; its SPIFFE ID is the agent identity; re-read on change)")
      ("key", po::value<std::string>(), "agent private key (PEM, required; signs batches; re-read on change)")
      ("trust-domain", po::value<std::string>()->default_value(""), "expected trust domain of the certificate (empty = any)")
      ("spool-dir", po::value<std::string>(), "directory of the RocksDB spool (required)")
      ("spool-max-bytes", po::value<std::string>()->default_value("256MiB"), "spool bound; sources pause when it is full")
      ("watch-dir", po::value<std::string>()->default_value(""), "comma-separated directories to watch for CloudTrail files")
      ("file-read-ahead", po::value<std::string>()->default_value("8MiB"), "while the collector acknowledges, watched files are read at most this far ahead of its acknowledgements (the rest waits in the file); after 5 s without one they are copied into the spool up to its bound (0 = always)")
      ("api-socket", po::value<std::string>()->default_value(""), "Unix socket path of the local PutEvents API (empty = off)")
      ("api-listen", po::value<std::string>()->default_value(""), "loopback host:port of the local PutEvents API (empty = off)")
      ("generator-rate", po::value<double>()->default_value(0), "generate realistic records at this rate per second (0 = off)")
      ("generator-seed", po::value<int64_t>()->default_value(1), "generator seed")
      ("generator-limit", po::value<int64_t>()->default_value(0), "stop the generator after this many records (0 = unlimited)")
      ("batch-max-events", po::value<int64_t>()->default_value(500), "cut a batch at this many events")
      ("batch-max-bytes", po::value<std::string>()->default_value("1MiB"), "cut a batch at this many bytes")
      ("batch-max-age", po::value<std::string>()->default_value("200ms"), "cut a batch when its oldest event waited this long")
      ("window", po::value<int64_t>()->default_value(32), "max unacknowledged batches in flight")
      ("ack-timeout-ms", po::value<int64_t>()->default_value(15000), "reopen the stream when batches are in flight and the collector was silent this long")
      ("unconfigured-selection", po::value<std::string>()->default_value("all"), "before any trail config was received: all | none")
      ("ops-listen", po::value<std::string>()->default_value("127.0.0.1:9444"), "HTTP /healthz, /readyz and /metrics address host:port")
      ("min-free-disk", po::value<std::string>()->default_value("256MiB"), "/readyz fails while the spool dir's file system has less free space")
      ("ready-collector-grace", po::value<std::string>()->default_value("30s"), "/readyz fails once no collector was connected for this long")
      ("tls-refresh-seconds", po::value<int64_t>()->default_value(2), "how often certificate files are re-read")
      ("log-level", po::value<std::string>()->default_value("info"), "debug | info | warn | error");
  po::variables_map values;
  BinaryInfo info{"orgtrail-agent",
                  "per account/region agent: capture, select, spool, sign and stream CloudTrail events",
                  "orgtrail-agent --collector HOST:PORT --ca CA --cert CERT --key KEY --spool-dir DIR [sources] [options]\n"
                  "       orgtrail-agent dead-letters --spool-dir DIR [--replay]   (list / replay refused batches; "
                  "agent stopped)"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &values,
                                  {"collector", "spool-dir", "ops-listen", "log-level", "watch-dir"});
  if (!outcome.ok()) return UsageError(std::string(outcome.status().message()));
  if (*outcome == ParseOutcome::kExitSuccess) return 0;

  LogLevel level;
  if (!ParseLogLevel(values["log-level"].as<std::string>(), &level)) {
    return UsageError("--log-level: expected debug|info|warn|error, got '" +
                      values["log-level"].as<std::string>() + "'");
  }
  for (const char* required : {"collector", "ca", "cert", "key", "spool-dir"}) {
    if (!values.count(required) || values[required].as<std::string>().empty()) {
      return UsageError(std::string("--") + required + ": required");
    }
  }
  const std::vector<std::string> collectors = SplitList(values["collector"].as<std::string>());
  for (const auto& c : collectors) {
    auto hp = ParseHostPort("--collector", c);
    if (!hp.ok()) return UsageError(std::string(hp.status().message()));
  }
  if (auto hp = ParseHostPort("--ops-listen", values["ops-listen"].as<std::string>()); !hp.ok()) {
    return UsageError(std::string(hp.status().message()));
  }
  auto spool_max = ParseByteSize("--spool-max-bytes", values["spool-max-bytes"].as<std::string>());
  if (!spool_max.ok()) return UsageError(std::string(spool_max.status().message()));
  if (*spool_max < 64 * 1024) return UsageError("--spool-max-bytes: must be at least 64KiB");
  auto file_read_ahead = ParseByteSize("--file-read-ahead", values["file-read-ahead"].as<std::string>());
  if (!file_read_ahead.ok()) return UsageError(std::string(file_read_ahead.status().message()));
  auto min_free_disk = ParseByteSize("--min-free-disk", values["min-free-disk"].as<std::string>());
  if (!min_free_disk.ok()) return UsageError(std::string(min_free_disk.status().message()));
  auto collector_grace = ParseDuration("--ready-collector-grace", values["ready-collector-grace"].as<std::string>());
  if (!collector_grace.ok()) return UsageError(std::string(collector_grace.status().message()));
  const int64_t collector_grace_ms = *collector_grace / 1000;
  auto batch_bytes = ParseByteSize("--batch-max-bytes", values["batch-max-bytes"].as<std::string>());
  if (!batch_bytes.ok()) return UsageError(std::string(batch_bytes.status().message()));
  if (*batch_bytes < 1024 || *batch_bytes > (256ull << 20)) {
    return UsageError("--batch-max-bytes: must be between 1KiB and 256MiB");
  }
  auto batch_age = ParseDuration("--batch-max-age", values["batch-max-age"].as<std::string>());
  if (!batch_age.ok()) return UsageError(std::string(batch_age.status().message()));
  if (*batch_age < 1000 || *batch_age > 3600LL * 1000000) {
    return UsageError("--batch-max-age: must be between 1ms and 1h");
  }
  const int64_t batch_events = values["batch-max-events"].as<int64_t>();
  if (batch_events < 1 || batch_events > 100000) {
    return UsageError("--batch-max-events: must be between 1 and 100000");
  }
  const int64_t window = values["window"].as<int64_t>();
  if (window < 1 || window > 10000) return UsageError("--window: must be between 1 and 10000");
  const int64_t ack_timeout_ms = values["ack-timeout-ms"].as<int64_t>();
  if (ack_timeout_ms < 100 || ack_timeout_ms > 3600000) {
    return UsageError("--ack-timeout-ms: must be between 100 and 3600000");
  }
  const double generator_rate = values["generator-rate"].as<double>();
  if (!(generator_rate >= 0) || generator_rate > 1e7) {
    return UsageError("--generator-rate: must be between 0 and 10000000");
  }
  const int64_t generator_limit = values["generator-limit"].as<int64_t>();
  if (generator_limit < 0) return UsageError("--generator-limit: must be >= 0");
  const std::string unconfigured = values["unconfigured-selection"].as<std::string>();
  if (unconfigured != "all" && unconfigured != "none") {
    return UsageError("--unconfigured-selection: expected all or none, got '" + unconfigured + "'");
  }
  const int64_t tls_refresh = values["tls-refresh-seconds"].as<int64_t>();
  if (tls_refresh < 1 || tls_refresh > 3600) return UsageError("--tls-refresh-seconds: must be between 1 and 3600");

  TlsFiles tls{values["ca"].as<std::string>(), values["cert"].as<std::string>(),
               values["key"].as<std::string>(), static_cast<int>(tls_refresh)};
  auto cert_pem = ReadFile(tls.cert_path);
  if (!cert_pem.ok()) return UsageError("--cert: " + std::string(cert_pem.status().message()));
  auto identity = IdentityFromCertificatePem(*cert_pem, values["trust-domain"].as<std::string>());
  if (!identity.ok()) return UsageError("--cert: " + std::string(identity.status().message()));
  if (identity->role != Role::kAgent) {
    return UsageError("--cert: " + identity->spiffe_id + " is not an agent identity");
  }
  auto signer = Signer::FromPrivateKeyFile(tls.key_path);
  if (!signer.ok()) return UsageError("--key: " + std::string(signer.status().message()));

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Logger logger("agent", 2, level);
  MetricsRegistry metrics;
  ExportBuildInfo(&metrics);

  SpoolOptions spool_options;
  spool_options.path = values["spool-dir"].as<std::string>();
  spool_options.max_bytes = *spool_max;
  std::unique_ptr<faultenv::PowerLossEnv> power_loss_env;
  if (!power_loss_journal.empty()) {
    auto env = faultenv::OpenPowerLossEnv(power_loss_journal);
    if (!env.ok()) {
      logger.Error("cannot open the power-loss journal", {{"error", env.status().ToString()}});
      return 1;
    }
    power_loss_env = std::move(*env);
    spool_options.env = power_loss_env->env.get();
    logger.Warn("TEST MODE: the spool's files are journaled for power-loss simulation",
                {{"journal", power_loss_journal}});
  }
  auto spool_or = Spool::Open(spool_options);
  if (!spool_or.ok()) {
    logger.Error("cannot open spool", {{"error", spool_or.status().ToString()}});
    return 1;
  }
  Spool* spool = spool_or->get();
  auto epoch = spool->BumpEpoch();
  if (!epoch.ok()) {
    logger.Error("cannot persist epoch", {{"error", epoch.status().ToString()}});
    return 1;
  }

  IntakeOptions intake_options;
  intake_options.account_id = identity->account_id;
  intake_options.region = identity->region;
  intake_options.unconfigured =
      unconfigured == "all" ? UnconfiguredSelection::kAll : UnconfiguredSelection::kNone;
  EventIntake intake(intake_options, &metrics);
  if (auto config = spool->GetTrailConfig()) intake.SetTrailConfig(*config);

  BatcherOptions batcher_options;
  batcher_options.max_batch_events = static_cast<size_t>(batch_events);
  batcher_options.max_batch_bytes = static_cast<size_t>(*batch_bytes);
  batcher_options.max_batch_age_us = *batch_age;
  Batcher batcher(spool, identity->spiffe_id, batcher_options, &logger, &metrics);
  batcher.SetEpoch(*epoch);
  batcher.SetSigner(std::shared_ptr<const Signer>(std::move(*signer)));

  StreamClientOptions stream_options;
  stream_options.collectors = collectors;
  stream_options.tls = tls;
  stream_options.agent_id = identity->spiffe_id;
  stream_options.agent_version = VersionString();
  stream_options.window = static_cast<uint32_t>(window);
  stream_options.ack_timeout_ms = static_cast<int>(ack_timeout_ms);
  StreamClient stream(stream_options, spool, &batcher, &intake, &logger, &metrics);
  stream.SetEpoch(*epoch);
  BatcherLoop batcher_loop(&batcher, &stream, &logger, *batch_age);
  auto on_spooled = [&batcher_loop] { batcher_loop.Notify(); };

  metrics.AddGaugeCallback("orgtrail_agent_spool_events", "Events in the spool by state", [spool] {
    const SpoolStats s = spool->Stats();
    return std::vector<std::pair<MetricLabels, double>>{
        {{{"state", "pending"}}, static_cast<double>(s.pending_events)}};
  });
  metrics.AddGaugeCallback("orgtrail_agent_spool_batches", "Sealed, unacknowledged batches in the spool", [spool] {
    return std::vector<std::pair<MetricLabels, double>>{
        {{}, static_cast<double>(spool->Stats().sealed_batches)}};
  });
  metrics.AddGaugeCallback("orgtrail_agent_spool_bytes", "Bytes used in the spool (pending + sealed) and its bound", [spool] {
    const SpoolStats s = spool->Stats();
    return std::vector<std::pair<MetricLabels, double>>{
        {{{"kind", "used"}}, static_cast<double>(s.pending_bytes + s.sealed_bytes)},
        {{{"kind", "max"}}, static_cast<double>(s.max_bytes)}};
  });
  metrics.AddGaugeCallback("orgtrail_agent_spool_oldest_age_seconds", "Age of the oldest unacknowledged data in the spool", [spool] {
    return std::vector<std::pair<MetricLabels, double>>{
        {{}, static_cast<double>(spool->OldestAgeMicros(NowMicros())) / 1e6}};
  });
  metrics.AddGaugeCallback("orgtrail_agent_dead_letter_batches", "Batches in the dead-letter store", [spool] {
    return std::vector<std::pair<MetricLabels, double>>{{{}, static_cast<double>(spool->Stats().dead_letters)}};
  });
  metrics.AddGaugeCallback("orgtrail_agent_quarantined_files", "Inputs in the quarantine list (malformed files, over-long lines, unreadable spool entries)", [spool] {
    return std::vector<std::pair<MetricLabels, double>>{{{}, static_cast<double>(spool->Stats().quarantined)}};
  });

  HttpServer ops;
  ops.Handle("/healthz", [&](const std::string&) {
    HttpResponse r;
    const SpoolStats s = spool->Stats();
    r.content_type = "application/json";
    // Liveness stays 200 with dead letters ("degraded": refused batches wait for an operator,
    // orgtrail-agent dead-letters). A failed spool write makes the agent fail-stop within a
    // tick: from that write on it is not alive (503, "failed").
    const bool spool_failed = spool->failed();
    if (spool_failed) r.status = 503;
    r.body = std::string("{\"status\":\"") + (spool_failed ? "failed" : s.dead_letters > 0 ? "degraded" : "ok") +
             "\",\"spool_failed\":" + (spool_failed ? "true" : "false") +
             ",\"dead_letters\":" + std::to_string(s.dead_letters) +
             ",\"connected\":" + (stream.connected() ? "true" : "false") +
             ",\"acked_sequence\":" + std::to_string(stream.acked_sequence()) +
             ",\"pending_events\":" + std::to_string(s.pending_events) +
             ",\"sealed_batches\":" + std::to_string(s.sealed_batches) + "}\n";
    return r;
  });
  Readiness readiness;
  AgentReadinessOptions readiness_options;
  readiness_options.spool_dir = spool_options.path;
  readiness_options.min_free_disk_bytes = *min_free_disk;
  AddAgentReadinessChecks(&readiness, spool, readiness_options,
                          [&stream, collector_grace_ms] { return stream.ReadinessFailure(collector_grace_ms); });
  ops.Handle("/readyz", [&](const std::string&) { return readiness.Evaluate(); });
  ops.Handle("/metrics", [&](const std::string&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics.RenderPrometheus();
    return r;
  });

  std::unique_ptr<FileSource> files;
  const std::vector<std::string> watch_dirs = SplitList(values["watch-dir"].as<std::string>());
  if (!watch_dirs.empty()) {
    FileSourceOptions file_options;
    file_options.roots = watch_dirs;
    file_options.max_chunk_bytes = std::min<uint64_t>(4 << 20, std::max<uint64_t>(1, *spool_max / 8));
    file_options.read_ahead_bytes = *file_read_ahead;
    files = std::make_unique<FileSource>(file_options, spool, &intake, &logger, &metrics, on_spooled, &batcher);
  }
  std::unique_ptr<PutEventsService> api;
  std::unique_ptr<grpc::Server> api_server;
  const std::string api_socket = values["api-socket"].as<std::string>();
  const std::string api_listen = values["api-listen"].as<std::string>();
  if (!api_socket.empty() || !api_listen.empty()) {
    api = std::make_unique<PutEventsService>(spool, &intake, &logger, &metrics, on_spooled);
    int api_port = 0;
    auto server = StartAgentApiServer(api.get(), api_socket, api_listen, &api_port);
    if (!server.ok()) {
      logger.Error("cannot start the local API", {{"error", server.status().ToString()}});
      return server.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    }
    api_server = std::move(*server);
    logger.Info("local PutEvents API listening", {{"socket", api_socket}, {"tcp_port", api_port}});
  }
  // The ops endpoint starts last of the listeners: once /healthz answers, the local API
  // (when configured) accepts calls too (tests and probes rely on that order).
  auto ops_port = ops.Start(values["ops-listen"].as<std::string>());
  if (!ops_port.ok()) {
    logger.Error("cannot start the ops HTTP server", {{"error", ops_port.status().ToString()}});
    return 1;
  }
  std::unique_ptr<GeneratorSource> generator;
  if (generator_rate > 0) {
    GeneratorSourceOptions generator_options;
    generator_options.generator.seed = static_cast<uint64_t>(values["generator-seed"].as<int64_t>());
    generator_options.generator.account_id = identity->account_id;
    generator_options.generator.region = identity->region;
    generator_options.generator.use_wall_clock = true;
    generator_options.events_per_second = generator_rate;
    generator_options.limit = static_cast<uint64_t>(generator_limit);
    generator_options.max_chunk = static_cast<size_t>(
        std::clamp<uint64_t>(*spool_max / 8 / 2048, 1, 256));  // ~2 KB per spooled event
    generator = std::make_unique<GeneratorSource>(generator_options, spool, &intake, &logger,
                                                  &metrics, on_spooled, &batcher);
  }

  logger.Info("agent starting", {{"agent", identity->spiffe_id},
                                 {"allocator", allocator},
                                 {"epoch", *epoch},
                                 {"fresh_spool", spool->fresh()},
                                 {"ops_port", *ops_port},
                                 {"collectors", values["collector"].as<std::string>()}});
  stream.Start();
  batcher_loop.Start();
  if (files) {
    if (auto s = files->Start(); !s.ok()) {
      logger.Error("cannot start the file source", {{"error", s.ToString()}});
      stream.Stop();
      batcher_loop.Stop();
      return 2;
    }
  }
  if (generator) generator->Start();

  // Main thread: signals, and the key file watch (rotation re-signs stored batches).
  int64_t key_mtime = FileMtimeNs(tls.key_path);
  std::string public_key = batcher.signer()->PublicKeyDer();
  struct timespec tick{1, 0};
  int exit_code = 0;
  while (true) {
    const int received = sigtimedwait(&signals, nullptr, &tick);
    if (received == SIGTERM || received == SIGINT) {
      logger.Info("shutting down", {{"signal", received}});
      break;
    }
    if (spool->failed()) {
      // Fail-stop: RocksDB refuses writes after a failed write/sync until it is
      // reopened; the supervisor restarts the agent, which recovers from its WAL.
      logger.Error("spool write failed; fail-stop: exiting so that the supervisor restarts the agent", {});
      exit_code = 1;
      break;
    }
    const int64_t mtime = FileMtimeNs(tls.key_path);
    if (mtime != key_mtime) {
      key_mtime = mtime;
      auto new_signer = Signer::FromPrivateKeyFile(tls.key_path);
      if (!new_signer.ok()) {
        logger.Warn("key file changed but is not readable yet", {{"error", new_signer.status().ToString()}});
        key_mtime = -2;  // retry next tick
        continue;
      }
      if ((*new_signer)->PublicKeyDer() != public_key) {
        public_key = (*new_signer)->PublicKeyDer();
        batcher.SetSigner(std::shared_ptr<const Signer>(std::move(*new_signer)));
        const Status resigned = batcher.ResignAll();
        logger.Info("signing key rotated; stored batches re-signed",
                    {{"ok", resigned.ok()}, {"error", resigned.ToString()}});
      }
    }
  }
  if (generator) generator->Stop();
  if (files) files->Stop();
  if (api_server) api_server->Shutdown();
  batcher_loop.Stop();
  stream.Stop();
  ops.Stop();
  return exit_code;
}
