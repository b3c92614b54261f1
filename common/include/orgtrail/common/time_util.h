// Time parsing and formatting in CloudTrail's formats. Pure functions, thread-safe.
#ifndef ORGTRAIL_COMMON_TIME_UTIL_H_
#define ORGTRAIL_COMMON_TIME_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail {

// Parses RFC 3339 ("2021-06-01T12:00:00Z", "…T12:00:00.123456Z", "…+02:00")
// into microseconds since the Unix epoch, UTC. Fractions beyond microseconds
// are truncated. Anything else (including out-of-range fields, a missing zone
// or trailing bytes) is INVALID_ARGUMENT.
StatusOr<int64_t> ParseRfc3339Micros(std::string_view text);

// "2021-06-01T12:00:00Z" (seconds precision, as CloudTrail prints eventTime).
std::string FormatRfc3339Seconds(int64_t micros);
// "20210601T1200Z" (log file names) and "20210601T120000Z" (digest names).
std::string FormatCompactMinute(int64_t micros);
std::string FormatCompactSecond(int64_t micros);

// Wall clock, microseconds since the Unix epoch.
int64_t NowMicros();

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_TIME_UTIL_H_
