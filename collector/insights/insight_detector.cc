// InsightDetector: per-minute counts, baselines and Insight Start/End events (see
// insight_detector.h).
#include "collector/insights/insight_detector.h"

#include <algorithm>
#include <cstdio>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/logger.h"  // AppendJsonEscaped
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

constexpr int64_t kMicrosPerMinute = 60LL * 1000 * 1000;
constexpr size_t kTopAttributions = 5;
constexpr char kCallRate[] = "ApiCallRateInsight";
constexpr char kErrorRate[] = "ApiErrorRateInsight";

int64_t MinuteOf(int64_t time_us) {
  return time_us >= 0 ? time_us / kMicrosPerMinute : (time_us - kMicrosPerMinute + 1) / kMicrosPerMinute;
}

// A UUID-shaped ID from a SHA-256 of the text (stable across replays).
std::string StableId(const std::string& text) {
  const std::string hex = HexEncode(Sha256(text)).substr(0, 32);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

void Add(std::map<std::string, int64_t>* into, const std::map<std::string, int64_t>& from, int sign) {
  for (const auto& [value, n] : from) {
    int64_t& slot = (*into)[value];
    slot += sign * n;
    if (slot == 0) into->erase(value);
  }
}

std::vector<AttributionValue> Top(const std::map<std::string, int64_t>& counts, double minutes) {
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<AttributionValue> out;
  for (size_t i = 0; i < sorted.size() && i < kTopAttributions; ++i) {
    out.push_back(AttributionValue{sorted[i].first, minutes > 0 ? static_cast<double>(sorted[i].second) / minutes : 0});
  }
  return out;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

}  // namespace

InsightDetector::InsightDetector(InsightOptions options) : options_(options) {
  options_.baseline_minutes = std::max<int64_t>(1, options_.baseline_minutes);
  options_.min_calls_per_minute = std::max<int64_t>(1, options_.min_calls_per_minute);
}

size_t InsightDetector::open_insights() const {
  size_t n = 0;
  for (const auto& [key, state] : keys_) n += state.has_open ? 1 : 0;
  return n;
}

void InsightDetector::Observe(const ApiCall& call) {
  if (call.event_time_us > newest_time_us_) {
    newest_time_us_ = call.event_time_us;
    newest_dirty_ = true;
  }
  if (options_.api_call_rate && !call.read_only) Count(kCallRate, call);
  if (options_.api_error_rate && !call.error_code.empty()) Count(kErrorRate, call);
}

void InsightDetector::Count(const std::string& type, const ApiCall& call) {
  const int64_t minute = MinuteOf(call.event_time_us);
  auto [it, inserted] =
      keys_.try_emplace(Key{type, call.account_id, call.region, call.event_source, call.event_name});
  KeyState& key = it->second;
  const Key& id = it->first;
  if (inserted) {
    dirty_headers_.insert(id);
    key.insight_type = type;
    key.account_id = call.account_id;
    key.region = call.region;
    key.event_source = call.event_source;
    key.event_name = call.event_name;
    key.first_minute = minute;
    key.next_to_close = minute;
  }
  if (minute < key.next_to_close - options_.baseline_minutes) return;  // older than any baseline
  if (minute < key.first_minute) {
    key.first_minute = minute;
    dirty_headers_.insert(id);
  }
  dirty_minutes_.insert({id, minute});
  Minute delta;
  delta.calls = 1;
  delta.users[call.user_arn.empty() ? "null" : call.user_arn] = 1;
  delta.agents[call.user_agent.empty() ? "null" : call.user_agent] = 1;
  delta.errors[call.error_code.empty() ? "null" : call.error_code] = 1;
  Minute& slot = key.minutes[minute];
  slot.calls += 1;
  Add(&slot.users, delta.users, 1);
  Add(&slot.agents, delta.agents, 1);
  Add(&slot.errors, delta.errors, 1);
  if (minute < key.next_to_close) {  // late: a closed minute; it counts toward later baselines only
    key.baseline.calls += 1;
    Add(&key.baseline.users, delta.users, 1);
    Add(&key.baseline.agents, delta.agents, 1);
    Add(&key.baseline.errors, delta.errors, 1);
  }
}

void InsightDetector::AdvanceTo(int64_t now_us, std::vector<InsightEvent>* out) {
  const int64_t last = MinuteOf(now_us) - 1;  // minutes that ended at or before now
  for (auto it = keys_.begin(); it != keys_.end();) {
    KeyState& key = it->second;
    if (key.next_to_close <= last) dirty_headers_.insert(it->first);
    while (key.next_to_close <= last) {
      if (!key.has_open) {
        // Nothing to evaluate before the next minute with calls.
        auto next = key.minutes.lower_bound(key.next_to_close);
        const int64_t target = next == key.minutes.end() ? last + 1 : std::min(next->first, last + 1);
        if (target > key.next_to_close) {
          key.next_to_close = target;
          continue;
        }
      }
      Close(it->first, &key, key.next_to_close, out);
    }
    // Expire what left every baseline; forget a key with nothing left.
    Expire(it->first, &key, key.next_to_close - options_.baseline_minutes);
    if (key.minutes.empty() && !key.has_open) {
      dirty_headers_.insert(it->first);  // absent at TakeChanges: deleted
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
}

void InsightDetector::Expire(const Key& id, KeyState* key, int64_t before_minute) {
  for (auto m = key->minutes.begin(); m != key->minutes.end() && m->first < before_minute;) {
    dirty_minutes_.insert({id, m->first});  // absent at TakeChanges: deleted
    key->baseline.calls -= m->second.calls;
    Add(&key->baseline.users, m->second.users, -1);
    Add(&key->baseline.agents, m->second.agents, -1);
    Add(&key->baseline.errors, m->second.errors, -1);
    m = key->minutes.erase(m);
  }
}

void InsightDetector::Close(const Key& id, KeyState* key, int64_t minute, std::vector<InsightEvent>* out) {
  // The baseline of this minute: the closed minutes in [minute - baseline, minute - 1].
  Expire(id, key, minute - options_.baseline_minutes);
  auto found = key->minutes.find(minute);
  const Minute empty;
  const Minute& now = found == key->minutes.end() ? empty : found->second;
  const double baseline_minutes = static_cast<double>(options_.baseline_minutes);
  const double baseline_average = static_cast<double>(key->baseline.calls) / baseline_minutes;
  const double count = static_cast<double>(now.calls);
  if (!key->has_open) {
    const double threshold = std::max(static_cast<double>(options_.min_calls_per_minute), options_.factor * baseline_average);
    const bool warm = minute - key->first_minute >= options_.min_history_minutes;
    if (warm && count >= threshold && count > options_.factor * baseline_average) {
      key->has_open = true;
      Open& open = key->open;
      open = Open();
      open.start_minute = minute;
      open.threshold = threshold;
      open.baseline_average = baseline_average;
      open.calls = now.calls;
      open.totals = now;
      open.shared_event_id = StableId(key->insight_type + "|" + key->account_id + "|" + key->region + "|" +
                                      key->event_source + "|" + key->event_name + "|" + std::to_string(minute));
      open.baseline_attributions = Attributions(key->baseline, baseline_minutes, key->insight_type == kErrorRate);
      InsightEvent start = MakeEvent(*key, "Start", minute * kMicrosPerMinute);
      start.insight_average = count;
      start.attributions = Merge(Attributions(now, 1.0, key->insight_type == kErrorRate), open.baseline_attributions);
      out->push_back(std::move(start));
    }
  } else if (count >= key->open.threshold) {
    Open& open = key->open;
    open.calls += now.calls;
    open.totals.calls += now.calls;
    Add(&open.totals.users, now.users, 1);
    Add(&open.totals.agents, now.agents, 1);
    Add(&open.totals.errors, now.errors, 1);
  } else {
    const int64_t duration = minute - key->open.start_minute;
    InsightEvent end = MakeEvent(*key, "End", minute * kMicrosPerMinute);
    end.insight_duration_minutes = duration;
    end.insight_average = static_cast<double>(key->open.calls) / static_cast<double>(duration);
    end.attributions = Merge(Attributions(key->open.totals, static_cast<double>(duration), key->insight_type == kErrorRate),
                             key->open.baseline_attributions);
    out->push_back(std::move(end));
    key->has_open = false;
  }
  if (found != key->minutes.end()) {
    key->baseline.calls += now.calls;
    Add(&key->baseline.users, now.users, 1);
    Add(&key->baseline.agents, now.agents, 1);
    Add(&key->baseline.errors, now.errors, 1);
  }
  key->next_to_close = minute + 1;
}

InsightEvent InsightDetector::MakeEvent(const KeyState& key, const std::string& state, int64_t time_us) const {
  InsightEvent e;
  e.state = state;
  e.insight_type = key.insight_type;
  e.shared_event_id = key.open.shared_event_id;
  e.event_id = StableId(e.shared_event_id + "|" + state);
  e.account_id = key.account_id;
  e.region = key.region;
  e.event_source = key.event_source;
  e.event_name = key.event_name;
  e.event_time_us = time_us;
  e.baseline_average = key.open.baseline_average;
  e.baseline_duration_minutes = options_.baseline_minutes;
  return e;
}

std::vector<Attribution> InsightDetector::Attributions(const Minute& counts, double minutes, bool with_errors) {
  std::vector<Attribution> out;
  out.push_back(Attribution{"userIdentityArn", Top(counts.users, minutes), {}});
  out.push_back(Attribution{"userAgent", Top(counts.agents, minutes), {}});
  if (with_errors) out.push_back(Attribution{"errorCode", Top(counts.errors, minutes), {}});
  return out;
}

std::vector<Attribution> InsightDetector::Merge(std::vector<Attribution> insight, const std::vector<Attribution>& baseline) {
  for (size_t i = 0; i < insight.size() && i < baseline.size(); ++i) insight[i].baseline = baseline[i].insight;
  return insight;
}

std::string InsightRecordJson(const InsightEvent& e) {
  auto quoted = [](std::string_view text) {
    std::string out = "\"";
    AppendJsonEscaped(&out, text);
    return out + "\"";
  };
  auto values = [&](const std::vector<AttributionValue>& list) {
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i) {
      out += (i ? "," : "") + std::string("{\"value\":") + quoted(list[i].value) + ",\"average\":" + Number(list[i].average) + "}";
    }
    return out + "]";
  };
  std::string attributions = "[";
  for (size_t i = 0; i < e.attributions.size(); ++i) {
    attributions += (i ? "," : "") + std::string("{\"attribute\":") + quoted(e.attributions[i].attribute) +
                    ",\"insight\":" + values(e.attributions[i].insight) +
                    ",\"baseline\":" + values(e.attributions[i].baseline) + "}";
  }
  attributions += "]";
  std::string statistics = "{\"baseline\":{\"average\":" + Number(e.baseline_average) + "},\"insight\":{\"average\":" +
                           Number(e.insight_average) + "}";
  if (e.state == "End") statistics += ",\"insightDuration\":" + std::to_string(e.insight_duration_minutes);
  statistics += ",\"baselineDuration\":" + std::to_string(e.baseline_duration_minutes) + "}";
  return "{\"eventVersion\":\"1.08\",\"eventTime\":" + quoted(FormatRfc3339Seconds(e.event_time_us)) +
         ",\"awsRegion\":" + quoted(e.region) + ",\"eventID\":" + quoted(e.event_id) +
         ",\"eventType\":\"AwsCloudTrailInsight\",\"recipientAccountId\":" + quoted(e.account_id) +
         ",\"sharedEventID\":" + quoted(e.shared_event_id) + ",\"insightDetails\":{\"state\":" + quoted(e.state) +
         ",\"eventSource\":" + quoted(e.event_source) + ",\"eventName\":" + quoted(e.event_name) +
         ",\"insightType\":" + quoted(e.insight_type) + ",\"insightContext\":{\"statistics\":" + statistics +
         ",\"attributions\":" + attributions + "}},\"eventCategory\":\"Insight\"}";
}

}  // namespace orgtrail::collector
