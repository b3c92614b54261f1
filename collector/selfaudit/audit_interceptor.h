// AuditInterceptorFactory: the gRPC server interceptor that makes every call to an audited method
// (audited_methods.h) a self-audit record (self_auditor.h), refused calls included.
//   unary calls:    recorded when the handler has answered, before the answer leaves: the
//                   record carries the request and the status; if it cannot be stored, the call
//                   is answered UNAVAILABLE instead ("not answered unless recorded");
//   Subscribe:      recorded when it is accepted (its first message, before that message leaves)
//                   or, when refused, with its status; an unrecordable subscription is cancelled.
// The caller's identity comes from its client certificate (common/tls.h PeerIdentity); a caller
// without a usable SVID is recorded with userIdentity.type "Unknown" and the reason.
// Thread safety: the factory is shared by all of gRPC's threads; one interceptor per call.
#ifndef ORGTRAIL_COLLECTOR_SELFAUDIT_AUDIT_INTERCEPTOR_H_
#define ORGTRAIL_COLLECTOR_SELFAUDIT_AUDIT_INTERCEPTOR_H_

#include <string>

#include <grpcpp/support/server_interceptor.h>

#include "collector/selfaudit/audited_methods.h"
#include "collector/selfaudit/self_auditor.h"

namespace orgtrail::collector {

class AuditInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // auditor is not owned and must outlive the gRPC server.
  AuditInterceptorFactory(SelfAuditor* auditor, std::string trust_domain);
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;

 private:
  SelfAuditor* auditor_;
  std::string trust_domain_;
  AuditedMethods methods_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SELFAUDIT_AUDIT_INTERCEPTOR_H_
