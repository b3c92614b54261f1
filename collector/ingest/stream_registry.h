// StreamRegistry: the table of open Ingest streams, their limits and fencing
// (proto/PROTOCOL.md "Stream limits and fencing"; deploy/README.md "Two
// machines with one agent identity").
//
// Admission (before the Hello is read): a stream is refused at once with
// RESOURCE_EXHAUSTED when the collector already has `max_streams` ingest
// streams, or its identity (the client certificate's SPIFFE ID) already has
// `max_streams_per_identity`; streams that have not sent their Hello yet
// count. A refused stream never waits for a message, so it holds its gRPC
// thread only for the refusal.
//
// Fencing (at the Hello): one live stream per identity. A new stream whose
// Hello epoch is >= the live stream's epoch becomes the live stream and the
// old one is fenced: it may submit no further batch, its batches in flight
// are waited for (so the new stream's HelloAck reports a high-water that
// includes them), and it is then closed with ABORTED "fenced by ...". Equal
// epochs fence too: an agent keeps its epoch across reconnects, so its new
// connection must win over its own half-open old one. A Hello with an epoch
// lower than the live stream's is refused (ABORTED, rule stale_epoch) and the
// live stream goes on.
//
// Deadlines (a watchdog thread, one for all streams): a stream with no Hello
// after `hello_timeout_us`, a Hello'd stream with no batch in flight and no
// message (or ack) for `idle_timeout_us`, and any stream whose client
// certificate's notAfter has passed (UNAUTHENTICATED, rule
// certificate_expired) are closed. Closing asks the
// stream's StreamCloser (which sends an IngestError and cancels the call);
// a stream without one, or one still open `close_grace_us` after the request,
// is cancelled outright (ServerContext::TryCancel).
//
// Revocation: CloseMatching closes every open stream (Hello'd or not) a
// predicate picks, e.g. those whose certificate a reloaded revocation list
// now names. Streams closed by the registry are counted in
// orgtrail_collector_ingest_streams_closed_total{reason=<rule>}.
//
// Thread safety: every method may be called from any thread. Fence callbacks
// and closers run without the registry's lock held.
#ifndef ORGTRAIL_COLLECTOR_INGEST_STREAM_REGISTRY_H_
#define ORGTRAIL_COLLECTOR_INGEST_STREAM_REGISTRY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/revocation.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct StreamLimits {
  uint32_t max_streams = 1024;             // ingest streams in all, Hello'd or not
  uint32_t max_streams_per_identity = 2;   // per SPIFFE ID, Hello'd or not
  int64_t hello_timeout_us = 10'000'000;   // admission -> Hello
  int64_t idle_timeout_us = 300'000'000;   // no message, no ack and nothing in flight
  int64_t close_grace_us = 2'000'000;      // close request -> outright cancel
  int64_t fence_drain_timeout_us = 30'000'000;  // wait for the fenced stream's batches in flight
  int64_t watchdog_period_us = 100'000;
};

// Why the registry ends a stream.
struct StreamClose {
  absl::StatusCode code = absl::StatusCode::kAborted;
  std::string rule;     // "fenced" | "hello_timeout" | "idle_timeout" | "certificate_revoked" | "certificate_expired"
  std::string message;  // names the other stream for "fenced"
};

// Implemented by the ingest session of a Hello'd stream.
class StreamCloser {
 public:
  virtual ~StreamCloser() = default;
  // Stops the stream from submitting batches and waits (up to timeout) until
  // none is in flight. Returns false on timeout.
  virtual bool FenceAndDrain(int64_t timeout_us) = 0;
  // Sends why as an IngestError and ends the call; does not block.
  virtual void Close(const StreamClose& why) = 0;
};

class StreamRegistry;

// One admitted stream. Held by its Stream() handler until Release.
class AdmittedStream {
 public:
  AdmittedStream(std::string identity, std::string peer, grpc::ServerContext* context, int64_t now_us,
                 RevocationSubject certificate = {});

  const std::string& identity() const { return identity_; }
  // The client certificate (empty fields when the caller gave none; then
  // not_after_us is 0 and the stream is never closed for expiry).
  const RevocationSubject& certificate() const { return certificate_; }
  const std::string& peer() const { return peer_; }
  int64_t opened_us() const { return opened_us_; }
  uint64_t epoch() const { return epoch_.load(); }

  // A message arrived or an ack went out: the idle clock restarts.
  void Touch();
  // Batches in flight; a stream with any is never idle.
  void AddInFlight(int delta);
  // The closer of the Hello'd stream's session (before Activate).
  void SetCloser(std::shared_ptr<StreamCloser> closer);
  // The reason the registry closed (or fenced) this stream, if it did.
  std::optional<StreamClose> closed_by_registry() const;

 private:
  friend class StreamRegistry;
  // Records why and asks the closer (or cancels). First call wins; false after that.
  bool RequestClose(const StreamClose& why, int64_t now_us);
  void CancelCall();
  void Detach();  // the handler is returning: no more TryCancel

  const std::string identity_;
  const std::string peer_;
  const int64_t opened_us_;
  const RevocationSubject certificate_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<bool> hello_seen_{false};
  std::atomic<int64_t> last_activity_us_;
  std::atomic<int> in_flight_{0};
  mutable std::mutex mu_;
  grpc::ServerContext* context_;             // nullptr after Detach
  std::shared_ptr<StreamCloser> closer_;
  std::optional<StreamClose> closed_;
  int64_t close_requested_us_ = 0;
  bool cancelled_ = false;
};

class StreamRegistry {
 public:
  StreamRegistry(StreamLimits limits, Logger* logger, MetricsRegistry* metrics);
  ~StreamRegistry();
  StreamRegistry(const StreamRegistry&) = delete;
  StreamRegistry& operator=(const StreamRegistry&) = delete;

  // The deadline watchdog. Stop() (also in the destructor) joins it.
  void Start();
  void Stop();

  // RESOURCE_EXHAUSTED (message names the cap; *rule is "stream_cap_identity"
  // or "stream_cap_total") when a cap is reached.
  // `certificate` is the stream's client certificate (for CloseMatching and
  // the expiry deadline).
  StatusOr<std::shared_ptr<AdmittedStream>> Admit(const std::string& identity, const std::string& peer,
                                                  grpc::ServerContext* context, std::string* rule,
                                                  RevocationSubject certificate = {});
  // The Hello arrived with `epoch`: makes `stream` its identity's live stream,
  // fencing (and draining) the previous one, or ABORTED (stale_epoch) when the
  // live stream's epoch is higher. Blocks while a fenced stream drains.
  Status Activate(const std::shared_ptr<AdmittedStream>& stream, uint64_t epoch);
  // The handler is returning.
  void Release(const std::shared_ptr<AdmittedStream>& stream);
  // Closes every open stream not yet closed for which decide() returns a
  // reason; returns how many. decide() runs under the registry's lock: it
  // must be quick and must not call the registry.
  using CloseDecision = std::function<std::optional<StreamClose>(const AdmittedStream&)>;
  size_t CloseMatching(const CloseDecision& decide);

  size_t open_streams() const;
  const StreamLimits& limits() const { return limits_; }

 private:
  struct IdentityState {
    uint32_t streams = 0;
    std::shared_ptr<AdmittedStream> live;
    std::shared_ptr<std::mutex> handover = std::make_shared<std::mutex>();  // one Activate at a time
  };
  void WatchdogLoop();
  void CloseStream(const std::shared_ptr<AdmittedStream>& stream, const StreamClose& why);

  const StreamLimits limits_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::shared_ptr<AdmittedStream>> streams_;
  std::map<std::string, IdentityState, std::less<>> identities_;
  bool stopping_ = false;
  std::thread watchdog_;

  Counter* fenced_;
  Counter* forced_cancels_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_STREAM_REGISTRY_H_
