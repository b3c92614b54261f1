#include "collector/query/query_service.h"

#include <chrono>

#include "orgtrail/common/tls.h"

namespace orgtrail::collector {
namespace {

// "InvalidTimeRangeException" from "InvalidTimeRangeException: ...", else "error".
std::string OutcomeOf(const grpc::Status& status) {
  if (status.ok()) return "ok";
  if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
      status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    return "denied";
  }
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return "not_found";
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    const std::string& message = status.error_message();
    const size_t colon = message.find(':');
    if (colon != std::string::npos && colon > 9 &&
        message.compare(colon - 9, 9, "Exception") == 0) {
      return message.substr(0, colon);
    }
    return "invalid_argument";
  }
  return "error";
}

}  // namespace

StatusOr<std::unique_ptr<QueryService>> QueryService::Create(EventStore* store,
                                                             std::string trust_domain,
                                                             Logger* logger,
                                                             MetricsRegistry* metrics) {
  if (store == nullptr || logger == nullptr || metrics == nullptr) {
    return absl::InvalidArgumentError("QueryService needs a store, a logger and a metrics registry");
  }
  auto engine = QueryEngine::Create(store);
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<QueryService>(
      new QueryService(std::move(*engine), std::move(trust_domain), logger, metrics));
}

QueryService::QueryService(std::unique_ptr<QueryEngine> engine, std::string trust_domain,
                           Logger* logger, MetricsRegistry* metrics)
    : engine_(std::move(engine)),
      trust_domain_(std::move(trust_domain)),
      logger_(logger),
      metrics_(metrics) {}

grpc::Status QueryService::Authorize(const grpc::ServerContext& context, const char* method) {
  auto identity = PeerIdentity(context, trust_domain_);
  if (!identity.ok()) {
    const std::string peer = context.peer();
    const std::string reason(identity.status().message());
    logger_->Warn("query refused", {{"method", method}, {"peer", peer}, {"reason", reason}});
    if (identity.status().code() == absl::StatusCode::kUnauthenticated) {
      return ToGrpcStatus(identity.status());
    }
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "the client certificate is not an orgtrail identity: " + reason);
  }
  if (revoked_) {
    if (std::optional<std::string> why = revoked_(PeerCertificatePem(context))) {
      logger_->Warn("query refused", {{"method", method}, {"identity", identity->spiffe_id},
                                      {"reason", "certificate_revoked"}, {"detail", *why}});
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "certificate_revoked: " + *why);
    }
  }
  if (!identity->may_query()) {
    logger_->Warn("query refused", {{"method", method},
                                    {"identity", identity->spiffe_id},
                                    {"role", RoleName(identity->role)},
                                    {"reason", "only auditor identities may query"}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        std::string("only auditor identities may query; ") + identity->spiffe_id +
                            " is a " + std::string(RoleName(identity->role)) + " identity");
  }
  return grpc::Status::OK;
}

void QueryService::CountOutcome(const char* method, const grpc::Status& status) {
  metrics_
      ->GetCounter("orgtrail_query_requests_total", "Query RPCs by method and outcome",
                   {{"method", method}, {"outcome", OutcomeOf(status)}})
      ->Increment();
  if (!status.ok() && status.error_code() != grpc::StatusCode::INVALID_ARGUMENT &&
      status.error_code() != grpc::StatusCode::NOT_FOUND &&
      status.error_code() != grpc::StatusCode::PERMISSION_DENIED &&
      status.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
    logger_->Error("query failed", {{"method", method},
                                    {"code", static_cast<int>(status.error_code())},
                                    {"error", status.error_message()}});
  }
}

grpc::Status QueryService::LookupEvents(grpc::ServerContext* context,
                                        const v1::LookupEventsRequest* request,
                                        v1::LookupEventsResponse* response) {
  const auto started = std::chrono::steady_clock::now();
  grpc::Status status = Authorize(*context, "LookupEvents");
  if (status.ok()) {
    LookupStats stats;
    auto result = engine_->LookupEvents(*request, &stats);
    if (result.ok()) {
      *response = std::move(*result);
      metrics_->GetCounter("orgtrail_query_events_returned_total", "Events returned by LookupEvents")
          ->Increment(response->events_size());
    } else {
      status = ToGrpcStatus(result.status());
    }
    metrics_->GetCounter("orgtrail_query_index_steps_total",
                         "RocksDB iterator seeks and nexts made by LookupEvents")
        ->Increment(stats.cursor.steps());
    metrics_->GetCounter("orgtrail_query_records_fetched_total",
                         "Records read and re-extracted by LookupEvents")
        ->Increment(stats.records_fetched);
  }
  CountOutcome("LookupEvents", status);
  metrics_->GetHistogram("orgtrail_query_latency_seconds", "Query RPC latency",
                         {{"method", "LookupEvents"}})
      ->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return status;
}

grpc::Status QueryService::GetEvent(grpc::ServerContext* context,
                                    const v1::GetEventRequest* request,
                                    v1::GetEventResponse* response) {
  const auto started = std::chrono::steady_clock::now();
  grpc::Status status = Authorize(*context, "GetEvent");
  if (status.ok()) {
    auto result = engine_->GetEvent(*request);
    if (result.ok()) {
      *response = std::move(*result);
    } else {
      status = ToGrpcStatus(result.status());
    }
  }
  CountOutcome("GetEvent", status);
  metrics_->GetHistogram("orgtrail_query_latency_seconds", "Query RPC latency",
                         {{"method", "GetEvent"}})
      ->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return status;
}

grpc::Status QueryService::ListConflicts(grpc::ServerContext* context, const v1::ListConflictsRequest* request,
                                         v1::ListConflictsResponse* response) {
  grpc::Status status = Authorize(*context, "ListConflicts");
  if (status.ok()) {
    auto result = engine_->ListConflicts(*request);
    if (result.ok()) {
      *response = std::move(*result);
    } else {
      status = ToGrpcStatus(result.status());
    }
  }
  CountOutcome("ListConflicts", status);
  return status;
}

grpc::Status QueryService::ListRefused(grpc::ServerContext* context, const v1::ListRefusedRequest* request,
                                       v1::ListRefusedResponse* response) {
  grpc::Status status = Authorize(*context, "ListRefused");
  if (status.ok()) {
    auto result = engine_->ListRefused(*request);
    if (result.ok()) {
      *response = std::move(*result);
    } else {
      status = ToGrpcStatus(result.status());
    }
  }
  CountOutcome("ListRefused", status);
  return status;
}

}  // namespace orgtrail::collector
