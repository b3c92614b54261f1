// AuditedMethods: the RPCs the collector records in its self-audit (every method of the Query,
// Investigations, Admin, DigestKeys, MerkleLog and Findings services) and, for each, how to read its
// request. Ingest (agents) and grpc.health.v1 (probes) are not audited.
// Each entry renders the request message that gRPC hands an interceptor as an untyped pointer
// (InterceptorBatchMethods::GetRecvMessage) through its own static type, so no cast ever
// guesses a type. tests/collector/selfaudit checks the table against the services' descriptors:
// every method present, request types equal.
// Immutable after construction; thread-safe.
#ifndef ORGTRAIL_COLLECTOR_SELFAUDIT_AUDITED_METHODS_H_
#define ORGTRAIL_COLLECTOR_SELFAUDIT_AUDITED_METHODS_H_

#include <map>
#include <string>
#include <vector>

namespace orgtrail::collector {

struct AuditedMethod {
  std::string grpc_method;        // "/orgtrail.v1.Query/LookupEvents"
  std::string event_name;         // "LookupEvents"
  std::string request_type;       // "orgtrail.v1.LookupEventsRequest"
  bool read_only = true;
  bool server_streaming = false;  // recorded when accepted (its first message), not when it ends
  std::string (*render_request)(const void* message) = nullptr;  // protobuf JSON of the request
};

class AuditedMethods {
 public:
  AuditedMethods();
  // nullptr for a method that is not audited.
  const AuditedMethod* Find(const std::string& grpc_method) const;
  std::vector<const AuditedMethod*> All() const;
  // The services whose every method is audited ("orgtrail.v1.Query", ...).
  static const std::vector<std::string>& AuditedServices();

 private:
  std::map<std::string, AuditedMethod> methods_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SELFAUDIT_AUDITED_METHODS_H_
