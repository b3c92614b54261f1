#include "collector/ingest/stream_registry.h"

#include <chrono>
#include <vector>

#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {

namespace {
constexpr char kClosedMetric[] = "orgtrail_collector_ingest_streams_closed_total";
constexpr char kClosedHelp[] = "Ingest streams the collector closed, by reason";
}  // namespace

AdmittedStream::AdmittedStream(std::string identity, std::string peer, grpc::ServerContext* context, int64_t now_us,
                               RevocationSubject certificate)
    : identity_(std::move(identity)), peer_(std::move(peer)), opened_us_(now_us),
      certificate_(std::move(certificate)), last_activity_us_(now_us), context_(context) {}

void AdmittedStream::Touch() { last_activity_us_.store(NowMicros()); }

void AdmittedStream::AddInFlight(int delta) {
  in_flight_.fetch_add(delta);
  Touch();
}

void AdmittedStream::SetCloser(std::shared_ptr<StreamCloser> closer) {
  std::lock_guard<std::mutex> lock(mu_);
  closer_ = std::move(closer);
}

std::optional<StreamClose> AdmittedStream::closed_by_registry() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

bool AdmittedStream::RequestClose(const StreamClose& why, int64_t now_us) {
  std::shared_ptr<StreamCloser> closer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_.has_value()) return false;
    closed_ = why;
    close_requested_us_ = now_us;
    closer = closer_;
  }
  if (closer != nullptr) {
    closer->Close(why);
  } else {
    CancelCall();  // no session yet (no Hello): nothing to tell the client over the stream
  }
  return true;
}

void AdmittedStream::CancelCall() {
  std::lock_guard<std::mutex> lock(mu_);
  if (context_ != nullptr && !cancelled_) {
    cancelled_ = true;
    context_->TryCancel();
  }
}

void AdmittedStream::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  context_ = nullptr;
  closer_.reset();
}

StreamRegistry::StreamRegistry(StreamLimits limits, Logger* logger, MetricsRegistry* metrics)
    : limits_(limits), logger_(logger), metrics_(metrics) {
  fenced_ = metrics->GetCounter("orgtrail_collector_ingest_streams_fenced_total",
                                "Ingest streams closed because a newer stream of the same agent identity opened");
  // Registered up front so that every reason shows (at 0) before it happens.
  for (const char* reason : {"hello_timeout", "idle_timeout", "certificate_revoked", "certificate_expired"}) {
    metrics->GetCounter(kClosedMetric, kClosedHelp, {{"reason", reason}});
  }
  forced_cancels_ = metrics->GetCounter("orgtrail_collector_ingest_streams_force_cancelled_total",
                                        "Closed ingest streams still open after the close grace, then cancelled");
  metrics->AddGaugeCallback("orgtrail_collector_ingest_streams_admitted",
                            "Admitted ingest streams, with or without their Hello", [this] {
                              return std::vector<std::pair<MetricLabels, double>>{
                                  {{}, static_cast<double>(open_streams())}};
                            });
}

StreamRegistry::~StreamRegistry() { Stop(); }

void StreamRegistry::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (watchdog_.joinable()) return;
  stopping_ = false;
  watchdog_ = std::thread([this] { WatchdogLoop(); });
}

void StreamRegistry::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

size_t StreamRegistry::open_streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_.size();
}

StatusOr<std::shared_ptr<AdmittedStream>> StreamRegistry::Admit(const std::string& identity, const std::string& peer,
                                                                grpc::ServerContext* context, std::string* rule,
                                                                RevocationSubject certificate) {
  std::lock_guard<std::mutex> lock(mu_);
  if (streams_.size() >= limits_.max_streams) {
    *rule = "stream_cap_total";
    return absl::ResourceExhaustedError("the collector already has " + std::to_string(streams_.size()) +
                                        " ingest streams (--max-ingest-streams " +
                                        std::to_string(limits_.max_streams) + ")");
  }
  IdentityState& state = identities_[identity];
  if (state.streams >= limits_.max_streams_per_identity) {
    *rule = "stream_cap_identity";
    return absl::ResourceExhaustedError(identity + " already has " + std::to_string(state.streams) +
                                        " ingest streams (--max-streams-per-identity " +
                                        std::to_string(limits_.max_streams_per_identity) + ")");
  }
  auto stream = std::make_shared<AdmittedStream>(identity, peer, context, NowMicros(), std::move(certificate));
  ++state.streams;
  streams_.insert(stream);
  return stream;
}

Status StreamRegistry::Activate(const std::shared_ptr<AdmittedStream>& stream, uint64_t epoch) {
  std::shared_ptr<std::mutex> handover;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handover = identities_[stream->identity()].handover;
  }
  // One handover per identity at a time: a second new stream waits until the
  // first has fenced and drained its predecessor.
  std::lock_guard<std::mutex> handover_lock(*handover);
  std::shared_ptr<AdmittedStream> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    IdentityState& state = identities_[stream->identity()];
    if (state.live != nullptr && state.live != stream && state.live->epoch() > epoch) {
      return absl::AbortedError("stale_epoch: epoch " + std::to_string(epoch) + " is older than epoch " +
                                std::to_string(state.live->epoch()) + " of the live stream of " + stream->identity() +
                                " opened at " + FormatRfc3339Seconds(state.live->opened_us()) + " from " +
                                state.live->peer());
    }
    old = state.live;
    stream->epoch_.store(epoch);
    stream->hello_seen_.store(true);
    stream->Touch();
    state.live = stream;
  }
  if (old == nullptr || old == stream) return Status();
  StreamClose why;
  why.code = absl::StatusCode::kAborted;
  why.rule = "fenced";
  why.message = "fenced by a newer stream of " + stream->identity() + " (epoch " + std::to_string(epoch) +
                ") opened at " + FormatRfc3339Seconds(stream->opened_us()) + " from " + stream->peer() +
                "; this stream (epoch " + std::to_string(old->epoch()) + ", opened at " +
                FormatRfc3339Seconds(old->opened_us()) + " from " + old->peer() + ") may send no more batches";
  std::shared_ptr<StreamCloser> closer;
  {
    std::lock_guard<std::mutex> lock(old->mu_);
    closer = old->closer_;
  }
  bool drained = true;
  if (closer != nullptr) drained = closer->FenceAndDrain(limits_.fence_drain_timeout_us);
  fenced_->Increment();
  logger_->Warn("ingest stream fenced", {{"agent", stream->identity()},
                                         {"old_peer", old->peer()},
                                         {"old_epoch", old->epoch()},
                                         {"old_opened", FormatRfc3339Seconds(old->opened_us())},
                                         {"new_peer", stream->peer()},
                                         {"new_epoch", epoch},
                                         {"drained", drained}});
  old->RequestClose(why, NowMicros());
  if (!drained) {
    // Its batches are still in the committer: the new stream's HelloAck could
    // be behind them. Safe anyway (the committer's outcome is checked), but say so.
    logger_->Error("fenced stream did not drain in time", {{"agent", stream->identity()}, {"old_peer", old->peer()}});
  }
  return Status();
}

void StreamRegistry::Release(const std::shared_ptr<AdmittedStream>& stream) {
  stream->Detach();
  std::lock_guard<std::mutex> lock(mu_);
  if (streams_.erase(stream) == 0) return;
  auto it = identities_.find(stream->identity());
  if (it == identities_.end()) return;
  if (it->second.live == stream) it->second.live.reset();
  if (--it->second.streams == 0 && it->second.live == nullptr && it->second.handover.use_count() == 1) {
    identities_.erase(it);
  }
}

void StreamRegistry::CloseStream(const std::shared_ptr<AdmittedStream>& stream, const StreamClose& why) {
  if (!stream->RequestClose(why, NowMicros())) return;
  metrics_->GetCounter(kClosedMetric, kClosedHelp, {{"reason", why.rule}})->Increment();
  logger_->Warn("ingest stream closed", {{"agent", stream->identity()},
                                         {"peer", stream->peer()},
                                         {"reason", why.rule},
                                         {"detail", why.message}});
}

size_t StreamRegistry::CloseMatching(const CloseDecision& decide) {
  std::vector<std::pair<std::shared_ptr<AdmittedStream>, StreamClose>> to_close;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : streams_) {
      {
        std::lock_guard<std::mutex> stream_lock(s->mu_);
        if (s->closed_.has_value()) continue;
      }
      if (std::optional<StreamClose> why = decide(*s)) to_close.push_back({s, std::move(*why)});
    }
  }
  for (auto& [stream, why] : to_close) CloseStream(stream, why);
  return to_close.size();
}

void StreamRegistry::WatchdogLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::microseconds(limits_.watchdog_period_us), [&] { return stopping_; });
    if (stopping_) break;
    const int64_t now = NowMicros();
    std::vector<std::pair<std::shared_ptr<AdmittedStream>, StreamClose>> to_close;
    std::vector<std::shared_ptr<AdmittedStream>> to_cancel;
    for (const auto& s : streams_) {
      {
        std::lock_guard<std::mutex> stream_lock(s->mu_);
        if (s->closed_.has_value()) {
          if (!s->cancelled_ && s->context_ != nullptr && now - s->close_requested_us_ >= limits_.close_grace_us) {
            to_cancel.push_back(s);
          }
          continue;
        }
      }
      const int64_t not_after = s->certificate().not_after_us;
      if (not_after > 0 && now >= not_after) {
        to_close.push_back({s, {absl::StatusCode::kUnauthenticated, "certificate_expired",
                                "the client certificate (serial " + s->certificate().serial + ") expired at " +
                                    FormatRfc3339Seconds(not_after) +
                                    "; reconnect with a renewed certificate (orgtrailctl pki renew)"}});
      } else if (!s->hello_seen_.load()) {
        if (now - s->opened_us() >= limits_.hello_timeout_us) {
          to_close.push_back({s, {absl::StatusCode::kDeadlineExceeded, "hello_timeout",
                                  "no Hello within " + std::to_string(limits_.hello_timeout_us / 1000) +
                                      " ms (--hello-timeout-ms)"}});
        }
      } else if (s->in_flight_.load() == 0 && now - s->last_activity_us_.load() >= limits_.idle_timeout_us) {
        to_close.push_back({s, {absl::StatusCode::kDeadlineExceeded, "idle_timeout",
                                "no message for " + std::to_string(limits_.idle_timeout_us / 1000) +
                                    " ms (--stream-idle-timeout-ms) and no batch in flight"}});
      }
    }
    lock.unlock();
    for (auto& [stream, why] : to_close) CloseStream(stream, why);
    for (auto& stream : to_cancel) {
      forced_cancels_->Increment();
      logger_->Warn("ingest stream did not end after its close; cancelling",
                    {{"agent", stream->identity()}, {"peer", stream->peer()}});
      stream->CancelCall();
    }
    lock.lock();
  }
}

}  // namespace orgtrail::collector
