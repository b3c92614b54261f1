// PutEventsService: the agent's local orgtrail.v1.AgentApi (agent_api.proto),
// for services that report their own API calls.
//
// Per event: id 1-128 chars and unique in the request, optional checksum
// (hex SHA-256 of event_data) must match, then EventIntake::Prepare (valid
// JSON record, eventTime required, eventID assigned as UUIDv4 when missing,
// this agent's account and region), then trail selection. The accepted events
// of a request are written to the spool in ONE synced write before the RPC
// answers OK. Spool full: RESOURCE_EXHAUSTED, nothing kept, trailing metadata
// "retry-after-ms".
//
// Listeners: a Unix socket (mode 0660; access control = file permissions),
// and optionally a loopback TCP address (127.0.0.1 / [::1] only). No TLS on
// either: the API is local to the host.
//
// Thread safety: handlers run on gRPC's threads; each uses its own
// EventExtractor.
#ifndef ORGTRAIL_AGENT_PUT_EVENTS_SERVICE_H_
#define ORGTRAIL_AGENT_PUT_EVENTS_SERVICE_H_

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "orgtrail/agent/intake.h"
#include "orgtrail/agent/spool.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/v1/agent_api.grpc.pb.h"

namespace orgtrail::agent {

inline constexpr int kMaxEventsPerPut = 100;

class PutEventsService final : public v1::AgentApi::Service {
 public:
  PutEventsService(Spool* spool, EventIntake* intake, Logger* logger, MetricsRegistry* metrics,
                   std::function<void()> on_spooled = nullptr, int retry_after_ms = 1000);

  grpc::Status PutEvents(grpc::ServerContext* context, const v1::PutEventsRequest* request,
                         v1::PutEventsResponse* response) override;

 private:
  Spool* spool_;
  EventIntake* intake_;
  Logger* logger_;
  std::function<void()> on_spooled_;
  int retry_after_ms_;
  Counter* requests_;
  Counter* rejected_full_;
};

// Starts a gRPC server for the service on "unix:<path>" and, if tcp_address
// is non-empty, on that loopback address. INVALID_ARGUMENT for a non-loopback
// TCP address; UNAVAILABLE if binding fails. *tcp_port gets the bound port.
StatusOr<std::unique_ptr<grpc::Server>> StartAgentApiServer(PutEventsService* service,
                                                            const std::string& unix_socket_path,
                                                            const std::string& tcp_address,
                                                            int* tcp_port);

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_PUT_EVENTS_SERVICE_H_
