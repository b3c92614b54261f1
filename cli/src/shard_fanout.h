// Fan-out of orgtrailctl's queries over sharded collectors (common/shard_map.h): lookup-events asks
// every shard and merges their pages newest first (eventTime; ties in shard order) into one result
// with one NextToken; get-event / verify-event ask each shard until one has the event.
//
// The merged NextToken ("o1." + base64url) records, per shard, the collector's token of the page
// being read and how many of its events were already printed, so a later call resumes exactly
// where this one stopped (nothing printed twice, nothing skipped). A token that does not decode,
// or names other shards than the map's, is INVALID_ARGUMENT ("--starting-token: ...").
//
// Every shard is reached with the same CA, certificate and key (one organization CA); the map's
// endpoint replaces --collector. Errors name the shard. Thread-compatible: one call at a time.
#ifndef ORGTRAIL_CLI_SHARD_FANOUT_H_
#define ORGTRAIL_CLI_SHARD_FANOUT_H_

#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "connection.h"
#include "orgtrail/common/shard_map.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/query.pb.h"

namespace orgtrail::cli {

struct ShardTarget {
  std::string name;
  ConnectionOptions connection;
};

// One target per shard of the map: `base` with --collector replaced by the shard's endpoint.
std::vector<ShardTarget> ShardTargets(const ShardMap& map, const ConnectionOptions& base);

// --shard-map FILE (or ORGTRAIL_SHARD_MAP): the shards to fan out to; empty = one collector.
// INVALID_ARGUMENT "--shard-map: ..." when the map does not load.
StatusOr<std::vector<ShardTarget>> ShardTargetsFromValues(const boost::program_options::variables_map& values,
                                                          const ConnectionOptions& connection);

struct ShardedLookupOptions {
  v1::LookupEventsRequest request;  // attributes, times, accounts, regions, category
  int page_size = 50;               // events per request to each shard
  int64_t max_items = 0;            // 0 = all (or one page when !paginate)
  bool paginate = true;
  std::string starting_token;       // a merged NextToken
};

struct ShardedLookupResult {
  std::vector<v1::LookupEvent> events;  // newest first
  std::string next_token;               // "" = no more
};

// UNAVAILABLE naming the shard when a collector cannot answer; INVALID_ARGUMENT for a bad token.
StatusOr<ShardedLookupResult> ShardedLookup(const std::vector<ShardTarget>& shards,
                                            const ShardedLookupOptions& options);

// OK when `token` is "" or a merged NextToken made for these shards (what ShardedLookup checks
// before any request); else INVALID_ARGUMENT "--starting-token: ...".
Status CheckMergedNextToken(const std::vector<ShardTarget>& shards, const std::string& token);

// GetEvent from one collector: NOT_FOUND when it does not have the event, UNAVAILABLE for any other
// failure (the message says what, DescribeRpcError).
StatusOr<v1::GetEventResponse> FetchEventFrom(const ConnectionOptions& connection, const std::string& event_id,
                                              const std::string& account);

// The first shard that has the event (NOT_FOUND when none does).
StatusOr<v1::GetEventResponse> ShardedGetEvent(const std::vector<ShardTarget>& shards, const std::string& event_id,
                                               const std::string& account);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_SHARD_FANOUT_H_
