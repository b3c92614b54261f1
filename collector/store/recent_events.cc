// The newest committed events in memory (see recent_events.h).
#include "collector/store/recent_events.h"

namespace orgtrail::collector {
namespace {

uint64_t SizeOf(const RecentEvents::Entry& e) { return e.event_key.size() + e.value.size() + sizeof(e); }

}  // namespace

void RecentEvents::Append(std::vector<Entry> entries) {
  if (max_bytes_ == 0 || entries.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (Entry& e : entries) {
    if (!entries_.empty() && e.commit_index != entries_.back().commit_index + 1) {
      entries_.clear();  // not consecutive: the window restarts here
      bytes_ = 0;
    }
    bytes_ += SizeOf(e);
    entries_.push_back(std::move(e));
  }
  while (!entries_.empty() && bytes_ > max_bytes_) {
    bytes_ -= SizeOf(entries_.front());
    entries_.pop_front();
  }
}

bool RecentEvents::Read(uint64_t commit_index, std::string* key, std::string* value) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.empty() || commit_index < entries_.front().commit_index ||
      commit_index > entries_.back().commit_index) {
    return false;
  }
  const Entry& e = entries_[commit_index - entries_.front().commit_index];
  key->assign(e.event_key);
  value->assign(e.value);
  return true;
}

uint64_t RecentEvents::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t RecentEvents::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace orgtrail::collector
