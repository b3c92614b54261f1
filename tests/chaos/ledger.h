// Ledger: every eventID a source of the chaos cluster accepted, the IDs whose
// fate is unknown (a PutEvents call that got no answer), and the IDs of
// rogue events that must never be stored. The checker compares the
// collector's store against it. Thread-safe (one mutex).
#ifndef ORGTRAIL_TESTS_CHAOS_LEDGER_H_
#define ORGTRAIL_TESTS_CHAOS_LEDGER_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace orgtrail::chaos {

class Ledger {
 public:
  // An event a source took (must be stored exactly once). `source` is a
  // label for the report ("file", "put_events", "generator", "ingest_client").
  void Accept(const std::string& event_id, const std::string& source);
  // An event that may or may not have been taken (no answer): stored once or
  // not at all are both correct; twice is not.
  void MaybeAccept(const std::string& event_id);
  // A rogue event: must never be stored.
  void Rogue(const std::string& event_id);

  std::map<std::string, std::string> accepted() const;
  std::set<std::string> maybe() const;
  std::set<std::string> rogue() const;
  std::map<std::string, uint64_t> AcceptedBySource() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> accepted_;  // id -> source
  std::set<std::string> maybe_;
  std::set<std::string> rogue_;
};

// A deterministic UUID-shaped eventID: run seed, stream number, counter.
std::string ChaosEventId(uint64_t seed, uint32_t stream, uint64_t counter);

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_LEDGER_H_
