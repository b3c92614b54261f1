# The memory allocator of the long-running binaries (agent, collector, orgtrailctl, the benchmark
# load client). ORGTRAIL_ALLOCATOR:
#   tcmalloc  gperftools' tcmalloc_minimal (Debian's libgoogle-perftools-dev), the default.
#             Measured on the collector-alone load (bench/README.md, "Issue 16, session of
#             2026-12-07"): glibc's malloc
#             took ~18 % of the collector's CPU (arena locks, consolidation of the WriteBatch and
#             protobuf strings); with tcmalloc the same load ran ~30 % faster on ~25 % less CPU.
#   system    the C library's malloc.
# Sanitizer and fuzz builds always use the system allocator: ASan, TSan and libFuzzer bring their
# own malloc, and a second one in the same process breaks them.
# Use orgtrail_use_allocator(<executable>) on each executable that should get it.
set(ORGTRAIL_ALLOCATOR "tcmalloc" CACHE STRING "Allocator of the daemons and tools: tcmalloc or system")
set_property(CACHE ORGTRAIL_ALLOCATOR PROPERTY STRINGS tcmalloc system)
if(NOT ORGTRAIL_ALLOCATOR MATCHES "^(tcmalloc|system)$")
  message(FATAL_ERROR "ORGTRAIL_ALLOCATOR must be tcmalloc or system, not '${ORGTRAIL_ALLOCATOR}'")
endif()
if(ORGTRAIL_ANY_SANITIZER OR ORGTRAIL_BUILD_FUZZ)
  set(ORGTRAIL_EFFECTIVE_ALLOCATOR system)
else()
  set(ORGTRAIL_EFFECTIVE_ALLOCATOR ${ORGTRAIL_ALLOCATOR})
endif()
if(ORGTRAIL_EFFECTIVE_ALLOCATOR STREQUAL "tcmalloc")
  pkg_check_modules(TCMALLOC IMPORTED_TARGET libtcmalloc_minimal)
  if(NOT TCMALLOC_FOUND)
    message(FATAL_ERROR "ORGTRAIL_ALLOCATOR=tcmalloc needs Debian's libgoogle-perftools-dev "
                        "(scripts/bootstrap.sh installs it), or configure with -DORGTRAIL_ALLOCATOR=system")
  endif()
endif()
message(STATUS "orgtrail allocator: ${ORGTRAIL_EFFECTIVE_ALLOCATOR}")

function(orgtrail_use_allocator target)
  if(ORGTRAIL_EFFECTIVE_ALLOCATOR STREQUAL "tcmalloc")
    # --no-as-needed: nothing references tcmalloc by name (it replaces malloc/free), so a linker
    # that drops unreferenced libraries would silently drop it. (A link option precedes every
    # library on the command line; push-state/pop-state around the library gets split by CMake.)
    target_link_options(${target} PRIVATE "LINKER:--no-as-needed")
    target_link_libraries(${target} PRIVATE PkgConfig::TCMALLOC)
  endif()
endfunction()
