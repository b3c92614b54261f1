// Private to the spool's sources: the key and status codecs shared by
// spool.cc and spool_dead_letters.cc.
#ifndef ORGTRAIL_AGENT_SRC_SPOOL_INTERNAL_H_
#define ORGTRAIL_AGENT_SRC_SPOOL_INTERNAL_H_

#include <cstdint>
#include <string>

#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include "orgtrail/common/status.h"

namespace orgtrail::agent::spool_internal {

// Big-endian: keys sort by number.
inline std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

inline uint64_t DecodeU64(const rocksdb::Slice& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

inline Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = std::string("spool ") + what + ": " + s.ToString();
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::UnavailableError(message);
}

}  // namespace orgtrail::agent::spool_internal

#endif  // ORGTRAIL_AGENT_SRC_SPOOL_INTERNAL_H_
