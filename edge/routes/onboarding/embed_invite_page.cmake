# Embeds the hosted invite page (assets/invite.{html,js,css}) into cxp_edge as text, so the
# binary serves it with no files beside it. Re-runs when an asset changes.
set(_cxp_invite_assets html js css)
set(_cxp_invite_source "${CMAKE_CURRENT_BINARY_DIR}/invite_page_assets.cpp")
set(_cxp_invite_text "// Generated from edge/routes/onboarding/assets by embed_invite_page.cmake.\n")
string(APPEND _cxp_invite_text "#include \"edge/routes/onboarding/invite_page_assets.hpp\"\n")
string(APPEND _cxp_invite_text "namespace cxp::edge {\n")
foreach(_ext IN LISTS _cxp_invite_assets)
  set(_file "${CMAKE_CURRENT_SOURCE_DIR}/routes/onboarding/assets/invite.${_ext}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_file}")
  file(READ "${_file}" _content)
  string(APPEND _cxp_invite_text
    "const std::string_view invite_page_${_ext} = R\"CXPASSET(${_content})CXPASSET\";\n")
endforeach()
string(APPEND _cxp_invite_text "} // namespace cxp::edge\n")
file(WRITE "${_cxp_invite_source}.new" "${_cxp_invite_text}")
file(COPY_FILE "${_cxp_invite_source}.new" "${_cxp_invite_source}" ONLY_IF_DIFFERENT)
target_sources(cxp_edge PRIVATE "${_cxp_invite_source}")
