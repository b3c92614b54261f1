// The spool's backlog: what sources that can wait (files) wait on (see spool.h).
#include <chrono>

#include "orgtrail/agent/spool.h"

namespace orgtrail::agent {

Spool::Backlog Spool::WaitForBacklogAtMost(uint64_t bytes, std::chrono::milliseconds max_wait) const {
  std::unique_lock<std::mutex> lock(mu_);
  backlog_shrank_.wait_for(lock, max_wait, [&] { return pending_bytes_ + sealed_bytes_ <= bytes; });
  Backlog backlog;
  backlog.bytes = pending_bytes_ + sealed_bytes_;
  backlog.ms_since_ack = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - last_ack_time_)
                             .count();
  return backlog;
}

}  // namespace orgtrail::agent
