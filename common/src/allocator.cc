// Run-time view of the allocator (see allocator.h).
#include "orgtrail/common/allocator.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>

namespace orgtrail {
namespace {

// gperftools' C API (gperftools/malloc_extension_c.h), present only when tcmalloc is loaded.
using SetNumericPropertyFn = int (*)(const char* property, size_t value);

SetNumericPropertyFn FindSetNumericProperty() {
  return reinterpret_cast<SetNumericPropertyFn>(::dlsym(RTLD_DEFAULT, "MallocExtension_SetNumericProperty"));
}

}  // namespace

std::string AllocatorName() { return FindSetNumericProperty() != nullptr ? "tcmalloc" : "system"; }

bool LimitAllocatorThreadCaches(size_t bytes) {
  const SetNumericPropertyFn set = FindSetNumericProperty();
  return set != nullptr && set("tcmalloc.max_total_thread_cache_bytes", bytes) != 0;
}

std::string ConfigureDaemonAllocator() {
  const std::string name = AllocatorName();
  if (name == "tcmalloc") {
    if (std::getenv("TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES") == nullptr) {
      (void)LimitAllocatorThreadCaches(kDaemonThreadCacheBytes);
    }
  } else if (std::getenv("MALLOC_ARENA_MAX") == nullptr) {
    mallopt(M_ARENA_MAX, 2);
  }
  return name;
}

}  // namespace orgtrail
