// AdminService: orgtrail.v1.Admin — trail management (TrailManager) and
// collector status. Admin identities only (spiffe://<org>/admin/<name> and
// account admins spiffe://<org>/account/<id>/admin/<name>); every other
// caller gets PERMISSION_DENIED, a caller without a verified certificate
// UNAUTHENTICATED. Errors keep CloudTrail's exception names in the message.
// Thread-safe.
#ifndef ORGTRAIL_COLLECTOR_ADMIN_ADMIN_SERVICE_H_
#define ORGTRAIL_COLLECTOR_ADMIN_ADMIN_SERVICE_H_

#include <functional>
#include <string>

#include "collector/store/store.h"
#include "collector/admin/trail_manager.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/revocation.h"
#include "orgtrail/v1/admin.grpc.pb.h"

namespace orgtrail::collector {

struct AdminServiceOptions {
  std::string trust_domain;
  std::string collector_id;
  std::string home_region;
  // Health: empty string = healthy, else the fail-stop reason.
  std::function<std::string()> health_reason;
  // SPIFFE IDs of agents with an open stream.
  std::function<std::set<std::string>()> connected_agents;
  // Revoked callers are refused PERMISSION_DENIED "certificate_revoked: ..." (empty: no check).
  RevocationCheck revoked;
  // The collector's --data-dir: online backups go to <data_dir>/backups/<name>.
  std::string data_dir;
};

class AdminService final : public v1::Admin::Service {
 public:
  AdminService(AdminServiceOptions options, EventStore* store, TrailManager* trails, Logger* logger);

  grpc::Status CreateTrail(grpc::ServerContext*, const v1::CreateTrailRequest*, v1::TrailResponse*) override;
  grpc::Status UpdateTrail(grpc::ServerContext*, const v1::UpdateTrailRequest*, v1::TrailResponse*) override;
  grpc::Status DeleteTrail(grpc::ServerContext*, const v1::TrailNameRequest*, v1::DeleteTrailResponse*) override;
  grpc::Status GetTrail(grpc::ServerContext*, const v1::TrailNameRequest*, v1::TrailResponse*) override;
  grpc::Status DescribeTrails(grpc::ServerContext*, const v1::DescribeTrailsRequest*,
                              v1::DescribeTrailsResponse*) override;
  grpc::Status PutEventSelectors(grpc::ServerContext*, const v1::PutEventSelectorsRequest*,
                                 v1::GetEventSelectorsResponse*) override;
  grpc::Status GetEventSelectors(grpc::ServerContext*, const v1::TrailNameRequest*,
                                 v1::GetEventSelectorsResponse*) override;
  grpc::Status PutInsightSelectors(grpc::ServerContext*, const v1::PutInsightSelectorsRequest*,
                                   v1::GetInsightSelectorsResponse*) override;
  grpc::Status GetInsightSelectors(grpc::ServerContext*, const v1::TrailNameRequest*,
                                   v1::GetInsightSelectorsResponse*) override;
  grpc::Status StartLogging(grpc::ServerContext*, const v1::TrailNameRequest*, v1::LoggingResponse*) override;
  grpc::Status StopLogging(grpc::ServerContext*, const v1::TrailNameRequest*, v1::LoggingResponse*) override;
  grpc::Status GetTrailStatus(grpc::ServerContext*, const v1::TrailNameRequest*,
                              v1::GetTrailStatusResponse*) override;
  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*, v1::GetStatusResponse*) override;
  // Organization admins only (an account admin is PERMISSION_DENIED): collector/admin/online_backup.h.
  grpc::Status CreateBackup(grpc::ServerContext*, const v1::CreateBackupRequest*, v1::CreateBackupResponse*) override;

 private:
  StatusOr<Identity> Authorize(grpc::ServerContext* context, std::string_view rpc);
  grpc::Status Finish(std::string_view rpc, const Identity& caller, const Status& status);

  AdminServiceOptions options_;
  EventStore* store_;
  TrailManager* trails_;
  Logger* logger_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ADMIN_ADMIN_SERVICE_H_
