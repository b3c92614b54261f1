// QueryService: the orgtrail.v1.Query gRPC service (LookupEvents, GetEvent)
// for auditor identities only.
//
// Authorization: the caller's identity comes from its verified client
// certificate (common/tls.h PeerIdentity, SPIFFE rules, the collector's trust
// domain). Only Role::kAuditor may query: agents, admins and collectors get
// PERMISSION_DENIED; a call without a verified certificate UNAUTHENTICATED.
// Query semantics and errors: query_engine.h / query_request.h.
//
// Metrics (registered on the MetricsRegistry given at construction):
//   orgtrail_query_requests_total{method,outcome}   outcome = ok | <Exception> | denied | error
//   orgtrail_query_latency_seconds{method}
//   orgtrail_query_events_returned_total, orgtrail_query_index_steps_total,
//   orgtrail_query_records_fetched_total
// Logs: one JSON line per refused or failed call (never per successful call).
//
// Thread-safe: handlers run concurrently on gRPC's threads; the engine keeps
// no per-call state. The store, logger and metrics registry must outlive it.
#ifndef ORGTRAIL_COLLECTOR_QUERY_QUERY_SERVICE_H_
#define ORGTRAIL_COLLECTOR_QUERY_QUERY_SERVICE_H_

#include <memory>
#include <string>

#include "collector/query/query_engine.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/revocation.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::collector {

class EventStore;

class QueryService final : public v1::Query::Service {
 public:
  // trust_domain: the organization (the peer's SPIFFE trust domain must match).
  static StatusOr<std::unique_ptr<QueryService>> Create(EventStore* store,
                                                        std::string trust_domain,
                                                        Logger* logger,
                                                        MetricsRegistry* metrics);
  // Revoked callers are refused PERMISSION_DENIED "certificate_revoked: ..."
  // (call before the server starts; empty: no check).
  void SetRevocationCheck(RevocationCheck check) { revoked_ = std::move(check); }

  grpc::Status LookupEvents(grpc::ServerContext* context, const v1::LookupEventsRequest* request,
                            v1::LookupEventsResponse* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                        v1::GetEventResponse* response) override;
  grpc::Status ListConflicts(grpc::ServerContext* context, const v1::ListConflictsRequest* request,
                             v1::ListConflictsResponse* response) override;
  grpc::Status ListRefused(grpc::ServerContext* context, const v1::ListRefusedRequest* request,
                           v1::ListRefusedResponse* response) override;

 private:
  QueryService(std::unique_ptr<QueryEngine> engine, std::string trust_domain, Logger* logger,
               MetricsRegistry* metrics);
  // OK for auditors; PERMISSION_DENIED / UNAUTHENTICATED otherwise (logged, counted).
  grpc::Status Authorize(const grpc::ServerContext& context, const char* method);
  void CountOutcome(const char* method, const grpc::Status& status);

  std::unique_ptr<QueryEngine> engine_;
  std::string trust_domain_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  RevocationCheck revoked_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_QUERY_QUERY_SERVICE_H_
