// AlarmEngine (alarm_engine.h).
#include "collector/alarms/alarm_engine.h"

#include <chrono>

#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/filter_pattern.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {

AlarmEngine::AlarmEngine(EventStore* store, AlarmsConfig config, Logger* logger, MetricsRegistry* metrics,
                         AlarmEngineOptions options)
    : store_(store),
      config_(std::move(config)),
      logger_(logger),
      metrics_(metrics),
      options_(std::move(options)),
      notifier_(config_.notifications, logger, metrics, 1000, options_.outbox_dir),
      evaluator_(&config_),
      states_(config_.alarms.size(), AlarmState::kInsufficientData) {
  for (const auto& filter : config_.metric_filters) {
    filter_matches_.push_back(metrics_ ? metrics_->GetCounter("orgtrail_metric_filter_matches_total",
                                                              "Events matched by each metric filter",
                                                              {{"filter", filter.name}})
                                       : nullptr);
  }
  for (const auto& alarm : config_.alarms) {
    in_alarm_.push_back(metrics_ ? metrics_->GetGauge("orgtrail_alarm_in_alarm", "1 while the alarm is in ALARM state",
                                                      {{"alarm", alarm.name}})
                                 : nullptr);
  }
}

AlarmEngine::~AlarmEngine() { Stop(); }

int64_t AlarmEngine::Now() const { return options_.clock ? options_.clock() : NowMicros(); }

Status AlarmEngine::Start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("alarm engine already started");
  feed_ = std::make_unique<CommitFeed>(store_);
  cursor_ = feed_->last();
  store_counter_seen_.clear();
  for (const auto& filter : config_.metric_filters) store_counter_seen_.push_back(StoreCounter(filter.source));
  ORGTRAIL_RETURN_IF_ERROR(notifier_.Start());
  thread_ = std::thread([this] { Run(); });
  if (logger_) {
    logger_->Info("alarm engine started", {{"metric_filters", static_cast<uint64_t>(config_.metric_filters.size())},
                                           {"alarms", static_cast<uint64_t>(config_.alarms.size())},
                                           {"cursor", cursor_.load()}});
  }
  return absl::OkStatus();
}

void AlarmEngine::Stop() {
  stop_ = true;
  if (feed_) feed_->Shutdown();
  if (thread_.joinable()) thread_.join();
  notifier_.Stop();
}

AlarmState AlarmEngine::state(std::string_view alarm_name) const {
  std::lock_guard<std::mutex> lock(state_mu_);
  for (size_t i = 0; i < config_.alarms.size(); ++i) {
    if (config_.alarms[i].name == alarm_name) return states_[i];
  }
  return AlarmState::kInsufficientData;
}

void AlarmEngine::Run() {
  while (!stop_) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.tick_us);
    uint64_t last = feed_->WaitBeyond(cursor_, deadline);
    if (stop_) break;
    if (last > cursor_) ProcessCommits(last);
    PollStoreRecords();
    EvaluateAndNotify();
  }
}

void AlarmEngine::ProcessCommits(uint64_t last) {
  FilterEvaluator evaluator;
  EventExtractor extractor;
  auto it = store_->NewCommitIterator(cursor_ + 1);
  uint64_t done = cursor_;
  for (; it->Valid() && it->commit_index() <= last; it->Next()) {
    done = it->commit_index();
    auto stored = store_->GetEventByKey(it->event_key());
    if (!stored.ok() || !stored->has_value()) continue;  // removed by retention meanwhile
    const StoredEvent& event = **stored;
    ++events_evaluated_;
    if (!evaluator.Load(event.raw_json).ok()) continue;
    bool extracted = false;
    AlarmSample sample;
    for (size_t f = 0; f < config_.metric_filters.size(); ++f) {
      if (config_.metric_filters[f].source != MetricFilterSource::kEvents) continue;
      if (!evaluator.Matches(config_.metric_filters[f].pattern)) continue;
      if (!extracted) {
        extracted = true;
        v1::Event fields;
        sample.time_us = event.meta.receipt_time_us();
        sample.event_id = event.key.event_id;
        sample.account_id = event.key.account_id;
        sample.region = event.key.region;
        if (extractor.Extract(event.raw_json, &fields).ok()) {
          sample.event_name = fields.event_name();
          sample.username = fields.username();
        }
      }
      if (filter_matches_[f]) filter_matches_[f]->Increment();
      evaluator_.RecordMatch(f, sample);
    }
  }
  if (!it->status().ok()) {
    if (logger_) logger_->Error("alarm engine: commit iteration failed", {{"error", it->status().ToString()}});
    return;  // retried on the next wake-up
  }
  cursor_ = std::max(done, last);
}

uint64_t AlarmEngine::StoreCounter(MetricFilterSource source) const {
  switch (source) {
    case MetricFilterSource::kEvents: return 0;
    case MetricFilterSource::kIdentityViolations: return store_->identity_violations_recorded();
    case MetricFilterSource::kEventConflicts: return store_->conflicts_recorded();
  }
  return 0;
}

void AlarmEngine::PollStoreRecords() {
  for (size_t f = 0; f < config_.metric_filters.size(); ++f) {
    const MetricFilterSource source = config_.metric_filters[f].source;
    if (source == MetricFilterSource::kEvents) continue;
    const uint64_t now_count = StoreCounter(source);
    if (now_count <= store_counter_seen_[f]) continue;
    AlarmSample sample;
    sample.time_us = Now();
    for (uint64_t i = store_counter_seen_[f]; i < now_count; ++i) {
      if (filter_matches_[f]) filter_matches_[f]->Increment();
      evaluator_.RecordMatch(f, sample);
    }
    if (logger_) {
      logger_->Warn("alarm engine: new store records counted",
                    {{"filter", config_.metric_filters[f].name},
                     {"source", MetricFilterSourceName(source)},
                     {"new", now_count - store_counter_seen_[f]}});
    }
    store_counter_seen_[f] = now_count;
  }
}

void AlarmEngine::EvaluateAndNotify() {
  int64_t now = Now();
  std::vector<AlarmTransition> transitions = evaluator_.Evaluate(now);
  for (const AlarmTransition& t : transitions) {
    size_t index = static_cast<size_t>(t.alarm - config_.alarms.data());
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      states_[index] = t.new_state;
    }
    if (in_alarm_[index]) in_alarm_[index]->Set(t.new_state == AlarmState::kAlarm ? 1 : 0);
    if (metrics_) {
      metrics_->GetCounter("orgtrail_alarm_transitions_total", "Alarm state changes",
                           {{"alarm", t.alarm->name}, {"state", std::string(AlarmStateName(t.new_state))}})
          ->Increment();
    }
    if (logger_) {
      logger_->Log(t.new_state == AlarmState::kAlarm ? LogLevel::kWarn : LogLevel::kInfo, "alarm state changed",
                   {{"alarm", t.alarm->name},
                    {"old_state", AlarmStateName(t.old_state)},
                    {"new_state", AlarmStateName(t.new_state)},
                    {"reason", t.reason}});
    }
    const std::vector<std::string>* actions = nullptr;
    switch (t.new_state) {
      case AlarmState::kAlarm: actions = &t.alarm->alarm_actions; break;
      case AlarmState::kOk: actions = &t.alarm->ok_actions; break;
      case AlarmState::kInsufficientData: actions = &t.alarm->insufficient_data_actions; break;
    }
    if (!actions->empty()) notifier_.Notify(*actions, FormatAlarmNotification(t, options_.collector_id));
  }
}

}  // namespace orgtrail::collector
