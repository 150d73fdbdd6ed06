# Script mode: cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DHEADER=<include path> -DNAMESPACE=<ns>
#                    -DFUNCTION=<name> -P embed_text.cmake
# Writes a translation unit defining `std::string_view NAMESPACE::FUNCTION()` that returns the
# bytes of INPUT (a text file, e.g. the vendored pricing feed), rewritten only when they change.
file(READ "${INPUT}" text)
set(delimiter "cxptext")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()
get_filename_component(input_name "${INPUT}" NAME)
set(content "// Generated from ${input_name} by cmake/embed_text.cmake; do not edit.
#include \"${HEADER}\"

namespace ${NAMESPACE} {

std::string_view ${FUNCTION}() {
  static constexpr std::string_view text = R\"${delimiter}(${text})${delimiter}\";
  return text;
}

} // namespace ${NAMESPACE}
")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
  if(previous STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${content}")
