// InvestigationsService: the orgtrail.v1.Investigations gRPC service for
// auditor identities: Subscribe (live events matching a CloudWatch Logs
// filter pattern, resumable from a commit-index cursor) and Sql (SQLite over
// the store, sql_engine.h; handler in sql_service.cc).
//
// Subscribe follows the store's commit order (CommitFeed + NewCommitIterator):
// every message carries `cursor` = the last commit index scanned, so a client
// that resumes with it sees every matching event exactly once, across
// disconnects and collector restarts (commit indexes are durable). Events are
// sent in groups of up to 100 (or 1 MiB); an empty heartbeat carries the
// cursor forward at least every `heartbeat_us` while nothing matches.
// Errors: UNAUTHENTICATED / PERMISSION_DENIED (non-auditors, logged, counted),
// INVALID_ARGUMENT "filter_pattern: column N: ..." for a bad pattern,
// OUT_OF_RANGE for a cursor beyond the last commit, RESOURCE_EXHAUSTED beyond
// max_subscriptions concurrent streams, UNAVAILABLE when shutting down.
// Metrics: orgtrail_subscriptions_active, orgtrail_subscription_events_sent_total,
// orgtrail_investigation_requests_total{method,outcome}.
// Thread safety: handlers run concurrently on gRPC threads. Construct after
// the store is open and before ingest starts (the CommitFeed registers a
// commit listener); call Shutdown() before the gRPC server shuts down so
// open streams end promptly. store/logger/metrics must outlive the service.
#ifndef ORGTRAIL_COLLECTOR_QUERY_SUBSCRIBE_SERVICE_H_
#define ORGTRAIL_COLLECTOR_QUERY_SUBSCRIBE_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "collector/sql/sql_engine.h"
#include "collector/store/store.h"
#include "collector/store/commit_feed.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::collector {

struct InvestigationsOptions {
  std::string trust_domain;
  std::string home_region = "us-east-1";  // for awsregion pushdown in Sql
  int64_t heartbeat_us = 5000000;
  int max_subscriptions = 64;
  int max_concurrent_sql = 4;
  SqlLimits sql_limits;  // defaults and ceilings for Sql requests
};

class InvestigationsService final : public v1::Investigations::Service {
 public:
  InvestigationsService(EventStore* store, InvestigationsOptions options, Logger* logger, MetricsRegistry* metrics);
  ~InvestigationsService() override;

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::SubscribeResponse>* writer) override;
  grpc::Status Sql(grpc::ServerContext* context, const v1::SqlRequest* request, v1::SqlResponse* response) override;

  // Ends every open stream (UNAVAILABLE) and refuses new ones.
  void Shutdown();

 private:
  grpc::Status Authorize(const grpc::ServerContext& context, const char* method);
  void CountOutcome(const char* method, const grpc::Status& status);

  EventStore* store_;
  InvestigationsOptions options_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  CommitFeed feed_;
  SqlEngine sql_;
  std::atomic<int> active_subscriptions_{0};
  std::atomic<int> active_sql_{0};
  Gauge* active_gauge_;
  Counter* events_sent_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_QUERY_SUBSCRIBE_SERVICE_H_
