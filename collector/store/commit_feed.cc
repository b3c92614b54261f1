// CommitFeed (subscribe_feed.h).
#include "collector/store/commit_feed.h"

namespace orgtrail::collector {

CommitFeed::CommitFeed(EventStore* store) : state_(std::make_shared<State>()) {
  state_->last = store->last_commit_index();
  std::weak_ptr<State> weak = state_;
  store->AddCommitListener([weak](uint64_t /*first*/, uint64_t last) {
    auto state = weak.lock();
    if (!state) return;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (last > state->last) state->last = last;
    }
    state->cv.notify_all();
  });
}

CommitFeed::~CommitFeed() { Shutdown(); }

uint64_t CommitFeed::last() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->last;
}

uint64_t CommitFeed::WaitBeyond(uint64_t after, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->cv.wait_until(lock, deadline, [&] { return state_->last > after || state_->shut_down; });
  return state_->last;
}

void CommitFeed::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->shut_down = true;
  }
  state_->cv.notify_all();
}

bool CommitFeed::shut_down() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->shut_down;
}

}  // namespace orgtrail::collector
