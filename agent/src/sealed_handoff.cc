// In-memory handoff of just-committed batches to the stream (see sealed_handoff.h).
#include "sealed_handoff.h"

#include <utility>

namespace orgtrail::agent {

void SealedHandoff::Put(v1::Batch batch, size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes > max_bytes_) return;
  const uint64_t sequence = batch.sequence();
  auto [it, inserted] = kept_.try_emplace(sequence);
  if (!inserted) bytes_ -= it->second.bytes;
  it->second = Entry{std::move(batch), bytes};
  bytes_ += bytes;
  while (bytes_ > max_bytes_ && !kept_.empty()) {
    bytes_ -= kept_.begin()->second.bytes;
    kept_.erase(kept_.begin());
  }
}

std::vector<v1::Batch> SealedHandoff::Take(uint64_t first, size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  DropBelowLocked(first);
  std::vector<v1::Batch> out;
  for (auto it = kept_.begin(); it != kept_.end() && out.size() < max && it->first == first + out.size();) {
    bytes_ -= it->second.bytes;
    out.push_back(std::move(it->second.batch));
    it = kept_.erase(it);
  }
  return out;
}

void SealedHandoff::DropThrough(uint64_t sequence) {
  std::lock_guard<std::mutex> lock(mu_);
  DropBelowLocked(sequence + 1);
}

void SealedHandoff::Drop(uint64_t sequence) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = kept_.find(sequence);
  if (it == kept_.end()) return;
  bytes_ -= it->second.bytes;
  kept_.erase(it);
}

void SealedHandoff::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  kept_.clear();
  bytes_ = 0;
}

void SealedHandoff::DropBelowLocked(uint64_t sequence) {
  while (!kept_.empty() && kept_.begin()->first < sequence) {
    bytes_ -= kept_.begin()->second.bytes;
    kept_.erase(kept_.begin());
  }
}

}  // namespace orgtrail::agent
