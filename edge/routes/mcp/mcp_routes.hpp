#pragma once

#include <memory>

#include <caf/actor_system.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/settings/settings_cache.hpp"
#include "domain/admin_context.hpp"
#include "edge/server/admission.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// What `/mcp` needs; built once by the composition root, outlives the server.
struct mcp_runtime {
  caf::actor_system& system;
  actors::db_pool_actor db_pool;
  actors::settings_cache_actor settings; ///< `mcp.enabled` and the `mcp` bulkhead
  domain::service_context& services;
  std::shared_ptr<admission_control> admission;
};

/// The read-only operator MCP endpoint (MCP Streamable HTTP, stateless, JSON responses):
/// `POST /mcp` runs the transport checks (`check_mcp_request`), takes a place in the `mcp`
/// route class, authenticates the operator MCP token (`Authorization: Bearer mcp-cxp-…`)
/// behind the `mcp.enabled` setting and the operator's own switch, and answers one JSON-RPC
/// message; `GET` and `DELETE` answer 405 with `allow: POST, OPTIONS`, `OPTIONS` 204. See
/// README, "Operator MCP endpoint".
void add_mcp_routes(route_table& routes, const mcp_runtime& runtime);

} // namespace cxp::edge
