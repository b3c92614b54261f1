// aws-cli-shaped JSON of orgtrailctl's trail commands (cmd_trails.cc): a trail, its selectors,
// its Insights selectors, its status. Pure functions; thread-safe.
#ifndef ORGTRAIL_CLI_TRAIL_JSON_H_
#define ORGTRAIL_CLI_TRAIL_JSON_H_

#include <string>
#include <string_view>

#include "events_format.h"
#include "orgtrail/v1/admin.pb.h"

namespace orgtrail::cli {

// {"key": value, ...} in insertion order.
class JsonObject {
 public:
  JsonObject& Str(const char* key, std::string_view value) { return Raw(key, JsonQuote(value)); }
  JsonObject& Bool(const char* key, bool value) { return Raw(key, value ? "true" : "false"); }
  JsonObject& Raw(const char* key, const std::string& json) {
    if (!body_.empty()) body_ += ", ";
    body_ += JsonQuote(key) + ": " + json;
    return *this;
  }
  std::string Done() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

std::string TrailJson(const v1::Trail& trail);
std::string SelectorsResponseJson(const v1::GetEventSelectorsResponse& response);
std::string InsightSelectorsJson(const v1::GetInsightSelectorsResponse& response);
std::string TrailStatusJson(const v1::TrailStatus& status);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_TRAIL_JSON_H_
