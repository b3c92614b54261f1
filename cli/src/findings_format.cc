#include "findings_format.h"

#include <simdjson.h>

#include "events_format.h"

namespace orgtrail::cli {
namespace {

std::string JsonArray(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out = "[";
  for (int i = 0; i < values.size(); ++i) out += (i ? "," : "") + JsonQuote(values[i]);
  return out + "]";
}

// The group as the JSON object the collector sent; anything else (never from a sound collector)
// is printed as a JSON string so the line stays valid JSON.
std::string GroupObject(const std::string& group) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (!group.empty() && parser.parse(group).get(object) == simdjson::SUCCESS) return group;
  return JsonQuote(group);
}

// ,"correlationType":…,"group":{…},"correlatedEvents":[…],"correlatedEventsTotal":N for a
// correlation's finding; "" for a rule's.
std::string CorrelationFields(const v1::Finding& f) {
  if (f.correlation_type().empty()) return "";
  std::string out = ",\"correlationType\":" + JsonQuote(f.correlation_type()) +
                    ",\"group\":" + GroupObject(f.group()) + ",\"correlatedEvents\":[";
  for (int i = 0; i < f.correlated_events_size(); ++i) {
    const v1::CorrelatedEvent& e = f.correlated_events(i);
    out += std::string(i ? "," : "") + "{\"eventID\":" + JsonQuote(e.event_id()) + ",\"accountId\":" +
           JsonQuote(e.account_id()) + ",\"region\":" + JsonQuote(e.region()) + ",\"eventTime\":" +
           JsonQuote(FormatAwsTimestamp(e.event_time_us())) + ",\"commitIndex\":" + std::to_string(e.commit_index()) + "}";
  }
  return out + "],\"correlatedEventsTotal\":" + std::to_string(f.correlated_events_total());
}

}  // namespace

std::string FindingLine(const v1::Finding& f) {
  return "{\"commitIndex\":" + std::to_string(f.commit_index()) + ",\"ruleId\":" + JsonQuote(f.rule_id()) +
         ",\"title\":" + JsonQuote(f.rule_title()) + ",\"level\":" + JsonQuote(f.level()) +
         ",\"status\":" + JsonQuote(f.rule_status()) + ",\"author\":" + JsonQuote(f.author()) +
         ",\"references\":" + JsonArray(f.references()) + ",\"tags\":" + JsonArray(f.tags()) +
         ",\"eventID\":" + JsonQuote(f.event_id()) + ",\"accountId\":" + JsonQuote(f.account_id()) +
         ",\"region\":" + JsonQuote(f.region()) + ",\"eventSource\":" + JsonQuote(f.event_source()) +
         ",\"eventName\":" + JsonQuote(f.event_name()) +
         ",\"eventTime\":" + JsonQuote(FormatAwsTimestamp(f.event_time_us())) +
         ",\"detectedTime\":" + JsonQuote(FormatAwsTimestamp(f.detected_time_us())) +
         ",\"ruleFile\":" + JsonQuote(f.rule_file()) + CorrelationFields(f) + "}";
}

}  // namespace orgtrail::cli
