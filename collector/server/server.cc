#include "collector/server/server.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "collector/store/store_metrics.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {

CollectorServer::CollectorServer(CollectorServerOptions options, Logger* logger, MetricsRegistry* metrics)
    : options_(std::move(options)), logger_(logger), metrics_(metrics) {}

CollectorServer::~CollectorServer() { Shutdown(); }

Status CollectorServer::Open() {
  if (options_.trust_domain.empty()) return absl::InvalidArgumentError("--trust-domain is required");
  if (options_.data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) return absl::InvalidArgumentError("--data-dir: cannot create '" + options_.data_dir + "': " + ec.message());

  classifier_ = options_.global_services.empty()
                    ? std::make_unique<GlobalServiceClassifier>()
                    : std::make_unique<GlobalServiceClassifier>(options_.global_services);
  StoreOptions store_options;
  store_options.org = options_.trust_domain;
  store_options.retention_us = options_.retention_us;
  store_options.hold_retention_until_exported = options_.hold_retention_for_export;
  store_options.block_cache_bytes = options_.store_cache_bytes;
  store_options.memtable_budget_bytes = options_.store_memtable_bytes;
  store_options.write_buffer_bytes = std::min<uint64_t>(64ull << 20, options_.store_memtable_bytes / 2);
  if (options_.test_fail_sync_after >= 0) {
    // Armed in Start(): the count runs from the moment the collector listens.
    fault_env_ = faultenv::NewSyncFaultEnv(&fault_state_);
    store_options.env = fault_env_.get();
    logger_->Warn("TEST MODE: RocksDB syncs will fail", {{"after_syncs", options_.test_fail_sync_after}});
  }
  if (!options_.test_power_loss_journal.empty()) {
    // Over the sync-failing file system when both are on: a failed sync keeps nothing durable.
    auto env = faultenv::OpenPowerLossEnv(options_.test_power_loss_journal,
                                          fault_env_ != nullptr ? fault_env_->GetFileSystem() : nullptr);
    if (!env.ok()) return env.status();
    power_loss_env_ = std::move(*env);
    store_options.env = power_loss_env_->env.get();
    logger_->Warn("TEST MODE: the store's files are journaled for power-loss simulation",
                  {{"journal", options_.test_power_loss_journal}});
  }
  auto store = EventStore::Open(options_.data_dir + "/db", store_options);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);

  committer_ = std::make_unique<Committer>(store_.get(), logger_, metrics_);
  TrailManagerOptions trail_options;
  trail_options.home_region = options_.home_region;
  trail_options.management_account_id = options_.management_account_id;
  auto trails = TrailManager::Open(store_.get(), trail_options);
  if (!trails.ok()) return trails.status();
  trails_ = std::move(*trails);

  IngestServiceOptions ingest_options;
  ingest_options.trust_domain = options_.trust_domain;
  ingest_options.collector_id = options_.collector_id;
  ingest_options.shard_map = options_.shard_map;
  ingest_options.shard_name = options_.shard_name;
  ingest_options.policy.home_region = options_.home_region;
  ingest_options.policy.classifier = classifier_.get();
  ingest_options.policy.allowed_regions = options_.allowed_regions;
  ingest_options.policy.max_events_per_batch = options_.max_events_per_batch;
  ingest_options.policy.max_batch_bytes = options_.max_batch_bytes;
  ingest_options.policy.max_event_bytes = options_.max_event_bytes;
  ingest_options.policy.retention_us = options_.retention_us;
  if (options_.test_transient_faults > 0) {
    ingest_options.policy.test_transient_faults =
        std::make_shared<std::atomic<int64_t>>(options_.test_transient_faults);
    logger_->Warn("TEST MODE: batches will be answered as collector faults",
                  {{"batches", options_.test_transient_faults}});
  }
  ingest_options.max_unacked_batches = options_.max_unacked_batches;
  ingest_options.limits.max_streams = options_.max_ingest_streams;
  ingest_options.limits.max_streams_per_identity = options_.max_streams_per_identity;
  ingest_options.limits.hello_timeout_us = options_.hello_timeout_ms * 1000;
  ingest_options.limits.idle_timeout_us = options_.stream_idle_timeout_ms * 1000;
  TrailManager* trail_manager = trails_.get();
  ingest_ = std::make_unique<IngestService>(ingest_options, store_.get(), committer_.get(), logger_, metrics_,
                                            [trail_manager] { return trail_manager->Config(); });
  IngestService* ingest = ingest_.get();
  if (!options_.crl_file.empty() || !options_.deny_list_file.empty()) {
    RevocationFiles files;
    files.crl_path = options_.crl_file;
    files.deny_list_path = options_.deny_list_file;
    files.ca_path = options_.tls.ca_cert_path;
    files.poll_interval_us = options_.revocation_poll_ms * 1000;
    auto watcher = RevocationWatcher::Open(files, logger_, metrics_);
    if (!watcher.ok()) return watcher.status();
    revocation_ = std::move(*watcher);
    ingest_->SetRevocationList(revocation_->Current());
  }
  trails_->SetChangeListener([ingest](const v1::TrailConfig& config) { ingest->PushTrailConfig(config); });

  AdminServiceOptions admin_options;
  admin_options.trust_domain = options_.trust_domain;
  admin_options.collector_id = options_.collector_id;
  admin_options.home_region = options_.home_region;
  admin_options.health_reason = [this] { return HealthReason(); };
  admin_options.connected_agents = [ingest] { return ingest->ConnectedAgents(); };
  admin_options.revoked = revocation_check("admin");
  admin_options.data_dir = options_.data_dir;
  admin_ = std::make_unique<AdminService>(admin_options, store_.get(), trails_.get(), logger_);

  SelfAuditOptions audit_options;
  audit_options.trust_domain = options_.trust_domain;
  audit_options.cert_path = options_.tls.cert_path;
  audit_options.key_path = options_.tls.key_path;
  audit_options.record.management_account_id = options_.management_account_id;
  audit_options.record.home_region = options_.home_region;
  audit_options.record.collector_id = options_.collector_id;
  audit_options.policy = ingest_options.policy;
  audit_options.policy.test_transient_faults.reset();  // injected for agents' batches only
  auto auditor = SelfAuditor::Open(audit_options, store_.get(), committer_.get(), logger_, metrics_);
  if (!auditor.ok()) return auditor.status();
  self_auditor_ = std::move(*auditor);

  InsightsEngineOptions insights_options;
  insights_options.detector = options_.insights;
  insights_options.types = [trail_manager] { return InsightTypesOf(trail_manager->Config()); };
  insights_ = std::make_unique<InsightsEngine>(store_.get(), self_auditor_->sender(), logger_, metrics_,
                                               insights_options);
  RegisterGauges();
  return Status();
}

RevocationCheck CollectorServer::revocation_check(const std::string& service) const {
  if (revocation_ == nullptr) return RevocationCheck();
  Counter* refusals = metrics_->GetCounter("orgtrail_collector_revoked_refusals_total",
                                           "Calls refused because the caller's certificate is revoked, by service",
                                           {{"service", service}});
  const RevocationWatcher* watcher = revocation_.get();
  return [watcher, refusals](const std::string& pem) {
    std::optional<std::string> why = watcher->CheckPem(pem);
    if (why.has_value()) refusals->Increment();
    return why;
  };
}

void CollectorServer::RegisterGauges() {
  EventStore* store = store_.get();
  metrics_->AddGaugeCallback("orgtrail_collector_agent_high_water_sequence",
                             "Highest durably stored batch sequence per agent", [store] {
                               std::vector<std::pair<MetricLabels, double>> out;
                               for (const AgentState& s : store->ListAgentStates()) {
                                 out.push_back({{{"agent", s.agent_id}}, static_cast<double>(s.high_water_sequence)});
                               }
                               return out;
                             });
  metrics_->AddGaugeCallback("orgtrail_collector_agent_lag_seconds",
                             "Seconds since the agent's last stored batch", [store] {
                               std::vector<std::pair<MetricLabels, double>> out;
                               int64_t now = NowMicros();
                               for (const AgentState& s : store->ListAgentStates()) {
                                 out.push_back({{{"agent", s.agent_id}}, (now - s.last_seen_us) / 1e6});
                               }
                               return out;
                             });
  metrics_->AddGaugeCallback("orgtrail_collector_events_in_store", "Events stored since the store was created",
                             [store] {
                               return std::vector<std::pair<MetricLabels, double>>{
                                   {{}, static_cast<double>(store->events_stored())}};
                             });
  const std::string trust_domain = options_.trust_domain;
  metrics_->AddGaugeCallback("orgtrail_collector_self_audit_events_in_store",
                             "Of orgtrail_collector_events_in_store: the collector's self-audit records (eventSource orgtrail)",
                             [store, trust_domain] {
                               uint64_t events = 0;
                               for (const AgentState& s : store->ListAgentStates()) {
                                 auto sender = ParseSpiffeId(s.agent_id, trust_domain);
                                 if (sender.ok() && sender->role == Role::kCollector) events += s.events_stored;
                               }
                               return std::vector<std::pair<MetricLabels, double>>{{{}, static_cast<double>(events)}};
                             });
  RegisterStoreEngineMetrics(store, metrics_);
  Committer* committer = committer_.get();
  metrics_->AddGaugeCallback("orgtrail_collector_commit_queue_batches", "Batches waiting for a group commit",
                             [committer] {
                               return std::vector<std::pair<MetricLabels, double>>{
                                   {{}, static_cast<double>(committer->pending())}};
                             });
}

void CollectorServer::AddService(grpc::Service* service) { extra_services_.push_back(service); }

void CollectorServer::AddReadinessCheck(std::string name, Readiness::Check check) {
  readiness_.Add(std::move(name), std::move(check));
}

std::string CollectorServer::InsightsFailure() const { return insights_ ? insights_->failure() : ""; }

std::string CollectorServer::HealthReason() const {
  if (committer_ == nullptr) return "not started";
  if (committer_->failed()) return committer_->failure_reason();
  return "";
}

Status CollectorServer::Start() {
  if (store_ == nullptr) return absl::FailedPreconditionError("CollectorServer::Start before Open");
  auto credentials = MakeServerCredentials(options_.tls);
  if (!credentials.ok()) return credentials.status();
  if (fault_env_ != nullptr) {
    fault_state_.syncs_seen.store(0);
    fault_state_.syncs_before_failure.store(options_.test_fail_sync_after);
  }
  committer_->Start();
  self_auditor_->Start();
  ORGTRAIL_RETURN_IF_ERROR(insights_->Start());
  if (revocation_ != nullptr) {
    IngestService* ingest = ingest_.get();
    revocation_->Start([ingest](std::shared_ptr<const RevocationList> list) {
      ingest->SetRevocationList(std::move(list));
    });
  }

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, *credentials, &grpc_port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_batch_bytes + (1 << 20)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // A connection that never finishes its TLS handshake, or keeps no call open, is closed.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, static_cast<int>(options_.hello_timeout_ms));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, static_cast<int>(options_.stream_idle_timeout_ms));
  grpc::ResourceQuota quota("orgtrail-collector");
  quota.SetMaxThreads(options_.grpc_max_threads);
  builder.SetResourceQuota(quota);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<AuditInterceptorFactory>(self_auditor_.get(), options_.trust_domain));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  // Checks are added before any server can evaluate them (they are not guarded once serving).
  readiness_.Add("committer", [this] { return HealthReason(); });
  readiness_.Add("insights", [this] { return InsightsFailure(); });
  readiness_.Add("disk", [this] { return DiskSpaceFailure(options_.data_dir, options_.min_free_disk_bytes); });
  health_ = std::make_unique<HealthService>(&readiness_);
  builder.RegisterService(health_.get());
  builder.RegisterService(ingest_.get());
  builder.RegisterService(admin_.get());
  for (grpc::Service* service : extra_services_) builder.RegisterService(service);
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError("--listen: cannot bind gRPC server on '" + options_.listen + "'");
  }

  http_server_ = std::make_unique<HttpServer>();
  http_server_->Handle("/healthz", [this](const std::string&) {
    std::string reason = HealthReason();
    HttpResponse response;
    response.status = reason.empty() ? 200 : 503;
    response.body = reason.empty() ? "ok\n" : reason + "\n";
    return response;
  });
  http_server_->Handle("/readyz", [this](const std::string&) { return readiness_.Evaluate(); });
  MetricsRegistry* metrics = metrics_;
  http_server_->Handle("/metrics", [metrics](const std::string&) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics->RenderPrometheus();
    return response;
  });
  auto http_port = http_server_->Start(options_.http_listen);
  if (!http_port.ok()) {
    return absl::UnavailableError("--http-listen: " + std::string(http_port.status().message()));
  }
  http_port_ = *http_port;
  started_ = true;
  logger_->Info("collector listening", {{"grpc_port", grpc_port_},
                                        {"http_port", http_port_},
                                        {"collector_id", options_.collector_id},
                                        {"trust_domain", options_.trust_domain},
                                        {"home_region", options_.home_region},
                                        {"data_dir", options_.data_dir},
                                        {"grpc_max_threads", options_.grpc_max_threads},
                                        {"max_ingest_streams", options_.max_ingest_streams},
                                        {"crl_file", options_.crl_file},
                                        {"deny_list_file", options_.deny_list_file},
                                        {"events_stored", store_->events_stored()}});
  return Status();
}

void CollectorServer::Shutdown() {
  if (revocation_) revocation_->Stop();
  if (health_) health_->Stop();  // ends Watch streams, so the shutdown need not wait for them
  if (grpc_server_) {
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc_server_.reset();
  }
  if (http_server_) {
    http_server_->Stop();
    http_server_.reset();
  }
  if (insights_) insights_->Stop();          // before its sender and the committer
  if (self_auditor_) self_auditor_->Stop();  // after gRPC: calls in flight still get their records
  if (committer_) committer_->Stop();
  if (started_) logger_->Info("collector stopped", {});
  started_ = false;
}

}  // namespace orgtrail::collector
