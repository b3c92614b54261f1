#include "orgtrail/agent/readiness_checks.h"

#include <utility>

namespace orgtrail::agent {

void AddAgentReadinessChecks(Readiness* readiness, const Spool* spool, const AgentReadinessOptions& options,
                             Readiness::Check collector_check) {
  readiness->Add("collector", std::move(collector_check));
  readiness->Add("spool", [spool] {
    if (spool->failed()) return std::string("a spool write failed; the agent stops so that its supervisor restarts it");
    const SpoolStats s = spool->Stats();
    const uint64_t used = s.pending_bytes + s.sealed_bytes;
    if (used * 100 < s.max_bytes * 95) return std::string();
    return "spool " + std::to_string(used) + " of " + std::to_string(s.max_bytes) +
           " bytes full (sources pause when it is full)";
  });
  readiness->Add("dead_letters", [spool] {
    const uint64_t dead = spool->Stats().dead_letters;
    if (dead == 0) return std::string();
    return std::to_string(dead) + " refused batch(es) wait in the dead-letter store (orgtrail-agent dead-letters)";
  });
  readiness->Add("disk", [spool_dir = options.spool_dir, min_free = options.min_free_disk_bytes] {
    return DiskSpaceFailure(spool_dir, min_free);
  });
}

}  // namespace orgtrail::agent
