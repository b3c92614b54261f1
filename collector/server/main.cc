// orgtrail-collector: the central collector (ingest, storage, admin).
// Flags are documented by --help; see collector/server/server.h.
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include <boost/program_options.hpp>

#include "collector/findings/findings_deliverer.h"
#include "collector/findings/sigma_detections.h"
#include "collector/alarms/alarm_config.h"
#include "collector/alarms/alarm_engine.h"
#include "collector/server/export_runner.h"
#include "collector/query/query_service.h"
#include "collector/query/subscribe_service.h"
#include "collector/server/server.h"
#include "orgtrail/common/allocator.h"
#include "orgtrail/common/build_info.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"

namespace po = boost::program_options;

namespace {

constexpr char kTestFailSyncFlag[] = "--test-fail-sync-after=";
constexpr char kTestTransientFaultsFlag[] = "--test-transient-faults=";
constexpr char kTestPowerLossFlag[] = "--test-power-loss-journal=";

// Parses the value of a test flag: a non-negative integer.
bool ParseTestFlagValue(const char* value, int64_t* out) {
  char* end = nullptr;
  *out = std::strtoll(value, &end, 10);
  return *value != '\0' && *end == '\0' && *out >= 0;
}

// The test-only fault-injection flags are not part of --help: they are taken
// out of argv before the documented options are parsed.
//   --test-fail-sync-after=N    RocksDB syncs fail after N (fail-stop)
//   --test-transient-faults=N   the first N batches are answered as a collector
//                               fault (UNAVAILABLE collector_fault), as a parser
//                               out of memory would be
//   --test-power-loss-journal=F the store's files are journaled (faultenv/power_loss_fs.h) so
//                               that a power cut can be simulated after a kill -9
std::vector<const char*> ExtractTestFlags(int argc, char** argv, int64_t* fail_sync_after,
                                          int64_t* transient_faults, std::string* power_loss_journal,
                                          std::string* bad) {
  std::vector<const char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], kTestFailSyncFlag, sizeof(kTestFailSyncFlag) - 1) == 0) {
      if (!ParseTestFlagValue(argv[i] + sizeof(kTestFailSyncFlag) - 1, fail_sync_after)) {
        *bad = "--test-fail-sync-after";
      }
      continue;
    }
    if (std::strncmp(argv[i], kTestTransientFaultsFlag, sizeof(kTestTransientFaultsFlag) - 1) == 0) {
      if (!ParseTestFlagValue(argv[i] + sizeof(kTestTransientFaultsFlag) - 1, transient_faults)) {
        *bad = "--test-transient-faults";
      }
      continue;
    }
    if (std::strncmp(argv[i], kTestPowerLossFlag, sizeof(kTestPowerLossFlag) - 1) == 0) {
      *power_loss_journal = argv[i] + sizeof(kTestPowerLossFlag) - 1;
      if (power_loss_journal->empty()) *bad = "--test-power-loss-journal";
      continue;
    }
    rest.push_back(argv[i]);
  }
  return rest;
}

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
  std::cerr << "orgtrail-collector: " << message << "\n";
  return 2;
}

// --insights-*: whole minutes of baseline and warm-up, thresholds in their ranges.
orgtrail::Status InsightOptionsFromFlags(const po::variables_map& values, orgtrail::collector::InsightOptions* out) {
  constexpr int64_t kMinute = 60LL * 1000000;
  auto minutes = [&](const char* flag, const std::string& text, int64_t* into) -> orgtrail::Status {
    auto us = orgtrail::ParseDuration(flag, text);
    if (!us.ok()) return us.status();
    if (*us % kMinute != 0 || *us < kMinute || *us > 90 * 24 * 60 * kMinute) {
      return absl::InvalidArgumentError(std::string(flag) + ": whole minutes from 1m to 90d, got '" + text + "'");
    }
    *into = *us / kMinute;
    return absl::OkStatus();
  };
  const std::string baseline = values["insights-baseline"].as<std::string>();
  ORGTRAIL_RETURN_IF_ERROR(minutes("--insights-baseline", baseline, &out->baseline_minutes));
  ORGTRAIL_RETURN_IF_ERROR(minutes("--insights-warmup",
                                   values.count("insights-warmup") ? values["insights-warmup"].as<std::string>() : baseline,
                                   &out->min_history_minutes));
  out->factor = values["insights-factor"].as<double>();
  if (!(out->factor >= 1.5 && out->factor <= 1000)) {
    return absl::InvalidArgumentError("--insights-factor: must be between 1.5 and 1000");
  }
  out->min_calls_per_minute = values["insights-min-calls"].as<int64_t>();
  if (out->min_calls_per_minute < 1 || out->min_calls_per_minute > 1000000) {
    return absl::InvalidArgumentError("--insights-min-calls: must be between 1 and 1000000");
  }
  return absl::OkStatus();
}

orgtrail::Status CheckListValues(const std::vector<std::string>& regions, const std::vector<std::string>& services) {
  for (const auto& r : regions) {
    if (r.size() > 64 || r.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
      return absl::InvalidArgumentError("--allowed-regions: '" + r + "' is not a region-like name ([a-z0-9-], <= 64)");
    }
  }
  for (const auto& s : services) {
    if (s.size() > 128 || s.find(".amazonaws.com") == std::string::npos) {
      return absl::InvalidArgumentError("--global-services: '" + s + "' is not an event source like iam.amazonaws.com");
    }
  }
  return orgtrail::Status();
}

// The ingest stream caps and deadlines, the gRPC thread quota and the revocation files.
orgtrail::Status StreamFlags(const po::variables_map& values, orgtrail::collector::CollectorServerOptions* out) {
  struct Range { const char* name; int64_t min; int64_t max; };
  const Range ranges[] = {{"max-ingest-streams", 1, 1000000},     {"max-streams-per-identity", 1, 1000},
                          {"hello-timeout-ms", 100, 3600000},       {"stream-idle-timeout-ms", 1000, 86400000},
                          {"grpc-max-threads", 16, 1000000}};
  for (const Range& r : ranges) {
    const int64_t v = values[r.name].as<int64_t>();
    if (v < r.min || v > r.max) {
      return absl::InvalidArgumentError(std::string("--") + r.name + ": must be between " + std::to_string(r.min) +
                                        " and " + std::to_string(r.max));
    }
  }
  out->max_ingest_streams = static_cast<uint32_t>(values["max-ingest-streams"].as<int64_t>());
  out->max_streams_per_identity = static_cast<uint32_t>(values["max-streams-per-identity"].as<int64_t>());
  out->hello_timeout_ms = values["hello-timeout-ms"].as<int64_t>();
  out->stream_idle_timeout_ms = values["stream-idle-timeout-ms"].as<int64_t>();
  out->grpc_max_threads = static_cast<int>(values["grpc-max-threads"].as<int64_t>());
  const int64_t poll_ms = values["revocation-poll-ms"].as<int64_t>();
  if (poll_ms < 100 || poll_ms > 3600000) {
    return absl::InvalidArgumentError("--revocation-poll-ms: must be between 100 and 3600000");
  }
  out->revocation_poll_ms = poll_ms;
  if (values.count("crl-file")) out->crl_file = values["crl-file"].as<std::string>();
  if (values.count("deny-list-file")) out->deny_list_file = values["deny-list-file"].as<std::string>();
  return orgtrail::Status();
}

}  // namespace

int main(int argc, char** argv) {
  // Bounded allocator caches: RSS near what is in use (orgtrail/common/allocator.h).
  orgtrail::ConfigureDaemonAllocator();
  int64_t fail_sync_after = -1;
  int64_t transient_faults = 0;
  std::string power_loss_journal;
  std::string bad_test_flag;
  std::vector<const char*> args = ExtractTestFlags(argc, argv, &fail_sync_after, &transient_faults,
                                                   &power_loss_journal, &bad_test_flag);
  if (!bad_test_flag.empty()) return UsageError(bad_test_flag + ": expected a non-negative integer");

  po::options_description options("orgtrail-collector options");
  options.add_options()
      ("listen", po::value<std::string>()->default_value("127.0.0.1:7443"), "gRPC listen address host:port (port 0 = any)")
      ("http-listen", po::value<std::string>()->default_value("127.0.0.1:9443"), "HTTP /healthz, /readyz and /metrics address host:port")
      ("min-free-disk", po::value<std::string>()->default_value("512MiB"), "/readyz fails while the data dir's file system has less free space")
      ("data-dir", po::value<std::string>(), "directory of the RocksDB store (required)")
      ("ca", po::value<std::string>(), "organization CA certificate (PEM, required)")
      ("cert", po::value<std::string>(), "collector certificate (PEM, required; re-read on change)")
      ("key", po::value<std::string>(), "collector private key (PEM, required; re-read on change)")
      ("trust-domain", po::value<std::string>(), "organization trust domain of SPIFFE IDs (required)")
      ("home-region", po::value<std::string>()->default_value("us-east-1"), "region global-service events are stored under")
      ("global-services", po::value<std::string>(), "comma-separated event sources treated as global (default: iam, sts global, cloudfront, route53, organizations, signin, health)")
      ("allowed-regions", po::value<std::string>()->default_value(""), "comma-separated extra region names accepted besides the AWS shape")
      ("management-account-id", po::value<std::string>()->default_value("000000000000"), "owner account of trails an org admin creates")
      ("max-batch-bytes", po::value<std::string>()->default_value("16MiB"), "largest accepted batch (serialized)")
      ("max-events-per-batch", po::value<int64_t>()->default_value(10000), "largest accepted batch (events)")
      ("max-event-bytes", po::value<std::string>()->default_value("1MiB"), "largest accepted event (raw JSON)")
      ("max-unacked-batches", po::value<int64_t>()->default_value(64), "window of unacknowledged batches per stream")
      ("retention-days", po::value<int64_t>()->default_value(0), "drop events older than this many days by eventTime (0 = keep forever)")
      ("store-cache-mb", po::value<int64_t>()->default_value(64), "RocksDB block cache, MiB (data, index and filter blocks)")
      ("store-memtable-mb", po::value<int64_t>()->default_value(32), "memory for RocksDB memtables of all column families, MiB (each memtable at most half)")
      ("max-ingest-streams", po::value<int64_t>()->default_value(1024), "ingest streams open at once, with or without their Hello; more are refused RESOURCE_EXHAUSTED")
      ("max-streams-per-identity", po::value<int64_t>()->default_value(2), "ingest streams open at once per agent identity (SPIFFE ID), with or without their Hello")
      ("hello-timeout-ms", po::value<int64_t>()->default_value(10000), "an ingest stream must send its Hello within this (also the TLS handshake deadline)")
      ("stream-idle-timeout-ms", po::value<int64_t>()->default_value(300000), "close an ingest stream with no message and no batch in flight for this long (also connections without calls)")
      ("grpc-max-threads", po::value<int64_t>()->default_value(1280), "gRPC ResourceQuota: most threads the gRPC server may use; an RPC that finds none is refused RESOURCE_EXHAUSTED")
      ("crl-file", po::value<std::string>(), "X.509 CRL (PEM) signed by the --ca CA, as `orgtrailctl pki revoke` writes it: certificates it lists are refused (PERMISSION_DENIED certificate_revoked) and their open ingest streams closed; re-read on change, a malformed file at startup stops the collector, on reload it is logged and the last good list kept")
      ("deny-list-file", po::value<std::string>(), "deny list: one certificate SHA-256 fingerprint (hex) or SPIFFE ID per line, '#' comments; refused and re-read like --crl-file")
      ("revocation-poll-ms", po::value<int64_t>()->default_value(1000), "how often --crl-file, --deny-list-file and --ca are checked for changes")
      ("collector-id", po::value<std::string>()->default_value("collector"), "name of this collector in HelloAck and status")
      ("shard-map", po::value<std::string>(), "sharded ingest: the JSON shard map assigning accounts to collectors (common/shard_map.h); agents of other shards' accounts are told where to go")
      ("shard", po::value<std::string>(), "this collector's shard in --shard-map (required with it); also names its Merkle log's checkpoint origin <trust-domain>/orgtrail/<shard>")
      ("alarms", po::value<std::string>(), "metric filters and alarms JSON file (e.g. deploy/alarms/cis.json); none = no alarms")
      ("sigma-rules", po::value<std::vector<std::string>>()->composing(), "folder of Sigma rules (*.yml) to run on every stored event (repeatable); findings: orgtrailctl findings. Every rule must load: the collector refuses to start naming each rule it cannot run")
      ("findings-notify", po::value<std::string>(), "comma-separated notification targets of --alarms that receive each Sigma finding (needs --sigma-rules), exactly once per target")
      ("findings-notify-min-level", po::value<std::string>()->default_value("medium"), "only findings of this level and above are sent: informational|low|medium|high|critical")
      ("insights-baseline", po::value<std::string>()->default_value("7d"), "CloudTrail Insights: a minute is compared with the average per minute over this much event time before it (1m..90d); Insights run for the types the logging trails select (put-insight-selectors)")
      ("insights-warmup", po::value<std::string>(), "no Insight for an API (account, region, source, name) with less history than this (default: --insights-baseline)")
      ("insights-factor", po::value<double>()->default_value(5.0), "an Insight starts when a minute's count is above this many times the baseline average (1.5..1000)")
      ("insights-min-calls", po::value<int64_t>()->default_value(10), "... and at least this many calls (or errors) in the minute (1..1000000)")
      ("alarm-webhook", po::value<std::string>(), "replace the url of every webhook target of --alarms (http://host:port/path)")
      ("log-level", po::value<std::string>()->default_value("info"), "debug | info | warn | error");
  orgtrail::collector::ExportRunner::AddFlags(&options);
  po::variables_map values;
  orgtrail::BinaryInfo info{"orgtrail-collector",
                            "central collector: authenticated, deduplicating, durable ingest over mTLS gRPC",
                            "orgtrail-collector --data-dir DIR --ca CA --cert CERT --key KEY --trust-domain ORG [options]"};
  auto outcome = orgtrail::ParseCommandLine(static_cast<int>(args.size()), args.data(), info, options, &values,
                                            {"listen", "http-listen", "data-dir", "trust-domain", "log-level"});
  if (!outcome.ok()) return UsageError(std::string(outcome.status().message()));
  if (*outcome == orgtrail::ParseOutcome::kExitSuccess) return 0;

  orgtrail::LogLevel level;
  if (!orgtrail::ParseLogLevel(values["log-level"].as<std::string>(), &level)) {
    return UsageError("--log-level: expected debug|info|warn|error, got '" + values["log-level"].as<std::string>() + "'");
  }
  for (const char* required : {"data-dir", "ca", "cert", "key", "trust-domain"}) {
    if (!values.count(required) || values[required].as<std::string>().empty()) {
      return UsageError(std::string("--") + required + ": required");
    }
  }
  orgtrail::collector::CollectorServerOptions server_options;
  server_options.listen = values["listen"].as<std::string>();
  server_options.http_listen = values["http-listen"].as<std::string>();
  for (const char* name : {"listen", "http-listen"}) {
    auto hp = orgtrail::ParseHostPort(std::string("--") + name, values[name].as<std::string>());
    if (!hp.ok()) return UsageError(std::string(hp.status().message()));
  }
  server_options.data_dir = values["data-dir"].as<std::string>();
  server_options.tls.ca_cert_path = values["ca"].as<std::string>();
  server_options.tls.cert_path = values["cert"].as<std::string>();
  server_options.tls.key_path = values["key"].as<std::string>();
  server_options.trust_domain = values["trust-domain"].as<std::string>();
  server_options.home_region = values["home-region"].as<std::string>();
  server_options.collector_id = values["collector-id"].as<std::string>();
  if (values.count("shard-map") != values.count("shard")) return UsageError("--shard-map and --shard go together");
  if (values.count("shard-map")) {
    auto map = orgtrail::ShardMap::Load(values["shard-map"].as<std::string>());
    if (!map.ok()) return UsageError("--shard-map: " + std::string(map.status().message()));
    server_options.shard_name = values["shard"].as<std::string>();
    if (map->Find(server_options.shard_name) == nullptr) {
      return UsageError("--shard: '" + server_options.shard_name + "' is not a shard of --shard-map");
    }
    server_options.shard_map = std::make_shared<const orgtrail::ShardMap>(*std::move(map));
  }
  server_options.management_account_id = values["management-account-id"].as<std::string>();
  server_options.test_fail_sync_after = fail_sync_after;
  server_options.test_transient_faults = transient_faults;
  server_options.test_power_loss_journal = power_loss_journal;
  if (auto s = orgtrail::CheckAccountId("--management-account-id", server_options.management_account_id); !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  std::vector<std::string> allowed = SplitList(values["allowed-regions"].as<std::string>());
  std::vector<std::string> globals;
  if (values.count("global-services")) globals = SplitList(values["global-services"].as<std::string>());
  if (auto s = CheckListValues(allowed, globals); !s.ok()) return UsageError(std::string(s.message()));
  server_options.allowed_regions = {allowed.begin(), allowed.end()};
  server_options.global_services = globals;
  if (!orgtrail::IsValidRegionName(server_options.home_region) && !server_options.allowed_regions.count(server_options.home_region)) {
    return UsageError("--home-region: '" + server_options.home_region + "' is not a region name");
  }
  auto batch_bytes = orgtrail::ParseByteSize("--max-batch-bytes", values["max-batch-bytes"].as<std::string>());
  if (!batch_bytes.ok()) return UsageError(std::string(batch_bytes.status().message()));
  if (*batch_bytes < 1024 || *batch_bytes > (1ull << 30)) return UsageError("--max-batch-bytes: must be between 1KiB and 1GiB");
  server_options.max_batch_bytes = *batch_bytes;
  auto event_bytes = orgtrail::ParseByteSize("--max-event-bytes", values["max-event-bytes"].as<std::string>());
  if (!event_bytes.ok()) return UsageError(std::string(event_bytes.status().message()));
  if (*event_bytes < 256 || *event_bytes > *batch_bytes) return UsageError("--max-event-bytes: must be between 256 bytes and --max-batch-bytes");
  server_options.max_event_bytes = *event_bytes;
  int64_t max_events = values["max-events-per-batch"].as<int64_t>();
  if (max_events < 1 || max_events > 1000000) return UsageError("--max-events-per-batch: must be between 1 and 1000000");
  server_options.max_events_per_batch = static_cast<uint32_t>(max_events);
  int64_t window = values["max-unacked-batches"].as<int64_t>();
  if (window < 1 || window > 10000) return UsageError("--max-unacked-batches: must be between 1 and 10000");
  server_options.max_unacked_batches = static_cast<uint32_t>(window);
  int64_t retention_days = values["retention-days"].as<int64_t>();
  if (retention_days < 0 || retention_days > 365 * 100) return UsageError("--retention-days: must be between 0 and 36500");
  server_options.retention_us = retention_days * 86400LL * 1000000LL;
  auto min_free = orgtrail::ParseByteSize("--min-free-disk", values["min-free-disk"].as<std::string>());
  if (!min_free.ok()) return UsageError(std::string(min_free.status().message()));
  server_options.min_free_disk_bytes = *min_free;
  if (auto s = InsightOptionsFromFlags(values, &server_options.insights); !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  int64_t cache_mb = values["store-cache-mb"].as<int64_t>();
  if (cache_mb < 8 || cache_mb > 1 << 20) return UsageError("--store-cache-mb: must be between 8 and 1048576");
  server_options.store_cache_bytes = static_cast<uint64_t>(cache_mb) << 20;
  int64_t memtable_mb = values["store-memtable-mb"].as<int64_t>();
  if (memtable_mb < 16 || memtable_mb > 1 << 20) return UsageError("--store-memtable-mb: must be between 16 and 1048576");
  server_options.store_memtable_bytes = static_cast<uint64_t>(memtable_mb) << 20;
  if (auto s = StreamFlags(values, &server_options); !s.ok()) return UsageError(std::string(s.message()));

  auto export_options = orgtrail::collector::ExportRunner::OptionsFromFlags(
      values, server_options.data_dir, server_options.trust_domain, server_options.home_region);
  if (!export_options.ok()) return UsageError(std::string(export_options.status().message()));
  export_options->shard_name = server_options.shard_name;
  export_options->shard_map = server_options.shard_map;
  server_options.hold_retention_for_export = export_options->enabled;

  std::optional<orgtrail::collector::AlarmsConfig> alarms_config;
  if (values.count("alarms") && !values["alarms"].as<std::string>().empty()) {
    auto loaded = orgtrail::collector::LoadAlarmsConfigFile(values["alarms"].as<std::string>());
    if (!loaded.ok()) return UsageError("--alarms: " + std::string(loaded.status().message()));
    alarms_config = std::move(*loaded);
    if (values.count("alarm-webhook")) {
      auto s = orgtrail::collector::OverrideWebhookUrls(&*alarms_config, values["alarm-webhook"].as<std::string>());
      if (!s.ok()) return UsageError("--alarm-webhook: " + std::string(s.message()));
    }
  } else if (values.count("alarm-webhook")) {
    return UsageError("--alarm-webhook: needs --alarms");
  }
  orgtrail::collector::FindingsDeliveryOptions findings_delivery;
  if (values.count("findings-notify")) {
    if (!values.count("sigma-rules")) return UsageError("--findings-notify: needs --sigma-rules");
    if (!alarms_config) return UsageError("--findings-notify: needs --alarms (where the targets are defined)");
    for (const std::string& name : SplitList(values["findings-notify"].as<std::string>())) {
      auto it = std::find_if(alarms_config->notifications.begin(), alarms_config->notifications.end(),
                             [&](const orgtrail::collector::NotificationTarget& t) { return t.name == name; });
      if (it == alarms_config->notifications.end()) {
        return UsageError("--findings-notify: no notification target '" + name + "' in --alarms");
      }
      findings_delivery.targets.push_back(*it);
    }
    findings_delivery.min_level_rank =
        orgtrail::collector::LevelRank(values["findings-notify-min-level"].as<std::string>());
    if (findings_delivery.min_level_rank == 0) {
      return UsageError("--findings-notify-min-level: expected informational|low|medium|high|critical");
    }
    findings_delivery.collector_id = server_options.collector_id;
  }

  // Signals are handled by sigwait on the main thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  orgtrail::Logger logger("collector", 2, level);
  orgtrail::MetricsRegistry metrics;
  orgtrail::ExportBuildInfo(&metrics);
  orgtrail::collector::CollectorServer server(server_options, &logger, &metrics);
  if (auto s = server.Open(); !s.ok()) {
    logger.Error("cannot open collector", {{"error", s.ToString()}});
    return 1;
  }
  // Additional gRPC services (Query, Subscribe, ...) are created here and
  // registered with server.AddService(&service) before Start().
  auto query = orgtrail::collector::QueryService::Create(server.store(), server.trust_domain(),
                                                         &logger, &metrics);
  if (!query.ok()) {
    logger.Error("cannot create the query service", {{"error", query.status().ToString()}});
    return 1;
  }
  (*query)->SetRevocationCheck(server.revocation_check("query"));
  server.AddService(query->get());
  orgtrail::collector::InvestigationsOptions investigations_options;
  investigations_options.trust_domain = server.trust_domain();
  investigations_options.home_region = server.home_region();
  orgtrail::collector::InvestigationsService investigations(server.store(), investigations_options, &logger, &metrics);
  server.AddService(&investigations);
  // Sigma detections (--sigma-rules): rules run on every stored event; findings served either way.
  std::unique_ptr<orgtrail::collector::SigmaDetections> sigma;
  std::unique_ptr<orgtrail::collector::FindingsDeliverer> findings_deliverer;
  std::unique_ptr<orgtrail::collector::FindingsService> no_findings;
  if (values.count("sigma-rules")) {
    auto loaded = orgtrail::collector::SigmaDetections::Load(values["sigma-rules"].as<std::vector<std::string>>(), &logger);
    if (!loaded.ok()) {
      logger.Error("cannot load --sigma-rules", {{"error", loaded.status().ToString()}});
      std::fprintf(stderr, "orgtrail-collector: --sigma-rules: %s\n", std::string(loaded.status().message()).c_str());
      return 2;
    }
    sigma = std::move(*loaded);
    if (auto s = sigma->Start(server.store(), server.trust_domain(), server.revocation_check("findings"), &metrics);
        !s.ok()) {
      logger.Error("cannot start the Sigma detections", {{"error", s.ToString()}});
      return 1;
    }
    server.AddService(sigma->service());
    if (!findings_delivery.targets.empty()) {
      findings_deliverer = std::make_unique<orgtrail::collector::FindingsDeliverer>(
          server.store(), std::move(findings_delivery), &logger, &metrics);
      if (auto s = findings_deliverer->Start(sigma->cursor()); !s.ok()) {
        logger.Error("cannot start the delivery of findings", {{"error", s.ToString()}});
        return 1;
      }
    }
    orgtrail::collector::SigmaDetections* detections = sigma.get();
    server.AddReadinessCheck("findings", [detections] { return detections->failure(); });
  } else {
    no_findings = std::make_unique<orgtrail::collector::FindingsService>(
        server.store(), server.trust_domain(), [] { return uint64_t{0}; }, 0, server.revocation_check("findings"), &logger);
    server.AddService(no_findings.get());
  }
  std::unique_ptr<orgtrail::collector::AlarmEngine> alarm_engine;
  if (alarms_config) {
    orgtrail::collector::AlarmEngineOptions alarm_options;
    alarm_options.collector_id = server_options.collector_id;
    alarm_options.outbox_dir = server_options.data_dir + "/alarm-outbox";
    alarm_engine = std::make_unique<orgtrail::collector::AlarmEngine>(server.store(), std::move(*alarms_config),
                                                                      &logger, &metrics, alarm_options);
    if (auto s = alarm_engine->Start(); !s.ok()) {
      logger.Error("cannot start the alarm engine", {{"error", s.ToString()}});
      return 1;
    }
  }
  auto exporter = orgtrail::collector::ExportRunner::Create(server.store(), *export_options, &logger, &metrics);
  if (!exporter.ok()) {
    logger.Error("cannot start the export", {{"error", exporter.status().ToString()}});
    return 1;
  }
  for (grpc::Service* service : (*exporter)->services()) server.AddService(service);
  orgtrail::collector::ExportRunner* export_runner = exporter->get();
  if (export_options->enabled) server.AddReadinessCheck("export", [export_runner] { return export_runner->ExportFailure(); });
  server.AddReadinessCheck("merkle_log", [export_runner] { return export_runner->MerkleFailure(); });
  orgtrail::collector::TrailManager* trails = server.trails();
  export_runner->SetDeliveryListener([trails, &logger](const orgtrail::collector::TrailDelivery& delivery) {
    if (auto s = trails->RecordDelivery(delivery); !s.ok()) {
      logger.Warn("cannot record the delivery in the trails' status", {{"error", s.ToString()}});
    }
  });
  export_runner->SetTrailSource([trails] { return trails->Config(); });
  if (auto s = server.Start(); !s.ok()) {
    logger.Error("cannot start collector", {{"error", s.ToString()}});
    return 1;
  }
  (*exporter)->Start();
  int received = 0;
  sigwait(&signals, &received);
  logger.Info("shutting down", {{"signal", received}});
  investigations.Shutdown();  // ends open Subscribe streams so the gRPC server can stop
  (*exporter)->Stop();
  server.Shutdown();
  if (alarm_engine) alarm_engine->Stop();
  if (findings_deliverer) findings_deliverer->Stop();
  if (sigma) sigma->Stop();
  return 0;
}
