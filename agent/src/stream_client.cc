// The agent's ingest stream (see stream_client.h).
#include "orgtrail/agent/stream_client.h"

#include <algorithm>
#include <chrono>

#include "orgtrail/v1/ingest.grpc.pb.h"

namespace orgtrail::agent {

StreamClient::StreamClient(StreamClientOptions options, Spool* spool, Batcher* batcher,
                           EventIntake* intake, Logger* logger, MetricsRegistry* metrics)
    : options_(std::move(options)),
      spool_(spool),
      batcher_(batcher),
      intake_(intake),
      logger_(logger),
      rng_(std::random_device{}()),
      batches_sent_(metrics->GetCounter("orgtrail_agent_batches_sent_total",
                                        "Batches written to the collector (resends included)")),
      batches_acked_(metrics->GetCounter("orgtrail_agent_batches_acked_total",
                                         "Batches acknowledged by the collector")),
      events_acked_(metrics->GetCounter("orgtrail_agent_events_acked_total",
                                        "Events acknowledged (stored or duplicate)")),
      reconnects_(metrics->GetCounter("orgtrail_agent_reconnects_total",
                                      "Ingest streams (re)opened after a failure")),
      ack_timeouts_(metrics->GetCounter("orgtrail_agent_ack_timeouts_total",
                                        "Streams cancelled: batches in flight and the collector silent for "
                                        "--ack-timeout-ms")),
      dead_letters_(metrics->GetCounter("orgtrail_agent_dead_letter_batches_total",
                                        "Batches refused by the collector and moved to the dead letters")),
      trail_configs_(metrics->GetCounter("orgtrail_agent_trail_configs_received_total",
                                         "TrailConfig messages received and applied")),
      events_refused_by_collector_(metrics->GetCounter(
          "orgtrail_agent_events_refused_by_collector_total",
          "Events the collector refused one by one (recorded there with their reason; batch otherwise stored)")),
      connected_gauge_(metrics->GetGauge("orgtrail_agent_connected",
                                         "1 while an ingest stream is established")),
      acked_gauge_(metrics->GetGauge("orgtrail_agent_acked_sequence",
                                     "Highest sequence acknowledged by the collector")) {}

StreamClient::~StreamClient() { Stop(); }

void StreamClient::Start() {
  stop_ = false;
  disconnected_since_ms_ = NowMs();
  thread_ = std::thread([this] { Run(); });
}

std::string StreamClient::ReadinessFailure(int64_t grace_ms) const {
  if (connected_) return "";
  const int64_t down_ms = NowMs() - disconnected_since_ms_;
  if (down_ms < grace_ms) return "";
  return "no collector connection for " + std::to_string(down_ms / 1000) + " s (trying " +
         std::to_string(options_.collectors.size()) + " address(es))";
}

void StreamClient::Stop() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (context_ != nullptr) context_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StreamClient::Notify() { cv_.notify_all(); }

int64_t StreamClient::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void StreamClient::WatchAcks(grpc::ClientContext* context) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_ && !stream_done_) {
    cv_.wait_for(lock, std::chrono::milliseconds(std::min(500, std::max(1, options_.ack_timeout_ms / 4))));
    if (stop_ || stream_done_) return;
    const bool in_flight = highest_sent_ > acked_;
    const int64_t silent_ms = NowMs() - last_heard_ms_;
    if (in_flight && silent_ms >= options_.ack_timeout_ms) {
      ack_timeouts_->Increment();
      logger_->Warn("no ack from the collector; reopening the stream",
                    {{"silent_ms", silent_ms},
                     {"highest_sent", highest_sent_.load()},
                     {"acked", acked_.load()}});
      context->TryCancel();
      return;
    }
  }
}

void StreamClient::SleepBackoff(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_.load(); });
}

void StreamClient::Run() {
  if (options_.collectors.empty()) {
    logger_->Error("no collector address configured; nothing will be sent");
    return;
  }
  int64_t backoff_ms = options_.backoff_initial_ms;
  size_t address_index = 0;
  bool first = true;
  std::string shard_address;  // where the last "wrong_shard" refusal sent us ("" = the configured list)
  int redirects_in_a_row = 0;
  while (!stop_) {
    const std::string address =
        shard_address.empty() ? options_.collectors[address_index % options_.collectors.size()] : shard_address;
    current_collector_ = address;
    if (!first) reconnects_->Increment();
    first = false;
    bool healthy = false;
    const Status status = RunStream(address, &healthy);
    if (connected_.exchange(false)) disconnected_since_ms_ = NowMs();
    connected_gauge_->Set(0);
    if (stop_) break;
    if (healthy) {
      backoff_ms = options_.backoff_initial_ms;
      redirects_in_a_row = 0;
    }
    std::string redirect;
    {
      std::lock_guard<std::mutex> lock(mu_);
      redirect.swap(shard_redirect_);
    }
    if (!redirect.empty() && redirects_in_a_row++ < 3) {
      logger_->Info("collector serves another shard; following the redirect",
                    {{"collector", address}, {"shard_endpoint", redirect}});
      shard_address = redirect;
      continue;  // at once: this is not a failure
    }
    if (!redirect.empty()) shard_address = redirect;
    logger_->Warn("ingest stream ended; reconnecting",
                  {{"collector", address}, {"error", status.ToString()}, {"backoff_ms", backoff_ms}});
    if (!healthy && redirect.empty()) {
      if (!shard_address.empty()) {
        shard_address.clear();  // the shard's collector failed: back to the configured addresses
      } else {
        ++address_index;  // fail over to the next address
      }
    }
    // Full jitter: sleep uniformly in [backoff/2, backoff].
    std::uniform_int_distribution<int64_t> jitter(backoff_ms / 2, backoff_ms);
    SleepBackoff(jitter(rng_));
    backoff_ms = std::min(options_.backoff_max_ms, backoff_ms * 2);
  }
}

Status StreamClient::RunStream(const std::string& address, bool* healthy) {
  *healthy = false;
  auto credentials = MakeChannelCredentials(options_.tls);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options_.keepalive_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  // A fresh subchannel per stream so a rotated client certificate is used.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, *credentials, args);
  auto stub = v1::Ingest::NewStub(channel);
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return absl::CancelledError("stopping");
    context_ = &context;
    stream_done_ = false;
    hello_received_ = false;
    refused_ = RefusedBatch{};
  }
  auto stream = stub->Stream(&context);
  v1::IngestRequest hello_request;
  v1::Hello* hello = hello_request.mutable_hello();
  hello->set_agent_id(options_.agent_id);
  hello->set_epoch(epoch_);
  hello->set_agent_version(options_.agent_version);
  hello->set_trail_config_version(intake_->trail_config_version());
  stream->Write(hello_request);

  highest_sent_ = 0;
  last_heard_ms_ = NowMs();
  std::thread reader([&] { ReadResponses(stream.get()); });
  std::thread watchdog;
  auto finish = [&](Status status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      context.TryCancel();
    }
    cv_.notify_all();
    reader.join();
    if (watchdog.joinable()) watchdog.join();
    const grpc::Status final_status = stream->Finish();
    RefusedBatch refused;
    {
      std::lock_guard<std::mutex> lock(mu_);
      context_ = nullptr;
      refused = refused_;
    }
    if (refused.present) HandleRefusal(refused);
    if (status.ok() && !final_status.ok()) status = FromGrpcStatus(final_status);
    return status;
  };

  // Wait for the HelloAck.
  v1::HelloAck ack;
  {
    std::unique_lock<std::mutex> lock(mu_);
    const bool got = cv_.wait_for(lock, std::chrono::milliseconds(options_.hello_timeout_ms), [&] {
      return hello_received_ || stream_done_ || stop_;
    });
    if (!hello_received_) {
      lock.unlock();
      return finish(got ? absl::UnavailableError("stream closed before HelloAck")
                        : absl::DeadlineExceededError("no HelloAck within the timeout"));
    }
    ack = hello_ack_;
  }
  batcher_->LimitBatchBytes(ack.max_batch_bytes());
  batcher_->LimitBatchEvents(ack.max_events_per_batch());
  auto first_to_send = batcher_->Reconcile(ack.high_water_sequence(), ack.last_batch_hash());
  if (!first_to_send.ok()) return finish(first_to_send.status());
  uint64_t next_to_send = *first_to_send;
  acked_ = std::max<uint64_t>(acked_, ack.high_water_sequence());
  const uint32_t window = std::max<uint32_t>(
      1, ack.max_unacked_batches() > 0 ? std::min(options_.window, ack.max_unacked_batches())
                                       : options_.window);
  *healthy = true;
  connected_ = true;
  connected_gauge_->Set(1);
  logger_->Info("ingest stream established",
                {{"collector", address},
                 {"high_water", ack.high_water_sequence()},
                 {"epoch", epoch_.load()},
                 {"window", window},
                 {"next_sequence", next_to_send}});
  Notify();  // the batcher may seal now that the sequence is confirmed
  last_heard_ms_ = NowMs();
  watchdog = std::thread([&] { WatchAcks(&context); });

  // Sender loop: this thread is the only writer.
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(500), [&] {
        if (stop_ || stream_done_) return true;
        const SpoolStats stats = spool_->Stats();
        const bool have = stats.highest_sealed_sequence.has_value() &&
                          *stats.highest_sealed_sequence >= next_to_send;
        return have && next_to_send <= acked_ + window;
      });
      if (stop_ || stream_done_) break;
    }
    next_to_send = std::max<uint64_t>(next_to_send, acked_ + 1);
    if (next_to_send > acked_ + window) continue;
    // A few batches per read: each is parsed in memory until written (RSS), and the loop comes
    // straight back while the window has room.
    constexpr size_t kMaxBatchesPerRead = 4;
    const size_t room = std::min<size_t>(kMaxBatchesPerRead, acked_ + window - next_to_send + 1);
    std::vector<v1::Batch> batches = spool_->ReadBatchesFrom(next_to_send, room);
    bool write_failed = false;
    for (auto& batch : batches) {
      v1::IngestRequest request;
      const uint64_t sequence = batch.sequence();
      *request.mutable_batch() = std::move(batch);
      // In flight from here (a Write can block on a stalled connection): the collector's
      // silence counts from the first batch in flight (WatchAcks).
      if (highest_sent_ <= acked_) last_heard_ms_ = NowMs();
      if (sequence > highest_sent_) highest_sent_ = sequence;
      if (!stream->Write(request)) {
        write_failed = true;
        break;
      }
      batches_sent_->Increment();
      next_to_send = sequence + 1;
    }
    if (write_failed) break;
  }
  return finish(absl::UnavailableError("ingest stream closed"));
}

void StreamClient::ReadResponses(
    grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>* stream) {
  v1::IngestResponse response;
  while (stream->Read(&response)) {
    last_heard_ms_ = NowMs();
    if (response.has_hello_ack()) {
      std::lock_guard<std::mutex> lock(mu_);
      hello_ack_ = response.hello_ack();
      hello_received_ = true;
      intake_->SetCollectorRules(hello_ack_);
    } else if (response.has_ack()) {
      const uint64_t sequence = response.ack().sequence();
      const Status pruned = spool_->PruneThrough(sequence);
      if (!pruned.ok()) logger_->Error("spool prune failed", {{"error", pruned.ToString()}});
      if (sequence > acked_) acked_ = sequence;
      acked_gauge_->Set(static_cast<double>(acked_.load()));
      batches_acked_->Increment();
      events_acked_->Increment(response.ack().events_stored() + response.ack().events_duplicate());
      ReportRefusedEvents(response.ack());
    } else if (response.has_trail_config()) {
      const v1::TrailConfig& config = response.trail_config();
      if (!intake_->has_trail_config() || config.version() > intake_->trail_config_version()) {
        const Status stored = spool_->PutTrailConfig(config);
        if (!stored.ok()) {
          logger_->Error("could not persist trail config", {{"error", stored.ToString()}});
        } else {
          intake_->SetTrailConfig(config);
          trail_configs_->Increment();
          logger_->Info("trail config applied", {{"version", config.version()},
                                                  {"trails", config.trails_size()}});
        }
      }
    } else if (response.has_error()) {
      const v1::IngestError& error = response.error();
      std::lock_guard<std::mutex> lock(mu_);
      if (error.rule() == "wrong_shard" && !error.shard_endpoint().empty() && error.shard_endpoint().size() <= 300 &&
          error.shard_endpoint().find_first_of(" /\n\r\t") == std::string::npos) {
        shard_redirect_ = error.shard_endpoint();
      }
      if (error.sequence() > 0) {
        refused_.present = true;
        refused_.sequence = error.sequence();
        refused_.code = error.code();
        refused_.reason = error.rule() + ": " + error.message();
      }
      logger_->Error("collector refused", {{"sequence", error.sequence()},
                                           {"rule", error.rule()},
                                           {"message", error.message()},
                                           {"event_index", error.event_index()},
                                           {"event_id", error.event_id()}});
    }
    cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stream_done_ = true;
  }
  cv_.notify_all();
}

void StreamClient::ReportRefusedEvents(const v1::Ack& ack) {
  if (ack.events_refused() == 0) return;
  events_refused_by_collector_->Increment(ack.events_refused());
  for (const v1::RefusedEventNotice& notice : ack.refused()) {
    logger_->Error("collector refused an event (recorded there: orgtrailctl list-refused); the batch's other "
                   "events are stored",
                   {{"sequence", ack.sequence()},
                    {"leaf_index", notice.leaf_index()},
                    {"event_id", notice.event_id()},
                    {"rule", notice.rule()},
                    {"message", notice.message()}});
  }
}

void StreamClient::HandleRefusal(const RefusedBatch& refused) {
  if (refused.sequence <= acked_) return;
  if (refused.code == static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    int& retries = unauthenticated_retries_[refused.sequence];
    if (retries < options_.max_unauthenticated_retries) {
      ++retries;
      logger_->Warn("batch signature refused; re-signing with the current key and retrying",
                    {{"sequence", refused.sequence}, {"attempt", retries}});
      const Status resigned = batcher_->ResignAll();
      if (!resigned.ok()) logger_->Error("re-sign failed", {{"error", resigned.ToString()}});
      return;
    }
  }
  // Only refusals that a resend cannot cure go to the dead letters; transient
  // ones (UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL, ...) are retried.
  const auto code = static_cast<grpc::StatusCode>(refused.code);
  const bool permanent = code == grpc::StatusCode::INVALID_ARGUMENT ||
                         code == grpc::StatusCode::PERMISSION_DENIED ||
                         code == grpc::StatusCode::OUT_OF_RANGE ||
                         code == grpc::StatusCode::DATA_LOSS ||
                         code == grpc::StatusCode::UNAUTHENTICATED;
  if (!permanent) {
    logger_->Warn("batch refused with a transient error; it will be resent",
                  {{"sequence", refused.sequence}, {"reason", refused.reason}});
    return;
  }
  const Status moved = spool_->DeadLetter(refused.sequence, refused.reason);
  if (moved.ok()) {
    dead_letters_->Increment();
    logger_->Error("batch moved to the dead letters",
                   {{"sequence", refused.sequence}, {"reason", refused.reason}});
  } else if (!absl::IsNotFound(moved)) {
    logger_->Error("could not dead-letter batch", {{"error", moved.ToString()}});
  }
}

}  // namespace orgtrail::agent
