// GeneratorSource: produces realistic CloudTrail records (common/generator.h)
// for this agent's account and region at a target rate and spools them
// through the same intake checks as every source. For demos, chaos tests and
// benchmarks. Pauses (never drops) while the spool is full. Stops after
// `limit` records when limit > 0.
// Thread safety: Start/Stop from one thread; generated() from any.
#ifndef ORGTRAIL_AGENT_GENERATOR_SOURCE_H_
#define ORGTRAIL_AGENT_GENERATOR_SOURCE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

#include "orgtrail/agent/batcher.h"
#include "orgtrail/agent/intake.h"
#include "orgtrail/agent/spool.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"

namespace orgtrail::agent {

struct GeneratorSourceOptions {
  GeneratorOptions generator;
  double events_per_second = 100;  // <= 0: as fast as the spool takes them
  uint64_t limit = 0;              // 0 = unlimited
  size_t max_chunk = 256;          // records per spool write
};

class GeneratorSource {
 public:
  GeneratorSource(GeneratorSourceOptions options, Spool* spool, EventIntake* intake,
                  Logger* logger, MetricsRegistry* metrics, std::function<void()> on_spooled,
                  Batcher* batcher = nullptr);  // as FileSource's batcher
  ~GeneratorSource();
  void Start();
  void Stop();
  uint64_t generated() const { return generated_; }

 private:
  void Run();
  GeneratorSourceOptions options_;
  Spool* spool_;
  Batcher* batcher_;
  EventIntake* intake_;
  Logger* logger_;
  std::function<void()> on_spooled_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> generated_{0};
  std::thread thread_;
  Gauge* paused_;
};

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_GENERATOR_SOURCE_H_
