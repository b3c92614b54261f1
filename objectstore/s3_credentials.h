// AWS credentials for the S3 client, found the usual AWS ways and never on a command line:
//   1. the environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. else the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, or $HOME/.aws/credentials,
//      profile AWS_PROFILE (default "default").
// The environment is read through an EnvLookup so tests (and embedders) pass their own.
//
// Errors: INVALID_ARGUMENT for a half-set environment or a malformed file (naming the file, the
// line and what was expected); NOT_FOUND when no source has credentials or the profile is not in
// the file (naming where it looked); UNAVAILABLE when the file exists but cannot be read.
// Secrets never appear in error messages. Pure functions; thread-safe.
#ifndef ORGTRAIL_OBJECTSTORE_S3_CREDENTIALS_H_
#define ORGTRAIL_OBJECTSTORE_S3_CREDENTIALS_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail::objectstore {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  std::string source;         // where they came from, e.g. "environment", "/root/.aws/credentials [default]"
};

// Returns the value of an environment variable, or nullopt if unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup ProcessEnvironment();

// Parses a shared credentials file's text and returns `profile`. `source_name` (the path) is used
// in error messages only.
StatusOr<S3Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                               std::string_view source_name);

// The full chain described above.
StatusOr<S3Credentials> LoadCredentials(const EnvLookup& env);

}  // namespace orgtrail::objectstore

#endif  // ORGTRAIL_OBJECTSTORE_S3_CREDENTIALS_H_
