#include "collector/ingest/ingest_service.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>

#include "collector/ingest/byte_budget.h"
#include "orgtrail/common/status.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::collector {

// One open Ingest stream: an outbox drained by a writer thread (so the
// committer never blocks on a slow client) and the count of batches in flight.
class IngestSession {
 public:
  using Stream = grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>;
  IngestSession(grpc::ServerContext* context, Stream* stream, std::string agent_id)
      : context_(context), stream_(stream), agent_id_(std::move(agent_id)) {}
  ~IngestSession() { FinishWriter(); }

  const std::string& agent_id() const { return agent_id_; }

  void StartWriter() { writer_ = std::thread([this] { WriterLoop(); }); }

  void Enqueue(v1::IngestResponse response) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writer_done_) return;
      outbox_.push_back(std::move(response));
    }
    cv_.notify_all();
  }

  // Flushes the outbox and joins the writer thread.
  void FinishWriter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
  }

  void BatchSubmitted() {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
  }
  // On a commit failure (fail-stop) the agent gets an IngestError and no ack;
  // the stream ends with that status once the agent half-closes or sends again.
  void BatchDone(const Status& status, uint64_t sequence) {
    bool first_failure = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      if (!status.ok() && fatal_.ok()) {
        fatal_ = status;
        first_failure = true;
      }
    }
    if (first_failure) {
      v1::IngestResponse response;
      v1::IngestError* error = response.mutable_error();
      error->set_sequence(sequence);
      error->set_code(static_cast<int32_t>(status.code()));
      error->set_rule("fail_stop");
      error->set_message(std::string(status.message()));
      error->set_event_index(-1);
      Enqueue(std::move(response));
    }
    cv_.notify_all();
  }
  // Waits until fewer than `window` batches are in flight; false on fatal.
  bool WaitForWindow(uint32_t window) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < window || !fatal_.ok(); });
    return fatal_.ok();
  }
  // Waits until no batch is in flight; false on timeout.
  bool WaitDrained(int64_t timeout_us) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::microseconds(timeout_us), [&] { return in_flight_ == 0; });
  }
  Status fatal() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fatal_;
  }
  // After this the session no longer touches the ServerContext.
  void DetachContext() {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
  }
  void Cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    if (context_ != nullptr) context_->TryCancel();
  }

 private:
  void WriterLoop() {
    for (;;) {
      v1::IngestResponse next;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return closing_ || !outbox_.empty(); });
        if (outbox_.empty()) {
          writer_done_ = true;
          return;
        }
        next = std::move(outbox_.front());
        outbox_.pop_front();
      }
      if (!broken_ && !stream_->Write(next)) broken_ = true;  // client gone: drop the rest
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  grpc::ServerContext* context_;
  Stream* stream_;
  std::string agent_id_;
  std::deque<v1::IngestResponse> outbox_;
  bool closing_ = false;
  bool writer_done_ = false;
  bool broken_ = false;  // writer thread only
  uint32_t in_flight_ = 0;
  Status fatal_;
  std::thread writer_;
};

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
  return response;
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
  inflight_ = std::make_shared<ByteBudget>(options_.max_inflight_bytes);
  metrics->AddGaugeCallback("orgtrail_collector_ingest_inflight_bytes",
                            "Bytes of validated batches waiting for or in a group commit (all streams)",
                            [budget = inflight_] {
                              return std::vector<std::pair<MetricLabels, double>>{
                                  {{}, static_cast<double>(budget->used())}};
                            });
}

IngestService::~IngestService() = default;

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
  v1::IngestRequest first;
  if (!stream->Read(&first)) return grpc::Status::OK;  // client left before saying hello
  if (!first.has_hello()) {
    return refuse_early(identity->spiffe_id, StreamRefusal(absl::StatusCode::kFailedPrecondition, "hello_required",
                                                           "the first message of a stream must be a Hello"));
  }
  if (first.hello().agent_id() != identity->spiffe_id) {
    return refuse_early(identity->spiffe_id,
                        StreamRefusal(absl::StatusCode::kPermissionDenied, "agent_id_mismatch",
                                      "hello agent_id '" + first.hello().agent_id().substr(0, 256) +
                                          "' is not the certificate's identity " + identity->spiffe_id));
  }

  auto session = std::make_shared<IngestSession>(context, stream, identity->spiffe_id);
  session->StartWriter();
  Register(session.get());
  open_streams_->Add(1);

  v1::IngestResponse ack;
  v1::HelloAck* hello_ack = ack.mutable_hello_ack();
  if (auto state = store_->GetAgentState(identity->spiffe_id)) {
    hello_ack->set_high_water_sequence(state->high_water_sequence);
    hello_ack->set_last_batch_hash(DigestToString(state->last_batch_hash));
  }
  hello_ack->set_collector_id(options_.collector_id);
  hello_ack->set_home_region(options_.policy.home_region);
  hello_ack->set_max_unacked_batches(options_.max_unacked_batches);
  hello_ack->set_max_batch_bytes(static_cast<uint32_t>(options_.policy.max_batch_bytes));
  const uint64_t high_water = hello_ack->high_water_sequence();  // ack is moved to the writer below
  session->Enqueue(std::move(ack));
  v1::TrailConfig config = trail_config_ ? trail_config_() : v1::TrailConfig();
  if (config.version() > first.hello().trail_config_version()) {
    v1::IngestResponse push;
    *push.mutable_trail_config() = std::move(config);
    session->Enqueue(std::move(push));
  }
  logger_->Info("ingest stream open", {{"agent", identity->spiffe_id},
                                       {"epoch", first.hello().epoch()},
                                       {"high_water", high_water}});

  grpc::Status result = RunSession(stream, session, *peer);

  if (!session->WaitDrained(options_.drain_timeout_us)) session->Cancel();
  Unregister(session.get());
  open_streams_->Add(-1);
  Status fatal = session->fatal();
  session->FinishWriter();
  session->DetachContext();
  if (!fatal.ok() && result.ok()) result = ToGrpcStatus(fatal);
  return result;
}

grpc::Status IngestService::RunSession(grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream,
                                       const std::shared_ptr<IngestSession>& session_ptr,
                                       const PeerCredentials& peer) {
  IngestSession* session = session_ptr.get();
  BatchValidator validator(options_.policy, peer);
  const std::string& agent = peer.identity.spiffe_id;
  v1::IngestRequest request;
  for (;;) {
    if (!session->WaitForWindow(options_.max_unacked_batches)) break;
    if (!stream->Read(&request)) break;
    if (!session->fatal().ok()) break;  // fail-stop: nothing more is acknowledged
    if (!request.has_batch()) {
      return Refuse(session, agent,
                    StreamRefusal(absl::StatusCode::kFailedPrecondition, "unexpected_message",
                                  "only batches may follow the Hello"),
                    0);
    }
    const v1::Batch& batch = request.batch();
    batches_received_->Increment();
    events_received_->Increment(static_cast<uint64_t>(batch.events_size()));
    auto ingest = std::make_unique<IngestBatch>();
    if (IsDurableReplay(agent, batch)) {
      // Lost-ack replay: nothing will be stored, so it is acknowledged without
      // re-verification (its signing key may since have been rotated). It
      // still goes through the committer to keep acks in order.
      ingest->agent_id = agent;
      ingest->account_id = peer.identity.account_id;
      ingest->region = peer.identity.region;
      ingest->sequence = batch.sequence();
    } else {
      IngestRefusal refusal;
      if (!validator.Validate(batch, NowMicros(), ingest.get(), &refusal)) {
        return Refuse(session, agent, refusal, batch.sequence());
      }
    }
    // What the validated batch holds in memory until its commit: raw JSON plus extracted fields.
    const uint64_t bytes = 2 * static_cast<uint64_t>(batch.ByteSizeLong()) + 4096;
    inflight_->Acquire(bytes);
    session->BatchSubmitted();
    // The callback keeps the session alive even if Stream() gave up waiting.
    const uint64_t sequence = batch.sequence();
    committer_->Submit(std::move(ingest), [session = session_ptr, sequence, budget = inflight_, bytes](
                                              const Status& status, const BatchOutcome& outcome) {
      budget->Release(bytes);
      if (status.ok()) {
        v1::IngestResponse response;
        v1::Ack* a = response.mutable_ack();
        a->set_sequence(outcome.ack_sequence);
        a->set_events_stored(outcome.events_stored);
        a->set_events_duplicate(outcome.events_duplicate);
        session->Enqueue(std::move(response));
      }
      session->BatchDone(status, sequence);
    });
  }
  return grpc::Status::OK;
}

bool IngestService::IsDurableReplay(const std::string& agent, const v1::Batch& batch) const {
  if (batch.agent_id() != agent || batch.sequence() == 0) return false;
  std::optional<AgentState> state = store_->GetAgentState(agent);
  return state.has_value() && batch.sequence() <= state->high_water_sequence;
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
