// StreamClient: the agent's side of orgtrail.v1.Ingest/Stream (PROTOCOL.md).
//
// One background thread keeps one stream open at a time:
//   connect (mTLS, FileWatcherCertificateProvider: rotated files are used by
//   the next handshake without a restart) -> Hello{agent_id, epoch,
//   trail_config_version} -> HelloAck -> Batcher::Reconcile (prunes what the
//   collector already has, re-seals on a sequence collision) -> send sealed
//   batches in sequence order with at most `window` unacknowledged ->
//   cumulative Acks prune the spool; TrailConfig messages are stored in the
//   spool first, then applied to the intake; an IngestError moves the refused
//   batch to the dead letters (UNAUTHENTICATED refusals, e.g. a batch signed
//   with a just-rotated key on a connection still using the old
//   certificate, are retried a few times after re-signing instead).
// On any failure: reconnect with exponential backoff and full jitter, to the
// next collector address (failover round robin). HTTP/2 keepalive pings
// detect dead connections. Sharded ingest: a collector that does not serve the
// agent's account refuses the Hello with rule "wrong_shard" naming the shard's
// endpoint; the agent reconnects there at once and stays with it while its
// streams are healthy (back to the configured addresses when it fails; after
// 3 redirects in a row without a healthy stream, the usual backoff applies).
//
// Thread safety: Start/Stop from one thread; Notify() and the getters from
// any thread.
#ifndef ORGTRAIL_AGENT_STREAM_CLIENT_H_
#define ORGTRAIL_AGENT_STREAM_CLIENT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "orgtrail/agent/batcher.h"
#include "orgtrail/agent/intake.h"
#include "orgtrail/agent/spool.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::agent {

struct StreamClientOptions {
  std::vector<std::string> collectors;  // host:port, tried in order (failover)
  TlsFiles tls;
  std::string agent_id;
  std::string agent_version;
  uint32_t window = 32;                 // max unacknowledged batches (collector may lower it)
  int64_t backoff_initial_ms = 200;
  int64_t backoff_max_ms = 10000;
  int keepalive_ms = 20000;
  int hello_timeout_ms = 30000;
  // With batches in flight and nothing heard from the collector (no ack, no message) for this
  // long, the stream is cancelled and reopened: a half-open connection (peer gone, no RST) or a
  // stalled proxy would otherwise keep the agent "connected" until TCP or keepalive gave up.
  int ack_timeout_ms = 15000;
  int max_unauthenticated_retries = 3;
};

class StreamClient {
 public:
  StreamClient(StreamClientOptions options, Spool* spool, Batcher* batcher, EventIntake* intake,
               Logger* logger, MetricsRegistry* metrics);
  ~StreamClient();
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  void SetEpoch(uint64_t epoch) { epoch_ = epoch; }
  void Start();
  void Stop();
  // New batches were sealed (wakes the sender).
  void Notify();

  bool connected() const { return connected_; }
  // Readiness: "" while a stream to a collector is up or was up less than grace_ms ago (also
  // counted from Start()), else how long the agent has had no collector.
  std::string ReadinessFailure(int64_t grace_ms) const;
  uint64_t acked_sequence() const { return acked_; }
  const std::string& current_collector() const { return current_collector_; }

 private:
  struct RefusedBatch {
    bool present = false;
    uint64_t sequence = 0;
    int code = 0;
    std::string reason;
  };
  void Run();
  // One stream's life. *healthy: the stream got as far as a HelloAck.
  Status RunStream(const std::string& address, bool* healthy);
  void ReadResponses(grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>* stream);
  // Cancels `context` when batches are in flight and the collector was silent for
  // ack_timeout_ms; returns when the stream is done or the client stops.
  void WatchAcks(grpc::ClientContext* context);
  static int64_t NowMs();
  void HandleRefusal(const RefusedBatch& refused);
  // Logs and counts the events the collector refused one by one in an acked batch.
  void ReportRefusedEvents(const v1::Ack& ack);
  void SleepBackoff(int64_t ms);

  StreamClientOptions options_;
  Spool* spool_;
  Batcher* batcher_;
  EventIntake* intake_;
  Logger* logger_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> disconnected_since_ms_{0};  // when connected_ last became false (or Start)
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> highest_sent_{0};       // highest sequence written on the current stream
  std::atomic<int64_t> last_heard_ms_{0};       // steady clock, last message from the collector
  std::string current_collector_;
  std::thread thread_;
  std::mt19937_64 rng_;

  std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  grpc::ClientContext* context_ = nullptr;
  bool stream_done_ = false;
  bool hello_received_ = false;
  v1::HelloAck hello_ack_;
  RefusedBatch refused_;
  std::string shard_redirect_;  // "wrong_shard": the endpoint to connect to next ("" = none)
  std::map<uint64_t, int> unauthenticated_retries_;

  Counter* batches_sent_;
  Counter* batches_acked_;
  Counter* events_acked_;
  Counter* reconnects_;
  Counter* ack_timeouts_;
  Counter* dead_letters_;
  Counter* trail_configs_;
  Counter* events_refused_by_collector_;
  Gauge* connected_gauge_;
  Gauge* acked_gauge_;
};

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_STREAM_CLIENT_H_
