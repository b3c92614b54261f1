// Generator source (see generator_source.h).
#include "orgtrail/agent/generator_source.h"

#include <chrono>

#include "orgtrail/common/event_extractor.h"

namespace orgtrail::agent {

GeneratorSource::GeneratorSource(GeneratorSourceOptions options, Spool* spool,
                                 EventIntake* intake, Logger* logger, MetricsRegistry* metrics,
                                 std::function<void()> on_spooled, Batcher* batcher)
    : options_(std::move(options)),
      spool_(spool),
      batcher_(batcher),
      intake_(intake),
      logger_(logger),
      on_spooled_(std::move(on_spooled)),
      paused_(metrics->GetGauge("orgtrail_agent_source_paused",
                                "1 while the source waits for spool space",
                                {{"source", "generator"}})) {}

GeneratorSource::~GeneratorSource() { Stop(); }

void GeneratorSource::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void GeneratorSource::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void GeneratorSource::Run() {
  EventGenerator generator(options_.generator);
  EventExtractor extractor;
  RatePacer pacer(options_.events_per_second);
  while (!stop_) {
    if (options_.limit > 0 && generated_ >= options_.limit) break;
    uint64_t due = std::min<uint64_t>(pacer.EventsDue(), options_.max_chunk);
    if (options_.limit > 0) due = std::min<uint64_t>(due, options_.limit - generated_);
    if (due == 0) {
      pacer.SleepUntilDue();
      continue;
    }
    std::vector<v1::Event> events;
    for (uint64_t i = 0; i < due; ++i) {
      intake_->events_read()->Increment();
      auto event = intake_->Prepare(generator.NextJson(), &extractor);
      if (!event.ok()) {
        intake_->events_refused("invalid")->Increment();
        logger_->Warn("generated record refused", {{"error", event.status().ToString()}});
        continue;
      }
      if (!intake_->Selected(*event)) {
        intake_->events_unselected()->Increment();
        continue;
      }
      events.push_back(std::move(*event));
    }
    const size_t selected_count = events.size();  // SpoolEvents may move the events out
    while (!stop_) {
      const Status status = batcher_ != nullptr ? batcher_->SpoolEvents(&events, {}) : spool_->AppendEvents(events, {});
      if (status.ok()) break;
      if (!absl::IsResourceExhausted(status)) {
        logger_->Error("generator spool write failed", {{"error", status.ToString()}});
      }
      paused_->Set(1);
      if (on_spooled_) on_spooled_();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    paused_->Set(0);
    if (stop_) break;
    generated_ += due;
    intake_->events_selected()->Increment(selected_count);
    if (on_spooled_) on_spooled_();
  }
}

}  // namespace orgtrail::agent
