// SigV4 against the worked examples of the S3 documentation ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk"), and the header ordering that
// libcurl 7.88 gets wrong.
#include "objectstore/s3_signer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objectstore/s3_request_path.h"

namespace orgtrail::objectstore {
namespace {

using ::testing::HasSubstr;

S3Credentials ExampleCredentials() {
  S3Credentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return c;
}

TEST(S3SignerTest, DocumentedGetObjectExample) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/test.txt";
  r.payload_sha256_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", r.payload_sha256_hex},
               {"x-amz-date", "20130524T000000Z"}};
  EXPECT_EQ(SigV4Authorization(r, ExampleCredentials(), "us-east-1", "s3", "20130524T000000Z"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3SignerTest, DocumentedPutObjectExample) {
  SigV4Request r;
  r.method = "PUT";
  r.canonical_uri = RequestPath("examplebucket", "test$file.text").substr(14);  // "/test%24file.text"
  ASSERT_EQ(r.canonical_uri, "/test%24file.text");
  r.payload_sha256_hex = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", r.payload_sha256_hex},
               {"x-amz-date", "20130524T000000Z"}};
  EXPECT_THAT(SigV4Authorization(r, ExampleCredentials(), "us-east-1", "s3", "20130524T000000Z"),
              HasSubstr("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

TEST(S3SignerTest, HeadersSortByNameNotByNameColonValue) {
  SigV4Request r;
  r.method = "PUT";
  r.canonical_uri = "/b/k";
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  r.headers = {{"x-amz-meta-signature-algorithm", "SHA256withRSA"},
               {"x-amz-meta-signature", "  ab   cd "},
               {"host", "h"}};
  EXPECT_EQ(SigV4CanonicalRequest(r),
            "PUT\n/b/k\n\nhost:h\nx-amz-meta-signature:ab cd\n"
            "x-amz-meta-signature-algorithm:SHA256withRSA\n\n"
            "host;x-amz-meta-signature;x-amz-meta-signature-algorithm\nUNSIGNED-PAYLOAD");
}

TEST(S3SignerTest, AmzDate) {
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
}

}  // namespace
}  // namespace orgtrail::objectstore
