// InsightDetector's durable state as entries that change by round: TakeChanges / RestoreEntries (see insight_detector.h).
#include "collector/insights/insight_detector.h"

#include <cstdio>
#include <cstdlib>

#include "collector/store/store_keys.h"
#include "orgtrail/common/hash.h"
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

namespace {

constexpr char kNewest[] = "newest";

std::string MinuteName(const std::string& key_id, int64_t minute) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(minute));
  return "k/" + key_id + "/m/" + hex;
}

std::string Fixed64(int64_t v) {
  std::string out;
  PutFixed64BE(&out, static_cast<uint64_t>(v));
  return out;
}

}  // namespace

// 32 hex digits of SHA-256 over the length-prefixed names: fixed length, no separator to escape.
std::string InsightDetector::KeyId(const Key& key) {
  std::string text;
  for (const std::string* part : {&std::get<0>(key), &std::get<1>(key), &std::get<2>(key), &std::get<3>(key),
                                  &std::get<4>(key)}) {
    text += std::to_string(part->size()) + ":" + *part;
  }
  return HexEncode(Sha256(text)).substr(0, 32);
}

std::string InsightDetector::HeaderBytes(const KeyState& k) const {
  v1::InsightKeyState out;
  out.set_insight_type(k.insight_type);
  out.set_account_id(k.account_id);
  out.set_region(k.region);
  out.set_event_source(k.event_source);
  out.set_event_name(k.event_name);
  out.set_first_minute(k.first_minute);
  out.set_next_to_close(k.next_to_close);
  if (k.has_open) {
    v1::InsightOpen* open = out.mutable_open();
    open->set_start_minute(k.open.start_minute);
    open->set_threshold(k.open.threshold);
    open->set_baseline_average(k.open.baseline_average);
    open->set_calls(k.open.calls);
    MinuteToProto(k.open.totals, open->mutable_totals());
    open->set_shared_event_id(k.open.shared_event_id);
    AttributionsToProto(k.open.baseline_attributions, open->mutable_baseline_attributions());
  }
  return out.SerializeAsString();
}

std::vector<InsightDetector::StateEntry> InsightDetector::TakeChanges() {
  std::vector<StateEntry> out;
  if (newest_dirty_) out.emplace_back(kNewest, Fixed64(newest_time_us_));
  for (const Key& key : dirty_headers_) {
    auto it = keys_.find(key);
    out.emplace_back("k/" + KeyId(key) + "/h",
                     it == keys_.end() ? std::nullopt : std::optional<std::string>(HeaderBytes(it->second)));
  }
  for (const auto& [key, minute] : dirty_minutes_) {
    auto it = keys_.find(key);
    std::optional<std::string> bytes;
    if (it != keys_.end()) {
      auto m = it->second.minutes.find(minute);
      if (m != it->second.minutes.end()) {
        v1::InsightCounts counts;
        MinuteToProto(m->second, &counts);
        bytes = counts.SerializeAsString();
      }
    }
    out.emplace_back(MinuteName(KeyId(key), minute), std::move(bytes));
  }
  dirty_headers_.clear();
  dirty_minutes_.clear();
  newest_dirty_ = false;
  return out;
}

Status InsightDetector::RestoreEntries(const std::vector<std::pair<std::string, std::string>>& entries) {
  auto corrupt = [](const std::string& name, const char* why) {
    return absl::DataLossError("insights: stored state entry '" + name.substr(0, 80) + "' " + why);
  };
  keys_.clear();
  dirty_headers_.clear();
  dirty_minutes_.clear();
  newest_dirty_ = false;
  newest_time_us_ = 0;
  std::map<std::string, Key> by_id;
  for (const auto& [name, bytes] : entries) {  // headers first: minutes name their key by id
    if (name == kNewest) {
      std::string_view in = bytes;
      uint64_t v = 0;
      if (!GetFixed64BE(&in, &v) || !in.empty()) return corrupt(name, "is not 8 bytes");
      newest_time_us_ = static_cast<int64_t>(v);
      continue;
    }
    if (name.size() != 36 || name.compare(0, 2, "k/") != 0 || name.compare(34, 2, "/h") != 0) continue;
    v1::InsightKeyState in;
    if (!in.ParseFromString(bytes)) return corrupt(name, "is not decodable");
    const Key key{in.insight_type(), in.account_id(), in.region(), in.event_source(), in.event_name()};
    if (KeyId(key) != name.substr(2, 32)) return corrupt(name, "does not name its key");
    by_id[name.substr(2, 32)] = key;
    KeyState& k = keys_[key];
    k.insight_type = in.insight_type();
    k.account_id = in.account_id();
    k.region = in.region();
    k.event_source = in.event_source();
    k.event_name = in.event_name();
    k.first_minute = in.first_minute();
    k.next_to_close = in.next_to_close();
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
  for (const auto& [name, bytes] : entries) {
    if (name == kNewest || (name.size() == 36 && name.compare(34, 2, "/h") == 0)) continue;
    if (name.size() != 53 || name.compare(0, 2, "k/") != 0 || name.compare(34, 3, "/m/") != 0) {
      return corrupt(name, "is not an Insights state name");
    }
    auto key = by_id.find(name.substr(2, 32));
    if (key == by_id.end()) return corrupt(name, "names no stored API");
    char* end = nullptr;
    const std::string hex = name.substr(37);
    const int64_t minute = static_cast<int64_t>(std::strtoull(hex.c_str(), &end, 16));
    v1::InsightCounts counts_proto;
    if (end != hex.c_str() + 16 || !counts_proto.ParseFromString(bytes)) return corrupt(name, "is not decodable");
    KeyState& k = keys_[key->second];
    Minute counts = MinuteFromProto(counts_proto);
    if (minute < k.next_to_close) {  // closed: part of the baseline sums
      k.baseline.calls += counts.calls;
      for (const auto& [v, n] : counts.users) k.baseline.users[v] += n;
      for (const auto& [v, n] : counts.agents) k.baseline.agents[v] += n;
      for (const auto& [v, n] : counts.errors) k.baseline.errors[v] += n;
    }
    k.minutes[minute] = std::move(counts);
  }
  return Status();
}

}  // namespace orgtrail::collector
