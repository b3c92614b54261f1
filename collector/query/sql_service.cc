// InvestigationsService::Sql: auditors run one read-only SELECT through the
// SqlEngine (sql_engine.h); at most max_concurrent_sql at a time.
#include "collector/query/subscribe_service.h"

namespace orgtrail::collector {

grpc::Status InvestigationsService::Sql(grpc::ServerContext* context, const v1::SqlRequest* request,
                                        v1::SqlResponse* response) {
  grpc::Status status = Authorize(*context, "Sql");
  if (!status.ok()) {
    CountOutcome("Sql", status);
    return status;
  }
  if (active_sql_.fetch_add(1) >= options_.max_concurrent_sql) {
    active_sql_.fetch_sub(1);
    status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "sql: too many concurrent queries (limit " + std::to_string(options_.max_concurrent_sql) + ")");
    CountOutcome("Sql", status);
    return status;
  }
  auto result = sql_.Execute(*request);
  active_sql_.fetch_sub(1);
  if (!result.ok()) {
    status = ToGrpcStatus(result.status());
    if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
      logger_->Warn("sql query failed", {{"error", result.status().ToString()}});
    }
    CountOutcome("Sql", status);
    return status;
  }
  *response = std::move(*result);
  CountOutcome("Sql", grpc::Status::OK);
  return grpc::Status::OK;
}

}  // namespace orgtrail::collector
