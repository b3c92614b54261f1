// MergeTrailStatuses (cli/src/trail_fanout.h): the organization's trail status from its shards'.
#include "trail_fanout.h"

#include <gtest/gtest.h>

namespace orgtrail::cli {
namespace {

v1::TrailStatus Status(bool logging, int64_t started, int64_t delivered, int64_t digested, const std::string& error) {
  v1::TrailStatus s;
  s.set_is_logging(logging);
  s.set_start_logging_time_us(started);
  s.set_latest_delivery_time_us(delivered);
  s.set_latest_delivery_attempt_time_us(delivered);
  s.set_latest_digest_delivery_time_us(digested);
  s.set_latest_delivery_error(error);
  return s;
}

TEST(TrailFanoutTest, MergedStatusShowsTheLaggingShard) {
  const auto merged = MergeTrailStatuses({"a", "b"}, {Status(true, 10, 500, 400, ""), Status(true, 20, 300, 450, "")});
  EXPECT_TRUE(merged.is_logging());
  EXPECT_EQ(merged.start_logging_time_us(), 20);          // the last shard to start
  EXPECT_EQ(merged.latest_delivery_time_us(), 300);       // every shard delivered at least until then
  EXPECT_EQ(merged.latest_delivery_attempt_time_us(), 300);
  EXPECT_EQ(merged.latest_digest_delivery_time_us(), 400);
  EXPECT_EQ(merged.latest_delivery_error(), "");
}

TEST(TrailFanoutTest, OneShardNotLoggingOrNeverDeliveredOrFailingShows) {
  const auto merged = MergeTrailStatuses(
      {"a", "b", "c"},
      {Status(true, 10, 500, 400, ""), Status(false, 10, 0, 0, "AccessDenied"), Status(true, 10, 600, 0, "timeout")});
  EXPECT_FALSE(merged.is_logging());
  EXPECT_EQ(merged.latest_delivery_time_us(), 0);  // b never delivered: null
  EXPECT_EQ(merged.latest_digest_delivery_time_us(), 0);
  EXPECT_EQ(merged.latest_delivery_error(), "b: AccessDenied; c: timeout");
  EXPECT_FALSE(MergeTrailStatuses({}, {}).is_logging());
}

TEST(TrailFanoutTest, CommandsAreSortedIntoChangesReadsAndStatus) {
  for (const char* c : {"create-trail", "update-trail", "delete-trail", "put-event-selectors", "put-insight-selectors",
                        "start-logging", "stop-logging"}) {
    EXPECT_EQ(TrailCommandKindOf(c), TrailCommandKind::kChange) << c;
  }
  for (const char* c : {"get-trail", "describe-trails", "get-event-selectors", "get-insight-selectors"}) {
    EXPECT_EQ(TrailCommandKindOf(c), TrailCommandKind::kRead) << c;
  }
  EXPECT_EQ(TrailCommandKindOf("get-trail-status"), TrailCommandKind::kStatus);
}

}  // namespace
}  // namespace orgtrail::cli
