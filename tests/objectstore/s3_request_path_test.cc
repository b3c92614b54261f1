// Request paths as SigV4 (and libcurl 7.88, which signs them as given) need them.
#include "objectstore/s3_request_path.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace orgtrail::objectstore {
namespace {

TEST(S3RequestPathTest, KeysKeepSlashesAndEncodeEverythingElse) {
  EXPECT_EQ(RequestPath("bucket", "AWSLogs/o-1/a b+c=d&e~f_g.h-i.json.gz"),
            "/bucket/AWSLogs/o-1/a%20b%2Bc%3Dd%26e~f_g.h-i.json.gz");
  EXPECT_EQ(RequestPath("bucket", "caf\xc3\xa9/%"), "/bucket/caf%C3%A9/%25");
  EXPECT_EQ(RequestPath("bucket", ""), "/bucket");
}

TEST(S3RequestPathTest, QueryIsSortedAndSlashesEncoded) {
  EXPECT_EQ(RequestPath("b12", "", {{"prefix", "dir/sub dir/"}, {"list-type", "2"},
                                    {"continuation-token", "a+b/c="}, {"max-keys", "10"}}),
            "/b12?continuation-token=a%2Bb%2Fc%3D&list-type=2&max-keys=10&prefix=dir%2Fsub%20dir%2F");
}

TEST(S3RequestPathTest, BucketNames) {
  EXPECT_TRUE(CheckBucketName("orgtrail-logs.2026").ok());
  EXPECT_THAT(CheckBucketName("ab").message(), ::testing::HasSubstr("3 to 63"));
  EXPECT_THAT(CheckBucketName("Upper").message(), ::testing::HasSubstr("lower-case"));
  EXPECT_THAT(CheckBucketName("-abc").message(), ::testing::HasSubstr("start and end"));
  EXPECT_THAT(CheckBucketName("a/b").message(), ::testing::HasSubstr("lower-case"));
}

TEST(S3RequestPathTest, ObjectKeys) {
  EXPECT_TRUE(CheckObjectKey("a").ok());
  EXPECT_FALSE(CheckObjectKey("").ok());
  EXPECT_FALSE(CheckObjectKey(std::string(1025, 'a')).ok());
  EXPECT_FALSE(CheckObjectKey(std::string("a\0b", 3)).ok());
}

}  // namespace
}  // namespace orgtrail::objectstore
