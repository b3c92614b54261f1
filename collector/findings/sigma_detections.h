// SigmaDetections: the collector's --sigma-rules, wired: loads the rule folders (every rule must
// compile: a refused rule stops the collector with each file and reason, nothing is skipped
// silently), runs them on every stored event (FindingsEngine) and serves the findings
// (FindingsService). Owns the rule set, the engine and the service.
// Life cycle: Load() -> Start(store, ...) before the gRPC server starts -> service() registered ->
// Stop() after the gRPC server stopped. Thread safety: failure() from any thread.
#ifndef ORGTRAIL_COLLECTOR_FINDINGS_SIGMA_DETECTIONS_H_
#define ORGTRAIL_COLLECTOR_FINDINGS_SIGMA_DETECTIONS_H_

#include <memory>
#include <string>
#include <vector>

#include "collector/findings/findings_engine.h"
#include "collector/findings/findings_service.h"
#include "orgtrail/detections/rule_set.h"

namespace orgtrail::collector {

class SigmaDetections {
 public:
  // INVALID_ARGUMENT naming every refused rule (file, id, reason), or a folder that cannot be read.
  static StatusOr<std::unique_ptr<SigmaDetections>> Load(const std::vector<std::string>& folders, Logger* logger);

  Status Start(EventStore* store, const std::string& trust_domain, RevocationCheck revoked, MetricsRegistry* metrics);
  void Stop();

  grpc::Service* service() const { return service_.get(); }
  size_t rules_loaded() const { return rules_->size(); }
  uint64_t cursor() const { return engine_ ? engine_->cursor() : 0; }
  // "" while the engine records findings; else why it stopped.
  std::string failure() const { return engine_ ? engine_->failure() : ""; }

 private:
  SigmaDetections() = default;

  Logger* logger_ = nullptr;
  std::unique_ptr<detections::RuleSet> rules_;
  std::map<std::string, std::string> rule_files_;
  std::unique_ptr<FindingsEngine> engine_;
  std::unique_ptr<FindingsService> service_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_FINDINGS_SIGMA_DETECTIONS_H_
