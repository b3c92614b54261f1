#include "collector/selfaudit/audited_methods.h"

#include <google/protobuf/util/json_util.h>

#include "orgtrail/v1/admin.pb.h"
#include "orgtrail/v1/findings.pb.h"
#include "orgtrail/v1/query.pb.h"

namespace orgtrail::collector {
namespace {

template <typename Request>
std::string RenderRequest(const void* message) {
  const auto& request = *static_cast<const Request*>(message);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = false;
  if (!google::protobuf::util::MessageToJsonString(request, &json, options).ok()) {
    return "{\"unprintable\":true}";
  }
  return json;
}

template <typename Request>
AuditedMethod Method(const std::string& service, const std::string& name, bool read_only,
                     bool server_streaming = false) {
  AuditedMethod m;
  m.grpc_method = "/orgtrail.v1." + service + "/" + name;
  m.event_name = name;
  m.request_type = Request::descriptor()->full_name();
  m.read_only = read_only;
  m.server_streaming = server_streaming;
  m.render_request = &RenderRequest<Request>;
  return m;
}

}  // namespace

AuditedMethods::AuditedMethods() {
  constexpr bool kRead = true, kWrite = false;
  const std::vector<AuditedMethod> all = {
      Method<v1::LookupEventsRequest>("Query", "LookupEvents", kRead),
      Method<v1::GetEventRequest>("Query", "GetEvent", kRead),
      Method<v1::ListConflictsRequest>("Query", "ListConflicts", kRead),
      Method<v1::ListRefusedRequest>("Query", "ListRefused", kRead),
      Method<v1::SubscribeRequest>("Investigations", "Subscribe", kRead, /*server_streaming=*/true),
      Method<v1::SqlRequest>("Investigations", "Sql", kRead),
      Method<v1::GetCheckpointRequest>("MerkleLog", "GetCheckpoint", kRead),
      Method<v1::GetInclusionProofRequest>("MerkleLog", "GetInclusionProof", kRead),
      Method<v1::GetConsistencyProofRequest>("MerkleLog", "GetConsistencyProof", kRead),
      Method<v1::ListPublicKeysRequest>("DigestKeys", "ListPublicKeys", kRead),
      Method<v1::ListFindingsRequest>("Findings", "ListFindings", kRead),
      Method<v1::HuntRequest>("Findings", "Hunt", kRead, /*server_streaming=*/true),
      Method<v1::CreateTrailRequest>("Admin", "CreateTrail", kWrite),
      Method<v1::UpdateTrailRequest>("Admin", "UpdateTrail", kWrite),
      Method<v1::TrailNameRequest>("Admin", "DeleteTrail", kWrite),
      Method<v1::TrailNameRequest>("Admin", "GetTrail", kRead),
      Method<v1::DescribeTrailsRequest>("Admin", "DescribeTrails", kRead),
      Method<v1::PutEventSelectorsRequest>("Admin", "PutEventSelectors", kWrite),
      Method<v1::TrailNameRequest>("Admin", "GetEventSelectors", kRead),
      Method<v1::PutInsightSelectorsRequest>("Admin", "PutInsightSelectors", kWrite),
      Method<v1::TrailNameRequest>("Admin", "GetInsightSelectors", kRead),
      Method<v1::TrailNameRequest>("Admin", "StartLogging", kWrite),
      Method<v1::TrailNameRequest>("Admin", "StopLogging", kWrite),
      Method<v1::TrailNameRequest>("Admin", "GetTrailStatus", kRead),
      Method<v1::GetStatusRequest>("Admin", "GetStatus", kRead),
      Method<v1::CreateBackupRequest>("Admin", "CreateBackup", kWrite),
  };
  for (const AuditedMethod& m : all) methods_.emplace(m.grpc_method, m);
}

const AuditedMethod* AuditedMethods::Find(const std::string& grpc_method) const {
  auto it = methods_.find(grpc_method);
  return it == methods_.end() ? nullptr : &it->second;
}

std::vector<const AuditedMethod*> AuditedMethods::All() const {
  std::vector<const AuditedMethod*> out;
  for (const auto& [name, method] : methods_) out.push_back(&method);
  return out;
}

const std::vector<std::string>& AuditedMethods::AuditedServices() {
  static const auto* services = new std::vector<std::string>{
      "orgtrail.v1.Query", "orgtrail.v1.Investigations", "orgtrail.v1.Admin", "orgtrail.v1.DigestKeys",
      "orgtrail.v1.MerkleLog", "orgtrail.v1.Findings"};
  return *services;
}

}  // namespace orgtrail::collector
