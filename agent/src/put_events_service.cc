// Local PutEvents API (see put_events_service.h).
#include "orgtrail/agent/put_events_service.h"

#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "orgtrail/common/config.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/hash.h"

namespace orgtrail::agent {
namespace {

void Fail(v1::PutEventsResponse* response, const std::string& id, const std::string& code,
          const std::string& message) {
  auto* failed = response->add_failed();
  failed->set_id(id);
  failed->set_error_code(code);
  failed->set_error_message(message);
}

// `rule` is the acceptance rule that refused the event (common/event_acceptance.h), if any.
std::string ErrorCodeOf(const Status& status, const std::string& rule) {
  if (rule == "recipient_account_mismatch") return "AccountMismatch";
  if (rule == "region_mismatch") return "RegionMismatch";
  if (rule == "invalid_region") return "InvalidRegion";
  if (rule == "event_id_invalid") return "InvalidEventId";
  if (rule == "older_than_retention") return "OlderThanRetention";
  if (rule == "event_too_large") return "EventTooLarge";
  const std::string message(status.message());
  if (message.find("too large") != std::string::npos) return "EventTooLarge";
  if (message.find("eventTime") != std::string::npos) {
    return message.find("missing") != std::string::npos ||
                   message.find("required") != std::string::npos
               ? "MissingEventTime"
               : "InvalidEventTime";
  }
  return "InvalidJson";
}

}  // namespace

PutEventsService::PutEventsService(Spool* spool, EventIntake* intake, Logger* logger,
                                   MetricsRegistry* metrics, std::function<void()> on_spooled,
                                   int retry_after_ms)
    : spool_(spool),
      intake_(intake),
      logger_(logger),
      on_spooled_(std::move(on_spooled)),
      retry_after_ms_(retry_after_ms),
      requests_(metrics->GetCounter("orgtrail_agent_put_events_requests_total",
                                    "PutEvents calls received")),
      rejected_full_(metrics->GetCounter("orgtrail_agent_put_events_spool_full_total",
                                         "PutEvents calls refused because the spool was full")) {}

grpc::Status PutEventsService::PutEvents(grpc::ServerContext* context,
                                         const v1::PutEventsRequest* request,
                                         v1::PutEventsResponse* response) {
  requests_->Increment();
  if (request->audit_events_size() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "audit_events: at least one event required");
  }
  if (request->audit_events_size() > kMaxEventsPerPut) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "audit_events: at most " + std::to_string(kMaxEventsPerPut) +
                            " events per call, got " + std::to_string(request->audit_events_size()));
  }
  EventExtractor extractor;
  std::set<std::string> ids;
  std::vector<v1::Event> accepted;
  std::vector<std::pair<std::string, std::string>> accepted_ids;  // (caller id, eventID)
  for (const auto& audit_event : request->audit_events()) {
    const std::string& id = audit_event.id();
    intake_->events_read()->Increment();
    if (id.empty() || id.size() > 128) {
      intake_->events_refused("invalid")->Increment();
      Fail(response, id.substr(0, 128), "InvalidId", "id must be 1-128 characters");
      continue;
    }
    if (!ids.insert(id).second) {
      intake_->events_refused("invalid")->Increment();
      Fail(response, id, "DuplicateId", "id '" + id + "' appears more than once in the request");
      continue;
    }
    if (!audit_event.event_data_checksum().empty() &&
        audit_event.event_data_checksum() != HexEncode(Sha256(audit_event.event_data()))) {
      intake_->events_refused("invalid")->Increment();
      Fail(response, id, "ChecksumMismatch",
           "event_data_checksum is not the SHA-256 of event_data");
      continue;
    }
    std::string rule;
    auto event = intake_->Prepare(audit_event.event_data(), &extractor, &rule);
    if (!event.ok()) {
      intake_->events_refused(absl::IsPermissionDenied(event.status()) ? "not_this_agent" : "invalid")
          ->Increment();
      Fail(response, id, ErrorCodeOf(event.status(), rule), std::string(event.status().message()));
      continue;
    }
    if (!intake_->Selected(*event)) {
      intake_->events_unselected()->Increment();
      Fail(response, id, "NotSelected",
           "no trail selects this event (eventID " + event->event_id() + "); it was not recorded");
      continue;
    }
    accepted_ids.emplace_back(id, event->event_id());
    accepted.push_back(std::move(*event));
  }
  if (!accepted.empty()) {
    const Status written = spool_->AppendEvents(accepted, {});
    if (absl::IsResourceExhausted(written)) {
      rejected_full_->Increment();
      context->AddTrailingMetadata("retry-after-ms", std::to_string(retry_after_ms_));
      response->Clear();
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          std::string(written.message()) + " (retry after " +
                              std::to_string(retry_after_ms_) + " ms)");
    }
    if (!written.ok()) {
      logger_->Error("PutEvents spool write failed", {{"error", written.ToString()}});
      response->Clear();
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "spool write failed: " + std::string(written.message()));
    }
    intake_->events_selected()->Increment(accepted.size());
    if (on_spooled_) on_spooled_();
  }
  for (const auto& [id, event_id] : accepted_ids) {
    auto* ok = response->add_successful();
    ok->set_id(id);
    ok->set_event_id(event_id);
  }
  return grpc::Status::OK;
}

StatusOr<std::unique_ptr<grpc::Server>> StartAgentApiServer(PutEventsService* service,
                                                            const std::string& unix_socket_path,
                                                            const std::string& tcp_address,
                                                            int* tcp_port) {
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(128 << 20);
  if (!unix_socket_path.empty()) {
    ::unlink(unix_socket_path.c_str());
    builder.AddListeningPort("unix:" + unix_socket_path, grpc::InsecureServerCredentials());
  }
  int bound = 0;
  if (!tcp_address.empty()) {
    auto host_port = ParseHostPort("--api-listen", tcp_address);
    if (!host_port.ok()) return host_port.status();
    if (host_port->host != "127.0.0.1" && host_port->host != "::1" &&
        host_port->host != "[::1]" && host_port->host != "localhost") {
      return absl::InvalidArgumentError("--api-listen: the local API listens on loopback only, got '" +
                                        tcp_address + "'");
    }
    builder.AddListeningPort(tcp_address, grpc::InsecureServerCredentials(), &bound);
  }
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return absl::UnavailableError("cannot start the local API on '" + unix_socket_path + "' / '" +
                                  tcp_address + "'");
  }
  if (!tcp_address.empty() && bound == 0) {
    server->Shutdown();
    return absl::UnavailableError("cannot bind --api-listen " + tcp_address);
  }
  if (!unix_socket_path.empty()) ::chmod(unix_socket_path.c_str(), 0660);
  if (tcp_port != nullptr) *tcp_port = bound;
  return server;
}

}  // namespace orgtrail::agent
