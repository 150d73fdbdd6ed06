#pragma once

#include <memory>

#include "domain/onboarding/oauth_transport.hpp"
#include "domain/onboarding/onboarding_service.hpp"
#include "edge/routes/admin_api/admin_http.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// What the onboarding routes need: the admin runtime whose `db_pool` is the onboarding pool
/// (detached workers that may block on the OAuth issuer, so sign-ins never hold the ordinary db
/// workers), the issuer and the transport. Built once by the composition root.
struct onboarding_runtime {
  admin_runtime admin;
  domain::onboarding_options options;
  std::shared_ptr<domain::oauth::transport> transport;
};

/// The operator side of adding accounts by sign-in (docs/admin-api.md "Adding accounts"):
/// `POST /admin/api/upstreams/oauth/browser` (start: the authorize URL, shown once),
/// `POST /admin/api/upstreams/oauth/browser/complete` (`callback_url` pasted back),
/// `POST /admin/api/upstreams/oauth/device` (start: user code and verification URL),
/// `GET /admin/api/upstreams/oauth/flows/:id` (state), `POST /admin/api/upstreams/:id/relink`
/// (`method` browser|device) and the hosted invites `GET|POST /admin/api/upstream-invites`,
/// `POST /admin/api/upstream-invites/:id/revoke|reissue`. Session-authenticated, CSRF-checked.
void add_onboarding_routes(route_table& routes, const onboarding_runtime& runtime);

} // namespace cxp::edge
