#include "objectstore/s3_credentials.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "objectstore/s3_text.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail::objectstore {
namespace {

// (Debian's Abseil string helpers take absl::string_view, which is not std::string_view.)
bool ValidProfileName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x21 || c == '[' || c == ']') return false;
  }
  return true;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

StatusOr<S3Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                               std::string_view source_name) {
  std::string current;
  bool in_section = false;
  bool found = false;
  S3Credentials creds;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = TrimAsciiWhitespace(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      if (end == text.size()) break;
      continue;
    }
    auto where = [&] { return StrCat(source_name, ":", line_no, ": "); };
    if (line.front() == '[') {
      if (line.back() != ']') {
        return absl::InvalidArgumentError(
            StrCat(where(), "unterminated section header (expected '[profile-name]')"));
      }
      std::string_view name = TrimAsciiWhitespace(line.substr(1, line.size() - 2));
      if (!ValidProfileName(name)) {
        return absl::InvalidArgumentError(
            StrCat(where(), "bad profile name in section header (expected '[profile-name]')"));
      }
      current = std::string(name);
      in_section = true;
      if (current == profile) found = true;
    } else {
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) {
        return absl::InvalidArgumentError(
            StrCat(where(), "expected 'key = value' or '[profile-name]'"));
      }
      std::string key = AsciiLowercase(TrimAsciiWhitespace(line.substr(0, eq)));
      std::string_view value = TrimAsciiWhitespace(line.substr(eq + 1));
      if (key.empty()) {
        return absl::InvalidArgumentError(StrCat(where(), "empty key before '='"));
      }
      if (!in_section) {
        return absl::InvalidArgumentError(
            StrCat(where(), "'", key, "' before any '[profile-name]' section"));
      }
      if (current == profile) {
        if (key == "aws_access_key_id") {
          creds.access_key_id = std::string(value);
        } else if (key == "aws_secret_access_key") {
          creds.secret_access_key = std::string(value);
        } else if (key == "aws_session_token" ||
                   (key == "aws_security_token" && creds.session_token.empty())) {
          creds.session_token = std::string(value);
        }
        // Other keys (region, output, ...) belong to other tools; ignored.
      }
    }
    if (end == text.size()) break;
  }
  if (!found) {
    return absl::NotFoundError(
        StrCat("AWS profile '", profile, "' is not in ", source_name));
  }
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return absl::InvalidArgumentError(StrCat(
        source_name, ": profile '", profile, "' lacks ",
        creds.access_key_id.empty() ? "aws_access_key_id" : "aws_secret_access_key"));
  }
  creds.source = StrCat(source_name, " [", profile, "]");
  return creds;
}

StatusOr<S3Credentials> LoadCredentials(const EnvLookup& env) {
  auto get = [&](const char* name) -> std::string {
    std::optional<std::string> v = env(name);
    return v.has_value() ? *v : std::string();
  };
  const std::string id = get("AWS_ACCESS_KEY_ID");
  const std::string secret = get("AWS_SECRET_ACCESS_KEY");
  if (!id.empty() || !secret.empty()) {
    if (id.empty() || secret.empty()) {
      return absl::InvalidArgumentError(StrCat(
          "AWS credentials in the environment are incomplete: ",
          id.empty() ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                     : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
    }
    S3Credentials creds;
    creds.access_key_id = id;
    creds.secret_access_key = secret;
    creds.session_token = get("AWS_SESSION_TOKEN");
    creds.source = "environment";
    return creds;
  }
  std::string path = get("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    const std::string home = get("HOME");
    if (home.empty()) {
      return absl::NotFoundError(
          "no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set, and neither "
          "AWS_SHARED_CREDENTIALS_FILE nor HOME (for ~/.aws/credentials) is");
    }
    path = home + "/.aws/credentials";
  }
  std::string profile = get("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(StrCat(
          "no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and ", path,
          " does not exist"));
    }
    return absl::UnavailableError(StrCat("cannot read ", path, ": ", std::strerror(err)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(StrCat("cannot read ", path));
  return ParseSharedCredentials(buffer.str(), profile, path);
}

}  // namespace orgtrail::objectstore
