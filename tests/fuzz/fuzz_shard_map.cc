// The shard map (common/shard_map.h), an operator's JSON file read by every sharded collector:
// ShardMap::Parse on the input; a map that parses is checked for the contract: exactly one default
// shard, every listed account found in the shard that lists it, every shard found by name.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/common/shard_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  auto map = orgtrail::ShardMap::Parse(orgtrail::fuzz::AsView(data, size));
  if (!map.ok()) return 0;
  int defaults = 0;
  for (const orgtrail::Shard& shard : map->shards()) {
    defaults += shard.is_default ? 1 : 0;
    ORGTRAIL_FUZZ_CHECK(map->Find(shard.name) == &shard);
    for (const std::string& account : shard.accounts) {
      ORGTRAIL_FUZZ_CHECK(map->ShardForAccount(account).name == shard.name);
    }
  }
  ORGTRAIL_FUZZ_CHECK(defaults == 1);
  ORGTRAIL_FUZZ_CHECK(map->ShardForAccount("000000000000").name.size() > 0);
  return 0;
}
