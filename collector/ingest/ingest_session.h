// IngestSession: the server side of one Hello'd Ingest stream: an outbox
// drained by its own writer thread (so the committer never blocks on a slow
// client), the count of batches in flight, the first fatal status, and the
// StreamCloser the StreamRegistry uses to fence or close the stream.
//
// Acks: a callback of the committer calls BatchDone/BatchFailed; once a batch
// failed (fail-stop, or a sequence conflict found at commit time) no further
// ack is sent on this stream, because a cumulative ack would then cover the
// failed batch.
//
// Closing: Close() queues an IngestError carrying the reason and, once the
// writer has written it, cancels the call (the only way the gRPC sync API
// ends a call whose handler is blocked in Read); the client reads the
// IngestError, then the call ends CANCELLED.
//
// Thread safety: all methods from any thread; StartWriter/FinishWriter and
// DetachContext from the stream's handler thread.
#ifndef ORGTRAIL_COLLECTOR_INGEST_INGEST_SESSION_H_
#define ORGTRAIL_COLLECTOR_INGEST_INGEST_SESSION_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "collector/ingest/stream_registry.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/ingest.grpc.pb.h"

namespace orgtrail::collector {

class IngestSession final : public StreamCloser {
 public:
  using Stream = grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>;
  IngestSession(grpc::ServerContext* context, Stream* stream, std::string agent_id);
  ~IngestSession() override;

  const std::string& agent_id() const { return agent_id_; }

  void StartWriter();
  // Queues a response (dropped once the writer finished).
  void Enqueue(v1::IngestResponse response);
  // Flushes the outbox and joins the writer thread.
  void FinishWriter();

  // False when the stream is fenced or failed: the batch must not be submitted.
  bool BatchSubmitted();
  // A batch's commit finished with `status` (non-OK: fail-stop). Sends the ack
  // (`ack` set) only while the stream has not failed.
  void BatchDone(const Status& status, uint64_t sequence, const v1::Ack* ack);
  // A batch's commit outcome contradicts what the stream decided at read time
  // (a sequence conflict found by the committer): IngestError, no more acks.
  void BatchFailed(const Status& status, uint64_t sequence, const std::string& rule);

  // Waits until fewer than `window` batches are in flight; false on fatal or fenced.
  bool WaitForWindow(uint32_t window);
  // Waits until no batch is in flight; false on timeout.
  bool WaitDrained(int64_t timeout_us);
  Status fatal() const;
  bool fenced() const;
  // After this the session no longer touches the ServerContext.
  void DetachContext();
  void Cancel();

  // StreamCloser.
  bool FenceAndDrain(int64_t timeout_us) override;
  void Close(const StreamClose& why) override;

 private:
  struct Outgoing {
    v1::IngestResponse response;
    bool cancel_after = false;  // cancel the call once this is written
  };
  void EnqueueLocked(Outgoing item);
  void SetFatalLocked(const Status& status, uint64_t sequence, const std::string& rule);
  void WriterLoop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  grpc::ServerContext* context_;
  Stream* stream_;
  std::string agent_id_;
  std::deque<Outgoing> outbox_;
  bool closing_ = false;
  bool writer_done_ = false;
  bool broken_ = false;  // writer thread only
  bool fenced_ = false;
  uint32_t in_flight_ = 0;
  Status fatal_;
  std::thread writer_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_INGEST_SESSION_H_
