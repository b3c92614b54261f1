// Random (version 4) UUIDs from OpenSSL's CSPRNG. Thread-safe.
#ifndef ORGTRAIL_COMMON_UUID_H_
#define ORGTRAIL_COMMON_UUID_H_

#include <string>
#include <string_view>

namespace orgtrail {

// Lowercase 8-4-4-4-12 form, e.g. "3f0a…-…-4…-[89ab]…-…".
std::string NewUuidV4();
// True for any 8-4-4-4-12 hex UUID (any version).
bool LooksLikeUuid(std::string_view text);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_UUID_H_
