// String concatenation and splitting for the export/digest/Merkle sources.
// (Debian's Abseil is built without std::string_view aliasing, so
// absl::StrCat/StrSplit do not accept std::string_view.) Internal header.
#ifndef ORGTRAIL_COLLECTOR_EXPORT_EXPORT_STRINGS_H_
#define ORGTRAIL_COLLECTOR_EXPORT_EXPORT_STRINGS_H_

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "orgtrail/common/str_cat.h"

namespace orgtrail::collector::internal {

// Shared with the rest of orgtrail (common/str_cat.h).
template <typename... Args>
std::string Cat(const Args&... args) {
  return ::orgtrail::StrCat(args...);
}

inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace orgtrail::collector::internal

#endif  // ORGTRAIL_COLLECTOR_EXPORT_EXPORT_STRINGS_H_
