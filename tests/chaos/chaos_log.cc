// The chaos harness's log (see chaos_log.h).
#include "chaos_log.h"

#include <cstdio>
#include <iostream>

#include "orgtrail/common/time_util.h"

namespace orgtrail::chaos {

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// One line of JSON progress on stderr (the harness's own log).
void Log(const std::string& msg, const std::string& fields) {
  std::cerr << "{\"ts\":\"" << FormatRfc3339Seconds(NowMicros()) << "\",\"component\":\"chaos\",\"msg\":\""
            << JsonEscape(msg) << "\"" << (fields.empty() ? "" : "," + fields) << "}" << std::endl;
}

}  // namespace orgtrail::chaos
