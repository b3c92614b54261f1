// ShardMap: which collector serves which AWS accounts, when an organization's ingest is split over
// several collectors ("shards"). Every account belongs to exactly one shard: the shard that lists
// it, else the one default shard. Deduplication and global-service homing are per account, so
// they stay correct when each account's events all go to one shard.
//
// The map is a JSON file, the same on every collector (and for the CLI's fan-out):
//   {"shards": [
//     {"name": "a", "endpoint": "collector-a.example.org:7443", "accounts": ["111111111111"]},
//     {"name": "b", "endpoint": "collector-b.example.org:7443", "default": true}]}
// name: 1-64 of [A-Za-z0-9._-], unique; endpoint: host:port (gRPC target), unique; accounts:
// 12-digit account ids, each in at most one shard; exactly one shard is "default": true.
//
// Errors: Parse / Load return INVALID_ARGUMENT naming the shard and field (or the JSON error);
// Load also NOT_FOUND / UNAVAILABLE for the file. Immutable after construction: thread-safe.
#ifndef ORGTRAIL_COMMON_SHARD_MAP_H_
#define ORGTRAIL_COMMON_SHARD_MAP_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/status.h"

namespace orgtrail {

struct Shard {
  std::string name;
  std::string endpoint;  // host:port
  std::vector<std::string> accounts;
  bool is_default = false;
};

class ShardMap {
 public:
  static StatusOr<ShardMap> Parse(std::string_view json);
  static StatusOr<ShardMap> Load(const std::string& path);

  // The shard serving the account (the default shard for an account no shard lists).
  const Shard& ShardForAccount(std::string_view account_id) const;
  // nullptr when no shard has that name.
  const Shard* Find(std::string_view name) const;
  const std::vector<Shard>& shards() const { return shards_; }

 private:
  std::vector<Shard> shards_;
  std::map<std::string, size_t, std::less<>> by_account_;
  size_t default_index_ = 0;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_SHARD_MAP_H_
