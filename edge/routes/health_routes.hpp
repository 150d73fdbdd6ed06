#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/account/account_custody.hpp"
#include "actors/db/db_worker.hpp"
#include "actors/settings/settings_cache.hpp"
#include "common/metrics/registry.hpp"
#include "common/secret.hpp"
#include "edge/server/http_server.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// What the infrastructure routes need; all references outlive the server.
struct health_context {
  caf::actor_system& system;
  actors::db_pool_actor db_pool;
  const server_state& state;
  metrics::registry& registry;
  actors::settings_cache_actor settings;
  const secret<std::string>& token_hash_key; ///< verifies the `metrics.bearer_token` digest
  actors::account_custodian_actor custodian; ///< for the readiness detail
  std::shared_ptr<io_pool> io; ///< runs the liveness deadline when the actors do not answer
};

/// `GET /healthz` (liveness: a round trip through the bridge actor to the settings cache within
/// 2 s, else 503, so an orchestrator restarts a node whose actors no longer answer), `GET /readyz`
/// (database within 1 s and not draining; the body's `account_custody` tells whether any live node
/// may own accounts) and `GET /metrics` (Prometheus text; when the `metrics.bearer_token` setting
/// is configured it requires `Authorization: Bearer <token>`).
void add_health_routes(route_table& routes, const health_context& context);

} // namespace cxp::edge
