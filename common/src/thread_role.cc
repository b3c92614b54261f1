// Thread names and background priority (see thread_role.h).
#include "orgtrail/common/thread_role.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace orgtrail {

void SetCurrentThreadRole(std::string_view name, ThreadPriority priority) {
  const std::string cut(name.substr(0, 15));  // the kernel keeps 15 bytes and a NUL
  (void)pthread_setname_np(pthread_self(), cut.c_str());
  if (priority != ThreadPriority::kBackground) return;
  // Linux: PRIO_PROCESS with a thread id sets that thread's nice value alone.
  const id_t tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return;
  (void)::setpriority(PRIO_PROCESS, tid, current + kBackgroundNiceIncrement);
}

}  // namespace orgtrail
