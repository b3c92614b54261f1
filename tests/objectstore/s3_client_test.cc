// S3Client against a real S3 server: a throwaway Ceph RADOS Gateway (testutil/s3_server.h), which
// checks AWS Signature V4 and the payload hash for real.
#include "objectstore/s3_client.h"
#include "objectstore/s3_error.h"

#include <algorithm>
#include <set>
#include <thread>

#include "orgtrail/common/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "orgtrail/common/hash.h"
#include "testutil/net.h"
#include "testutil/s3_server.h"

namespace orgtrail::objectstore {
namespace {

using ::testing::HasSubstr;

class S3ClientTest : public testutil::S3ServerTest {
 protected:
  void SetUp() override {
    testutil::S3ServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto client = MakeClient(server().secret_access_key());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    bucket_ = testutil::UniqueBucketName("s3client");
    ASSERT_TRUE(client_->CreateBucket(bucket_).ok());
  }

  StatusOr<std::unique_ptr<S3Client>> MakeClient(const std::string& secret,
                                                 const std::string& endpoint = "") {
    S3ClientOptions options;
    options.endpoint = endpoint.empty() ? server().endpoint() : endpoint;
    options.credentials.access_key_id = server().access_key_id();
    options.credentials.secret_access_key = secret;
    return S3Client::Create(options);
  }

  std::unique_ptr<S3Client> client_;
  std::string bucket_;
};

TEST_F(S3ClientTest, PutGetHeadRoundTripWithDigestMetadata) {
  const std::string body = "{\"Records\":[]}";
  const std::string signature = HexEncode(Sha256("pretend this is an RSA signature"));
  PutObjectOptions put;
  put.content_type = "application/json";
  put.metadata = {{"signature", signature}, {"signature-algorithm", "SHA256withRSA"}};
  auto etag = client_->PutObject(bucket_, "AWSLogs/o-aa111bb222/111111111111/CloudTrail-Digest/d.json.gz",
                                 body, put);
  ASSERT_TRUE(etag.ok()) << etag.status();
  EXPECT_FALSE(etag->empty());

  auto info = client_->HeadObject(bucket_, "AWSLogs/o-aa111bb222/111111111111/CloudTrail-Digest/d.json.gz");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, body.size());
  EXPECT_EQ(info->content_type, "application/json");
  EXPECT_EQ(info->etag, *etag);
  EXPECT_EQ(info->metadata, put.metadata);

  auto object = client_->GetObject(bucket_, "AWSLogs/o-aa111bb222/111111111111/CloudTrail-Digest/d.json.gz");
  ASSERT_TRUE(object.ok()) << object.status();
  EXPECT_EQ(object->body, body);
  EXPECT_EQ(object->info.metadata, put.metadata);

  // Re-uploading the same key with the same bytes is idempotent: same ETag, one object.
  auto again = client_->PutObject(bucket_, "AWSLogs/o-aa111bb222/111111111111/CloudTrail-Digest/d.json.gz",
                                  body, put);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *etag);
  auto all = client_->ListAllObjects(bucket_, "");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(S3ClientTest, BinaryAndMultiMegabyteBodies) {
  std::string body(3 * 1024 * 1024 + 7, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 131) ^ (i >> 9));
  ASSERT_TRUE(client_->PutObject(bucket_, "big.bin", body).ok());
  auto object = client_->GetObject(bucket_, "big.bin");
  ASSERT_TRUE(object.ok()) << object.status();
  EXPECT_EQ(object->body.size(), body.size());
  EXPECT_TRUE(object->body == body);
  ASSERT_TRUE(client_->PutObject(bucket_, "empty", "").ok());
  auto empty = client_->GetObject(bucket_, "empty");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->body, "");
}

TEST_F(S3ClientTest, KeysWithSpacesPlusSlashesAndOtherCharacters) {
  const std::vector<std::string> keys = {
      "with space/a b.json.gz", "plus/a+b+c", "slash/deep/er/key", "eq&amp/a=b&c=d",
      "dots/./x/../y", "tilde~percent%25/unicode-\xc3\xa9\xe2\x82\xac", "trailing-slash/",
      "double//slash"};
  for (const std::string& key : keys) {
    auto put = client_->PutObject(bucket_, key, "body of " + key);
    ASSERT_TRUE(put.ok()) << key << ": " << put.status();
  }
  for (const std::string& key : keys) {
    auto object = client_->GetObject(bucket_, key);
    ASSERT_TRUE(object.ok()) << key << ": " << object.status();
    EXPECT_EQ(object->body, "body of " + key);
  }
  auto all = client_->ListAllObjects(bucket_, "");
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> listed;
  for (const auto& o : *all) listed.push_back(o.key);
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listed, expected);
  // Prefixes with the same characters (and the '/' that must be encoded in the query).
  auto plus = client_->ListAllObjects(bucket_, "plus/a+");
  ASSERT_TRUE(plus.ok()) << plus.status();
  ASSERT_EQ(plus->size(), 1u);
  EXPECT_EQ((*plus)[0].key, "plus/a+b+c");
  auto space = client_->ListAllObjects(bucket_, "with space/");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ(space->size(), 1u);
}

TEST_F(S3ClientTest, ListWithPrefixAndContinuationOverMoreThanOneThousandKeys) {
  // 1100 keys under "p/" (more than S3's 1000-key page) and 20 under "q/", put from 4 threads
  // through the one client (it is thread-safe).
  constexpr int kKeys = 1100;
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kKeys + 20; i += 4) {
        const std::string key = i < kKeys ? StrCat("p/", 100000 + i) : StrCat("q/", i);
        auto put = client_->PutObject(bucket_, key, key);
        if (!put.ok()) { results[t] = put.status(); return; }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const Status& s : results) ASSERT_TRUE(s.ok()) << s;

  auto all = client_->ListAllObjects(bucket_, "p/");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) ASSERT_EQ((*all)[i].key, StrCat("p/", 100000 + i));

  // Explicit pages of 300: 4 pages, the tokens advance, nothing repeated.
  ListObjectsRequest request;
  request.prefix = "p/";
  request.max_keys = 300;
  std::set<std::string> seen;
  int pages = 0;
  while (true) {
    auto page = client_->ListObjectsV2(bucket_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    EXPECT_LE(page->objects.size(), 300u);
    for (const auto& o : page->objects) EXPECT_TRUE(seen.insert(o.key).second) << o.key;
    if (!page->is_truncated) break;
    request.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kKeys));
  auto q = client_->ListAllObjects(bucket_, "q/");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->size(), 20u);
}

TEST_F(S3ClientTest, WrongSecretIsPermissionDeniedNamingSignatureDoesNotMatch) {
  auto wrong = MakeClient(server().secret_access_key() + "x");
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  auto put = (*wrong)->PutObject(bucket_, "k", "v");
  ASSERT_EQ(put.status().code(), absl::StatusCode::kPermissionDenied) << put.status();
  EXPECT_THAT(put.status().message(), HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(put.status().message(), HasSubstr("PutObject s3://" + bucket_ + "/k"));
  auto get = (*wrong)->GetObject(bucket_, "k");
  EXPECT_EQ(get.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(get.status().message(), HasSubstr("SignatureDoesNotMatch"));
  // Nothing was stored by the refused request.
  EXPECT_EQ(client_->HeadObject(bucket_, "k").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(S3ClientTest, MissingKeyAndBucketAreNotFound) {
  auto get = client_->GetObject(bucket_, "no/such/key");
  ASSERT_EQ(get.status().code(), absl::StatusCode::kNotFound) << get.status();
  EXPECT_THAT(get.status().message(), HasSubstr("NoSuchKey"));
  EXPECT_EQ(client_->HeadObject(bucket_, "no/such/key").status().code(), absl::StatusCode::kNotFound);
  auto list = client_->ListObjectsV2("no-such-bucket-" + bucket_.substr(9), {});
  ASSERT_EQ(list.status().code(), absl::StatusCode::kNotFound) << list.status();
  EXPECT_THAT(list.status().message(), HasSubstr("NoSuchBucket"));
}

TEST_F(S3ClientTest, DeleteObject) {
  ASSERT_TRUE(client_->PutObject(bucket_, "gone soon", "x").ok());
  ASSERT_TRUE(client_->DeleteObject(bucket_, "gone soon").ok());
  EXPECT_EQ(client_->GetObject(bucket_, "gone soon").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(client_->DeleteObject(bucket_, "gone soon").ok());  // S3: deleting nothing is OK
}

TEST_F(S3ClientTest, BadInputIsRefusedBeforeSending) {
  EXPECT_EQ(client_->PutObject("Bad_Bucket", "k", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->PutObject(bucket_, "", "v").status().code(), absl::StatusCode::kInvalidArgument);
  PutObjectOptions put;
  put.metadata = {{"Bad Name", "v"}};
  EXPECT_EQ(client_->PutObject(bucket_, "k", "v", put).status().code(), absl::StatusCode::kInvalidArgument);
  put.metadata = {{"ok", "line\r\nX-Injected: 1"}};
  EXPECT_EQ(client_->PutObject(bucket_, "k", "v", put).status().code(), absl::StatusCode::kInvalidArgument);
  ListObjectsRequest list;
  list.max_keys = 5000;
  EXPECT_EQ(client_->ListObjectsV2(bucket_, list).status().code(), absl::StatusCode::kInvalidArgument);
  S3ClientOptions options;
  options.endpoint = "ftp://x";
  options.credentials = {"a", "b", "", ""};
  EXPECT_EQ(S3Client::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.endpoint = "http://127.0.0.1:1/bucket";
  EXPECT_EQ(S3Client::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.endpoint = "http://127.0.0.1:1";
  options.path_style = false;
  EXPECT_THAT(S3Client::Create(options).status().message(), HasSubstr("path-style"));
}

TEST_F(S3ClientTest, CredentialsFromTheSharedFileWork) {
  auto creds = LoadCredentials([&](const std::string& name) -> std::optional<std::string> {
    if (name == "AWS_SHARED_CREDENTIALS_FILE") return server().credentials_file();
    return std::nullopt;
  });
  ASSERT_TRUE(creds.ok()) << creds.status();
  S3ClientOptions options;
  options.endpoint = server().endpoint();
  options.credentials = *creds;
  auto client = S3Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->PutObject(bucket_, "from-file", "x").ok());
}

TEST_F(S3ClientTest, NothingListeningIsUnavailable) {
  auto client = MakeClient(server().secret_access_key(),
                           StrCat("http://127.0.0.1:", testutil::FreePort()));
  ASSERT_TRUE(client.ok()) << client.status();
  auto put = (*client)->PutObject(bucket_, "k", "v");
  ASSERT_EQ(put.status().code(), absl::StatusCode::kUnavailable) << put.status();
  EXPECT_TRUE(IsRetryableS3Error(put.status()));
}

// Its own server, stopped mid-test: requests to it then fail UNAVAILABLE (retryable).
TEST(S3ClientStoppedServerTest, StoppedServerIsUnavailable) {
  auto server = testutil::S3TestServer::Start();
  if (!server.ok() && server.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << server.status().message();
  }
  ASSERT_TRUE(server.ok()) << server.status();
  S3ClientOptions options;
  options.endpoint = (*server)->endpoint();
  options.credentials.access_key_id = (*server)->access_key_id();
  options.credentials.secret_access_key = (*server)->secret_access_key();
  options.connect_timeout = std::chrono::seconds(5);
  options.request_timeout = std::chrono::seconds(20);
  auto client = S3Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->CreateBucket("stopped").ok());
  ASSERT_TRUE((*client)->PutObject("stopped", "k", "v").ok());
  ASSERT_TRUE((*server)->Stop().ok());
  auto get = (*client)->GetObject("stopped", "k");
  ASSERT_EQ(get.status().code(), absl::StatusCode::kUnavailable) << get.status();
  EXPECT_THAT(get.status().message(), HasSubstr("GetObject s3://stopped/k"));
}

}  // namespace
}  // namespace orgtrail::objectstore
