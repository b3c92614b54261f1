// Synthetic load for query tests and benchmarks: writes N small but valid
// CloudTrail records into an EventStore through its batch-commit API
// (EventStore::CommitGroup, one synced WriteBatch per group), fast enough to
// build a store of millions of events in seconds. Batches carry real leaf
// hashes and Merkle roots but a placeholder signature: this is test data,
// never an ingest path (the real one verifies signatures in BatchValidator).
//
// Layout of event i (0-based), so tests can compute expected results:
//   partition   account kSyntheticAccounts[i % accounts], region kSyntheticRegions[(i / accounts) % regions]
//   eventTime   start_time_us + i * interval_us
//   eventID     SyntheticEventId(i)
//   eventName   "Rare" if i % rare_every == rare_offset, else "Name<i % 50>"
//   Username    "user-<i % 1000>"
//   EventSource "svc<i % 20>.amazonaws.com"
//   ReadOnly    i % 3 != 0
//   AccessKeyId "AKIA" + 16 digits of (i % 5000)
//   resources   i % 10 == 0: one AWS::S3::Bucket "arn:aws:s3:::bucket-<i % 10000>"
//   category    Management (i % 10 == 5: Data)
// Not thread-safe with other writers of the same store (single writer rule).
#ifndef ORGTRAIL_COLLECTOR_QUERY_QUERY_SYNTHETIC_LOAD_H_
#define ORGTRAIL_COLLECTOR_QUERY_QUERY_SYNTHETIC_LOAD_H_

#include <cstdint>
#include <string>

#include "orgtrail/common/status.h"

namespace orgtrail::collector {

class EventStore;

struct SyntheticLoadOptions {
  uint64_t events = 1'000'000;
  uint64_t events_per_batch = 500;   // one signed batch (one agent) = this many events
  uint64_t events_per_group = 20000; // one synced WriteBatch
  int accounts = 10;                 // 1..10
  int regions = 4;                   // 1..4
  int64_t start_time_us = 1767225600000000;  // 2026-01-01T00:00:00Z
  int64_t interval_us = 1000;
  uint64_t rare_every = 100000;
  uint64_t rare_offset = 7;
};

inline constexpr const char* kSyntheticAccounts[] = {
    "100000000000", "100000000001", "100000000002", "100000000003", "100000000004",
    "100000000005", "100000000006", "100000000007", "100000000008", "100000000009"};
inline constexpr const char* kSyntheticRegions[] = {"us-east-1", "eu-west-1", "ap-south-1",
                                                   "us-west-2"};

std::string SyntheticEventId(uint64_t i);
std::string SyntheticAccessKeyId(uint64_t i);

// Writes events [0, options.events) in event-index order of batches, and returns once they are
// indexed.
Status WriteSyntheticEvents(EventStore* store, const SyntheticLoadOptions& options);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_QUERY_QUERY_SYNTHETIC_LOAD_H_
