// Private helper: the SHA-256 EVP_MD, fetched from the default provider once
// per process. OpenSSL 3 performs an implicit (locked) provider fetch on every
// EVP_DigestInit_ex(EVP_sha256()); an explicitly fetched EVP_MD avoids that.
// The object is immutable after the thread-safe static initialisation and is
// never freed (it lives as long as the process, like OpenSSL's own tables).
#ifndef ORGTRAIL_COMMON_SRC_EVP_SHA256_H_
#define ORGTRAIL_COMMON_SRC_EVP_SHA256_H_

#include <openssl/evp.h>

namespace orgtrail {

inline const EVP_MD* FetchedSha256() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_SRC_EVP_SHA256_H_
