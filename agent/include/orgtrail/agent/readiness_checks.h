// The agent's /readyz checks (orgtrail/common/readiness.h), in this order:
//   collector     a stream to a collector is up, or was within the grace period
//   spool         no spool write failed, and the spool is below 95% of --spool-max-bytes
//   dead_letters  no refused batch waits in the dead-letter store
//   disk          the spool dir's file system has at least --min-free-disk free
// The collector check comes from the stream client (StreamClient::ReadinessFailure);
// the others read the spool's counters. The spool must outlive the readiness.
#ifndef ORGTRAIL_AGENT_READINESS_CHECKS_H_
#define ORGTRAIL_AGENT_READINESS_CHECKS_H_

#include <cstdint>
#include <string>

#include "orgtrail/agent/spool.h"
#include "orgtrail/common/readiness.h"

namespace orgtrail::agent {

struct AgentReadinessOptions {
  std::string spool_dir;
  uint64_t min_free_disk_bytes = 256ull << 20;
};

void AddAgentReadinessChecks(Readiness* readiness, const Spool* spool, const AgentReadinessOptions& options,
                             Readiness::Check collector_check);

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_READINESS_CHECKS_H_
