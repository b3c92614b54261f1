// Committer: the single writer of the EventStore. Ingest streams Submit()
// verified batches; one thread takes everything pending, writes it as ONE
// synced group commit (EventStore::CommitGroup), then runs every batch's
// callback with its outcome. Concurrent streams therefore share fsyncs and
// synced writes stay large under load.
//
// Fail-stop: the first failed write or fsync makes the committer refuse every
// pending and future batch with UNAVAILABLE ("fail-stop: <why>"); it never
// reports success again, logs the reason once, and sets the
// orgtrail_collector_fail_stop gauge to 1. failed()/failure_reason() feed /healthz.
//
// Thread safety: Submit/failed/failure_reason from any thread. Callbacks run
// on the committer thread (or on the caller's thread when the committer is
// already failed or stopped) and must be quick (enqueue a response, no I/O).
// Stop() (also in the destructor) drains: pending batches are still committed.
#ifndef ORGTRAIL_COLLECTOR_INGEST_COMMITTER_H_
#define ORGTRAIL_COLLECTOR_INGEST_COMMITTER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "collector/store/store.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct CommitterOptions {
  size_t max_group_batches = 512;        // batches per group commit
  size_t max_group_events = 4096;        // events per group commit (bounds one commit's latency, ~100 ms)
};

class Committer {
 public:
  using Callback = std::function<void(const Status& status, const BatchOutcome& outcome)>;

  Committer(EventStore* store, Logger* logger, MetricsRegistry* metrics, CommitterOptions options = {});
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  void Start();
  void Stop();

  void Submit(std::unique_ptr<IngestBatch> batch, Callback callback);

  bool failed() const;
  std::string failure_reason() const;
  size_t pending() const;

 private:
  struct Pending {
    std::unique_ptr<IngestBatch> batch;
    Callback callback;
  };
  void Run();
  void CommitOne(std::vector<Pending>* group);
  void EnterFailStop(const Status& status);

  EventStore* store_;
  Logger* logger_;
  CommitterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool failed_ = false;
  std::string failure_reason_;
  std::thread thread_;

  Histogram* synced_write_seconds_;
  Histogram* group_batches_;
  Histogram* group_events_;
  Counter* events_stored_;
  Counter* events_duplicate_;
  Counter* events_conflict_;
  MetricsRegistry* metrics_;  // for the per-rule refusal counters
  Counter* identity_violations_;
  Counter* batches_stored_;
  Counter* batches_replayed_;
  Counter* chain_breaks_;
  Counter* group_commits_;
  Counter* write_failures_;
  Gauge* fail_stop_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_COMMITTER_H_
