#include "orgtrail/common/readiness.h"

#include <gtest/gtest.h>

#include <string>

namespace orgtrail {
namespace {

TEST(ReadinessTest, ReadyOnlyWhenEveryCheckPassesAndSaysWhichFailed) {
  std::string store_failure;
  Readiness readiness;
  readiness.Add("store", [&] { return store_failure; });
  readiness.Add("disk", [] { return std::string(); });
  HttpResponse r = readiness.Evaluate();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"status\":\"ready\",\"checks\":[{\"name\":\"store\",\"ok\":true},{\"name\":\"disk\",\"ok\":true}]}\n");
  store_failure = "fail-stopped: \"fsync\" failed";
  r = readiness.Evaluate();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            "{\"status\":\"not ready\",\"checks\":[{\"name\":\"store\",\"ok\":false,\"reason\":\"fail-stopped: "
            "\\\"fsync\\\" failed\"},{\"name\":\"disk\",\"ok\":true}]}\n");
  store_failure.clear();  // green again once the check passes
  EXPECT_EQ(readiness.Evaluate().status, 200);
}

TEST(ReadinessTest, NoChecksIsReady) { EXPECT_EQ(Readiness().Evaluate().status, 200); }

TEST(ReadinessTest, DiskSpace) {
  EXPECT_EQ(DiskSpaceFailure("/", 0), "");
  const std::string too_much = DiskSpaceFailure("/", UINT64_MAX);
  EXPECT_NE(too_much.find("below the"), std::string::npos) << too_much;
  const std::string missing = DiskSpaceFailure("/no/such/dir/orgtrail", 1);
  EXPECT_NE(missing.find("statvfs /no/such/dir/orgtrail"), std::string::npos) << missing;
}

}  // namespace
}  // namespace orgtrail
