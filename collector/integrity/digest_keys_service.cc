// ListPublicKeys over the digest key ring (see digest_keys_service.h).
#include "collector/integrity/digest_keys_service.h"

#include "orgtrail/common/tls.h"

namespace orgtrail::collector {

grpc::Status DigestKeysService::ListPublicKeys(grpc::ServerContext* context,
                                               const v1::ListPublicKeysRequest* request,
                                               v1::ListPublicKeysResponse* response) {
  auto identity = PeerIdentity(*context, trust_domain_);
  if (!identity.ok()) return ToGrpcStatus(identity.status());
  if (!identity->may_query() && identity->role != Role::kAdmin) {
    logger_->Warn("ListPublicKeys refused", {{"identity", identity->spiffe_id}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "only auditor and admin identities may list digest public keys");
  }
  const int64_t start = request->has_start_time_us() ? request->start_time_us() : 0;
  const int64_t end = request->has_end_time_us() ? request->end_time_us() : 0;
  if (start < 0 || end < 0 || (start != 0 && end != 0 && start > end)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "InvalidTimeRangeException: StartTime must be before EndTime and not negative");
  }
  for (const auto& k : keys_->ListPublicKeys(start, end)) {
    auto* out = response->add_public_key_list();
    out->set_value(k.der_pkcs1);
    out->set_validity_start_time_us(k.validity_start_us);
    out->set_validity_end_time_us(k.validity_end_us.value_or(0));
    out->set_fingerprint(k.fingerprint);
  }
  return grpc::Status::OK;
}

}  // namespace orgtrail::collector
