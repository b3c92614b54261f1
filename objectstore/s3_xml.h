// Parsing S3's XML answers with libxml2 (no network access, no entity expansion, no DTD
// loading): the ListObjectsV2 result and the <Error> document. Element names are matched by local
// name, so the S3 namespace (present or not) does not matter.
// Errors: INVALID_ARGUMENT (DATA_LOSS for a ListBucketResult whose fields do not parse) naming
// what was wrong. Thread-safe once InitXmlParser() has run (S3Client does it).
#ifndef ORGTRAIL_OBJECTSTORE_S3_XML_H_
#define ORGTRAIL_OBJECTSTORE_S3_XML_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/status.h"

namespace orgtrail::objectstore {

struct ObjectSummary {
  std::string key;
  uint64_t size = 0;
  std::string etag;           // as S3 sends it, quotes included
  std::string last_modified;  // ISO 8601, as S3 sends it
};

struct ListObjectsPage {
  std::vector<ObjectSummary> objects;  // in key order
  bool is_truncated = false;
  std::string next_continuation_token;  // set when is_truncated
};

struct S3ErrorDocument {
  std::string code;        // e.g. "NoSuchKey"
  std::string message;     // may be empty (Ceph RGW sends none)
  std::string request_id;
};

// Once per process, before threads parse (idempotent, thread-safe).
void InitXmlParser();

StatusOr<ListObjectsPage> ParseListObjectsV2(std::string_view xml);
StatusOr<S3ErrorDocument> ParseErrorDocument(std::string_view xml);

}  // namespace orgtrail::objectstore

#endif  // ORGTRAIL_OBJECTSTORE_S3_XML_H_
