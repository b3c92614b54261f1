// Parsing S3's XML answers (ListObjectsV2, Error) and mapping errors to Status codes.
#include "objectstore/s3_xml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objectstore/s3_error.h"

namespace orgtrail::objectstore {
namespace {

using ::testing::HasSubstr;

TEST(S3XmlTest, ListObjectsV2Page) {
  InitXmlParser();
  auto page = ParseListObjectsV2(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<NextContinuationToken>tok+/=</NextContinuationToken>
<Contents><Key>p/a &amp; b</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size></Contents>
<Contents><Key>p/c</Key><Size>0</Size></Contents></ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a & b");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].etag, "\"abc\"");
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "tok+/=");
}

TEST(S3XmlTest, BadListAnswers) {
  InitXmlParser();
  EXPECT_FALSE(ParseListObjectsV2("").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult>").ok());
  EXPECT_EQ(ParseListObjectsV2("<Error/>").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents></ListBucketResult>")
                  .status().message(), HasSubstr("<Size> is 'x'"));
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
                  .status().message(), HasSubstr("without <NextContinuationToken>"));
  // No external entities are fetched or expanded.
  auto xxe = ParseListObjectsV2(
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<ListBucketResult><Contents><Key>&x;</Key></Contents></ListBucketResult>");
  if (xxe.ok()) {
    ASSERT_EQ(xxe->objects.size(), 1u);
    EXPECT_THAT(xxe->objects[0].key, ::testing::Not(HasSubstr("root:")));
  }
}

TEST(S3XmlTest, ErrorsMapToStatusCodesWithTheS3Code) {
  InitXmlParser();
  const std::string sig =
      "<Error><Code>SignatureDoesNotMatch</Code><Message>bad sig</Message><RequestId>r1</RequestId></Error>";
  Status s = StatusFromS3Response("S3 GetObject s3://b/k", 403, sig);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "S3 GetObject s3://b/k: HTTP 403 SignatureDoesNotMatch: bad sig (request id r1)");
  EXPECT_EQ(StatusFromS3Response("c", 404, "<Error><Code>NoSuchKey</Code></Error>").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusFromS3Response("c", 404, "").message(), "c: HTTP 404 NotFound");
  EXPECT_EQ(StatusFromS3Response("c", 409, "<Error><Code>BucketAlreadyOwnedByYou</Code></Error>").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusFromS3Response("c", 503, "<Error><Code>SlowDown</Code></Error>").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromS3Response("c", 500, "not xml").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromS3Response("c", 400, "<Error><Code>RequestTimeout</Code></Error>").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromS3Response("c", 400, "<Error><Code>InvalidBucketName</Code></Error>").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsRetryableS3Error(absl::UnavailableError("x")));
  EXPECT_FALSE(IsRetryableS3Error(absl::PermissionDeniedError("x")));
}

}  // namespace
}  // namespace orgtrail::objectstore
