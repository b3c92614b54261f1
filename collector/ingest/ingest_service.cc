#include "collector/ingest/ingest_service.h"

#include "collector/ingest/byte_budget.h"
#include "collector/ingest/ingest_session.h"
#include "collector/ingest/sequence_check.h"
#include "orgtrail/common/status.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::collector {

namespace {

v1::IngestResponse ErrorResponse(const IngestRefusal& refusal, uint64_t sequence) {
  v1::IngestResponse response;
  v1::IngestError* error = response.mutable_error();
  error->set_sequence(sequence);
  error->set_code(static_cast<int32_t>(refusal.code));
  error->set_rule(refusal.rule);
  error->set_message(refusal.message);
  error->set_event_index(refusal.event_index);
  error->set_event_id(refusal.event_id);
  error->set_shard(refusal.shard);
  error->set_shard_endpoint(refusal.shard_endpoint);
  return response;
}

// What the Ack of a batch tells its agent about the events refused one by one.
std::vector<v1::RefusedEventNotice> RefusalNotices(const IngestBatch& batch) {
  std::vector<v1::RefusedEventNotice> notices;
  notices.reserve(batch.refused.size());
  for (const RefusedEvent& refused : batch.refused) {
    v1::RefusedEventNotice notice;
    notice.set_leaf_index(refused.leaf_index);
    notice.set_event_id(refused.event_id);
    notice.set_rule(refused.rule);
    notice.set_message(refused.message.substr(0, 1024));
    notices.push_back(std::move(notice));
  }
  return notices;
}

grpc::Status ToGrpc(const IngestRefusal& refusal) {
  return grpc::Status(static_cast<grpc::StatusCode>(refusal.code), refusal.rule + ": " + refusal.message);
}

IngestRefusal StreamRefusal(absl::StatusCode code, std::string rule, std::string message) {
  IngestRefusal r;
  r.code = code;
  r.rule = std::move(rule);
  r.message = std::move(message);
  return r;
}

}  // namespace

IngestService::IngestService(IngestServiceOptions options, EventStore* store, Committer* committer, Logger* logger,
                             MetricsRegistry* metrics, TrailConfigSource trail_config)
    : options_(std::move(options)), store_(store), committer_(committer), logger_(logger), metrics_(metrics),
      trail_config_(std::move(trail_config)) {
  events_received_ = metrics->GetCounter("orgtrail_collector_events_received_total",
                                         "Events received in batches (before validation)");
  batches_received_ = metrics->GetCounter("orgtrail_collector_batches_received_total", "Batches received");
  open_streams_ = metrics->GetGauge("orgtrail_collector_ingest_streams", "Open authenticated ingest streams");
  sequence_conflicts_ = metrics->GetCounter(
      "orgtrail_collector_ingest_sequence_conflicts_total",
      "Batches refused because another batch is stored under their sequence (two processes with one identity?)");
  revoked_refusals_ = metrics->GetCounter("orgtrail_collector_revoked_refusals_total",
                                          "Calls refused because the caller's certificate is revoked, by service",
                                          {{"service", "ingest"}});
  registry_ = std::make_unique<StreamRegistry>(options_.limits, logger, metrics);
  registry_->Start();
  inflight_ = std::make_shared<ByteBudget>(options_.max_inflight_bytes);
  metrics->AddGaugeCallback("orgtrail_collector_ingest_inflight_bytes",
                            "Bytes of validated batches waiting for or in a group commit (all streams)",
                            [budget = inflight_] {
                              return std::vector<std::pair<MetricLabels, double>>{
                                  {{}, static_cast<double>(budget->used())}};
                            });
}

IngestService::~IngestService() { registry_->Stop(); }

void IngestService::CountEnd(const std::string& how) {
  metrics_->GetCounter("orgtrail_collector_ingest_stream_ends_total",
                       "Ingest streams ended, by how (every value but half_close is an unclean end)", {{"how", how}})
      ->Increment();
}

void IngestService::CountRefusal(const std::string& agent, const IngestRefusal& refusal, uint64_t sequence) {
  metrics_->GetCounter("orgtrail_collector_batches_refused_total", "Batches or streams refused, by rule",
                       {{"rule", refusal.rule}})
      ->Increment();
  logger_->Warn("ingest refused", {{"agent", agent},
                                   {"rule", refusal.rule},
                                   {"code", absl::StatusCodeToString(refusal.code)},
                                   {"seq", sequence},
                                   {"event_index", refusal.event_index},
                                   {"event_id", refusal.event_id},
                                   {"detail", refusal.message}});
}

grpc::Status IngestService::Refuse(IngestSession* session, const std::string& agent, const IngestRefusal& refusal,
                                   uint64_t sequence) {
  CountRefusal(agent, refusal, sequence);
  session->WaitDrained(options_.drain_timeout_us);  // acks of earlier batches go out first
  session->Enqueue(ErrorResponse(refusal, sequence));
  return ToGrpc(refusal);
}

grpc::Status IngestService::Stream(grpc::ServerContext* context,
                                   grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream) {
  // Refusals before the session exists are written directly on this thread.
  auto refuse_early = [&](const std::string& agent, const IngestRefusal& refusal) {
    CountRefusal(agent, refusal, 0);
    CountEnd("refused");
    stream->Write(ErrorResponse(refusal, 0));
    return ToGrpc(refusal);
  };
  StatusOr<Identity> identity = PeerIdentity(*context, options_.trust_domain);
  if (!identity.ok()) {
    return refuse_early(context->peer(), StreamRefusal(identity.status().code() == absl::StatusCode::kPermissionDenied
                                                           ? absl::StatusCode::kPermissionDenied
                                                           : absl::StatusCode::kUnauthenticated,
                                                       "unauthenticated", std::string(identity.status().message())));
  }
  if (!identity->may_ingest()) {
    return refuse_early(identity->spiffe_id,
                        StreamRefusal(absl::StatusCode::kPermissionDenied, "not_an_agent",
                                      std::string(RoleName(identity->role)) + " identity " + identity->spiffe_id +
                                          " may not ingest events"));
  }
  StatusOr<PeerCredentials> peer = MakePeerCredentials(*identity, PeerCertificatePem(*context));
  if (!peer.ok()) {
    return refuse_early(identity->spiffe_id, StreamRefusal(absl::StatusCode::kUnauthenticated, "bad_certificate",
                                                           std::string(peer.status().message())));
  }
  StatusOr<RevocationSubject> certificate = RevocationSubjectFromPem(peer->certificate_pem);
  if (!certificate.ok()) {
    return refuse_early(identity->spiffe_id, StreamRefusal(absl::StatusCode::kUnauthenticated, "bad_certificate",
                                                           std::string(certificate.status().message())));
  }
  auto refuse_revoked = [&](const std::string& why) {
    revoked_refusals_->Increment();
    return refuse_early(identity->spiffe_id,
                        StreamRefusal(absl::StatusCode::kPermissionDenied, "certificate_revoked",
                                      why + "; the collector refuses every stream of this certificate"));
  };
  if (std::optional<std::string> why = Revoked(*certificate)) return refuse_revoked(*why);
  std::string cap_rule;
  StatusOr<std::shared_ptr<AdmittedStream>> admitted =
      registry_->Admit(identity->spiffe_id, context->peer(), context, &cap_rule, *certificate);
  if (!admitted.ok()) {
    // Only the status: a write could block this thread on a client that does not read.
    IngestRefusal refusal = StreamRefusal(absl::StatusCode::kResourceExhausted, cap_rule,
                                          std::string(admitted.status().message()));
    CountRefusal(identity->spiffe_id, refusal, 0);
    CountEnd("refused");
    return ToGrpc(refusal);
  }
  // Again once admitted: a list swapped in since the check above has already
  // swept the registry, possibly before this stream was in it.
  if (std::optional<std::string> why = Revoked(*certificate)) {
    registry_->Release(*admitted);
    return refuse_revoked(*why);
  }
  grpc::Status result = Admitted(context, stream, *admitted, *peer);
  registry_->Release(*admitted);
  return result;
}

std::optional<std::string> IngestService::Revoked(const RevocationSubject& certificate) const {
  std::shared_ptr<const RevocationList> list;
  {
    std::lock_guard<std::mutex> lock(revocation_mu_);
    list = revocation_;
  }
  if (list == nullptr) return std::nullopt;
  return list->Check(certificate);
}

size_t IngestService::SetRevocationList(std::shared_ptr<const RevocationList> list) {
  {
    std::lock_guard<std::mutex> lock(revocation_mu_);
    revocation_ = list;
  }
  if (list == nullptr) return 0;
  return registry_->CloseMatching([&list](const AdmittedStream& stream) -> std::optional<StreamClose> {
    std::optional<std::string> why = list->Check(stream.certificate());
    if (!why.has_value()) return std::nullopt;
    return StreamClose{absl::StatusCode::kPermissionDenied, "certificate_revoked",
                       *why + "; the collector closed this stream when it reloaded its revocation list"};
  });
}

grpc::Status IngestService::EndOfReads(ReadOutcome outcome, const AdmittedStream& admitted, std::string* how) {
  if (outcome == ReadOutcome::kMalformed) {
    *how = "malformed";
    IngestRefusal refusal = StreamRefusal(absl::StatusCode::kInvalidArgument, "malformed_message",
                                          "a message of the stream is not an orgtrail.v1.IngestRequest (it does not "
                                          "parse); the stream is closed");
    CountRefusal(admitted.identity(), refusal, 0);
    return ToGrpc(refusal);
  }
  if (outcome == ReadOutcome::kCancelled) {
    if (std::optional<StreamClose> closed = admitted.closed_by_registry()) {
      *how = closed->rule;
      return grpc::Status(static_cast<grpc::StatusCode>(closed->code), closed->rule + ": " + closed->message);
    }
    *how = "cancelled";
    return grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled");
  }
  *how = "half_close";
  return grpc::Status::OK;
}

grpc::Status IngestService::Admitted(grpc::ServerContext* context,
                                     grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream,
                                     const std::shared_ptr<AdmittedStream>& admitted, const PeerCredentials& peer) {
  const Identity& identity = peer.identity;
  auto refuse_early = [&](const IngestRefusal& refusal) {
    CountRefusal(identity.spiffe_id, refusal, 0);
    CountEnd("refused");
    stream->Write(ErrorResponse(refusal, 0));
    return ToGrpc(refusal);
  };
  v1::IngestRequest first;
  const ReadOutcome first_read = ReadRequest(context, stream, &first);
  if (first_read != ReadOutcome::kMessage) {  // e.g. the client left before saying hello
    std::string how;
    grpc::Status status = EndOfReads(first_read, *admitted, &how);
    CountEnd(how);
    return status;
  }
  admitted->Touch();
  if (!first.has_hello()) {
    return refuse_early(StreamRefusal(absl::StatusCode::kFailedPrecondition, "hello_required",
                                      "the first message of a stream must be a Hello"));
  }
  if (first.hello().agent_id() != identity.spiffe_id) {
    return refuse_early(StreamRefusal(absl::StatusCode::kPermissionDenied, "agent_id_mismatch",
                                      "hello agent_id '" + first.hello().agent_id().substr(0, 256) +
                                          "' is not the certificate's identity " + identity.spiffe_id));
  }
  if (options_.shard_map != nullptr) {
    const Shard& home = options_.shard_map->ShardForAccount(identity.account_id);
    if (home.name != options_.shard_name) {
      IngestRefusal refusal = StreamRefusal(absl::StatusCode::kFailedPrecondition, "wrong_shard",
                                            "account " + identity.account_id + " is served by shard '" + home.name +
                                                "' at " + home.endpoint + ", not by shard '" + options_.shard_name + "'");
      refusal.shard = home.name;
      refusal.shard_endpoint = home.endpoint;
      return refuse_early(refusal);
    }
  }

  auto session = std::make_shared<IngestSession>(context, stream, identity.spiffe_id);
  session->StartWriter();
  admitted->SetCloser(session);
  // Fences the identity's previous stream and waits for its batches in flight,
  // so the high-water below includes them.
  Status activated = registry_->Activate(admitted, first.hello().epoch());
  if (!activated.ok()) {
    std::string message(activated.message());
    IngestRefusal refusal = StreamRefusal(activated.code(), "stale_epoch", message.substr(message.find(' ') + 1));
    CountRefusal(identity.spiffe_id, refusal, 0);
    CountEnd("refused");
    session->Enqueue(ErrorResponse(refusal, 0));
    session->FinishWriter();
    session->DetachContext();
    return ToGrpc(refusal);
  }
  Register(session.get());
  open_streams_->Add(1);

  v1::IngestResponse ack;
  v1::HelloAck* hello_ack = ack.mutable_hello_ack();
  if (auto state = store_->GetAgentState(identity.spiffe_id)) {
    hello_ack->set_high_water_sequence(state->high_water_sequence);
    hello_ack->set_last_batch_hash(DigestToString(state->last_batch_hash));
  }
  hello_ack->set_collector_id(options_.collector_id);
  hello_ack->set_home_region(options_.policy.home_region);
  hello_ack->set_max_unacked_batches(options_.max_unacked_batches);
  hello_ack->set_max_batch_bytes(static_cast<uint32_t>(options_.policy.max_batch_bytes));
  for (const std::string& source : options_.policy.classifier->sources()) hello_ack->add_global_event_sources(source);
  for (const std::string& region : options_.policy.allowed_regions) hello_ack->add_allowed_regions(region);
  hello_ack->set_max_event_bytes(static_cast<uint32_t>(options_.policy.max_event_bytes));
  hello_ack->set_max_event_id_bytes(static_cast<uint32_t>(options_.policy.max_event_id_bytes));
  hello_ack->set_max_events_per_batch(options_.policy.max_events_per_batch);
  hello_ack->set_retention_seconds(options_.policy.retention_us / 1000000);
  const uint64_t high_water = hello_ack->high_water_sequence();  // ack is moved to the writer below
  session->Enqueue(std::move(ack));
  v1::TrailConfig config = trail_config_ ? trail_config_() : v1::TrailConfig();
  if (config.version() > first.hello().trail_config_version()) {
    v1::IngestResponse push;
    *push.mutable_trail_config() = std::move(config);
    session->Enqueue(std::move(push));
  }
  logger_->Info("ingest stream open", {{"agent", identity.spiffe_id},
                                       {"peer", admitted->peer()},
                                       {"epoch", first.hello().epoch()},
                                       {"high_water", high_water}});

  std::string how = "half_close";
  grpc::Status result = RunSession(context, stream, session, admitted, peer, &how);

  if (!session->WaitDrained(options_.drain_timeout_us)) session->Cancel();
  Unregister(session.get());
  open_streams_->Add(-1);
  Status fatal = session->fatal();
  session->FinishWriter();
  session->DetachContext();
  if (!fatal.ok() && result.ok()) {
    result = ToGrpcStatus(fatal);
    how = "failed";
  }
  CountEnd(how);
  if (how != "half_close") {
    logger_->Info("ingest stream ended", {{"agent", identity.spiffe_id},
                                          {"peer", admitted->peer()},
                                          {"how", how},
                                          {"status", absl::StatusCodeToString(static_cast<absl::StatusCode>(
                                                         result.error_code()))}});
  }
  return result;
}

grpc::Status IngestService::RunSession(grpc::ServerContext* context,
                                       grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream,
                                       const std::shared_ptr<IngestSession>& session_ptr,
                                       const std::shared_ptr<AdmittedStream>& admitted, const PeerCredentials& peer,
                                       std::string* how) {
  IngestSession* session = session_ptr.get();
  BatchValidator validator(options_.policy, peer);
  const std::string& agent = peer.identity.spiffe_id;
  uint64_t last_sequence = 0;  // of this stream: sequences must increase
  v1::IngestRequest request;
  auto conflict = [&](uint64_t sequence, const std::string& detail) {
    sequence_conflicts_->Increment();
    logger_->Error("ingest sequence conflict", {{"agent", agent}, {"peer", admitted->peer()},
                                                {"seq", sequence}, {"detail", detail}});
    *how = "refused";
    return Refuse(session, agent, StreamRefusal(absl::StatusCode::kAborted, "sequence_conflict", detail), sequence);
  };
  for (;;) {
    if (!session->WaitForWindow(options_.max_unacked_batches)) break;
    const ReadOutcome read = ReadRequest(context, stream, &request);
    if (read != ReadOutcome::kMessage) return EndOfReads(read, *admitted, how);
    admitted->Touch();
    if (!session->fatal().ok() || session->fenced()) break;  // fail-stop / fenced: nothing more is acknowledged
    if (!request.has_batch()) {
      *how = "refused";
      return Refuse(session, agent,
                    StreamRefusal(absl::StatusCode::kFailedPrecondition, "unexpected_message",
                                  "only batches may follow the Hello"),
                    0);
    }
    const v1::Batch& batch = request.batch();
    batches_received_->Increment();
    events_received_->Increment(static_cast<uint64_t>(batch.events_size()));
    const uint64_t sequence = batch.sequence();
    if (sequence != 0 && sequence <= last_sequence) {
      return conflict(sequence, "sequence " + std::to_string(sequence) + " is not above " +
                                    std::to_string(last_sequence) + ", the previous batch of this stream");
    }
    SequenceCheck check;
    if (batch.agent_id() == agent) {  // another agent_id is refused by the validator
      StatusOr<SequenceCheck> checked = CheckSequence(*store_, agent, batch);
      if (!checked.ok()) {
        *how = "refused";
        return Refuse(session, agent,
                      StreamRefusal(absl::StatusCode::kUnavailable, "store_unavailable",
                                    std::string(checked.status().message())),
                      sequence);
      }
      check = std::move(*checked);
    }
    if (check.verdict == SequenceVerdict::kConflict) return conflict(sequence, check.detail);
    auto ingest = std::make_unique<IngestBatch>();
    const bool replay = check.verdict == SequenceVerdict::kReplay;
    if (replay) {
      // Lost-ack replay of the very batch stored (same signed header): nothing
      // will be stored, so it is acknowledged without re-verification (its
      // signing key may since have been rotated). It still goes through the
      // committer to keep acks in order.
      ingest->agent_id = agent;
      ingest->account_id = peer.identity.account_id;
      ingest->region = peer.identity.region;
      ingest->sequence = sequence;
    } else {
      IngestRefusal refusal;
      if (!validator.Validate(batch, NowMicros(), ingest.get(), &refusal)) {
        *how = "refused";
        return Refuse(session, agent, refusal, sequence);
      }
    }
    last_sequence = std::max(last_sequence, sequence);
    // What the validated batch holds in memory until its commit: raw JSON plus extracted fields.
    const uint64_t bytes = 2 * static_cast<uint64_t>(batch.ByteSizeLong()) + 4096;
    inflight_->Acquire(bytes);
    if (!session->BatchSubmitted()) {  // fenced while this batch was validated
      inflight_->Release(bytes);
      break;
    }
    admitted->AddInFlight(1);
    // The callback keeps the session alive even if Stream() gave up waiting.
    Counter* conflicts = sequence_conflicts_;
    Logger* logger = logger_;
    std::vector<v1::RefusedEventNotice> notices = RefusalNotices(*ingest);
    committer_->Submit(std::move(ingest), [session = session_ptr, admitted, sequence, replay, budget = inflight_, bytes,
                                           conflicts, logger, notices = std::move(notices)](
                                              const Status& status, const BatchOutcome& outcome) {
      budget->Release(bytes);
      if (status.ok() && outcome.replay && !replay) {
        // Another batch took this sequence between the read-time check and
        // the commit: it was not stored, so it must not be acknowledged.
        conflicts->Increment();
        const std::string detail = "sequence " + std::to_string(sequence) +
                                   " was taken by another batch before this one was committed (stored high-water " +
                                   std::to_string(outcome.ack_sequence) + ")";
        logger->Error("ingest sequence conflict", {{"agent", session->agent_id()}, {"seq", sequence},
                                                   {"detail", detail}});
        session->BatchFailed(absl::AbortedError(detail), sequence, "sequence_conflict");
      } else if (status.ok()) {
        v1::Ack ack;
        // A replay acknowledges its own sequence, never the stored high-water:
        // batches between the two may be another process's.
        ack.set_sequence(replay ? sequence : outcome.ack_sequence);
        ack.set_events_stored(outcome.events_stored);
        ack.set_events_duplicate(outcome.events_duplicate);
        ack.set_events_conflict(outcome.events_conflict);
        if (!outcome.replay) {
          ack.set_events_refused(outcome.events_refused);
          for (const v1::RefusedEventNotice& notice : notices) *ack.add_refused() = notice;
        }
        session->BatchDone(status, sequence, &ack);
      } else {
        session->BatchDone(status, sequence, nullptr);
      }
      admitted->AddInFlight(-1);
    });
  }
  if (std::optional<StreamClose> closed = admitted->closed_by_registry()) {
    *how = closed->rule;
    return grpc::Status(static_cast<grpc::StatusCode>(closed->code), closed->rule + ": " + closed->message);
  }
  if (session->fenced()) {
    *how = "fenced";
    return grpc::Status(grpc::StatusCode::ABORTED, "fenced by a newer stream of " + agent);
  }
  return grpc::Status::OK;
}

void IngestService::PushTrailConfig(const v1::TrailConfig& config) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  for (IngestSession* session : sessions_) {
    v1::IngestResponse push;
    *push.mutable_trail_config() = config;
    session->Enqueue(std::move(push));
  }
}

std::set<std::string> IngestService::ConnectedAgents() const {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  std::set<std::string> agents;
  for (IngestSession* session : sessions_) agents.insert(session->agent_id());
  return agents;
}

void IngestService::Register(IngestSession* session) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_.insert(session);
}

void IngestService::Unregister(IngestSession* session) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_.erase(session);
}

}  // namespace orgtrail::collector
