// ByteBudget: bounds the bytes of work in flight across threads (here: validated batches that
// wait for, or are in, a group commit, over all ingest streams), so the collector's memory does
// not grow with the number of streams times their windows.
//
// Acquire blocks until the bytes fit, except that one holder may always proceed when nothing
// else is held (a single batch larger than the budget is not a deadlock). Every Acquire must be
// matched by a Release of the same size. Thread-safe.
#ifndef ORGTRAIL_COLLECTOR_INGEST_BYTE_BUDGET_H_
#define ORGTRAIL_COLLECTOR_INGEST_BYTE_BUDGET_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace orgtrail::collector {

class ByteBudget {
 public:
  explicit ByteBudget(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  void Acquire(uint64_t bytes) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return used_ == 0 || used_ + bytes <= max_bytes_; });
    used_ += bytes;
  }
  void Release(uint64_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      used_ -= bytes;
    }
    cv_.notify_all();
  }
  uint64_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }

 private:
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t used_ = 0;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_BYTE_BUDGET_H_
