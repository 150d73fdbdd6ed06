#pragma once

#include "edge/routes/admin_api/admin_http.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// `GET /admin/api/system` (any operator): the build's version, the database kind and the
/// cluster's nodes as `cluster_nodes` records them (role, host, ports, status, start and last
/// heartbeat), for the dashboard's System page. See docs/admin-api.md, System.
void add_system_routes(route_table& routes, const admin_runtime& runtime);

} // namespace cxp::edge
