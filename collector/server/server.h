// CollectorServer: the collector process minus flag parsing. Owns the store,
// the committer, the trail manager, the Ingest and Admin gRPC services, the
// gRPC server (mutual TLS: MakeServerCredentials with a
// FileWatcherCertificateProvider, client certificates required) and the HTTP
// ops server (/healthz: 200 "ok" or 503 with the fail-stop reason; /metrics).
// With a CRL and/or a deny list configured it owns the RevocationWatcher
// (collector/ingest/revocation_watcher.h): Open() fails on a missing or
// malformed file; from Start() on, every reloaded list goes to the Ingest
// service (which refuses and closes revoked streams) and to the Admin service.
//
// CloudTrail Insights (collector/insights/) run on the stored management events for the types
// the logging trails select (put-insight-selectors); their records are stored by the collector
// like its self-audit records. /readyz check "insights" is red when the engine stopped.
//
// Every call to an audited service (collector/selfaudit/) is recorded as an event before it is
// answered; Open() fails when the --cert certificate is not a collector SVID
// (spiffe://<org>/collector/<name>), whose key signs those records.
//
// Life cycle: construct -> Open() (opens the store; store(), trails(), ...
// are usable from here) -> AddService() for extra gRPC services (Query,
// Subscribe, ...; not owned, must outlive the server) -> Start() (binds,
// logs one JSON line "collector listening" with grpc_port and http_port) ->
// Shutdown() (also in the destructor).
//
// Adding a service (query/export engineers): in collector/server/main.cc, after
// server.Open() and before server.Start():
//   MyService svc(server.store(), server.logger(), server.metrics(), ...);
//   server.AddService(&svc);
// Threads: the gRPC server's threads are bounded by a ResourceQuota
// (grpc_max_threads; an RPC that finds no thread is answered
// RESOURCE_EXHAUSTED by gRPC itself); each Hello'd ingest stream adds one
// writer thread, so the process stays under
//   fixed threads (RocksDB, committer, export, HTTP, watchdog: ~20)
//   + grpc_max_threads + max_ingest_streams.
// Thread safety: Open/AddService/Start/Shutdown from one thread; accessors
// and HealthReason from any thread.
#ifndef ORGTRAIL_COLLECTOR_SERVER_SERVER_H_
#define ORGTRAIL_COLLECTOR_SERVER_SERVER_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "collector/admin/admin_service.h"
#include "collector/ingest/committer.h"
#include "faultenv/power_loss_fs.h"
#include "faultenv/sync_fault_fs.h"
#include "collector/ingest/ingest_service.h"
#include "collector/ingest/revocation_watcher.h"
#include "collector/insights/insights_engine.h"
#include "collector/selfaudit/audit_interceptor.h"
#include "collector/selfaudit/self_auditor.h"
#include "collector/store/store.h"
#include "collector/admin/trail_manager.h"
#include "orgtrail/common/classify.h"
#include "collector/server/health_service.h"
#include "orgtrail/common/http_server.h"
#include "orgtrail/common/readiness.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/shard_map.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::collector {

struct CollectorServerOptions {
  std::string listen = "127.0.0.1:7443";       // gRPC (port 0 = any free port)
  std::string http_listen = "127.0.0.1:9443";  // /healthz, /metrics
  std::string data_dir;                        // RocksDB lives in <data_dir>/db
  TlsFiles tls;
  std::string trust_domain;
  std::string collector_id = "collector";
  std::shared_ptr<const ShardMap> shard_map;  // sharded ingest (--shard-map); null = one collector
  std::string shard_name;                     // this collector's shard (--shard)
  std::string home_region = "us-east-1";
  std::vector<std::string> global_services;  // empty = GlobalServiceClassifier's default set
  std::set<std::string> allowed_regions;
  std::string management_account_id = "000000000000";
  uint64_t max_batch_bytes = 16ull << 20;
  uint32_t max_unacked_batches = 64;
  uint32_t max_events_per_batch = 10000;
  uint64_t max_event_bytes = 1ull << 20;
  int64_t retention_us = 0;
  bool hold_retention_for_export = false;  // retention keeps what the export has not written yet
  uint64_t store_cache_bytes = 64ull << 20;      // StoreOptions::block_cache_bytes
  uint64_t store_memtable_bytes = 32ull << 20;  // StoreOptions::memtable_budget_bytes
  int64_t test_fail_sync_after = -1;  // tests only: fail RocksDB syncs after N (-1 = never)
  std::string test_power_loss_journal;  // tests only: journal the store's files (faultenv/)
  int64_t test_transient_faults = 0;  // tests only: answer the first N batches as a collector fault
  // Ingest stream caps and deadlines (collector/ingest/stream_registry.h).
  uint32_t max_ingest_streams = 1024;
  uint32_t max_streams_per_identity = 2;
  int64_t hello_timeout_ms = 10'000;          // also the TLS handshake deadline
  int64_t stream_idle_timeout_ms = 300'000;   // also closes connections without any call
  // gRPC ResourceQuota: threads of the sync server (handlers of every service).
  // Default: the ingest cap plus 256 for queries, admin and subscriptions.
  int grpc_max_threads = 1280;
  // Revocation (collector/ingest/revocation_watcher.h): "" = none.
  std::string crl_file;
  std::string deny_list_file;
  int64_t revocation_poll_ms = 1000;
  // Readiness (/readyz): the data dir's file system must keep this much free.
  uint64_t min_free_disk_bytes = 512ull << 20;
  // CloudTrail Insights: baseline, warm-up and thresholds (the types come from the trails).
  InsightOptions insights;
};

class CollectorServer {
 public:
  CollectorServer(CollectorServerOptions options, Logger* logger, MetricsRegistry* metrics);
  ~CollectorServer();
  CollectorServer(const CollectorServer&) = delete;
  CollectorServer& operator=(const CollectorServer&) = delete;

  Status Open();
  void AddService(grpc::Service* service);
  Status Start();
  void Shutdown();

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  // "" when healthy, else why not (fail-stop reason).
  std::string HealthReason() const;
  // A check of /readyz and of the grpc.health.v1 service beside the server's own (committer
  // not fail-stopped, free disk space in the data dir); before Start(). See
  // orgtrail/common/readiness.h.
  void AddReadinessCheck(std::string name, Readiness::Check check);

  EventStore* store() const { return store_.get(); }
  TrailManager* trails() const { return trails_.get(); }
  Logger* logger() const { return logger_; }
  MetricsRegistry* metrics() const { return metrics_; }
  const GlobalServiceClassifier& classifier() const { return *classifier_; }
  const CollectorServerOptions& options() const { return options_; }
  const std::string& home_region() const { return options_.home_region; }
  const std::string& trust_domain() const { return options_.trust_domain; }
  // For services wired in main(): checks a caller against the revocation list
  // in force and counts refusals in orgtrail_collector_revoked_refusals_total
  // {service}. Empty when no revocation file is configured. After Open().
  RevocationCheck revocation_check(const std::string& service) const;
  // "" while the Insights engine runs, else why it stopped.
  std::string InsightsFailure() const;

 private:
  void RegisterGauges();

  CollectorServerOptions options_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  faultenv::SyncFaultState fault_state_;
  std::unique_ptr<rocksdb::Env> fault_env_;
  std::unique_ptr<faultenv::PowerLossEnv> power_loss_env_;
  std::unique_ptr<GlobalServiceClassifier> classifier_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<TrailManager> trails_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<RevocationWatcher> revocation_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<SelfAuditor> self_auditor_;
  std::unique_ptr<InsightsEngine> insights_;
  std::vector<grpc::Service*> extra_services_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<HttpServer> http_server_;
  Readiness readiness_;
  std::unique_ptr<HealthService> health_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  bool started_ = false;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SERVER_SERVER_H_
