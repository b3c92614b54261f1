#include "collector/selfaudit/audit_interceptor.h"

#include <grpcpp/server_context.h>

#include "orgtrail/common/identity.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::collector {
namespace {

using grpc::experimental::InterceptionHookPoints;

// "ipv4:127.0.0.1:5555" -> "127.0.0.1", "ipv6:[::1]:5555" -> "::1".
std::string SourceIp(const std::string& peer) {
  std::string address = peer;
  size_t scheme = address.find(':');
  if (scheme != std::string::npos) address = address.substr(scheme + 1);
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  size_t port = address.rfind(':');
  return port == std::string::npos ? address : address.substr(0, port);
}

std::string UserAgent(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("user-agent");
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

class AuditInterceptor : public grpc::experimental::Interceptor {
 public:
  AuditInterceptor(grpc::experimental::ServerRpcInfo* info, const AuditedMethod* method, SelfAuditor* auditor,
                   const std::string* trust_domain)
      : info_(info), method_(method), auditor_(auditor), trust_domain_(trust_domain) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) && request_json_.empty()) {
      void* message = methods->GetRecvMessage();
      if (message != nullptr) request_json_ = method_->render_request(message);
    }
    if (!recorded_ && method_->server_streaming &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      // Accepted: the stream's first message waits until the record is durable.
      if (!Record(grpc::Status::OK).ok()) info_->server_context()->TryCancel();
    }
    if (!recorded_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      Status recorded = Record(status);
      if (!recorded.ok() && status.ok()) {
        methods->ModifySendStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                               "the call could not be recorded in the collector's self-audit: " +
                                                   std::string(recorded.message())));
      }
    }
    methods->Proceed();
  }

 private:
  Status Record(const grpc::Status& status) {
    recorded_ = true;
    AuditedCall call;
    call.grpc_method = method_->grpc_method;
    call.event_name = method_->event_name;
    call.read_only = method_->read_only;
    call.time_us = NowMicros();
    grpc::ServerContextBase* context = info_->server_context();
    call.source_ip = SourceIp(context->peer());
    call.user_agent = UserAgent(*context);
    auto identity = PeerIdentity(*context, *trust_domain_);
    if (identity.ok()) {
      call.caller_spiffe_id = identity->spiffe_id;
      call.caller_role = std::string(RoleName(identity->role));
      call.caller_name = identity->name;
      call.caller_account_id = identity->account_id;
    } else {
      call.identity_error = std::string(identity.status().message());
    }
    const std::string pem = PeerCertificatePem(*context);
    if (!pem.empty()) {
      auto fingerprint = CertificateFingerprint(pem);
      if (fingerprint.ok()) call.caller_certificate_sha256 = *fingerprint;
    }
    call.request_json = request_json_;
    call.grpc_code = static_cast<int>(status.error_code());
    call.error_message = status.error_message();
    return auditor_->Record(std::move(call));
  }

  grpc::experimental::ServerRpcInfo* info_;
  const AuditedMethod* method_;
  SelfAuditor* auditor_;
  const std::string* trust_domain_;
  std::string request_json_;
  bool recorded_ = false;
};

}  // namespace

AuditInterceptorFactory::AuditInterceptorFactory(SelfAuditor* auditor, std::string trust_domain)
    : auditor_(auditor), trust_domain_(std::move(trust_domain)) {}

grpc::experimental::Interceptor* AuditInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const AuditedMethod* method = methods_.Find(info->method() == nullptr ? "" : info->method());
  if (method == nullptr) return nullptr;  // Ingest, health: not audited
  return new AuditInterceptor(info, method, auditor_, &trust_domain_);
}

}  // namespace orgtrail::collector
