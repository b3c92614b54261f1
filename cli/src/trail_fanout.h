// Trail administration over sharded collectors (`--shard-map`, common/shard_map.h). Trails are
// configured per collector, and a sharded organization keeps the same trails on every shard (each
// shard delivers the accounts it serves into the trail's bucket). With the map, the trail commands
// run on every shard in the map's order:
//   - changes (create-trail, update-trail, delete-trail, put-event-selectors,
//     put-insight-selectors, start-logging, stop-logging): shard by shard, stopping at the first
//     that fails; the error names the shards that have the change and those that do not (not
//     atomic: rerun the command, or update-trail, once the shard is back). On success the first
//     shard's answer is printed.
//   - reads (get-trail, describe-trails, get-event-selectors, get-insight-selectors): every
//     shard; the answers must be the same. If one differs the first is printed and the differing
//     shards are named on stderr (exit 1): the trail is not the same everywhere.
//   - get-trail-status: one status for the organization, IsLogging only when every shard logs,
//     each time the oldest of the shards' (a shard that stopped delivering shows), errors named by
//     shard; and "Shards": every shard's own status.
// Thread-compatible: one call at a time.
#ifndef ORGTRAIL_CLI_TRAIL_FANOUT_H_
#define ORGTRAIL_CLI_TRAIL_FANOUT_H_

#include <functional>
#include <string>
#include <vector>

#include "shard_fanout.h"
#include "orgtrail/v1/admin.pb.h"

namespace orgtrail::cli {

enum class TrailCommandKind { kChange, kRead, kStatus };

TrailCommandKind TrailCommandKindOf(const std::string& command);

// What one run against one collector produced (the exit code follows command_util.h).
struct TrailShardAnswer {
  int exit_code = 0;
  std::string output;      // what the command prints on success
  v1::TrailStatus status;  // get-trail-status only
};

using RunTrailOnShard = std::function<TrailShardAnswer(const ShardTarget& shard)>;
using FormatTrailStatus = std::function<std::string(const v1::TrailStatus& status)>;

// Runs the command on every shard as described above; prints the result; returns the exit code.
int RunTrailCommandOnShards(const std::string& command, const std::vector<ShardTarget>& shards,
                            const RunTrailOnShard& run, const FormatTrailStatus& format_status);

// The organization's status from the shards' (see the header comment); `errors` prefixed by shard.
v1::TrailStatus MergeTrailStatuses(const std::vector<std::string>& shard_names,
                                   const std::vector<v1::TrailStatus>& statuses);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_TRAIL_FANOUT_H_
