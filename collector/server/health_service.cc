#include "collector/server/health_service.h"

#include <chrono>

namespace orgtrail::collector {

using grpc::health::v1::HealthCheckResponse;

HealthCheckResponse::ServingStatus HealthService::Status() const {
  return readiness_->Evaluate().status == 200 ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

void HealthService::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

grpc::Status HealthService::Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  if (!request->service().empty()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service (the collector answers for \"\")");
  }
  response->set_status(Status());
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* context, const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::ServerWriter<HealthCheckResponse>* writer) {
  HealthCheckResponse response;
  bool first = true;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_ && !context->IsCancelled()) {
    lock.unlock();
    const auto status = request->service().empty() ? Status() : HealthCheckResponse::SERVICE_UNKNOWN;
    if (first || status != response.status()) {
      response.set_status(status);
      if (!writer->Write(response)) return grpc::Status(grpc::StatusCode::CANCELLED, "watch ended");
      first = false;
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(watch_interval_ms_), [this] { return stop_; });
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "watch ended");
}

}  // namespace orgtrail::collector
