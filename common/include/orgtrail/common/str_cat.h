// StrCat: concatenation of string pieces and integers into a std::string.
// Debian's Abseil is built without std::string_view aliasing, so
// absl::StrCat does not accept std::string_view; use this instead.
// Pure function; thread-safe.
#ifndef ORGTRAIL_COMMON_STR_CAT_H_
#define ORGTRAIL_COMMON_STR_CAT_H_

#include <string>
#include <string_view>
#include <type_traits>

namespace orgtrail {
namespace str_cat_internal {

inline void AppendPiece(std::string* out, std::string_view s) { out->append(s.data(), s.size()); }
inline void AppendPiece(std::string* out, const char* s) { out->append(s); }
template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, char> &&
                                           !std::is_same_v<T, bool>, int> = 0>
void AppendPiece(std::string* out, T v) {
  out->append(std::to_string(v));
}

}  // namespace str_cat_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (str_cat_internal::AppendPiece(&out, args), ...);
  return out;
}

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_STR_CAT_H_
