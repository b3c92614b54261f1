// Building S3 request URLs for path-style addressing and AWS Signature V4 as libcurl 7.88 signs
// it: curl signs the path and the query exactly as given, so this module percent-encodes them in
// SigV4's canonical form (RFC 3986 unreserved characters kept, everything else %XX in upper case;
// '/' kept in object keys, encoded in query values) and sorts query parameters by name.
// Pure functions; thread-safe.
#ifndef ORGTRAIL_OBJECTSTORE_S3_REQUEST_PATH_H_
#define ORGTRAIL_OBJECTSTORE_S3_REQUEST_PATH_H_

#include <map>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail::objectstore {

// SigV4 URI encoding of `s`; '/' is kept when keep_slash.
std::string UriEncode(std::string_view s, bool keep_slash);

// INVALID_ARGUMENT (saying why) unless `bucket` is a valid S3 bucket name: 3-63 characters of
// lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.
Status CheckBucketName(std::string_view bucket);

// INVALID_ARGUMENT unless `key` is a valid object key: 1-1024 bytes, no NUL.
Status CheckObjectKey(std::string_view key);

// "/bucket" or "/bucket/<encoded key>" followed by "?a=1&b=2" (sorted, encoded) when `query` is
// not empty. A parameter with an empty value is written "name=".
std::string RequestPath(std::string_view bucket, std::string_view key,
                        const std::map<std::string, std::string>& query = {});

}  // namespace orgtrail::objectstore

#endif  // ORGTRAIL_OBJECTSTORE_S3_REQUEST_PATH_H_
