// The per-trail deliveries of the export thread (trail_deliveries.h).
#include "collector/server/trail_deliveries.h"

#include <algorithm>
#include <set>

#include "orgtrail/common/str_cat.h"

namespace orgtrail::collector {

TrailDeliveries::TrailDeliveries(EventStore* store, const DigestKeyRing* keys, const objectstore::S3Client* s3,
                                 TrailDeliveriesOptions options, Logger* logger, MetricsRegistry* metrics)
    : store_(store), keys_(keys), s3_(s3), options_(std::move(options)), logger_(logger), metrics_(metrics) {}

bool TrailDeliveries::ServedByArchive(const v1::Trail& trail) const {
  return trail.s3_bucket_name() == options_.archive_bucket && trail.s3_key_prefix() == options_.archive_key_prefix;
}

void TrailDeliveries::Reconcile(const v1::TrailConfig& config) {
  if (seen_any_ && config.version() == seen_version_) return;
  std::set<std::string> wanted;
  for (const v1::Trail& trail : config.trails()) {
    if (ServedByArchive(trail)) continue;
    wanted.insert(trail.name());
    auto it = pipelines_.find(trail.name());
    if (it != pipelines_.end()) {
      const v1::Trail& current = it->second.pipeline->trail();
      if (current.s3_bucket_name() == trail.s3_bucket_name() && current.s3_key_prefix() == trail.s3_key_prefix()) {
        it->second.pipeline->UpdateTrail(trail);
        continue;
      }
      pipelines_.erase(it);  // a new destination: reopened below, continuing from its cursor
    }
    Open(trail, config.home_region().empty() ? "us-east-1" : config.home_region());
  }
  for (auto it = pipelines_.begin(); it != pipelines_.end();) {
    if (wanted.count(it->first) == 0) {
      logger_->Info("trail delivery closed", {{"trail", it->first}});
      it = pipelines_.erase(it);
    } else {
      ++it;
    }
  }
  {
    std::lock_guard<std::mutex> lock(failure_mu_);
    for (auto it = failures_.begin(); it != failures_.end();) {
      it = wanted.count(it->first) == 0 ? failures_.erase(it) : std::next(it);
    }
  }
  // Retry a pipeline that failed to open with the next configuration change or restart; the
  // version is remembered only when every wanted pipeline is open.
  seen_any_ = std::all_of(wanted.begin(), wanted.end(), [&](const std::string& n) { return pipelines_.count(n) > 0; });
  seen_version_ = config.version();
}

void TrailDeliveries::Open(const v1::Trail& trail, const std::string& global_home_region) {
  TrailPipelineOptions o;
  o.trail = trail;
  o.global_home_region = global_home_region;
  o.folder = StrCat(options_.data_dir, "/trails/", trail.name());
  o.journal_path = StrCat(options_.data_dir, "/trails/", trail.name(), ".s3-upload.journal");
  o.org_id = options_.org_id;
  o.home_region = options_.home_region;
  o.digest_interval_us = options_.digest_interval_us;
  o.keep_local = options_.keep_local;
  o.checkpoint_provider = options_.checkpoint_provider;
  o.exported_through = options_.exported_through;
  o.delivers_account = options_.delivers_account;
  auto pipeline = TrailPipeline::Open(store_, keys_, s3_, o);
  if (!pipeline.ok()) {
    metrics_->GetCounter("orgtrail_trail_delivery_errors_total", "Failed per-trail export rounds, digest rounds and upload passes",
                         {{"trail", trail.name()}, {"step", "open"}})->Increment();
    logger_->Error("cannot open the trail's delivery", {{"trail", trail.name()}, {"error", pipeline.status().ToString()}});
    std::lock_guard<std::mutex> lock(failure_mu_);
    failures_[trail.name()]["open"] = StrCat("trail ", trail.name(), ": cannot open its delivery: ", pipeline.status().ToString());
    return;
  }
  logger_->Info("trail delivery open", {{"trail", trail.name()}, {"folder", o.folder},
                                        {"bucket", trail.s3_bucket_name()}, {"key_prefix", trail.s3_key_prefix()},
                                        {"object_store", s3_ != nullptr}, {"keep_local", options_.keep_local}});
  Entry entry;
  entry.pipeline = std::move(*pipeline);
  pipelines_[trail.name()] = std::move(entry);
  std::lock_guard<std::mutex> lock(failure_mu_);
  failures_.erase(trail.name());
}

void TrailDeliveries::Report(const std::string& trail, bool digest, int64_t now_us, const std::string& error) {
  if (!options_.report) return;
  TrailDelivery delivery;
  delivery.trail_name = trail;
  delivery.digest = digest;
  delivery.attempt_time_us = now_us;
  delivery.error = error;
  delivery.bucket = pipelines_.at(trail).pipeline->trail().s3_bucket_name();
  options_.report(delivery);
}

void TrailDeliveries::SetFailure(const std::string& trail, const char* step, std::string failure) {
  std::lock_guard<std::mutex> lock(failure_mu_);
  auto& steps = failures_[trail];
  if (failure.empty()) {
    steps.erase(step);
  } else {
    steps[step] = std::move(failure);
  }
  if (steps.empty()) failures_.erase(trail);
}

void TrailDeliveries::ExportAndDigest(int64_t now_us) {
  for (auto& [name, entry] : pipelines_) {
    std::string log_error, digest_error;
    TrailRoundResult round = entry.pipeline->ExportAndDigest(now_us, &log_error, &digest_error);
    const MetricLabels labels{{"trail", name}};
    if (round.events > 0) {
      metrics_->GetCounter("orgtrail_trail_export_events_total", "Events written to a trail's log files", labels)
          ->Increment(round.events);
    }
    if (round.files > 0) {
      metrics_->GetCounter("orgtrail_trail_export_files_total", "Log files written for a trail", labels)
          ->Increment(round.files);
    }
    if (round.digests > 0) {
      metrics_->GetCounter("orgtrail_trail_digest_files_total", "Digest files written for a trail", labels)
          ->Increment(round.digests);
    }
    for (const auto& [step, error] : {std::pair<const char*, const std::string*>{"export", &log_error},
                                      {"digest", &digest_error}}) {
      if (error->empty()) continue;
      metrics_->GetCounter("orgtrail_trail_delivery_errors_total",
                           "Failed per-trail export rounds, digest rounds and upload passes",
                           {{"trail", name}, {"step", step}})->Increment();
      logger_->Error("trail delivery round failed", {{"trail", name}, {"step", step}, {"error", *error}});
    }
    if (!log_error.empty()) {
      SetFailure(name, "export", StrCat("trail ", name, ": export round failed: ", log_error));
      Report(name, false, now_us, log_error);
      continue;
    }
    if (!digest_error.empty()) {
      SetFailure(name, "export", StrCat("trail ", name, ": digest round failed: ", digest_error));
      Report(name, true, now_us, digest_error);
    } else {
      SetFailure(name, "export", "");
    }
    if (round.files > 0 || round.digests > 0) {
      entry.upload_due = true;
      logger_->Info("trail exported", {{"trail", name}, {"events", round.events}, {"files", round.files},
                                       {"digests", round.digests}});
    }
    if (!entry.pipeline->delivers_to_object_store()) {  // delivered = durable in its folder
      if (round.files > 0) Report(name, false, now_us, "");
      if (round.digests > 0 && digest_error.empty()) Report(name, true, now_us, "");
    }
  }
}

void TrailDeliveries::Upload(int64_t now_us) {
  for (auto& [name, entry] : pipelines_) {
    if (!entry.pipeline->delivers_to_object_store() || !entry.upload_due || now_us < entry.next_upload_us) continue;
    auto pass = entry.pipeline->Upload();
    const std::string& bucket = entry.pipeline->trail().s3_bucket_name();
    if (!pass.ok()) {
      metrics_->GetCounter("orgtrail_trail_delivery_errors_total",
                           "Failed per-trail export rounds, digest rounds and upload passes",
                           {{"trail", name}, {"step", "upload"}})->Increment();
      entry.upload_backoff_us = std::clamp<int64_t>(entry.upload_backoff_us * 2, 1000000, 300ll * 1000000);
      entry.next_upload_us = now_us + entry.upload_backoff_us;
      logger_->Error("trail delivery to object storage failed",
                     {{"trail", name}, {"bucket", bucket}, {"error", pass.status().ToString()},
                      {"retry_in_ms", entry.upload_backoff_us / 1000}});
      SetFailure(name, "upload", StrCat("trail ", name, ": delivery to bucket ", bucket, " failed: ", pass.status().ToString()));
      Report(name, false, now_us, pass.status().ToString());
      continue;
    }
    entry.upload_due = false;
    entry.upload_backoff_us = 0;
    entry.next_upload_us = 0;
    SetFailure(name, "upload", "");
    if (pass->uploaded.empty()) continue;
    const auto is_digest = [](const std::string& k) { return k.find("/CloudTrail-Digest/") != std::string::npos; };
    if (std::any_of(pass->uploaded.begin(), pass->uploaded.end(), [&](const std::string& k) { return !is_digest(k); })) {
      Report(name, false, now_us, "");
    }
    if (std::any_of(pass->uploaded.begin(), pass->uploaded.end(), is_digest)) Report(name, true, now_us, "");
    metrics_->GetCounter("orgtrail_trail_objects_uploaded_total", "A trail's files delivered to object storage",
                         {{"trail", name}})->Increment(pass->uploaded.size());
    logger_->Info("trail delivered to object storage", {{"trail", name}, {"bucket", bucket},
                                                        {"objects", pass->uploaded.size()}, {"pruned", pass->pruned}});
  }
}

uint64_t TrailDeliveries::MinCursor() const {
  uint64_t min = UINT64_MAX;
  for (const auto& [name, entry] : pipelines_) {
    auto cursor = entry.pipeline->Cursor();
    if (!cursor.ok()) return 0;  // unknown: hold everything
    min = std::min(min, *cursor);
  }
  return min;
}

std::string TrailDeliveries::Failure() const {
  std::lock_guard<std::mutex> lock(failure_mu_);
  return failures_.empty() ? "" : failures_.begin()->second.begin()->second;
}

}  // namespace orgtrail::collector
