#pragma once

#include <span>
#include <string_view>

namespace cxp::edge {

/// One file of the built admin UI, embedded in the binary. All views point into static storage.
struct static_asset {
  std::string_view path;         ///< the URL path, e.g. "/admin/assets/index-3f2a.js"
  std::string_view content_type; ///< e.g. "text/javascript; charset=utf-8"
  std::string_view body;         ///< the file as built
  std::string_view gzip_body;    ///< the same gzip-compressed, or empty when that is not smaller
  std::string_view etag;         ///< a strong validator (quoted), from the content's hash
};

/// The admin UI built into this binary by the CMake build (admin-ui/CMakeLists.txt generates the
/// definition from `npm run build`); empty when the binary was built without it.
std::span<const static_asset> embedded_admin_ui_assets();

} // namespace cxp::edge
