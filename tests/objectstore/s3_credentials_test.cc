// AWS credential loading: environment, shared credentials file, profiles, malformed files.
#include "objectstore/s3_credentials.h"

#include <fstream>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testutil/temp_dir.h"

namespace orgtrail::objectstore {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(S3CredentialsTest, EnvironmentComesFirst) {
  testutil::TempDir dir;
  WriteFile(dir.Join("credentials"), "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
  auto creds = LoadCredentials(FakeEnv({{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                        {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                                        {"AWS_SESSION_TOKEN", "TOKEN"},
                                        {"AWS_SHARED_CREDENTIALS_FILE", dir.Join("credentials")}}));
  ASSERT_TRUE(creds.ok()) << creds.status();
  EXPECT_EQ(creds->access_key_id, "ENVKEY");
  EXPECT_EQ(creds->secret_access_key, "ENVSECRET");
  EXPECT_EQ(creds->session_token, "TOKEN");
  EXPECT_EQ(creds->source, "environment");
}

TEST(S3CredentialsTest, HalfSetEnvironmentIsAnErrorNamingTheMissingVariable) {
  auto creds = LoadCredentials(FakeEnv({{"AWS_ACCESS_KEY_ID", "ENVKEY"}}));
  ASSERT_EQ(creds.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(creds.status().message(), HasSubstr("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
  EXPECT_THAT(creds.status().message(), HasSubstr("AWS_SECRET_ACCESS_KEY"));
}

TEST(S3CredentialsTest, SharedFileWithProfile) {
  testutil::TempDir dir;
  WriteFile(dir.Join("credentials"),
            "# comment\n; other comment\n\n[default]\naws_access_key_id=DKEY\naws_secret_access_key=DSECRET\n"
            "region = eu-west-1\n\r\n[ audit ]\r\n  AWS_ACCESS_KEY_ID = AKEY \r\naws_secret_access_key = A/SECRET+x=\r\n"
            "aws_session_token = ATOKEN\r\n");
  auto def = LoadCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", dir.Join("credentials")}}));
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->access_key_id, "DKEY");
  EXPECT_EQ(def->secret_access_key, "DSECRET");
  EXPECT_EQ(def->session_token, "");
  auto audit = LoadCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", dir.Join("credentials")},
                                        {"AWS_PROFILE", "audit"}}));
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_EQ(audit->access_key_id, "AKEY");
  EXPECT_EQ(audit->secret_access_key, "A/SECRET+x=");
  EXPECT_EQ(audit->session_token, "ATOKEN");
  EXPECT_THAT(audit->source, HasSubstr("[audit]"));
}

TEST(S3CredentialsTest, HomeDotAwsCredentials) {
  testutil::TempDir dir;
  std::string aws = dir.MakeSubdir(".aws");
  WriteFile(aws + "/credentials", "[default]\naws_access_key_id = HKEY\naws_secret_access_key = HSECRET\n");
  auto creds = LoadCredentials(FakeEnv({{"HOME", dir.path()}}));
  ASSERT_TRUE(creds.ok()) << creds.status();
  EXPECT_EQ(creds->access_key_id, "HKEY");
}

TEST(S3CredentialsTest, NothingAnywhereIsNotFoundSayingWhereItLooked) {
  testutil::TempDir dir;
  auto creds = LoadCredentials(FakeEnv({{"HOME", dir.path()}}));
  ASSERT_EQ(creds.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(creds.status().message(), HasSubstr(dir.path() + "/.aws/credentials"));
  EXPECT_THAT(creds.status().message(), HasSubstr("AWS_ACCESS_KEY_ID"));
}

TEST(S3CredentialsTest, MissingProfileIsNotFound) {
  auto creds = ParseSharedCredentials("[default]\naws_access_key_id=a\naws_secret_access_key=b\n",
                                      "prod", "/x/credentials");
  ASSERT_EQ(creds.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(creds.status().message(), HasSubstr("'prod' is not in /x/credentials"));
}

struct Malformed {
  const char* text;
  const char* expected;
};

TEST(S3CredentialsTest, MalformedFilesGiveClearErrorsWithoutSecrets) {
  const Malformed cases[] = {
      {"aws_access_key_id = a\n", "f:1: 'aws_access_key_id' before any '[profile-name]' section"},
      {"[default\naws_access_key_id = a\n", "f:1: unterminated section header"},
      {"[]\n", "f:1: bad profile name"},
      {"[default]\nthis line has no equals sign\n", "f:2: expected 'key = value'"},
      {"[default]\n = SECRETVALUE\n", "f:2: empty key"},
      {"[default]\naws_access_key_id = a\n", "profile 'default' lacks aws_secret_access_key"},
      {"[default]\naws_secret_access_key = SECRETVALUE\n", "profile 'default' lacks aws_access_key_id"},
  };
  for (const Malformed& c : cases) {
    auto creds = ParseSharedCredentials(c.text, "default", "f");
    ASSERT_EQ(creds.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(creds.status().message(), HasSubstr(c.expected)) << c.text;
    EXPECT_THAT(creds.status().message(), Not(HasSubstr("SECRETVALUE")));
  }
}

TEST(S3CredentialsTest, UnreadableFileIsUnavailable) {
  testutil::TempDir dir;
  // A folder where the file should be: exists, cannot be read as a file.
  std::string path = dir.MakeSubdir("credentials");
  auto creds = LoadCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", path}}));
  EXPECT_FALSE(creds.ok());
  EXPECT_THAT(creds.status().message(), HasSubstr(path));
}

}  // namespace
}  // namespace orgtrail::objectstore
