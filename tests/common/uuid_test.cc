#include "orgtrail/common/uuid.h"

#include <gtest/gtest.h>

#include <set>

namespace orgtrail {
namespace {

TEST(Uuid, VersionFourAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = NewUuidV4();
    ASSERT_TRUE(LooksLikeUuid(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos);
    EXPECT_TRUE(seen.insert(u).second);
  }
}

TEST(Uuid, RecognizesShape) {
  EXPECT_TRUE(LooksLikeUuid("3F2504E0-4F89-11D3-9A0C-0305E82C3301"));
  EXPECT_FALSE(LooksLikeUuid(""));
  EXPECT_FALSE(LooksLikeUuid("3F2504E0-4F89-11D3-9A0C-0305E82C330"));
  EXPECT_FALSE(LooksLikeUuid("3F2504E0x4F89-11D3-9A0C-0305E82C3301"));
  EXPECT_FALSE(LooksLikeUuid("3F2504E0-4F89-11D3-9A0C-0305E82C330g"));
}

}  // namespace
}  // namespace orgtrail
