// The collector's export and Merkle threads: ties the CloudTrail-compatible export
// (LogExporter + DigestPublisher + DigestKeyRing) and the Merkle log
// (MerkleLog + checkpoints) to the store, and owns their gRPC services
// (DigestKeys, MerkleLog). Configuration comes from collector flags
// (AddFlags/OptionsFromFlags); main() creates one runner, registers
// services() with the server, Start()s it after the server started and
// Stop()s it before the server shuts down.
//
// Every tick (tick_us), on the Merkle thread: append newly committed events to
// the Merkle log and sign a checkpoint when checkpoint_every_events were added
// or checkpoint_interval passed with growth. On the export thread, every export
// interval: the same Merkle step (serialised with the Merkle thread), then one
// export round (log files), then due digests (they name the latest
// checkpoint). Errors are logged and counted and the round is retried on the
// next tick (the export and digest steps are idempotent). Stop() joins both
// threads and runs a last round.
//
// With --export-s3-endpoint and --export-s3-bucket, the finished archive files are also delivered
// to S3-compatible object storage (collector/delivery ExportUploader, credentials
// the usual AWS ways, never flags): a pass after every export round that
// wrote something, and at startup (resume after a crash); a failed pass is
// retried with exponential backoff (1 s doubling to 5 min), counted
// (orgtrail_s3_upload_errors_total) and reported by UploadFailure(); it does
// not stop ingest or export. Confirmed log and digest files are then deleted locally unless
// --keep-local.
//
// Trails drive delivery (SetTrailSource; server/trail_deliveries.h): every trail except one naming
// the archive's bucket and key prefix gets its own delivery of what its selectors select, to
// <data-dir>/trails/<name>/ and, with --export-s3-endpoint, to its own bucket and key prefix;
// retention may drop only what the archive and every trail have exported.
//
// Delivery reports (SetDeliveryListener; the trails' GetTrailStatus fields): log files and digest
// files count as delivered when durable in the export folder, or, with object storage, when the
// bucket confirmed them; each failed round or pass is reported with its error.
//
// Files in the data dir: digest-keys/ (RSA-2048, 0600), checkpoint-key.pem
// (Ed25519, 0600), s3-upload.journal (the upload cursor). Thread-safe
// Start/Stop from the owner thread.
#ifndef ORGTRAIL_COLLECTOR_SERVER_EXPORT_RUNNER_H_
#define ORGTRAIL_COLLECTOR_SERVER_EXPORT_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <grpcpp/grpcpp.h>

#include "collector/admin/trail_manager.h"
#include "collector/delivery/export_uploader.h"
#include "collector/server/trail_deliveries.h"
#include "collector/integrity/digest_key_ring.h"
#include "collector/integrity/digest_keys_service.h"
#include "collector/integrity/digest_publisher.h"
#include "collector/export/export_log_exporter.h"
#include "collector/integrity/merkle_log.h"
#include "collector/integrity/merkle_log_service.h"
#include "collector/store/store.h"
#include "orgtrail/common/checkpoint.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/shard_map.h"

namespace orgtrail::collector {

struct ExportRunnerOptions {
  bool enabled = true;
  std::string data_dir;
  std::string export_root;          // default <data_dir>/export
  std::string trust_domain;
  std::string org_id;               // default o-<10 hex of SHA-256(trust domain)>
  std::string bucket = "orgtrail-export";
  std::string trail_name = "org-trail";
  std::string home_region = "us-east-1";
  int64_t export_interval_us = 5ll * 60 * 1000000;
  int64_t digest_interval_us = 60ll * 60 * 1000000;
  int64_t checkpoint_interval_us = 10ll * 1000000;
  uint64_t checkpoint_every_events = 1000;
  int64_t tick_us = 250000;
  bool rotate_digest_key = false;  // start with a new digest signing key (old keys stay listed)
  // Delivery to S3-compatible object storage; off while s3_endpoint is empty.
  std::string s3_endpoint;         // http(s)://host[:port] (path-style requests)
  std::string s3_region = "us-east-1";
  std::string s3_bucket;
  std::string s3_key_prefix;       // "" or a/b (no leading or trailing '/')
  bool keep_local = false;         // keep confirmed files locally (else pruned once delivered)
  // Sharded ingest: this collector's shard. Its Merkle log is its own, signed under the checkpoint
  // origin <trust_domain>/orgtrail/<shard> ("" = <trust_domain>/orgtrail, one collector).
  std::string shard_name;
  // With shard_name: the map. Trails then deliver only the accounts this shard serves
  // (TrailPipelineOptions::delivers_account).
  std::shared_ptr<const ShardMap> shard_map;
};

class ExportRunner {
 public:
  static void AddFlags(boost::program_options::options_description* options);
  // INVALID_ARGUMENT naming the flag on bad values.
  static StatusOr<ExportRunnerOptions> OptionsFromFlags(const boost::program_options::variables_map& values,
                                                       const std::string& data_dir,
                                                       const std::string& trust_domain,
                                                       const std::string& home_region);

  static StatusOr<std::unique_ptr<ExportRunner>> Create(EventStore* store, ExportRunnerOptions options,
                                                        Logger* logger, MetricsRegistry* metrics);
  ~ExportRunner();  // Stop()

  // Called on the runner's thread after each delivery attempt; set before Start().
  void SetDeliveryListener(std::function<void(const TrailDelivery&)> listener) { delivery_listener_ = std::move(listener); }
  // The trails' configuration (TrailManager::Config), read on the runner's thread every tick; set
  // before Start(). Without it, only the archive delivers.
  void SetTrailSource(std::function<v1::TrailConfig()> source) { trail_source_ = std::move(source); }

  // The gRPC services to register with the server (owned by the runner).
  std::vector<grpc::Service*> services();
  void Start();
  void Stop();

  // One pass of the loop body (tests and Stop()).
  void RunOnce(bool export_now);

  // Readiness: "" while the last round of each job succeeded, else why it failed (cleared by
  // the next successful round). Thread-safe.
  std::string ExportFailure() const;  // log files and digests
  std::string MerkleFailure() const;  // Merkle log appends and checkpoints
  std::string UploadFailure() const;  // object storage delivery ("" = fine or off)

  MerkleLog* merkle_log() { return merkle_.get(); }
  DigestKeyRing* key_ring() { return keys_.get(); }
  const std::string& checkpoint_verifier_key() const { return checkpoint_signer_->verifier_key(); }

 private:
  ExportRunner(EventStore* store, ExportRunnerOptions options, Logger* logger, MetricsRegistry* metrics);
  Status Init();
  void Loop();        // the export thread: DeliverOnce every tick
  void MerkleLoop();  // the Merkle thread: MaintainMerkleLog every tick
  // Log files, digests, trails' deliveries and uploads (not the Merkle log).
  void DeliverOnce(int64_t now_us, bool export_now);
  // Appends to the Merkle log and signs a checkpoint when due. Serialised by merkle_mu_.
  void MaintainMerkleLog(int64_t now_us);
  void CountMerkleEventReads();  // into orgtrail_follower_event_reads_total{follower="merkle"}
  void ExportAndDigest(int64_t now_us);
  void SetFailure(std::string* field, std::string failure);
  void UploadToObjectStore(int64_t now_us);
  // Reports a delivery attempt to the listener (log files or digests).
  void ReportDelivery(bool digest, int64_t now_us, const std::string& error);
  // Retention hold = the smallest cursor of the archive and the trails' deliveries.
  void UpdateRetentionHold();

  EventStore* store_;
  ExportRunnerOptions options_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  std::unique_ptr<DigestKeyRing> keys_;
  std::unique_ptr<CheckpointSigner> checkpoint_signer_;
  std::unique_ptr<MerkleLog> merkle_;
  std::mutex merkle_mu_;  // MaintainMerkleLog: the Merkle thread, or RunOnce at Stop
  std::pair<uint64_t, uint64_t> merkle_reads_counted_{0, 0};  // (memory, store) counted; merkle_mu_
  std::unique_ptr<LogExporter> exporter_;
  std::unique_ptr<DigestPublisher> publisher_;
  std::unique_ptr<DigestKeysService> keys_service_;
  std::unique_ptr<MerkleLogService> merkle_service_;
  std::unique_ptr<objectstore::S3Client> s3_client_;  // null when delivery is off
  std::unique_ptr<ExportUploader> uploader_;
  std::function<void(const TrailDelivery&)> delivery_listener_;
  std::function<v1::TrailConfig()> trail_source_;
  std::unique_ptr<TrailDeliveries> trails_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;         // Loop
  std::thread merkle_thread_;  // MerkleLoop
  int64_t last_export_us_ = 0;
  int64_t last_checkpoint_us_ = 0;    // these three: merkle_mu_
  uint64_t last_checkpoint_size_ = 0;
  bool have_checkpoint_ = false;
  std::string latest_checkpoint_;  // guarded by mu_
  std::string export_failure_;     // guarded by mu_
  std::string merkle_failure_;     // guarded by mu_
  std::string upload_failure_;     // guarded by mu_
  bool upload_due_ = true;         // an export round wrote files since the last good pass
  int64_t next_upload_us_ = 0;     // backoff after a failed pass
  int64_t upload_backoff_us_ = 0;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SERVER_EXPORT_RUNNER_H_
