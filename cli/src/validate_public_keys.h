// validate-logs: the digest public keys of an export, read from
// AWSLogs/<org>/public-keys.json (the shape of CloudTrail's ListPublicKeys:
// {"PublicKeyList": [{"Value" (base64 DER), "ValidityStartTime",
// "ValidityEndTime", "Fingerprint"}]}), and their selection by validity.
// Contract: LoadPublicKeys fails (with *error set) only when the file cannot
// be read, is not JSON, or has no PublicKeyList; malformed entries are
// skipped (digests signed with them then fail verification). A key without
// ValidityEndTime is valid from its start on. Pure functions; thread-safe.
#ifndef ORGTRAIL_CLI_VALIDATE_PUBLIC_KEYS_H_
#define ORGTRAIL_CLI_VALIDATE_PUBLIC_KEYS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace orgtrail::cli::validate_logs {

struct PublicKey {
  std::string der;
  int64_t start_us = 0;
  std::optional<int64_t> end_us;
};

// fingerprint -> key, from AWSLogs/<org>/public-keys.json (ListPublicKeys shape).
// `text`: the file's contents; `path` names it in errors.
bool LoadPublicKeys(const std::string& text, const std::string& path, std::map<std::string, PublicKey>* keys,
                    std::string* error);

// The keys whose validity overlaps [start_us, end_us].
std::map<std::string, PublicKey> KeysOverlapping(const std::map<std::string, PublicKey>& all,
                                                 int64_t start_us, int64_t end_us);

}  // namespace orgtrail::cli::validate_logs

#endif  // ORGTRAIL_CLI_VALIDATE_PUBLIC_KEYS_H_
