// gRPC orgtrail.v1.MerkleLog: signed checkpoints, inclusion proofs (by
// eventID or leaf index) and consistency proofs of the organization-wide
// Merkle log (merkle_log.h). Auditor and admin identities only (mTLS peer
// certificate); anything else is PERMISSION_DENIED / UNAUTHENTICATED.
// Errors: INVALID_ARGUMENT for impossible sizes/indexes, NOT_FOUND for an
// unknown eventID or an event not yet in the log, OUT_OF_RANGE for a tree
// size beyond the log. Thread-safe (MerkleLog's read side is).
#ifndef ORGTRAIL_COLLECTOR_INTEGRITY_MERKLE_LOG_SERVICE_H_
#define ORGTRAIL_COLLECTOR_INTEGRITY_MERKLE_LOG_SERVICE_H_

#include <string>

#include "collector/integrity/merkle_log.h"
#include "collector/store/store.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::collector {

class MerkleLogService final : public v1::MerkleLog::Service {
 public:
  // None owned; all must outlive the service. verifier_key is published in
  // GetCheckpoint responses.
  MerkleLogService(EventStore* store, const MerkleLog* log, std::string verifier_key,
                   std::string trust_domain, Logger* logger, MetricsRegistry* metrics);

  grpc::Status GetCheckpoint(grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context, const v1::GetInclusionProofRequest* request,
                                 v1::GetInclusionProofResponse* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* context,
                                   const v1::GetConsistencyProofRequest* request,
                                   v1::GetConsistencyProofResponse* response) override;

  // Authorization as a pure function of the identity (tests).
  static bool MayRead(const Identity& identity) { return identity.may_query() || identity.role == Role::kAdmin; }

 private:
  grpc::Status Authorize(const grpc::ServerContext& context, const char* method);
  grpc::Status Finish(const char* method, grpc::Status status);
  StatusOr<uint64_t> LatestCheckpointSize(std::string* note) const;

  EventStore* store_;
  const MerkleLog* log_;
  std::string verifier_key_;
  std::string trust_domain_;
  Logger* logger_;
  MetricsRegistry* metrics_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INTEGRITY_MERKLE_LOG_SERVICE_H_
