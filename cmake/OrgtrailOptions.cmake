# Compiler warnings and sanitizer flags shared by every orgtrail target.
# Use orgtrail_target_defaults(<target>) on each target the project defines.
set(ORGTRAIL_WARNINGS -Wall -Wextra -Wno-unused-parameter)
if(ORGTRAIL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(ORGTRAIL_SANITIZE=1)
endif()

function(orgtrail_target_defaults target)
  target_compile_options(${target} PRIVATE ${ORGTRAIL_WARNINGS})
endfunction()
