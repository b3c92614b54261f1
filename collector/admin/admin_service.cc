#include "collector/admin/admin_service.h"

#include "collector/admin/online_backup.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::collector {
namespace {

constexpr size_t kMaxNameBytes = 2048;

Status CheckName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("InvalidTrailNameException: trail name is required");
  if (name.size() > kMaxNameBytes) return absl::InvalidArgumentError("InvalidTrailNameException: name too long");
  return Status();
}

}  // namespace

AdminService::AdminService(AdminServiceOptions options, EventStore* store, TrailManager* trails, Logger* logger)
    : options_(std::move(options)), store_(store), trails_(trails), logger_(logger) {}

StatusOr<Identity> AdminService::Authorize(grpc::ServerContext* context, std::string_view rpc) {
  StatusOr<Identity> caller = PeerIdentity(*context, options_.trust_domain);
  if (!caller.ok()) {
    logger_->Warn("admin call refused", {{"rpc", rpc}, {"peer", context->peer()}, {"error", caller.status().ToString()}});
    return caller.status();
  }
  if (options_.revoked) {
    if (std::optional<std::string> why = options_.revoked(PeerCertificatePem(*context))) {
      logger_->Warn("admin call refused", {{"rpc", rpc}, {"caller", caller->spiffe_id}, {"rule", "certificate_revoked"},
                                           {"detail", *why}});
      return absl::PermissionDeniedError("certificate_revoked: " + *why);
    }
  }
  if (!caller->may_administer()) {
    logger_->Warn("admin call refused", {{"rpc", rpc}, {"caller", caller->spiffe_id}, {"rule", "not_an_admin"}});
    return absl::PermissionDeniedError(std::string(RoleName(caller->role)) + " identity " + caller->spiffe_id +
                                       " may not call orgtrail.v1.Admin");
  }
  return caller;
}

grpc::Status AdminService::Finish(std::string_view rpc, const Identity& caller, const Status& status) {
  if (status.ok()) {
    logger_->Info("admin call", {{"rpc", rpc}, {"caller", caller.spiffe_id}});
  } else {
    logger_->Warn("admin call failed", {{"rpc", rpc}, {"caller", caller.spiffe_id}, {"error", status.ToString()}});
  }
  return ToGrpcStatus(status);
}

#define ORGTRAIL_AUTHORIZE(rpc)                             \
  StatusOr<Identity> caller = Authorize(context, rpc);      \
  if (!caller.ok()) return ToGrpcStatus(caller.status())

grpc::Status AdminService::CreateTrail(grpc::ServerContext* context, const v1::CreateTrailRequest* request,
                                       v1::TrailResponse* response) {
  ORGTRAIL_AUTHORIZE("CreateTrail");
  auto trail = trails_->Create(request->trail(), *caller);
  if (trail.ok()) *response->mutable_trail() = *trail;
  return Finish("CreateTrail", *caller, trail.status());
}

grpc::Status AdminService::UpdateTrail(grpc::ServerContext* context, const v1::UpdateTrailRequest* request,
                                       v1::TrailResponse* response) {
  ORGTRAIL_AUTHORIZE("UpdateTrail");
  auto trail = trails_->Update(request->trail(), *caller);
  if (trail.ok()) *response->mutable_trail() = *trail;
  return Finish("UpdateTrail", *caller, trail.status());
}

grpc::Status AdminService::DeleteTrail(grpc::ServerContext* context, const v1::TrailNameRequest* request,
                                       v1::DeleteTrailResponse*) {
  ORGTRAIL_AUTHORIZE("DeleteTrail");
  Status s = CheckName(request->name());
  if (s.ok()) s = trails_->Delete(request->name(), *caller);
  return Finish("DeleteTrail", *caller, s);
}

grpc::Status AdminService::GetTrail(grpc::ServerContext* context, const v1::TrailNameRequest* request,
                                    v1::TrailResponse* response) {
  ORGTRAIL_AUTHORIZE("GetTrail");
  Status s = CheckName(request->name());
  if (s.ok()) {
    auto trail = trails_->Get(request->name(), *caller);
    if (trail.ok()) *response->mutable_trail() = *trail;
    s = trail.status();
  }
  return Finish("GetTrail", *caller, s);
}

grpc::Status AdminService::DescribeTrails(grpc::ServerContext* context, const v1::DescribeTrailsRequest* request,
                                          v1::DescribeTrailsResponse* response) {
  ORGTRAIL_AUTHORIZE("DescribeTrails");
  if (request->names_size() > 100) {
    return Finish("DescribeTrails", *caller, absl::InvalidArgumentError("InvalidParameterException: at most 100 names"));
  }
  auto trails = trails_->Describe({request->names().begin(), request->names().end()}, *caller);
  if (trails.ok()) {
    for (auto& t : *trails) *response->add_trails() = std::move(t);
  }
  return Finish("DescribeTrails", *caller, trails.status());
}

grpc::Status AdminService::PutEventSelectors(grpc::ServerContext* context, const v1::PutEventSelectorsRequest* request,
                                             v1::GetEventSelectorsResponse* response) {
  ORGTRAIL_AUTHORIZE("PutEventSelectors");
  Status s = CheckName(request->trail_name());
  if (s.ok()) {
    auto trail = trails_->PutEventSelectors(*request, *caller);
    if (trail.ok()) {
      response->set_trail_arn(trail->trail_arn());
      *response->mutable_event_selectors() = trail->event_selectors();
      *response->mutable_advanced_event_selectors() = trail->advanced_event_selectors();
    }
    s = trail.status();
  }
  return Finish("PutEventSelectors", *caller, s);
}

grpc::Status AdminService::GetEventSelectors(grpc::ServerContext* context, const v1::TrailNameRequest* request,
                                             v1::GetEventSelectorsResponse* response) {
  ORGTRAIL_AUTHORIZE("GetEventSelectors");
  Status s = CheckName(request->name());
  if (s.ok()) {
    auto trail = trails_->Get(request->name(), *caller);
    if (trail.ok()) {
      response->set_trail_arn(trail->trail_arn());
      *response->mutable_event_selectors() = trail->event_selectors();
      *response->mutable_advanced_event_selectors() = trail->advanced_event_selectors();
    }
    s = trail.status();
  }
  return Finish("GetEventSelectors", *caller, s);
}

grpc::Status AdminService::PutInsightSelectors(grpc::ServerContext* context,
                                               const v1::PutInsightSelectorsRequest* request,
                                               v1::GetInsightSelectorsResponse* response) {
  ORGTRAIL_AUTHORIZE("PutInsightSelectors");
  Status s = CheckName(request->trail_name());
  if (s.ok()) {
    auto trail = trails_->PutInsightSelectors(*request, *caller);
    if (trail.ok()) {
      response->set_trail_arn(trail->trail_arn());
      *response->mutable_insight_selectors() = trail->insight_selectors();
    }
    s = trail.status();
  }
  return Finish("PutInsightSelectors", *caller, s);
}

// As CloudTrail: a trail without Insights answers InsightNotEnabledException.
grpc::Status AdminService::GetInsightSelectors(grpc::ServerContext* context, const v1::TrailNameRequest* request,
                                               v1::GetInsightSelectorsResponse* response) {
  ORGTRAIL_AUTHORIZE("GetInsightSelectors");
  Status s = CheckName(request->name());
  if (s.ok()) {
    auto trail = trails_->Get(request->name(), *caller);
    if (trail.ok() && trail->insight_selectors().empty()) {
      s = absl::FailedPreconditionError("InsightNotEnabledException: trail " + trail->name() +
                                        " has no Insights enabled (put-insight-selectors)");
    } else if (trail.ok()) {
      response->set_trail_arn(trail->trail_arn());
      *response->mutable_insight_selectors() = trail->insight_selectors();
    } else {
      s = trail.status();
    }
  }
  return Finish("GetInsightSelectors", *caller, s);
}

grpc::Status AdminService::StartLogging(grpc::ServerContext* context, const v1::TrailNameRequest* request,
                                        v1::LoggingResponse*) {
  ORGTRAIL_AUTHORIZE("StartLogging");
  Status s = CheckName(request->name());
  if (s.ok()) s = trails_->SetLogging(request->name(), true, *caller);
  return Finish("StartLogging", *caller, s);
}

grpc::Status AdminService::StopLogging(grpc::ServerContext* context, const v1::TrailNameRequest* request,
                                       v1::LoggingResponse*) {
  ORGTRAIL_AUTHORIZE("StopLogging");
  Status s = CheckName(request->name());
  if (s.ok()) s = trails_->SetLogging(request->name(), false, *caller);
  return Finish("StopLogging", *caller, s);
}

grpc::Status AdminService::GetTrailStatus(grpc::ServerContext* context, const v1::TrailNameRequest* request,
                                          v1::GetTrailStatusResponse* response) {
  ORGTRAIL_AUTHORIZE("GetTrailStatus");
  Status s = CheckName(request->name());
  if (s.ok()) {
    auto status = trails_->GetStatus(request->name(), *caller);
    if (status.ok()) *response->mutable_status() = *status;
    s = status.status();
  }
  return Finish("GetTrailStatus", *caller, s);
}

grpc::Status AdminService::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                                     v1::GetStatusResponse* response) {
  ORGTRAIL_AUTHORIZE("GetStatus");
  response->set_collector_id(options_.collector_id);
  response->set_version(VersionString());
  std::string reason = options_.health_reason ? options_.health_reason() : "";
  response->set_healthy(reason.empty());
  response->set_health_reason(reason);
  response->set_events_stored(store_->events_stored());
  response->set_home_region(options_.home_region);
  std::set<std::string> connected = options_.connected_agents ? options_.connected_agents() : std::set<std::string>();
  uint64_t self_audit_events = 0;
  for (const AgentState& state : store_->ListAgentStates()) {
    if (caller->role == Role::kAccountAdmin && state.account_id != caller->account_id) continue;
    v1::AgentStatus* agent = response->add_agents();
    agent->set_agent_id(state.agent_id);
    agent->set_account_id(state.account_id);
    agent->set_region(state.region);
    agent->set_high_water_sequence(state.high_water_sequence);
    agent->set_epoch(state.epoch);
    agent->set_last_seen_us(state.last_seen_us);
    agent->set_connected(connected.count(state.agent_id) > 0);
    agent->set_events_stored(state.events_stored);
    connected.erase(state.agent_id);
    StatusOr<Identity> sender = ParseSpiffeId(state.agent_id, options_.trust_domain);
    if (sender.ok() && sender->role == Role::kCollector) self_audit_events += state.events_stored;
  }
  // Agents connected that have not stored a batch yet.
  for (const std::string& id : connected) {
    StatusOr<Identity> identity = ParseSpiffeId(id, options_.trust_domain);
    if (!identity.ok()) continue;
    if (caller->role == Role::kAccountAdmin && identity->account_id != caller->account_id) continue;
    v1::AgentStatus* agent = response->add_agents();
    agent->set_agent_id(id);
    agent->set_account_id(identity->account_id);
    agent->set_region(identity->region);
    agent->set_connected(true);
  }
  response->set_self_audit_events_stored(self_audit_events);
  return Finish("GetStatus", *caller, Status());
}

grpc::Status AdminService::CreateBackup(grpc::ServerContext* context, const v1::CreateBackupRequest* request,
                                        v1::CreateBackupResponse* response) {
  ORGTRAIL_AUTHORIZE("CreateBackup");
  if (caller->role != Role::kAdmin) {
    return Finish("CreateBackup", *caller,
                  absl::PermissionDeniedError("only organization admins may back up the collector; " +
                                              caller->spiffe_id + " is an " + std::string(RoleName(caller->role))));
  }
  if (options_.data_dir.empty()) return Finish("CreateBackup", *caller, absl::FailedPreconditionError("no data dir"));
  auto backup = CreateOnlineBackup(store_, options_.data_dir, request->name());
  if (backup.ok()) {
    response->set_path(backup->path);
    response->set_sequence(backup->sequence);
    response->set_bytes(backup->bytes);
    if (logger_) {
      logger_->Info("online backup written", {{"path", backup->path}, {"sequence", backup->sequence},
                                              {"bytes", backup->bytes}, {"caller", caller->spiffe_id}});
    }
  }
  return Finish("CreateBackup", *caller, backup.ok() ? Status() : backup.status());
}

#undef ORGTRAIL_AUTHORIZE

}  // namespace orgtrail::collector
