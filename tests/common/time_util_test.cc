#include "orgtrail/common/time_util.h"

#include <gtest/gtest.h>

namespace orgtrail {
namespace {

TEST(TimeUtil, ParsesCloudTrailTimes) {
  EXPECT_EQ(*ParseRfc3339Micros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339Micros("2021-06-01T12:00:00Z"), 1622548800LL * 1000000);
  EXPECT_EQ(*ParseRfc3339Micros("2021-06-01T12:00:00.5Z"), 1622548800LL * 1000000 + 500000);
  EXPECT_EQ(*ParseRfc3339Micros("2021-06-01T12:00:00.123456789Z"), 1622548800LL * 1000000 + 123456);
  EXPECT_EQ(*ParseRfc3339Micros("2021-06-01T14:00:00+02:00"), 1622548800LL * 1000000);
  EXPECT_EQ(*ParseRfc3339Micros("2021-06-01T10:30:00-01:30"), 1622548800LL * 1000000);
  EXPECT_EQ(*ParseRfc3339Micros("2000-02-29T00:00:00Z"), 951782400LL * 1000000);
  EXPECT_EQ(*ParseRfc3339Micros("1969-12-31T23:59:59Z"), -1000000);
}

TEST(TimeUtil, RejectsMalformedTimes) {
  for (const char* bad : {"", "2021", "2021-06-01", "2021-06-01T12:00:00", "2021-13-01T00:00:00Z",
                          "2021-02-29T00:00:00Z", "2021-06-31T00:00:00Z", "2021-06-01T24:00:00Z",
                          "2021-06-01T12:60:00Z", "2021-06-01 12:00:00Z", "2021-06-01T12:00:00ZZ",
                          "2021-06-01T12:00:00.Z", "2021-06-01T12:00:00+2:00", "x021-06-01T12:00:00Z",
                          "2021-06-01T12:00:00+25:00", "２０２１-06-01T12:00:00Z"}) {
    auto r = ParseRfc3339Micros(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(TimeUtil, FormatsRoundTrip) {
  const int64_t t = 1622548800LL * 1000000 + 999999;
  EXPECT_EQ(FormatRfc3339Seconds(t), "2021-06-01T12:00:00Z");
  EXPECT_EQ(FormatCompactMinute(t), "20210601T1200Z");
  EXPECT_EQ(FormatCompactSecond(t + 61000000), "20210601T120101Z");
  EXPECT_EQ(FormatRfc3339Seconds(-1), "1969-12-31T23:59:59Z");
  for (int64_t s = 0; s < 200LL * 365 * 86400; s += 86400LL * 37 + 3671) {
    const int64_t us = s * 1000000;
    EXPECT_EQ(*ParseRfc3339Micros(FormatRfc3339Seconds(us)), us);
  }
}

}  // namespace
}  // namespace orgtrail
