// TrailManager: the organization's trail definitions, stored durably in the
// store's metadata column family ("trail/<name>", "trailstatus/<name>",
// "trailconfig/version"; see collector/STORAGE.md), with CloudTrail's
// validation (common/selectors.h) and a strictly increasing configuration
// version. Every change is written synced and then handed to the change
// listener (the ingest service pushes it to every open stream).
//
// Authorization (the caller's Identity): kAdmin may do everything; kAccountAdmin
// may manage only non-organization trails owned by its account, sees those and
// the organization trails, and can never change an organization trail
// (PERMISSION_DENIED). Other roles: PERMISSION_DENIED.
// Errors carry CloudTrail's exception names first, e.g.
// "TrailNotFoundException: ...", "TrailAlreadyExistsException: ...",
// "MaximumNumberOfTrailsExceededException: ...", "InvalidTrailNameException: ...".
// Names may be given as a trail name or a trail ARN.
//
// Thread-safe (one mutex); the listener runs under it and must be quick.
#ifndef ORGTRAIL_COLLECTOR_ADMIN_TRAIL_MANAGER_H_
#define ORGTRAIL_COLLECTOR_ADMIN_TRAIL_MANAGER_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/admin.pb.h"

namespace orgtrail::collector {

// One attempt to deliver log files or digest files (collector/server/export_runner.h): by one
// trail's own delivery (trail_name set), or by the organization archive (trail_name empty), to its
// folder, or, with object storage configured, to its bucket.
struct TrailDelivery {
  std::string trail_name;       // "" = the archive, for the trails naming its bucket and prefix
  bool digest = false;          // digest files (else log files)
  int64_t attempt_time_us = 0;
  std::string error;            // "" = delivered
  std::string bucket;           // where it delivers (the trail's, or --export-s3-bucket / --export-bucket)
  std::string key_prefix;       // the archive's key prefix (archive deliveries)
};

struct TrailManagerOptions {
  std::string home_region = "us-east-1";
  std::string management_account_id = "000000000000";  // owner of trails an org admin creates
  int max_trails_per_account = 5;                       // CloudTrail: 5 per Region
};

class TrailManager {
 public:
  using ChangeListener = std::function<void(const v1::TrailConfig&)>;

  static StatusOr<std::unique_ptr<TrailManager>> Open(EventStore* store, TrailManagerOptions options);

  void SetChangeListener(ChangeListener listener);
  v1::TrailConfig Config() const;

  StatusOr<v1::Trail> Create(const v1::Trail& trail, const Identity& caller);
  StatusOr<v1::Trail> Update(const v1::Trail& trail, const Identity& caller);
  Status Delete(const std::string& name, const Identity& caller);
  StatusOr<v1::Trail> Get(const std::string& name, const Identity& caller) const;
  // Empty names = every trail the caller may see.
  StatusOr<std::vector<v1::Trail>> Describe(const std::vector<std::string>& names, const Identity& caller) const;
  StatusOr<v1::Trail> PutEventSelectors(const v1::PutEventSelectorsRequest& request, const Identity& caller);
  // Replaces the trail's Insights types (empty = Insights off), as CloudTrail PutInsightSelectors.
  StatusOr<v1::Trail> PutInsightSelectors(const v1::PutInsightSelectorsRequest& request, const Identity& caller);
  Status SetLogging(const std::string& name, bool logging, const Identity& caller);
  StatusOr<v1::TrailStatus> GetStatus(const std::string& name, const Identity& caller) const;
  // A delivery attempt in the status of the logging trail it delivered for (CloudTrail's
  // GetTrailStatus fields: delivery time or error; digests only with log file validation on): the
  // named trail, or, for the archive, every trail naming the archive's bucket and key prefix.
  // Written synced, without a new configuration version.
  Status RecordDelivery(const TrailDelivery& delivery);

 private:
  TrailManager(EventStore* store, TrailManagerOptions options) : store_(store), options_(std::move(options)) {}
  Status Load();
  StatusOr<std::string> FindLocked(const std::string& name_or_arn) const;
  Status CheckMayChange(const v1::Trail& trail, const Identity& caller) const;
  bool MaySee(const v1::Trail& trail, const Identity& caller) const;
  // Persists the given trail (or deletes it when trail == nullptr) with a new version.
  Status PersistLocked(const std::string& name, const v1::Trail* trail, const v1::TrailStatus* status);
  v1::TrailConfig ConfigLocked() const;

  EventStore* store_;
  TrailManagerOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, v1::Trail> trails_;
  std::map<std::string, v1::TrailStatus> statuses_;
  uint64_t version_ = 0;
  ChangeListener listener_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ADMIN_TRAIL_MANAGER_H_
