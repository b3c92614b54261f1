// Source-side checks and trail selection (see intake.h).
#include "orgtrail/agent/intake.h"

#include "orgtrail/common/uuid.h"

namespace orgtrail::agent {

EventIntake::EventIntake(IntakeOptions options, MetricsRegistry* metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      events_read_(metrics->GetCounter("orgtrail_agent_events_read_total",
                                       "Records read from all sources")),
      events_selected_(metrics->GetCounter("orgtrail_agent_events_selected_total",
                                           "Records selected by a trail and spooled")),
      events_unselected_(metrics->GetCounter(
          "orgtrail_agent_events_unselected_total",
          "Records no trail selects (they never leave the account)")) {
  auto rules = std::make_shared<AcceptanceRules>();
  rules->account_id = options_.account_id;
  rules->region = options_.region;
  rules->classifier = std::make_shared<const GlobalServiceClassifier>();
  rules_ = std::move(rules);
}

std::shared_ptr<const AcceptanceRules> EventIntake::rules() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rules_;
}

void EventIntake::SetCollectorRules(const v1::HelloAck& hello_ack) {
  auto rules = std::make_shared<AcceptanceRules>(*this->rules());
  if (hello_ack.global_event_sources_size() > 0) {
    rules->classifier = std::make_shared<const GlobalServiceClassifier>(std::vector<std::string>(
        hello_ack.global_event_sources().begin(), hello_ack.global_event_sources().end()));
  }
  rules->allowed_regions =
      std::set<std::string>(hello_ack.allowed_regions().begin(), hello_ack.allowed_regions().end());
  if (hello_ack.max_event_id_bytes() > 0) rules->max_event_id_bytes = hello_ack.max_event_id_bytes();
  rules->retention_us = hello_ack.retention_seconds() > 0 ? hello_ack.retention_seconds() * 1000000 : 0;
  rules->max_event_bytes = hello_ack.max_event_bytes();
  std::lock_guard<std::mutex> lock(mu_);
  rules_ = std::move(rules);
}

Counter* EventIntake::events_refused(std::string_view reason) const {
  return metrics_->GetCounter("orgtrail_agent_events_refused_total",
                              "Records refused at the source, by reason",
                              {{"reason", std::string(reason)}});
}

StatusOr<v1::Event> EventIntake::Prepare(std::string_view raw_json, EventExtractor* extractor,
                                         std::string* rule) const {
  v1::Event event;
  ExtractReport report;
  Status status = extractor->Extract(raw_json, &event, &report);
  if (!status.ok()) return status;
  if (report.event_id_missing) {
    auto with_id = AssignEventId(raw_json, NewUuidV4());
    if (!with_id.ok()) return with_id.status();
    status = extractor->Extract(*with_id, &event, &report);
    if (!status.ok()) return status;
  }
  if (std::optional<EventRejection> rejection = CheckEventAcceptance(event, *rules())) {
    if (rule != nullptr) *rule = rejection->rule;
    return Status(rejection->code, rejection->message);
  }
  return event;
}

bool EventIntake::Selected(const v1::Event& event) const {
  std::shared_ptr<const TrailEvaluator> evaluator;
  {
    std::lock_guard<std::mutex> lock(mu_);
    evaluator = evaluator_;
  }
  if (evaluator == nullptr) return options_.unconfigured == UnconfiguredSelection::kAll;
  return evaluator->Selects(event);
}

void EventIntake::SetTrailConfig(const v1::TrailConfig& config) {
  auto evaluator = std::make_shared<const TrailEvaluator>(config, classifier_);
  std::lock_guard<std::mutex> lock(mu_);
  evaluator_ = std::move(evaluator);
}

uint64_t EventIntake::trail_config_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evaluator_ ? evaluator_->config().version() : 0;
}

bool EventIntake::has_trail_config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evaluator_ != nullptr;
}

}  // namespace orgtrail::agent
