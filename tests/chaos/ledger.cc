// Ledger (see ledger.h).
#include "ledger.h"

#include <cstdio>

namespace orgtrail::chaos {

void Ledger::Accept(const std::string& event_id, const std::string& source) {
  std::lock_guard<std::mutex> lock(mu_);
  accepted_.emplace(event_id, source);
  maybe_.erase(event_id);
}

void Ledger::MaybeAccept(const std::string& event_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!accepted_.count(event_id)) maybe_.insert(event_id);
}

void Ledger::Rogue(const std::string& event_id) {
  std::lock_guard<std::mutex> lock(mu_);
  rogue_.insert(event_id);
}

std::map<std::string, std::string> Ledger::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

std::set<std::string> Ledger::maybe() const {
  std::lock_guard<std::mutex> lock(mu_);
  return maybe_;
}

std::set<std::string> Ledger::rogue() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rogue_;
}

std::map<std::string, uint64_t> Ledger::AcceptedBySource() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [id, source] : accepted_) ++out[source];
  return out;
}

std::string ChaosEventId(uint64_t seed, uint32_t stream, uint64_t counter) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-4c%02x-8%03x-%012llx", static_cast<unsigned>(seed & 0xffffffffu),
                stream & 0xffffu, static_cast<unsigned>((seed >> 32) & 0xffu), 0xa5u,
                static_cast<unsigned long long>(counter & 0xffffffffffffull));
  return buf;
}

}  // namespace orgtrail::chaos
