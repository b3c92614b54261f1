// Small ASCII text helpers shared by the S3 client and the credentials reader (Debian's Abseil
// string helpers take absl::string_view, which is not std::string_view). Pure; thread-safe.
#ifndef ORGTRAIL_OBJECTSTORE_S3_TEXT_H_
#define ORGTRAIL_OBJECTSTORE_S3_TEXT_H_

#include <string>
#include <string_view>

namespace orgtrail::objectstore {

// `s` without leading and trailing spaces, tabs, CR and LF.
inline std::string_view TrimAsciiWhitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// `s` with A-Z lowered; other bytes unchanged.
inline std::string AsciiLowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace orgtrail::objectstore

#endif  // ORGTRAIL_OBJECTSTORE_S3_TEXT_H_
