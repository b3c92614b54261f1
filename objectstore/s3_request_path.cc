#include "objectstore/s3_request_path.h"

#include "orgtrail/common/str_cat.h"

namespace orgtrail::objectstore {

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Status CheckBucketName(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) {
    return absl::InvalidArgumentError(StrCat(
        "S3 bucket name '", bucket, "' must be 3 to 63 characters long (it has ", bucket.size(), ")"));
  }
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      return absl::InvalidArgumentError(StrCat(
          "S3 bucket name '", bucket,
          "' may hold only lower-case letters, digits, '.' and '-'"));
    }
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) {
    return absl::InvalidArgumentError(StrCat(
        "S3 bucket name '", bucket, "' must start and end with a letter or digit"));
  }
  return absl::OkStatus();
}

Status CheckObjectKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("S3 object key is empty");
  if (key.size() > 1024) {
    return absl::InvalidArgumentError(
        StrCat("S3 object key is ", key.size(), " bytes long (at most 1024)"));
  }
  if (key.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("S3 object key contains a NUL byte");
  }
  return absl::OkStatus();
}

std::string RequestPath(std::string_view bucket, std::string_view key,
                        const std::map<std::string, std::string>& query) {
  std::string path = StrCat("/", UriEncode(bucket, false));
  if (!key.empty()) path += StrCat("/", UriEncode(key, true));
  char sep = '?';
  for (const auto& [name, value] : query) {  // std::map: sorted by name, as SigV4 requires
    path += StrCat(std::string(1, sep), UriEncode(name, false), "=", UriEncode(value, false));
    sep = '&';
  }
  return path;
}

}  // namespace orgtrail::objectstore
