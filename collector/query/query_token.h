// NextToken codec for LookupEvents: an authenticated, opaque paging token.
//
// token = base64( 0x01 || fingerprint[32] || P(resume_key) || HMAC-SHA256(key, all before)[32] )
// - fingerprint: RequestFingerprint of the normalized request (query_request.h),
//   so a token replayed with different parameters is refused;
// - resume_key: the lookup-order key of the last position examined; the next
//   page starts strictly after it;
// - the HMAC key is 32 random bytes per collector, kept in the metadata column
//   family under kTokenKeyMetadataKey (created on first use), so tokens
//   survive restarts and cannot be forged or altered.
// Decode errors are INVALID_ARGUMENT "InvalidNextTokenException: ...".
// A NextTokenCodec is immutable after creation; thread-safe.
#ifndef ORGTRAIL_COLLECTOR_QUERY_QUERY_TOKEN_H_
#define ORGTRAIL_COLLECTOR_QUERY_QUERY_TOKEN_H_

#include <memory>
#include <string>
#include <string_view>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

class EventStore;

inline constexpr std::string_view kTokenKeyMetadataKey = "query/token_key";

class NextTokenCodec {
 public:
  // key must be at least 16 bytes.
  static StatusOr<std::unique_ptr<NextTokenCodec>> FromKey(std::string key);
  // Loads the collector's token key from the store's metadata, creating and
  // durably storing a random one if there is none.
  static StatusOr<std::unique_ptr<NextTokenCodec>> FromStore(EventStore* store);

  std::string Encode(const Digest& fingerprint, std::string_view resume_key) const;
  // The resume key; InvalidNextTokenException if the token is malformed,
  // forged, or was issued for another request fingerprint.
  StatusOr<std::string> Decode(std::string_view token, const Digest& fingerprint) const;

 private:
  explicit NextTokenCodec(std::string key) : key_(std::move(key)) {}
  Digest Mac(std::string_view message) const;
  std::string key_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_QUERY_QUERY_TOKEN_H_
