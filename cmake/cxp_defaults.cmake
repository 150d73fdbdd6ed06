# Warning flags for our own targets only; third-party headers come in as SYSTEM includes.
function(cxp_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Werror)
  # GCC 12 at -O3 (the Release build of the image) reports -Wrestrict, -Warray-bounds and
  # -Wstringop-overflow inside libstdc++'s own std::string code once it is inlined into ours (GCC
  # bugs 105329, 106199 and 105651, fixed in GCC 13): false positives in the library that no
  # source change avoids everywhere. Only there: the RelWithDebInfo build (-O2) keeps all three as
  # errors, like every other warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE
      "$<$<CONFIG:Release>:-Wno-restrict;-Wno-array-bounds;-Wno-stringop-overflow>")
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()
