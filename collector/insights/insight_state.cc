// InsightDetector's state to and from orgtrail.v1.InsightDetectorState (see insight_detector.h).
#include "collector/insights/insight_detector.h"
#include "orgtrail/v1/insights.pb.h"

namespace orgtrail::collector {
namespace {

void CountsToProto(const std::map<std::string, int64_t>& from, google::protobuf::Map<std::string, int64_t>* to) {
  for (const auto& [value, n] : from) (*to)[value] = n;
}

std::map<std::string, int64_t> CountsFromProto(const google::protobuf::Map<std::string, int64_t>& from) {
  return std::map<std::string, int64_t>(from.begin(), from.end());
}

void AttributionsToProto(const std::vector<Attribution>& from,
                         google::protobuf::RepeatedPtrField<v1::InsightAttribution>* to) {
  for (const Attribution& a : from) {
    v1::InsightAttribution* out = to->Add();
    out->set_attribute(a.attribute);
    for (const AttributionValue& v : a.insight) {
      auto* x = out->add_insight();
      x->set_value(v.value);
      x->set_average(v.average);
    }
    for (const AttributionValue& v : a.baseline) {
      auto* x = out->add_baseline();
      x->set_value(v.value);
      x->set_average(v.average);
    }
  }
}

std::vector<Attribution> AttributionsFromProto(const google::protobuf::RepeatedPtrField<v1::InsightAttribution>& from) {
  std::vector<Attribution> out;
  for (const v1::InsightAttribution& a : from) {
    Attribution x;
    x.attribute = a.attribute();
    for (const auto& v : a.insight()) x.insight.push_back(AttributionValue{v.value(), v.average()});
    for (const auto& v : a.baseline()) x.baseline.push_back(AttributionValue{v.value(), v.average()});
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

void InsightDetector::MinuteToProto(const Minute& m, v1::InsightCounts* out) {
  out->set_calls(m.calls);
  CountsToProto(m.users, out->mutable_users());
  CountsToProto(m.agents, out->mutable_agents());
  CountsToProto(m.errors, out->mutable_errors());
}

InsightDetector::Minute InsightDetector::MinuteFromProto(const v1::InsightCounts& in) {
  Minute m;
  m.calls = in.calls();
  m.users = CountsFromProto(in.users());
  m.agents = CountsFromProto(in.agents());
  m.errors = CountsFromProto(in.errors());
  return m;
}

std::string InsightDetector::SerializeState() const {
  v1::InsightDetectorState state;
  for (const auto& [key, k] : keys_) {
    v1::InsightKeyState* out = state.add_keys();
    out->set_insight_type(k.insight_type);
    out->set_account_id(k.account_id);
    out->set_region(k.region);
    out->set_event_source(k.event_source);
    out->set_event_name(k.event_name);
    out->set_first_minute(k.first_minute);
    out->set_next_to_close(k.next_to_close);
    for (const auto& [minute, counts] : k.minutes) {
      v1::InsightMinute* m = out->add_minutes();
      m->set_minute(minute);
      MinuteToProto(counts, m->mutable_counts());
    }
    if (k.has_open) {
      v1::InsightOpen* open = out->mutable_open();
      open->set_start_minute(k.open.start_minute);
      open->set_threshold(k.open.threshold);
      open->set_baseline_average(k.open.baseline_average);
      open->set_calls(k.open.calls);
      MinuteToProto(k.open.totals, open->mutable_totals());
      open->set_shared_event_id(k.open.shared_event_id);
      AttributionsToProto(k.open.baseline_attributions, open->mutable_baseline_attributions());
    }
  }
  state.set_newest_time_us(newest_time_us_);
  return state.SerializeAsString();
}

Status InsightDetector::RestoreState(std::string_view bytes) {
  v1::InsightDetectorState state;
  if (!state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("insights: the stored detector state is not decodable");
  }
  keys_.clear();
  newest_time_us_ = state.newest_time_us();
  for (const v1::InsightKeyState& in : state.keys()) {
    KeyState& k = keys_[Key{in.insight_type(), in.account_id(), in.region(), in.event_source(), in.event_name()}];
    k.insight_type = in.insight_type();
    k.account_id = in.account_id();
    k.region = in.region();
    k.event_source = in.event_source();
    k.event_name = in.event_name();
    k.first_minute = in.first_minute();
    k.next_to_close = in.next_to_close();
    for (const v1::InsightMinute& m : in.minutes()) {
      Minute counts = MinuteFromProto(m.counts());
      if (m.minute() < k.next_to_close) {  // closed: part of the baseline sums
        k.baseline.calls += counts.calls;
        for (const auto& [v, n] : counts.users) k.baseline.users[v] += n;
        for (const auto& [v, n] : counts.agents) k.baseline.agents[v] += n;
        for (const auto& [v, n] : counts.errors) k.baseline.errors[v] += n;
      }
      k.minutes[m.minute()] = std::move(counts);
    }
    k.has_open = in.has_open();
    if (k.has_open) {
      const v1::InsightOpen& open = in.open();
      k.open.start_minute = open.start_minute();
      k.open.threshold = open.threshold();
      k.open.baseline_average = open.baseline_average();
      k.open.calls = open.calls();
      k.open.totals = MinuteFromProto(open.totals());
      k.open.shared_event_id = open.shared_event_id();
      k.open.baseline_attributions = AttributionsFromProto(open.baseline_attributions());
    }
  }
  return Status();
}

}  // namespace orgtrail::collector
