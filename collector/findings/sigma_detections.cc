#include "collector/findings/sigma_detections.h"

namespace orgtrail::collector {

StatusOr<std::unique_ptr<SigmaDetections>> SigmaDetections::Load(const std::vector<std::string>& folders,
                                                                 Logger* logger) {
  std::unique_ptr<SigmaDetections> out(new SigmaDetections());
  out->logger_ = logger;
  detections::LoadReport report;
  auto rules = detections::LoadRuleSet(folders, detections::LoadOptions(), &report);
  if (!rules.ok()) return rules.status();
  if (!report.refused.empty()) {
    std::string why = std::to_string(report.refused.size()) + " rule(s) cannot run (fix or remove them):";
    for (const detections::RefusedRule& r : report.refused) {
      why += "\n  " + r.file + (r.id.empty() ? "" : " (" + r.id + ")") + ": " + r.reason;
    }
    return absl::InvalidArgumentError(why);
  }
  if (report.loaded.empty()) return absl::InvalidArgumentError("no Sigma rule (*.yml, *.yaml) in the folders");
  for (const detections::LoadedRule& r : report.loaded) out->rule_files_[r.id] = r.file;
  for (const detections::LoadedRule& r : report.correlations) out->rule_files_[r.id] = r.file;
  out->rules_ = std::move(*rules);
  return out;
}

Status SigmaDetections::Start(EventStore* store, const std::string& trust_domain, RevocationCheck revoked,
                              MetricsRegistry* metrics) {
  engine_ = std::make_unique<FindingsEngine>(store, rules_.get(), rule_files_, logger_, metrics);
  ORGTRAIL_RETURN_IF_ERROR(engine_->Start());
  FindingsEngine* engine = engine_.get();
  service_ = std::make_unique<FindingsService>(store, trust_domain, [engine] { return engine->cursor(); },
                                               static_cast<uint32_t>(rules_->size() + rules_->correlations().size()),
                                               std::move(revoked), logger_);
  return Status();
}

void SigmaDetections::Stop() {
  if (engine_) engine_->Stop();
}

}  // namespace orgtrail::collector
