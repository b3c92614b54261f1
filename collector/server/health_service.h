// The standard gRPC health service (grpc.health.v1.Health) on the collector's
// gRPC port, answering from the same checks as /readyz: SERVING while every
// readiness check passes, NOT_SERVING otherwise. Service name "" is the whole
// collector; any other name is NOT_FOUND (Check) or SERVICE_UNKNOWN (Watch).
// Watch sends the status at once and then on every change (checked each
// watch_interval_ms) until the caller cancels or Stop() is called. (A client
// that keeps a Watch open through a graceful stop still holds the gRPC
// server's shutdown to its 5 s deadline, as an open ingest stream does.)
// Any authenticated caller may ask (the port requires an organization
// certificate). Thread-safe; the readiness must outlive the service.
#ifndef ORGTRAIL_COLLECTOR_SERVER_HEALTH_SERVICE_H_
#define ORGTRAIL_COLLECTOR_SERVER_HEALTH_SERVICE_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "grpc/health/v1/health.grpc.pb.h"
#include "orgtrail/common/readiness.h"

namespace orgtrail::collector {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  explicit HealthService(const Readiness* readiness, int64_t watch_interval_ms = 1000)
      : readiness_(readiness), watch_interval_ms_(watch_interval_ms) {}

  grpc::Status Check(grpc::ServerContext* context, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

  // Ends open Watch streams (before the gRPC server shuts down).
  void Stop();

 private:
  grpc::health::v1::HealthCheckResponse::ServingStatus Status() const;

  const Readiness* readiness_;
  const int64_t watch_interval_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SERVER_HEALTH_SERVICE_H_
