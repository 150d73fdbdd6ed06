#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/upstream/upstream_client.hpp"
#include "common/stop_stack.hpp"
#include "domain/operators/login_throttle.hpp"
#include "edge/routes/admin_api/onboarding_routes.hpp"
#include "edge/server/route_table.hpp"
#include "persistence/db/database.hpp"

namespace cxp::edge {

/// Starts the onboarding side of a node that serves traffic: a small pool of detached workers
/// that may block on the OAuth issuer, the device-code poller and the routes (admin API and the
/// hosted invite page). Each started part is recorded on `running`. Returns the runtime the
/// routes refer to; the caller keeps it alive as long as the routes.
std::unique_ptr<onboarding_runtime> start_onboarding(
  route_table& routes, caf::actor_system& system, persistence::database& db,
  domain::service_context& services, std::shared_ptr<domain::login_throttle> throttle,
  std::shared_ptr<actors::upstream_client> upstream, std::string issuer, stop_stack& running);

} // namespace cxp::edge
