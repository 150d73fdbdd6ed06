#pragma once

#include <string_view>

namespace cxp::edge {

/// The hosted invite page: its HTML shell, script and stylesheet (assets/, embedded at build time
/// by embed_invite_page.cmake). The script is served from its own path: the page runs under a CSP
/// without inline script.
extern const std::string_view invite_page_html;
extern const std::string_view invite_page_js;
extern const std::string_view invite_page_css;

} // namespace cxp::edge
