# Compiler warnings and sanitizer flags shared by every orgtrail target.
# Use orgtrail_target_defaults(<target>) on each target the project defines.
set(ORGTRAIL_WARNINGS -Wall -Wextra -Wno-unused-parameter)
if(ORGTRAIL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(ORGTRAIL_SANITIZE=1)
endif()
# ThreadSanitizer (scripts/tsan.sh). It cannot share a process with ASan. Debian's gRPC, abseil,
# protobuf and RocksDB are not instrumented: tests/tsan.supp says what is suppressed there and why.
if(ORGTRAIL_TSAN)
  if(ORGTRAIL_SANITIZE)
    message(FATAL_ERROR "ORGTRAIL_TSAN and ORGTRAIL_SANITIZE cannot be combined (one sanitizer runtime per process)")
  endif()
  # -U__SANITIZE_THREAD__: the headers of the uninstrumented Debian libraries must see the ABI
  # those libraries were built with. Under __SANITIZE_THREAD__ protobuf's MapFieldBase grows two
  # members (map_field.h), so our inline code and libprotobuf (google.protobuf.Struct, reflection)
  # disagree on the layout of every map field: reading a Struct's fields crashed (SEGV in map.h).
  # abseil and gRPC only switch annotations on it. The instrumentation comes from -fsanitize.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -U__SANITIZE_THREAD__)
  add_link_options(-fsanitize=thread)
  add_compile_definitions(ORGTRAIL_TSAN=1)
endif()
# Any sanitizer: what cannot run under one (the chaos harness's LD_PRELOAD shim) checks this.
if(ORGTRAIL_SANITIZE OR ORGTRAIL_TSAN)
  set(ORGTRAIL_ANY_SANITIZER ON)
else()
  set(ORGTRAIL_ANY_SANITIZER OFF)
endif()

function(orgtrail_target_defaults target)
  target_compile_options(${target} PRIVATE ${ORGTRAIL_WARNINGS})
endfunction()
