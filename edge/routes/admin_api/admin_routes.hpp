#pragma once

#include "edge/routes/admin_api/admin_http.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// Operator auth (`/bootstrap*`, `/session`, `/admin/api/session*`, invite acceptance).
void add_auth_routes(route_table& routes, const admin_runtime& runtime);

/// The admin resources under `/admin/api/`: pools, upstreams, api-keys, operators, invites,
/// settings and audit-logs. Each handler parses, calls one service method and renders its view;
/// the behaviour lives in actors/admin. See docs/admin-api.md.
void add_admin_resource_routes(route_table& routes, const admin_runtime& runtime);

/// `GET /admin/api/request-logs` (filters, keyset pages) and `GET /admin/api/request-logs/:id`
/// (with its attempts); instance admins see their pools' rows only. Registered by
/// `add_admin_resource_routes`.
void add_request_log_routes(route_table& routes, const admin_runtime& runtime);

/// `GET /admin/api/pools/:id/models` (the pool's catalog as the catalog sync job keeps it) and
/// `GET /admin/api/usage` (a period's hourly rollups summed, by pool, model and hour).
/// Registered by `add_admin_resource_routes`.
void add_pool_usage_routes(route_table& routes, const admin_runtime& runtime);

/// `GET /admin/api/jobs` (filters `kind`, `state`; keyset pages, newest first) and
/// `POST /admin/api/jobs` (`{"kind", "pool_id"?}`: queue a run now; owners only, audited;
/// 202 with the run). Registered by `add_admin_resource_routes`.
void add_job_routes(route_table& routes, const admin_runtime& runtime);

/// Operator MCP tokens and the per-operator MCP switch: `GET|POST /admin/api/mcp-tokens`,
/// `POST /admin/api/mcp-tokens/:id/revoke`, `GET|PUT /admin/api/operators/:id/mcp-access`. An
/// operator manages its own; an owner lists, revokes and switches anyone's. Registered by
/// `add_admin_resource_routes`.
void add_mcp_token_routes(route_table& routes, const admin_runtime& runtime);

} // namespace cxp::edge
