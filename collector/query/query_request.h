// Validation and normalization of LookupEvents requests (CloudTrail's
// LookupEvents semantics plus orgtrail's organization extensions).
//
// Rules (cloudtrail-format.md §6):
// - lookup_attributes: keys among CloudTrail's eight AttributeKeys; values of
//   1..2000 characters where '_', ' ', ',' and '\n' count twice; CloudTrail
//   allows one attribute, orgtrail up to kMaxLookupAttributes, ANDed.
//   -> "InvalidLookupAttributesException: ..."
// - start_time_us <= end_time_us when both are given (both inclusive).
//   -> "InvalidTimeRangeException: ..."
// - max_results: 0 = default 50; 1..1000 (1..50 is CloudTrail's range, larger
//   pages are an organization extension). -> "InvalidMaxResultsException: ..."
// - event_category: "" or "insight"; insight lookups accept only EventId,
//   EventName and EventSource attributes. -> "InvalidEventCategoryException"
// - account_ids: 12 digits each; regions: 1..64 of [a-z0-9-]; at most
//   kMaxFilterValues each. -> "InvalidParameterException: ..."
// Every error is INVALID_ARGUMENT whose message starts with the exception name.
//
// The normalized form sorts and deduplicates the ANDed attributes and the
// account/region sets, so equivalent requests hash alike. RequestFingerprint
// (bound into every NextToken) covers everything except next_token and
// max_results (the page size may change between pages, the query may not).
// Pure functions; thread-safe.
#ifndef ORGTRAIL_COLLECTOR_QUERY_QUERY_REQUEST_H_
#define ORGTRAIL_COLLECTOR_QUERY_QUERY_REQUEST_H_

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "collector/store/store_keys.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/query.pb.h"

namespace orgtrail::collector {

inline constexpr int kDefaultMaxResults = 50;
inline constexpr int kCloudTrailMaxResults = 50;
inline constexpr int kMaxMaxResults = 1000;
inline constexpr int kMaxLookupAttributes = 8;
inline constexpr int kMaxAttributeValueLength = 2000;  // CloudTrail's counting rule
inline constexpr int kMaxFilterValues = 1000;          // account_ids, regions
inline constexpr size_t kMaxNextTokenBytes = 4096;

struct NormalizedLookup {
  // (kind, value), sorted by (kind, value), duplicates removed.
  std::vector<std::pair<IndexKind, std::string>> attributes;
  int64_t start_time_us = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t end_time_us = std::numeric_limits<int64_t>::max();    // inclusive
  bool has_start_time = false;
  bool has_end_time = false;
  int max_results = kDefaultMaxResults;
  std::vector<std::string> account_ids;  // sorted, unique; empty = all
  std::vector<std::string> regions;      // sorted, unique; empty = all
  bool include_data_events = false;
  bool insight = false;  // event_category == "insight"
  std::string next_token;
};

// CloudTrail's length rule: '_', ' ', ',' and '\n' count as two characters;
// other characters (UTF-8 code points) as one.
int64_t CloudTrailAttributeValueLength(std::string_view value);

// Validates and normalizes; INVALID_ARGUMENT "<ExceptionName>: <detail>" on bad input.
StatusOr<NormalizedLookup> NormalizeLookupRequest(const v1::LookupEventsRequest& request);

// SHA-256 over the normalized query (excluding next_token and max_results).
Digest RequestFingerprint(const NormalizedLookup& lookup);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_QUERY_QUERY_REQUEST_H_
