#pragma once

#include "edge/routes/admin_api/admin_http.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// `GET /admin/api/stats?group_by=&pool_id=&from=&to=` (any operator; an instance admin counts
/// its pools only): hourly series of requests, errors, tokens, cost and the prompt-cache hit
/// share, one series per pool, API key, account, model or transport, straight from the request
/// logs (the current hour included). See docs/admin-api.md, Stats.
void add_stats_routes(route_table& routes, const admin_runtime& runtime);

} // namespace cxp::edge
