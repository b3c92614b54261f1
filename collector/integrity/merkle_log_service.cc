// orgtrail.v1.MerkleLog over MerkleLog (see merkle_log_service.h).
#include "collector/integrity/merkle_log_service.h"

#include "collector/export/export_strings.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::collector {
namespace {

using internal::Cat;

constexpr size_t kMaxEventIdBytes = 256;

std::string Bytes(const Digest& d) { return DigestToString(d); }

}  // namespace

MerkleLogService::MerkleLogService(EventStore* store, const MerkleLog* log, std::string verifier_key,
                                   std::string trust_domain, Logger* logger, MetricsRegistry* metrics)
    : store_(store),
      log_(log),
      verifier_key_(std::move(verifier_key)),
      trust_domain_(std::move(trust_domain)),
      logger_(logger),
      metrics_(metrics) {}

grpc::Status MerkleLogService::Authorize(const grpc::ServerContext& context, const char* method) {
  auto identity = PeerIdentity(context, trust_domain_);
  if (!identity.ok()) {
    logger_->Warn("merkle log request refused", {{"method", method}, {"reason", identity.status().ToString()}});
    return ToGrpcStatus(identity.status());
  }
  if (!MayRead(*identity)) {
    logger_->Warn("merkle log request refused", {{"method", method}, {"identity", identity->spiffe_id}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        Cat("only auditor and admin identities may read the Merkle log; ", identity->spiffe_id,
                            " is a ", RoleName(identity->role), " identity"));
  }
  return grpc::Status::OK;
}

grpc::Status MerkleLogService::Finish(const char* method, grpc::Status status) {
  metrics_
      ->GetCounter("orgtrail_merkle_log_requests_total", "MerkleLog RPCs by method and outcome",
                   {{"method", method}, {"outcome", status.ok() ? "ok" : "error"}})
      ->Increment();
  return status;
}

StatusOr<uint64_t> MerkleLogService::LatestCheckpointSize(std::string* note) const {
  auto latest = log_->LatestCheckpoint();
  if (!latest.ok()) return latest.status();
  if (latest->empty()) return absl::FailedPreconditionError("no checkpoint has been signed yet");
  // The body's second line is the size.
  auto body_end = latest->find("\n\n");
  auto cp = ParseCheckpointBody(std::string_view(*latest).substr(0, body_end + 1));
  if (!cp.ok()) return absl::DataLossError("stored checkpoint is undecodable");
  *note = *latest;
  return cp->size;
}

grpc::Status MerkleLogService::GetCheckpoint(grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
                                             v1::GetCheckpointResponse* response) {
  const char* kMethod = "GetCheckpoint";
  if (auto st = Authorize(*context, kMethod); !st.ok()) return Finish(kMethod, st);
  std::string note;
  uint64_t size = request->tree_size();
  if (size == 0) {
    auto latest = LatestCheckpointSize(&note);
    if (!latest.ok()) return Finish(kMethod, ToGrpcStatus(latest.status()));
    size = *latest;
  } else {
    auto at = log_->CheckpointAt(size);
    if (!at.ok()) return Finish(kMethod, ToGrpcStatus(at.status()));
    note = *at;
  }
  response->set_checkpoint(note);
  response->set_verifier_key(verifier_key_);
  response->set_tree_size(size);
  return Finish(kMethod, grpc::Status::OK);
}

grpc::Status MerkleLogService::GetInclusionProof(grpc::ServerContext* context,
                                                 const v1::GetInclusionProofRequest* request,
                                                 v1::GetInclusionProofResponse* response) {
  const char* kMethod = "GetInclusionProof";
  if (auto st = Authorize(*context, kMethod); !st.ok()) return Finish(kMethod, st);
  uint64_t tree_size = request->tree_size();
  std::string note;
  if (tree_size == 0) {
    auto latest = LatestCheckpointSize(&note);
    if (!latest.ok()) return Finish(kMethod, ToGrpcStatus(latest.status()));
    tree_size = *latest;
  } else {
    auto at = log_->CheckpointAt(tree_size);
    if (at.ok()) note = *at;
  }
  uint64_t leaf = request->leaf_index();
  if (!request->event_id().empty()) {
    if (request->event_id().size() > kMaxEventIdBytes) {
      return Finish(kMethod, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "event_id: too long"));
    }
    auto ev = store_->GetEventById(request->event_id());
    if (!ev.ok()) return Finish(kMethod, ToGrpcStatus(ev.status()));
    if (!ev->has_value()) {
      return Finish(kMethod, grpc::Status(grpc::StatusCode::NOT_FOUND, "no stored event with this eventID"));
    }
    const uint64_t commit = (*ev)->meta.commit_index();
    auto idx = log_->LeafIndexOfCommit(commit);
    if (!idx.ok()) return Finish(kMethod, ToGrpcStatus(idx.status()));
    leaf = *idx;
    response->set_commit_index(commit);
  }
  if (leaf >= tree_size) {
    return Finish(kMethod, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        Cat("leaf ", leaf, " is not inside a tree of size ", tree_size,
                                            " (wait for the next checkpoint)")));
  }
  auto proof = log_->InclusionProof(leaf, tree_size);
  if (!proof.ok()) return Finish(kMethod, ToGrpcStatus(proof.status()));
  auto leaf_hash = log_->LeafHash(leaf);
  if (!leaf_hash.ok()) return Finish(kMethod, ToGrpcStatus(leaf_hash.status()));
  response->set_leaf_index(leaf);
  response->set_tree_size(tree_size);
  response->set_leaf_hash(Bytes(*leaf_hash));
  for (const auto& d : *proof) response->add_proof(Bytes(d));
  response->set_checkpoint(note);
  return Finish(kMethod, grpc::Status::OK);
}

grpc::Status MerkleLogService::GetConsistencyProof(grpc::ServerContext* context,
                                                   const v1::GetConsistencyProofRequest* request,
                                                   v1::GetConsistencyProofResponse* response) {
  const char* kMethod = "GetConsistencyProof";
  if (auto st = Authorize(*context, kMethod); !st.ok()) return Finish(kMethod, st);
  uint64_t second = request->second_tree_size();
  std::string note;
  if (second == 0) {
    auto latest = LatestCheckpointSize(&note);
    if (!latest.ok()) return Finish(kMethod, ToGrpcStatus(latest.status()));
    second = *latest;
  } else {
    auto at = log_->CheckpointAt(second);
    if (at.ok()) note = *at;
  }
  const uint64_t first = request->first_tree_size();
  if (first > second) {
    return Finish(kMethod, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        Cat("first_tree_size ", first, " exceeds second_tree_size ", second)));
  }
  auto proof = log_->ConsistencyProof(first, second);
  if (!proof.ok()) return Finish(kMethod, ToGrpcStatus(proof.status()));
  response->set_first_tree_size(first);
  response->set_second_tree_size(second);
  for (const auto& d : *proof) response->add_proof(Bytes(d));
  response->set_second_checkpoint(note);
  return Finish(kMethod, grpc::Status::OK);
}

}  // namespace orgtrail::collector
