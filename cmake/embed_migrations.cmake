# Script mode: cmake -DOUTPUT=<file.cpp> -DSOURCE_DIR=<migrations dir> -P embed_migrations.cmake
# Writes a translation unit that defines cxp::persistence::embedded_migrations().
file(GLOB sql_files "${SOURCE_DIR}/*.sql")
list(SORT sql_files)
set(body "")
foreach(path IN LISTS sql_files)
  get_filename_component(file_name "${path}" NAME_WE)
  string(REGEX MATCH "^([0-9]+)_(.+)$" matched "${file_name}")
  if(NOT matched)
    message(FATAL_ERROR "migration file name must be NNNN_verb_object.sql: ${path}")
  endif()
  set(version "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  file(READ "${path}" sql)
  string(APPEND body "    {\"${version}\", \"${name}\", R\"cxpsql(${sql})cxpsql\"},\n")
endforeach()
set(content "// Generated from migrations/*.sql by cmake/embed_migrations.cmake; do not edit.
#include \"persistence/migrate/migration.hpp\"

namespace cxp::persistence {

const std::vector<migration>& embedded_migrations() {
  static const std::vector<migration> all = {
${body}  };
  return all;
}

} // namespace cxp::persistence
")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
  if(previous STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${content}")
