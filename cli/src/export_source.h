// validate-logs: where the trail's objects are read from. A folder (the export the collector
// writes, standing for the bucket; the embedded default) or an S3 bucket (`s3://bucket/prefix`:
// the objects the collector delivered, read with objectstore's S3Client, AWS Signature V4,
// credentials the usual AWS ways). Keys are relative to the bucket (the folder's root).
// A digest's signature is a sidecar file `<key>.metadata.json` in a folder and the object's
// x-amz-meta-signature / x-amz-meta-signature-algorithm in S3, as CloudTrail sets them.
// Contract: List returns the keys under a key prefix (a folder: its files, recursively), sorted;
// Open returns nullptr when the object is absent or unreadable; the caller checks keys with
// IsSafeKey first. Thread-safe (const; S3 requests use their own connection).
#ifndef ORGTRAIL_CLI_EXPORT_SOURCE_H_
#define ORGTRAIL_CLI_EXPORT_SOURCE_H_

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "objectstore/s3_client.h"
#include "orgtrail/common/status.h"

namespace orgtrail::cli::validate_logs {

// An object opened for reading: a FILE over the file or over the object's bytes in memory.
struct ObjectStream {
  std::string buffer;  // the S3 object's bytes (empty for a file)
  FILE* file = nullptr;
  ObjectStream() = default;
  ObjectStream(const ObjectStream&) = delete;
  ObjectStream& operator=(const ObjectStream&) = delete;
  ~ObjectStream() {
    if (file != nullptr) std::fclose(file);
  }
};

class ExportSource {
 public:
  virtual ~ExportSource() = default;
  // Keys under `prefix` + "/" (every key when prefix is ""), sorted. UNAVAILABLE / PERMISSION_DENIED
  // when the store cannot be listed.
  virtual StatusOr<std::vector<std::string>> List(const std::string& prefix) const = 0;
  virtual std::unique_ptr<ObjectStream> Open(const std::string& key) const = 0;
  // Whole small object (manifests, public keys): false when absent or larger than `limit`.
  virtual bool Read(const std::string& key, std::string* out, size_t limit) const = 0;
  // A digest's signature metadata: "signature", "signature-algorithm" and, for a backfill,
  // "backfill-generation-timestamp". False when there is none.
  virtual bool SignatureMetadata(const std::string& key, std::map<std::string, std::string>* out) const = 0;
};

// key_prefix: the prefix the export is delivered under (its manifest's keyPrefix): key
// "<prefix>/AWSLogs/x" is the file <root>/AWSLogs/x, as the digests name it; "" = none.
std::unique_ptr<ExportSource> NewFolderSource(std::string root, std::string key_prefix = "");
// bucket: the S3 bucket; options: endpoint, region, CA file and credentials.
StatusOr<std::unique_ptr<ExportSource>> NewS3Source(std::string bucket, objectstore::S3ClientOptions options);

// The S3 client settings of the CLI's s3:// commands: the flags' endpoint, region and CA file when
// given (empty = not given), else the AWS environment ($AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL;
// $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1; AWS S3 of the region), credentials the usual AWS
// ways (environment, shared credentials file). Errors: no credentials.
StatusOr<objectstore::S3ClientOptions> S3ClientOptionsFor(const std::string& endpoint_flag,
                                                          const std::string& region_flag,
                                                          const std::string& ca_file_flag);

// Splits "s3://bucket[/prefix]" (INVALID_ARGUMENT naming the URL otherwise).
Status ParseS3Url(const std::string& url, std::string* bucket, std::string* prefix);

}  // namespace orgtrail::cli::validate_logs

#endif  // ORGTRAIL_CLI_EXPORT_SOURCE_H_
