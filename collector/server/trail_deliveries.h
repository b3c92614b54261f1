// TrailDeliveries: the export thread's set of per-trail deliveries (collector/delivery
// TrailPipeline), kept in step with the trail configuration: every trail gets a pipeline of its
// own, delivering what its selectors select to <data-dir>/trails/<name>/ and, with an object
// store, to its S3BucketName/S3KeyPrefix; except a trail naming the organization archive's bucket
// and key prefix (--export-bucket / --export-s3-bucket, --export-s3-key-prefix), which the archive
// (every stored event) delivers, as before trails drove delivery.
//
// A deleted trail's pipeline is closed (its delivery state stays in the store, so a trail created
// again under that name continues its digest chain); a trail whose bucket or prefix changed gets a
// new pipeline continuing from the old cursor. Failures are logged, counted per trail
// (orgtrail_trail_delivery_errors_total{trail,step}), reported to the trail's status (report
// callback) and retried: export rounds on the next interval, uploads with backoff (1 s doubling to
// 5 min). Not thread-safe: the export thread only, except Failure() (thread-safe).
#ifndef ORGTRAIL_COLLECTOR_SERVER_TRAIL_DELIVERIES_H_
#define ORGTRAIL_COLLECTOR_SERVER_TRAIL_DELIVERIES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "collector/admin/trail_manager.h"
#include "collector/delivery/trail_pipeline.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"

namespace orgtrail::collector {

struct TrailDeliveriesOptions {
  std::string data_dir;
  std::string org_id;
  std::string home_region;
  int64_t digest_interval_us = 3600ll * 1000000;
  bool keep_local = false;
  std::string archive_bucket;      // the archive serves trails naming this bucket ...
  std::string archive_key_prefix;  // ... and this key prefix
  std::function<std::string()> checkpoint_provider;
  std::function<void(uint64_t)> exported_through;        // a pipeline's cursor moved
  std::function<void(const TrailDelivery&)> report;      // delivery attempts (trail status)
  std::function<bool(std::string_view account_id)> delivers_account;  // TrailPipelineOptions'; empty = all
};

class TrailDeliveries {
 public:
  TrailDeliveries(EventStore* store, const DigestKeyRing* keys, const objectstore::S3Client* s3,
                  TrailDeliveriesOptions options, Logger* logger, MetricsRegistry* metrics);

  // Opens, updates and closes pipelines to match the configuration (cheap when its version is
  // the one seen last).
  void Reconcile(const v1::TrailConfig& config);
  // An export round (and due digests) for every pipeline.
  void ExportAndDigest(int64_t now_us);
  // An upload pass for every pipeline that wrote files since its last good pass and is not
  // backing off.
  void Upload(int64_t now_us);

  // The smallest cursor of the pipelines (UINT64_MAX when there are none): retention may drop
  // only what every pipeline has exported.
  uint64_t MinCursor() const;
  size_t size() const { return pipelines_.size(); }
  // "" while every pipeline's last round and pass succeeded, else the first failure. Thread-safe.
  std::string Failure() const;

 private:
  struct Entry {
    std::unique_ptr<TrailPipeline> pipeline;
    bool upload_due = true;
    int64_t next_upload_us = 0;
    int64_t upload_backoff_us = 0;
  };
  bool ServedByArchive(const v1::Trail& trail) const;
  void Open(const v1::Trail& trail, const std::string& global_home_region);
  void Report(const std::string& trail, bool digest, int64_t now_us, const std::string& error);
  void SetFailure(const std::string& trail, const char* step, std::string failure);

  EventStore* store_;
  const DigestKeyRing* keys_;
  const objectstore::S3Client* s3_;
  TrailDeliveriesOptions options_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  uint64_t seen_version_ = 0;
  bool seen_any_ = false;
  std::map<std::string, Entry> pipelines_;
  mutable std::mutex failure_mu_;
  std::map<std::string, std::map<std::string, std::string>> failures_;  // trail -> step -> error; failure_mu_
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SERVER_TRAIL_DELIVERIES_H_
