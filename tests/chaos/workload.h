// Workload: the events the harness feeds the cluster's sources while faults
// happen, each recorded in the Ledger when (and only when) the source took
// it:
//  - file writer: appends CloudTrail JSON Lines to each file agent's watched
//    inbox (rotating files); a file agent must take every line written, so
//    every line is a ledger entry. Now and then one global-service (IAM)
//    event is written, byte for byte, into the inboxes of BOTH regions'
//    agents of one account: it must be stored once.
//  - PutEvents client: calls each PutEvents agent's local API; an event is in
//    the ledger once a call answered it as successful. A call that failed
//    without an answer leaves its events "maybe" and is retried with the same
//    bytes until answered.
// Every loop is bounded: it runs until Stop() and each tick writes a bounded
// number of events. Thread-safe: Start/Stop from one thread.
#ifndef ORGTRAIL_TESTS_CHAOS_WORKLOAD_H_
#define ORGTRAIL_TESTS_CHAOS_WORKLOAD_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "cluster.h"
#include "ledger.h"

namespace orgtrail::chaos {

struct WorkloadOptions {
  uint64_t seed = 1;
  int tick_ms = 100;
  int max_file_events_per_tick = 8;
  int max_put_events_per_call = 8;
  int file_rotate_lines = 400;
  int global_every_ticks = 15;
};

class Workload {
 public:
  Workload(ChaosCluster* cluster, Ledger* ledger, WorkloadOptions options);
  ~Workload();
  void Start();
  // Stops producing; then retries unanswered PutEvents calls until answered
  // or `flush_timeout` passes (what stays unanswered stays "maybe").
  void Stop(std::chrono::seconds flush_timeout);

  uint64_t file_events() const { return file_events_.load(); }
  uint64_t put_events_ok() const { return put_ok_.load(); }
  uint64_t put_events_refused() const { return put_refused_.load(); }
  uint64_t put_calls_failed() const { return put_failed_calls_.load(); }
  uint64_t unanswered() const { return unanswered_.load(); }

 private:
  void FileLoop();
  void PutLoop(size_t agent);

  ChaosCluster* cluster_;
  Ledger* ledger_;
  WorkloadOptions options_;
  std::atomic<bool> producing_{false};
  std::atomic<bool> flushing_deadline_passed_{false};
  std::chrono::steady_clock::time_point flush_deadline_;
  std::atomic<uint64_t> file_events_{0};
  std::atomic<uint64_t> put_ok_{0};
  std::atomic<uint64_t> put_refused_{0};
  std::atomic<uint64_t> put_failed_calls_{0};
  std::atomic<uint64_t> unanswered_{0};
  std::vector<std::thread> threads_;
};

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_WORKLOAD_H_
