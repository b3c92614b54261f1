// Mapping S3 answers and transport failures to Status codes. The S3 error code and message are
// always in the text, e.g. "S3 PutObject s3://b/k: HTTP 403 SignatureDoesNotMatch: ...".
//   403 (SignatureDoesNotMatch, AccessDenied, InvalidAccessKeyId, ...) -> PERMISSION_DENIED
//   404 (NoSuchKey, NoSuchBucket)                                      -> NOT_FOUND
//   409 BucketAlreadyOwnedByYou / BucketAlreadyExists                  -> ALREADY_EXISTS
//   409 other, 412                                                     -> FAILED_PRECONDITION
//   400 RequestTimeout, 429, 5xx, timeouts, refused/reset connections  -> UNAVAILABLE (retry)
//   other 4xx                                                          -> INVALID_ARGUMENT
// Pure functions; thread-safe.
#ifndef ORGTRAIL_OBJECTSTORE_S3_ERROR_H_
#define ORGTRAIL_OBJECTSTORE_S3_ERROR_H_

#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail::objectstore {

// `context` names the operation and object ("S3 GetObject s3://b/k"); `body` is the answer's
// body (an <Error> document, or empty for HEAD).
Status StatusFromS3Response(std::string_view context, long http_status, std::string_view body);

// For a libcurl failure (CURLcode as int, curl's error text).
Status StatusFromTransportError(std::string_view context, int curl_code, std::string_view detail);

// True for errors worth retrying with backoff (UNAVAILABLE, DEADLINE_EXCEEDED).
bool IsRetryableS3Error(const Status& status);

}  // namespace orgtrail::objectstore

#endif  // ORGTRAIL_OBJECTSTORE_S3_ERROR_H_
