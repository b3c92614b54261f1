// Garbage bytes instead of an IngestRequest on a real collector's Ingest
// stream (before and after the Hello): the stream ends INVALID_ARGUMENT
// (malformed_message), never OK, and it is counted as an unclean end.
#include <gtest/gtest.h>

#include <grpcpp/generic/generic_stub.h>

#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::testutil {
namespace {

grpc::ByteBuffer Bytes(const std::string& data) {
  grpc::Slice slice(data);
  return grpc::ByteBuffer(&slice, 1);
}

// Waits for `tag` on cq (this test runs one operation at a time).
bool Await(grpc::CompletionQueue* cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
  if (cq->AsyncNext(&got, &ok, deadline) != grpc::CompletionQueue::GOT_EVENT) return false;
  EXPECT_EQ(got, tag);
  return ok;
}

// Opens a raw Ingest stream, optionally sends a Hello first, then garbage; returns the final status.
grpc::Status SendGarbage(const std::string& target, const TlsFiles& tls, const std::string& agent_id, bool hello) {
  auto creds = MakeChannelCredentials(tls);
  EXPECT_TRUE(creds.ok());
  grpc::GenericStub stub(grpc::CreateChannel(target, *creds));
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto call = stub.PrepareCall(&context, "/orgtrail.v1.Ingest/Stream", &cq);
  int tags[5];
  call->StartCall(&tags[0]);
  EXPECT_TRUE(Await(&cq, &tags[0]));
  if (hello) {
    v1::IngestRequest request;
    request.mutable_hello()->set_agent_id(agent_id);
    request.mutable_hello()->set_epoch(1);
    call->Write(Bytes(request.SerializeAsString()), &tags[1]);
    EXPECT_TRUE(Await(&cq, &tags[1]));
    grpc::ByteBuffer response;
    call->Read(&response, &tags[2]);
    EXPECT_TRUE(Await(&cq, &tags[2]));  // the HelloAck
  }
  call->Write(Bytes(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x0f garbage, not a protobuf", 35)),
              &tags[3]);
  Await(&cq, &tags[3]);
  grpc::Status status;
  call->Finish(&status, &tags[4]);
  // Responses not read are dropped; Finish completes with the server's status.
  void* got = nullptr;
  bool ok = false;
  while (cq.AsyncNext(&got, &ok, std::chrono::system_clock::now() + std::chrono::seconds(60)) ==
             grpc::CompletionQueue::GOT_EVENT &&
         got != &tags[4]) {
  }
  EXPECT_EQ(got, &tags[4]);
  return status;
}

TEST(IngestMalformedFrameTest, GarbageEndsTheStreamWithInvalidArgumentAndIsCounted) {
  TempDir dir("ingest-malformed");
  TestPki pki(dir.MakeSubdir("pki"));
  CollectorProcessOptions options;
  options.data_dir = dir.Join("data");
  options.log_dir = dir.MakeSubdir("logs");
  options.tls = pki.Collector();
  auto collector = CollectorProcess::Start(options);
  ASSERT_TRUE(collector.ok()) << collector.status();
  const TlsFiles tls = pki.Agent("111111111111", "us-east-1", "garbage");
  const std::string agent_id = AgentSpiffeId("example.org", "111111111111", "us-east-1", "garbage");

  for (bool hello : {false, true}) {
    grpc::Status status = SendGarbage((*collector)->target(), tls, agent_id, hello);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find("malformed_message"), std::string::npos) << status.error_message();
  }
  EXPECT_EQ((*collector)->MetricValue("orgtrail_collector_ingest_stream_ends_total{how=\"malformed\"}"), 2);
  EXPECT_EQ((*collector)->MetricValue("orgtrail_collector_batches_refused_total{rule=\"malformed_message\"}"), 2);
  EXPECT_NE((*collector)->process()->ReadLog().find("malformed_message"), std::string::npos);

  // A clean end is still a clean end: Hello, half-close -> OK, counted as half_close.
  auto client = IngestClient::Connect((*collector)->target(), tls, agent_id);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Hello().ok());
  EXPECT_TRUE((*client)->Finish().ok());
  EXPECT_TRUE(WaitFor([&] {
    return (*collector)->MetricValue("orgtrail_collector_ingest_stream_ends_total{how=\"half_close\"}") == 1;
  }, std::chrono::seconds(30)));
}

}  // namespace
}  // namespace orgtrail::testutil
