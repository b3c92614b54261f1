#include "orgtrail/common/build_info.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "orgtrail/common/config.h"
#include "orgtrail/common/metrics.h"

namespace orgtrail {
namespace {

TEST(BuildInfoTest, VersionCommitAndDateAreReal) {
  const BuildInfo& info = GetBuildInfo();
  EXPECT_TRUE(std::regex_match(info.version, std::regex(R"(\d+\.\d+\.\d+)"))) << info.version;
  // Built from a git checkout: its commit, not "unknown".
  if (std::filesystem::exists(std::string(ORGTRAIL_SOURCE_DIR) + "/.git")) {
    EXPECT_TRUE(std::regex_match(info.commit, std::regex(R"([0-9a-f]{12}(-dirty)?)"))) << info.commit;
  } else {
    EXPECT_STREQ(info.commit, "unknown");
  }
  EXPECT_TRUE(std::regex_match(info.build_date, std::regex(R"(20\d\d-\d\d-\d\d)"))) << info.build_date;
  const std::string version = VersionString();
  EXPECT_NE(version.find(info.commit), std::string::npos) << version;
  EXPECT_NE(version.find(info.build_date), std::string::npos) << version;
}

TEST(BuildInfoTest, MetricFollowsThePrometheusConvention) {
  MetricsRegistry metrics;
  ExportBuildInfo(&metrics);
  const std::string text = metrics.RenderPrometheus();
  const BuildInfo& info = GetBuildInfo();
  EXPECT_NE(text.find(std::string("orgtrail_build_info{") ), std::string::npos) << text;
  EXPECT_NE(text.find(std::string("commit=\"") + info.commit + "\""), std::string::npos) << text;
  EXPECT_NE(text.find("} 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace orgtrail
