#pragma once

#include "edge/routes/admin_api/onboarding_routes.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// The invitee's side of a hosted invite, with no pooler login: `GET /onboarding/invites/:token`
/// (the page), `GET /onboarding/assets/invite.{js,css}`, `GET /onboarding/api/invites/:token`
/// (the invite's state and its device flow) and `POST /onboarding/api/invites/:token/device`
/// (start, or reuse the pending, device-code sign-in; JSON only, same origin). Pages carry a
/// strict CSP (no inline script), `no-store` and `Referrer-Policy: no-referrer`, since the URL
/// holds the token.
void add_invite_page_routes(route_table& routes, const onboarding_runtime& runtime);

} // namespace cxp::edge
