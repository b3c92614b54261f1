// SetCurrentThreadRole: the name is the kernel's thread name, a background role raises the
// thread's nice value by kBackgroundNiceIncrement and leaves the other threads alone.
#include "orgtrail/common/thread_role.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace orgtrail {
namespace {

struct Observed {
  std::string name;
  int nice_before = 0;
  int nice_after = 0;
};

Observed RunInThread(std::string_view name, ThreadPriority priority) {
  Observed seen;
  std::thread t([&] {
    const id_t tid = static_cast<id_t>(::syscall(SYS_gettid));
    seen.nice_before = ::getpriority(PRIO_PROCESS, tid);
    SetCurrentThreadRole(name, priority);
    seen.nice_after = ::getpriority(PRIO_PROCESS, tid);
    std::ifstream comm("/proc/self/task/" + std::to_string(tid) + "/comm");
    std::getline(comm, seen.name);
  });
  t.join();
  return seen;
}

TEST(ThreadRoleTest, NamesTheThreadAndKeepsANormalPriority) {
  const Observed seen = RunInThread("committer", ThreadPriority::kNormal);
  EXPECT_EQ(seen.name, "committer");
  EXPECT_EQ(seen.nice_after, seen.nice_before);
}

TEST(ThreadRoleTest, BackgroundRaisesOnlyThatThreadsNiceValue) {
  const int process_nice_before = ::getpriority(PRIO_PROCESS, 0);
  const Observed seen = RunInThread("export", ThreadPriority::kBackground);
  EXPECT_EQ(seen.name, "export");
  // Capped at 19 by the kernel when the test itself already runs niced.
  EXPECT_EQ(seen.nice_after, std::min(19, seen.nice_before + kBackgroundNiceIncrement));
  EXPECT_EQ(::getpriority(PRIO_PROCESS, 0), process_nice_before) << "the calling thread is unchanged";
}

TEST(ThreadRoleTest, LongNamesAreCutToTheKernelLimit) {
  const Observed seen = RunInThread("a-name-much-longer-than-fifteen-bytes", ThreadPriority::kNormal);
  EXPECT_EQ(seen.name, "a-name-much-lon");
}

}  // namespace
}  // namespace orgtrail
