#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "common/metrics/registry.hpp"
#include "edge/server/http_server.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// What the infrastructure routes need; all references outlive the server.
struct health_context {
  caf::actor_system& system;
  caf::actor db_pool;
  const server_state& state;
  metrics::registry& registry;
};

/// `GET /healthz` (liveness), `GET /readyz` (database within 1 s and not draining) and
/// `GET /metrics` (Prometheus text).
void add_health_routes(route_table& routes, const health_context& context);

} // namespace cxp::edge
