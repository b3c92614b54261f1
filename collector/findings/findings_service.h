// gRPC orgtrail.v1.Findings: ListFindings over the FindingsLog (findings_log.h), in commit order,
// paged by commit index, filtered by rule and minimum level; Hunt runs the caller's rules over the
// stored history (retro_hunt.h), streaming findings and progress. Auditor identities only (others
// PERMISSION_DENIED; revoked certificates too). Bad arguments are INVALID_ARGUMENT. Thread-safe.
#ifndef ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_SERVICE_H_
#define ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_SERVICE_H_

#include <functional>
#include <string>

#include "collector/findings/findings_log.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/revocation.h"
#include "orgtrail/v1/findings.grpc.pb.h"

namespace orgtrail::collector {

class FindingsService final : public v1::Findings::Service {
 public:
  // cursor: the engine's cursor (evaluated_through); rules_loaded: how many rules run.
  FindingsService(EventStore* store, std::string trust_domain, std::function<uint64_t()> cursor,
                  uint32_t rules_loaded, RevocationCheck revoked, Logger* logger);
  grpc::Status ListFindings(grpc::ServerContext* context, const v1::ListFindingsRequest* request,
                            v1::ListFindingsResponse* response) override;
  // Retro-hunt (retro_hunt.h) with the caller's rules over the stored history.
  grpc::Status Hunt(grpc::ServerContext* context, const v1::HuntRequest* request,
                    grpc::ServerWriter<v1::HuntResponse>* writer) override;

 private:
  grpc::Status Authorize(const grpc::ServerContext& context, const char* method) const;

  EventStore* store_;
  FindingsLog log_;
  std::string trust_domain_;
  std::function<uint64_t()> cursor_;
  uint32_t rules_loaded_;
  RevocationCheck revoked_;
  Logger* logger_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_SERVICE_H_
