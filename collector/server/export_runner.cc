// The export / digest / Merkle-log thread of the collector (see export_runner.h).
#include "collector/server/export_runner.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "collector/export/export_strings.h"
#include "collector/export/export_file.h"
#include "collector/store/commit_follower.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/thread_role.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

namespace po = boost::program_options;
using internal::Cat;

bool IsOrgId(const std::string& s) {
  if (s.size() < 12 || s.size() > 34 || s.rfind("o-", 0) != 0) return false;
  for (size_t i = 2; i < s.size(); ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool IsNameToken(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_')) {
      return false;
    }
  }
  return s != "." && s != "..";
}

}  // namespace

void ExportRunner::AddFlags(po::options_description* options) {
  options->add_options()
      ("export", po::value<bool>()->default_value(true), "write the CloudTrail-compatible export, digests and Merkle checkpoints")
      ("export-root", po::value<std::string>()->default_value(""), "export folder (the \"bucket\"); default <data-dir>/export")
      ("export-bucket", po::value<std::string>()->default_value("orgtrail-export"), "bucket name the export stands for (digestS3Bucket)")
      ("export-org-id", po::value<std::string>()->default_value(""), "organization id folder o-... (default derived from the trust domain)")
      ("export-trail-name", po::value<std::string>()->default_value("org-trail"), "trail name in digest file names")
      ("export-interval", po::value<std::string>()->default_value("5m"), "log file delivery interval")
      ("digest-interval", po::value<std::string>()->default_value("1h"), "digest interval per account and region")
      ("checkpoint-interval", po::value<std::string>()->default_value("10s"), "sign a Merkle checkpoint at least this often when the log grew")
      ("checkpoint-every-events", po::value<int64_t>()->default_value(1000), "... or after this many new events")
      ("rotate-digest-key", po::value<bool>()->default_value(false), "create a new digest signing key at startup (old keys stay valid for old digests)")
      ("export-s3-endpoint", po::value<std::string>()->default_value(""),
       "S3-compatible object store (http(s)://host[:port], path-style) where trails deliver to their buckets (and the "
       "archive to --export-s3-bucket); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN] or "
       "the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)")
      ("export-s3-region", po::value<std::string>()->default_value("us-east-1"), "SigV4 region of --export-s3-endpoint")
      ("export-s3-bucket", po::value<std::string>()->default_value(""), "also deliver the archive (every stored event) to this bucket of --export-s3-endpoint")
      ("export-s3-key-prefix", po::value<std::string>()->default_value(""), "key prefix in that bucket (no leading or trailing '/')")
      ("keep-local", po::value<bool>()->default_value(false),
       "keep log and digest files locally after the object store confirmed them (default: delete the local copy)");
}

StatusOr<ExportRunnerOptions> ExportRunner::OptionsFromFlags(const po::variables_map& v, const std::string& data_dir,
                                                             const std::string& trust_domain,
                                                             const std::string& home_region) {
  ExportRunnerOptions o;
  o.enabled = v["export"].as<bool>();
  o.data_dir = data_dir;
  o.trust_domain = trust_domain;
  o.home_region = home_region;
  o.export_root = v["export-root"].as<std::string>();
  if (o.export_root.empty()) o.export_root = data_dir + "/export";
  o.bucket = v["export-bucket"].as<std::string>();
  if (!IsNameToken(o.bucket, 63)) return absl::InvalidArgumentError("--export-bucket: expected 1-63 of [A-Za-z0-9._-]");
  o.org_id = v["export-org-id"].as<std::string>();
  if (o.org_id.empty()) o.org_id = "o-" + HexEncode(Sha256(trust_domain)).substr(0, 10);
  if (!IsOrgId(o.org_id)) return absl::InvalidArgumentError("--export-org-id: expected o- followed by 10-32 of [a-z0-9]");
  o.trail_name = v["export-trail-name"].as<std::string>();
  if (!IsNameToken(o.trail_name, 128)) {
    return absl::InvalidArgumentError("--export-trail-name: expected 1-128 of [A-Za-z0-9._-]");
  }
  for (auto [flag, target] : {std::pair<const char*, int64_t*>{"export-interval", &o.export_interval_us},
                              {"digest-interval", &o.digest_interval_us},
                              {"checkpoint-interval", &o.checkpoint_interval_us}}) {
    auto d = ParseDuration(Cat("--", flag), v[flag].as<std::string>());
    if (!d.ok()) return d.status();
    if (*d < 100000 || *d > 7ll * 86400 * 1000000) {
      return absl::InvalidArgumentError(Cat("--", flag, ": must be between 100ms and 7 days"));
    }
    *target = *d;
  }
  if (o.digest_interval_us < 1000000) return absl::InvalidArgumentError("--digest-interval: must be at least 1s");
  int64_t every = v["checkpoint-every-events"].as<int64_t>();
  if (every < 1 || every > 100000000) {
    return absl::InvalidArgumentError("--checkpoint-every-events: must be between 1 and 100000000");
  }
  o.checkpoint_every_events = static_cast<uint64_t>(every);
  o.rotate_digest_key = v["rotate-digest-key"].as<bool>();
  o.s3_endpoint = v["export-s3-endpoint"].as<std::string>();
  o.s3_region = v["export-s3-region"].as<std::string>();
  o.s3_bucket = v["export-s3-bucket"].as<std::string>();
  o.s3_key_prefix = v["export-s3-key-prefix"].as<std::string>();
  o.keep_local = v["keep-local"].as<bool>();
  if (o.s3_endpoint.empty() && !o.s3_bucket.empty()) {
    return absl::InvalidArgumentError("--export-s3-bucket: needs --export-s3-endpoint");
  }
  if (!o.s3_bucket.empty()) {
    // Delivered, the export stands for that bucket: digests name it (and the key prefix) so the
    // bucket validates (aws cloudtrail validate-logs, orgtrailctl validate-logs s3://...).
    if (!v["export-bucket"].defaulted() && o.bucket != o.s3_bucket) {
      return absl::InvalidArgumentError("--export-bucket: must be the --export-s3-bucket the export is delivered to (or left out)");
    }
    o.bucket = o.s3_bucket;
  }
  o.tick_us = std::min<int64_t>({250000, o.export_interval_us, o.checkpoint_interval_us});
  return o;
}

ExportRunner::ExportRunner(EventStore* store, ExportRunnerOptions options, Logger* logger, MetricsRegistry* metrics)
    : store_(store), options_(std::move(options)), logger_(logger), metrics_(metrics) {}

ExportRunner::~ExportRunner() { Stop(); }

StatusOr<std::unique_ptr<ExportRunner>> ExportRunner::Create(EventStore* store, ExportRunnerOptions options,
                                                             Logger* logger, MetricsRegistry* metrics) {
  std::unique_ptr<ExportRunner> runner(new ExportRunner(store, std::move(options), logger, metrics));
  ORGTRAIL_RETURN_IF_ERROR(runner->Init());
  return runner;
}

Status ExportRunner::Init() {
  const int64_t now = NowMicros();
  auto keys = DigestKeyRing::Open(options_.data_dir + "/digest-keys", now);
  if (!keys.ok()) return keys.status();
  keys_ = std::move(*keys);
  if (options_.rotate_digest_key && keys_->ListPublicKeys().back().validity_start_us < now) {
    ORGTRAIL_RETURN_IF_ERROR(keys_->Rotate(now));
    logger_->Info("digest signing key rotated", {{"fingerprint", keys_->CurrentFingerprint()}});
  }
  // Ed25519 checkpoint key, created once.
  const std::string key_path = options_.data_dir + "/checkpoint-key.pem";
  std::string pem;
  if (std::filesystem::exists(key_path)) {
    auto read = ReadFile(key_path);
    if (!read.ok()) return read.status();
    pem = *read;
  } else {
    auto generated = GenerateEd25519PrivateKeyPem();
    if (!generated.ok()) return generated.status();
    pem = *generated;
    ORGTRAIL_RETURN_IF_ERROR(WriteExportFileDurably(options_.data_dir, "checkpoint-key.pem", pem, 0600));
  }
  const std::string origin =
      options_.trust_domain + "/orgtrail" + (options_.shard_name.empty() ? "" : "/" + options_.shard_name);
  auto signer = CheckpointSigner::Create(origin, pem);
  if (!signer.ok()) return signer.status();
  checkpoint_signer_ = std::move(*signer);
  auto merkle = MerkleLog::Open(store_, MerkleLogOptions{origin}, checkpoint_signer_.get());
  if (!merkle.ok()) return merkle.status();
  merkle_ = std::move(*merkle);
  auto latest = merkle_->LatestCheckpoint();
  if (!latest.ok()) return latest.status();
  latest_checkpoint_ = *latest;

  LogExporterOptions lo;
  lo.export_root = options_.export_root;
  lo.org_id = options_.org_id;
  lo.exported_through = [this](uint64_t) { UpdateRetentionHold(); };
  exporter_ = std::make_unique<LogExporter>(store_, lo);
  if (options_.enabled) {
    auto cursor = exporter_->Cursor();
    if (!cursor.ok()) return cursor.status();
    store_->SetRetentionHold(*cursor);  // retention may drop what is exported, nothing else
  }
  DigestPublisherOptions po;
  po.export_root = options_.export_root;
  po.org_id = options_.org_id;
  po.bucket = options_.bucket;
  po.key_prefix = options_.s3_key_prefix;
  po.trail_name = options_.trail_name;
  po.home_region = options_.home_region;
  po.interval_us = options_.digest_interval_us;
  po.checkpoint_provider = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return latest_checkpoint_;
  };
  publisher_ = std::make_unique<DigestPublisher>(store_, keys_.get(), po);
  if (options_.enabled) {
    ORGTRAIL_RETURN_IF_ERROR(publisher_->WriteExportManifest());
    ORGTRAIL_RETURN_IF_ERROR(publisher_->WritePublicKeysFile());
    auto removed = RemoveStaleTemporaryFiles(options_.export_root);
    if (removed.ok() && *removed > 0) logger_->Info("removed stale temporary export files", {{"count", *removed}});
  }
  if (options_.enabled && !options_.s3_endpoint.empty()) {  // the object store
    auto credentials = objectstore::LoadCredentials(objectstore::ProcessEnvironment());
    if (!credentials.ok()) {
      return Status(credentials.status().code(),
                    Cat("--export-s3-endpoint: ", std::string(credentials.status().message())));
    }
    objectstore::S3ClientOptions so;
    so.endpoint = options_.s3_endpoint;
    so.region = options_.s3_region;
    so.credentials = *credentials;
    auto client = objectstore::S3Client::Create(so);
    if (!client.ok()) {
      return Status(client.status().code(), Cat("--export-s3-endpoint: ", std::string(client.status().message())));
    }
    s3_client_ = std::move(*client);
    logger_->Info("object store on", {{"endpoint", options_.s3_endpoint}, {"credentials", credentials->source}});
  }
  if (s3_client_ != nullptr && !options_.s3_bucket.empty()) {  // the archive goes there too
    ExportUploaderOptions uo;
    uo.export_root = options_.export_root;
    uo.bucket = options_.s3_bucket;
    uo.key_prefix = options_.s3_key_prefix;
    uo.journal_path = options_.data_dir + "/s3-upload.journal";
    uo.prune_confirmed = !options_.keep_local;
    auto uploader = ExportUploader::Create(s3_client_.get(), uo);
    if (!uploader.ok()) return uploader.status();
    uploader_ = std::move(*uploader);
    logger_->Info("object storage delivery on", {{"endpoint", options_.s3_endpoint}, {"bucket", options_.s3_bucket},
                                                 {"key_prefix", options_.s3_key_prefix}, {"keep_local", options_.keep_local}});
  }
  TrailDeliveriesOptions to;
  to.data_dir = options_.data_dir;
  to.org_id = options_.org_id;
  to.home_region = options_.home_region;
  to.digest_interval_us = options_.digest_interval_us;
  to.keep_local = options_.keep_local;
  to.archive_bucket = uploader_ != nullptr ? options_.s3_bucket : options_.bucket;
  to.archive_key_prefix = uploader_ != nullptr ? options_.s3_key_prefix : "";
  to.checkpoint_provider = po.checkpoint_provider;
  to.exported_through = [this](uint64_t) { UpdateRetentionHold(); };
  to.report = [this](const TrailDelivery& delivery) {
    if (delivery_listener_) delivery_listener_(delivery);
  };
  if (options_.shard_map != nullptr) {
    to.delivers_account = [map = options_.shard_map, shard = options_.shard_name](std::string_view account) {
      return map->ShardForAccount(account).name == shard;
    };
  }
  trails_ = std::make_unique<TrailDeliveries>(store_, keys_.get(), s3_client_.get(), to, logger_, metrics_);
  keys_service_ = std::make_unique<DigestKeysService>(keys_.get(), options_.trust_domain, logger_);
  merkle_service_ = std::make_unique<MerkleLogService>(store_, merkle_.get(), checkpoint_signer_->verifier_key(),
                                                       options_.trust_domain, logger_, metrics_);
  metrics_->AddGaugeCallback("orgtrail_merkle_tree_size", "Leaves in the organization Merkle log",
                             [this] { return std::vector<std::pair<MetricLabels, double>>{
                                          {{}, static_cast<double>(merkle_->size())}}; });
  logger_->Info("export ready", {{"export_root", options_.export_root}, {"org_id", options_.org_id},
                                 {"bucket", options_.bucket}, {"checkpoint_verifier_key", checkpoint_signer_->verifier_key()},
                                 {"digest_key_fingerprint", keys_->CurrentFingerprint()}});
  return absl::OkStatus();
}

std::vector<grpc::Service*> ExportRunner::services() { return {keys_service_.get(), merkle_service_.get()}; }

void ExportRunner::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  merkle_thread_ = std::thread([this] { MerkleLoop(); });
}

void ExportRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  merkle_thread_.join();
  RunOnce(true);  // last round: nothing committed before shutdown waits for the next start
}

void ExportRunner::Loop() {
  // The export, digests and uploads may lag the durable commit (their lag is in /metrics): under
  // load they yield the cores to the acknowledged path.
  SetCurrentThreadRole("export", ThreadPriority::kBackground);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    DeliverOnce(NowMicros(), false);
    lock.lock();
    cv_.wait_for(lock, std::chrono::microseconds(options_.tick_us), [this] { return stop_; });
  }
}

void ExportRunner::MerkleLoop() {
  // Its own thread, so that a long export round does not hold the appends back: every tick the
  // Merkle log takes the events committed since, while the store still holds them in memory
  // (merkle_log.h). Background, like the export.
  SetCurrentThreadRole("merkle", ThreadPriority::kBackground);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    MaintainMerkleLog(NowMicros());
    lock.lock();
    cv_.wait_for(lock, std::chrono::microseconds(options_.tick_us), [this] { return stop_; });
  }
}

void ExportRunner::RunOnce(bool export_now) {
  const int64_t now = NowMicros();
  MaintainMerkleLog(now);
  DeliverOnce(now, export_now);
}

void ExportRunner::DeliverOnce(int64_t now, bool export_now) {
  if (!options_.enabled) return;
  if (trail_source_) trails_->Reconcile(trail_source_());
  if (export_now || now - last_export_us_ >= options_.export_interval_us) {
    last_export_us_ = now;
    // As when one thread did both: the Merkle log has taken every event committed before the
    // round, and the digests name the checkpoint signed after that (a no-op when the Merkle
    // thread is caught up).
    MaintainMerkleLog(now);
    ExportAndDigest(now);
    trails_->ExportAndDigest(now);
  }
  UploadToObjectStore(now);
  trails_->Upload(now);
}

void ExportRunner::UpdateRetentionHold() {
  if (store_->retention_hold() == UINT64_MAX) return;  // retention does not wait for the export
  auto cursor = exporter_->Cursor();
  if (!cursor.ok()) return;  // keep the current hold
  store_->SetRetentionHold(std::min(*cursor, trails_->MinCursor()));
}

void ExportRunner::MaintainMerkleLog(int64_t now_us) {
  std::lock_guard<std::mutex> merkle_lock(merkle_mu_);  // the Merkle thread, or RunOnce at Stop
  Counter* errors = metrics_->GetCounter("orgtrail_merkle_log_errors_total", "Merkle log append/checkpoint failures");
  CountMerkleEventReads();  // also shows the series at 0 before the first append
  while (true) {
    auto n = merkle_->Append();
    CountMerkleEventReads();
    if (!n.ok()) {
      errors->Increment();
      logger_->Error("merkle log append failed", {{"error", n.status().ToString()}});
      SetFailure(&merkle_failure_, "merkle log append failed: " + n.status().ToString());
      return;
    }
    if (*n == 0) break;
  }
  const uint64_t size = merkle_->size();
  const bool grew = !have_checkpoint_ || size != last_checkpoint_size_;
  const bool due = !have_checkpoint_ || size - last_checkpoint_size_ >= options_.checkpoint_every_events ||
                   now_us - last_checkpoint_us_ >= options_.checkpoint_interval_us;
  if (!grew || !due) {
    SetFailure(&merkle_failure_, "");
    return;
  }
  auto note = merkle_->Checkpoint(now_us);
  if (!note.ok()) {
    errors->Increment();
    logger_->Error("checkpoint signing failed", {{"error", note.status().ToString()}});
    SetFailure(&merkle_failure_, "checkpoint signing failed: " + note.status().ToString());
    return;
  }
  have_checkpoint_ = true;
  last_checkpoint_size_ = size;
  last_checkpoint_us_ = now_us;
  metrics_->GetCounter("orgtrail_merkle_checkpoints_total", "Signed Merkle checkpoints")->Increment();
  std::lock_guard<std::mutex> lock(mu_);
  latest_checkpoint_ = *note;
  merkle_failure_.clear();
}

void ExportRunner::CountMerkleEventReads() {
  // The followers' family (commit_follower.h): where the Merkle log read the events it appended.
  const std::string help = kFollowerEventReadsHelp;
  const uint64_t memory = merkle_->events_read_from_memory();
  const uint64_t store = merkle_->events_read_from_store();
  metrics_->GetCounter(kFollowerEventReadsMetric, help, {{"follower", "merkle"}, {"source", "memory"}})
      ->Increment(memory - merkle_reads_counted_.first);
  metrics_->GetCounter(kFollowerEventReadsMetric, help, {{"follower", "merkle"}, {"source", "store"}})
      ->Increment(store - merkle_reads_counted_.second);
  merkle_reads_counted_ = {memory, store};
}

void ExportRunner::SetFailure(std::string* field, std::string failure) {
  std::lock_guard<std::mutex> lock(mu_);
  *field = std::move(failure);
}

std::string ExportRunner::ExportFailure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return export_failure_;
}

std::string ExportRunner::MerkleFailure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return merkle_failure_;
}

std::string ExportRunner::UploadFailure() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!upload_failure_.empty()) return upload_failure_;
  }
  return trails_ != nullptr ? trails_->Failure() : "";
}

void ExportRunner::ReportDelivery(bool digest, int64_t now_us, const std::string& error) {
  if (!delivery_listener_) return;
  TrailDelivery delivery;
  delivery.digest = digest;
  delivery.attempt_time_us = now_us;
  delivery.error = error;
  delivery.bucket = uploader_ != nullptr ? options_.s3_bucket : options_.bucket;
  delivery.key_prefix = uploader_ != nullptr ? options_.s3_key_prefix : "";
  delivery_listener_(delivery);
}

void ExportRunner::UploadToObjectStore(int64_t now_us) {
  if (uploader_ == nullptr || !upload_due_ || now_us < next_upload_us_) return;
  auto pass = uploader_->UploadPending();
  if (!pass.ok()) {
    metrics_->GetCounter("orgtrail_s3_upload_errors_total", "Failed passes delivering export files to object storage")
        ->Increment();
    upload_backoff_us_ = std::clamp<int64_t>(upload_backoff_us_ * 2, 1000000, 300ll * 1000000);
    next_upload_us_ = now_us + upload_backoff_us_;
    logger_->Error("object storage delivery failed", {{"error", pass.status().ToString()},
                                                      {"retry_in_ms", upload_backoff_us_ / 1000}});
    SetFailure(&upload_failure_, "object storage delivery failed: " + pass.status().ToString());
    ReportDelivery(false, now_us, pass.status().ToString());
    return;
  }
  upload_due_ = false;
  upload_backoff_us_ = 0;
  next_upload_us_ = 0;
  SetFailure(&upload_failure_, "");
  if (pass->uploaded.empty()) return;
  const auto is_digest = [](const std::string& key) { return key.find("/CloudTrail-Digest/") != std::string::npos; };
  if (std::any_of(pass->uploaded.begin(), pass->uploaded.end(), [&](const std::string& k) { return !is_digest(k); })) {
    ReportDelivery(false, now_us, "");
  }
  if (std::any_of(pass->uploaded.begin(), pass->uploaded.end(), is_digest)) ReportDelivery(true, now_us, "");
  metrics_->GetCounter("orgtrail_s3_objects_uploaded_total", "Export files delivered to object storage")
      ->Increment(pass->uploaded.size());
  logger_->Info("delivered to object storage", {{"objects", pass->uploaded.size()}, {"bucket", options_.s3_bucket}});
}

void ExportRunner::ExportAndDigest(int64_t now_us) {
  Counter* errors = metrics_->GetCounter("orgtrail_export_errors_total", "Failed export or digest rounds");
  while (true) {
    auto round = exporter_->ExportOnce(now_us);
    if (!round.ok()) {
      errors->Increment();
      logger_->Error("export round failed", {{"error", round.status().ToString()}});
      SetFailure(&export_failure_, "export round failed: " + round.status().ToString());
      ReportDelivery(false, now_us, round.status().ToString());
      return;
    }
    if (round->events_exported == 0 && !round->recovered) break;
    if (uploader_ == nullptr && !round->files.empty()) ReportDelivery(false, now_us, "");
    metrics_->GetCounter("orgtrail_export_events_total", "Events written to CloudTrail log files")
        ->Increment(round->events_exported);
    metrics_->GetCounter("orgtrail_export_files_total", "CloudTrail log files written")->Increment(round->files.size());
    logger_->Info("exported", {{"events", round->events_exported}, {"files", round->files.size()},
                               {"last_commit_index", round->last_commit_index}, {"recovered", round->recovered}});
  }
  auto digests = publisher_->PublishDue(now_us);
  if (!digests.ok()) {
    errors->Increment();
    logger_->Error("digest round failed", {{"error", digests.status().ToString()}});
    SetFailure(&export_failure_, "digest round failed: " + digests.status().ToString());
    ReportDelivery(true, now_us, digests.status().ToString());
    return;
  }
  if (uploader_ == nullptr && !digests->empty()) ReportDelivery(true, now_us, "");
  SetFailure(&export_failure_, "");
  upload_due_ = true;
  for (const auto& d : *digests) {
    metrics_->GetCounter("orgtrail_digest_files_total", "Digest files written", {{"backfill", d.backfill ? "true" : "false"}})
        ->Increment();
    logger_->Info("digest delivered", {{"key", d.key}, {"log_files", d.log_file_count}});
  }
}

}  // namespace orgtrail::collector
