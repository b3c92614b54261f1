// The run-time allocator view: the name matches what the process runs on, and the thread-cache
// bound takes effect on tcmalloc (read back through its C API) and is refused on malloc.
#include "orgtrail/common/allocator.h"

#include <dlfcn.h>

#include <gtest/gtest.h>

namespace orgtrail {
namespace {

using GetNumericPropertyFn = int (*)(const char* property, size_t* value);

TEST(AllocatorTest, BoundsTcmallocThreadCachesOrSaysItRunsOnMalloc) {
  const auto get = reinterpret_cast<GetNumericPropertyFn>(::dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"));
  if (get == nullptr) {
    EXPECT_EQ(AllocatorName(), "system");
    EXPECT_FALSE(LimitAllocatorThreadCaches(4u << 20));
    EXPECT_EQ(ConfigureDaemonAllocator(), "system");
    return;
  }
  EXPECT_EQ(AllocatorName(), "tcmalloc");
  ASSERT_TRUE(LimitAllocatorThreadCaches(4u << 20));
  size_t bound = 0;
  ASSERT_NE(get("tcmalloc.max_total_thread_cache_bytes", &bound), 0);
  EXPECT_EQ(bound, 4u << 20);
}

}  // namespace
}  // namespace orgtrail
