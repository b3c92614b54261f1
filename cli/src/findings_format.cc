#include "findings_format.h"

#include "events_format.h"

namespace orgtrail::cli {
namespace {

std::string JsonArray(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out = "[";
  for (int i = 0; i < values.size(); ++i) out += (i ? "," : "") + JsonQuote(values[i]);
  return out + "]";
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
         ",\"ruleFile\":" + JsonQuote(f.rule_file()) + "}";
}

}  // namespace orgtrail::cli
