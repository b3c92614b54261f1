// SHA-256 (OpenSSL EVP), hex and base64. Thread-safe pure functions.
#ifndef ORGTRAIL_COMMON_HASH_H_
#define ORGTRAIL_COMMON_HASH_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail {

using Digest = std::array<uint8_t, 32>;

Digest Sha256(std::string_view data);

// Incremental SHA-256 for streams (files, gunzipped logs). Not thread-safe.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::string_view data);
  Digest Finish();  // the hasher may not be reused afterwards

 private:
  void* ctx_;  // EVP_MD_CTX*
};

std::string DigestToString(const Digest& d);             // 32 raw bytes
StatusOr<Digest> DigestFromString(std::string_view raw); // exactly 32 bytes

std::string HexEncode(std::string_view bytes);            // lowercase
std::string HexEncode(const Digest& d);
StatusOr<std::string> HexDecode(std::string_view hex);    // either case; odd length or non-hex = error
std::string Base64Encode(std::string_view bytes);         // standard alphabet, padded
StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_HASH_H_
