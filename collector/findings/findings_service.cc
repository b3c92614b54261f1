#include "collector/findings/findings_service.h"

#include "collector/findings/retro_hunt.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::collector {

FindingsService::FindingsService(EventStore* store, std::string trust_domain, std::function<uint64_t()> cursor,
                                 uint32_t rules_loaded, RevocationCheck revoked, Logger* logger)
    : store_(store), log_(store), trust_domain_(std::move(trust_domain)), cursor_(std::move(cursor)), rules_loaded_(rules_loaded),
      revoked_(std::move(revoked)), logger_(logger) {}

grpc::Status FindingsService::Authorize(const grpc::ServerContext& context, const char* what) const {
  auto identity = PeerIdentity(context, trust_domain_);
  if (!identity.ok()) return ToGrpcStatus(identity.status());
  if (!identity->may_query()) {
    logger_->Warn("findings call refused", {{"identity", identity->spiffe_id}, {"call", what}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string("only auditor identities may ") + what + "; " +
                                                                 identity->spiffe_id + " is a " +
                                                                 std::string(RoleName(identity->role)) + " identity");
  }
  if (revoked_) {
    if (auto why = revoked_(PeerCertificatePem(context)); why.has_value()) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "certificate revoked: " + *why);
    }
  }
  return grpc::Status::OK;
}

grpc::Status FindingsService::ListFindings(grpc::ServerContext* context, const v1::ListFindingsRequest* request,
                                           v1::ListFindingsResponse* response) {
  if (grpc::Status auth = Authorize(*context, "list findings"); !auth.ok()) return auth;
  if (request->max_results() < 0 || request->max_results() > 1000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "max_results: must be between 0 and 1000");
  }
  FindingsFilter filter;
  filter.rule_id = request->rule_id();
  if (filter.rule_id.size() > 256) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "rule_id: longer than 256 bytes");
  }
  if (!request->min_level().empty()) {
    filter.min_level_rank = LevelRank(request->min_level());
    if (filter.min_level_rank == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "min_level: expected informational|low|medium|high|critical");
    }
  }
  const uint64_t evaluated = cursor_ ? cursor_() : 0;
  uint64_t next = 0;
  auto findings = log_.List(request->after_commit_index(),
                            request->max_results() == 0 ? 100 : static_cast<size_t>(request->max_results()), filter,
                            &next);
  if (!findings.ok()) return ToGrpcStatus(findings.status());
  for (v1::Finding& f : *findings) *response->add_findings() = std::move(f);
  response->set_next_after_commit_index(next);
  response->set_evaluated_through(evaluated);
  response->set_rules_loaded(rules_loaded_);
  return grpc::Status::OK;
}

grpc::Status FindingsService::Hunt(grpc::ServerContext* context, const v1::HuntRequest* request,
                                   grpc::ServerWriter<v1::HuntResponse>* writer) {
  if (grpc::Status auth = Authorize(*context, "hunt"); !auth.ok()) return auth;
  auto hunt = RetroHunt::Compile(*request);
  if (!hunt.ok()) return ToGrpcStatus(hunt.status());
  logger_->Info("retro-hunt started", {{"rules", static_cast<uint64_t>((*hunt)->rules())}});
  Status ran = (*hunt)->Run(*store_, [&](v1::HuntResponse&& response) {
    return !context->IsCancelled() && writer->Write(response);
  });
  if (!ran.ok()) return ToGrpcStatus(ran);
  return grpc::Status::OK;
}

}  // namespace orgtrail::collector
