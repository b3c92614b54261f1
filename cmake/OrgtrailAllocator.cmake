# The memory allocator of the long-running binaries (collector, orgtrailctl, the benchmark load
# client; the agent has its own choice, ORGTRAIL_AGENT_ALLOCATOR below). ORGTRAIL_ALLOCATOR:
#   tcmalloc  gperftools' tcmalloc_minimal (Debian's libgoogle-perftools-dev), the default.
#             Measured on the collector-alone load (bench/README.md, "Issue 16, session of
#             2026-12-07"): glibc's malloc
#             took ~18 % of the collector's CPU (arena locks, consolidation of the WriteBatch and
#             protobuf strings); with tcmalloc the same load ran ~30 % faster on ~25 % less CPU.
#   system    the C library's malloc.
# ORGTRAIL_AGENT_ALLOCATOR: the same choice for orgtrail-agent alone, system by default. Measured
# on bench/run.sh's peer load (one agent tailing 100,000 events, 4 alternating rounds each,
# bench/README.md "Issue 16, session of 2026-12-08"): the same CPU per event (18.1 µs on
# tcmalloc, 18.2 µs on glibc) and 52.9-58.6 MiB peak RSS against 60.9-62.5 MiB. The agent's
# heap is small (10-20 MiB in use) but churns ~650 KB batch buffers between threads; tcmalloc
# kept 8-16 MiB of freed, fragmented spans in its page heap and never returned them.
# Sanitizer and fuzz builds always use the system allocator: ASan, TSan and libFuzzer bring their
# own malloc, and a second one in the same process breaks them.
set(ORGTRAIL_ALLOCATOR "tcmalloc" CACHE STRING "Allocator of the collector and the tools: tcmalloc or system")
set_property(CACHE ORGTRAIL_ALLOCATOR PROPERTY STRINGS tcmalloc system)
set(ORGTRAIL_AGENT_ALLOCATOR "system" CACHE STRING "Allocator of orgtrail-agent: system or tcmalloc")
set_property(CACHE ORGTRAIL_AGENT_ALLOCATOR PROPERTY STRINGS system tcmalloc)
foreach(choice ORGTRAIL_ALLOCATOR ORGTRAIL_AGENT_ALLOCATOR)
  if(NOT ${choice} MATCHES "^(tcmalloc|system)$")
    message(FATAL_ERROR "${choice} must be tcmalloc or system, not '${${choice}}'")
  endif()
endforeach()
if(ORGTRAIL_ANY_SANITIZER OR ORGTRAIL_BUILD_FUZZ)
  set(ORGTRAIL_EFFECTIVE_ALLOCATOR system)
  set(ORGTRAIL_EFFECTIVE_AGENT_ALLOCATOR system)
else()
  set(ORGTRAIL_EFFECTIVE_ALLOCATOR ${ORGTRAIL_ALLOCATOR})
  set(ORGTRAIL_EFFECTIVE_AGENT_ALLOCATOR ${ORGTRAIL_AGENT_ALLOCATOR})
endif()
if(ORGTRAIL_EFFECTIVE_ALLOCATOR STREQUAL "tcmalloc" OR ORGTRAIL_EFFECTIVE_AGENT_ALLOCATOR STREQUAL "tcmalloc")
  pkg_check_modules(TCMALLOC IMPORTED_TARGET libtcmalloc_minimal)
  if(NOT TCMALLOC_FOUND)
    message(FATAL_ERROR "tcmalloc (ORGTRAIL_ALLOCATOR or ORGTRAIL_AGENT_ALLOCATOR) needs Debian's "
                        "libgoogle-perftools-dev (scripts/bootstrap.sh installs it), or configure with "
                        "-DORGTRAIL_ALLOCATOR=system -DORGTRAIL_AGENT_ALLOCATOR=system")
  endif()
endif()
message(STATUS "orgtrail allocator: ${ORGTRAIL_EFFECTIVE_ALLOCATOR} (agent: ${ORGTRAIL_EFFECTIVE_AGENT_ALLOCATOR})")

# orgtrail_use_allocator(<executable> [AGENT]): links the chosen allocator; AGENT picks
# ORGTRAIL_AGENT_ALLOCATOR's instead of ORGTRAIL_ALLOCATOR's.
function(orgtrail_use_allocator target)
  set(allocator ${ORGTRAIL_EFFECTIVE_ALLOCATOR})
  if(ARGV1 STREQUAL "AGENT")
    set(allocator ${ORGTRAIL_EFFECTIVE_AGENT_ALLOCATOR})
  endif()
  if(allocator STREQUAL "tcmalloc")
    # --no-as-needed: nothing references tcmalloc by name (it replaces malloc/free), so a linker
    # that drops unreferenced libraries would silently drop it. (A link option precedes every
    # library on the command line; push-state/pop-state around the library gets split by CMake.)
    target_link_options(${target} PRIVATE "LINKER:--no-as-needed")
    target_link_libraries(${target} PRIVATE PkgConfig::TCMALLOC)
  endif()
endfunction()
