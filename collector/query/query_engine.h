// QueryEngine: LookupEvents and GetEvent over an EventStore, without any
// transport or authorization (QueryService adds those).
//
// LookupEvents plan (see query_cursor.h for the key order):
//   * one index cursor per lookup attribute (CloudTrail's eight attributes);
//   * with account_ids/regions filters, a union of partition cursors (the
//     partitions found by skipping between partition prefixes, one seek each);
//   * with neither, the organization-wide time index;
//   * all of them intersected by a leapfrog join, newest first;
//   * each hit's record is fetched and re-extracted (EventExtractor) to build
//     the response and to apply the event-category filter (management events
//     only unless include_data_events; Insights only with event_category).
// Keys touched are proportional to the results (plus, for the category
// filter, the data events skipped; each page is capped at
// kMaxCandidatesPerPage records examined, after which the page ends early
// with a NextToken). Every page is read from one RocksDB snapshot.
//
// NextToken: query_token.h. A page returns a token only when another matching
// event exists (or the candidate cap was hit), so no empty last page.
//
// GetEvent: the record byte for byte, the collector's meta, and the
// provenance of its batch with the RFC 6962 inclusion proof of its leaf,
// computed from the stored leaf hashes.
//
// Errors: INVALID_ARGUMENT "<CloudTrailException>: ..." for bad requests
// (query_request.h), NOT_FOUND for an unknown eventID, DATA_LOSS for
// undecodable or missing stored data, UNAVAILABLE for RocksDB errors.
// Thread-safe: every method may be called concurrently (per-call state only).
#ifndef ORGTRAIL_COLLECTOR_QUERY_QUERY_ENGINE_H_
#define ORGTRAIL_COLLECTOR_QUERY_QUERY_ENGINE_H_

#include <cstdint>
#include <memory>

#include "collector/query/query_cursor.h"
#include "collector/query/query_token.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/query.pb.h"

namespace orgtrail::collector {

class EventStore;

inline constexpr uint64_t kMaxCandidatesPerPage = 5000;
inline constexpr size_t kMaxEventIdBytes = 1024;

// What one lookup cost (tests prove proportionality with it; metrics).
struct LookupStats {
  CursorStats cursor;            // RocksDB seeks/nexts on index and partition keys
  uint64_t records_fetched = 0;  // records read and re-extracted
  uint64_t records_skipped = 0;  // fetched but filtered out (category) or unreadable
  uint64_t partitions = 0;       // partition cursors opened
};

class QueryEngine {
 public:
  // `store` must outlive the engine. Loads (or creates) the NextToken key.
  static StatusOr<std::unique_ptr<QueryEngine>> Create(EventStore* store);
  // With an explicit token codec (tests).
  QueryEngine(const EventStore* store, std::unique_ptr<NextTokenCodec> codec)
      : store_(store), codec_(std::move(codec)) {}

  StatusOr<v1::LookupEventsResponse> LookupEvents(const v1::LookupEventsRequest& request,
                                                  LookupStats* stats = nullptr) const;
  StatusOr<v1::GetEventResponse> GetEvent(const v1::GetEventRequest& request) const;
  // Recorded event conflicts (same account and eventID, other bytes), oldest key first.
  // INVALID_ARGUMENT for max_items > 1000.
  StatusOr<v1::ListConflictsResponse> ListConflicts(const v1::ListConflictsRequest& request) const;
  StatusOr<v1::ListRefusedResponse> ListRefused(const v1::ListRefusedRequest& request) const;

 private:
  const EventStore* store_;
  std::unique_ptr<NextTokenCodec> codec_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_QUERY_QUERY_ENGINE_H_
