// gRPC orgtrail.v1.DigestKeys: CloudTrail's ListPublicKeys over the
// collector's DigestKeyRing (digest_key_ring.h). Admin and auditor
// identities; others PERMISSION_DENIED. A start after the end is
// INVALID_ARGUMENT ("InvalidTimeRangeException: ..."). Thread-safe.
#ifndef ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_KEYS_SERVICE_H_
#define ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_KEYS_SERVICE_H_

#include <string>

#include "collector/integrity/digest_key_ring.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/v1/admin.grpc.pb.h"

namespace orgtrail::collector {

class DigestKeysService final : public v1::DigestKeys::Service {
 public:
  DigestKeysService(const DigestKeyRing* keys, std::string trust_domain, Logger* logger)
      : keys_(keys), trust_domain_(std::move(trust_domain)), logger_(logger) {}
  grpc::Status ListPublicKeys(grpc::ServerContext* context, const v1::ListPublicKeysRequest* request,
                              v1::ListPublicKeysResponse* response) override;

 private:
  const DigestKeyRing* keys_;
  std::string trust_domain_;
  Logger* logger_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_KEYS_SERVICE_H_
