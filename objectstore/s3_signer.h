// AWS Signature Version 4 for S3 requests (header-based, the "Authorization: AWS4-HMAC-SHA256 ..."
// form), per https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html.
//
// Why not libcurl's CURLOPT_AWS_SIGV4: Debian 12's libcurl 7.88 sorts the canonical headers as
// whole "name:value" lines, so a header whose name is a prefix of another's ('-' sorts before
// ':') is put in the wrong order and the signature is refused. CloudTrail's digest metadata is
// exactly such a pair (x-amz-meta-signature, x-amz-meta-signature-algorithm); measured against
// Ceph RGW: 403 SignatureDoesNotMatch. Fixed upstream in curl 8.10 (curl/curl#14370). libcurl
// still does the HTTP; this module only computes the Authorization header (HMAC-SHA256 from
// OpenSSL).
//
// Pure function; thread-safe.
#ifndef ORGTRAIL_OBJECTSTORE_S3_SIGNER_H_
#define ORGTRAIL_OBJECTSTORE_S3_SIGNER_H_

#include <map>
#include <string>
#include <string_view>

#include "objectstore/s3_credentials.h"

namespace orgtrail::objectstore {

struct SigV4Request {
  std::string method;           // "PUT"
  std::string canonical_uri;    // the request path exactly as sent, already URI-encoded ("/b/a%20b")
  std::string canonical_query;  // "a=1&b=2": sorted by name, names and values URI-encoded; or ""
  // Every header to sign, names in any case (lower-cased here), values trimmed here. Must hold
  // "host", "x-amz-date" and "x-amz-content-sha256" (S3 requires the latter two).
  std::map<std::string, std::string> headers;
  std::string payload_sha256_hex;  // the x-amz-content-sha256 value (hex, or UNSIGNED-PAYLOAD)
};

// "YYYYMMDDTHHMMSSZ" for a time in seconds since the epoch (UTC).
std::string AmzDate(int64_t unix_seconds);

// The Authorization header's value. `amz_date` must equal the x-amz-date header.
std::string SigV4Authorization(const SigV4Request& request, const S3Credentials& credentials,
                               std::string_view region, std::string_view service,
                               std::string_view amz_date);

// The canonical request (exposed for tests and for debugging a SignatureDoesNotMatch).
std::string SigV4CanonicalRequest(const SigV4Request& request);

}  // namespace orgtrail::objectstore

#endif  // ORGTRAIL_OBJECTSTORE_S3_SIGNER_H_
