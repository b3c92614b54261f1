# Build-time layering check for one collector library (run with cmake -P).
#   -DFOLDER=<abs path of collector/<name>> -DNAME=<name> -DALLOWED=<a;b;c> -DSTAMP=<file>
# Fails the build when a source or header in FOLDER includes "collector/<x>/..." for a folder x
# that is neither NAME nor one of the folders ALLOWED (the library's declared DEPENDS). Declared
# dependencies are the link graph, so the two cannot drift apart.
string(REPLACE "," ";" allowed_list "${ALLOWED}")
list(APPEND allowed_list ${NAME})
file(GLOB files "${FOLDER}/*.cc" "${FOLDER}/*.h")
set(violations "")
foreach(f ${files})
  file(STRINGS "${f}" lines REGEX "^#include \"collector/[a-z_]+/")
  foreach(line ${lines})
    string(REGEX REPLACE "^#include \"collector/([a-z_]+)/.*$" "\\1" sub "${line}")
    list(FIND allowed_list "${sub}" found)
    if(found EQUAL -1)
      get_filename_component(fname "${f}" NAME)
      string(APPEND violations "\n  collector/${NAME}/${fname}: ${line}")
    endif()
  endforeach()
endforeach()
if(violations)
  message(FATAL_ERROR "collector/${NAME} may include only collector/{${NAME};${ALLOWED}} "
    "(its DEPENDS in collector/${NAME}/CMakeLists.txt; the graph is in collector/README.md):${violations}")
endif()
file(WRITE "${STAMP}" "ok\n")
