// InvestigationsService: authorization and Subscribe (subscribe_service.h).
// The Sql handler is in sql_service.cc.
#include "collector/query/subscribe_service.h"

#include <chrono>

#include "orgtrail/common/filter_pattern.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::collector {

namespace {

constexpr int kMaxEventsPerMessage = 100;
constexpr size_t kMaxBytesPerMessage = 1u << 20;

const char* SubscribeOutcomeOf(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK: return "ok";
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED: return "denied";
    case grpc::StatusCode::INVALID_ARGUMENT: return "invalid";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "timeout";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "limit";
    default: return "error";
  }
}

}  // namespace

InvestigationsService::InvestigationsService(EventStore* store, InvestigationsOptions options, Logger* logger,
                                             MetricsRegistry* metrics)
    : store_(store),
      options_(std::move(options)),
      logger_(logger),
      metrics_(metrics),
      feed_(store),
      sql_(store, options_.home_region, options_.sql_limits),
      active_gauge_(metrics->GetGauge("orgtrail_subscriptions_active", "Open Subscribe streams")),
      events_sent_(metrics->GetCounter("orgtrail_subscription_events_sent_total", "Events sent to subscribers")) {}

InvestigationsService::~InvestigationsService() { Shutdown(); }

void InvestigationsService::Shutdown() { feed_.Shutdown(); }

grpc::Status InvestigationsService::Authorize(const grpc::ServerContext& context, const char* method) {
  auto identity = PeerIdentity(context, options_.trust_domain);
  if (!identity.ok()) {
    logger_->Warn("investigation refused", {{"method", method}, {"peer", context.peer()},
                                            {"reason", std::string(identity.status().message())}});
    return ToGrpcStatus(identity.status());
  }
  if (!identity->may_query()) {
    logger_->Warn("investigation refused", {{"method", method},
                                            {"identity", identity->spiffe_id},
                                            {"role", RoleName(identity->role)},
                                            {"reason", "only auditor identities may investigate"}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "only auditor identities may investigate; " + identity->spiffe_id + " is a " +
                            std::string(RoleName(identity->role)) + " identity");
  }
  return grpc::Status::OK;
}

void InvestigationsService::CountOutcome(const char* method, const grpc::Status& status) {
  metrics_->GetCounter("orgtrail_investigation_requests_total", "Investigations RPCs by method and outcome",
                       {{"method", method}, {"outcome", SubscribeOutcomeOf(status)}})
      ->Increment();
}

grpc::Status InvestigationsService::Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                                              grpc::ServerWriter<v1::SubscribeResponse>* writer) {
  grpc::Status auth = Authorize(*context, "Subscribe");
  if (!auth.ok()) {
    CountOutcome("Subscribe", auth);
    return auth;
  }
  auto pattern = FilterPattern::Parse(request->filter_pattern());
  if (!pattern.ok()) {
    grpc::Status status(grpc::StatusCode::INVALID_ARGUMENT,
                        "filter_pattern: " + std::string(pattern.status().message()));
    CountOutcome("Subscribe", status);
    return status;
  }
  uint64_t cursor = request->has_cursor() ? request->cursor() : feed_.last();
  if (cursor > feed_.last()) {
    grpc::Status status(grpc::StatusCode::OUT_OF_RANGE, "cursor " + std::to_string(cursor) +
                                                            " is beyond the last commit index " +
                                                            std::to_string(feed_.last()));
    CountOutcome("Subscribe", status);
    return status;
  }
  if (active_subscriptions_.fetch_add(1) >= options_.max_subscriptions) {
    active_subscriptions_.fetch_sub(1);
    grpc::Status status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "too many open subscriptions (limit " + std::to_string(options_.max_subscriptions) + ")");
    CountOutcome("Subscribe", status);
    return status;
  }
  active_gauge_->Add(1);
  CountOutcome("Subscribe", grpc::Status::OK);

  FilterEvaluator evaluator;
  auto last_sent = std::chrono::steady_clock::now();
  bool client_gone = false;
  // Sends what is accumulated (or a heartbeat) with the cursor reached.
  auto flush = [&](v1::SubscribeResponse* response, uint64_t reached) {
    response->set_cursor(reached);
    if (!writer->Write(*response)) client_gone = true;
    events_sent_->Increment(static_cast<uint64_t>(response->events_size()));
    response->Clear();
    last_sent = std::chrono::steady_clock::now();
  };
  // The client learns its starting cursor at once.
  {
    v1::SubscribeResponse hello;
    flush(&hello, cursor);
  }
  while (!client_gone && !context->IsCancelled() && !feed_.shut_down()) {
    auto wait_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
    uint64_t last = feed_.WaitBeyond(cursor, wait_until);
    v1::SubscribeResponse response;
    size_t bytes = 0;
    if (last > cursor) {
      auto it = store_->NewCommitIterator(cursor + 1);
      for (; it->Valid() && it->commit_index() <= last && !client_gone; it->Next()) {
        uint64_t index = it->commit_index();
        auto stored = store_->GetEventByKey(it->event_key());
        if (stored.ok() && stored->has_value() && evaluator.Load((*stored)->raw_json).ok() &&
            evaluator.Matches(*pattern)) {
          const StoredEvent& event = **stored;
          v1::SubscribedEvent* out = response.add_events();
          out->set_commit_index(index);
          out->set_event_id(event.key.event_id);
          out->set_cloudtrail_event(event.raw_json);
          *out->mutable_meta() = event.meta;
          bytes += event.raw_json.size() + 256;
        }
        cursor = index;
        if (response.events_size() >= kMaxEventsPerMessage || bytes >= kMaxBytesPerMessage) {
          flush(&response, cursor);
          bytes = 0;
        }
      }
      if (!it->status().ok()) {
        logger_->Error("subscribe: commit iteration failed", {{"error", it->status().ToString()}});
        break;
      }
      if (!client_gone) cursor = std::max(cursor, last);
    }
    bool heartbeat_due = std::chrono::steady_clock::now() - last_sent >= std::chrono::microseconds(options_.heartbeat_us);
    if (!client_gone && (response.events_size() > 0 || heartbeat_due)) flush(&response, cursor);
  }
  active_subscriptions_.fetch_sub(1);
  active_gauge_->Add(-1);
  if (feed_.shut_down() && !context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "collector shutting down; resume from cursor " + std::to_string(cursor));
  }
  return grpc::Status::OK;
}

}  // namespace orgtrail::collector
