#include "collector/admin/trail_manager.h"

#include "orgtrail/common/classify.h"
#include "orgtrail/common/selectors.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

Status NotFound(const std::string& name) {
  return absl::NotFoundError("TrailNotFoundException: Unknown trail: " + name.substr(0, 256));
}

std::string NameFromArn(const std::string& name_or_arn) {
  if (name_or_arn.rfind("arn:", 0) != 0) return name_or_arn;
  size_t slash = name_or_arn.find(":trail/");
  return slash == std::string::npos ? name_or_arn : name_or_arn.substr(slash + 7);
}

bool IsAdminRole(const Identity& caller) {
  return caller.role == Role::kAdmin || caller.role == Role::kAccountAdmin;
}

}  // namespace

StatusOr<std::unique_ptr<TrailManager>> TrailManager::Open(EventStore* store, TrailManagerOptions options) {
  std::unique_ptr<TrailManager> manager(new TrailManager(store, std::move(options)));
  ORGTRAIL_RETURN_IF_ERROR(manager->Load());
  return manager;
}

Status TrailManager::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  auto trails = store_->ScanMetadata(kTrailPrefix);
  if (!trails.ok()) return trails.status();
  for (const auto& [key, value] : *trails) {
    v1::Trail trail;
    if (!trail.ParseFromString(value)) return absl::DataLossError("undecodable trail " + key);
    trails_[trail.name()] = trail;
  }
  auto statuses = store_->ScanMetadata(kTrailStatusPrefix);
  if (!statuses.ok()) return statuses.status();
  for (const auto& [key, value] : *statuses) {
    v1::TrailStatus status;
    if (!status.ParseFromString(value)) return absl::DataLossError("undecodable trail status " + key);
    statuses_[key.substr(kTrailStatusPrefix.size())] = status;
  }
  auto version = store_->GetMetadata(kTrailConfigVersionKey);
  if (!version.ok()) return version.status();
  if (version->has_value()) {
    std::string_view in = **version;
    if (!GetFixed64BE(&in, &version_)) return absl::DataLossError("undecodable trail config version");
  }
  return Status();
}

void TrailManager::SetChangeListener(ChangeListener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listener_ = std::move(listener);
}

v1::TrailConfig TrailManager::Config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ConfigLocked();
}

v1::TrailConfig TrailManager::ConfigLocked() const {
  v1::TrailConfig config;
  config.set_version(version_);
  config.set_home_region(options_.home_region);
  for (const auto& [name, trail] : trails_) *config.add_trails() = trail;
  return config;
}

StatusOr<std::string> TrailManager::FindLocked(const std::string& name_or_arn) const {
  std::string name = NameFromArn(name_or_arn);
  if (trails_.count(name) == 0) return NotFound(name_or_arn);
  return name;
}

bool TrailManager::MaySee(const v1::Trail& trail, const Identity& caller) const {
  if (caller.role == Role::kAdmin) return true;
  if (caller.role != Role::kAccountAdmin) return false;
  return trail.is_organization_trail() || trail.owner_account_id() == caller.account_id;
}

Status TrailManager::CheckMayChange(const v1::Trail& trail, const Identity& caller) const {
  if (caller.role == Role::kAdmin) return Status();
  if (caller.role != Role::kAccountAdmin) {
    return absl::PermissionDeniedError(std::string(RoleName(caller.role)) + " identities may not manage trails");
  }
  if (trail.is_organization_trail()) {
    return absl::PermissionDeniedError(
        "OrganizationTrailChangeNotAllowed: account administrator " + caller.spiffe_id +
        " may not create or change the organization trail " + trail.name());
  }
  if (trail.owner_account_id() != caller.account_id) {
    return absl::PermissionDeniedError("trail " + trail.name() + " belongs to account " +
                                       trail.owner_account_id() + ", not " + caller.account_id);
  }
  return Status();
}

Status TrailManager::PersistLocked(const std::string& name, const v1::Trail* trail, const v1::TrailStatus* status) {
  std::string version_bytes;
  PutFixed64BE(&version_bytes, version_ + 1);
  std::vector<EventStore::MetadataEntry> entries;
  entries.emplace_back(std::string(kTrailPrefix) + name,
                       trail ? std::optional<std::string>(trail->SerializeAsString()) : std::nullopt);
  entries.emplace_back(std::string(kTrailStatusPrefix) + name,
                       status ? std::optional<std::string>(status->SerializeAsString()) : std::nullopt);
  entries.emplace_back(std::string(kTrailConfigVersionKey), version_bytes);
  ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata(entries));
  ++version_;
  if (trail != nullptr) {
    trails_[name] = *trail;
  } else {
    trails_.erase(name);
  }
  if (status != nullptr) {
    statuses_[name] = *status;
  } else {
    statuses_.erase(name);
  }
  if (listener_) listener_(ConfigLocked());
  return Status();
}

StatusOr<v1::Trail> TrailManager::Create(const v1::Trail& request, const Identity& caller) {
  if (!IsAdminRole(caller)) return absl::PermissionDeniedError("only administrators may create trails");
  v1::Trail trail = request;
  if (caller.role == Role::kAccountAdmin) {
    trail.set_owner_account_id(caller.account_id);
  } else if (trail.owner_account_id().empty()) {
    trail.set_owner_account_id(options_.management_account_id);
  }
  if (!IsValidAccountId(trail.owner_account_id())) {
    return absl::InvalidArgumentError("InvalidParameterException: owner_account_id must be 12 digits");
  }
  ORGTRAIL_RETURN_IF_ERROR(CheckMayChange(trail, caller));
  trail.set_home_region(options_.home_region);
  ORGTRAIL_RETURN_IF_ERROR(ValidateTrail(trail));
  trail.set_trail_arn(TrailArn(trail.home_region(), trail.owner_account_id(), trail.name()));
  trail.set_has_custom_event_selectors(trail.event_selectors_size() > 0 || trail.advanced_event_selectors_size() > 0);

  std::lock_guard<std::mutex> lock(mu_);
  if (trails_.count(trail.name()) > 0) {
    return absl::AlreadyExistsError("TrailAlreadyExistsException: Trail " + trail.name() + " already exists");
  }
  int owned = 0;
  for (const auto& [name, t] : trails_) owned += t.owner_account_id() == trail.owner_account_id() ? 1 : 0;
  if (owned >= options_.max_trails_per_account) {
    return absl::ResourceExhaustedError("MaximumNumberOfTrailsExceededException: account " +
                                        trail.owner_account_id() + " already has " + std::to_string(owned) +
                                        " trails in " + options_.home_region);
  }
  v1::TrailStatus status;
  if (trail.is_logging()) {
    status.set_is_logging(true);
    status.set_start_logging_time_us(NowMicros());
  }
  ORGTRAIL_RETURN_IF_ERROR(PersistLocked(trail.name(), &trail, &status));
  return trail;
}

StatusOr<v1::Trail> TrailManager::Update(const v1::Trail& request, const Identity& caller) {
  std::lock_guard<std::mutex> lock(mu_);
  auto name = FindLocked(request.name().empty() ? request.trail_arn() : request.name());
  if (!name.ok()) return name.status();
  const v1::Trail& current = trails_.at(*name);
  ORGTRAIL_RETURN_IF_ERROR(CheckMayChange(current, caller));
  v1::Trail trail = request;
  trail.set_name(*name);
  trail.set_owner_account_id(current.owner_account_id());
  trail.set_home_region(current.home_region());
  trail.set_trail_arn(current.trail_arn());
  trail.set_is_logging(current.is_logging());
  ORGTRAIL_RETURN_IF_ERROR(CheckMayChange(trail, caller));  // cannot turn into an org trail either
  if (trail.event_selectors_size() == 0 && trail.advanced_event_selectors_size() == 0) {
    *trail.mutable_event_selectors() = current.event_selectors();
    *trail.mutable_advanced_event_selectors() = current.advanced_event_selectors();
  }
  ORGTRAIL_RETURN_IF_ERROR(ValidateTrail(trail));
  trail.set_has_custom_event_selectors(trail.event_selectors_size() > 0 || trail.advanced_event_selectors_size() > 0);
  v1::TrailStatus status = statuses_[*name];
  ORGTRAIL_RETURN_IF_ERROR(PersistLocked(*name, &trail, &status));
  return trail;
}

Status TrailManager::Delete(const std::string& name_or_arn, const Identity& caller) {
  std::lock_guard<std::mutex> lock(mu_);
  auto name = FindLocked(name_or_arn);
  if (!name.ok()) return name.status();
  ORGTRAIL_RETURN_IF_ERROR(CheckMayChange(trails_.at(*name), caller));
  return PersistLocked(*name, nullptr, nullptr);
}

StatusOr<v1::Trail> TrailManager::Get(const std::string& name_or_arn, const Identity& caller) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto name = FindLocked(name_or_arn);
  if (!name.ok()) return name.status();
  const v1::Trail& trail = trails_.at(*name);
  if (!MaySee(trail, caller)) return NotFound(name_or_arn);
  return trail;
}

StatusOr<std::vector<v1::Trail>> TrailManager::Describe(const std::vector<std::string>& names,
                                                        const Identity& caller) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Trail> out;
  if (names.empty()) {
    for (const auto& [name, trail] : trails_) {
      if (MaySee(trail, caller)) out.push_back(trail);
    }
    return out;
  }
  for (const std::string& requested : names) {
    auto name = FindLocked(requested);
    if (!name.ok()) continue;  // CloudTrail DescribeTrails skips unknown names
    if (MaySee(trails_.at(*name), caller)) out.push_back(trails_.at(*name));
  }
  return out;
}

StatusOr<v1::Trail> TrailManager::PutEventSelectors(const v1::PutEventSelectorsRequest& request,
                                                    const Identity& caller) {
  if (request.event_selectors_size() > 0 && request.advanced_event_selectors_size() > 0) {
    return absl::InvalidArgumentError(
        "InvalidParameterCombinationException: specify either event selectors or advanced event selectors, not both");
  }
  if (request.event_selectors_size() == 0 && request.advanced_event_selectors_size() == 0) {
    return absl::InvalidArgumentError("InvalidEventSelectorsException: no event selectors given");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto name = FindLocked(request.trail_name());
  if (!name.ok()) return name.status();
  ORGTRAIL_RETURN_IF_ERROR(CheckMayChange(trails_.at(*name), caller));
  v1::Trail trail = trails_.at(*name);
  *trail.mutable_event_selectors() = request.event_selectors();  // one kind overwrites the other
  *trail.mutable_advanced_event_selectors() = request.advanced_event_selectors();
  ORGTRAIL_RETURN_IF_ERROR(ValidateTrail(trail));
  trail.set_has_custom_event_selectors(true);
  v1::TrailStatus status = statuses_[*name];
  ORGTRAIL_RETURN_IF_ERROR(PersistLocked(*name, &trail, &status));
  return trail;
}

StatusOr<v1::Trail> TrailManager::PutInsightSelectors(const v1::PutInsightSelectorsRequest& request,
                                                      const Identity& caller) {
  ORGTRAIL_RETURN_IF_ERROR(ValidateInsightSelectors(request.insight_selectors()));
  std::lock_guard<std::mutex> lock(mu_);
  auto name = FindLocked(request.trail_name());
  if (!name.ok()) return name.status();
  ORGTRAIL_RETURN_IF_ERROR(CheckMayChange(trails_.at(*name), caller));
  v1::Trail trail = trails_.at(*name);
  *trail.mutable_insight_selectors() = request.insight_selectors();
  v1::TrailStatus status = statuses_[*name];
  ORGTRAIL_RETURN_IF_ERROR(PersistLocked(*name, &trail, &status));
  return trail;
}

Status TrailManager::SetLogging(const std::string& name_or_arn, bool logging, const Identity& caller) {
  std::lock_guard<std::mutex> lock(mu_);
  auto name = FindLocked(name_or_arn);
  if (!name.ok()) return name.status();
  ORGTRAIL_RETURN_IF_ERROR(CheckMayChange(trails_.at(*name), caller));
  v1::Trail trail = trails_.at(*name);
  v1::TrailStatus status = statuses_[*name];
  trail.set_is_logging(logging);
  status.set_is_logging(logging);
  (logging ? status.set_start_logging_time_us(NowMicros()) : status.set_stop_logging_time_us(NowMicros()));
  return PersistLocked(*name, &trail, &status);
}

Status TrailManager::RecordDelivery(const TrailDelivery& delivery) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<EventStore::MetadataEntry> entries;
  std::map<std::string, v1::TrailStatus> changed;
  for (const auto& [name, trail] : trails_) {
    if (!trail.is_logging()) continue;
    const bool for_this_trail = delivery.trail_name.empty()
                                    ? trail.s3_bucket_name() == delivery.bucket && trail.s3_key_prefix() == delivery.key_prefix
                                    : name == delivery.trail_name;
    if (!for_this_trail) continue;
    v1::TrailStatus status = statuses_[name];
    if (delivery.digest) {
      if (!trail.log_file_validation_enabled()) continue;  // CloudTrail writes digests only then
      if (delivery.error.empty()) status.set_latest_digest_delivery_time_us(delivery.attempt_time_us);
      status.set_latest_digest_delivery_error(delivery.error);
    } else {
      status.set_latest_delivery_attempt_time_us(delivery.attempt_time_us);
      if (delivery.error.empty()) status.set_latest_delivery_time_us(delivery.attempt_time_us);
      status.set_latest_delivery_error(delivery.error);
    }
    entries.emplace_back(std::string(kTrailStatusPrefix) + name, status.SerializeAsString());
    changed[name] = std::move(status);
  }
  if (entries.empty()) return Status();
  ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata(entries));
  for (auto& [name, status] : changed) statuses_[name] = std::move(status);
  return Status();
}

StatusOr<v1::TrailStatus> TrailManager::GetStatus(const std::string& name_or_arn, const Identity& caller) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto name = FindLocked(name_or_arn);
  if (!name.ok()) return name.status();
  if (!MaySee(trails_.at(*name), caller)) return NotFound(name_or_arn);
  auto it = statuses_.find(*name);
  v1::TrailStatus status = it == statuses_.end() ? v1::TrailStatus() : it->second;
  status.set_is_logging(trails_.at(*name).is_logging());
  return status;
}

}  // namespace orgtrail::collector
