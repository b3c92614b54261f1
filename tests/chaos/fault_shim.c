/* fault_shim: an LD_PRELOAD library for chaos runs (tests/chaos only; never
 * linked into or loaded by a release binary). It does nothing unless its
 * environment variables are set in the process that preloads it:
 *
 *   ORGTRAIL_CHAOS_SHIM_CONTROL=<file>   a control file, re-read at most every
 *       20 ms, holding one word: "none" | "fsync_eio" | "write_eio" |
 *       "write_enospc". While armed, fsync/fdatasync (fsync_eio) or
 *       write/pwrite/writev (write_*) on regular files whose path starts with
 *       ORGTRAIL_CHAOS_SHIM_PREFIX fail with the errno (EIO or ENOSPC), as a
 *       failing or full disk would. Sockets, pipes and other files (logs)
 *       are never touched.
 *   ORGTRAIL_CHAOS_SHIM_PREFIX=<dir>     the directory the faults apply to
 *       (required for write/fsync faults).
 *   ORGTRAIL_CHAOS_CLOCK_SKEW_SECONDS=<n> (signed) adds n seconds to the
 *       wall clock: clock_gettime(CLOCK_REALTIME*), gettimeofday, time.
 *       Monotonic clocks are left alone. Absolute realtime deadlines passed
 *       to pthread_cond_timedwait are shifted back by the skew, since the
 *       kernel waits for them on the real clock (a real skewed machine's
 *       kernel clock is skewed too).
 *
 * Every injected failure is counted, and the count is written (as decimal
 * text) to <control file>.fired, so the harness can check that an armed fault
 * fired at all (a fault that hit no write does not count). The prefix must be
 * a real path (no symbolic links): it is compared with /proc/self/fd links.
 *
 * Contract: thread-safe (atomics only; a race re-reads the control file
 * twice, harmlessly); no allocation in the hooks; errno set as the kernel
 * would. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { kModeNone = 0, kModeFsyncEio = 1, kModeWriteEio = 2, kModeWriteEnospc = 3 };

static atomic_int g_mode = kModeNone;
static atomic_llong g_next_check_ns = 0;
static atomic_int g_init = 0;
static long long g_skew_ns = 0;
static const char* g_control = NULL;
static const char* g_prefix = NULL;
static size_t g_prefix_len = 0;
static char g_fired_path[4096] = {0};
static atomic_llong g_fired = 0;

static long long MonoNs(void) {
  struct timespec ts;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void Init(void) {
  if (atomic_load(&g_init)) return;
  const char* skew = getenv("ORGTRAIL_CHAOS_CLOCK_SKEW_SECONDS");
  if (skew != NULL) g_skew_ns = atoll(skew) * 1000000000LL;
  g_control = getenv("ORGTRAIL_CHAOS_SHIM_CONTROL");
  g_prefix = getenv("ORGTRAIL_CHAOS_SHIM_PREFIX");
  g_prefix_len = g_prefix ? strlen(g_prefix) : 0;
  if (g_control != NULL && strlen(g_control) + 7 < sizeof(g_fired_path)) {
    memcpy(g_fired_path, g_control, strlen(g_control));
    memcpy(g_fired_path + strlen(g_control), ".fired", 7);
  }
  atomic_store(&g_init, 1);
}

static int Mode(void) {
  Init();
  if (g_control == NULL || g_prefix_len == 0) return kModeNone;
  long long now = MonoNs();
  if (now >= atomic_load(&g_next_check_ns)) {
    atomic_store(&g_next_check_ns, now + 20000000LL);
    char buf[32] = {0};
    int fd = (int)syscall(SYS_openat, AT_FDCWD, g_control, O_RDONLY | O_CLOEXEC);
    int mode = kModeNone;
    if (fd >= 0) {
      long n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
      syscall(SYS_close, fd);
      if (n > 0) {
        if (strncmp(buf, "fsync_eio", 9) == 0) mode = kModeFsyncEio;
        else if (strncmp(buf, "write_eio", 9) == 0) mode = kModeWriteEio;
        else if (strncmp(buf, "write_enospc", 12) == 0) mode = kModeWriteEnospc;
      }
    }
    atomic_store(&g_mode, mode);
  }
  return atomic_load(&g_mode);
}

/* True if fd is a regular file under the prefix. */
static int Targeted(int fd) {
  struct stat st;
  if (syscall(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  char link[64];
  char path[4096];
  int n = 0;
  /* "/proc/self/fd/<fd>" without snprintf (no locale, no allocation). */
  const char* head = "/proc/self/fd/";
  size_t h = strlen(head);
  memcpy(link, head, h);
  char digits[16];
  int d = 0;
  unsigned v = (unsigned)fd;
  do { digits[d++] = (char)('0' + v % 10); v /= 10; } while (v && d < 15);
  for (n = 0; n < d; ++n) link[h + n] = digits[d - 1 - n];
  link[h + d] = '\0';
  long len = syscall(SYS_readlinkat, AT_FDCWD, link, path, sizeof(path) - 1);
  if (len <= 0) return 0;
  path[len] = '\0';
  return (size_t)len >= g_prefix_len && strncmp(path, g_prefix, g_prefix_len) == 0;
}

/* Counts one injected failure and publishes the count in g_fired_path. */
static void NoteFired(void) {
  long long n = atomic_fetch_add(&g_fired, 1) + 1;
  if (g_fired_path[0] == '\0') return;
  char digits[24];
  int d = 0;
  do { digits[d++] = (char)('0' + n % 10); n /= 10; } while (n && d < 23);
  char text[24];
  for (int k = 0; k < d; ++k) text[k] = digits[d - 1 - k];
  int fd = (int)syscall(SYS_openat, AT_FDCWD, g_fired_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  syscall(SYS_write, fd, text, (size_t)d);
  syscall(SYS_close, fd);
}

static int WriteFault(int fd) {
  int mode = Mode();
  if (mode != kModeWriteEio && mode != kModeWriteEnospc) return 0;
  if (!Targeted(fd)) return 0;
  NoteFired();
  return mode == kModeWriteEio ? EIO : ENOSPC;
}

static int SyncFault(int fd) {
  int mode = Mode();
  if (mode == kModeNone) return 0;
  if (!Targeted(fd)) return 0;
  NoteFired();
  /* A full disk also fails the sync of what could not be written. */
  return mode == kModeWriteEnospc ? ENOSPC : EIO;
}

#define REAL(ret, name, ...)                                 \
  static ret (*real_##name)(__VA_ARGS__) = NULL;             \
  if (real_##name == NULL) real_##name = dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void* buf, size_t count) {
  REAL(ssize_t, write, int, const void*, size_t);
  int e = WriteFault(fd);
  if (e) { errno = e; return -1; }
  return real_write(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  REAL(ssize_t, pwrite, int, const void*, size_t, off_t);
  int e = WriteFault(fd);
  if (e) { errno = e; return -1; }
  return real_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  REAL(ssize_t, pwrite64, int, const void*, size_t, off_t);
  int e = WriteFault(fd);
  if (e) { errno = e; return -1; }
  return real_pwrite64(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  REAL(ssize_t, writev, int, const struct iovec*, int);
  int e = WriteFault(fd);
  if (e) { errno = e; return -1; }
  return real_writev(fd, iov, iovcnt);
}

int fsync(int fd) {
  REAL(int, fsync, int);
  int e = SyncFault(fd);
  if (e) { errno = e; return -1; }
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(int, fdatasync, int);
  int e = SyncFault(fd);
  if (e) { errno = e; return -1; }
  return real_fdatasync(fd);
}

int clock_gettime(clockid_t clock, struct timespec* ts) {
  REAL(int, clock_gettime, clockid_t, struct timespec*);
  int r = real_clock_gettime(clock, ts);
  Init();
  if (r == 0 && g_skew_ns != 0 &&
      (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
    long long t = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + g_skew_ns;
    ts->tv_sec = (time_t)(t / 1000000000LL);
    ts->tv_nsec = (long)(t % 1000000000LL);
  }
  return r;
}

int gettimeofday(struct timeval* tv, void* tz) {
  REAL(int, gettimeofday, struct timeval*, void*);
  int r = real_gettimeofday(tv, tz);
  Init();
  if (r == 0 && g_skew_ns != 0) {
    long long t = (long long)tv->tv_sec * 1000000LL + tv->tv_usec + g_skew_ns / 1000;
    tv->tv_sec = (time_t)(t / 1000000LL);
    tv->tv_usec = (suseconds_t)(t % 1000000LL);
  }
  return r;
}

/* Absolute CLOCK_REALTIME deadlines the process computed from its skewed
 * clock are waited for by the kernel against the real clock: shift them back,
 * or every timed wait (gRPC's timers: keepalive, backoff) would last `skew`
 * longer. A monotonic deadline (seconds since boot) is far below 1e9 s and
 * left alone. */
int pthread_cond_timedwait(pthread_cond_t* cond, pthread_mutex_t* mutex, const struct timespec* abstime) {
  REAL(int, pthread_cond_timedwait, pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
  Init();
  if (g_skew_ns != 0 && abstime->tv_sec > 1000000000L) {
    long long t = (long long)abstime->tv_sec * 1000000000LL + abstime->tv_nsec - g_skew_ns;
    struct timespec shifted;
    shifted.tv_sec = (time_t)(t / 1000000000LL);
    shifted.tv_nsec = (long)(t % 1000000000LL);
    if (shifted.tv_nsec < 0) {
      shifted.tv_nsec += 1000000000L;
      shifted.tv_sec -= 1;
    }
    return real_pthread_cond_timedwait(cond, mutex, &shifted);
  }
  return real_pthread_cond_timedwait(cond, mutex, abstime);
}

time_t time(time_t* out) {
  REAL(time_t, time, time_t*);
  time_t t = real_time(NULL);
  Init();
  t += (time_t)(g_skew_ns / 1000000000LL);
  if (out != NULL) *out = t;
  return t;
}
