// TrailPipeline: one trail's own delivery. The events the trail selects (its event selectors or
// advanced event selectors, its Region scope and global-service setting, its logging state; the
// collector's Insights records when it has Insights selectors) are written as CloudTrail log files
// to the trail's local folder, digested there when its log file validation is on (digests name the
// trail's bucket, key prefix and trail name), and, with an object store, uploaded to the trail's
// S3BucketName under its S3KeyPrefix (prefix/AWSLogs/<o-org>/<account>/CloudTrail/<region>/...).
//
// Each pipeline is a LogExporter + DigestPublisher + ExportUploader of its own: its cursor, intent,
// pending digests and digest chains live under the metadata namespace "trailexport/<name>/", its
// upload journal beside its folder, so trails are independent: an event two trails select is in
// both, exactly once in each (the exporter's crash-safe rounds and the journal's exactly-once
// uploads, collector/EXPORT.md). A new trail starts at the store's newest commit when its pipeline
// is first opened (it delivers what is committed from then on, like a new CloudTrail trail).
// The selectors in force when a round runs decide (rounds run every export interval).
//
// Errors: Open fails on a bad folder or store; ExportAndDigest / Upload return the first failure
// of the round or pass (retry later; nothing is skipped). Not thread-safe: the export thread only.
// store, keys and the S3 client (nullable: no object store) are not owned and outlive the pipeline.
#ifndef ORGTRAIL_COLLECTOR_DELIVERY_TRAIL_PIPELINE_H_
#define ORGTRAIL_COLLECTOR_DELIVERY_TRAIL_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "collector/delivery/export_uploader.h"
#include "collector/export/export_log_exporter.h"
#include "collector/integrity/digest_key_ring.h"
#include "collector/integrity/digest_publisher.h"
#include "collector/store/store.h"
#include "objectstore/s3_client.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/admin.pb.h"

namespace orgtrail::collector {

struct TrailPipelineOptions {
  v1::Trail trail;                  // name, selectors, bucket, key prefix, log file validation
  std::string global_home_region;   // TrailConfig.home_region: where global-service events live
  std::string folder;               // the trail's local copy (CloudTrail layout); created
  std::string journal_path;         // its upload journal (outside folder)
  std::string org_id;
  std::string home_region;          // the collector's home region (digest file names)
  int64_t digest_interval_us = 3600ll * 1000000;
  bool keep_local = false;          // with an object store: keep confirmed files in folder
  std::function<std::string()> checkpoint_provider;  // the Merkle checkpoint in digests
  std::function<void(uint64_t cursor)> exported_through;  // after each round (retention hold)
  // Sharded collectors: whether this collector delivers an account's events (the shard serving
  // the account). Every shard writes into a trail's one bucket, and CloudTrail's digest file names
  // carry no writer, so an account and region must have one writer: events of accounts another
  // shard serves (this collector's own self-audit records under the management account, say) stay
  // in this collector's store and archive. Empty: every account (one collector).
  std::function<bool(std::string_view account_id)> delivers_account;
};

// What one round or pass did.
struct TrailRoundResult {
  uint64_t events = 0;        // events written to log files
  size_t files = 0;           // log files written
  size_t digests = 0;         // digest files written
};

class TrailPipeline {
 public:
  // The metadata namespace of a trail's delivery state.
  static std::string MetadataNamespace(const std::string& trail_name);

  static StatusOr<std::unique_ptr<TrailPipeline>> Open(EventStore* store, const DigestKeyRing* keys,
                                                       const objectstore::S3Client* s3,
                                                       TrailPipelineOptions options);

  // The trail's current definition for the next rounds (selectors, logging, validation).
  // The bucket and key prefix are fixed for a pipeline: the owner opens a new one when they change.
  void UpdateTrail(const v1::Trail& trail) { trail_ = trail; }
  const v1::Trail& trail() const { return trail_; }

  // Export rounds until the cursor reaches the newest commit, then due digests (validation on).
  // *log_error / *digest_error get the failed step's error ("" when it succeeded).
  TrailRoundResult ExportAndDigest(int64_t now_us, std::string* log_error, std::string* digest_error);
  // One upload pass (with an object store; else an empty pass).
  StatusOr<UploadPass> Upload();
  bool delivers_to_object_store() const { return uploader_ != nullptr; }
  StatusOr<uint64_t> Cursor() const { return exporter_->Cursor(); }
  const TrailPipelineOptions& options() const { return options_; }

 private:
  TrailPipeline(EventStore* store, TrailPipelineOptions options);
  Status Init(const DigestKeyRing* keys, const objectstore::S3Client* s3);
  bool Selects(const StoredEvent& event);

  EventStore* store_;
  TrailPipelineOptions options_;
  v1::Trail trail_;
  std::unique_ptr<LogExporter> exporter_;
  std::unique_ptr<DigestPublisher> publisher_;
  std::unique_ptr<ExportUploader> uploader_;  // null without an object store
  struct Matcher;
  std::shared_ptr<Matcher> matcher_;  // parser and classifier reused across events
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_DELIVERY_TRAIL_PIPELINE_H_
