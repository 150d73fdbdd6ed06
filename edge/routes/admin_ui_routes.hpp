#pragma once

#include <span>

#include "edge/routes/admin_api/admin_http.hpp"
#include "edge/routes/admin_ui_assets.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// The Content-Security-Policy of every dashboard page and file: scripts, styles, fonts and
/// fetches from this origin only, no inline script, no plugins, no framing.
inline constexpr std::string_view admin_ui_content_security_policy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
  "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
  "frame-ancestors 'none'";

/// The operator dashboard (admin-ui/), served from `assets`:
/// - `GET /` redirects a browser to `/bootstrap` until the first owner exists, then to `/admin`;
/// - `GET /admin/<file>` serves a built file: hashed files under `/admin/assets/` are cached for a
///   year (`immutable`), gzip-encoded when the client accepts it; an unknown file there is 404;
/// - `GET /admin`, `/admin/<page…>`, `/bootstrap` and `/invite` answer the app's index.html (the
///   client-side router draws the page), never cached;
/// - `/admin/api/<unknown>` stays a JSON 404, so the API never answers HTML.
/// Every answer carries the CSP above and `nosniff`. Register these after every other route: the
/// first route that matches wins, and `/admin/*` would otherwise take the admin API's GETs.
void add_admin_ui_routes(route_table& routes, const admin_runtime& runtime,
                         std::span<const static_asset> assets);

/// Everything `add_admin_ui_routes` adds except `GET /` (which asks the database), so the file
/// serving is testable on its own.
void add_admin_ui_file_routes(route_table& routes, std::span<const static_asset> assets);

} // namespace cxp::edge
