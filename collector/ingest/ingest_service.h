// IngestService: orgtrail.v1.Ingest/Stream (proto/PROTOCOL.md).
//
// Per stream: the caller's identity comes from its client certificate only
// (PeerIdentity); only agents ingest (others: PERMISSION_DENIED). The first
// message must be a Hello whose agent_id is the certificate's SPIFFE ID; it is
// answered with a HelloAck (durable high-water sequence and last batch hash)
// and the current TrailConfig when the agent's is older. Each batch is checked
// by a BatchValidator on the stream's thread, then handed to the Committer;
// its cumulative Ack is written only after the group commit is durable. A
// refused batch gets an IngestError and the stream is closed with the same
// status; nothing of it is stored. Backpressure: at most max_unacked_batches
// batches per stream are in flight; the stream stops reading beyond that.
// When the committer is in fail-stop the stream ends with UNAVAILABLE and no ack.
//
// Streams are admitted, fenced and timed out by a StreamRegistry (caps per
// identity and in all, one live stream per identity with epoch fencing, Hello
// and idle deadlines). A batch at or below the agent's stored high-water is
// compared with the stored batch (CheckSequence): identical = replay, acked
// with its own sequence; different = refused ABORTED `sequence_conflict`
// (counted in orgtrail_collector_ingest_sequence_conflicts_total, logged at
// error level). Batches on one stream must have increasing sequences. How
// every stream ended is counted in orgtrail_collector_ingest_stream_ends_total
// {how}; a frame that does not parse as an IngestRequest ends the stream with
// INVALID_ARGUMENT (rule malformed_message), never OK.
//
// Revocation: a stream whose client certificate the current RevocationList
// names (SetRevocationList) is refused before its Hello with PERMISSION_DENIED,
// rule certificate_revoked (counted in orgtrail_collector_revoked_refusals_total
// {service="ingest"}); a new list closes the open streams it names at once
// (StreamRegistry::CloseMatching; rule certificate_revoked). The check runs
// before and again after admission, so a stream admitted while a list is
// being swapped is caught by one or the other. A stream is also closed when
// its certificate's notAfter passes (the registry's watchdog).
//
// Thread safety: gRPC calls Stream() concurrently; PushTrailConfig,
// ConnectedAgents and SetRevocationList may be called from any thread.
#ifndef ORGTRAIL_COLLECTOR_INGEST_INGEST_SERVICE_H_
#define ORGTRAIL_COLLECTOR_INGEST_INGEST_SERVICE_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "collector/ingest/batch_validator.h"
#include "collector/ingest/committer.h"
#include "collector/ingest/stream_read.h"
#include "collector/ingest/stream_registry.h"
#include "collector/store/store.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/shard_map.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/revocation.h"
#include "orgtrail/v1/ingest.grpc.pb.h"

namespace orgtrail::collector {

struct IngestServiceOptions {
  std::string trust_domain;
  std::string collector_id;
  IngestPolicy policy;                 // policy.classifier must outlive the service
  uint32_t max_unacked_batches = 64;
  // Bytes of validated batches waiting for or in a group commit, over all streams; a stream
  // that would exceed it waits (and gRPC flow control slows its agent) before submitting.
  uint64_t max_inflight_bytes = 64ull << 20;
  int64_t drain_timeout_us = 30'000'000;  // wait for in-flight acks when a client half-closes
  StreamLimits limits;                    // caps, Hello and idle deadlines (StreamRegistry)
  // Sharded ingest (common/shard_map.h): an agent whose account another shard serves is refused
  // at its Hello with rule "wrong_shard" naming that shard and its endpoint. Null = one collector.
  std::shared_ptr<const ShardMap> shard_map;
  std::string shard_name;                 // this collector's shard in shard_map
};

class IngestSession;
class ByteBudget;

class IngestService final : public v1::Ingest::Service {
 public:
  // Returns the current trail configuration (pushed on connect).
  using TrailConfigSource = std::function<v1::TrailConfig()>;

  IngestService(IngestServiceOptions options, EventStore* store, Committer* committer, Logger* logger,
                MetricsRegistry* metrics, TrailConfigSource trail_config);
  ~IngestService() override;

  grpc::Status Stream(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream) override;

  // Sends config to every open stream (trail changes).
  void PushTrailConfig(const v1::TrailConfig& config);
  // SPIFFE IDs with at least one open, authenticated stream.
  std::set<std::string> ConnectedAgents() const;
  // Counts a refusal (metric + log line). Exposed for tests of the metric names.
  void CountRefusal(const std::string& agent, const IngestRefusal& refusal, uint64_t sequence);
  // Ingest streams admitted now (with or without their Hello).
  size_t AdmittedStreams() const { return registry_->open_streams(); }
  // Replaces the revocation list (null = nothing revoked) and closes the open
  // streams it names; returns how many were closed.
  size_t SetRevocationList(std::shared_ptr<const RevocationList> list);

 private:
  grpc::Status Refuse(IngestSession* session, const std::string& agent, const IngestRefusal& refusal,
                      uint64_t sequence);
  grpc::Status Admitted(grpc::ServerContext* context,
                        grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream,
                        const std::shared_ptr<AdmittedStream>& admitted, const PeerCredentials& peer);
  grpc::Status RunSession(grpc::ServerContext* context,
                          grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream,
                          const std::shared_ptr<IngestSession>& session,
                          const std::shared_ptr<AdmittedStream>& admitted, const PeerCredentials& peer,
                          std::string* how);
  // A stream that ended without a message it could act on (half-close, cancel, garbage).
  grpc::Status EndOfReads(ReadOutcome outcome, const AdmittedStream& admitted, std::string* how);
  void CountEnd(const std::string& how);
  // Why the certificate is revoked by the current list, or nullopt.
  std::optional<std::string> Revoked(const RevocationSubject& certificate) const;
  void Register(IngestSession* session);
  void Unregister(IngestSession* session);

  IngestServiceOptions options_;
  EventStore* store_;
  Committer* committer_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  TrailConfigSource trail_config_;

  mutable std::mutex sessions_mu_;
  std::set<IngestSession*> sessions_;

  std::unique_ptr<StreamRegistry> registry_;
  mutable std::mutex revocation_mu_;
  std::shared_ptr<const RevocationList> revocation_;  // null: nothing revoked
  Counter* revoked_refusals_;
  Counter* sequence_conflicts_;
  Counter* events_received_;
  Counter* batches_received_;
  Gauge* open_streams_;
  std::shared_ptr<ByteBudget> inflight_;  // shared with commit callbacks
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_INGEST_SERVICE_H_
