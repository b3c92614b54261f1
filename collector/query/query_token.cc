#include "collector/query/query_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "collector/store/store.h"
#include "collector/store/store_keys.h"

namespace orgtrail::collector {
namespace {

constexpr char kTokenVersion = 0x01;
constexpr size_t kMacBytes = 32;

Status InvalidToken(std::string_view why) {
  return absl::InvalidArgumentError(
      std::string("InvalidNextTokenException: ").append(why.data(), why.size()));
}

}  // namespace

StatusOr<std::unique_ptr<NextTokenCodec>> NextTokenCodec::FromKey(std::string key) {
  if (key.size() < 16) return absl::InvalidArgumentError("token key must be at least 16 bytes");
  return std::unique_ptr<NextTokenCodec>(new NextTokenCodec(std::move(key)));
}

StatusOr<std::unique_ptr<NextTokenCodec>> NextTokenCodec::FromStore(EventStore* store) {
  auto existing = store->GetMetadata(kTokenKeyMetadataKey);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    if ((*existing)->size() != 32) {
      return absl::DataLossError("metadata query/token_key: expected 32 bytes");
    }
    return FromKey(**existing);
  }
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return absl::InternalError("RAND_bytes failed while creating the NextToken key");
  }
  ORGTRAIL_RETURN_IF_ERROR(store->WriteMetadata({{std::string(kTokenKeyMetadataKey), key}}));
  return FromKey(std::move(key));
}

Digest NextTokenCodec::Mac(std::string_view message) const {
  Digest mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length);
  return mac;
}

std::string NextTokenCodec::Encode(const Digest& fingerprint, std::string_view resume_key) const {
  std::string body;
  body.push_back(kTokenVersion);
  body.append(reinterpret_cast<const char*>(fingerprint.data()), fingerprint.size());
  PutLengthPrefixed(&body, resume_key);
  const Digest mac = Mac(body);
  body.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  return Base64Encode(body);
}

StatusOr<std::string> NextTokenCodec::Decode(std::string_view token,
                                             const Digest& fingerprint) const {
  auto decoded = Base64Decode(token);
  if (!decoded.ok()) return InvalidToken("NextToken is not a token issued by this collector");
  const std::string& bytes = *decoded;
  if (bytes.size() < 1 + 32 + 1 + kMacBytes || bytes[0] != kTokenVersion) {
    return InvalidToken("NextToken is not a token issued by this collector");
  }
  const std::string_view body(bytes.data(), bytes.size() - kMacBytes);
  const Digest expected_mac = Mac(body);
  if (CRYPTO_memcmp(expected_mac.data(), bytes.data() + body.size(), kMacBytes) != 0) {
    return InvalidToken("NextToken is not a token issued by this collector (authentication failed)");
  }
  if (CRYPTO_memcmp(fingerprint.data(), bytes.data() + 1, fingerprint.size()) != 0) {
    return InvalidToken(
        "NextToken was issued for different request parameters; repeat the request with the "
        "same parameters or start without a NextToken");
  }
  std::string_view rest = body.substr(1 + fingerprint.size());
  std::string_view resume_key;
  if (!GetLengthPrefixed(&rest, &resume_key) || !rest.empty()) {
    return InvalidToken("NextToken is malformed");
  }
  return std::string(resume_key);
}

}  // namespace orgtrail::collector
