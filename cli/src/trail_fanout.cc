#include "trail_fanout.h"

#include <algorithm>
#include <cstdio>

#include "command_util.h"
#include "events_format.h"

namespace orgtrail::cli {
namespace {

std::string JoinNames(const std::vector<ShardTarget>& shards, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) out += (out.empty() ? "" : ", ") + shards[i].name;
  return out.empty() ? "none" : out;
}

// The oldest of the shards' times; 0 (never) when any shard has none.
int64_t OldestTime(const std::vector<v1::TrailStatus>& statuses, int64_t (v1::TrailStatus::*field)() const) {
  int64_t oldest = 0;
  for (const auto& s : statuses) {
    const int64_t t = (s.*field)();
    if (t == 0) return 0;
    oldest = oldest == 0 ? t : std::min(oldest, t);
  }
  return oldest;
}

std::string NamedErrors(const std::vector<std::string>& names, const std::vector<v1::TrailStatus>& statuses,
                        const std::string& (v1::TrailStatus::*field)() const) {
  std::string out;
  for (size_t i = 0; i < statuses.size(); ++i) {
    const std::string& error = (statuses[i].*field)();
    if (!error.empty()) out += (out.empty() ? "" : "; ") + names[i] + ": " + error;
  }
  return out;
}

int RunChange(const std::string& command, const std::vector<ShardTarget>& shards, const RunTrailOnShard& run) {
  std::string first_output;
  for (size_t i = 0; i < shards.size(); ++i) {
    TrailShardAnswer answer = run(shards[i]);
    if (answer.exit_code == kExitUsage && i == 0) return answer.exit_code;  // refused before any request
    if (answer.exit_code != kExitOk) {
      std::fprintf(stderr, "orgtrailctl %s: shard %s failed (above); changed on: %s; not on: %s\n", command.c_str(),
                   shards[i].name.c_str(), JoinNames(shards, 0, i).c_str(),
                   JoinNames(shards, i, shards.size()).c_str());
      return answer.exit_code;
    }
    if (i == 0) first_output = answer.output;
  }
  if (!first_output.empty()) std::printf("%s\n", first_output.c_str());
  return kExitOk;
}

int RunRead(const std::string& command, const std::vector<ShardTarget>& shards, const RunTrailOnShard& run) {
  std::vector<TrailShardAnswer> answers;
  for (const auto& shard : shards) {
    answers.push_back(run(shard));
    if (answers.back().exit_code != kExitOk) {
      std::fprintf(stderr, "orgtrailctl %s: shard %s failed (above)\n", command.c_str(), shard.name.c_str());
      return answers.back().exit_code;
    }
  }
  std::printf("%s\n", answers[0].output.c_str());
  std::string differing;
  for (size_t i = 1; i < answers.size(); ++i) {
    if (answers[i].output != answers[0].output) differing += (differing.empty() ? "" : ", ") + shards[i].name;
  }
  if (differing.empty()) return kExitOk;
  std::fprintf(stderr,
               "orgtrailctl %s: shard(s) %s answer differently from shard %s (printed): the trails are not the same "
               "on every shard; make them so with update-trail / put-event-selectors --shard-map\n",
               command.c_str(), differing.c_str(), shards[0].name.c_str());
  return kExitFailure;
}

int RunStatus(const std::string& command, const std::vector<ShardTarget>& shards, const RunTrailOnShard& run,
              const FormatTrailStatus& format_status) {
  std::vector<std::string> names;
  std::vector<v1::TrailStatus> statuses;
  std::string per_shard;  // each shard's own status, as it printed it
  for (const auto& shard : shards) {
    TrailShardAnswer answer = run(shard);
    if (answer.exit_code != kExitOk) {
      std::fprintf(stderr, "orgtrailctl %s: shard %s failed (above)\n", command.c_str(), shard.name.c_str());
      return answer.exit_code;
    }
    per_shard += (names.empty() ? "" : ", ") + JsonQuote(shard.name) + ": " + answer.output;
    names.push_back(shard.name);
    statuses.push_back(answer.status);
  }
  std::string merged = format_status(MergeTrailStatuses(names, statuses));
  if (!merged.empty() && merged.back() == '}') merged.pop_back();
  std::printf("%s, \"Shards\": {%s}}\n", merged.c_str(), per_shard.c_str());
  return kExitOk;
}

}  // namespace

TrailCommandKind TrailCommandKindOf(const std::string& command) {
  if (command == "get-trail-status") return TrailCommandKind::kStatus;
  if (command == "get-trail" || command == "describe-trails" || command == "get-event-selectors" ||
      command == "get-insight-selectors") {
    return TrailCommandKind::kRead;
  }
  return TrailCommandKind::kChange;
}

v1::TrailStatus MergeTrailStatuses(const std::vector<std::string>& shard_names,
                                   const std::vector<v1::TrailStatus>& statuses) {
  v1::TrailStatus merged;
  bool logging = !statuses.empty();
  int64_t started = 0, stopped = 0;
  for (const auto& s : statuses) {
    logging = logging && s.is_logging();
    started = std::max(started, s.start_logging_time_us());
    stopped = std::max(stopped, s.stop_logging_time_us());
  }
  merged.set_is_logging(logging);
  merged.set_start_logging_time_us(started);
  merged.set_stop_logging_time_us(stopped);
  merged.set_latest_delivery_time_us(OldestTime(statuses, &v1::TrailStatus::latest_delivery_time_us));
  merged.set_latest_digest_delivery_time_us(OldestTime(statuses, &v1::TrailStatus::latest_digest_delivery_time_us));
  merged.set_latest_delivery_attempt_time_us(OldestTime(statuses, &v1::TrailStatus::latest_delivery_attempt_time_us));
  merged.set_latest_delivery_error(NamedErrors(shard_names, statuses, &v1::TrailStatus::latest_delivery_error));
  merged.set_latest_digest_delivery_error(
      NamedErrors(shard_names, statuses, &v1::TrailStatus::latest_digest_delivery_error));
  return merged;
}

int RunTrailCommandOnShards(const std::string& command, const std::vector<ShardTarget>& shards,
                            const RunTrailOnShard& run, const FormatTrailStatus& format_status) {
  switch (TrailCommandKindOf(command)) {
    case TrailCommandKind::kChange:
      return RunChange(command, shards, run);
    case TrailCommandKind::kRead:
      return RunRead(command, shards, run);
    case TrailCommandKind::kStatus:
      return RunStatus(command, shards, run, format_status);
  }
  return kExitFailure;
}

}  // namespace orgtrail::cli
