// One trail's own delivery: its selection, log files, digests and uploads (trail_pipeline.h).
#include "collector/delivery/trail_pipeline.h"

#include <filesystem>

#include "collector/export/export_file.h"
#include "collector/store/store_keys.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/selectors.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail::collector {

struct TrailPipeline::Matcher {
  EventExtractor extractor;
  GlobalServiceClassifier classifier;
  v1::Event event;
};

std::string TrailPipeline::MetadataNamespace(const std::string& trail_name) {
  return StrCat("trailexport/", trail_name, "/");
}

TrailPipeline::TrailPipeline(EventStore* store, TrailPipelineOptions options)
    : store_(store), options_(std::move(options)), trail_(options_.trail), matcher_(std::make_shared<Matcher>()) {}

StatusOr<std::unique_ptr<TrailPipeline>> TrailPipeline::Open(EventStore* store, const DigestKeyRing* keys,
                                                             const objectstore::S3Client* s3,
                                                             TrailPipelineOptions options) {
  if (options.trail.name().empty() || options.folder.empty() || options.journal_path.empty()) {
    return absl::InvalidArgumentError("TrailPipeline: trail name, folder and journal_path are required");
  }
  std::unique_ptr<TrailPipeline> pipeline(new TrailPipeline(store, std::move(options)));
  ORGTRAIL_RETURN_IF_ERROR(pipeline->Init(keys, s3));
  return pipeline;
}

Status TrailPipeline::Init(const DigestKeyRing* keys, const objectstore::S3Client* s3) {
  const std::string& name = trail_.name();
  const std::string ns = MetadataNamespace(name);
  std::error_code ec;
  std::filesystem::create_directories(options_.folder, ec);
  if (ec) return absl::UnavailableError(StrCat("trail ", name, ": cannot create ", options_.folder, ": ", ec.message()));

  LogExporterOptions lo;
  lo.export_root = options_.folder;
  lo.org_id = options_.org_id;
  lo.metadata_namespace = ns;
  lo.unique_seed = name;
  lo.select = [this](const StoredEvent& e) { return Selects(e); };
  // Pending entries are always recorded; they are dropped unlisted while validation is off (below).
  lo.exported_through = options_.exported_through;
  exporter_ = std::make_unique<LogExporter>(store_, lo);

  // A trail delivers what is committed from the moment its delivery first opened.
  const std::string cursor_key = ns + std::string(kExportCursorKey);
  auto cursor = store_->GetMetadata(cursor_key);
  if (!cursor.ok()) return cursor.status();
  if (!cursor->has_value()) {
    std::string value;
    PutFixed64BE(&value, store_->last_commit_index());
    ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata({{cursor_key, value}}));
  }

  DigestPublisherOptions po;
  po.export_root = options_.folder;
  po.org_id = options_.org_id;
  po.bucket = trail_.s3_bucket_name();
  po.key_prefix = trail_.s3_key_prefix();
  po.trail_name = name;
  po.home_region = options_.home_region;
  po.metadata_namespace = ns;
  po.interval_us = options_.digest_interval_us;
  po.checkpoint_provider = options_.checkpoint_provider;
  publisher_ = std::make_unique<DigestPublisher>(store_, keys, po);
  ORGTRAIL_RETURN_IF_ERROR(publisher_->WriteExportManifest());
  ORGTRAIL_RETURN_IF_ERROR(publisher_->WritePublicKeysFile());
  auto removed = RemoveStaleTemporaryFiles(options_.folder);
  if (!removed.ok()) return removed.status();

  if (s3 != nullptr) {
    ExportUploaderOptions uo;
    uo.export_root = options_.folder;
    uo.bucket = trail_.s3_bucket_name();
    uo.key_prefix = trail_.s3_key_prefix();
    uo.journal_path = options_.journal_path;
    uo.prune_confirmed = !options_.keep_local;
    auto uploader = ExportUploader::Create(s3, uo);
    if (!uploader.ok()) return uploader.status();
    uploader_ = std::move(*uploader);
  }
  return Status();
}

bool TrailPipeline::Selects(const StoredEvent& e) {
  if (!trail_.is_logging()) return false;
  if (options_.delivers_account && !options_.delivers_account(e.key.account_id)) return false;
  Matcher& m = *matcher_;
  if (!m.extractor.Extract(e.raw_json, &m.event).ok()) return false;  // stored events always parse
  if (m.event.event_type() == kInsightEventType) return trail_.insight_selectors_size() > 0;
  return TrailSelectsEvent(trail_, m.event, m.classifier.IsGlobal(m.event), options_.global_home_region);
}

TrailRoundResult TrailPipeline::ExportAndDigest(int64_t now_us, std::string* log_error, std::string* digest_error) {
  TrailRoundResult result;
  log_error->clear();
  digest_error->clear();
  while (true) {
    auto round = exporter_->ExportOnce(now_us);
    if (!round.ok()) {
      *log_error = round.status().ToString();
      return result;
    }
    if (round->first_commit_index == 0 && !round->recovered) break;
    result.events += round->events_exported;
    result.files += round->files.size();
  }
  const std::string ns = MetadataNamespace(trail_.name());
  if (!trail_.log_file_validation_enabled()) {
    // No digests for this trail (CloudTrail writes them only with validation on): the files
    // delivered meanwhile are never listed, and the digest chain resumes when it is turned on.
    auto pending = store_->ScanMetadata(ns + std::string(kPendingLogFileRoot));
    if (!pending.ok()) {
      *digest_error = pending.status().ToString();
      return result;
    }
    std::vector<EventStore::MetadataEntry> drop;
    for (const auto& entry : *pending) drop.emplace_back(entry.first, std::nullopt);
    if (!drop.empty()) {
      if (auto s = store_->WriteMetadata(drop); !s.ok()) *digest_error = s.ToString();
    }
    return result;
  }
  auto digests = publisher_->PublishDue(now_us);
  if (!digests.ok()) {
    *digest_error = digests.status().ToString();
    return result;
  }
  result.digests = digests->size();
  return result;
}

StatusOr<UploadPass> TrailPipeline::Upload() {
  if (uploader_ == nullptr) return UploadPass{};
  return uploader_->UploadPending();
}

}  // namespace orgtrail::collector
