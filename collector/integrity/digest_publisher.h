// Hourly (configurable) CloudTrail digest files per account and region of the
// export: each lists the log files delivered since the previous digest of
// its partition (the "pending" entries recorded by LogExporter), links to the
// previous digest (previousDigest* chain), is signed SHA256withRSA over
// CloudTrail's string to sign with the DigestKeyRing's current key, and is
// delivered even when no log file was written in the window. The signature
// goes into the sidecar <digest>.metadata.json (digest_format.h).
//
// Late log files (delivered before the current chain's start, e.g. after a
// clock step back) are listed in a backfill digest ("_backfill.json.gz")
// with its own chain and a backfill-generation-timestamp in its sidecar.
//
// Crash safety: per partition, metadata "digest/intent/<p>" = (start, end)
// is synced first; then sidecar and digest files are written durably; then
// ONE synced metadata write updates the chain, deletes the listed pending
// entries and the intent. Recovery re-runs an intent with the same window
// and file name (rename replaces the unreferenced earlier attempt).
//
// Not thread-safe: called from the exporter thread only.
#ifndef ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_PUBLISHER_H_
#define ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_PUBLISHER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/integrity/digest_key_ring.h"
#include "collector/store/store.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct DigestPublisherOptions {
  std::string export_root;
  std::string org_id;
  std::string bucket;        // the export's "bucket" name
  // The key prefix the export is delivered under ("" or "team-a/trails"): digests name their
  // objects and log files as they are in the bucket (prefix/AWSLogs/...), while the files stay at
  // AWSLogs/... in the export folder. Recorded in the manifest as keyPrefix.
  std::string key_prefix;
  std::string trail_name;
  std::string home_region;
  // The exporter's LogExporterOptions::metadata_namespace ("" = the organization archive).
  std::string metadata_namespace;
  int64_t interval_us = 3600ll * 1000000;
  // Latest signed checkpoint text of the Merkle log ("" = none); carried in
  // the digest's orgtrailCheckpoint extension field.
  std::function<std::string()> checkpoint_provider;
  std::function<void(std::string_view step)> step_hook;  // tests: crash points
};

struct PublishedDigest {
  std::string key;
  std::string account_id;
  std::string region;
  int64_t start_time_us = 0;
  int64_t end_time_us = 0;
  size_t log_file_count = 0;
  bool backfill = false;
};

class DigestPublisher {
 public:
  DigestPublisher(EventStore* store, const DigestKeyRing* keys, DigestPublisherOptions options);

  // Publishes every digest that is due at now_us (and any interrupted one).
  // force = publish for every partition now regardless of the interval
  // (shutdown / StopLogging final digest).
  StatusOr<std::vector<PublishedDigest>> PublishDue(int64_t now_us, bool force = false);

  // Writes AWSLogs/<org>/public-keys.json from the key ring.
  Status WritePublicKeysFile() const;
  // Writes <root>/orgtrail-export.json {"bucket","orgId","trailName",
  // "homeRegion"}: how validate-logs learns the export's bucket name.
  Status WriteExportManifest() const;

 private:
  // An export key as it is named in the bucket (with the key prefix).
  std::string BucketKey(const std::string& export_key) const;
  struct Chain {
    std::string last_key;
    std::string last_hash_hex;
    std::string last_signature_hex;
    int64_t last_end_us = 0;
  };
  StatusOr<std::vector<PublishedDigest>> PublishPartition(const std::string& account,
                                                          const std::string& region, int64_t now_us,
                                                          bool force);
  StatusOr<PublishedDigest> WriteDigest(const std::string& account, const std::string& region,
                                        int64_t start_us, int64_t end_us, const Chain* previous,
                                        const std::vector<struct PendingLogFile>& files,
                                        bool backfill, int64_t now_us, Chain* written,
                                        std::vector<EventStore::MetadataEntry>* commit);
  StatusOr<std::optional<Chain>> LoadChain(const std::string& key) const;
  void Step(std::string_view step) const {
    if (options_.step_hook) options_.step_hook(step);
  }

  EventStore* store_;
  const DigestKeyRing* keys_;
  DigestPublisherOptions options_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_PUBLISHER_H_
