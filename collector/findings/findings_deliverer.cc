#include "collector/findings/findings_deliverer.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>

#include "collector/alarms/alarm_notifier.h"
#include "collector/alarms/webhook_client.h"
#include "orgtrail/common/hash.h"

namespace orgtrail::collector {
namespace {

using Position = FindingsDeliverer::Position;

std::string EncodePosition(const Position& p) {
  std::string out(8, '\0');
  uint64_t v = p.commit_index;
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out + p.rule_id;
}

bool DecodePosition(std::string_view bytes, Position* p) {
  if (bytes.size() < 8) return false;
  p->commit_index = 0;
  for (int i = 0; i < 8; ++i) p->commit_index = (p->commit_index << 8) | static_cast<uint8_t>(bytes[i]);
  p->rule_id = std::string(bytes.substr(8));
  return true;
}

bool AtOrBefore(const v1::Finding& f, const Position& p) {
  return f.commit_index() < p.commit_index || (f.commit_index() == p.commit_index && f.rule_id() <= p.rule_id);
}

}  // namespace

std::string FindingDeliveryId(const v1::Finding& finding) {
  return HexEncode(Sha256(FindingsLog::Key(finding))).substr(0, 32);
}

std::string FindingNotificationBody(const v1::Finding& finding, const std::string& collector_id) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(finding, &json).ok()) json = "{}";
  std::string out = "{\"orgtrailFinding\":" + json + ",\"collector\":\"";
  AppendJsonEscaped(&out, collector_id);
  return out + "\"}";
}

FindingsDeliverer::FindingsDeliverer(EventStore* store, FindingsDeliveryOptions options, Logger* logger,
                                     MetricsRegistry* metrics)
    : store_(store), options_(std::move(options)), logger_(logger), metrics_(metrics), log_(store) {}

FindingsDeliverer::~FindingsDeliverer() { Stop(); }

std::string FindingsDeliverer::CursorKey(size_t i) const {
  return "findings/delivered/" + options_.targets[i].name;
}

Status FindingsDeliverer::Start(uint64_t findings_cursor_now) {
  for (size_t i = 0; i < options_.targets.size(); ++i) {
    auto stored = store_->GetMetadata(CursorKey(i));
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) {
      // New target: the findings recorded from now on.
      Position start{findings_cursor_now + 1, ""};
      ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata({{CursorKey(i), EncodePosition(start)}}));
    } else {
      Position p;
      if (!DecodePosition(**stored, &p)) return absl::DataLossError(CursorKey(i) + ": undecodable");
    }
    const std::string name = options_.targets[i].name;
    FindingsLog* log = &log_;
    EventStore* store = store_;
    const std::string key = CursorKey(i);
    metrics_->AddGaugeCallback("orgtrail_findings_undelivered", "Findings recorded but not yet delivered to the target",
                               [log, store, key, name] {
                                 Position p;
                                 auto v = store->GetMetadata(key);
                                 double n = 0;
                                 if (v.ok() && v->has_value() && DecodePosition(**v, &p)) {
                                   uint64_t next = 0;
                                   auto rest = log->List(p.commit_index > 0 ? p.commit_index - 1 : 0, 1000, {}, &next);
                                   if (rest.ok()) {
                                     for (const auto& f : *rest) n += AtOrBefore(f, p) ? 0 : 1;
                                   }
                                 }
                                 return std::vector<std::pair<MetricLabels, double>>{{{{"target", name}}, n}};
                               });
  }
  for (size_t i = 0; i < options_.targets.size(); ++i) threads_.emplace_back([this, i] { Run(i); });
  return Status();
}

void FindingsDeliverer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool FindingsDeliverer::MoveCursor(const std::string& key, const Position& at, bool* dirty) {
  if (Status s = store_->WriteMetadata({{key, EncodePosition(at)}}); !s.ok()) {
    logger_->Error("findings delivery: cannot move its cursor", {{"cursor", key}, {"error", s.ToString()}});
    return false;
  }
  *dirty = false;
  return true;
}

void FindingsDeliverer::Run(size_t i) {
  const NotificationTarget& target = options_.targets[i];
  const std::string key = CursorKey(i);
  int64_t retry_us = options_.first_retry_us;
  auto wait = [&](int64_t us) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, std::chrono::microseconds(us), [this] { return stopping_; });
  };
  auto count = [&](const char* result) {
    metrics_->GetCounter("orgtrail_findings_notifications_total", "Finding notifications by target and result",
                         {{"target", target.name}, {"result", result}})
        ->Increment();
  };
  while (true) {
    Position at;
    auto stored = store_->GetMetadata(key);
    if (!stored.ok() || !stored->has_value() || !DecodePosition(**stored, &at)) {
      logger_->Error("findings delivery: cannot read its cursor", {{"target", target.name}});
      if (!wait(options_.max_retry_us)) return;
      continue;
    }
    uint64_t next = 0;
    auto page = log_.List(at.commit_index > 0 ? at.commit_index - 1 : 0, 100, {}, &next);
    bool progressed = false, failed = false, dirty = false;
    if (page.ok()) {
      for (const v1::Finding& f : *page) {
        if (AtOrBefore(f, at)) continue;
        if (LevelRank(f.level()) >= options_.min_level_rank) {
          const std::string body = FindingNotificationBody(f, options_.collector_id);
          const Status sent = target.type == NotificationTarget::Type::kCommand
                                  ? RunNotificationCommand(target.argv, body, target.timeout_ms)
                                  : PostWebhook(target, body, FindingDeliveryId(f));
          if (!sent.ok()) {
            count("failed");
            logger_->Warn("finding not delivered; retrying",
                          {{"target", target.name}, {"rule", f.rule_id()}, {"error", sent.ToString()},
                           {"retry_ms", retry_us / 1000}});
            failed = true;
            break;
          }
          count("delivered");
        }
        at = Position{f.commit_index(), f.rule_id()};
        progressed = true;
        dirty = true;
        // After each delivery (a crash then resends only that one, with its delivery id); findings
        // below the level are passed over with one write per page.
        if (LevelRank(f.level()) >= options_.min_level_rank && !MoveCursor(key, at, &dirty)) {
          failed = true;
          break;
        }
      }
      if (!failed && dirty && !MoveCursor(key, at, &dirty)) failed = true;
    }
    if (failed) {
      if (!wait(retry_us)) return;
      retry_us = std::min(retry_us * 2, options_.max_retry_us);
      continue;
    }
    retry_us = options_.first_retry_us;
    if (!progressed && !wait(options_.poll_us)) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
  }
}

}  // namespace orgtrail::collector
