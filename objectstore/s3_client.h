// S3Client: the S3 operations orgtrail needs (CreateBucket, PutObject, GetObject, HeadObject,
// ListObjectsV2, DeleteObject) against AWS S3 or any S3-compatible store (Ceph RGW, MinIO, ...),
// over libcurl (HTTP) with AWS Signature V4 (s3_signer.h says why not libcurl 7.88's own SigV4).
// Path-style addressing only (http(s)://endpoint/bucket/key); virtual-hosted style is refused at
// Create. Every request carries x-amz-content-sha256 = the payload's SHA-256 hex (signed, so the
// store checks the bytes it stored); query parameters are sorted and percent-encoded, keys are
// percent-encoded (s3_request_path.h).
//
// Errors: see s3_error.h (403 -> PERMISSION_DENIED naming the S3 code, 404 -> NOT_FOUND, 5xx and
// timeouts -> UNAVAILABLE, ...); bad bucket names, keys or metadata -> INVALID_ARGUMENT before
// anything is sent. No retries here: callers retry UNAVAILABLE (IsRetryableS3Error) with backoff.
//
// Thread safety: thread-safe; every call uses its own libcurl handle (one connection per request;
// no connection reuse). The client owns a copy of its options and credentials.
#ifndef ORGTRAIL_OBJECTSTORE_S3_CLIENT_H_
#define ORGTRAIL_OBJECTSTORE_S3_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "objectstore/s3_credentials.h"
#include "objectstore/s3_xml.h"
#include "orgtrail/common/status.h"

namespace orgtrail::objectstore {

struct S3ClientOptions {
  std::string endpoint;           // "http://127.0.0.1:8080" or "https://s3.eu-west-1.amazonaws.com"
  std::string region = "us-east-1";
  bool path_style = true;         // only path-style is supported; false is INVALID_ARGUMENT
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{120000};  // whole request, transfer included
  uint64_t max_object_bytes = 1ull << 30;             // GetObject larger than this: RESOURCE_EXHAUSTED
  std::string ca_file;            // HTTPS: CA bundle; empty = system default
  S3Credentials credentials;
};

// User metadata: names without the "x-amz-meta-" prefix, lower case (S3 lower-cases them).
using ObjectMetadata = std::map<std::string, std::string>;

struct PutObjectOptions {
  std::string content_type = "application/octet-stream";
  ObjectMetadata metadata;
};

struct ObjectInfo {
  uint64_t size = 0;
  std::string etag;
  std::string content_type;
  std::string last_modified;  // HTTP date, as sent
  ObjectMetadata metadata;
};

struct S3Object {
  std::string body;
  ObjectInfo info;
};

struct ListObjectsRequest {
  std::string prefix;
  std::string continuation_token;  // from the previous page
  std::string start_after;
  int max_keys = 0;                // 0 = the server's default (1000)
};

class S3Client {
 public:
  static StatusOr<std::unique_ptr<S3Client>> Create(S3ClientOptions options);

  const S3ClientOptions& options() const { return options_; }

  // ALREADY_EXISTS if the bucket exists (BucketAlreadyOwnedByYou / BucketAlreadyExists).
  Status CreateBucket(std::string_view bucket) const;
  // Returns the ETag.
  StatusOr<std::string> PutObject(std::string_view bucket, std::string_view key,
                                  std::string_view body, const PutObjectOptions& options = {}) const;
  StatusOr<S3Object> GetObject(std::string_view bucket, std::string_view key) const;
  StatusOr<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key) const;
  StatusOr<ListObjectsPage> ListObjectsV2(std::string_view bucket,
                                          const ListObjectsRequest& request) const;
  // Every object under `prefix`, following continuation tokens.
  StatusOr<std::vector<ObjectSummary>> ListAllObjects(std::string_view bucket,
                                                      std::string_view prefix) const;
  // OK also when the key did not exist (S3 semantics).
  Status DeleteObject(std::string_view bucket, std::string_view key) const;

 private:
  explicit S3Client(S3ClientOptions options) : options_(std::move(options)) {}
  S3ClientOptions options_;
};

}  // namespace orgtrail::objectstore

#endif  // ORGTRAIL_OBJECTSTORE_S3_CLIENT_H_
