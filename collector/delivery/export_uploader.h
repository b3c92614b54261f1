// ExportUploader: delivers the finished files of the CloudTrail-layout export (collector/EXPORT.md)
// to an S3 bucket under an optional key prefix: <prefix>/<export key>, e.g.
// team-a/AWSLogs/o-…/111111111111/CloudTrail/us-east-1/2026/12/06/…json.gz.
//
// What is uploaded: every regular file under the export root except temporary files (".tmp-*",
// not yet durable; export_file.h) and digest sidecars ("*.metadata.json"). A digest
// (".../CloudTrail-Digest/...") carries its sidecar's fields as S3 user metadata, exactly as
// CloudTrail sets them: x-amz-meta-signature, x-amz-meta-signature-algorithm (and
// x-amz-meta-backfill-generation-timestamp for backfill digests). Within a pass, log files and
// the other files go before digests, so a digest is never in the bucket before the log files it
// lists. Files are only seen under their final name, i.e. after they are durable locally.
//
// Exactly once, crash-safe: the durable cursor is an UploadJournal (outside the export root)
// recording each file's SHA-256, size and mtime once the store confirmed the PUT. After a crash a
// pass uploads what the journal lacks (the one file in flight at the crash is PUT again under the
// same key with the same bytes: the object is replaced by an identical one, never doubled). A
// file whose bytes changed since it was recorded (public-keys.json after a key rotation) is
// uploaded again.
//
// Errors: UploadPending stops at the first failure and returns it; what was confirmed before stays
// recorded. UNAVAILABLE (IsRetryableS3Error) = retry the pass later with backoff; PERMISSION_DENIED
// = credentials or bucket policy; FAILED_PRECONDITION = a digest without its sidecar or with a bad
// one. The local files are never modified or deleted here.
//
// Not thread-safe: one pass at a time, from one thread. The S3Client is not owned and must
// outlive the uploader.
#ifndef ORGTRAIL_COLLECTOR_DELIVERY_EXPORT_UPLOADER_H_
#define ORGTRAIL_COLLECTOR_DELIVERY_EXPORT_UPLOADER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collector/delivery/upload_journal.h"
#include "objectstore/s3_client.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct ExportUploaderOptions {
  std::string export_root;
  std::string bucket;
  std::string key_prefix;    // "" or e.g. "team-a/trails" (no leading or trailing '/')
  std::string journal_path;  // the durable cursor; must not be under export_root
  // Delete each confirmed log file, digest and digest sidecar (not the manifest or
  // public-keys.json, rewritten at every start). Off = keep the local copy (--keep-local).
  bool prune_confirmed = false;
  // Tests: called at "uploaded" (PUT confirmed, not yet recorded) and "recorded" with the key.
  std::function<void(std::string_view step, const std::string& export_key)> step_hook;
};

struct UploadPass {
  std::vector<std::string> uploaded;  // export keys PUT in this pass, in order
  size_t unchanged = 0;               // already in the bucket with these bytes
  size_t pruned = 0;                  // local copies deleted after confirmation
};

class ExportUploader {
 public:
  static StatusOr<std::unique_ptr<ExportUploader>> Create(const objectstore::S3Client* client,
                                                          ExportUploaderOptions options);

  // One pass over the export root (see the header comment).
  StatusOr<UploadPass> UploadPending();

  // The object key for an export key: <prefix>/<export key>.
  std::string ObjectKey(const std::string& export_key) const;

 private:
  ExportUploader(const objectstore::S3Client* client, ExportUploaderOptions options,
                 std::unique_ptr<UploadJournal> journal)
      : client_(client), options_(std::move(options)), journal_(std::move(journal)) {}

  // With prune_confirmed: deletes a confirmed file (and a digest's sidecar). UNAVAILABLE on failure.
  Status PruneConfirmed(const std::string& key, UploadPass* pass) const;

  const objectstore::S3Client* client_;
  ExportUploaderOptions options_;
  std::unique_ptr<UploadJournal> journal_;
};

// The S3 user metadata of a digest from its sidecar's JSON (an object of string values).
// FAILED_PRECONDITION naming the sidecar if it is not such an object or lacks "signature" or
// "signature-algorithm".
StatusOr<objectstore::ObjectMetadata> ParseDigestSidecar(std::string_view json,
                                                         std::string_view sidecar_name);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_DELIVERY_EXPORT_UPLOADER_H_
