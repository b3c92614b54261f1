// Helpers shared by the delivery tests that talk to the test S3 server (testutil/s3_server.h):
// an S3 client with the server's key, and the AWS environment of a collector or CLI run that reads
// its credentials the usual way (the shared credentials file the server wrote).
#ifndef ORGTRAIL_TESTS_COLLECTOR_DELIVERY_DELIVERY_TEST_SUPPORT_H_
#define ORGTRAIL_TESTS_COLLECTOR_DELIVERY_DELIVERY_TEST_SUPPORT_H_

#include <stdlib.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "objectstore/s3_client.h"
#include "testutil/s3_server.h"

namespace orgtrail::deliverytest {

// A client of the test server with its access key (nullptr after a test failure).
inline std::unique_ptr<objectstore::S3Client> NewS3Client(const testutil::S3TestServer& server) {
  objectstore::S3ClientOptions options;
  options.endpoint = server.endpoint();
  options.credentials.access_key_id = server.access_key_id();
  options.credentials.secret_access_key = server.secret_access_key();
  auto client = objectstore::S3Client::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// Child processes (they inherit this environment) read credentials from `path` only.
inline void UseCredentialsFile(const std::string& path) {
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_PROFILE");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
}

}  // namespace orgtrail::deliverytest

#endif  // ORGTRAIL_TESTS_COLLECTOR_DELIVERY_DELIVERY_TEST_SUPPORT_H_
