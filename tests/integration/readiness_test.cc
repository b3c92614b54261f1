// /readyz of the real daemons (orgtrail/common/readiness.h): the agent's turns red when it has
// had no collector for its grace period and green again when one is back, while /healthz
// (liveness) stays green; the collector's names its failing check (free disk space here; the
// fail-stop case is in collector_durability_test.cc), and its grpc.health.v1 service over mTLS
// answers from the same checks.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "agent_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace orgtrail::testutil {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

grpc::Status CheckHealth(AgentHarness* h, const std::string& service, HealthCheckResponse* response) {
  auto stub = grpc::health::v1::Health::NewStub(h->Channel(h->pki().Auditor("prober")));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  HealthCheckRequest request;
  request.set_service(service);
  return stub->Check(&context, request, response);
}

bool Ready(int port, std::string* body) {
  auto r = HttpGet("127.0.0.1", port, "/readyz", std::chrono::seconds(5));
  if (!r.ok()) return false;
  *body = r->body;
  return r->status == 200;
}

TEST(ReadinessTest, AgentIsReadyOnlyWithACollectorAndStaysAlive) {
  AgentHarness h;
  AgentProcess* agent = h.StartAgent("ready", "111122223333", "us-east-1", {"--ready-collector-grace=1s"});
  ASSERT_NE(agent->ops_port, 0);
  std::string body;
  const auto collector_down = [&] {
    return !Ready(agent->ops_port, &body) &&
           body.find("{\"name\":\"collector\",\"ok\":false,\"reason\":\"no collector connection") != std::string::npos;
  };
  ASSERT_TRUE(WaitFor(collector_down, std::chrono::seconds(30))) << body;
  auto health = HttpGet("127.0.0.1", agent->ops_port, "/healthz", std::chrono::seconds(5));
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200) << "not ready is still alive";

  h.StartCollector();
  ASSERT_TRUE(WaitFor([&] { return Ready(agent->ops_port, &body); }, std::chrono::seconds(60))) << body;
  EXPECT_NE(body.find("{\"name\":\"dead_letters\",\"ok\":true}"), std::string::npos) << body;

  h.StopCollector();
  ASSERT_TRUE(WaitFor(collector_down, std::chrono::seconds(60))) << body;
  h.StartCollector();
  ASSERT_TRUE(WaitFor([&] { return Ready(agent->ops_port, &body); }, std::chrono::seconds(60))) << body;
}

TEST(ReadinessTest, CollectorNamesTheFailingCheck) {
  AgentHarness h;
  h.StartCollector({"--min-free-disk=1000000TiB"});
  const int port = static_cast<int>(PortFromLog(h.collector()->ReadStderr(), "collector listening", "http_port").value_or(0));
  std::string body;
  EXPECT_FALSE(Ready(port, &body));
  EXPECT_NE(body.find("{\"name\":\"disk\",\"ok\":false,\"reason\":\""), std::string::npos) << body;
  EXPECT_NE(body.find("{\"name\":\"committer\",\"ok\":true}"), std::string::npos) << body;
  EXPECT_NE(body.find("{\"name\":\"export\",\"ok\":true}"), std::string::npos) << body;
  EXPECT_NE(body.find("{\"name\":\"merkle_log\",\"ok\":true}"), std::string::npos) << body;
  auto health = HttpGet("127.0.0.1", port, "/healthz", std::chrono::seconds(5));
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);

  HealthCheckResponse response;
  grpc::Status status = CheckHealth(&h, "", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(&h, "orgtrail.v1.Nothing", &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(ReadinessTest, CollectorGrpcHealthServesAndWatches) {
  AgentHarness h;
  h.StartCollector();
  HealthCheckResponse response;
  grpc::Status status = CheckHealth(&h, "", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  {
    auto stub = grpc::health::v1::Health::NewStub(h.Channel(h.pki().Auditor("watcher")));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto reader = stub->Watch(&context, HealthCheckRequest());
    ASSERT_TRUE(reader->Read(&response));
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
    context.TryCancel();
    while (reader->Read(&response)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  h.StopCollector();
  EXPECT_EQ(h.collector(), nullptr);
}

}  // namespace
}  // namespace orgtrail::testutil
