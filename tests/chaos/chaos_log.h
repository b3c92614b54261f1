// The chaos harness's own log: one JSON object per line on stderr, and the JSON string escaping
// its report uses. Thread-compatible (std::cerr writes whole lines).
#ifndef ORGTRAIL_TESTS_CHAOS_CHAOS_LOG_H_
#define ORGTRAIL_TESTS_CHAOS_CHAOS_LOG_H_

#include <string>

namespace orgtrail::chaos {

std::string JsonEscape(const std::string& s);
// {"ts":...,"component":"chaos","msg":msg[,fields]}; `fields` is already JSON ("k":v,...).
void Log(const std::string& msg, const std::string& fields = "");

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_CHAOS_LOG_H_
