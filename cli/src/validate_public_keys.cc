// validate-logs: the export's digest public keys (see validate_public_keys.h).
#include "validate_public_keys.h"

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <simdjson.h>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/time_util.h"
#include "validate_files.h"

namespace orgtrail::cli::validate_logs {

// fingerprint -> key, from AWSLogs/<org>/public-keys.json (ListPublicKeys shape).
bool LoadPublicKeys(const std::string& text, const std::string& path, std::map<std::string, PublicKey>* keys,
                    std::string* error) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) {
    *error = "invalid JSON in " + path;
    return false;
  }
  simdjson::dom::array list;
  if (doc["PublicKeyList"].get_array().get(list) != simdjson::SUCCESS) {
    *error = "PublicKeyList missing in " + path;
    return false;
  }
  for (simdjson::dom::element item : list) {
    std::string_view value, fingerprint, start;
    if (item["Value"].get_string().get(value) != simdjson::SUCCESS ||
        item["Fingerprint"].get_string().get(fingerprint) != simdjson::SUCCESS ||
        item["ValidityStartTime"].get_string().get(start) != simdjson::SUCCESS) {
      continue;  // malformed entries are ignored (their digests then fail)
    }
    PublicKey key;
    auto der = Base64Decode(value);
    auto start_us = ParseRfc3339Micros(start);
    if (!der.ok() || !start_us.ok()) continue;
    key.der = *der;
    key.start_us = *start_us;
    std::string_view end;
    if (item["ValidityEndTime"].get_string().get(end) == simdjson::SUCCESS) {
      auto end_us = ParseRfc3339Micros(end);
      if (end_us.ok()) key.end_us = *end_us;
    }
    (*keys)[std::string(fingerprint)] = std::move(key);
  }
  return true;
}

std::map<std::string, PublicKey> KeysOverlapping(const std::map<std::string, PublicKey>& all,
                                                 int64_t start_us, int64_t end_us) {
  std::map<std::string, PublicKey> out;
  for (const auto& [fp, k] : all) {
    bool ends_before = k.end_us && *k.end_us < start_us;
    bool starts_after = k.start_us > end_us;
    if (!ends_before && !starts_after) out[fp] = k;
  }
  return out;
}

}  // namespace orgtrail::cli::validate_logs
