// Parsing and lookups of the shard map (shard_map.h).
#include "orgtrail/common/shard_map.h"

#include <fstream>
#include <set>
#include <sstream>

#include <simdjson.h>

#include "orgtrail/common/classify.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail {
namespace {

constexpr size_t kMaxMapBytes = 16u << 20;
constexpr size_t kMaxShards = 4096;

bool IsShardName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// host:port with a port in 1..65535 and a host of printable ASCII without spaces.
bool IsEndpoint(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || s.size() > 300) return false;
  for (char c : s.substr(0, colon)) {
    if (c <= ' ' || c > '~' || c == '/') return false;
  }
  const std::string_view port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

}  // namespace

StatusOr<ShardMap> ShardMap::Parse(std::string_view json) {
  auto invalid = [](const std::string& why) { return absl::InvalidArgumentError(StrCat("shard map: ", why)); };
  if (json.size() > kMaxMapBytes) return invalid(StrCat("larger than ", kMaxMapBytes, " bytes"));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root); error != simdjson::SUCCESS) {
    return invalid(StrCat("not valid JSON: ", simdjson::error_message(error)));
  }
  simdjson::dom::array shards;
  if (root["shards"].get_array().get(shards) != simdjson::SUCCESS) return invalid("expected {\"shards\": [...]}");
  ShardMap map;
  std::set<std::string> names, endpoints;
  int defaults = 0;
  for (simdjson::dom::element item : shards) {
    if (map.shards_.size() >= kMaxShards) return invalid(StrCat("more than ", kMaxShards, " shards"));
    const std::string where = StrCat("shard #", map.shards_.size() + 1);
    simdjson::dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) return invalid(StrCat(where, ": not an object"));
    Shard shard;
    std::string_view text;
    if (object["name"].get_string().get(text) != simdjson::SUCCESS || !IsShardName(text)) {
      return invalid(StrCat(where, ": \"name\" must be 1-64 of [A-Za-z0-9._-]"));
    }
    shard.name = std::string(text);
    if (!names.insert(shard.name).second) return invalid(StrCat("shard '", shard.name, "' is listed twice"));
    if (object["endpoint"].get_string().get(text) != simdjson::SUCCESS || !IsEndpoint(text)) {
      return invalid(StrCat("shard '", shard.name, "': \"endpoint\" must be host:port"));
    }
    shard.endpoint = std::string(text);
    if (!endpoints.insert(shard.endpoint).second) {
      return invalid(StrCat("shard '", shard.name, "': endpoint ", shard.endpoint, " is another shard's"));
    }
    bool is_default = false;
    if (auto d = object["default"]; d.error() != simdjson::NO_SUCH_FIELD) {
      if (d.get_bool().get(is_default) != simdjson::SUCCESS) {
        return invalid(StrCat("shard '", shard.name, "': \"default\" must be true or false"));
      }
    }
    shard.is_default = is_default;
    if (is_default) {
      ++defaults;
      map.default_index_ = map.shards_.size();
    }
    if (auto accounts = object["accounts"]; accounts.error() != simdjson::NO_SUCH_FIELD) {
      simdjson::dom::array list;
      if (accounts.get_array().get(list) != simdjson::SUCCESS) {
        return invalid(StrCat("shard '", shard.name, "': \"accounts\" must be an array of account ids"));
      }
      for (simdjson::dom::element account : list) {
        if (account.get_string().get(text) != simdjson::SUCCESS || !IsValidAccountId(text)) {
          return invalid(StrCat("shard '", shard.name, "': accounts must be 12-digit account ids"));
        }
        auto [it, inserted] = map.by_account_.emplace(std::string(text), map.shards_.size());
        if (!inserted) {
          if (it->second == map.shards_.size()) {  // this shard, not yet in shards_
            return invalid(StrCat("shard '", shard.name, "': account ", text, " is listed twice"));
          }
          return invalid(StrCat("account ", text, " is in shard '", map.shards_[it->second].name, "' and in shard '",
                                shard.name, "'"));
        }
        shard.accounts.emplace_back(text);
      }
    }
    map.shards_.push_back(std::move(shard));
  }
  if (map.shards_.empty()) return invalid("no shards");
  if (defaults != 1) return invalid(StrCat("exactly one shard must be \"default\": true (found ", defaults, ")"));
  return map;
}

StatusOr<ShardMap> ShardMap::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("shard map ", path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(StrCat("shard map ", path, ": cannot read"));
  auto map = Parse(text.str());
  if (!map.ok()) return absl::InvalidArgumentError(StrCat(path, ": ", std::string(map.status().message())));
  return map;
}

const Shard& ShardMap::ShardForAccount(std::string_view account_id) const {
  auto it = by_account_.find(account_id);
  return shards_[it == by_account_.end() ? default_index_ : it->second];
}

const Shard* ShardMap::Find(std::string_view name) const {
  for (const Shard& shard : shards_) {
    if (shard.name == name) return &shard;
  }
  return nullptr;
}

}  // namespace orgtrail
