#pragma once

#include "edge/routes/codex/proxy_turn.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// The Codex backend surface for Pool API keys (`Authorization: Bearer sk-cxp-…`):
/// - `POST /backend-api/codex/responses` (+ `/backend-api/codex/v1/responses`): proxied with
///   routing and failover (see `run_proxy_turn`);
/// - `POST /backend-api/codex/responses/compact` (+ `/v1/` alias): proxied, never retried;
/// - `GET /backend-api/codex/models` (+ `/v1/models`): the pool's catalog, synced from its
///   accounts, filtered by the key's allowed models, with a weak ETag;
/// - `GET /api/codex/usage`, `/wham/usage`, `/backend-api/wham/usage`: the pool's quota in the
///   Codex usage shape.
void add_codex_routes(route_table& routes, codex_runtime& runtime);

} // namespace cxp::edge
