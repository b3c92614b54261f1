// InsightDetector: CloudTrail Insights over a stream of management events (reference
// cloudtrail-format.md §7). Per account, region, eventSource and eventName it counts, per minute
// of event time, the write calls (ApiCallRateInsight) and the calls that returned an error
// (ApiErrorRateInsight), keeps the average per minute over the preceding baseline (seven days by
// default) and reports an Insight when a minute departs from it:
//   a minute starts an Insight when its count is at least min_calls_per_minute and more than
//   `factor` times the baseline average; the Insight lasts while minutes stay above that
//   threshold (fixed at the start) and ends at the first minute below it.
// Each Insight is a Start and an End InsightEvent sharing one sharedEventID, with the baseline and
// insight averages, the durations in minutes and the top-5 attributions (userIdentityArn,
// userAgent, errorCode) in the insight and in the baseline. No Insight is reported before a key
// has min_history_minutes of history (CloudTrail's own warm-up), so a new API is not an anomaly.
//
// Minutes close as the caller advances event time (AdvanceTo): the collector passes the newest
// event time it has seen, so a replay of the same events reports the same Insights. A call for a
// minute already closed still counts toward later baselines, never toward a closed minute.
// Deterministic: the IDs are derived from the key, the type and the start minute.
// Not thread-safe.
#ifndef ORGTRAIL_COLLECTOR_INSIGHTS_INSIGHT_DETECTOR_H_
#define ORGTRAIL_COLLECTOR_INSIGHTS_INSIGHT_DETECTOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "orgtrail/common/status.h"

namespace orgtrail::v1 {
class InsightCounts;
}  // namespace orgtrail::v1

namespace orgtrail::collector {

struct InsightOptions {
  int64_t baseline_minutes = 7 * 24 * 60;     // the baseline: this many minutes before a minute
  int64_t min_history_minutes = 7 * 24 * 60;  // no Insight for a key younger than this
  double factor = 5.0;                        // a minute above factor x baseline average ...
  int64_t min_calls_per_minute = 10;          // ... and with at least this many calls
  bool api_call_rate = true;                  // ApiCallRateInsight (write calls)
  bool api_error_rate = true;                 // ApiErrorRateInsight (calls with an errorCode)
};

// One stored management event, as the detector reads it.
struct ApiCall {
  std::string account_id;
  std::string region;
  std::string event_source;
  std::string event_name;
  int64_t event_time_us = 0;
  bool read_only = false;
  std::string error_code;  // "" when the call succeeded
  std::string user_arn;
  std::string user_agent;
};

struct AttributionValue {
  std::string value;
  double average = 0;  // per minute
};
struct Attribution {
  std::string attribute;  // userIdentityArn | userAgent | errorCode
  std::vector<AttributionValue> insight;   // top 5, descending
  std::vector<AttributionValue> baseline;  // top 5, descending
};

struct InsightEvent {
  std::string state;         // Start | End
  std::string insight_type;  // ApiCallRateInsight | ApiErrorRateInsight
  std::string event_id;
  std::string shared_event_id;
  std::string account_id;
  std::string region;
  std::string event_source;
  std::string event_name;
  int64_t event_time_us = 0;  // Start: the first anomalous minute; End: the end of the last one
  double baseline_average = 0;
  double insight_average = 0;
  int64_t baseline_duration_minutes = 0;
  int64_t insight_duration_minutes = 0;  // End only
  std::vector<Attribution> attributions;
};

class InsightDetector {
 public:
  explicit InsightDetector(InsightOptions options);

  void Observe(const ApiCall& call);
  // Which types count from now on (the trails' insight selectors). A type turned off counts no
  // more calls; its open Insights end as their minutes close below the threshold.
  void SetTypes(bool api_call_rate, bool api_error_rate) {
    options_.api_call_rate = api_call_rate;
    options_.api_error_rate = api_error_rate;
  }
  // The newest event time observed: the collector advances to it after each round.
  int64_t newest_time_us() const { return newest_time_us_; }
  // Closes every minute that ended at or before now_us and appends the Insights they start or end.
  void AdvanceTo(int64_t now_us, std::vector<InsightEvent>* out);

  // The durable state as named entries, written only where they changed (insight_state.cc):
  //   "newest"              the newest event time observed
  //   "k/<id>/h"            an API's header: names, history start, next minute to close, open Insight
  //   "k/<id>/m/<minute>"   one minute's counts (closed minutes never change again)
  // TakeChanges returns the entries changed since the last call (a value, or nullopt = delete);
  // applied together they turn the previous state into this one. RestoreEntries rebuilds a
  // detector from all of them: it continues exactly where the one that wrote them was.
  using StateEntry = std::pair<std::string, std::optional<std::string>>;
  std::vector<StateEntry> TakeChanges();
  Status RestoreEntries(const std::vector<std::pair<std::string, std::string>>& entries);  // DATA_LOSS when undecodable

  size_t keys() const { return keys_.size(); }
  size_t open_insights() const;

 private:
  using Counts = std::map<std::string, int64_t>;
  struct Minute {
    int64_t calls = 0;
    Counts users, agents, errors;
  };
  struct Open {
    int64_t start_minute = 0;
    double threshold = 0;
    double baseline_average = 0;
    int64_t calls = 0;
    Minute totals;  // attribution counts over the insight
    std::string shared_event_id;
    std::vector<Attribution> baseline_attributions;
  };
  struct KeyState {
    std::string insight_type, account_id, region, event_source, event_name;
    int64_t first_minute = 0;
    std::map<int64_t, Minute> minutes;  // minutes with calls, newest baseline_minutes + the open ones
    Minute baseline;                    // sums over the closed minutes inside the baseline
    int64_t next_to_close = 0;          // the first minute not closed yet
    bool has_open = false;
    Open open;
  };
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;

  void Count(const std::string& type, const ApiCall& call);
  void Close(const Key& id, KeyState* key, int64_t minute, std::vector<InsightEvent>* out);
  InsightEvent MakeEvent(const KeyState& key, const std::string& state, int64_t time_us) const;
  static void MinuteToProto(const Minute& minute, v1::InsightCounts* out);
  static Minute MinuteFromProto(const v1::InsightCounts& in);
  // Subtracts the minutes before `before_minute` from the baseline and forgets them.
  void Expire(const Key& id, KeyState* key, int64_t before_minute);
  // The attributions of the counts (averages per minute) in their `insight` lists.
  static std::vector<Attribution> Attributions(const Minute& counts, double minutes, bool with_errors);
  // The insight side from `insight`, the baseline side from `baseline` (the insight lists of each).
  static std::vector<Attribution> Merge(std::vector<Attribution> insight, const std::vector<Attribution>& baseline);

  static std::string KeyId(const Key& key);
  std::string HeaderBytes(const KeyState& key) const;

  InsightOptions options_;
  std::map<Key, KeyState> keys_;
  int64_t newest_time_us_ = 0;
  // What changed since TakeChanges (insight_state.cc).
  std::set<Key> dirty_headers_;
  std::set<std::pair<Key, int64_t>> dirty_minutes_;
  bool newest_dirty_ = false;
};

// "Start"/"End" record as CloudTrail writes it: eventType AwsCloudTrailInsight, eventCategory
// Insight, insightDetails with the statistics and attributions. One JSON object, no newline.
std::string InsightRecordJson(const InsightEvent& event);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INSIGHTS_INSIGHT_DETECTOR_H_
